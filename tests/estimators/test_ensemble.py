"""Ensemble selection over a search's trials, on real data."""

from __future__ import annotations

import pickle
import warnings

import numpy as np
import optuna
import pytest
from sklearn.datasets import make_regression
from sklearn.metrics import accuracy_score
from sklearn.model_selection import (
    RepeatedKFold,
    RepeatedStratifiedKFold,
    ShuffleSplit,
    StratifiedKFold,
)

from metaopt import MetaOptClassifier, MetaOptRegressor
from metaopt._isolated import cv_score
from metaopt.data import LocalSource
from metaopt.estimators._ensemble import FittedEnsemble, blend_scorer, select
from metaopt.spaces import get_space

CONFIGS = [("linear", {"C": 1.0}), ("knn", {"n_neighbors": 15}),
           ("svm", {"C": 1.0}), ("random_forest", {"n_estimators": 50, "min_samples_leaf": 2})]


@pytest.fixture(scope="module")
def vehicle(pmlb_root):
    data = LocalSource(pmlb_root).load("vehicle", "classification")
    return data.X.to_numpy(), data.y.to_numpy()


def _params(family: str, overrides: dict) -> dict:
    """A full configuration of ``family`` (random, seeded) with ``overrides``."""
    trial = optuna.create_study(sampler=optuna.samplers.RandomSampler(0)).ask()
    return {**get_space(family).sample(trial, "classification"), **overrides}


@pytest.fixture(scope="module")
def out_of_fold(vehicle):
    X, y = vehicle
    cv = StratifiedKFold(3, shuffle=True, random_state=0)
    runs = [cv_score(get_space(f), _params(f, o), "classification", X, y, cv, None, {}, 0,
                     None, return_predictions=True) for f, o in CONFIGS]
    return sorted(runs, key=lambda r: -r[0])  # best first, as the search hands them over


def test_out_of_fold_predictions(out_of_fold, vehicle):
    _, y = vehicle
    classes = np.unique(y)
    for score, *_, oof in out_of_fold:
        assert oof.shape == (len(y), len(classes))
        np.testing.assert_allclose(oof.sum(axis=1), 1.0)
        # the pooled out-of-fold accuracy is the folds' mean accuracy (equal folds)
        assert accuracy_score(y, classes[oof.argmax(1)]) == pytest.approx(score, abs=0.01)
    svm = [oof for *_, oof in out_of_fold if set(np.unique(oof)) == {0.0, 1.0}]
    assert len(svm) == 1  # the SVC (no predict_proba) votes one-hot


def test_no_predictions_when_rows_are_not_predicted_once(vehicle):
    X, y = vehicle
    *_, oof = cv_score(get_space("linear"), _params("linear", {}), "classification", X, y,
                       ShuffleSplit(2, test_size=0.3, random_state=0), None, {}, 0, None,
                       return_predictions=True)
    assert oof is None


def test_repeated_folds_give_mean_out_of_fold_predictions(vehicle, pmlb_root):
    """RepeatedKFold tests each row once per repeat: its out-of-fold predictions were
    dropped, so an ensemble (the regressor's default) silently became the best trial
    alone. A row's prediction is now its mean over the repeats; a cv that leaves rows
    untested (ShuffleSplit) warns that there is no ensemble."""
    X, y = vehicle
    cv = RepeatedStratifiedKFold(n_splits=3, n_repeats=2, random_state=0)
    params = _params("linear", {})
    *_, oof = cv_score(get_space("linear"), params, "classification", X, y, cv, None, {}, 0,
                       None, return_predictions=True)
    expected = np.zeros_like(oof)
    for train, test in cv.split(X, y):
        model = get_space("linear").build(params, "classification", 0).fit(X[train], y[train])
        expected[test] += model.predict_proba(X[test]) / 2
    np.testing.assert_allclose(oof, expected)
    data = LocalSource(pmlb_root).load("560_bodyfat", "regression")
    options = dict(n_trials=6, spaces=["linear", "knn", "random_forest"], random_state=0,
                   sampler=optuna.samplers.RandomSampler(seed=0))
    repeated = MetaOptRegressor(cv=RepeatedKFold(n_splits=3, n_repeats=2, random_state=0),
                                **options).fit(data.X, data.y)
    assert len(repeated.ensemble_) > 1
    with pytest.warns(UserWarning, match="leaves rows out of every test fold"):
        MetaOptRegressor(cv=ShuffleSplit(3, test_size=0.3, random_state=0),
                         **options).fit(data.X, data.y)


