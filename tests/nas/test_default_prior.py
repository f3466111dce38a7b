"""The shipped architecture prior is read once per process, not at every fit."""

from __future__ import annotations

from sklearn.datasets import make_classification

from metaopt.nas import MetaMLPClassifier
from metaopt.nas._prior import ArchitecturePrior


def test_fits_with_the_default_prior_load_it_once(monkeypatch):
    # (each load reads and hash-checks the shipped files: 0.2 s)
    loads = []
    load = ArchitecturePrior.load.__func__

    def counted(cls, directory):
        loads.append(directory)
        return load(cls, directory)

    monkeypatch.setattr(ArchitecturePrior, "load", classmethod(counted))
    X, y = make_classification(40, 4, random_state=0)
    for seed in (0, 1):
        MetaMLPClassifier(prior="default", n_trials=1, cv=2, max_epochs=1, n_prior_trials=1,
                          pruner="none", random_state=seed).fit(X, y)
    assert len(loads) <= 1  # none when an earlier test of the process loaded it
