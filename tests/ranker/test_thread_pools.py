"""The ranker's one-thread limit finds the loaded thread pools once, not per prediction."""

import threadpoolctl

from metaopt.ranker import _ranker


def test_predictions_do_not_look_the_thread_pools_up_again(tabrepo_matrix, small_meta_model,
                                                           monkeypatch):
    """threadpoolctl's lookup of the loaded libraries took about 2.7 ms per prediction
    (~8 % of a MetaSampler suggestion): it is done once per process."""
    built = []

    class Counting(threadpoolctl.ThreadpoolController):
        def __init__(self):
            built.append(1)
            super().__init__()

    monkeypatch.setattr(threadpoolctl, "ThreadpoolController", Counting)
    monkeypatch.setattr(_ranker, "ThreadpoolController", Counting, raising=False)
    if hasattr(_ranker, "_thread_pools"):
        _ranker._thread_pools.cache_clear()
    params = list(tabrepo_matrix.configs["params"])
    mf = tabrepo_matrix.metafeatures.iloc[0]
    ranker = small_meta_model.ranker
    for _ in range(3):
        ranker.predict(mf, [(params[0], 0.5), (params[1], 0.7)], params[2:10])
    assert len(built) == 1
    _ranker._thread_pools.cache_clear()  # (a controller of these tests' patched class)
