"""Fixtures of the NAS tests: wine as arrays and clocks that move with training."""

import pytest


@pytest.fixture(scope="module")
def wine(pmlb_root):
    """pmlb's wine_recognition as float X and its labels 1..3."""
    from metaopt.data import LocalSource

    data = LocalSource(pmlb_root).load("wine_recognition")
    return data.X.to_numpy(dtype=float), data.y.to_numpy()


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


@pytest.fixture
def epoch_clock(wine, monkeypatch):
    """(clock, trainer): a 2-fold FoldTrainer on wine where each fold's epoch takes 1 s
    of ``clock`` (the NAS search's and the MetaMLP estimators' time), and a refit
    reserves ~0 s, so epochs alone meet a deadline."""
    import torch

    from metaopt.nas import MetaMLPClassifier, _estimators, _search

    clock = _Clock()

    def one_second(*args) -> float:  # an epoch's mean training loss, as train_epoch's
        clock.now += 1.0
        return 0.0

    for module in (_estimators, _search):
        monkeypatch.setattr(module, "time", clock)
    monkeypatch.setattr(_search, "train_epoch", one_second)
    X, y = wine
    splits = MetaMLPClassifier(cv=2)._splits(y - 1, 0)
    trainer = _search.FoldTrainer(X, y - 1, "classification", splits, torch.device("cpu"), 0)
    trainer.rows_per_epoch = 1e9
    return clock, trainer


@pytest.fixture
def slow_first_build(epoch_clock, monkeypatch):
    """The first network built takes 6 s of ``epoch_clock``'s clock, as a fresh process's
    first torch optimiser does (it imports torch._dynamo: 2-3 s)."""
    from metaopt.nas import _search

    clock, _ = epoch_clock
    build = _search.build_mlp

    def slow_first(*args):
        if clock.now == 0.0:
            clock.now += 6.0
        return build(*args)

    monkeypatch.setattr(_search, "build_mlp", slow_first)
