"""The checks of X and y word their messages for Python, or for a table file inside
``table_terms`` (the command line's ``--data`` and ``--target``)."""

import re
from contextlib import nullcontext

import numpy as np
import pandas as pd
import pytest

from metaopt.data import validate
from metaopt.data._terms import table_terms


def test_a_check_words_its_message_for_the_table_inside_table_terms(pmlb_root):
    """The command line rewrote the checks' Python messages with a dozen regular
    expressions ("X contains infinite values in column(s) ['3']" as "FILE: column '3'
    holds infinite values ..."), which a change of a library message broke silently:
    inside table_terms the check words it for the table itself, outside for Python."""
    table = pd.read_csv(pmlb_root / "wine_recognition" / "wine_recognition.tsv.gz", sep="\t")
    y = table.pop("target")
    infinite = table.assign(**{"3": table["3"].where(table.index != 3, float("inf"))})
    for terms, refused, warned in (
            (table_terms("wine.csv", "target"),
             "wine.csv: column '3' holds infinite values; replace them in wine.csv with finite "
             "values or empty cells (empty cells are imputed), or drop it with --drop 3",
             "wine.csv: column 'copy' holds the target column 'target' itself: a model fitted "
             "with it predicts from the answer (cross-validated scores near perfect); drop it "
             "with --drop copy"),
            (nullcontext(),  # after the table's: Python's again
             "X contains infinite values in column(s) ['3']; replace them with finite values "
             "or NaN (NaN is imputed)",
             "column(s) ['copy'] of X hold y itself: a model fitted with them predicts from "
             "the answer (cross-validated scores near perfect); drop them from X, e.g. "
             "X.drop(columns=['copy'])")):
        with terms:
            with pytest.raises(ValueError, match=re.escape(refused)):
                validate(infinite, y)
            with pytest.warns(UserWarning) as caught:
                validate(table.assign(copy=y), y)
        assert [str(w.message) for w in caught] == [warned]


def test_a_target_of_lists_is_refused_naming_it(pmlb_root):
    """A target of lists or arrays (a parquet list column) raised pandas' "TypeError:
    unhashable type: 'numpy.ndarray'" from counting its classes, a traceback on the
    command line."""
    wine = pd.read_csv(pmlb_root / "wine_recognition" / "wine_recognition.tsv.gz", sep="\t")
    y = wine.pop("target").map(lambda label: [label])
    for terms, target in ((nullcontext(), "y"),
                          (table_terms("wine.parquet", "t"), "the target column 't'")):
        with terms, pytest.raises(ValueError, match=re.escape(
                f"{target} holds list values (e.g. [1]): a target is one class label or "
                "number per row")):
            validate(wine, y)


def test_inside_estimator_terms_the_other_task_is_the_other_estimator():
    """MetaOptClassifier and MetaMLPClassifier, which take no task, refused a target of
    one class with "to treat it as a regression target, pass task='regression'". Inside
    estimator_terms (an estimator's fit) the checks name its counterpart; a user's
    subclass counts as the metaopt class it derives from; Python's and a table's
    wording stay as they were outside."""
    from metaopt.data._dataset import _checked_target
    from metaopt.data._terms import estimator_terms
    from metaopt.estimators import MetaOptClassifier
    from metaopt.nas import MetaMLPClassifier

    class Mine(MetaMLPClassifier):
        pass

    X = np.random.default_rng(0).normal(size=(6, 2))
    for estimator, other in ((MetaOptClassifier, "MetaOptRegressor"),
                             (Mine, "MetaMLPRegressor")):
        with estimator_terms(estimator):
            with pytest.raises(ValueError, match=re.escape(
                    "every row's target is 0.0; to treat it as a regression target, use "
                    f"{other})")):
                validate(X, np.zeros(6), "classification")
            with pytest.raises(ValueError, match=re.escape(f"use {other})")):
                _checked_target(pd.Series(np.zeros(6)), "classification")
            # integer labels, most of them of one row: regression, or text for classes
            labels = np.concatenate([np.repeat(np.arange(10), 5), np.arange(10, 60)])
            with pytest.raises(ValueError, match=re.escape(
                    "looks like a regression target (60 distinct values in 100 rows) for "
                    f"{other.replace('Regressor', 'Classifier')}; use {other}, or, if they "
                    "are class labels, give them as strings (y.astype(str))")):
                validate(np.zeros((100, 2)), labels, "classification")
            with table_terms("t.csv", "y"), pytest.raises(
                    ValueError, match=re.escape("pass --task regression)")):
                validate(X, np.zeros(6), "classification")
    with pytest.raises(ValueError, match=re.escape("pass task='regression')")):
        validate(X, np.zeros(6), "classification")
    with estimator_terms(MetaOptClassifier), table_terms("t.csv", "y"), pytest.raises(
            ValueError, match=re.escape("pass --task regression)")):
        validate(X, np.zeros(6), "classification")
    with table_terms("t.csv", "y"), estimator_terms(MetaOptClassifier), pytest.raises(
            ValueError, match=re.escape("pass --task regression)")):
        validate(X, np.zeros(6), "classification")
