"""The refitted best is scored on its own training rows: a refit far below its CV score
(a diverged fit) warns, and the next-best complete trial's refit replaces it."""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest
from sklearn.model_selection import train_test_split

from metaopt import MetaOptClassifier, _rows
from metaopt._rows import refit_check_rows, refit_failed
from metaopt.data import LocalSource


@pytest.fixture(scope="module")
def kddcup_sample(pmlb_root):
    """2,000 rows of kddcup on which scikit-learn's default HistGradientBoosting, fitted
    on all of them, diverges (training accuracy 0.77; on 1,000 of them its CV accuracy
    is 0.97)."""
    data = LocalSource(pmlb_root).load("kddcup", "classification")
    _, X, _, y = train_test_split(data.X, data.y, test_size=2000, random_state=1)
    return X, y


def _fit(X, y, n_trials: int):
    # random_state=3: a search sample (1,000 rows) on which the default, trial 0, scores
    # best of two (with seed 0 trial 1 did, by 0.001)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = MetaOptClassifier(spaces="hist_gradient_boosting", n_trials=n_trials,
                                  search_rows=1000, cv=3, random_state=3,
                                  recheck=False).fit(X, y)
    return model, [str(w.message) for w in caught if "refit of trial" in str(w.message)]


def test_a_diverged_refit_is_replaced_by_the_next_best_trials(kddcup_sample):
    X, y = kddcup_sample
    model, said = _fit(X, y, n_trials=2)
    trials = model.study_.trials
    assert trials[0].value > trials[1].value  # the default, trial 0, is the best
    assert model.best_params_ == trials[1].params
    assert model.best_score_ == trials[1].value
    assert list(model.ensemble_["trial"]) == [1]
    assert np.mean(model.predict(X) == y) > 0.99
    assert len(said) == 1
    assert said[0].startswith(
        "the refit of trial 0 on 2,000 rows scores far below its CV score on its own "
        "training rows (scoring=accuracy; a constant prediction scores 0.5635)")
    cv, train = map(float, re.search(
        r"trial 0 \(hist_gradient_boosting, CV (\S+)\): (\S+);", said[0]).groups())
    assert cv == pytest.approx(trials[0].value, abs=1e-4) and cv > 0.97 and train < 0.8
    assert "the model is the refit of trial 1 " in said[0]
    assert "search_rows=None" in said[0]


def test_without_another_trial_the_diverged_refit_stays_with_a_warning(kddcup_sample):
    X, y = kddcup_sample
    model, said = _fit(X, y, n_trials=1)
    assert model.best_params_ == model.study_.trials[0].params
    assert len(said) == 1 and "no refit was healthy: kept trial 0's" in said[0]


def test_refit_failed_allows_for_the_spread_of_scores():
    assert not refit_failed(0.95, 0.99, 0.56)  # a quarter of the lead: 0.11
    assert refit_failed(0.75, 0.99, 0.56)
    assert not refit_failed(0.56, 0.60, 0.56)  # at least 0.05
    assert refit_failed(float("nan"), 0.9, 0.5)
    # a squared error's scale: 5 % of the constant's
    assert not refit_failed(-1040.0, -1000.0, -5000.0)
    assert refit_failed(-3000.0, -1000.0, -5000.0)


@pytest.fixture(scope="module")
def shuttle(pmlb_root):
    """shuttle: 58,000 rows, 7 classes, two of 10 and 13 rows."""
    data = LocalSource(pmlb_root).load("shuttle", "classification")
    return data.X, np.asarray(data.y)


def test_the_checked_rows_keep_every_class(shuttle):
    """The 10,000 rows of a refit's check were drawn at random, without shuttle's class
    of 10 rows for random_state 4 and 8 (of 0-9)."""
    _, y = shuttle
    for seed in range(10):
        assert len(np.unique(y[refit_check_rows(y, "classification", seed)])) == 7


def test_a_check_scored_by_probabilities_on_rows_without_a_class(shuttle, monkeypatch):
    """scoring='neg_log_loss' on a table with rare classes: fit raised log_loss's
    'y_true and y_prob contain different number of classes' after the search when the
    checked rows (a random 300 of 1,573 here) lacked one."""
    X, y = shuttle
    rows = np.sort(np.concatenate([np.arange(1500), np.flatnonzero(np.isin(y, [2, 6, 7]))]))
    monkeypatch.setattr(_rows, "REFIT_CHECK_ROWS", 300)
    model = MetaOptClassifier(spaces="linear", n_trials=1, cv=2, scoring="neg_log_loss",
                              random_state=0).fit(X.iloc[rows], y[rows])
    assert model.best_score_ > -0.5
