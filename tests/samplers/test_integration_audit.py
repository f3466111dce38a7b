"""MetaSampler in user studies: where it would fall back, or ignore its meta-model, while
the user believes it is used, the user is told (once) and the trials' ``metaopt:source``
says what served them."""

from __future__ import annotations

import functools
import warnings

import optuna
import pytest

from metaopt.ranker._shipped import shipped_space
from metaopt.samplers import MetaSampler

optuna.logging.set_verbosity(optuna.logging.WARNING)


def sources(study):
    return [t.system_attrs.get("metaopt:source", "") for t in study.trials]


def optimize(sampler, objective, n_trials, direction="maximize"):
    """The study and the warnings its trials gave."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        study = optuna.create_study(direction=direction, sampler=sampler)
        study.optimize(objective, n_trials=n_trials)
    return study, [str(w.message) for w in caught]


def sampling(space, task):
    """The objective of docs/sampler.md: the space's parameters, by its own names."""
    def objective(trial):
        params = space.sample(trial, task)
        return sum(hash(str(v)) % 97 for v in params.values()) / 1000.0
    return objective


@pytest.mark.parametrize("name", ["svm", "linear"])
def test_a_regression_dataset_read_as_classes_names_the_regression_parameter(name,
                                                                              shared_data):
    """pmlb's 1027_ESL is a regression table whose y holds 9 whole values: read as
    classes, the classification meta-model served, and the objective's ``epsilon`` /
    ``alpha`` (regression's only) went to the fallback without a word."""
    from metaopt.data import LocalSource

    data = LocalSource(shared_data / "pmlb").load("1027_ESL", "regression")
    sampler = MetaSampler(space=name, dataset=(data.X, data.y), seed=0)
    study, caught = optimize(sampler, sampling(shipped_space(name), "regression"), 3)
    assert sampler._task == "classification"  # as documented: pass task= to override
    parameter = {"svm": "epsilon", "linear": "alpha"}[name]
    told = [m for m in caught if f"asks for {parameter!r}" in m]
    assert len(told) == 1, caught
    assert "serves the classification meta-model (task from dataset's y, read as " \
        "classes)" in told[0] and "Pass task='regression'" in told[0]
    # with task="regression", the regression model serves it, without a word
    sampler = MetaSampler(space=name, dataset=(data.X, data.y), task="regression", seed=0)
    study, caught = optimize(sampler, sampling(shipped_space(name), "regression"), 3)
    assert caught == [] and sampler._task == "regression"
    assert all(s.startswith("portfolio pick") for s in sources(study)), sources(study)


def test_a_given_task_that_the_objective_contradicts_is_named_once():
    sampler = MetaSampler(space="svm", task="classification", seed=0)
    study, caught = optimize(sampler, sampling(shipped_space("svm"), "regression"), 4)
    assert len(caught) == 1 and "task from task='classification'" in caught[0], caught


def svm_typo(trial, name="c"):
    c = trial.suggest_float(name, 1e-3, 1e3, log=True)  # the space's is "C"
    kernel = trial.suggest_categorical("kernel", ["linear", "rbf", "poly", "sigmoid"])
    if kernel != "linear":
        trial.suggest_float("gamma", 1e-4, 10.0, log=True)
    return c


def knn_typo(trial):
    neighbours = trial.suggest_int("n_neighbours", 1, 50)  # the space's is "n_neighbors"
    trial.suggest_categorical("weights", ["uniform", "distance"])
    return neighbours + trial.suggest_int("p", 1, 2)


@pytest.mark.parametrize(("space", "objective", "typo", "name"),
                         [("svm", svm_typo, "c", "C"),
                          ("svm", functools.partial(svm_typo, name="svc_C"), "svc_C", "C"),
                          ("knn", knn_typo, "n_neighbours", "n_neighbors"),
                          (None, svm_typo, "c", "C")])
def test_a_typod_parameter_name_is_named_once_with_the_spaces(space, objective, typo, name):
    """The objective asked for "c" (or "n_neighbours"): its values were the fallback's,
    the meta-model read "C" at its default, and every trial was labelled a portfolio pick
    or the ranker's, without a word."""
    study, caught = optimize(MetaSampler(space=space, task="classification", seed=0),
                             objective, 6)
    told = [m for m in caught if "a typo?" in m]
    assert len(told) == 1, caught
    assert (f"asks for {typo!r}, which space {space or 'svm'!r} does not have, and never "
            f"for its {name!r}") in told[0]
    assert f"{typo!r} goes to the fallback" in told[0]
    assert len(caught) == 1, caught


