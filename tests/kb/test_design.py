"""design() and plan_configs() take a registered space's name, as build(spaces=...) does."""

from __future__ import annotations

import pytest

from metaopt.kb import design, plan_configs
from metaopt.spaces import get_space


def test_design_and_plan_configs_take_a_space_name():
    space = get_space("knn")
    assert design("knn", "classification", 4) == design(space, "classification", 4)
    assert (plan_configs("svm", "regression", "pmlb/a", n_configs=5, n_design=3, seed=0)
            == plan_configs(get_space("svm"), "regression", "pmlb/a", n_configs=5,
                            n_design=3, seed=0))


def test_an_unknown_name_lists_the_spaces():
    with pytest.raises(ValueError, match="unknown search space 'svn'; accepted"):
        design("svn", "classification", 4)
