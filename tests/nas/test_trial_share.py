"""A MetaMLP trial may train for at most a share (half) of the time left while another
may follow: ``MetaMLPClassifier(n_trials=6, cv=3, time_budget=20)`` on pmlb churn ran a
single trial, which kept back only the refit's time, with no warning (30 s too)."""

from __future__ import annotations

import numpy as np
import optuna
import pytest
from _small_prior import small_prior

from metaopt.nas import MetaMLPClassifier
from metaopt.nas._estimators import refit_cut_message
from metaopt.nas._search import (
    OUT_OF_TIME,
    TRIAL_SHARE,
    TRIAL_SHARE_SPENT,
    objective,
    trial_share_seconds,
)
from metaopt.spaces import get_space


def test_a_trial_another_may_follow_gets_half_the_time_left_less_the_refit():
    assert TRIAL_SHARE == 0.5  # as MetaOptClassifier's first trial
    # 20 s budget, 2 s kept for the refit: the first trial may train 9 s (until 9 s)
    assert trial_share_seconds(0.0, 20.0, 2.0, TRIAL_SHARE, more_trials=True) == 9.0
    # the next, starting at 9 s with the same reserve: half of the 9 s left (until 13.5 s)
    assert trial_share_seconds(9.0, 20.0, 2.0, TRIAL_SHARE, more_trials=True) == 4.5
    # the last trial, or a share of the whole, has only the search's deadline
    assert trial_share_seconds(9.0, 20.0, 2.0, TRIAL_SHARE, more_trials=False) is None
    assert trial_share_seconds(0.0, 20.0, 2.0, 1.0, more_trials=True) is None
    # no time left: it ends at once (the start check has stopped the study already)
    assert trial_share_seconds(19.0, 20.0, 2.0, TRIAL_SHARE, more_trials=True) == 0.0


@pytest.mark.parametrize(("share", "expected"), [
    # each epoch 2 s, deadline 12 s: the first trial stops before an epoch that would end
    # after 6 s, the second (from 4 s) after 8 s; the last has the deadline
    (TRIAL_SHARE, [(2, TRIAL_SHARE_SPENT), (1, TRIAL_SHARE_SPENT), (2, OUT_OF_TIME)]),
    # before: the first trial trained to the deadline and stopped the study
    (1.0, [(5, OUT_OF_TIME)]),
])
def test_a_trial_stops_at_the_end_of_its_share_and_the_search_goes_on(
        epoch_clock, share, expected):
    clock, trainer = epoch_clock
    params = {**get_space("mlp").default("classification"), "n_layers": 1, "width": 16}
    params.pop("max_epochs")
    study = optuna.create_study(direction="maximize", pruner=optuna.pruners.NopPruner())
    for width in (16, 32, 48):
        study.enqueue_trial({**params, "width": width})
    study.optimize(objective(trainer, "classification", 50, 50, deadline=12.0,
                             share=share, n_trials=3), n_trials=3)
    # a trial stopped by its share is complete, scored by its best epoch so far
    done = study.get_trials(states=(optuna.trial.TrialState.COMPLETE,))
    assert [(t.user_attrs["epochs"], t.user_attrs["stopped"]) for t in done] == expected
    assert clock.now == 10.0


def test_building_the_networks_does_not_spend_the_share(epoch_clock, slow_first_build):
    """A process's first optimiser imports torch._dynamo (2-3 s): counted in the share,
    it left a 4 s fit's first trial one epoch. The share counts epochs' time, as the
    deadline checks do. Building takes 6 s of the clock here, each epoch 2 s, deadline
    18 s: the first trial's share is 9 s of epochs (4 epochs, not 1)."""
    clock, trainer = epoch_clock
    params = {**get_space("mlp").default("classification"), "n_layers": 1, "width": 16}
    params.pop("max_epochs")
    study = optuna.create_study(direction="maximize", pruner=optuna.pruners.NopPruner())
    study.enqueue_trial(params)
    study.enqueue_trial({**params, "width": 32})
    study.optimize(objective(trainer, "classification", 50, 50, deadline=18.0,
                             share=TRIAL_SHARE, n_trials=2), n_trials=2)
    assert [(t.user_attrs["epochs"], t.user_attrs["stopped"]) for t in study.trials] == [
        (4, TRIAL_SHARE_SPENT), (1, OUT_OF_TIME)]
    assert clock.now == 16.0


def test_without_a_time_budget_no_trial_is_capped(epoch_clock):
    """The share needs a deadline: without one, every trial trains all its epochs."""
    clock, trainer = epoch_clock
    params = {**get_space("mlp").default("classification"), "n_layers": 1, "width": 16}
    params.pop("max_epochs")
    study = optuna.create_study(direction="maximize", pruner=optuna.pruners.NopPruner())
    study.enqueue_trial(params)
    study.optimize(objective(trainer, "classification", 7, 50, share=TRIAL_SHARE,
                             n_trials=3), n_trials=1)
    assert study.trials[0].user_attrs["epochs"] == 7
    assert "stopped" not in study.trials[0].user_attrs


def test_a_fit_whose_first_trial_would_take_the_budget_runs_several(wine, minibatch_clock):
    """The whole fit on a clock of minibatches: 3 trials of up to 500 epochs (2-3
    minibatches a fold's epoch) against a budget of 400. Before, the first trial trained
    until only the refit's time was left and stopped the search: 1 trial."""
    X, y = wine
    model = MetaMLPClassifier(n_trials=3, cv=2, time_budget=400.0, max_epochs=500,
                              n_iter_no_change=500, pruner="none", prior=small_prior(),
                              n_prior_trials=3, random_state=0).fit(X, y)
    trials = model.study_.trials
    assert len(trials) == 3
    assert [t.user_attrs.get("stopped") for t in trials[:2]] == [TRIAL_SHARE_SPENT] * 2
    assert all(t.state == optuna.trial.TrialState.COMPLETE for t in trials)
    assert model.best_score_ == max(t.value for t in trials)
    assert np.isfinite(model.predict_proba(X)).all()


@pytest.mark.parametrize(("begun", "epochs", "where"), [
    (28, 28, "in the last of its 28 epochs"),
    (5, 28, "in epoch 5 of its 28"),
    (1, 1, "in its only epoch"),
])
def test_the_refit_warning_says_in_which_epoch_the_time_ran_out(begun, epochs, where):
    """It read "after 28 of its 28 epoch(s), the last perhaps in part": the refit's
    n_epochs_ counts the epochs begun, the last one perhaps cut short."""
    assert refit_cut_message(20, begun, epochs) == (
        f"time_budget=20 s stopped the refit of the best configuration {where} (that "
        "epoch perhaps trained in part): the model may be less trained than best_score_ "
        "suggests; give more time")