def test_a_parameter_the_objective_sets_itself_without_a_look_alike_is_not_warned_about():
    """As documented: the objective sets the kernel itself (MetaMLP's search never asks
    for max_epochs); the configurations read it at the space's default."""
    def fixed(trial):
        return trial.suggest_float("C", 1e-3, 1e3, log=True) * trial.suggest_float(
            "gamma", 1e-4, 10.0, log=True)

    study, caught = optimize(MetaSampler(space="svm", task="classification", seed=0), fixed, 6)
    assert caught == []
    assert all(s.startswith(("portfolio pick", "ranker", "random untried"))
               for s in sources(study)), sources(study)


def test_parameters_of_the_space_by_its_names_and_an_extra_one_are_not_warned_about():
    """An extra parameter goes to the fallback as documented, and gamma asked in the rbf
    branch only (the docs' objective) is no parameter the objective sets itself."""
    def extra(trial):
        params = shipped_space("svm").sample(trial, "classification")
        return params["C"] * (trial.suggest_categorical("class_weight", ["none", "balanced"])
                              == "none")

    study, caught = optimize(MetaSampler(space="svm", task="classification", seed=0), extra, 8)
    assert caught == []
    assert all(s.startswith(("portfolio pick", "ranker", "random untried"))
               for s in sources(study)), sources(study)


def test_trials_after_the_candidates_run_out_are_labelled_as_the_fallbacks():
    """A narrow objective (8 configurations): once every one was taken, the trials went
    to the fallback without a metaopt:source, where the others say why they ran."""
    def narrow(trial):
        n = trial.suggest_int("n_neighbors", 1, 2)
        trial.suggest_categorical("weights", ["uniform", "distance"])
        return n + trial.suggest_int("p", 1, 2)

    study, caught = optimize(MetaSampler(space="knn", task="classification", seed=0),
                             narrow, 10)
    assert caught == []
    assert len({tuple(sorted(t.params.items())) for t in study.trials[:8]}) == 8
    assert all(s.startswith(("portfolio pick", "ranker", "random untried"))
               for s in sources(study)[:8]), sources(study)
    assert all(s.startswith("fallback: every configuration") for s in sources(study)[8:]), \
        sources(study)


@pytest.mark.parametrize(("name", "ignored"), [("yahpo_lcbench", True),
                                                ("yahpo_rbv2_xgboost", True),
                                                ("tabrepo_lightgbm", False), ("svm", False)])
def test_a_meta_model_trained_without_meta_features_says_it_ignores_the_dataset(
        name, ignored, shared_data):
    """The YAHPO models learned no meta-feature (every one was flat over YAHPO's
    instances): MetaSampler(dataset=...) computed the data's and proposed exactly what it
    proposes without them, without a word."""
    from metaopt import metafeatures
    from metaopt.data import LocalSource

    data = LocalSource(shared_data / "pmlb").load("breast_w", "classification")
    mf = metafeatures.compute_dataset(data)
    for given in ({"dataset": (data.X, data.y)}, {"meta_features": mf}):
        sampler = MetaSampler(space=name, seed=0, **given)
        study, caught = optimize(sampler, sampling(shipped_space(name), "classification"), 2)
        told = [m for m in caught if "trained on datasets without meta-features" in m]
        assert len(told) == ignored, caught
        if ignored:
            assert f"{next(iter(given))}= changes none of its proposals" in told[0]
        assert all(s.startswith("portfolio pick") for s in sources(study)), sources(study)


@pytest.mark.parametrize("name", ["yahpo_lcbench", "yahpo_rbv2_xgboost"])
def test_a_space_of_classification_only_refuses_a_regression_study_at_construction(name):
    """MetaSampler(space="yahpo_lcbench", task="regression") was made, and every trial
    then failed at its first proposal ("task must be one of ('classification',)")."""
    with pytest.raises(ValueError, match=f"space '{name}' has a meta-model of classification "
                                         r"only; this study is regression \(from "
                                         r"task='regression'\)"):
        MetaSampler(space=name, task="regression")
    MetaSampler(space=name, task="classification")
    MetaSampler(space="tabrepo_lightgbm", task="regression")  # trained on both


MODELS = [(name, task) for name in ("extra_trees", "hist_gradient_boosting", "knn", "linear",
                                    "mlp", "random_forest", "svm", "all")
          for task in ("classification", "regression")] + [
    ("tabrepo_lightgbm", "classification"), ("yahpo_lcbench", "classification"),
    ("yahpo_rbv2_xgboost", "classification")]
MODEL_SOURCES = ("portfolio pick", "ranker adapted", "random untried")


@pytest.mark.parametrize(("name", "task"), MODELS)
def test_every_shipped_model_serves_a_study_asking_for_its_space(name, task):
    """The docs' objective (the space's sample) under space=name: the portfolio's 3 picks,
    then the ranker's; and under space=None: the meta-model from the second trial on."""
    objective = sampling(shipped_space(name), task)
    study, caught = optimize(MetaSampler(space=name, task=task, seed=0), objective, 5,
                             direction="minimize")
    assert caught == []
    got = sources(study)
    assert [s.split(":")[0] for s in got[:3]] == [f"portfolio pick {i}" for i in (1, 2, 3)]
    assert got[3].startswith("ranker adapted on 3 evaluation"), got
    study, caught = optimize(MetaSampler(task=task, seed=0), objective, 4)
    assert all(s.startswith(MODEL_SOURCES) for s in sources(study)[1:]), (sources(study),
                                                                          caught)


