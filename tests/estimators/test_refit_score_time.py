"""Under a time budget the refit's check scores the refitted model (on a CV test fold's
rows, REFIT_CHECK_MIN_ROWS at least), and the time kept for the refit includes that
scoring: a trial keeps its folds' mean score time beside their fit time, and the refit's
reserve and the rows the refit takes count it (docs/estimators.md, "time_budget"). Before,
only fit times counted: a k-nearest-neighbours model, whose predict takes longer than its
fit, overran 5 s fits on dna by 5 %."""

from __future__ import annotations

import time

import optuna
import pytest

from metaopt import MetaOptClassifier
from metaopt._isolated import KillableWorker, TrialTimeout
from metaopt._rows import budget_check_rows
from metaopt.data import LocalSource
from metaopt.spaces import get_space


@pytest.fixture(scope="module")
def wine(pmlb_root):
    return LocalSource(pmlb_root).load("wine_recognition", "classification")


def _trial(value: float | None, **attrs) -> optuna.trial.FrozenTrial:
    state = optuna.trial.TrialState.COMPLETE if value is not None else \
        optuna.trial.TrialState.PRUNED
    return optuna.trial.create_trial(params={}, distributions={}, value=value, state=state,
                                     user_attrs=attrs)


def test_a_budgeted_search_keeps_its_trials_score_times(wine, monkeypatch):
    """A complete trial's mean fold score time, and a stopped trial's of the folds it
    finished (its ``partial`` record), are kept; the check's rows over a test fold's
    scale them in the reserve (178 rows, 3 folds: the check scores all 178, 3 x a fold's)."""
    original = KillableWorker.map

    def first_stopped(self, fn, calls, *, seconds, report=None):
        if not hasattr(first_stopped, "done"):
            first_stopped.done = True  # folds 0 and 2 done: score, fit time, score time
            raise TrialTimeout("stopped", {2: (0.8, 0.04, 0.7), 0: (0.9, 0.02, 0.5)})
        return original(self, fn, calls, seconds=seconds, report=report)

    monkeypatch.setattr(KillableWorker, "map", first_stopped)
    model = MetaOptClassifier(n_trials=2, spaces="linear", cv=3, time_budget=30,
                              recheck=False, ensemble_size=1, random_state=0)
    model.fit(wine.X, wine.y)
    stopped, complete = model.study_.trials
    partial = stopped.user_attrs["partial"]
    assert partial["fit_time"] == pytest.approx(0.03)
    assert partial["score_time"] == pytest.approx(0.6)
    score_time = complete.user_attrs["score_time"]
    assert isinstance(score_time, float) and 0 < score_time < 5
    assert model._check_rows(178, 1.0) / model._test_rows == pytest.approx(3.0)
    assert model._refit_reserve(model.study_) == pytest.approx(
        1.5 * complete.user_attrs["fit_time"] + 3.0 * score_time)


def test_the_reserve_holds_the_checks_score_time():
    """1.5 x the fold fit time and the fold score time x the check's scale, of the slowest
    trial (of the best 5 together with an ensemble); a trial stored by an older metaopt
    (no score time) counts its fit alone. After a search on a sample, half the budget at
    most, as before."""
    study = optuna.create_study(direction="maximize")
    study.add_trial(_trial(0.9, fit_time=0.2, score_time=1.0))  # 0.3 + 1.6 x 1.0
    study.add_trial(_trial(0.8, fit_time=1.0))  # an older metaopt's: 1.5
    model = MetaOptClassifier(time_budget=10, ensemble_size=1)
    # the check scores 1,600 rows (a test fold's of 8,000 in 5 folds), 1.6 x a test fold's
    model._growth, model._n_rows, model._n_folds, model._test_rows = 1.0, 8_000, 5, 1_000
    model._space = get_space("linear")
    assert model._refit_reserve(study) == pytest.approx(1.9)
    model.ensemble_size = 5
    assert model._refit_reserve(study) == pytest.approx(3.4)
    model._growth = 4.0  # a fit on all the rows is 4 fold fits: 1.2 + 1.6 and 6 + 0
    model.ensemble_size = 1
    assert model._refit_reserve(study) == pytest.approx(5.0)  # half the budget
    model.time_budget = 20
    assert model._refit_reserve(study) == pytest.approx(6.0)
    # while no trial is complete: the stopped trials' finished folds
    stopped = optuna.create_study(direction="maximize")
    stopped.add_trial(_trial(None, partial={"scores": [0.9], "fit_time": 0.1,
                                            "score_time": 0.5, "folds": 3}))
    model._growth = 1.0
    assert model._refit_reserve(stopped) == pytest.approx(0.15 + 0.8)


