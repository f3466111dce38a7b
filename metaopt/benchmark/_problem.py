"""One test task of a surrogate benchmark, seen by a method through a counted budget."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from metaopt.spaces import SearchSpace


class BudgetExhausted(RuntimeError):
    """A method asked for more evaluations than its budget."""


class Problem:
    """A test task: a space, its meta-features and a budgeted objective (higher is better).

    Parameters
    ----------
    key : str
        Task identifier.
    space : SearchSpace
    task : {"classification", "regression"}
    meta_features : pandas.Series
        Indexed by :data:`metaopt.metafeatures.FEATURE_NAMES`; may hold NaN.
    budget : int
        How many calls of :meth:`evaluate` are allowed.
    candidates : list of dict, optional
        The finite candidate set (TabRepo). A proposed configuration is then snapped to
        the nearest not-yet-evaluated candidate in :meth:`SearchSpace.encode` space
        (HPO-B protocol). None for a continuous space.
    scores : array, optional
        The candidates' scores (with ``candidates``).
    objective : callable, optional
        ``objective(list of params) -> array of scores`` for a continuous space.
    """

    def __init__(
        self,
        key: str,
        space: SearchSpace,
        task: str,
        meta_features: pd.Series,
        budget: int,
        *,
        candidates: Sequence[Mapping[str, Any]] | None = None,
        scores: Sequence[float] | None = None,
        objective: Callable[[list[dict[str, Any]]], np.ndarray] | None = None,
    ) -> None:
        if (candidates is None) == (objective is None):
            raise ValueError("pass either candidates (with scores) or objective")
        if candidates is not None and (scores is None or len(scores) != len(candidates)):
            raise ValueError("scores must give one score per candidate")
        self.key, self.space, self.task = key, space, task
        self.meta_features, self.budget = meta_features, budget
        self.candidates = None if candidates is None else [dict(c) for c in candidates]
        self._scores = None if scores is None else np.asarray(scores, dtype=float)
        self._objective = objective
        self._encoded = (None if self.candidates is None
                         else np.stack([space.encode(c) for c in self.candidates]))
        self._evaluated: set[int] = set()
        self.history: list[int | dict[str, Any]] = []
        self.trace: list[float] = []

    @property
    def remaining(self) -> int:
        """Calls of :meth:`evaluate` left in the budget."""
        return self.budget - len(self.trace)

    def evaluate(self, config: int | Mapping[str, Any]) -> float:
        """Score one configuration; counts one call.

        Parameters
        ----------
        config : int or mapping
            A candidate index, or a parameter dict (snapped to a candidate when the space
            is finite).

        Returns
        -------
        float
        """
        if self.remaining <= 0:
            raise BudgetExhausted(f"budget of {self.budget} evaluations exhausted on {self.key}")
        if self.candidates is None:
            if not isinstance(config, Mapping):
                raise TypeError(f"{self.key} has a continuous space: pass a parameter dict, "
                                f"got {type(config).__name__}")
            params = self.space.check_params(config, self.task)
            assert self._objective is not None  # given without candidates
            score = float(np.asarray(self._objective([params]))[0])
            self.history.append(params)
        else:
            index = self.snap(config) if isinstance(config, Mapping) else int(config)
            if not 0 <= index < len(self.candidates):
                raise ValueError(f"candidate index must be in [0, {len(self.candidates)}), "
                                 f"got {index}")
            self._evaluated.add(index)
            assert self._scores is not None  # given with the candidates
            score = float(self._scores[index])
            self.history.append(index)
        self.trace.append(score)
        return score

    def snap(self, params: Mapping[str, Any]) -> int:
        """Index of the not-yet-evaluated candidate nearest to a configuration (encoded
        space); once every candidate is evaluated, candidate 0 (a run longer than the
        candidate set then repeats evaluations, which do not change its best).

        Parameters
        ----------
        params : mapping

        Returns
        -------
        int
        """
        dist = np.linalg.norm(self._encoded - self.space.encode(params), axis=1)
        dist[list(self._evaluated)] = np.inf
        return int(np.argmin(dist))

    def is_evaluated(self, index: int) -> bool:
        """Whether a candidate was evaluated.

        Parameters
        ----------
        index : int
            The candidate's index.

        Returns
        -------
        bool
        """
        return index in self._evaluated
