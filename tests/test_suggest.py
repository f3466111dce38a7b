"""metaopt.suggest: clear errors for arguments of the wrong kind."""

from __future__ import annotations

import pytest

import metaopt
from metaopt.data import LocalSource


@pytest.fixture(scope="module")
def wine(pmlb_root):
    return LocalSource(pmlb_root).load("wine_recognition")


@pytest.mark.parametrize("space", [None, ["svm", "knn"]])
def test_space_must_be_a_name(wine, space):
    """None failed with "argument of type 'NoneType' is not iterable"; a list, as
    MetaOptClassifier's spaces take, with "no shipped meta-model for space ['svm', 'knn']"."""
    with pytest.raises(TypeError, match=r"space must be a str .*'svm\+knn'"):
        metaopt.suggest(wine.X, wine.y, space=space)


def test_random_state_is_checked_as_a_seed(wine):
    """-1 failed in numpy with "Seed must be between 0 and 2**32 - 1", naming no argument."""
    with pytest.raises(ValueError, match=r"random_state must be None or an int in \[0, 2\*\*32"):
        metaopt.suggest(wine.X, wine.y, space="knn", random_state=-1)


def test_a_space_name_in_other_case_gets_a_suggestion(wine):
    """space="SVM" was refused without "did you mean 'svm'?" (difflib is case-sensitive)."""
    with pytest.raises(ValueError, match=r"no shipped meta-model for space 'SVM' .*did you "
                       r"mean 'svm'\?"):
        metaopt.suggest(wine.X, wine.y, space="SVM")
    with pytest.raises(ValueError, match=r"did you mean 'random_forest'\?"):
        metaopt.suggest(wine.X, wine.y, space="Random_Forests")
