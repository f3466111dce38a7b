"""metaopt: hyperparameter optimization that learns from experience."""

from metaopt._lazy import lazy_exports
from metaopt._version import __version__

# Public names load on first use: `import metaopt.spaces` in a worker process should not
# pay for torch and Optuna.
_EXPORTS = {
    "ArchitecturePrior": ".nas",
    "MetaMLPClassifier": ".nas",
    "MetaMLPRegressor": ".nas",
    "MetaOptClassifier": ".estimators",
    "MetaOptRegressor": ".estimators",
    "suggest": "._suggest",
}
__all__ = ["__version__", *sorted(_EXPORTS)]
__getattr__ = lazy_exports(__name__, _EXPORTS)[0]


def __dir__() -> list[str]:
    return sorted(__all__)
