"""The one-thread limits of folds, landmarkers and ranker predictions find the loaded
thread pools once per set of imported modules, not per call."""

import sys
import types

import pytest
import threadpoolctl

from metaopt import MetaOptClassifier, _threads
from metaopt._threads import thread_pools
from metaopt.data import LocalSource


@pytest.fixture
def built(monkeypatch):
    """The ThreadpoolControllers built from now on (the lookup of every loaded library:
    ~7 ms with torch loaded), with the cached one forgotten before and after."""
    built = []

    class Counting(threadpoolctl.ThreadpoolController):
        def __init__(self):
            built.append(1)
            super().__init__()

    monkeypatch.setattr(threadpoolctl, "ThreadpoolController", Counting)  # threadpool_limits'
    monkeypatch.setattr(_threads, "ThreadpoolController", Counting)
    _threads._controller.cache_clear()
    yield built
    _threads._controller.cache_clear()  # (a controller of this test's patched class)


def test_predictions_do_not_look_the_thread_pools_up_again(tabrepo_matrix, small_meta_model,
                                                           built):
    """threadpoolctl's lookup took about 2.7 ms per prediction (~8 % of a MetaSampler
    suggestion)."""
    params = list(tabrepo_matrix.configs["params"])
    mf = tabrepo_matrix.metafeatures.iloc[0]
    for _ in range(3):
        small_meta_model.ranker.predict(mf, [(params[0], 0.5), (params[1], 0.7)], params[2:10])
    assert len(built) == 1


def test_a_search_looks_the_thread_pools_up_only_after_an_import(pmlb_root, built,
                                                                monkeypatch):
    """threadpool_limits in every fold (and the landmarkers) looked every loaded library up
    again: 1,874 lookups, 13 s of 156 s of scikit-learn's checks of the classifier."""
    wine = LocalSource(pmlb_root).load("wine_recognition")
    X, y = wine.X, wine.y
    model = MetaOptClassifier(n_trials=3, spaces="linear", cv=3, random_state=0)
    model.fit(X, y)  # a first fit may import what its families need
    before = len(built)
    model.fit(X, y)  # 3 trials x 3 folds, the landmarkers, the refit
    assert len(built) == before
    assert thread_pools() is thread_pools()
    # a module imported since may have loaded a library with a pool: looked up again
    pools = thread_pools()
    monkeypatch.setitem(sys.modules, "metaopt_test_new_module",
                        types.ModuleType("metaopt_test_new_module"))
    assert thread_pools() is not pools
