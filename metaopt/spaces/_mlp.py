"""The torch multilayer perceptron of :mod:`metaopt.nas`."""

from __future__ import annotations

from typing import Any

from sklearn.base import BaseEstimator

from metaopt.spaces._base import SearchSpace, cat_param, float_param, int_param


def _build_mlp(params: dict[str, Any], task: str, random_state: int | None) -> BaseEstimator:
    # imported here: torch is heavy and metaopt.nas will grow to depend on the KB,
    # which depends on this package
    from metaopt.nas import MLPClassifier, MLPRegressor

    cls = MLPClassifier if task == "classification" else MLPRegressor
    return cls(**params, random_state=random_state)


MLP = SearchSpace(
    name="mlp",
    description="metaopt.nas.MLP{Classifier,Regressor}: torch MLP with early stopping",
    preprocessing="scaled",
    params=(
        int_param("n_layers", 1, 4, 2),
        int_param("width", 16, 1024, 256, log=True),
        cat_param("activation", ("relu", "gelu", "silu", "tanh"), "relu"),
        float_param("dropout", 0.0, 0.5, 0.0),
        cat_param("norm", ("none", "batchnorm", "layernorm"), "none"),
        cat_param("skip", (False, True), False, condition=("n_layers", (2, 3, 4))),
        float_param("learning_rate", 1e-4, 1e-1, 1e-3, log=True),
        float_param("weight_decay", 1e-6, 1e-1, 1e-4, log=True),
        int_param("batch_size", 16, 512, 128, log=True),
        int_param("max_epochs", 10, 300, 100, log=True),
    ),
    build_model=_build_mlp,
)
