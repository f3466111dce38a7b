"""A classifier's refusal of a target that is no classes names the regressor to use, as
the regressors' refusal of text names the classifier: the estimators take no task=. A
column's name given as y says how to use the column, as metaopt.suggest does."""

import re

import numpy as np
import pandas as pd
import pytest

from metaopt.estimators import MetaOptClassifier, MetaOptRegressor
from metaopt.nas import MetaMLPClassifier, MetaMLPRegressor, MLPClassifier

CLASSIFIERS = [(MetaOptClassifier(n_trials=1, spaces="linear"), "MetaOptRegressor"),
               (MetaMLPClassifier(n_trials=1), "MetaMLPRegressor")]


@pytest.mark.parametrize(("estimator", "regressor"), CLASSIFIERS)
def test_a_target_of_one_class_names_the_regressor(estimator, regressor):
    """fit(X, np.zeros(690)) said "to treat it as a regression target, pass
    task='regression'", a parameter neither classifier takes."""
    X = np.random.default_rng(0).normal(size=(690, 3))
    with pytest.raises(ValueError, match=re.escape(
            "classification needs at least 2 classes in y, got 1 (every row's target is "
            f"0.0; to treat it as a regression target, use {regressor})")):
        estimator.fit(X, np.zeros(690))


@pytest.mark.parametrize(("estimator", "regressor"), CLASSIFIERS)
def test_a_continuous_target_names_the_regressor(estimator, regressor):
    """fit(X, y_float) gave scikit-learn's "Unknown label type: continuous", naming
    neither estimator (the regressors' refusal of text names the classifier)."""
    rng = np.random.default_rng(0)
    y = rng.normal(size=60)
    with pytest.raises(ValueError, match=re.escape(
            f"{type(estimator).__name__} needs class labels, but y holds continuous values "
            f"(e.g. {y[0]:.6g}): for a regression target, use {regressor}")):
        estimator.fit(rng.normal(size=(60, 3)), y)


def test_mlp_classifier_on_a_continuous_target_names_the_regressor():
    y = np.array([0.0, 1.0, 0.25, 1.0])
    with pytest.raises(ValueError, match=re.escape(
            "MLPClassifier needs class labels, but y holds continuous values (e.g. 0.25): "
            "for a regression target, use MLPRegressor")):
        MLPClassifier(max_epochs=1).fit(np.ones((4, 2)), y)


class MyClassifier(MetaOptClassifier):
    pass


class MyRegressor(MetaOptRegressor):
    pass


def test_a_subclass_is_named_as_the_metaopt_class_it_derives_from():
    """A user's subclass got "use MyRegressor" (its name with Classifier replaced), a
    class that does not exist."""
    X = np.random.default_rng(0).normal(size=(20, 2))
    with pytest.raises(ValueError, match=re.escape(
            "MetaOptClassifier needs class labels, but y holds continuous values (e.g. 0.5): "
            "for a regression target, use MetaOptRegressor")):
        MyClassifier(n_trials=1, spaces="linear").fit(X, np.r_[0.5, np.zeros(19)])
    with pytest.raises(ValueError, match=re.escape(
            "MetaOptRegressor needs a numeric target, but y holds text that is no number "
            "('yes'): for classes, use MetaOptClassifier")):
        MyRegressor(n_trials=1, spaces="linear").fit(X, ["yes"] * 20)


@pytest.mark.parametrize("estimator", [
    MetaOptClassifier(n_trials=1, spaces="linear"), MetaOptRegressor(n_trials=1),
    MetaMLPClassifier(n_trials=1), MetaMLPRegressor(n_trials=1), MLPClassifier()])
def test_a_column_name_as_y_says_how_to_use_the_column(estimator):
    """fit(df, "target"), as a DataFrame-first API takes a target, gave scikit-learn's "y
    should be a 1d array, got an array of shape () instead."; metaopt.suggest's message
    says how to use the column."""
    frame = pd.DataFrame({"a": np.arange(20.0), "target": [0, 1] * 10})
    with pytest.raises(ValueError, match=re.escape(
            "y must hold one target per row of X, got the str 'target': to use a column of "
            "X as the target, pass X.drop(columns='target') as X and X['target'] as y")):
        estimator.fit(frame, "target")
    with pytest.raises(ValueError, match=re.escape(
            "y must hold one target per row of X, got the int 3")):
        estimator.fit(frame.to_numpy(), 3)
