"""estimator_overrun.py without real fits: a fit that raises is a row of the run, and
the busy-loop processes of --busy end with it."""

from __future__ import annotations

import math
import os
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

SCRIPTS = Path(__file__).resolve().parents[2] / "benchmarks"


@pytest.fixture
def overrun(monkeypatch):
    monkeypatch.syspath_prepend(str(SCRIPTS))
    import estimator_overrun

    return estimator_overrun


class _Fits:
    """A stand-in for MetaOptClassifier: its second fit raises, as a fit whose budget
    evaluated no configuration does; the others predict class 1 after 2 of 3 trials
    complete."""

    calls = 0

    def fit(self, X, y):
        _Fits.calls += 1
        if _Fits.calls == 2:
            raise ValueError("no configuration could be evaluated within time_budget=5.0 s "
                             + "x" * 300)
        self.study_ = SimpleNamespace(trials=[SimpleNamespace(state=SimpleNamespace(name=n))
                                              for n in ("COMPLETE", "FAIL", "COMPLETE")])
        self.best_score_ = 0.75
        return self

    def predict(self, X):
        return np.ones(len(X), dtype=int)


def test_a_fit_that_raises_is_a_row_and_the_run_goes_on(overrun):
    """A fit that raised (ValueError: no configuration could be evaluated within
    time_budget) ended the dataset's process, and with it the whole run. It is now a row
    with the error's first 200 characters and NaN scores; the next fits run, scored on
    the held-out part; the summary counts the fits that raised."""
    _Fits.calls = 0
    X_te = np.zeros((4, 2))
    split = (np.zeros((8, 2)), X_te, np.ones(8, dtype=int), np.array([1, 1, 1, 0]))
    rows = overrun.run_fits("d", split, 3, _Fits)
    assert [r["fit"] for r in rows] == ["cold", "warm", "warm2"]
    cold, warm, warm2 = rows
    assert (cold["complete"], cold["trials"], cold["best_score"], cold["test_score"],
            cold["error"]) == (2, 3, 0.75, 0.75, "")
    assert warm2["error"] == "" and warm2["test_score"] == 0.75
    assert warm["error"].startswith("ValueError: no configuration could be evaluated within "
                                    "time_budget=5.0 s xxx")
    assert len(warm["error"]) == 200
    assert all(math.isnan(warm[k]) for k in ("complete", "trials", "best_score", "test_score"))
    assert all(r["seconds"] >= 0 for r in rows)
    table = pd.DataFrame(rows).assign(overrun=[-0.1, 0.2, 0.0])
    stats = overrun.summary(table)
    assert stats["raised"].tolist() == [0, 1, 0]
    assert stats["test_score"].tolist()[::2] == [0.75, 0.75]
    assert math.isnan(stats.loc["warm", "test_score"])


def _alive(pid: int) -> bool:
    """The process runs (a zombie, ended but not reaped by its new parent, does not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return not stat.exists() or stat.read_text().rsplit(")", 1)[1].split()[0] != "Z"


def test_the_busy_processes_are_killed_at_the_end_and_on_an_exception(overrun):
    with overrun.busy_processes(0) as procs:
        assert procs == []
    with pytest.raises(KeyboardInterrupt), overrun.busy_processes(2) as procs:
        assert len(procs) == 2
        time.sleep(0.2)
        assert all(p.poll() is None and _alive(p.pid) for p in procs)
        raise KeyboardInterrupt  # a Ctrl-C mid-run
    assert all(p.poll() is not None and not _alive(p.pid) for p in procs)


def test_a_busy_loop_ends_once_its_parent_is_gone(overrun):
    """A run killed before its cleanup (SIGKILL, SIGTERM) leaves no loop spinning."""
    parent = subprocess.run(
        [sys.executable, "-c", "import os, subprocess, sys; print(subprocess.Popen("
         "[sys.executable, '-c', sys.argv[1], str(os.getpid())], "
         "stdout=subprocess.DEVNULL).pid)", overrun.BUSY_LOOP],
        capture_output=True, text=True, check=True, timeout=10)
    pid = int(parent.stdout)
    deadline = time.monotonic() + 4
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(pid)
