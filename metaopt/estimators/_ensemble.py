"""Ensemble selection over a search's trials (Caruana et al., 2004), from out-of-fold
predictions.

Picking the single best of many cross-validation scores on a small dataset overfits
the selection: the winner is partly the luckiest. Averaging the best few configurations,
chosen greedily for the score of their average, is the standard remedy (auto-sklearn,
AutoGluon). scikit-learn's ``VotingClassifier`` refits its members itself and needs
``predict_proba`` from all of them, so the few lines here do the selection and the
average by hand.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.metrics import check_scoring

from metaopt._isolated import predictions


class _Fixed(BaseEstimator):
    """Stands in for a model whose predictions are already known, so that any
    scikit-learn scorer can score a blend of out-of-fold predictions."""

    def __init__(self, values: np.ndarray, classes: np.ndarray | None) -> None:
        self.values = values
        self.classes = classes
        if classes is not None:
            self.classes_ = classes

    def fit(self, X, y):  # scikit-learn's scorers expect an estimator
        return self

    def predict(self, X):
        return self.values if self.classes is None else self.classes[self.values.argmax(1)]

    def predict_proba(self, X):
        return self.values


class _FixedClassifier(ClassifierMixin, _Fixed):
    pass


class _FixedRegressor(RegressorMixin, _Fixed):
    pass


def blend_scorer(scoring, y: np.ndarray, classes: np.ndarray | None
                 ) -> Callable[[np.ndarray], float]:
    """``score(blend)``: the ``scoring`` (None: accuracy or R²) of blended out-of-fold
    predictions against ``y``, higher is better (unweighted, as the CV scores are)."""
    kind = _FixedRegressor if classes is None else _FixedClassifier
    scorer = check_scoring(kind(np.empty(0), classes), scoring)
    placeholder = np.zeros((len(y), 1))
    return lambda blend: float(scorer(kind(blend, classes), placeholder, y))


def select(candidates: Sequence[np.ndarray], score: Callable[[np.ndarray], float],
           size: int) -> np.ndarray:
    """Greedy ensemble selection with replacement.

    Starts from ``candidates[0]`` (the search's best trial), then up to ``size - 1``
    times adds the candidate, possibly one already in, whose addition gives the best
    ``score`` of the average. Returns how often each candidate was picked (its weight
    x the ensemble's size) in the best-scoring round, the earliest of ties: the
    ensemble scores at least as well as ``candidates[0]`` alone.
    """
    counts = np.zeros(len(candidates), dtype=int)
    counts[0] = 1
    total = np.array(candidates[0], dtype=float)
    best_counts, best_score = counts.copy(), score(total)
    for n in range(1, size):
        scores = [score((total + c) / (n + 1)) for c in candidates]
        pick = int(np.argmax(scores))  # ties: the better trial (candidates are sorted)
        counts[pick] += 1
        total += candidates[pick]
        if scores[pick] > best_score:
            best_counts, best_score = counts.copy(), scores[pick]
    return best_counts


class FittedEnsemble:
    """Weighted average of fitted models: class probabilities (classification; one-hot
    votes from a member without ``predict_proba``) or predicted values (regression).

    Attributes
    ----------
    members : list of fitted estimators
    weights : ndarray, summing to 1
    classes_ : ndarray (classification only)
    """

    def __init__(self, members: Sequence, weights: Sequence[float],
                 classes: np.ndarray | None) -> None:
        self.members = list(members)
        self.weights = np.asarray(weights, dtype=float) / np.sum(weights)
        self.classes = classes
        if classes is not None:
            self.classes_ = classes

    def _average(self, X) -> np.ndarray:
        return sum(w * predictions(m, X, self.classes)
                   for m, w in zip(self.members, self.weights, strict=True))

    def predict_proba(self, X) -> np.ndarray:
        """The members' weighted average class probabilities (classification)."""
        if self.classes is None:
            raise AttributeError("a regression ensemble has no predict_proba")
        return self._average(X)

    def predict(self, X) -> np.ndarray:
        blend = self._average(X)
        return blend if self.classes is None else self.classes[blend.argmax(1)]

    def __repr__(self) -> str:
        names = [type(m[-1] if hasattr(m, "steps") else m).__name__ for m in self.members]
        parts = ", ".join(f"{w:.2f} x {name}" for name, w in zip(names, self.weights, strict=True))
        return f"FittedEnsemble({parts})"
