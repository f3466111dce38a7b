"""scikit-learn estimators that tune themselves with metaopt's meta-learned search."""

from metaopt.estimators._search import MetaOptClassifier, MetaOptRegressor

__all__ = ["MetaOptClassifier", "MetaOptRegressor"]
