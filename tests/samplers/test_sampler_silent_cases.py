"""MetaSampler where it used to waste a trial or an attempt without a word: a claim the
objective ran as another configuration (it set a parameter of the claim itself, or the
fallback set the ones asked before a guessed space's claim) was proposed again."""

from __future__ import annotations

import json
import warnings

import optuna
import pytest

from metaopt.ranker._shipped import shipped_space
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


def _tune(sampler, space="knn", n_trials=3, task="regression"):
    """The warnings a study of the space's own objective gave (minimized: a loss)."""
    objective = shipped_space(space).sample
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        study = optuna.create_study(direction="minimize", sampler=sampler)
        study.optimize(lambda t: (objective(t, task), 0.5)[1], n_trials=n_trials)
    return [str(w.message) for w in caught]


@pytest.mark.parametrize("space", ["knn", None])
def test_a_task_taken_by_default_is_said_once_with_how_to_choose(space):
    """Without task, dataset or meta_features, a regression study of knn (mlp, the tree
    ensembles, boosting: no parameter tells the tasks apart) was served the
    classification meta-model without a word."""
    caught = _tune(MetaSampler(space=space, seed=0), "knn")
    assert caught == ["MetaSampler: no task given (task=, dataset= or meta_features=): the "
                      "classification meta-model of space 'knn' serves this study. Pass "
                      "task='regression' for a regression study, or task='classification'"]


def test_an_svm_study_is_told_the_parameter_that_switches_the_task():
    caught = _tune(MetaSampler(space="svm", seed=0), space="svm")
    assert "no task given" in caught[0] and ("an objective that asks for 'epsilon', a "
                                             "parameter of regression only, switches it"
                                             ) in caught[0]
    assert "serves the regression meta-model from now on" in caught[1] and len(caught) == 2


def test_a_task_stated_or_read_is_not_warned_about(pmlb_root):
    from metaopt.data import LocalSource
    from metaopt.metafeatures import compute_dataset
    from metaopt.ranker import load_meta_model
    from metaopt.samplers._meta_sampler import serve_task

    data = LocalSource(pmlb_root).load("breast_w", "classification")
    served = MetaSampler(space="knn", seed=0)
    serve_task(served, "regression")  # as MetaOptRegressor(sampler=...) does
    for sampler in (MetaSampler(space="knn", task="regression", seed=0),
                    MetaSampler(space="knn", task="classification", seed=0),
                    MetaSampler(space="knn", dataset=(data.X, data.y), seed=0),
                    MetaSampler(space="knn", meta_features=compute_dataset(data), seed=0),
                    MetaSampler(meta_model=load_meta_model("knn", "classification"), seed=0),
                    served):
        assert _tune(sampler) == []
    for name in ("tabrepo_lightgbm", "yahpo_lcbench"):  # one model, no task to choose
        assert _tune(MetaSampler(space=name, seed=0), name, 1, "classification") == []
