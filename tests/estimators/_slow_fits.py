"""A model that takes a minute to fit on few rows, for tests of trials stopped by the time
budget, and a slow worker start. A module of its own, importing scikit-learn only: a worker
process unpickling them imports it (a test module imports metaopt's estimators, seconds of
a trial's time, or of a worker's start: 15 s on a loaded machine)."""

from __future__ import annotations

import time

from sklearn.linear_model import LogisticRegression

FEW_ROWS = 550  # a fit on fewer rows takes a minute


class SlowOnFewRows(LogisticRegression):
    """A logistic regression that takes a minute to fit on fewer than ``FEW_ROWS`` rows."""

    def fit(self, X, y, sample_weight=None):
        if len(X) < FEW_ROWS:
            time.sleep(60)
        return super().fit(X, y, sample_weight=sample_weight)


def slow_start(parent: int, until: float) -> None:
    """A worker initializer that starts as metaopt's workers do, then sleeps until
    ``until`` (a ``time.time()``): the start takes until then, however fast the import."""
    from metaopt._isolated import _worker_started

    _worker_started(parent)
    time.sleep(max(until - time.time(), 0.0))
