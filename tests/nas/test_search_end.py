"""How a MetaMLP time-budgeted search ends: once a trial leaves no time to start
another, the search stops before its sampler proposes one."""

from __future__ import annotations

import warnings

import optuna

from metaopt.nas import MetaMLPClassifier
from metaopt.nas._search import NO_TIME_TO_START

COMPLETE = optuna.trial.TrialState.COMPLETE


def test_no_trial_is_proposed_once_a_trial_leaves_no_time_to_start_another(
        wine, epoch_clock, monkeypatch):
    """A trial that ended (early stopping or the pruner: no check of the time left after
    its last epoch) with no time left but the refit's reserve let the sampler propose
    another, which the objective then pruned unrun ("no time to start"). On a clock where
    a fold's first epoch takes 1 s and each later one 3 s, 2 folds, its score never
    improving (the training is faked): the first trial stops early after epoch 2, at 8 s,
    and its refit reserves 4 s (2 s an epoch on half the rows) of a 10 s budget."""
    from metaopt.nas import _search

    clock, _ = epoch_clock
    fold_epochs: list[int] = []

    def slower_later(*args) -> float:
        clock.now += 1.0 if len(fold_epochs) < 2 else 3.0
        fold_epochs.append(1)
        return 0.0

    monkeypatch.setattr(_search, "train_epoch", slower_later)
    proposed: list[int] = []
    sample = optuna.samplers.TPESampler.sample_independent

    def counted(self, study, trial, name, distribution):
        proposed.append(trial.number)
        return sample(self, study, trial, name, distribution)

    monkeypatch.setattr(optuna.samplers.TPESampler, "sample_independent", counted)
    X, y = wine
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the refit has the 1 ms left: cut, with a warning
        model = MetaMLPClassifier(n_trials=3, cv=2, time_budget=10.0, max_epochs=5,
                                  n_iter_no_change=1, pruner="none", prior=None,
                                  meta_model=None, random_state=0).fit(X, y)
    trials = model.study_.trials
    assert (len(fold_epochs), clock.now) == (4, 8.0)
    assert [(t.state, t.user_attrs.get("stopped")) for t in trials] == [(COMPLETE, None)]
    assert not any(t.user_attrs.get("stopped") == NO_TIME_TO_START for t in trials)
    assert set(proposed) == {0}  # the sampler proposed the first trial only
