"""Neural architecture search: torch MLP estimators, a meta-learned architecture prior and
the MetaMLP estimators that search architectures with it."""

from metaopt.nas._estimators import MetaMLPClassifier, MetaMLPRegressor
from metaopt.nas._lcbench import (
    LCBENCH_SPACE,
    PRIOR_FEATURES,
    lcbench_tasks,
    task_metafeatures,
    to_mlp_params,
)
from metaopt.nas._mlp import MLPClassifier, MLPRegressor, build_mlp
from metaopt.nas._prior import ArchitecturePrior, random_configs

__all__ = [
    "LCBENCH_SPACE",
    "PRIOR_FEATURES",
    "ArchitecturePrior",
    "MLPClassifier",
    "MLPRegressor",
    "MetaMLPClassifier",
    "MetaMLPRegressor",
    "build_mlp",
    "lcbench_tasks",
    "random_configs",
    "task_metafeatures",
    "to_mlp_params",
]
