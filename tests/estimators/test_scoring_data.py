"""Estimators on the data a demanding user brings: imbalanced classes, string labels,
heavy-tailed targets, and the scorers for them."""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest
from sklearn.metrics import f1_score, hinge_loss, make_scorer

from metaopt import MetaOptClassifier, MetaOptRegressor
from metaopt.data import LocalSource


@pytest.fixture(scope="module")
def churn(pmlb_root):
    """pmlb ``churn`` (5,000 rows, 14 % positives), labels "no" / "yes"."""
    data = LocalSource(pmlb_root).load("churn", "classification")
    return data.X.drop(columns="phone number"), np.where(data.y == 1, "yes", "no")


@pytest.mark.parametrize("scoring, fix", [
    ("f1", "make_scorer(f1_score, average='binary', pos_label='yes')"),
    ("average_precision", "make_scorer(average_precision_score, pos_label='yes', "
                          "response_method=('decision_function', 'predict_proba'))"),
])
def test_a_scorer_without_pos_label_is_refused_before_any_trial(churn, scoring, fix):
    """``scoring="f1"`` of labels "no" / "yes" failed every trial with scikit-learn's
    "pos_label=1 is not a valid label", three of them (the whole fitting of each) before
    the search stopped, without saying how to name the positive class."""
    X, y = churn
    with pytest.raises(ValueError) as raised:
        MetaOptClassifier(n_trials=3, cv=3, random_state=0, scoring=scoring).fit(X, y)
    assert str(raised.value).startswith(f"scoring={scoring!r} cannot score this y: "
                                        "pos_label=1 is not a valid label")
    assert str(raised.value).endswith(f"name the positive class, e.g. {fix}")
    assert raised.value.__cause__ is not None  # refused before the search, not by it
    assert "every configuration failed" not in str(raised.value)
    scorer = make_scorer(f1_score, pos_label="yes")  # the fix works
    model = MetaOptClassifier(n_trials=1, cv=3, spaces="linear", random_state=0,
                              scoring=scorer).fit(X, y)
    assert 0 < model.best_score_ <= 1


def test_a_scorer_that_cannot_score_the_target_is_refused_before_any_trial(pmlb_root):
    """``"roc_auc"`` of three classes and ``"neg_mean_squared_log_error"`` of targets
    below -1 failed every trial, three before the search stopped."""
    source = LocalSource(pmlb_root)
    wine = source.load("wine_recognition", "classification")
    with pytest.raises(ValueError, match=r"scoring='roc_auc' cannot score this y: "
                       r"multi_class must be in \('ovo', 'ovr'\)$"):
        MetaOptClassifier(n_trials=3, cv=3, scoring="roc_auc").fit(wine.X, wine.y)
    crime = source.load("1089_USCrime", "regression")
    with pytest.raises(ValueError, match="scoring='neg_mean_squared_log_error' cannot score "
                       "this y: Mean Squared Logarithmic Error cannot be used when targets"):
        MetaOptRegressor(n_trials=3, cv=3, scoring="neg_mean_squared_log_error").fit(
            crime.X, -crime.y)


def test_a_percentage_error_of_a_target_with_zeros_is_warned_about(pmlb_root):
    """``"neg_mean_absolute_percentage_error"`` of ``560_bodyfat``, whose target holds one
    0: that row's error, divided by 2.2e-16, decided every CV score without a word."""
    data = LocalSource(pmlb_root).load("560_bodyfat", "regression")
    params = dict(n_trials=1, cv=3, spaces="linear", random_state=0,
                  scoring="neg_mean_absolute_percentage_error")
    with pytest.warns(UserWarning, match=r"^scoring='neg_mean_absolute_percentage_error' "
                      r"divides each error by \|y\|, and y holds 1 zero\(s\) of 252: "
                      r"scikit-learn divides their errors by 2\.2e-16 instead"):
        model = MetaOptRegressor(**params).fit(data.X, data.y)
    assert model.best_score_ < -1e10  # what the warning is about
    kept = data.y != 0
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no zero, no warning
        model = MetaOptRegressor(**params).fit(data.X[kept], data.y[kept])
    assert -1 < model.best_score_ < 0


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # the gradients overflowing
def test_a_target_beyond_float32_is_warned_about(pmlb_root):
    """``1027_ESL``'s target x 1e40: histogram gradient boosting, computing its gradients
    in float32, predicted a constant (CV R² -0.003) without a word; x 1e30 fits."""
    data = LocalSource(pmlb_root).load("1027_ESL", "regression")
    params = dict(n_trials=1, cv=3, spaces="hist_gradient_boosting", random_state=0)
    with pytest.warns(UserWarning, match=r"^y holds values too large for float32 \(up to "
                      r"9e\+40, beyond 3\.4e\+38\): hist_gradient_boosting computes its "
                      r"gradients in float32 and predicts a constant; rescale, e.g\. "
                      r"y / 1e40, and scale"):
        model = MetaOptRegressor(**params).fit(data.X, data.y * 1e40)
    assert model.best_score_ < 0.01  # what the warning is about
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message="y holds values too large")
        model = MetaOptRegressor(**params).fit(data.X, data.y * 1e30)
    assert model.best_score_ > 0.8


