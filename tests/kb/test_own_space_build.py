"""kb.build of a SearchSpace of one's own: what a user's mistakes give."""

from __future__ import annotations

import pytest
from optuna.distributions import IntDistribution

from metaopt.data import get_suite
from metaopt.kb import KnowledgeBase, build
from metaopt.spaces import Param, SearchSpace

pytestmark = pytest.mark.usefixtures("one_thread")


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