def test_the_refit_leaves_time_for_its_check(wine):
    """The rows a refit takes are those the time left allows once the check's seconds
    are kept: 3 s left and 0.4 s granted beyond hold a 3 s fit on all 178 rows; with 1 s
    for the check, 2.4 s hold 142 of them."""
    from metaopt.estimators._search import _SearchData

    X, y = wine.X, wine.y.to_numpy()
    model = MetaOptClassifier(time_budget=8, random_state=0)
    model.best_family_ = "linear"
    search = _SearchData.of(X, y, None, None, None)
    best = _trial(0.9, fit_time=2.0, score_time=0.5)  # 1.5 x 2 s: 3 s on all the rows
    assert model._refit_data(X, y, None, search, best, 0.8 * len(y),
                             time.perf_counter() + 3.0, 0.0).rows is None
    rows = model._refit_data(X, y, None, search, best, 0.8 * len(y),
                             time.perf_counter() + 3.0, 1.0).rows
    assert 140 <= len(rows) <= 142 and set(y[rows]) == set(y)


@pytest.mark.parametrize(("n_rows", "n_folds", "expected"), [
    (178, 3, 178),  # all of them: fewer than REFIT_CHECK_MIN_ROWS
    (3_186, 5, 1_000),  # dna: a test fold's 638, raised to REFIT_CHECK_MIN_ROWS
    (6_598, 4, 1_650),  # clean2: a test fold's
    (100_000, 5, 10_000),  # REFIT_CHECK_ROWS at most
])
def test_the_check_scores_a_test_folds_rows_within_bounds(n_rows, n_folds, expected):
    assert budget_check_rows(n_rows, n_folds) == expected


def test_a_refit_that_predicts_slower_is_checked_on_fewer_rows(pmlb_root, monkeypatch):
    """A k-nearest-neighbours model's prediction of a row takes longer the more rows it
    was fitted on: after a search on a sample its refit's check scores a test fold's
    rows over that growth (500 at least), so that it takes about what the trial's test
    fold took; a linear model's check scores a test fold's rows. (Before, a knn fit of
    adult with time_budget=20 took 34 s: refitted on 5.4 x a fold's rows, its check of
    8,565 rows took 18.8 s.) dna's 3,186 rows, searched on 600 in 3 folds: a refit on all
    of them is 8 x a fold's 400; a test fold's rows, 1,062."""
    from metaopt.estimators import _search

    limits = []
    original = _search.refit_check_rows

    def recording(y, task, seed, max_rows):
        limits.append(max_rows)
        return original(y, task, seed, max_rows)

    monkeypatch.setattr(_search, "refit_check_rows", recording)
    dna = LocalSource(pmlb_root).load("dna", "classification")
    models = {}
    for family in ("knn", "linear"):
        models[family] = MetaOptClassifier(
            spaces=[family], n_trials=2, cv=3, time_budget=60, search_rows=600,
            recheck=False, random_state=0).fit(dna.X, dna.y)
        assert models[family].refit_rows_ == 3_186
    assert limits == [500, 1_062]
    # the reserve counts the check's rows at the growth of a refit on all of them
    knn = models["knn"]
    trial = knn.study_.best_trial
    growth = 3_186 / 400
    assert knn._check_seconds(trial, growth, 3_186) == pytest.approx(
        trial.user_attrs["score_time"] / 200 * 500 * growth)
