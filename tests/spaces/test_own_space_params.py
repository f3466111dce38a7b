"""A SearchSpace of one's own: a Param that is not what Optuna samples."""

from __future__ import annotations

import pytest
from sklearn.tree import DecisionTreeClassifier

from metaopt.spaces import Param, SearchSpace


def _tree(params, task, random_state):
    return DecisionTreeClassifier(**params, random_state=random_state)


@pytest.mark.parametrize("distribution", [(1, 8), [1, 2, 3], "int"])
def test_a_distribution_that_is_no_optuna_one_is_named(distribution):
    """A (low, high) tuple failed with "'tuple' object has no attribute 'low'", naming
    neither the space nor the parameter."""
    with pytest.raises(TypeError, match=r"my_tree: the distribution of 'max_depth' must be "
                                        r"an optuna.distributions one"):
        SearchSpace(name="my_tree", params=(Param("max_depth", distribution, 3),),
                    build_model=_tree)
