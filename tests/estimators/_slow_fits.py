"""A model that takes a minute to fit on few rows, for tests of trials stopped by the time
budget. A module of its own, importing scikit-learn only: a worker process unpickling it
imports it (a test module imports metaopt's estimators, seconds of a trial's time)."""

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
