"""A signal that arrives after the last run of a surrogate benchmark, before it holds the
signals, loses no run: the result is not marked interrupted, and says nothing of it."""

from __future__ import annotations

import warnings

import pytest
from _stopping import StopsOnItsThirdRun

from metaopt.benchmark import NotApplicable, _surrogate, register_method, tabrepo_benchmark

#: four tasks of the TabRepo matrix, two folds of two
TASKS = ["openml-task/10090", "openml-task/146818", "openml-task/146820", "openml-task/167120"]


class _First:
    """Evaluates the first configurations of each task."""

    def fit(self, train):
        pass

    def run(self, problem, budget, seed):
        for i in range(budget):
            problem.evaluate(i)


class _NeverApplicable:
    def fit(self, train):
        raise NotApplicable("not for these tasks")

    def run(self, problem, budget, seed):  # pragma: no cover - never fitted
        raise AssertionError


@pytest.fixture
def signal_after_the_runs(monkeypatch):
    """``hold_signals`` in the benchmark's module raises KeyboardInterrupt on its first
    call (a Ctrl-C just before it), and holds as before from then on."""
    calls = []

    def hold_signals():
        calls.append(1)
        if len(calls) == 1:
            raise KeyboardInterrupt

    monkeypatch.setattr(_surrogate, "hold_signals", hold_signals)
    return calls


def _run(tabrepo_dir, methods):
    return tabrepo_benchmark(tabrepo_dir, cv=2, methods=methods, budgets=[1, 2], seeds=2,
                             tasks=TASKS, progress=False)


def test_a_signal_after_the_last_run_is_not_an_interruption(tabrepo_dir, signal_after_the_runs):
    register_method("first", _First)
    register_method("never", _NeverApplicable)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "interrupted after N finished runs"
        result = _run(tabrepo_dir, ["first", "never"])
    assert signal_after_the_runs == [1, 1]  # the signal arrived, and was then held
    assert not result.interrupted
    assert set(result.not_applicable) == {"never"}
    assert len(result.curves) == 4 * 2 * 2  # tasks x seeds x budgets: every run


def test_a_signal_during_the_runs_is_an_interruption(tabrepo_dir):
    register_method("stops", StopsOnItsThirdRun)
    register_method("never", _NeverApplicable)
    with pytest.warns(UserWarning, match="interrupted after 2 finished runs"):
        result = _run(tabrepo_dir, ["stops", "never"])
    assert result.interrupted
    assert len(result.curves) == 2 * 2  # two runs x budgets
