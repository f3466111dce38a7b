"""metaopt: hyperparameter optimization that learns from experience."""

from typing import TYPE_CHECKING

from metaopt._lazy import lazy_exports
from metaopt._version import __version__

if TYPE_CHECKING:  # the lazy names below, for type checkers (PEP 484 explicit re-exports)
    from metaopt._suggest import suggest as suggest
    from metaopt.estimators import MetaOptClassifier as MetaOptClassifier
    from metaopt.estimators import MetaOptRegressor as MetaOptRegressor
    from metaopt.nas import ArchitecturePrior as ArchitecturePrior
    from metaopt.nas import MetaMLPClassifier as MetaMLPClassifier
    from metaopt.nas import MetaMLPRegressor as MetaMLPRegressor

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
