"""Fitted-state rules shared by metaopt's scikit-learn estimators: a failed ``fit``
leaves an estimator unfitted, and an array can be given where a DataFrame was fitted."""

from __future__ import annotations

import functools
from collections.abc import Callable

import pandas as pd


def unfitted_on_error(fit: Callable) -> Callable:
    """Decorate ``fit`` so that when it raises, the estimator's fitted attributes (public
    names ending in ``_``) are removed: otherwise a refit that fails midway leaves the new
    data's preprocessing beside the old model, and ``predict`` silently returns nonsense.
    ``predict`` then raises scikit-learn's ``NotFittedError``."""

    @functools.wraps(fit)
    def wrapper(self, *args, **kwargs):
        try:
            return fit(self, *args, **kwargs)
        except BaseException:
            for name in [k for k in vars(self) if k.endswith("_") and not k.startswith("_")]:
                delattr(self, name)
            raise

    return wrapper


def as_fitted_frame(estimator, X):
    """``X`` (already checked) as a DataFrame of the columns ``estimator`` was fitted on,
    when it was fitted on a DataFrame and ``X`` is an array; as scikit-learn's own
    estimators do, such input is accepted after scikit-learn's warning that ``X`` has no
    feature names (the preprocessing selects columns by name)."""
    names = getattr(estimator, "feature_names_in_", None)
    if names is None or isinstance(X, pd.DataFrame):
        return X
    return pd.DataFrame(X, columns=names)
