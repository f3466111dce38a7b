"""Torch MLP tests run on one thread: on a busy 2-core machine thread pools fight."""

import pytest


@pytest.fixture(autouse=True, scope="module")
def _one_thread(one_thread):
    yield


class _Clock:
    """A ``time`` module stand-in whose clock moves only when a test moves it."""

    def __init__(self) -> None:
        self.now = 0.0

    def perf_counter(self) -> float:
        return self.now


@pytest.fixture
def minibatch_clock(monkeypatch):
    """A clock of the NAS modules that moves 1 s per training minibatch (and only then)."""
    from metaopt.nas import _estimators, _mlp, _search

    clock = _Clock()
    row_losses = _mlp.row_losses

    def timed_row_losses(*args):
        clock.now += 1.0
        return row_losses(*args)

    for module in (_estimators, _mlp, _search):
        monkeypatch.setattr(module, "time", clock, raising=False)
    monkeypatch.setattr(_mlp, "row_losses", timed_row_losses)
    return clock
