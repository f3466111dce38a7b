"""After a trial that finished no CV fold in its time, the next trial is the default
configuration of the family the meta-model's cost model predicts quickest here (docs/
estimators.md, "time_budget"). Before, the next portfolio pick ran, as slow as the first
on a loaded machine: a 10 s fit on spectf raised "no configuration could be evaluated"."""

from __future__ import annotations

import pytest
from optuna.trial import TrialState

from metaopt import MetaOptClassifier
from metaopt._isolated import KillableWorker, TrialTimeout
from metaopt.data import LocalSource
from metaopt.ranker import load_meta_model
from metaopt.spaces import get_space


@pytest.fixture(scope="module")
def spectf(pmlb_root):
    return LocalSource(pmlb_root).load("spectf", "classification")


def _first_trial_stopped(monkeypatch, stop=lambda n: n == 1):
    """KillableWorker.map stops the calls ``stop`` picks (by their count) before a fold."""
    calls = []
    original = KillableWorker.map

    def map_(self, fn, calls_, *, seconds, report=None):
        calls.append(seconds)
        if stop(len(calls)):
            raise TrialTimeout(f"evaluation stopped after {seconds:.1f} s (time budget)")
        return original(self, fn, calls_, seconds=seconds, report=report)

    monkeypatch.setattr(KillableWorker, "map", map_)


def test_a_trial_that_finished_no_fold_is_followed_by_the_quickest_defaults(
        spectf, monkeypatch, warm_workers):
    _first_trial_stopped(monkeypatch)
    model = MetaOptClassifier(n_trials=3, time_budget=40, cv=3, recheck=False,
                              random_state=0).fit(spectf.X, spectf.y)
    trials = model.study_.trials
    assert [t.state for t in trials] == [TrialState.PRUNED] + [TrialState.COMPLETE] * 2
    # the family the shipped cost model predicts quickest on spectf, at its defaults
    space = get_space("all")
    defaults = [space.join(m.name, m.default("classification")) for m in space.members]
    seconds = load_meta_model("all", "classification").cost.predict(
        model.meta_features_, space, defaults)
    quickest = defaults[int(seconds.argmin())]
    assert trials[1].params == quickest
    assert trials[1].params != trials[0].params
    assert trials[1].user_attrs["sampled_by"].startswith(
        f"the defaults of the family predicted quickest here ({quickest['space']}, ")
    assert trials[1].user_attrs["sampled_by"].endswith(
        "a trial): trial 0 finished no CV fold in its time")
    history = model.history_
    assert history.loc[1, "reason"] == trials[1].user_attrs["sampled_by"]
    # the MetaSampler goes on with its warm start after it
    assert trials[2].system_attrs["metaopt:source"].startswith("portfolio pick")


def test_it_is_enqueued_once(spectf, monkeypatch, warm_workers):
    """When the quickest family's defaults finish no fold either, the portfolio goes on
    (no second quickest: the machine, not the pick, is slow) and fit says none finished."""
    _first_trial_stopped(monkeypatch, stop=lambda n: True)
    model = MetaOptClassifier(n_trials=3, time_budget=30, cv=3, recheck=False,
                              random_state=0)
    with pytest.raises(ValueError, match="no configuration could be evaluated"):
        model.fit(spectf.X, spectf.y)


@pytest.mark.filterwarnings("ignore:trial 0 .*, stopped by time_budget")
def test_not_after_a_trial_that_finished_some_folds(spectf, monkeypatch, warm_workers):
    """A stopped trial with finished folds gives a fit time and, if nothing completes, a
    model: the search goes on as the sampler proposes."""
    original = KillableWorker.map
    calls = []

    def map_(self, fn, calls_, *, seconds, report=None):
        calls.append(seconds)
        if len(calls) == 1:  # one fold done, then stopped
            fold = original(self, fn, calls_[:1], seconds=seconds, report=report)[0]
            raise TrialTimeout("evaluation stopped (time budget)", {0: report(fold)})
        return original(self, fn, calls_, seconds=seconds, report=report)

    monkeypatch.setattr(KillableWorker, "map", map_)
    model = MetaOptClassifier(n_trials=2, time_budget=40, cv=3, recheck=False,
                              random_state=0).fit(spectf.X, spectf.y)
    assert "partial" in model.study_.trials[0].user_attrs
    assert "sampled_by" not in model.study_.trials[1].user_attrs
    assert model.study_.trials[1].system_attrs["metaopt:source"].startswith("portfolio pick")