def test_selection_never_scores_below_the_best_trial(out_of_fold, vehicle):
    _, y = vehicle
    score = blend_scorer(None, y, np.unique(y))
    candidates = [oof for *_, oof in out_of_fold]
    counts = select(candidates, score, 20)
    assert counts[0] >= 1 and 1 <= counts.sum() <= 20
    blend = sum(c * oof for c, oof in zip(counts, candidates, strict=True)) / counts.sum()
    assert score(blend) >= score(candidates[0])
    # the scorer is scikit-learn's: log loss needs probabilities, so the SVC's one-hot
    # votes (confidently wrong on every miss) score far below the probabilistic models
    log_loss = blend_scorer("neg_log_loss", y, np.unique(y))
    votes = [oof for oof in candidates if set(np.unique(oof)) == {0.0, 1.0}]
    probabilities = [oof for oof in candidates if set(np.unique(oof)) != {0.0, 1.0}]
    assert log_loss(candidates[0]) < 0
    assert log_loss(votes[0]) < min(log_loss(oof) for oof in probabilities)
    assert select(candidates, score, 1).tolist() == [1, 0, 0, 0]


def test_fitted_ensemble_averages_its_members(vehicle):
    X, y = vehicle
    classes = np.unique(y)
    members = [get_space(f).build(_params(f, o), "classification", 0).fit(X, y)
               for f, o in CONFIGS[1:3]]  # knn (probabilities) and svm (votes)
    ensemble = FittedEnsemble(members, [3, 1], classes)
    votes = np.eye(len(classes))[np.searchsorted(classes, members[1].predict(X))]
    expected = 0.75 * members[0].predict_proba(X) + 0.25 * votes
    np.testing.assert_allclose(ensemble.predict_proba(X), expected)
    np.testing.assert_array_equal(ensemble.predict(X), classes[expected.argmax(1)])
    restored = pickle.loads(pickle.dumps(ensemble))
    np.testing.assert_array_equal(restored.predict(X), ensemble.predict(X))
    assert "0.75 x ClippedKNeighborsClassifier" in repr(ensemble)


def test_classifier_predicts_with_its_ensemble(vehicle):
    """Random search gives the ensemble diverse trials whatever the meta-model proposes
    (the ensemble, not the search, is under test here)."""
    X, y = vehicle
    model = MetaOptClassifier(n_trials=8, spaces=["linear", "knn", "random_forest"], cv=3,
                              random_state=0, ensemble_size=20,
                              sampler=optuna.samplers.RandomSampler(seed=0)).fit(X, y)
    table = model.ensemble_
    assert table["trial"].iloc[0] == model.study_.best_trial.number
    assert table["weight"].sum() == pytest.approx(1.0)
    assert len(table) > 1 and isinstance(model.best_estimator_, FittedEnsemble)
    assert "an ensemble of" in model.summary()
    # members come from the better half of the trials, never a near-constant model
    assert (table["score"] >= model.history_["score"].median()).all()
    assert model.score(X, y) > 0.75
    single = MetaOptClassifier(n_trials=8, spaces=["linear", "knn", "random_forest"], cv=3,
                               random_state=0, ensemble_size=1,
                               sampler=optuna.samplers.RandomSampler(seed=0)).fit(X, y)
    assert len(single.ensemble_) == 1 and single.best_params_ == model.best_params_
    assert hasattr(single.best_estimator_, "steps")


def test_auto_ensembles_regression_only(vehicle, pmlb_root):
    """``ensemble_size="auto"`` (the default): an ensemble for the regressor, whose R²
    it raised on the benchmark, the best configuration alone for the classifier."""
    data = LocalSource(pmlb_root).load("560_bodyfat", "regression")
    options = dict(n_trials=8, spaces=["linear", "knn", "random_forest"], cv=3,
                   random_state=0, sampler=optuna.samplers.RandomSampler(seed=0))
    regressor = MetaOptRegressor(**options).fit(data.X, data.y)
    assert regressor.ensemble_size == "auto"
    assert len(regressor.ensemble_) > 1 and isinstance(regressor.best_estimator_, FittedEnsemble)
    classifier = MetaOptClassifier(**options).fit(*vehicle)
    assert len(classifier.ensemble_) == 1 and hasattr(classifier.best_estimator_, "steps")
    assert "no ensemble" not in classifier.summary()  # none asked for: nothing to explain


