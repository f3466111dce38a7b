"""metaopt: hyperparameter optimization that learns from experience."""

from importlib import import_module

from metaopt._version import __version__

# Public names load on first use: `import metaopt.spaces` in a worker process should not
# pay for torch and Optuna.
_LAZY = {
    "ArchitecturePrior": "metaopt.nas",
    "MetaMLPClassifier": "metaopt.nas",
    "MetaMLPRegressor": "metaopt.nas",
    "MetaOptClassifier": "metaopt.estimators",
    "MetaOptRegressor": "metaopt.estimators",
    "suggest": "metaopt._suggest",
}

__all__ = [
    "ArchitecturePrior",
    "MetaMLPClassifier",
    "MetaMLPRegressor",
    "MetaOptClassifier",
    "MetaOptRegressor",
    "__version__",
    "suggest",
]


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'metaopt' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
