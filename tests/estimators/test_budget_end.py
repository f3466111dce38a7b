"""How a time-budgeted search ends: no trial proposed once the time is spent, and no
ranker adaptation started while ``torch._dynamo`` is still being imported."""

import threading

import optuna
import pytest

import metaopt.estimators._search as search_module
from metaopt import MetaOptClassifier
from metaopt.data import LocalSource
from metaopt.samplers import MetaSampler

COMPLETE = optuna.trial.TrialState.COMPLETE


@pytest.fixture(scope="module")
def wine(pmlb_root):
    return LocalSource(pmlb_root).load("wine_recognition", "classification")


def test_no_trial_is_proposed_once_the_time_is_spent(wine, monkeypatch):
    """Once a trial leaves no time but the refit's reserve, the search stops before its
    sampler proposes another: a MetaSampler proposal took 0.5 s past the budget, for a
    trial pruned before it ran ("time budget spent")."""
    reserve = search_module._MetaOptSearch._refit_reserve

    def no_time_after_the_first(self, study):  # the first trial's fit time: all the rest
        known = any("fit_time" in t.user_attrs for t in study.get_trials(deepcopy=False))
        return 1e9 if known else reserve(self, study)

    monkeypatch.setattr(search_module._MetaOptSearch, "_refit_reserve",
                        no_time_after_the_first)
    model = MetaOptClassifier(n_trials=3, time_budget=60, spaces="linear", cv=2,
                              recheck=False, random_state=0).fit(wine.X, wine.y)
    assert [t.state for t in model.study_.trials] == [COMPLETE]


def test_an_adaptation_waits_for_the_warm_up_import_to_end(monkeypatch):
    """``torch._dynamo`` is in ``sys.modules`` from its import's start: while the warm-up
    thread still imports it, the first adaptation would wait for that import on the main
    process (3 s past a 10 s budget), so it counts as not imported yet."""
    pytest.importorskip("torch._dynamo")  # imported: as in sys.modules mid-import
    sampler = MetaSampler(space="linear")
    monkeypatch.setattr(sampler, "_adapts_next", lambda study: True)
    study = optuna.create_study(sampler=sampler)
    assert not search_module._adapts_unready(study)  # imported, no import running
    release = threading.Event()
    importing = threading.Thread(target=release.wait, name=search_module._WARM_UP)
    importing.start()
    try:
        assert search_module._adapts_unready(study)
    finally:
        release.set()
        importing.join()