def test_summary_says_why_ensemble_rounds_ended_as_one_model(pmlb_root, monkeypatch):
    """A regressor fit of the default ensemble_size (20 rounds) whose model was one
    configuration: summary() said nothing of it, reading as if no ensemble was tried."""
    import metaopt.estimators._search as search

    X, y = make_regression(120, 3, noise=0.0, random_state=0)
    few = MetaOptRegressor(n_trials=2, spaces="linear", cv=3, random_state=0).fit(X, y)
    assert len(few.ensemble_) == 1
    # the line wrapped within 100 characters: its words, the lines joined
    assert (" predicting: trial 0 alone, no ensemble (ensemble_size='auto'): 2 complete "
            "trials: ensemble selection picks from the better half, this one alone "
            ) in " ".join(few.summary().split())
    # a linear target the best linear trial fits exactly: no blend does better
    exact = MetaOptRegressor(n_trials=6, spaces="linear", cv=3, random_state=0).fit(X, y)
    assert len(exact.ensemble_) == 1
    assert (f" predicting: trial {exact.study_.best_trial.number} alone, no ensemble "
            "(ensemble_size='auto'): ensemble selection found no blend of the best 3 trials "
            "scoring higher out of fold ") in " ".join(exact.summary().split())
    # several selected, the refits of all but the best failed their check
    calls = iter([False])
    monkeypatch.setattr(search, "refit_failed", lambda *args: next(calls, True))
    data = LocalSource(pmlb_root).load("560_bodyfat", "regression")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the refit check's
        model = MetaOptRegressor(n_trials=8, spaces=["linear", "knn", "random_forest"], cv=3,
                                 random_state=0, sampler=optuna.samplers.RandomSampler(seed=0)
                                 ).fit(data.X, data.y)
    assert len(model.ensemble_) == 1 and len(model._refit_checks) > 1
    assert ("alone, no ensemble (ensemble_size='auto'): the refits of the other "
            "configurations selected failed their check ") in " ".join(model.summary().split())


@pytest.mark.parametrize("size", [0, 2.5, True, "large"])
def test_bad_ensemble_size(vehicle, size):
    X, y = vehicle
    with pytest.raises(ValueError, match="ensemble_size"):
        MetaOptClassifier(n_trials=1, cv=2, ensemble_size=size).fit(X, y)


def test_a_resumed_search_says_its_best_cannot_be_ensembled(pmlb_root, tmp_path):
    """The refit of a stored search resumed (the same script run again) was one model
    where the first fit's was an ensemble, and nothing said so: an earlier fit's
    out-of-fold predictions are not stored."""
    data = LocalSource(pmlb_root).load("560_bodyfat", "regression")
    search = dict(n_trials=4, cv=3, random_state=0,
                  storage=f"sqlite:///{tmp_path / 'search.db'}")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing to say: an ensemble of this fit's trials
        first = MetaOptRegressor(**search).fit(data.X, data.y)
    assert len(first.ensemble_) > 1
    with pytest.warns(UserWarning, match=r"ensemble_size='auto': the best configuration \(trial "
                      rf"{first.study_.best_trial.number}\) is from an earlier fit .* it alone"):
        again = MetaOptRegressor(**search).fit(data.X, data.y)
    assert len(again.ensemble_) == 1 and len(again.study_.trials) == 4
    assert (f" predicting: trial {first.study_.best_trial.number} alone, no ensemble "
            "(ensemble_size='auto'): the best trial is from an earlier fit kept in storage, "
            "without out-of-fold predictions ") in " ".join(again.summary().split())
    assert " alone, no ensemble" not in first.summary()


def test_no_svm_votes_in_an_ensemble_scored_on_decision_values(pmlb_root):
    """With a scoring of decision values or probabilities (``roc_auc``) an SVC, which has
    no ``predict_proba``, was blended as one-hot votes: breast_w's SVC search became an
    ensemble of 2 SVCs' votes (held-out ROC AUC 0.97, the best SVC alone 0.99). SVCs are
    no candidates then: the best predicts alone, with its ``decision_function``."""
    data = LocalSource(pmlb_root).load("breast_w", "classification")
    X, y = data.X.to_numpy(), data.y.to_numpy()
    model = MetaOptClassifier(spaces=["svm"], n_trials=8, cv=3, scoring="roc_auc",
                              ensemble_size=20, random_state=0).fit(X, y)
    assert len(model.ensemble_) == 1 and hasattr(model.best_estimator_, "steps")
    assert (f" predicting: trial {model.study_.best_trial.number} alone, no ensemble "
            "(ensemble_size=20): scoring=roc_auc blends probabilities, which the best "
            "trial's svm does not predict ") in " ".join(model.summary().split())
    assert not hasattr(model, "predict_proba")
    decision = model.decision_function(X)
    np.testing.assert_array_equal(model.predict(X), model.classes_[(decision > 0).astype(int)])
    assert model.score(X, y) >= model.best_score_
