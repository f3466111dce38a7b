"""A time-budgeted search on all the rows refits on as many as the time left allows, and
its refit's check scores at most a CV test fold's rows (docs/estimators.md, "time_budget"
and "The refit's check"). Before, a stopped trial's kernel SVM was refitted on all 6,598
rows of clean2 and checked on all of them, each taking about its fold fit time or more:
an 8 s fit took 12 s."""

from __future__ import annotations

import time

import numpy as np
import optuna
import pytest

from metaopt import MetaOptClassifier
from metaopt._rows import refit_rows_in_time
from metaopt.data import LocalSource
from metaopt.estimators import _search
from metaopt.estimators._search import _SearchData


@pytest.fixture(scope="module")
def clean2(pmlb_root):
    return LocalSource(pmlb_root).load("clean2", "classification")


def test_rows_in_time():
    y = np.repeat([0, 1, 2], [600, 300, 100])
    # all: time enough, or all but under 1 %
    assert refit_rows_in_time(y, "classification", 2.0, 3.0, 1.0, 400, 0) is None
    assert refit_rows_in_time(y, "classification", 2.0, 1.995, 1.0, 400, 0) is None
    # half the time, a fit growing as rows ** 2: 1000 * 0.5 ** 0.5 rows, every class kept
    rows = refit_rows_in_time(y, "classification", 2.0, 1.0, 2.0, 400, 0)
    assert len(rows) == 707 and set(y[rows]) == {0, 1, 2}
    assert np.all(np.diff(rows) > 0)
    # never fewer than the floor, no time left included
    assert len(refit_rows_in_time(y, "regression", 2.0, 0.1, 1.0, 400, 0)) == 400
    assert len(refit_rows_in_time(y, "regression", 2.0, 0.0, 1.0, 400, 0)) == 400


def _best(fit_time: float) -> optuna.trial.FrozenTrial:
    return optuna.trial.create_trial(params={}, distributions={}, value=0.9,
                                     user_attrs={"fit_time": fit_time})


def test_a_search_on_all_rows_refits_on_what_the_time_allows(clean2):
    X, y = clean2.X, clean2.y.to_numpy()
    model = MetaOptClassifier(time_budget=8, random_state=0)
    model.best_family_ = "svm"
    search = _SearchData.of(X, y, None, None, None)
    fold_rows = 0.8 * len(y)
    # the reserve's estimate of a refit on all the rows: 1.5 x 2 s, x 1.25 for an SVM
    # (its fit grows as rows ** 2, the reserve's as rows)
    # 2 s left, and 5 % of the 8 s budget granted beyond them
    refit = model._refit_data(X, y, None, search, _best(2.0), fold_rows,
                              time.perf_counter() + 2.0)
    expected = len(y) * (2.4 / (1.5 * 2.0 * 1.25)) ** 0.5
    assert 0.97 * expected <= len(refit.y) <= expected + 1
    assert set(refit.y) == set(y)
    # time enough: all of them; a linear model's refit as the reserve takes it
    assert model._refit_data(X, y, None, search, _best(2.0), fold_rows,
                             time.perf_counter() + 3.4).rows is None
    model.best_family_ = "linear"
    assert model._refit_data(X, y, None, search, _best(2.0), fold_rows,
                             time.perf_counter() + 2.65).rows is None
    # a quick refit with no time left: all the rows, within the 5 % granted
    assert model._refit_data(X, y, None, search, _best(0.2), fold_rows,
                             time.perf_counter()).rows is None
    # no time budget, or a trial without a fit time (stored by an old metaopt): all
    assert model._refit_data(X, y, None, search, _best(2.0), fold_rows, None).rows is None
    assert model._refit_data(X, y, None, search, optuna.trial.create_trial(
        params={}, distributions={}, value=0.9), fold_rows, time.perf_counter()).rows is None


@pytest.mark.filterwarnings("ignore:.*looks like a row identifier")
@pytest.mark.parametrize(("time_budget", "expected"), [(None, 6_598), (60, 1_650)])
def test_the_refit_check_scores_a_test_folds_rows_under_a_time_budget(
        clean2, monkeypatch, time_budget, expected):
    checked = []
    original = _search.refit_check_rows

    def recording(y, task, seed, max_rows):
        rows = original(y, task, seed, max_rows)
        checked.append(len(y) if isinstance(rows, slice) else len(rows))
        return rows

    monkeypatch.setattr(_search, "refit_check_rows", recording)
    MetaOptClassifier(n_trials=1, spaces="linear", cv=4, recheck=False, ensemble_size=1,
                      time_budget=time_budget, random_state=0).fit(clean2.X, clean2.y)
    assert checked == [expected]


def test_a_search_on_a_sample_refits_on_fewer_of_its_rows_when_time_is_short(clean2):
    """Before, a refit after a search on a sample took the whole sample however little
    time was left: a stopped trial's random forest on 10,000 rows of 564_fried took a
    10 s fit to 10.5-12.4 s."""
    X, y = clean2.X, clean2.y.to_numpy()
    sample = np.sort(np.random.default_rng(0).choice(len(y), 2_000, replace=False))
    search = _SearchData.of(X, y, None, None, sample)
    model = MetaOptClassifier(time_budget=8, random_state=0)
    model.best_family_ = "random_forest"
    # a fit on the sample: 1.5 x 2 s x 2,000 / 1,600 rows = 3.75 s; 1 s left, 0.4 s granted
    rows = model._refit_data(X, y, None, search, _best(2.0), 1_600.0,
                             time.perf_counter() + 1.0).rows
    assert len(rows) == 800  # half a fold's training rows, at least
    assert set(rows) <= set(sample) and set(y[rows]) == set(y)
    rows = model._refit_data(X, y, None, search, _best(2.0), 1_600.0,
                             time.perf_counter() + 3.0).rows
    assert 0.95 * 2_000 * 3.4 / 3.75 <= len(rows) <= 2_000 * 3.4 / 3.75 + 1
    assert set(rows) <= set(sample)
    # time for the sample: the sample and more
    rows = model._refit_data(X, y, None, search, _best(2.0), 1_600.0,
                             time.perf_counter() + 6.0).rows
    assert set(sample) < set(rows)