def test_a_scorer_maximising_an_error_is_warned_about(pmlb_root):
    """``make_scorer(mean_absolute_error)`` (``greater_is_better=False`` forgotten) made
    the search keep the configuration of the largest error, without a word."""
    from sklearn.metrics import mean_absolute_error

    data = LocalSource(pmlb_root).load("1027_ESL", "regression")
    params = dict(n_trials=1, cv=3, spaces="linear", random_state=0)
    with pytest.warns(UserWarning, match=r"^scoring=\"make_scorer\(mean_absolute_error, "
                      r"response_method='predict'\)\" maximises mean_absolute_error, which "
                      r"scikit-learn's 'neg_mean_absolute_error' minimises: the search would "
                      r"pick the worst configurations; pass scoring='neg_mean_absolute_error' "
                      r"or make_scorer\(\.\.\., greater_is_better=False\)$"):
        MetaOptRegressor(scoring=make_scorer(mean_absolute_error), **params).fit(data.X, data.y)
    for scoring in ("neg_mean_absolute_error", "r2",
                    make_scorer(mean_absolute_error, greater_is_better=False)):
        with warnings.catch_warnings():
            warnings.filterwarnings("error", message=".* maximises ")
            MetaOptRegressor(scoring=scoring, **params).fit(data.X, data.y)


def test_a_scorer_undefined_on_a_test_fold_without_a_class_is_refused(churn, pmlb_root):
    """A class with fewer rows than folds leaves test folds without it: ``"roc_auc"`` of
    3 positives in 5 folds was NaN on them, and three trials failed with a message about
    R² of one row and squares of a target above 1e154; ``"roc_auc_ovr"`` of a class of
    2 rows failed them with "Number of classes in y_true not equal to the number of
    columns in 'y_score'"."""
    X, y = churn
    rows = np.r_[np.flatnonzero(y == "no")[:300], np.flatnonzero(y == "yes")[:3]]
    with pytest.raises(ValueError, match=r"^scoring='roc_auc' is undefined \(NaN\) on test "
                       r"fold \d of 5, which holds no row of class 'yes' \(of 3 in all\); it "
                       "needs every class in every test fold: use fewer folds, or another "
                       "scoring$"):
        MetaOptClassifier(n_trials=3, scoring="roc_auc").fit(X.iloc[rows], y[rows])
    model = MetaOptClassifier(n_trials=1, spaces="linear", scoring="balanced_accuracy",
                              random_state=0).fit(X.iloc[rows], y[rows])  # defined there
    assert model.history_["state"].eq("COMPLETE").all()
    wine = LocalSource(pmlb_root).load("wine_recognition", "classification")
    rows = np.r_[np.flatnonzero(wine.y != 1), np.flatnonzero(wine.y == 1)[:2]]
    with pytest.raises(ValueError, match=r"^scoring='roc_auc_ovr' cannot score this y on "
                       r"test fold \d of 3, which holds no row of class 1 \(of 2 in all\): "
                       "Number of classes in y_true not equal"):
        MetaOptClassifier(n_trials=3, cv=3, scoring="roc_auc_ovr").fit(
            wine.X.iloc[rows], wine.y.iloc[rows])


def test_summary_shows_scores_of_any_scale(pmlb_root):
    """``summary()`` gave scores to 4 decimals: the mean squared errors of a target of
    thousandths (``1028_SWD`` / 1000, MSE about 4e-7) all read -0.0000, best and worst
    alike, and a percentage error of 1e15 read -893167463358887.0000."""
    data = LocalSource(pmlb_root).load("1028_SWD", "regression")
    model = MetaOptRegressor(n_trials=2, cv=3, spaces=["linear", "knn"], random_state=0,
                             scoring="neg_mean_squared_error").fit(data.X, data.y / 1000)
    text = model.summary()
    assert "0.0000" not in text
    assert f"with CV score {model.best_score_:.4g} (scoring=neg_mean_squared_error)" in text
    for score in model.history_["score"]:
        assert re.search(rf"score {re.escape(f'{score:.4g}')}\s", text)


def test_a_nan_score_of_a_classifier_is_explained_for_classes(churn):
    """A scoring function of one's own (not tried before the search) that is NaN on a
    test fold without positives failed the classifier's trials with a message about R²
    of one row and squares of a target above 1e154."""
    from sklearn.metrics import roc_auc_score

    def auc(estimator, X, y):
        return roc_auc_score(y, estimator.predict_proba(X)[:, 1])

    X, y = churn
    rows = np.r_[np.flatnonzero(y == "no")[:300], np.flatnonzero(y == "yes")[:3]]
    with pytest.raises(ValueError, match=r"the CV score \(\S*auc\) is NaN: undefined on some "
                       r"test fold \(ROC AUC of a fold without one of the classes is; use "
                       r"fewer folds, or another scoring\)$"), pytest.warns(UserWarning):
        MetaOptClassifier(n_trials=3, spaces="linear", scoring=auc).fit(X.iloc[rows], y[rows])


