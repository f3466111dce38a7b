"""Fixtures of the estimators' tests."""

from __future__ import annotations

import pytest

from metaopt import _isolated


@pytest.fixture
def warm_workers():
    """A started killable worker process and its started spare, kept for the test's
    time-budgeted fits (``n_jobs=1``; docs/estimators.md, "Worker processes"), as after
    an earlier fit in the process: their start (1-3 s, up to 10 s on a loaded machine)
    then takes none of the budget of a test whose assertions need the trials' time."""
    with _isolated.KillableWorker() as workers:
        workers.ready(_isolated._START_SECONDS)
        workers.call(int, seconds=_isolated._START_SECONDS)  # starts the spare
        workers._spare.submit(int).result(timeout=_isolated._START_SECONDS)
