"""kb.build of a SearchSpace of one's own: what a user's mistakes give."""

from __future__ import annotations

import re

import pytest
from optuna.distributions import IntDistribution

from metaopt.data import get_suite
from metaopt.kb import KnowledgeBase, build
from metaopt.spaces import Param, SearchSpace


def _broken(params, task, random_state):
    raise RuntimeError("my builder is broken")


def _space(name: str, build_model=_broken) -> SearchSpace:
    return SearchSpace(name=name, params=(Param("max_depth", IntDistribution(1, 8), 3),),
                       build_model=build_model, tasks=("classification",))


@pytest.fixture(scope="module")
def two(pmlb_root):
    suite = get_suite("pmlb-classification", root=pmlb_root)
    return [r for r in suite if r.name in ("glass", "ecoli")]


def test_the_summary_names_the_most_frequent_error(two, tmp_path):
    """A builder that raises failed every evaluation and the summary said only '4
    failed': the error was in to_frame()['error'] alone."""
    report = build(two, KnowledgeBase(tmp_path / "kb.sqlite"), spaces=[_space("broken")],
                   n_configs=2, cv_folds=2, backend="sequential", progress=False)
    assert report.n_failed == 4
    assert report.summary().endswith(
        "; most frequent error (4 of 4 failed): RuntimeError: my builder is broken")


def _tree(params, task, random_state):
    from sklearn.tree import DecisionTreeClassifier

    return DecisionTreeClassifier(**params, random_state=random_state)


@pytest.mark.parametrize("name", ["svm", "logistic_regression", "all", "svm+knn"])
def test_a_space_of_ones_own_named_as_a_metaopt_space_is_refused(two, tmp_path, name):
    """Its evaluations were stored under the metaopt space's name, beside (and mistaken
    for) that space's: training then read them as its configurations."""
    store = tmp_path / "kb.sqlite"
    with pytest.raises(ValueError, match=re.escape(f"space {name!r} of your own has the name "
                                                   "of a metaopt space") + ".*name it apart"):
        build(two, store, spaces=[_space(name, _tree)], n_configs=1, cv_folds=2,
              backend="sequential", progress=False)
    assert not store.exists()  # before the store is made
