"""Tree ensembles: histogram gradient boosting, random forest, extra trees."""

from __future__ import annotations

import math
from numbers import Integral
from typing import Any

import numpy as np
from sklearn import ensemble
from sklearn.base import BaseEstimator
from sklearn.compose import TransformedTargetRegressor
from sklearn.ensemble import (
    ExtraTreesClassifier,
    ExtraTreesRegressor,
    HistGradientBoostingRegressor,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.preprocessing import StandardScaler

from metaopt.spaces._base import SearchSpace, cat_param, float_param, int_param


class HistGradientBoostingClassifier(ensemble.HistGradientBoostingClassifier):
    """scikit-learn's (same name and parameters), except that early stopping watches the
    training loss when its validation split cannot be stratified (a class of one row, or
    more classes than validation or training rows), where scikit-learn's fit fails."""

    def fit(self, X, y, sample_weight=None, **fit_params):
        if not (self.early_stopping is True and fit_params.get("X_val") is None
                and self.validation_fraction is not None and self._unstratifiable(y)):
            return super().fit(X, y, sample_weight=sample_weight, **fit_params)
        given = self.validation_fraction
        try:  # get_params() stays as given
            self.validation_fraction = None
            return super().fit(X, y, sample_weight=sample_weight, **fit_params)
        finally:
            self.validation_fraction = given

    def _unstratifiable(self, y) -> bool:
        counts = np.unique(y, return_counts=True)[1]
        fraction = self.validation_fraction
        n_valid = int(fraction) if isinstance(fraction, Integral) else math.ceil(fraction * len(y))
        return counts.min() < 2 or min(n_valid, len(y) - n_valid) < len(counts)


def _build_hgb(params: dict[str, Any], task: str, random_state: int | None) -> BaseEstimator:
    cls = (
        HistGradientBoostingClassifier
        if task == "classification"
        else HistGradientBoostingRegressor
    )
    return cls(**params, categorical_features="from_dtype", random_state=random_state)


HIST_GRADIENT_BOOSTING = SearchSpace(
    name="hist_gradient_boosting",
    description="HistGradientBoosting{Classifier,Regressor} with native categorical support",
    preprocessing="native",
    params=(
        float_param("learning_rate", 0.01, 1.0, 0.1, log=True),
        int_param("max_iter", 16, 512, 100, log=True),
        int_param("max_leaf_nodes", 4, 256, 31, log=True),
        int_param("min_samples_leaf", 1, 128, 20, log=True),
        # the library default 0.0 is outside a log range: 1e-6 stands for "none"
        float_param("l2_regularization", 1e-6, 10.0, 1e-6, log=True),
        float_param("max_features", 0.1, 1.0, 1.0),
        cat_param("early_stopping", (False, True), False),
    ),
    build_model=_build_hgb,
)


def _forest_builder(classifier: type, regressor: type):
    def build(params: dict[str, Any], task: str, random_state: int | None) -> BaseEstimator:
        if task == "classification":
            return classifier(**params, random_state=random_state)
        # on the standardised target: scikit-learn's trees stop splitting a node whose
        # variance is below 2.2e-16 (a target in 1e-9 units) or lost to rounding (a
        # 1e9 offset), and then predict its mean
        return TransformedTargetRegressor(regressor=regressor(**params, random_state=random_state),
                                          transformer=StandardScaler())

    return build


def _forest_space(name: str, classifier: type, regressor: type, bootstrap: bool) -> SearchSpace:
    return SearchSpace(
        name=name,
        description=f"{classifier.__name__[:-10]}{{Classifier,Regressor}}",
        preprocessing="ordinal",
        params=(
            int_param("n_estimators", 16, 512, 100, log=True),
            cat_param(
                "max_features",
                ("sqrt", "log2", 0.25, 0.5, 0.75, 1.0),
                "sqrt",
                task_defaults={"regression": 1.0},
            ),
            int_param("min_samples_leaf", 1, 64, 1, log=True),
            cat_param("bootstrap", (True, False), bootstrap),
            # the library default None means 1.0 (a bootstrap sample of n rows)
            float_param("max_samples", 0.1, 1.0, 1.0, condition=("bootstrap", (True,))),
        ),
        build_model=_forest_builder(classifier, regressor),
    )


RANDOM_FOREST = _forest_space("random_forest", RandomForestClassifier, RandomForestRegressor, True)
EXTRA_TREES = _forest_space("extra_trees", ExtraTreesClassifier, ExtraTreesRegressor, False)
