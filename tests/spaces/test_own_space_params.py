"""A SearchSpace of one's own: a Param that is not what Optuna samples."""

from __future__ import annotations

import pytest
from optuna.distributions import BaseDistribution
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


def test_a_distribution_of_another_kind_is_named():
    """An optuna BaseDistribution that is none of Float, Int, Categorical passed the check
    and failed with "'...' object has no attribute 'low'"."""

    class Mine(BaseDistribution):
        def single(self):
            return False

        def _contains(self, param_value_in_internal_repr):
            return True

        def to_internal_repr(self, param_value_in_external_repr):
            return param_value_in_external_repr

    with pytest.raises(TypeError, match=r"my_tree: the distribution of 'max_depth' must be "
                                        r"an optuna.distributions one .* got Mine"):
        SearchSpace(name="my_tree", params=(Param("max_depth", Mine(), 3),), build_model=_tree)
