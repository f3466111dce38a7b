"""What a new user runs into with the estimators (docs/estimators.md): each case fails
with a message that says what to do, not from deep inside a library."""

from __future__ import annotations

import pytest
from sklearn.datasets import load_breast_cancer
from sklearn.exceptions import NotFittedError

from metaopt import MetaOptClassifier, MetaOptRegressor


@pytest.mark.parametrize("cls", [MetaOptClassifier, MetaOptRegressor])
def test_score_before_fit_is_not_fitted_error(cls):
    """score() before fit raised scikit-learn's "'MetaOptClassifier' object has no
    attribute 'classes_'" (an AttributeError from its scorer), where predict() says the
    estimator is not fitted."""
    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    with pytest.raises(NotFittedError, match="not fitted yet"):
        cls().score(X, y)


def test_repeated_column_names_are_named_at_fit_and_predict():
    """A DataFrame with two columns of one name failed with narwhals' DuplicateError
    ("Expected unique column names") from inside scikit-learn's feature-name check;
    metaopt.suggest and MetaSampler(dataset=) name the column."""
    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    X, y = X.iloc[:120, :3], y.iloc[:120]
    twice = X.set_axis(["a", "a", "b"], axis=1)
    with pytest.raises(ValueError, match=r"repeated column names \['a'\].*name of its own"):
        MetaOptClassifier(n_trials=1, spaces="linear", cv=2).fit(twice, y)
    model = MetaOptClassifier(n_trials=1, spaces="linear", cv=2, random_state=0).fit(
        X.set_axis(["a", "b", "c"], axis=1), y)
    with pytest.raises(ValueError, match=r"repeated column names \['a'\]"):
        model.predict(twice)
    from metaopt.nas import MetaMLPClassifier  # the same check of the frame

    with pytest.raises(ValueError, match=r"repeated column names \['a'\].*name of its own"):
        MetaMLPClassifier(n_trials=1).fit(twice, y)


@pytest.mark.parametrize(("path", "url"), [("search.db", "sqlite:///search.db"),
                                           ("/tmp/search.db", "sqlite:////tmp/search.db")])
def test_storage_path_is_told_its_url(path, url):
    """storage='search.db' (a path, not a URL) was refused with only the example
    'sqlite:///search.db'; the message now gives that path's URL."""
    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    with pytest.raises(ValueError, match=f"for an SQLite file, storage='{url}'"):
        MetaOptClassifier(n_trials=1, spaces="linear", storage=path).fit(X.iloc[:60], y[:60])


def test_a_metasampler_of_another_space_is_refused():
    """sampler=MetaSampler(space="svm") for spaces="linear" ran the svm meta-model's
    portfolio as linear models (its C read as LogisticRegression's), without a word."""
    from metaopt.samplers import MetaSampler

    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    X, y = X.iloc[:90, :4], y.iloc[:90]
    with pytest.raises(ValueError, match=r"MetaSampler of space='svm', this search is over "
                                         r"'linear' .*pass space='linear'"):
        MetaOptClassifier(n_trials=1, spaces="linear", cv=2,
                          sampler=MetaSampler(space="svm")).fit(X, y)
    with pytest.raises(ValueError, match=r"space='svm\+knn', this search is over "
                                         r"'linear\+knn'"):
        MetaOptClassifier(n_trials=1, spaces="linear+knn", cv=2,
                          sampler=MetaSampler(space="svm+knn")).fit(X, y)
    # a combination holding the searched families serves it
    model = MetaOptClassifier(n_trials=1, spaces="svm+linear", cv=2, random_state=0,
                              sampler=MetaSampler(space="all", seed=0)).fit(X, y)
    assert model.history_["reason"][0].startswith("portfolio pick")


@pytest.mark.parametrize(("args", "said"), [
    (("--dataset", "heart-statlog"), "did you mean 'heart_statlog'?"),
    (("--dataset", "560_bodyfat"), "(in this script: --task regression)")])
def test_estimators_example_says_what_to_pass(pmlb_root, args, said):
    """examples/estimators.py ended in a traceback for a mistyped --dataset, and for a
    regression dataset without --task regression."""
    import subprocess
    import sys
    from pathlib import Path

    from _snippets import child_env

    env = {**child_env(), "METAOPT_SHARED_DATA": str(pmlb_root.parent)}
    script = Path(__file__).resolve().parents[2] / "examples" / "estimators.py"
    done = subprocess.run([sys.executable, str(script), *args], capture_output=True,
                          text=True, timeout=120, env=env)
    assert done.returncode == 1 and said in done.stderr
    assert "Traceback" not in done.stderr


def test_one_row_per_class_says_what_to_do():
    """A classifier's y of one row per class (whole numbers all distinct: a numeric
    target) failed with scikit-learn's "n_splits=3 cannot be greater than the number of
    members in each class", which no cv= fixes."""
    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    with pytest.raises(ValueError, match=r"each of the 12 classes has one row.*"
                                         r"use MetaOptRegressor"):
        MetaOptClassifier(n_trials=1, spaces="linear", cv=3).fit(X.iloc[:12], list(range(12)))


@pytest.mark.parametrize("cv", ["5", 1, 0, True])
def test_a_cv_that_is_no_number_of_folds_is_named(cv):
    """cv="5" failed with scikit-learn's "Expected `cv` as an integer, ... Got 5." (the
    text printed as the number it reads like), cv=1 with KFold's "n_splits=1"."""
    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    with pytest.raises(ValueError, match=rf"cv must be an int >= 2 .* got {cv!r}$"):
        MetaOptClassifier(n_trials=1, spaces="linear", cv=cv).fit(X.iloc[:60], y[:60])
