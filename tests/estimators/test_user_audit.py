"""What a new user runs into with the estimators (docs/estimators.md): each case fails
with a message that says what to do, not from deep inside a library."""

from __future__ import annotations

import pytest
from sklearn.datasets import load_breast_cancer
from sklearn.exceptions import NotFittedError

from metaopt import MetaOptClassifier, MetaOptRegressor


@pytest.mark.parametrize("cls", [MetaOptClassifier, MetaOptRegressor])
def test_score_before_fit_is_not_fitted_error(cls):
    """score() before fit raised scikit-learn's "'MetaOptClassifier' object has no
    attribute 'classes_'" (an AttributeError from its scorer), where predict() says the
    estimator is not fitted."""
    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    with pytest.raises(NotFittedError, match="not fitted yet"):
        cls().score(X, y)
