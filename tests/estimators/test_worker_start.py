"""A time-budgeted trial's clock starts once its worker processes have started."""

import os
import time

import pytest
from _slow_fits import slow_start
from joblib.externals.loky import ProcessPoolExecutor

from metaopt import MetaOptClassifier, _isolated
from metaopt.data import LocalSource

BUDGET = 12.0
SLOW_START = 7.5  # seconds from the workers' executor's start until they have started
# (the import of the libraries included): 1.5 s more than half the budget, so a first
# trial charged for it would get less than the start (however fast the machine); the
# other 4.5 s leave room for the trials, and for an import slowed by load past 7.5 s


def _slow_started(processes: int) -> ProcessPoolExecutor:
    """``_isolated._started`` with workers as slow to start as on a loaded machine."""
    executor = ProcessPoolExecutor(max_workers=processes, timeout=_isolated._IDLE_SECONDS,
                                   initializer=slow_start,
                                   initargs=(os.getpid(), time.time() + SLOW_START))
    executor.submit(int)
    return executor


@pytest.fixture
def slow_workers(monkeypatch):
    _isolated._stop_idle()  # no warm workers of an earlier test
    monkeypatch.setattr(_isolated, "_started", _slow_started)
    yield
    _isolated._stop_idle()


def test_the_first_trial_is_not_charged_for_the_workers_start(pmlb_root, slow_workers):
    """Worker processes slow to start (as under load: 10 s fits in
    ``cross_val_score(n_jobs=2)`` lost their first trial) took the first trial's time,
    which is half the budget: workers taking more than half a 12 s budget to start
    stopped every trial and the fit raised. The start counts against the budget, not
    the trial."""
    wine = LocalSource(pmlb_root).load("wine_recognition", "classification")
    model = MetaOptClassifier(spaces="linear", n_trials=2, time_budget=BUDGET, cv=3,
                              random_state=0).fit(wine.X, wine.y)
    assert model.history_["state"].iloc[0] == "COMPLETE"