def test_a_scorer_that_scores_every_model_alike_is_refused(pmlb_root):
    """``"top_k_accuracy"`` (k=2) of two classes is 1.0 whatever the model: the search
    ran, warning "'k' (2) greater than or equal to 'n_classes' (2) will result in a
    perfect score" at every fold of every trial, and kept its first trial."""
    source = LocalSource(pmlb_root)
    breast = source.load("breast_w", "classification")
    with pytest.raises(ValueError, match=r"^scoring='top_k_accuracy' scores right "
                       "predictions of these 2 classes no better than uniform or wrong "
                       r"ones \(1 each\), so the search has nothing"):
        MetaOptClassifier(n_trials=3, scoring="top_k_accuracy").fit(breast.X, breast.y)
    wine = source.load("wine_recognition", "classification")  # 3 classes: it tells
    model = MetaOptClassifier(n_trials=1, cv=3, spaces="linear", random_state=0,
                              scoring="top_k_accuracy").fit(wine.X, wine.y)
    assert model.history_["state"].eq("COMPLETE").all()


def test_classes_with_fewer_rows_than_the_folds_say_which_cv_splits(pmlb_root):
    """Three rows a class and the default ``cv=5`` failed with scikit-learn's
    "n_splits=5 cannot be greater than the number of members in each class" alone."""
    wine = LocalSource(pmlb_root).load("wine_recognition", "classification")
    rows = np.concatenate([np.flatnonzero(wine.y == c)[:3] for c in np.unique(wine.y)])
    X, y = wine.X.iloc[rows], wine.y.iloc[rows]
    with pytest.raises(ValueError, match=r"^cv=5: n_splits=5 cannot be greater than the "
                       r"number of members in each class \(the largest of 3 classes, 1, "
                       r"has 3 rows\): pass cv=3 or fewer folds$"):
        MetaOptClassifier(n_trials=3).fit(X, y)
    model = MetaOptClassifier(n_trials=1, cv=3, spaces="linear", random_state=0).fit(X, y)
    assert model.history_["state"].eq("COMPLETE").all()


def test_a_class_of_one_row_is_not_told_to_use_fewer_folds(pmlb_root):
    """A scorer of every class refused on a class of one row said "use fewer folds",
    which no number of folds (2 at least) helps: that row is in one test fold only."""
    wine = LocalSource(pmlb_root).load("wine_recognition", "classification")
    y = wine.y.copy()
    y.iloc[0] = 9
    with pytest.raises(ValueError, match=r"which holds no row of class 9 \(of 1 in all\): .*; "
                       "it needs every class in every test fold: drop the rows of classes "
                       "of one row, or use another scoring$"):
        MetaOptClassifier(n_trials=3, cv=3, scoring="neg_log_loss").fit(wine.X, y)


@pytest.mark.parametrize("ensemble_size", ["auto", 5])
def test_a_scorer_of_decision_values_only_fits_one_model(pmlb_root, ensemble_size):
    """``make_scorer(hinge_loss, response_method="decision_function")`` failed before any
    trial with "_FixedClassifier has none of the following attributes:
    decision_function": the checks of blends and the refit's constant have none. The best
    configuration alone predicts (an ensemble averages probabilities), with a warning
    only when an ensemble was asked for."""
    data = LocalSource(pmlb_root).load("breast_w", "classification")
    X, y = data.X.to_numpy(), data.y.to_numpy()
    scoring = make_scorer(hinge_loss, response_method="decision_function",
                          greater_is_better=False)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = MetaOptClassifier(n_trials=3, cv=3, scoring=scoring, random_state=0,
                                  ensemble_size=ensemble_size).fit(X, y)
    said = [str(w.message) for w in caught if "ensemble_size" in str(w.message)]
    assert len(said) == (ensemble_size != "auto")
    assert all(s.startswith("ensemble_size=5: scoring=make_scorer(hinge_loss") and s.endswith(
        " scores decision values only, which an ensemble (an average of class "
        "probabilities) has none of, so the best configuration alone predicts (set "
        "ensemble_size=1)") for s in said)
    assert not [w for w in caught if "the refit of trial" in str(w.message)]
    assert len(model.ensemble_) == 1 and hasattr(model.best_estimator_, "steps")
    assert np.isfinite(model.best_score_) and model.best_score_ < 0
    assert model.score(X, y) == pytest.approx(-hinge_loss(y, model.decision_function(X)))
