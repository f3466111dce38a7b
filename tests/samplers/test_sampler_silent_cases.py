"""MetaSampler where it used to waste a trial or an attempt without a word: a claim the
objective ran as another configuration (it set a parameter of the claim itself, or the
fallback set the ones asked before a guessed space's claim) was proposed again."""

from __future__ import annotations

import json

import optuna
import pytest

from metaopt.samplers import MetaSampler, _meta_sampler
from metaopt.spaces import get_space

optuna.logging.set_verbosity(optuna.logging.WARNING)


def _claims(study):
    return [json.loads(t.system_attrs["metaopt:config"]) for t in study.trials]


def _picks(study):
    return [t.system_attrs["metaopt:source"].split(":")[0] for t in study.trials]


@pytest.fixture
def clashes(monkeypatch):
    """The trials whose claim the clash check found taken by another trial's claim."""
    found = []
    check = _meta_sampler.MetaSampler._clashes

    def spy(self, study, trial, params):
        clash = check(self, study, trial, params)
        if clash:
            found.append(trial.number)
        return clash

    monkeypatch.setattr(_meta_sampler.MetaSampler, "_clashes", spy)
    return found


def test_a_claim_run_with_a_parameter_the_objective_sets_itself_is_not_proposed_again(
        clashes, monkeypatch):
    """One worker, in memory; the objective fixes the svm's kernel itself (asks for C and
    gamma only). Trial 1 ran pick 2 (a linear SVM's C; gamma the fallback's), read as an
    rbf SVM: trial 2 proposed pick 2 again, and only the clash check with trial 1's claim
    caught it (an attempt lost and a pause of up to 50 ms)."""
    pauses = []
    monkeypatch.setattr(_meta_sampler.time, "sleep", pauses.append)

    def objective(trial):
        return trial.suggest_float("C", 1e-3, 1e3, log=True) * trial.suggest_float(
            "gamma", 1e-4, 10.0, log=True)

    sampler = MetaSampler(space="svm", task="classification", seed=0)
    study = optuna.create_study(direction="maximize", sampler=sampler)
    study.optimize(objective, n_trials=3)
    picks = sampler.warm_start(3)["params"].tolist()
    assert picks[1]["kernel"] == "linear"  # what the objective cannot take
    assert _claims(study) == picks
    assert _picks(study) == ["portfolio pick 1", "portfolio pick 2", "portfolio pick 3"]
    assert clashes == [] and pauses == []


@pytest.mark.parametrize(("space", "guessed_at"), [("svm", "kernel"),
                                                   ("hist_gradient_boosting", "max_iter")])
def test_the_first_pick_a_guessed_space_served_is_not_run_again(space, guessed_at, clashes):
    """space=None: the space is guessed from trial 0's second parameter, the first one
    went to the fallback, and trial 0 ran the rest of pick 1. Trial 1 ran pick 1 again
    with its own first value (the claims differed, so no clash caught it), and the warm
    start's 3 picks were picks 1, 1 and 2."""
    def objective(trial):
        get_space(space).sample(trial, "classification")
        return 0.5

    sampler = MetaSampler(seed=0)
    study = optuna.create_study(direction="maximize", sampler=sampler)
    study.optimize(objective, n_trials=4)
    picks = sampler.warm_start(3)["params"].tolist()
    first = next(iter(study.trials[0].params))
    assert first not in _claims(study)[0] and guessed_at in _claims(study)[0]
    assert _claims(study)[0] == {n: v for n, v in picks[0].items() if n != first}
    assert _claims(study)[1:3] == picks[1:3]
    assert _picks(study)[:3] == ["portfolio pick 1", "portfolio pick 2", "portfolio pick 3"]
    assert _picks(study)[3] == "ranker adapted on 3 evaluation(s)"
    assert clashes == []


def test_a_claim_run_whole_adds_no_check(monkeypatch):
    """A study whose trials ran their claims as they are gets no extra check on its
    proposals (allowed stays None: the warm start looks only as far as it needs)."""
    seen = []
    propose = _meta_sampler.MetaModel.propose

    def spy(self, *args, **kwargs):
        seen.append(kwargs.get("allowed"))
        return propose(self, *args, **kwargs)

    monkeypatch.setattr(_meta_sampler.MetaModel, "propose", spy)
    space = get_space("knn")
    study = optuna.create_study(direction="maximize", sampler=MetaSampler(
        space="knn", task="classification", seed=0))
    study.optimize(lambda t: (space.sample(t, "classification"), 0.5)[1], n_trials=4)
    assert seen == [None] * 4
