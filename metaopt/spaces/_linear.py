"""Regularised linear models: logistic regression, and ridge / elastic net for regression."""

from __future__ import annotations

from typing import Any

from sklearn.base import BaseEstimator
from sklearn.compose import TransformedTargetRegressor
from sklearn.linear_model import ElasticNet, LogisticRegression, Ridge
from sklearn.preprocessing import StandardScaler

from metaopt.spaces._base import SearchSpace, cat_param, float_param

# Iteration caps: saga and coordinate descent may stop before convergence on hard
# problems (a ConvergenceWarning); the model is still usable.
MAX_ITER = 1000
_L1_RATIO = {"l2": 0.0, "l1": 1.0}


def _build_linear(params: dict[str, Any], task: str, random_state: int | None) -> BaseEstimator:
    penalty = params["penalty"]
    l1_ratio = _L1_RATIO.get(penalty, params.get("l1_ratio"))
    if task == "classification":
        # lbfgs for pure l2; saga is the solver that handles l1 and elastic net
        return LogisticRegression(
            C=params["C"],
            l1_ratio=l1_ratio,
            solver="lbfgs" if penalty == "l2" else "saga",
            max_iter=MAX_ITER,
            random_state=random_state,
        )
    if penalty == "l2":
        model = Ridge(alpha=params["alpha"])
    else:
        # its seed, unused by the cyclic updates, is drawn anyway: from numpy's global
        # RandomState without one
        model = ElasticNet(alpha=params["alpha"], l1_ratio=l1_ratio, max_iter=MAX_ITER,
                           random_state=random_state)
    return TransformedTargetRegressor(regressor=model, transformer=StandardScaler())


LINEAR = SearchSpace(
    name="linear",
    description="LogisticRegression (classification); Ridge / ElasticNet (regression)",
    preprocessing="scaled",
    params=(
        cat_param("penalty", ("l2", "l1", "elasticnet"), "l2"),
        float_param("l1_ratio", 0.01, 0.99, 0.5, condition=("penalty", ("elasticnet",))),
        float_param("C", 1e-4, 1e4, 1.0, log=True, tasks=("classification",)),
        float_param("alpha", 1e-4, 1e3, 1.0, log=True, tasks=("regression",)),
    ),
    build_model=_build_linear,
)
