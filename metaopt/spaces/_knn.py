"""k-nearest neighbours, with ``n_neighbors`` clipped to the training-set size."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor
from sklearn.utils.validation import check_is_fitted, validate_data

from metaopt.spaces._base import SearchSpace, cat_param, int_param


class _ClippedKNeighbors(BaseEstimator):
    """Fit a scikit-learn k-NN model with ``min(n_neighbors, n_samples)`` neighbours.

    Small training folds (or tiny datasets) then work for every ``n_neighbors`` in
    the space instead of failing at prediction time.
    """

    _model_class: type

    def __init__(self, n_neighbors: int = 5, weights: str = "uniform", p: int = 2) -> None:
        self.n_neighbors = n_neighbors
        self.weights = weights
        self.p = p

    def fit(self, X, y) -> _ClippedKNeighbors:
        """Fit the wrapped model; ``estimator_`` holds it."""
        X, y = validate_data(self, X, y)
        k = min(self.n_neighbors, X.shape[0])
        self.estimator_ = self._model_class(n_neighbors=k, weights=self.weights, p=self.p)
        self.estimator_.fit(X, y)
        return self

    def predict(self, X) -> np.ndarray:
        """Predict with the wrapped model."""
        X = self._validate(X)
        return self.estimator_.predict(X)

    def _validate(self, X):
        check_is_fitted(self)
        return validate_data(self, X, reset=False)


class ClippedKNeighborsClassifier(ClassifierMixin, _ClippedKNeighbors):
    """:class:`~sklearn.neighbors.KNeighborsClassifier` with ``n_neighbors`` clipped."""

    _model_class = KNeighborsClassifier

    def fit(self, X, y) -> ClippedKNeighborsClassifier:
        """Fit the wrapped model; ``classes_`` are its classes."""
        super().fit(X, y)
        self.classes_ = self.estimator_.classes_
        return self

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities of the wrapped model."""
        X = self._validate(X)
        return self.estimator_.predict_proba(X)


class ClippedKNeighborsRegressor(RegressorMixin, _ClippedKNeighbors):
    """:class:`~sklearn.neighbors.KNeighborsRegressor` with ``n_neighbors`` clipped."""

    _model_class = KNeighborsRegressor


def _build_knn(params: dict[str, Any], task: str, random_state: int | None) -> BaseEstimator:
    del random_state  # k-NN is deterministic
    cls = ClippedKNeighborsClassifier if task == "classification" else ClippedKNeighborsRegressor
    return cls(**params)


KNN = SearchSpace(
    name="knn",
    description="k-nearest neighbours (n_neighbors clipped to the training size)",
    preprocessing="scaled",
    params=(
        int_param("n_neighbors", 1, 64, 5, log=True),
        cat_param("weights", ("uniform", "distance"), "uniform"),
        cat_param("p", (1, 2), 2),
    ),
    build_model=_build_knn,
)
