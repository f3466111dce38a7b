"""Named hyperparameter search spaces as Optuna distributions, with model builders."""

from metaopt.spaces._base import SPACES_VERSION, Param, SearchSpace
from metaopt.spaces._combined import CombinedSpace, combine
from metaopt.spaces._preprocessing import make_preprocessor
from metaopt.spaces._registry import get_space, list_spaces

__all__ = [
    "SPACES_VERSION",
    "CombinedSpace",
    "Param",
    "SearchSpace",
    "combine",
    "get_space",
    "list_spaces",
    "make_preprocessor",
]