def test_failed_pruned_and_enqueued_trials_keep_the_meta_model_serving():
    space = shipped_space("svm")

    def objective(trial):
        params = space.sample(trial, "classification")
        if trial.number == 2:
            raise RuntimeError("a fit that fails")
        trial.report(params["C"], 0)
        if trial.number == 3:
            raise optuna.TrialPruned()
        return params["C"]

    sampler = MetaSampler(space="svm", task="classification", seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        study = optuna.create_study(direction="minimize", sampler=sampler)
        study.enqueue_trial({"C": 2.0, "kernel": "linear"})
        study.optimize(objective, n_trials=7, catch=(RuntimeError,))
    got = sources(study)
    assert got[0] == "" and study.trials[0].params == {"C": 2.0, "kernel": "linear"}
    # the enqueued trial counts toward the warm start's 3 (docs: n_warmup)
    assert [s.split(":")[0] for s in got[1:3]] == ["portfolio pick 1", "portfolio pick 2"]
    # the ranker learns from the completed and pruned ones, never from the failed one
    assert got[3].startswith("ranker adapted on 2 evaluation(s):"), got  # trials 0 and 1
    assert got[4].startswith("ranker adapted on 3 evaluation(s):"), got  # and pruned 3
    assert all(s.startswith(MODEL_SOURCES) for s in got[5:]), got
    assert len({tuple(sorted(t.params.items())) for t in study.trials}) == 7


def test_two_workers_on_one_sqlite_storage_share_the_warm_start(tmp_path):
    """Two samplers (as two processes) on one SQLite study, trials in parallel: no
    configuration runs twice, and the portfolio's picks 1-3 each run once before the
    ranker proposes. (1 run in 8 skipped pick 3: both trials of a clash over it moved on,
    each counting the other's claim, and the ranker proposed on 0 evaluations; then 1 run
    in 6 ran picks 2, 3 and 5: a trial never took back the pick it lost, though the
    other trial of the clash had left it too.)"""
    import threading
    import time

    url = f"sqlite:///{tmp_path / 'study.db'}"
    optuna.create_study(storage=url, study_name="s", direction="maximize")
    space = shipped_space("knn")

    def objective(trial):
        params = space.sample(trial, "classification")
        time.sleep(0.05)
        return float(params["n_neighbors"])

    def worker():
        study = optuna.load_study(study_name="s", storage=url,
                                  sampler=MetaSampler(space="knn", seed=0))
        study.optimize(objective, n_trials=3)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    study = optuna.load_study(study_name="s", storage=url)
    got = sorted(s.split(":")[0] for s in sources(study))
    assert got[:3] == ["portfolio pick 1", "portfolio pick 2", "portfolio pick 3"], got
    # (a clash both workers moved on from gives the warm start one more pick, at worst)
    assert all(s.startswith(("portfolio pick 4", "ranker", "random untried"))
               for s in got[3:]), got
    # the ranker adapts on the evaluations of the warm start (it proposed on none)
    ranker = [s for s in got if s.startswith("ranker adapted on")]
    assert all(int(s.split()[3]) >= 1 for s in ranker), got
    assert len({tuple(sorted(t.params.items())) for t in study.trials}) == 6


def test_a_lost_clash_does_not_use_up_the_warm_start(monkeypatch):
    """A trial lost a clash over portfolio pick 3 (it saw another trial's claim of it
    after writing its own): the configuration it lost counted as seen, so the warm start
    was over after 2 evaluations and the trial took the ranker's proposal (with two
    workers on one SQLite file, a pick was never run and a trial was proposed by the
    ranker on 0 evaluations). The other trial (here one that never runs) still holds it:
    the trial takes pick 4."""
    import json

    clashes = iter([True])

    def clash(self, study, trial, params):
        if trial.number != 2 or not next(clashes, False):
            return False
        other = study._storage.create_new_trial(study._study_id)
        study._storage.set_trial_system_attr(other, "metaopt:config", json.dumps(params))
        return True

    monkeypatch.setattr(MetaSampler, "_clashes", clash)
    monkeypatch.setattr("metaopt.samplers._meta_sampler.time.sleep", lambda seconds: None)
    study, caught = optimize(MetaSampler(space="knn", seed=0),
                             sampling(shipped_space("knn"), "classification"), 4)
    ran = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    got = [t.system_attrs["metaopt:source"].split(":")[0] for t in ran]
    assert got[:3] == ["portfolio pick 1", "portfolio pick 2", "portfolio pick 4"], got
    assert got[3].startswith("ranker adapted on 3 evaluation"), got
