"""A time-budgeted search does not start a proposal that must first import torch._dynamo
when too little time is left for that import."""

import types

from metaopt import MetaOptRegressor
from metaopt.data import LocalSource
from metaopt.estimators import _search


def test_no_ranker_proposal_waits_for_torch_dynamo_past_the_budget(pmlb_root, monkeypatch):
    """The ranker's first adaptation imports torch._dynamo on the main process (3 s on a
    busy machine). When the background warm-up was skipped for lack of time, that import
    came anyway, in the next proposal: a 5 s fit on 591_fri_c1_100_10 took 8 s. Too
    little time to import it: the search stops after the warm start."""
    data = LocalSource(pmlb_root).load("591_fri_c1_100_10", "regression")
    # as in a fresh process (torch._dynamo not imported), with never time enough for it
    modules = {k: v for k, v in _search.sys.modules.items() if k != "torch._dynamo"}
    monkeypatch.setattr(_search, "sys", types.SimpleNamespace(modules=modules))
    monkeypatch.setattr(_search, "_WARM_UP_SECONDS", 1e9)
    model = MetaOptRegressor(spaces="linear", n_trials=8, time_budget=120, cv=3,
                             ensemble_size=1, random_state=0).fit(data.X, data.y)
    reasons = model.history_["reason"]
    assert reasons.str.startswith("portfolio").all(), reasons.tolist()
    assert 0 < len(reasons) < 8
