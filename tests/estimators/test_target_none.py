"""``fit(X, None)`` is refused in scikit-learn's words by every metaopt estimator
(before: the search estimators said "y should be a 1d array, got an array of shape ()",
about no array the user passed)."""

from __future__ import annotations

import pytest
from sklearn.datasets import load_iris

from metaopt import MetaOptClassifier, MetaOptRegressor
from metaopt.nas import MetaMLPClassifier, MetaMLPRegressor


@pytest.mark.parametrize("estimator", [MetaOptClassifier, MetaOptRegressor,
                                       MetaMLPClassifier, MetaMLPRegressor])
def test_fit_without_a_target_names_it(estimator):
    X, _ = load_iris(return_X_y=True)
    with pytest.raises(ValueError, match=f"^{estimator.__name__} requires y to be passed, "
                                         "but the target y is None$"):
        estimator(n_trials=1).fit(X, None)
