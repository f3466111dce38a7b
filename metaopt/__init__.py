"""metaopt: hyperparameter optimization that learns from experience."""

from metaopt._suggest import suggest
from metaopt._version import __version__

__all__ = ["__version__", "suggest"]
