"""The ranker's Python API used directly, as a researcher would: observations and parts
given in the wrong kind of container, settings of the wrong type."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def observed(tabrepo_matrix, split):
    """Four evaluations of a held-out TabRepo task."""
    task = tabrepo_matrix.tasks.index.get_loc(split[1][0])
    configs = list(tabrepo_matrix.configs["params"])
    return [(configs[i], float(tabrepo_matrix.scores[task, i])) for i in range(4)]


@pytest.mark.parametrize("call", [
    lambda model, obs, cands: model.propose(None, obs, candidates=cands, seed=0),
    lambda model, obs, cands: model.ranker.rank(None, obs, cands),
])
def test_observed_given_as_an_iterator_is_refused(small_meta_model, tabrepo_matrix,
                                                  observed, call):
    """A generator of (params, score) pairs was read once by the score check: propose
    then saw no evaluation and proposed portfolio pick 1 again, already evaluated, and
    rank raised "TypeError: 'generator' object is not subscriptable"."""
    candidates = list(tabrepo_matrix.configs["params"])
    with pytest.raises(ValueError, match=r"observed must be a list of \(params dict, score "
                       r"number\) pairs, got generator .*read once.*list\(observed\)"):
        call(small_meta_model, (pair for pair in observed), candidates)
    with pytest.raises(ValueError, match=r"got list_iterator"):
        call(small_meta_model, iter(observed), candidates)
    call(small_meta_model, tuple(observed), candidates)  # a tuple is a sequence: fine
