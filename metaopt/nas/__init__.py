"""Neural architecture search: the torch MLP estimators (architecture priors come later)."""

from metaopt.nas._mlp import MLPClassifier, MLPRegressor, build_mlp

__all__ = ["MLPClassifier", "MLPRegressor", "build_mlp"]
