"""Kernel support vector machines (libsvm's SVC / SVR)."""

from __future__ import annotations

from typing import Any

from sklearn.base import BaseEstimator
from sklearn.compose import TransformedTargetRegressor
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC, SVR

from metaopt.spaces._base import SearchSpace, cat_param, float_param, int_param

# libsvm is O(n^2) in memory/time or worse: the iteration cap bounds a fit that would
# not converge, the kernel cache (MB) speeds up the rest. Subsample large data.
MAX_ITER = 100_000
CACHE_SIZE_MB = 512


def _build_svm(params: dict[str, Any], task: str, random_state: int | None) -> BaseEstimator:
    common = dict(params, max_iter=MAX_ITER, cache_size=CACHE_SIZE_MB)
    if task == "classification":
        return SVC(**common, random_state=random_state)
    return TransformedTargetRegressor(regressor=SVR(**common), transformer=StandardScaler())


SVM = SearchSpace(
    name="svm",
    description="SVC (classification) / SVR on the standardised target (regression)",
    preprocessing="scaled",
    params=(
        float_param("C", 1e-3, 1e3, 1.0, log=True),
        cat_param("kernel", ("rbf", "poly", "sigmoid", "linear"), "rbf"),
        # on standardised features the library default gamma="scale" is about
        # 1 / n_features; 0.1 is that value for 10 features
        float_param(
            "gamma", 1e-4, 10.0, 0.1, log=True, condition=("kernel", ("rbf", "poly", "sigmoid"))
        ),
        int_param("degree", 2, 5, 3, condition=("kernel", ("poly",))),
        float_param("coef0", -1.0, 1.0, 0.0, condition=("kernel", ("poly", "sigmoid"))),
        float_param("epsilon", 1e-3, 1.0, 0.1, log=True, tasks=("regression",)),
    ),
    build_model=_build_svm,
)
