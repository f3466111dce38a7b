"""A tiny search space whose configurations misbehave on purpose (raise, sleep, kill)."""

from __future__ import annotations

import os
import signal
import time

import numpy as np
from optuna.distributions import CategoricalDistribution
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor


class _Faulty(BaseEstimator):
    def __init__(self, mode="ok", depth=2.0, random_state=None):
        self.mode = mode
        self.depth = depth
        self.random_state = random_state

    def fit(self, X, y):
        if self.mode == "raise":
            raise RuntimeError("boom: this configuration always fails")
        if self.mode == "sleep":
            for _ in range(200):  # pure-Python waits: interruptible by SIGALRM
                time.sleep(0.05)
        if self.mode == "kill":
            os.kill(os.getpid(), signal.SIGKILL)
        self.model_ = self._tree(max_depth=int(self.depth), random_state=self.random_state)
        self.model_.fit(np.asarray(X, dtype=float), y)
        self.classes_ = getattr(self.model_, "classes_", None)
        return self

    def predict(self, X):
        return self.model_.predict(np.asarray(X, dtype=float))


class FaultyClassifier(ClassifierMixin, _Faulty):
    _tree = DecisionTreeClassifier


class FaultyRegressor(RegressorMixin, _Faulty):
    _tree = DecisionTreeRegressor


class FaultySpace:
    """Duck-typed search space of one parameter, ``mode`` in ``modes`` (default the first)."""

    tasks = ("classification", "regression")
    conditions: dict = {}

    def __init__(self, name: str, modes: tuple[str, ...]) -> None:
        self.name = name
        self.modes = modes

    def distributions(self, task):
        return {"mode": CategoricalDistribution(self.modes)}

    def default(self, task):
        return {"mode": self.modes[0]}

    def active(self, params):
        return dict(params)

    def sample(self, trial, task):
        return {"mode": trial.suggest_categorical("mode", self.modes)}

    def build(self, params, task, random_state=None):
        cls = FaultyClassifier if task == "classification" else FaultyRegressor
        return cls(params["mode"], random_state=random_state)
