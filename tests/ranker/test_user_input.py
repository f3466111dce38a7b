"""Meta-models used as a new user would: a knowledge base where a matrix is expected,
candidates in other containers, bad files and paths, readable reasons."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from metaopt.ranker import ConfigRanker, MetaModel, Portfolio

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def tabrepo_kb(shared_data):
    from metaopt.kb import load_tabrepo

    return load_tabrepo(shared_data / "tabrepo-lightgbm")


@pytest.mark.parametrize("fit", [lambda m: ConfigRanker(iterations=1).fit(m),
                                 lambda m: Portfolio().fit(m),
                                 lambda m: MetaModel.fit(m)])
def test_fit_on_a_knowledge_base_says_how_to_build_the_matrix(tabrepo_kb, fit):
    """fit(kb) and fit(kb.to_frame()) failed with "'KnowledgeBase' object has no
    attribute 'n_tasks'"."""
    with pytest.raises(TypeError, match=r"takes a PerformanceMatrix .* got "
                       r"KnowledgeBase: build it with PerformanceMatrix\.from_frame\("
                       r"kb\.to_frame\(\), space\)"):
        fit(tabrepo_kb)
    with pytest.raises(TypeError, match=r"got DataFrame: .*from_frame\(frame, space\) "
                       r"\(spaces in this frame: \['tabrepo_lightgbm'\]\)"):
        fit(tabrepo_kb.to_frame())
