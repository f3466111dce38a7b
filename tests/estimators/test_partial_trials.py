"""A time-budgeted search that completes no trial refits the configuration whose stopped
trial finished the most folds (docs/estimators.md, 'time_budget')."""

from __future__ import annotations

import time
import warnings

import numpy as np
import pytest
from _slow_fits import SlowOnFewRows
from sklearn.model_selection import StratifiedKFold

from metaopt import MetaOptClassifier
from metaopt.data import LocalSource
from metaopt.spaces import SearchSpace


@pytest.fixture
def slow_last_fold(pmlb_root, monkeypatch):
    """breast_w, and 5 stratified folds whose last trains on 20 rows fewer, below
    ``FEW_ROWS``: with the linear family, every trial finishes 4 folds and is stopped in
    its last."""
    data = LocalSource(pmlb_root).load("breast_w", "classification")
    folds = list(StratifiedKFold(5, shuffle=True, random_state=0).split(data.X, data.y))
    folds[-1] = (folds[-1][0][20:], folds[-1][1])
    build = SearchSpace.build

    def slow_build(self, params, task, random_state=None):
        pipeline = build(self, params, task, random_state)
        return pipeline.set_params(model=SlowOnFewRows(**pipeline["model"].get_params()))

    monkeypatch.setattr(SearchSpace, "build", slow_build)
    return data, folds


def test_a_search_with_no_complete_trial_refits_the_best_of_the_finished_folds(
        slow_last_fold, warm_workers):
    """No trial finished its k folds (a 5 s fit beside two busy loops on 2 cores: 39 fits
    of 45), and fit raised 'no configuration could be
    evaluated within time_budget', the folds that had finished lost: the model is now
    the configuration of the stopped trial with the most finished folds (the best mean
    of them), said by a warning, summary() and history_."""
    data, folds = slow_last_fold
    budget = 6.0  # the workers started before it (on a loaded machine their start took
    # seconds of it, and the four fast folds did not all finish in the trial's time)
    model = MetaOptClassifier(n_trials=1, spaces="linear", cv=folds, time_budget=budget,
                              random_state=0)
    start = time.perf_counter()
    with pytest.warns(UserWarning, match=r"no trial finished its 5 CV folds within "
                      r"time_budget=6.0 s: the model is trial 0's configuration, chosen "
                      r"on the 4 of 5 folds it finished \(of 1 stopped trial with finished "
                      r"folds\), less reliably than on complete trials; give it more time"):
        model.fit(data.X, data.y)
    assert time.perf_counter() - start < budget + 1.0
    history = model.history_
    assert history[["state", "folds"]].values.tolist() == [["PRUNED", 4]]
    scores = model.study_.trials[0].user_attrs["partial"]["scores"]
    assert model.best_score_ == pytest.approx(np.mean(scores)) and model.best_score_ > 0.9
    assert model.ensemble_["trial"].tolist() == [0]
    assert model.best_params_ == model.study_.trials[0].params
    assert model.score(data.X, data.y) > 0.9
    text = model.summary()
    # on the best line, wrapped within 100 characters: its words, the lines joined
    assert "on 4 of 5 folds (no trial finished them all)" in " ".join(text.split())
    assert "stopped: out of time after 4 of 5 folds (their mean score 0.9" in text


@pytest.mark.parametrize(("second", "best"), [("complete", 1), ("partial", 1), (None, 0)])
def test_complete_trials_beat_stopped_ones_and_more_folds_beat_fewer(
        pmlb_root, monkeypatch, second, best):
    """The folds a stopped trial finished count only when no trial is complete: a
    complete trial wins over perfect partial scores; of stopped trials, the one with the
    most finished folds wins (trial 0 here: 2 perfect folds; trial 1: 3, or all 5)."""
    from metaopt._isolated import KillableWorker, TrialTimeout

    data = LocalSource(pmlb_root).load("breast_w", "classification")
    original, maps = KillableWorker.map, []

    def map_stopping(self, fn, calls, *, seconds, report=None):
        maps.append(len(calls))
        if len(maps) == 1:
            raise TrialTimeout("stopped", {0: (1.0, 0.01, 0.01), 3: (1.0, 0.01, 0.01)})
        if second == "partial":
            raise TrialTimeout("stopped", {0: (0.5, 0.01, 0.01), 1: (0.6, 0.01, 0.01), 2: (0.7, 0.01, 0.01)})
        if second is None:
            raise TrialTimeout("stopped")
        return original(self, fn, calls, seconds=seconds, report=report)

    monkeypatch.setattr(KillableWorker, "map", map_stopping)
    model = MetaOptClassifier(n_trials=2, spaces="linear", time_budget=30, recheck=False,
                              random_state=0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.fit(data.X, data.y)
    assert model.ensemble_["trial"].tolist() == [best]
    assert model.history_["folds"].tolist() == [2, {"complete": 5, "partial": 3, None: 0}[second]]
    said = [str(w.message) for w in caught if "no trial finished" in str(w.message)]
    if second == "complete":
        assert not said and 0.9 < model.best_score_ < 1.0
    else:
        assert len(said) == 1 and f"{(2, 3)[best]} of 5 folds it finished" in said[0]
        assert model.best_score_ == pytest.approx((1.0, 0.6)[best])
