"""MetaSampler on real TabRepo evaluations, and Optuna's own sampler test suites."""

from __future__ import annotations

import json
import multiprocessing
import sys
import warnings

import numpy as np
import optuna
import pandas as pd
import pytest
from optuna.testing.pytest_samplers import BasicSamplerTestCase, RelativeSamplerTestCase

from metaopt.kb import TABREPO_SPACE
from metaopt.samplers import MetaSampler

optuna.logging.set_verbosity(optuna.logging.WARNING)


@pytest.fixture
def objective(tabrepo_matrix, split):
    """Real TabRepo error of the evaluated configuration nearest to the suggestion."""
    task = split[1][0]
    row = list(tabrepo_matrix.tasks.index).index(task)
    encoded = np.stack([TABREPO_SPACE.encode(p) for p in tabrepo_matrix.configs["params"]])
    scores = tabrepo_matrix.scores[row]

    def evaluate(trial: optuna.Trial) -> float:
        params = TABREPO_SPACE.sample(trial, "classification")
        nearest = np.argmin(np.linalg.norm(encoded - TABREPO_SPACE.encode(params), axis=1))
        return -float(scores[nearest])  # an error: minimise

    evaluate.best = -float(np.max(scores))
    return evaluate


def make_sampler(model, **kwargs):
    return MetaSampler(space="tabrepo_lightgbm", meta_model=model, seed=0, **kwargs)


def test_warm_start_then_ranker(small_meta_model, objective):
    study = optuna.create_study(sampler=make_sampler(small_meta_model))
    study.optimize(objective, n_trials=6)
    first = small_meta_model.portfolio.suggest(2, None)["params"].tolist()
    trials = study.trials
    assert [t.params for t in trials[:2]] == first
    sources = [t.system_attrs["metaopt:source"].split()[0] for t in trials]
    assert sources == ["portfolio"] * 2 + ["ranker"] * 3 + ["random"]
    keys = {str(sorted(t.params.items())) for t in trials}
    assert len(keys) == len(trials)  # never the same configuration twice


def test_same_seed_same_suggestions(small_meta_model, objective):
    runs = []
    for _ in range(2):
        study = optuna.create_study(sampler=make_sampler(small_meta_model))
        study.optimize(objective, n_trials=5)
        runs.append([t.params for t in study.trials])
    assert runs[0] == runs[1]


def test_maximize_and_minimize_agree(small_meta_model, objective):
    def negated(trial):
        return -objective(trial)

    mins = optuna.create_study(sampler=make_sampler(small_meta_model))
    mins.optimize(objective, n_trials=4)
    maxs = optuna.create_study(direction="maximize", sampler=make_sampler(small_meta_model))
    maxs.optimize(negated, n_trials=4)
    assert [t.params for t in mins.trials] == [t.params for t in maxs.trials]


def test_parallel_threads_take_distinct_configs(small_meta_model, objective):
    n_warmup = small_meta_model.n_warmup
    study = optuna.create_study(sampler=make_sampler(small_meta_model, n_warmup=4))
    study.optimize(objective, n_trials=6, n_jobs=2)
    keys = [str(sorted(t.params.items())) for t in study.trials]
    assert len(set(keys)) == len(keys)
    assert small_meta_model.n_warmup == n_warmup  # n_warmup= sets the sampler's own copy


def test_enqueued_and_failed_trials(small_meta_model, objective):
    study = optuna.create_study(sampler=make_sampler(small_meta_model))
    study.enqueue_trial(TABREPO_SPACE.default("classification"))

    def flaky(trial):
        if trial.number == 1:
            raise RuntimeError("boom")
        return objective(trial)

    study.optimize(flaky, n_trials=5, catch=(RuntimeError,))
    assert study.trials[0].params == TABREPO_SPACE.default("classification")
    assert "metaopt:source" not in study.trials[0].system_attrs  # the user's, not claimed
    assert study.trials[1].state == optuna.trial.TrialState.FAIL
    assert sum(t.state == optuna.trial.TrialState.COMPLETE for t in study.trials) == 4
    # the enqueued trial counts as seen: the warm start goes on with fresh picks
    keys = [str(sorted(t.params.items())) for t in study.trials if t.state.is_finished()]
    assert len(set(keys)) == len(keys)


def test_a_failed_enqueued_configuration_is_not_proposed_again(small_meta_model, objective):
    """The first portfolio pick, enqueued by the user, crashes: the sampler (which claims
    only its own trials) used to propose it again as its first pick, and it failed twice."""
    study = optuna.create_study(sampler=make_sampler(small_meta_model))
    first = small_meta_model.portfolio.suggest(1, None)["params"][0]
    study.enqueue_trial(first)

    def crashes_on_first(trial):
        value = objective(trial)
        if trial.params == first:
            raise RuntimeError("this configuration crashes on this data")
        return value

    study.optimize(crashes_on_first, n_trials=3, catch=(RuntimeError,))
    states = [t.state for t in study.trials]
    assert states == [optuna.trial.TrialState.FAIL] + [optuna.trial.TrialState.COMPLETE] * 2


def test_a_running_enqueued_configuration_is_taken(small_meta_model):
    """One worker runs the enqueued first portfolio pick while another asks: the
    sampler saw the enqueued trial only once finished and claimed the same pick."""
    study = optuna.create_study(sampler=make_sampler(small_meta_model))
    first = small_meta_model.portfolio.suggest(1, None)["params"][0]
    study.enqueue_trial(first)
    running, other = study.ask(), study.ask()
    assert TABREPO_SPACE.sample(running, "classification") == first
    assert TABREPO_SPACE.sample(other, "classification") != first
    # one that leaves parameters open runs another configuration: it takes none
    study = optuna.create_study(sampler=make_sampler(small_meta_model))
    study.enqueue_trial({name: first[name] for name in list(first)[:2]})
    study.ask()
    assert TABREPO_SPACE.sample(study.ask(), "classification") == first


def test_an_interrupted_trial_is_taken_in_its_run_and_free_in_the_next(small_meta_model,
                                                                         objective):
    """Ctrl-C fails the trial running the first portfolio pick. It counted as taken for
    good, so a resumed study never ran that configuration; marked interrupted, a later
    sampler (a resumed run) proposes it again, while the run that stopped it does not."""
    from metaopt.samplers import mark_interrupted

    study = optuna.create_study(sampler=make_sampler(small_meta_model))
    first = small_meta_model.portfolio.suggest(1, None)["params"][0]

    def stopped_by_ctrl_c(trial):
        objective(trial)
        mark_interrupted(study, trial)
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        study.optimize(stopped_by_ctrl_c, n_trials=1)
    assert study.trials[0].params == first
    assert study.trials[0].state == optuna.trial.TrialState.FAIL
    study.optimize(objective, n_trials=1)  # the same run: still taken
    assert study.trials[1].params != first
    resumed = optuna.load_study(study_name=study.study_name, storage=study._storage,
                                sampler=make_sampler(small_meta_model))
    resumed.optimize(objective, n_trials=1)
    assert resumed.trials[2].params == first
    # a copy of the mark (Optuna's retry of a trial copies its attributes) marks nothing
    copy = optuna.trial.create_trial(
        state=optuna.trial.TrialState.FAIL, params=first,
        distributions=study.trials[0].distributions,
        system_attrs={k: study.trials[0].system_attrs[k]
                      for k in ("metaopt:interrupted", "metaopt:config")})
    copied = optuna.create_study()
    copied.add_trials([study.trials[0], copy])
    copied.sampler = make_sampler(small_meta_model)
    copied.optimize(objective, n_trials=1)
    assert copied.trials[2].params != first
    # unmarked, a failure is the configuration's own: never proposed again
    unmarked = optuna.create_study(sampler=make_sampler(small_meta_model))
    unmarked.optimize(lambda t: objective(t) / 0, n_trials=1, catch=(ZeroDivisionError,))
    again = optuna.load_study(study_name=unmarked.study_name, storage=unmarked._storage,
                              sampler=make_sampler(small_meta_model))
    again.optimize(objective, n_trials=1)
    assert again.trials[1].params != first


def test_hyperband_brackets_do_not_hide_trials(small_meta_model, objective):
    """Optuna's HyperbandPruner shows a sampler one bracket's trials; MetaSampler still
    learns from every trial and never proposes a configuration twice."""
    study = optuna.create_study(sampler=make_sampler(small_meta_model),
                                pruner=optuna.pruners.HyperbandPruner(1, 9, 3))

    def by_epoch(trial):
        value = objective(trial)
        for epoch in range(1, 10):
            trial.report(value, epoch)
            if trial.should_prune():
                raise optuna.TrialPruned()
        return value

    study.optimize(by_epoch, n_trials=8)
    keys = [str(sorted(t.params.items())) for t in study.trials]
    assert len(set(keys)) == len(keys)
    n_warmup = small_meta_model.n_warmup
    source = study.trials[n_warmup].system_attrs["metaopt:source"]
    assert source.startswith(f"ranker adapted on {n_warmup} evaluation"), source


def test_pruned_trials_count_with_their_last_value(small_meta_model, objective):
    """Enqueued trials that a pruner stopped still teach the ranker (last reported value)."""
    study = optuna.create_study(sampler=make_sampler(small_meta_model))
    n_warmup = small_meta_model.n_warmup
    for i in range(n_warmup):
        study.enqueue_trial({**TABREPO_SPACE.default("classification"), "num_leaves": 20 + i})

    def pruned_early(trial):
        value = objective(trial)
        if trial.number < n_warmup:
            trial.report(value, step=1)
            raise optuna.TrialPruned()
        return value

    study.optimize(pruned_early, n_trials=n_warmup + 1)
    assert [t.state for t in study.trials[:n_warmup]] == [optuna.trial.TrialState.PRUNED] * n_warmup
    source = study.trials[n_warmup].system_attrs["metaopt:source"]
    assert source.startswith(f"ranker adapted on {n_warmup} evaluation"), source


def test_a_trial_pruned_after_a_nan_keeps_its_claim(small_meta_model, objective):
    """A trial pruned after reporting NaN (a diverged fit) was neither an observation nor
    a claim: every later trial chose its configuration again, clashed with it and, after
    5 such trials, went whole to the fallback."""
    study = optuna.create_study(sampler=make_sampler(small_meta_model))

    def diverging(trial):
        value = objective(trial)
        if trial.number < 6:
            trial.report(float("nan"), step=1)
            raise optuna.TrialPruned()
        return value

    study.optimize(diverging, n_trials=7)
    sources = [t.system_attrs["metaopt:source"] for t in study.trials]
    assert not [s for s in sources if "clashed" in s], sources
    assert len({str(sorted(t.params.items())) for t in study.trials}) == 7


def test_worst_value_bounds_what_the_ranker_sees(small_meta_model, objective):
    """A diverging evaluation (error 1e29) steers the ranker like one at ``worst_value``
    would; the study keeps the real value. Without the bound the proposals change."""
    first = small_meta_model.portfolio.suggest(1, None)["params"].iloc[0]

    def run(first_value, **kwargs):
        def evaluate(trial):
            value = objective(trial)
            return first_value if trial.number == 0 else value

        study = optuna.create_study(sampler=make_sampler(small_meta_model, **kwargs))
        study.enqueue_trial(first)
        study.optimize(evaluate, n_trials=8)
        return study

    diverged = run(1e29, worst_value=1.0)
    assert diverged.trials[0].value == 1e29
    at_bound = [t.params for t in run(1.0).trials]
    assert [t.params for t in diverged.trials] == at_bound
    # an infinite error is worse than the bound too: it was left out, as if not evaluated
    assert [t.params for t in run(float("inf"), worst_value=1.0).trials] == at_bound
    assert [t.params for t in run(1e29).trials] != at_bound
    with pytest.raises(ValueError, match="worst_value must be a finite number"):
        MetaSampler(space="tabrepo_lightgbm", worst_value=float("nan"))


def test_no_overlap_falls_back(small_meta_model):
    """The warnings name the user's study.optimize line (they named Optuna's, which
    called the sampler)."""
    sampler = MetaSampler(seed=0)  # space inferred
    study = optuna.create_study(sampler=sampler)
    with pytest.warns(UserWarning, match=r"match no shipped meta-model .*get_space\(name\)") as said:
        study.optimize(lambda t: (t.suggest_float("x", -3, 3) - 1) ** 2, n_trials=15)
    assert study.best_value < 1.0
    assert {w.filename for w in said if "MetaSampler" in str(w.message)} == {__file__}
    # a model's own space is not inferred: the objective is found not to use it
    study = optuna.create_study(sampler=MetaSampler(meta_model=small_meta_model, seed=0))
    with pytest.warns(UserWarning, match=r"objective's parameters \['x'\] are none of") as said:
        study.optimize(lambda t: (t.suggest_float("x", -3, 3) - 1) ** 2, n_trials=15)
    assert study.best_value < 1.0
    assert {w.filename for w in said if "objective's parameters" in str(w.message)} == {__file__}


def test_the_space_of_a_given_model_is_not_inferred():
    """MetaSampler(meta_model=<a model of one space>) without space inferred the space
    from the shipped models: the first trial went to the fallback, and an extra_trees
    model warned "match the shipped meta-models ['extra_trees', 'random_forest']
    equally ... pass space= to choose"."""
    from metaopt.ranker import load_meta_model
    from metaopt.spaces import get_space

    model, space = load_meta_model("extra_trees", "classification"), get_space("extra_trees")
    study = optuna.create_study(direction="maximize", sampler=MetaSampler(
        meta_model=model, task="classification", seed=0))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        study.optimize(lambda t: (space.sample(t, "classification"), 0.5)[1], n_trials=2)
    first = model.portfolio.suggest(2, None)["params"].tolist()
    assert [t.system_attrs["metaopt:source"].split(":")[0] for t in study.trials] == [
        "portfolio pick 1", "portfolio pick 2"]
    assert [json.loads(t.system_attrs["metaopt:config"]) for t in study.trials] == first


def test_a_named_space_the_objective_does_not_use_falls_back(small_meta_model):
    """The objective tunes ``x`` only: after the first trial the sampler says so and
    hands every trial to the fallback, instead of labelling them portfolio picks. The
    warning says how to name the parameters (it said only that they were none of the
    space's, so an objective's ``svc_C`` looked like a bug of the sampler)."""
    study = optuna.create_study(sampler=make_sampler(small_meta_model))
    with pytest.warns(UserWarning, match=r"objective's parameters \['x'\] are none of .*"
                      r"get_space\('tabrepo_lightgbm'\)\.sample\(trial, task\)"):
        study.optimize(lambda t: (t.suggest_float("x", -3, 3) - 1) ** 2, n_trials=15)
    assert all("metaopt:source" not in t.system_attrs for t in study.trials[1:])
    assert study.best_value < 1.0


def test_bad_arguments_fail_at_construction():
    with pytest.raises(ValueError, match="unknown search space 'nonexistent'"):
        MetaSampler(space="nonexistent")
    with pytest.raises(ValueError, match="task must be one of"):
        MetaSampler(space="random_forest", task="clasification")
    with pytest.raises(TypeError, match="meta_features must be a pandas Series"):
        MetaSampler(space="random_forest", meta_features=[100.0])  # a dict is read
    with pytest.warns(UserWarning, match="none of the names"):
        MetaSampler(space="random_forest", meta_features=pd.Series({"rows": 100.0}))
    # MetaModel refuses these; the sampler set them on its copy unchecked (-1 shifted the
    # interleaved random proposals, 2.5 gave 3 portfolio picks, "3" failed in trial 0)
    for n_warmup in (-1, 2.5, "3"):
        with pytest.raises(ValueError, match="n_warmup must be an integer >= 0"):
            MetaSampler(space="random_forest", n_warmup=n_warmup)
    # accepted before, then every trial failed ("before_trial() missing 1 required
    # positional argument" for the class)
    with pytest.raises(TypeError, match="got the class RandomSampler"):
        MetaSampler(space="random_forest", fallback=optuna.samplers.RandomSampler)
    with pytest.raises(TypeError, match="fallback must be an Optuna sampler instance"):
        MetaSampler(space="random_forest", fallback="tpe")
    # with a fallback of the user's, a RandomState seed was accepted and failed after the
    # warm start ('unsupported operand type(s) for *'), -1 and 1.5 in trial 0 (numpy's
    # 'expected non-negative integer' / 'SeedSequence expects int')
    for seed in (np.random.RandomState(0), -1, 1.5, 2**32):
        with pytest.raises(ValueError, match="seed must be None or an int in"):
            MetaSampler(space="random_forest", seed=seed,
                        fallback=optuna.samplers.RandomSampler(seed=0))
    # inf and True were accepted (True as 1 s), "10" failed with "'>' not supported"
    for time_budget, shown in ((0, "0"), (float("inf"), "inf"), (True, "True"), ("10", "'10'")):
        with pytest.raises(ValueError, match=r"^time_budget must be a finite number of seconds "
                                             rf"> 0 or None, got {shown}$"):
            MetaSampler(space="random_forest", time_budget=time_budget)


def test_meta_model_as_a_path(tmp_path, small_meta_model, objective):
    """A pathlib.Path was kept unloaded: the first trial failed with "'PosixPath' object
    has no attribute 'handoff_after'". A wrong path or type now fails at construction."""
    model_dir = small_meta_model.save(tmp_path / "model")
    study = optuna.create_study(sampler=make_sampler(model_dir))
    study.optimize(objective, n_trials=2)
    first = small_meta_model.portfolio.suggest(2, None)["params"].tolist()
    assert [t.params for t in study.trials] == first
    with pytest.raises(ValueError, match="meta-model directory .* does not exist"):
        make_sampler(tmp_path / "missing")
    with pytest.raises(TypeError, match="meta_model must be a MetaModel or the directory"):
        make_sampler(42)


def test_a_meta_model_of_the_other_task_type_is_refused(pmlb_root):
    """A model trained on regression datasets only, in a classification search: its
    portfolio's picks (alpha for a ridge) were replaced by the fallback's C under the
    reason 'portfolio pick 1', and its ranker adapted to accuracies. ``metaopt.suggest``
    refused it; MetaSampler and MetaOptClassifier now do too."""
    from metaopt.estimators import MetaOptClassifier
    from metaopt.ranker import load_meta_model

    df = pd.read_csv(pmlb_root / "1027_ESL" / "1027_ESL.tsv.gz", sep="\t")
    X, y = df.drop(columns="target"), df["target"]  # 9 whole values: read as classes
    ridge = load_meta_model("linear", "regression")
    message = "trained on regression datasets, this one is classification"
    with pytest.raises(ValueError, match=message):
        MetaSampler(space="linear", task="classification", meta_model=ridge)
    with pytest.raises(ValueError, match=message):
        MetaSampler(space="linear", dataset=(X, y), meta_model=ridge)
    with pytest.raises(ValueError, match=message):
        MetaOptClassifier(spaces="linear", meta_model=ridge, n_trials=2, cv=3).fit(X, y)
    MetaSampler(space="linear", dataset=(X, y), task="regression", meta_model=ridge)


def test_serve_task_sets_the_task_of_a_sampler_given_none():
    """``serve_task`` (used by the estimators, which know the task) makes a sampler of no
    task serve that task's meta-model, and refuses a sampler of another task or with a
    meta-model trained on none of its datasets."""
    from metaopt.ranker import load_meta_model
    from metaopt.samplers._meta_sampler import serve_task
    from metaopt.spaces import get_space

    space = get_space("linear")

    def task_served(sampler) -> set[str]:
        study = optuna.create_study(direction="maximize", sampler=sampler)
        study.optimize(lambda t: (space.sample(t, "regression"), 0.5)[1], n_trials=1)
        return set(sampler._model.portfolio.task_types_)

    assert task_served(MetaSampler(space="linear", seed=0)) == {"classification"}
    sampler = MetaSampler(space="linear", seed=0)
    serve_task(sampler, "regression")
    assert task_served(sampler) == {"regression"}
    serve_task(sampler, "regression")  # the same task again: nothing to refuse
    with pytest.raises(ValueError, match="MetaSampler of task='regression', this search "
                                         "is classification"):
        serve_task(sampler, "classification")
    with pytest.raises(ValueError, match="the sampler's meta_model was trained on regression"):
        serve_task(MetaSampler(space="linear", meta_model=load_meta_model(
            "linear", "regression")), "classification")


def test_meta_model_of_another_space_is_refused_and_a_combination_restricted():
    """``space`` was ignored when a ``meta_model`` was given: a model of another space (or
    an unknown space name) was taken silently, and an ``all`` model served "knn+linear"
    with its whole portfolio, so its first pick (extra trees) went to the fallback
    labelled "portfolio pick 1"."""
    import json

    from sklearn.datasets import load_breast_cancer

    from metaopt.ranker import load_meta_model
    from metaopt.spaces import get_space

    hgb = load_meta_model("hist_gradient_boosting", "classification")
    for space in ("svm", "nonexistent"):
        with pytest.raises(ValueError, match="trained on space 'hist_gradient_boosting', not"):
            MetaSampler(space=space, meta_model=hgb)
    # the estimators have no space= (MetaOptClassifier: spaces=, MetaMLPClassifier: none),
    # and the message told them to "pass space='hist_gradient_boosting' (or None)"
    from metaopt import MetaMLPClassifier, MetaOptClassifier

    X, y = np.random.default_rng(0).normal(size=(40, 3)), np.arange(40) % 2
    for estimator in (MetaOptClassifier(spaces="svm", meta_model=hgb, n_trials=1),
                      MetaMLPClassifier(meta_model=hgb, n_trials=1)):
        with pytest.raises(ValueError, match="search 'hist_gradient_boosting' with it or "
                                             "give a model of") as error:
            estimator.fit(X, y)
        assert "space=" not in str(error.value)
    # one family of a combined model: what to give instead (MetaOptClassifier(spaces="knn",
    # meta_model=<all>) said "pass space='all'", an argument the estimator does not have)
    with pytest.raises(ValueError, match=r"serves combinations of its families, not 'knn' "
                                         r"alone; give a model of 'knn'"):
        MetaSampler(space="knn", meta_model=load_meta_model("all", "classification"))
    X, y = load_breast_cancer(return_X_y=True)
    space = get_space("knn+linear")
    sampler = MetaSampler(space=space.name, dataset=(X, y), seed=0,
                          meta_model=load_meta_model("all", "classification"))
    study = optuna.create_study(direction="maximize", sampler=sampler)
    study.optimize(lambda t: (space.sample(t, "classification"), 0.5)[1], n_trials=3)
    claimed = [json.loads(t.system_attrs["metaopt:config"]) for t in study.trials]
    assert [c["space"] for c in claimed] == [t.params["space"] for t in study.trials]
    assert [t.system_attrs["metaopt:source"].split(":")[0] for t in study.trials] == [
        f"portfolio pick {i}" for i in (1, 2, 3)]
    # the same when the families are inferred from the objective's "space" parameter
    inferred = MetaSampler(dataset=(X, y), seed=0,
                           meta_model=load_meta_model("all", "classification"))
    again = optuna.create_study(direction="maximize", sampler=inferred)
    again.optimize(lambda t: (space.sample(t, "classification"), 0.5)[1], n_trials=3)
    claimed = [json.loads(t.system_attrs["metaopt:config"]) for t in again.trials]
    assert [c["space"] for c in claimed] == [t.params["space"] for t in again.trials]


def test_meta_features_lacking_some_names_still_reach_the_ranker():
    """The ranker refused a Series without every meta-feature, and the sampler read that
    as 'every candidate used': each trial after the warm start went silently to TPE."""
    from sklearn.datasets import load_iris

    from metaopt.metafeatures import compute

    features = compute(*load_iris(return_X_y=True, as_frame=True))
    with pytest.warns(UserWarning, match="lacks 3 of the names"):
        sampler = MetaSampler(space="svm", meta_features=features.iloc[3:],
                              task="classification", seed=0)
    study = optuna.create_study(direction="maximize", sampler=sampler)
    study.optimize(_svm_score, n_trials=5)
    sources = [t.system_attrs.get("metaopt:source", "fallback") for t in study.trials]
    assert [s.split()[0] for s in sources] == ["portfolio"] * 3 + ["ranker"] * 2


def test_task_from_meta_features():
    """Meta-features of a regression dataset without ``task`` got the classification
    model (svm@classification: its picks had no epsilon, which went to the fallback);
    the task is read from their is_classification now, and a contradicting one refused."""
    from sklearn.datasets import load_diabetes

    from metaopt.metafeatures import compute
    from metaopt.samplers._meta_sampler import _claim_of
    from metaopt.spaces import get_space

    features = compute(*load_diabetes(return_X_y=True), "regression")
    space = get_space("svm")
    sampler = MetaSampler(space="svm", meta_features=features, seed=0)
    study = optuna.create_study(direction="maximize", sampler=sampler)
    study.optimize(lambda t: (space.sample(t, "regression"), 0.5)[1], n_trials=2)
    assert all("epsilon" in _claim_of(t) for t in study.trials)
    with pytest.raises(ValueError, match="meta_features are of a regression dataset"):
        MetaSampler(space="svm", meta_features=features, task="classification")
    with pytest.raises(ValueError, match="meta_features are of a regression dataset"):
        MetaSampler(space="svm", meta_features=features.add_prefix("mf_"),
                    task="classification")


def test_meta_features_as_knowledge_base_columns_reach_the_ranker():
    """mf_-prefixed meta-features (a PerformanceMatrix row), which the meta-model takes,
    were warned about as holding no known name and completed with 30 NaN ones beside
    them: the first trial after the warm start failed ('operands could not be
    broadcast together with shapes (1,60) (30,)')."""
    import warnings

    from sklearn.datasets import load_iris

    from metaopt.metafeatures import compute

    features = compute(*load_iris(return_X_y=True, as_frame=True))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sampler = MetaSampler(space="svm", meta_features=features.add_prefix("mf_"),
                              task="classification", seed=0)
    study = optuna.create_study(direction="maximize", sampler=sampler)
    study.optimize(_svm_score, n_trials=5)
    sources = [t.system_attrs.get("metaopt:source", "fallback") for t in study.trials]
    assert [s.split()[0] for s in sources] == ["portfolio"] * 3 + ["ranker"] * 2
    bare = MetaSampler(space="svm", meta_features=features, task="classification", seed=0)
    other = optuna.create_study(direction="maximize", sampler=bare)
    other.optimize(_svm_score, n_trials=5)
    assert [t.params for t in other.trials] == [t.params for t in study.trials]


def test_unseen_categorical_choices_and_ranges(small_meta_model):
    def objective(trial):
        lr = trial.suggest_float("learning_rate", 0.5, 0.9)  # outside the model's range
        tree = trial.suggest_categorical("extra_trees", ["yes", "no", "maybe"])
        return lr + (tree == "maybe")

    study = optuna.create_study(sampler=make_sampler(small_meta_model))
    study.optimize(objective, n_trials=5)
    assert all(0.5 <= t.params["learning_rate"] <= 0.9 for t in study.trials)


def test_bad_dataset_shape():
    with pytest.raises(ValueError, match="different lengths"):
        MetaSampler(space="tabrepo_lightgbm", dataset=(np.ones((5, 2)), np.arange(4)))
    with pytest.raises(ValueError, match="dataset must be"):
        MetaSampler(space="tabrepo_lightgbm", dataset=np.ones((5, 2)))


def test_task_is_the_one_given_with_the_dataset(pmlb_root):
    """1028_SWD is regression, its target 4 whole values: task="regression" with
    dataset=(X, y) was ignored (the task inferred from y won), so the classification
    model's first pick (no epsilon) served an SVR study; now the regression model's."""
    from metaopt import suggest
    from metaopt.data import from_arrays
    from metaopt.spaces import get_space

    table = pd.read_csv(pmlb_root / "1028_SWD" / "1028_SWD.tsv.gz", sep="\t")
    X, y = table.drop(columns="target"), table["target"]
    space = get_space("svm")
    sampler = MetaSampler(space="svm", dataset=(X, y), task="regression", seed=0)
    study = optuna.create_study(direction="maximize", sampler=sampler)
    study.optimize(lambda t: (space.sample(t, "regression"), 0.0)[1], n_trials=1)
    first = suggest(X, y, space="svm", n=1, task="regression").params[0]
    assert study.trials[0].params == first and "epsilon" in first
    with pytest.raises(ValueError, match="task='regression', but the Dataset"):
        MetaSampler(space="svm", dataset=from_arrays(X, y), task="regression")


def test_the_data_is_dropped_once_its_meta_features_are_computed(pmlb_root):
    """dataset=(X, y): the sampler held a validated copy of the data for as long as it
    lived (pickled with it, 17 MB for 200,000 x 20), though it needs only the meta-features;
    a second study (a new warm start) still uses them."""
    import pickle

    from metaopt.spaces import get_space

    table = pd.read_csv(pmlb_root / "churn" / "churn.tsv.gz", sep="\t")
    X, y = table.drop(columns="target"), table["target"]
    space = get_space("linear")
    sampler = MetaSampler(space="linear", dataset=(X, y), seed=0)
    assert len(pickle.dumps(sampler)) > 700_000  # the data (800 kB), until the first proposal
    params = []
    for _ in range(2):
        study = optuna.create_study(direction="maximize", sampler=sampler)
        study.optimize(lambda t: (space.sample(t, "classification"), 0.0)[1], n_trials=1)
        params.append(study.trials[0].params)
        assert len(pickle.dumps(sampler)) < 500_000  # the meta-model, not the data
    assert params[0] == params[1]  # both studies start from the same portfolio pick
    assert study.trials[0].system_attrs["metaopt:source"].startswith("portfolio")


def _three_trials(model_dir: str, storage: str) -> None:
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    sampler = MetaSampler(space="tabrepo_lightgbm", meta_model=model_dir, n_warmup=6, seed=0)
    study = optuna.load_study(study_name="s", storage=storage, sampler=sampler)
    study.optimize(lambda t: TABREPO_SPACE.sample(t, "classification")["learning_rate"],
                   n_trials=3)


@pytest.mark.skipif(sys.platform == "win32", reason="a forked process")
def test_two_processes_on_sqlite_take_distinct_warm_starts(tmp_path, small_meta_model):
    model_dir = small_meta_model.save(tmp_path / "model")
    storage = f"sqlite:///{tmp_path / 'study.db'}"
    optuna.create_study(study_name="s", storage=storage)
    # forked: two processes sharing only the storage, without two Python starts and imports
    fork = multiprocessing.get_context("fork")
    procs = [fork.Process(target=_three_trials, args=(str(model_dir), storage))
             for _ in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=300)
    assert [p.exitcode for p in procs] == [0, 0]
    study = optuna.load_study(study_name="s", storage=storage)
    keys = [str(sorted(t.params.items())) for t in study.trials]
    assert len(keys) == 6 and len(set(keys)) == 6


def test_dead_storage_raises_clearly(small_meta_model, tmp_path):
    with pytest.raises(Exception, match="unable to open database|no such file|Errno"):
        optuna.create_study(storage=f"sqlite:///{tmp_path / 'missing' / 'x.db'}",
                            sampler=make_sampler(small_meta_model))


@pytest.fixture(scope="module")
def _model_for_suites(request):
    return request.getfixturevalue("small_meta_model")


class TestOptunaBasic(BasicSamplerTestCase):
    @pytest.fixture
    def sampler(self, small_meta_model):
        warnings.simplefilter("ignore", UserWarning)
        return lambda: make_sampler(small_meta_model)


class TestOptunaRelative(RelativeSamplerTestCase):
    @pytest.fixture
    def sampler(self, small_meta_model):
        return lambda: make_sampler(small_meta_model)


def test_ranker_refines_beyond_its_candidates(small_meta_model, objective):
    """With only the portfolio as candidates (n_random=0), the ranker keeps choosing
    among neighbours of the best trials instead of handing over to the fallback."""
    n = len(small_meta_model.portfolio.params_) + 4
    study = optuna.create_study(sampler=make_sampler(small_meta_model))
    study.optimize(objective, n_trials=n)
    sources = [t.system_attrs.get("metaopt:source", "fallback") for t in study.trials]
    assert all(s.startswith(("portfolio", "ranker", "random")) for s in sources), sources
    assert len({str(sorted(t.params.items())) for t in study.trials}) == n


def test_infers_the_shipped_yahpo_model_from_the_parameters(shared_data):
    from metaopt.kb import YahpoBenchmark

    bench = YahpoBenchmark("lcbench", shared_data / "yahpo", split="valid")
    instance = bench.instances[0]

    def objective(trial):
        params = bench.space.sample(trial, "classification")
        return float(bench.evaluate([params], instance)[bench.score_target].iloc[0])

    sampler = MetaSampler(seed=0)
    study = optuna.create_study(direction="maximize", sampler=sampler)
    study.optimize(objective, n_trials=5)
    assert sampler._space_name == "yahpo_lcbench"
    reasons = [t.system_attrs.get("metaopt:source", "") for t in study.trials[1:]]
    assert any("portfolio" in r for r in reasons), reasons


def test_an_ambiguous_inferred_space_is_named():
    """extra_trees and random_forest share every parameter: a forest objective without
    space= silently became extra_trees."""
    from metaopt.spaces import get_space

    def forest(trial):
        params = get_space("random_forest").sample(trial, "classification")
        return -abs(np.log(params["min_samples_leaf"]) - 1)

    study = optuna.create_study(direction="maximize", sampler=MetaSampler(seed=0))
    with pytest.warns(UserWarning, match=r"\['extra_trees', 'random_forest'\] equally; "
                                         r"using 'extra_trees': pass space= to choose"):
        study.optimize(forest, n_trials=3)


def _first_trial(sampler, objective):
    study = optuna.create_study(direction="maximize", sampler=sampler)
    study.optimize(objective, n_trials=1)
    return study.trials[0]


def test_the_first_trial_of_an_inferred_space_takes_its_warm_start():
    """MetaSampler() inferred the space once a trial had completed, so the first trial went
    whole to the fallback, though its first parameter (knn's n_neighbors) is no other
    shipped space's. A parameter several spaces hold (C: svm's and linear's) is the
    fallback's; the first one that tells them apart (kernel) and the rest take the pick."""
    from metaopt.spaces import get_space

    for name in ("knn", "mlp", "svm"):
        space = get_space(name)

        def objective(trial, space=space):
            space.sample(trial, "classification")
            return 0.5

        inferred = _first_trial(MetaSampler(seed=0), objective)
        named = _first_trial(MetaSampler(space=name, seed=0), objective)
        assert inferred.system_attrs["metaopt:source"].startswith("portfolio pick 1")
        pick = json.loads(named.system_attrs["metaopt:config"])
        claim = json.loads(inferred.system_attrs["metaopt:config"])
        assert claim == {n: v for n, v in pick.items() if not (name == "svm" and n == "C")}
        assert {n: inferred.params[n] for n in claim} == {n: named.params[n] for n in claim}


def test_a_failed_first_trial_of_an_inferred_space_stays_taken():
    """MetaSampler()'s first trial, warm-started from its second parameter (svm's kernel),
    claims the configuration without C (the fallback's). Failed, that partial claim was
    taken as it was: the ranker's next proposal refused it (ValueError: exclude[0] is not
    a valid svm configuration: ... 'C' is required)."""
    from metaopt.spaces import get_space

    space = get_space("svm")

    def fails_first(trial):
        space.sample(trial, "classification")
        if trial.number == 0:
            raise RuntimeError("boom")
        return 0.5

    study = optuna.create_study(sampler=MetaSampler(seed=0, n_warmup=1))
    study.optimize(fails_first, n_trials=3, catch=(RuntimeError,))
    assert [t.state for t in study.trials] == [optuna.trial.TrialState.FAIL] + [
        optuna.trial.TrialState.COMPLETE] * 2
    assert study.trials[1].system_attrs["metaopt:source"].startswith("ranker")
    assert len({str(sorted(t.params.items())) for t in study.trials}) == 3


def _knn_then_svm(trial):
    """An objective whose first parameter is knn's and whose next ones are svm's."""
    trial.suggest_int("n_neighbors", 1, 64, log=True)
    trial.suggest_float("C", 1e-3, 1e3, log=True)
    trial.suggest_categorical("kernel", ["rbf", "poly"])
    return 0.5


def test_a_first_trial_of_no_one_shipped_space_runs_on_the_fallback():
    """Parameters several shipped spaces hold (C alone: svm's and linear's) leave the first
    trial to the fallback; so does a later parameter of another space than the one
    guessed (knn's n_neighbors, then svm's C): the fallback sets the rest, the trial's
    claim is withdrawn, and the space is inferred once it has completed."""
    first = _first_trial(MetaSampler(seed=0), lambda t: -abs(t.suggest_float("C", 1e-3, 1e3)))
    assert first.state == optuna.trial.TrialState.COMPLETE
    assert not {"metaopt:config", "metaopt:source"} & set(first.system_attrs)

    sampler = MetaSampler(seed=0)
    study = optuna.create_study(direction="maximize", sampler=sampler)
    study.optimize(_knn_then_svm, n_trials=2)
    first, second = study.trials
    assert first.system_attrs["metaopt:config"] == "null"  # withdrawn
    assert first.system_attrs["metaopt:source"] == (
        "fallback: 'C' is no parameter of the guessed space 'knn'")
    assert sampler._space_name == "svm"
    assert second.system_attrs["metaopt:source"].startswith("portfolio pick 1")


def test_a_running_trial_of_the_guessed_space_does_not_stop_the_inferred_one():
    """MetaSampler() guessed knn's space from n_neighbors for two trials running together
    (``n_jobs``, or asked in a batch); the first completed with svm's C and kernel too,
    so svm's space was inferred while the second still held its knn claim. Once the
    ranker took over, the next trial failed: ValueError: exclude[0] is not a valid svm
    configuration: svm: unknown parameter(s) ['n_neighbors', ...] (seen in 1 of 20
    ``n_jobs=4`` runs of 30 trials). The running trial's knn claim is no svm
    configuration taken: the next trial gets the svm ranker's."""
    sampler = MetaSampler(seed=0, n_warmup=1)
    study = optuna.create_study(direction="maximize", sampler=sampler)
    first, second = study.ask(), study.ask()
    first.suggest_int("n_neighbors", 1, 64, log=True)
    second.suggest_int("n_neighbors", 1, 64, log=True)  # a knn claim, still running
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the tie of the guess's space
        first.suggest_float("C", 1e-3, 1e3, log=True)
        first.suggest_categorical("kernel", ["rbf", "poly"])
    study.tell(first, 0.5)
    third = study.ask()
    third.suggest_int("n_neighbors", 1, 64, log=True)
    assert sampler._space_name == "svm"
    source = study._storage.get_trial(third._trial_id).system_attrs["metaopt:source"]
    assert source.startswith("ranker"), source  # the svm model's, past its warm start


def test_a_thread_reading_the_trials_waits_for_the_inferred_space_to_load(monkeypatch):
    """MetaSampler() guessed knn's space for the first trial; once it completed, the svm
    space inferred for the study loads its model while another thread of the study reads
    the trials (to hand them off, ``handoff_after``, or for the estimators' time budget):
    that thread read them with no task (ValueError: knn: task must be one of
    ('classification', 'regression'), got None), and could keep what it read with the
    old model. It waits for the new model instead."""
    import threading

    from metaopt.samplers import _meta_sampler

    sampler = MetaSampler(seed=0)
    study = optuna.create_study(direction="maximize", sampler=sampler)
    study.optimize(_knn_then_svm, n_trials=1)
    assert sampler._space_name == "knn"  # the guess, still to settle
    loading, release = threading.Event(), threading.Event()
    shipped = _meta_sampler.shipped_model_for

    def slow_shipped(space, task):
        loading.set()
        release.wait(10)
        return shipped(space, task)

    monkeypatch.setattr(_meta_sampler, "shipped_model_for", slow_shipped)
    settling = threading.Thread(target=sampler._setup, args=(study,))
    settling.start()
    assert loading.wait(10)
    read = []
    reader = threading.Thread(target=lambda: read.append(sampler._observed(study)))
    reader.start()
    reader.join(0.5)
    release.set()
    settling.join(10)
    reader.join(10)
    assert sampler._space_name == "svm"
    (observed, claimed), = read
    assert [score for _, score in observed] == [0.5] and not claimed
    assert set(observed[0][0]) >= {"C", "kernel"}


def test_a_thread_sampling_its_trial_waits_for_the_task_switch(monkeypatch):
    """MetaSampler() guessed svm's space (classification model) for the first trials of
    an SVR objective; once one asked for epsilon, the next claim switched the study to
    the regression model, re-inferring its space. A thread sampling its own claimed trial
    meanwhile read the space as None and withdrew the claim ("fallback: 'kernel' is no
    parameter of the guessed space None"), mixing its values with the fallback's. It
    waits for the switch instead."""
    import threading

    sampler = MetaSampler(seed=0)
    study = optuna.create_study(direction="maximize", sampler=sampler)
    first, second = study.ask(), study.ask()
    first.suggest_float("C", 1e-3, 1e3, log=True)
    first.suggest_categorical("kernel", ["rbf", "poly", "sigmoid", "linear"])  # svm: guessed
    second.suggest_float("C", 1e-3, 1e3, log=True)  # claimed (classification model)
    first.suggest_float("epsilon", 1e-3, 1.0, log=True)  # regression only
    inferring, release = threading.Event(), threading.Event()
    infer = sampler._infer_space

    def slow_infer(study):
        inferring.set()
        release.wait(10)
        return infer(study)

    monkeypatch.setattr(sampler, "_infer_space", slow_infer)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the task switch's
        switching = threading.Thread(
            target=lambda: study.ask().suggest_float("C", 1e-3, 1e3, log=True))
        switching.start()
        assert inferring.wait(10)
        sampling = threading.Thread(target=lambda: second.suggest_categorical(
            "kernel", ["rbf", "poly", "sigmoid", "linear"]))
        sampling.start()
        sampling.join(0.5)
        release.set()
        switching.join(10)
        sampling.join(10)
    attrs = study._storage.get_trial(second._trial_id).system_attrs
    assert sampler._task == "regression" and sampler._space_name == "svm"
    assert attrs["metaopt:source"].startswith("portfolio pick")
    assert json.loads(attrs["metaopt:config"])["kernel"] == second.params["kernel"]


def test_infers_the_families_of_a_study_run_by_another_sampler():
    """A study whose trials chose among svm and knn through a "space" parameter, taken
    over by MetaSampler(space=None): inferring the space failed every later trial
    with KeyError: 'svm+knn'."""
    from metaopt.spaces import combine, get_space

    space = combine([get_space("svm"), get_space("knn")])

    def objective(trial):
        space.sample(trial, "classification")
        return 0.5

    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    study.optimize(objective, n_trials=3)
    study.sampler = MetaSampler(task="classification", seed=0)
    study.optimize(objective, n_trials=2)
    assert [t.state for t in study.trials] == [optuna.trial.TrialState.COMPLETE] * 5
    assert study.sampler._space_name == "svm+knn"


def test_ranker_proposes_after_the_warm_start_in_the_combined_space():
    """Every trial after the portfolio comes from the adapted ranker, not the fallback
    (a neighbour of an incumbent on a log-scale bound used to break the proposal)."""
    from sklearn.datasets import load_breast_cancer

    from metaopt.spaces import get_space

    X, y = load_breast_cancer(return_X_y=True)
    space = get_space("all")
    rng = np.random.default_rng(0)
    sampler = MetaSampler(space="all", dataset=(X, y), seed=0)
    study = optuna.create_study(direction="maximize", sampler=sampler)
    study.optimize(lambda t: (space.sample(t, "classification"), float(rng.random()))[1],
                   n_trials=8)
    sources = [t.system_attrs.get("metaopt:source", "fallback") for t in study.trials]
    assert all(s.startswith("portfolio") for s in sources[:3]), sources
    assert sources[6].startswith("random untried"), sources  # the 4th after the warm start
    assert all(s.startswith("ranker adapted") for s in sources[3:6] + sources[7:]), sources


def test_time_budget_keeps_proposals_within_the_time_left():
    """With ``time_budget`` and ``time_fraction=0.5``, the shipped model's cost model
    skips what would not finish in half the time left: on breast_cancer, 3 s skip the
    first portfolio pick, and after a first trial of 2 s (slower than predicted: the
    predictions are scaled up) and with less time left, more configurations are
    skipped."""
    import re
    import time

    from sklearn.datasets import load_breast_cancer

    from metaopt.ranker import load_meta_model
    from metaopt.spaces import get_space

    X, y = load_breast_cancer(return_X_y=True)
    space = get_space("all")

    model = load_meta_model("all", "classification")
    model.time_fraction = 0.5  # off by default

    def sources(time_budget, n_trials):
        sampler = MetaSampler(space="all", dataset=(X, y), seed=0, time_budget=time_budget,
                              meta_model=model)
        study = optuna.create_study(direction="maximize", sampler=sampler)
        # the first trial takes 2 s; the last one's proposal is all that is read of it
        study.optimize(lambda t: (space.sample(t, "classification"),
                                  time.sleep(2 if t.number < n_trials - 1 else 0), 0.5)[2],
                       n_trials=n_trials)
        return [t.system_attrs["metaopt:source"] for t in study.trials]

    assert sources(None, 1)[0].startswith("portfolio pick 1:")
    limited = sources(3.0, 2)
    assert not limited[0].startswith("portfolio pick 1:"), limited
    skipped = [int(re.search(r"(\d+) of \d+ skipped", s).group(1)) for s in limited]
    assert 0 < skipped[0] < skipped[1], limited
    with pytest.raises(ValueError, match="time_budget"):
        MetaSampler(space="all", time_budget=0)


def test_a_time_budget_overrun_proposes_with_no_time_left():
    """A study that outlives the sampler's time_budget gets proposals made with no time
    left (MetaModel.propose refuses a negative time_left): the quickest configuration."""
    import time

    from sklearn.datasets import load_breast_cancer

    from metaopt.ranker import load_meta_model
    from metaopt.spaces import get_space

    X, y = load_breast_cancer(return_X_y=True)
    space = get_space("knn")
    model = load_meta_model("knn", "classification")
    model.time_fraction = 0.5  # off by default
    sampler = MetaSampler(space="knn", dataset=(X, y), seed=0, time_budget=0.1,
                          meta_model=model)
    study = optuna.create_study(direction="maximize", sampler=sampler)
    study.optimize(lambda t: (space.sample(t, "classification"), time.sleep(0.2), 0.5)[2],
                   n_trials=2)
    assert study.trials[1].system_attrs["metaopt:source"].endswith("of the 0.0 s left")

def test_handoff_gives_later_trials_whole_to_grouped_tpe():
    """With ``handoff_after``, trials after the first n carry no metaopt claim: the
    fallback (grouped multivariate TPE) samples them, each family's parameters together."""
    import copy

    from sklearn.datasets import load_breast_cancer

    from metaopt.ranker import load_meta_model
    from metaopt.spaces import get_space

    X, y = load_breast_cancer(return_X_y=True)
    space = get_space("all")
    model = copy.copy(load_meta_model("all", "classification"))
    model.handoff_after = 5
    sampler = MetaSampler(space="all", dataset=(X, y), meta_model=model, seed=0)
    study = optuna.create_study(direction="maximize", sampler=sampler)
    rng = np.random.default_rng(0)
    study.optimize(lambda t: (space.sample(t, "classification"), float(rng.random()))[1],
                   n_trials=14)
    sources = [t.system_attrs.get("metaopt:source") for t in study.trials]
    assert all(s is not None for s in sources[:5]), sources
    assert all(s is None for s in sources[5:]), sources
    groups = sampler._fallback._group_decomposed_search_space.calculate(study).search_spaces
    assert len(groups) > 1  # TPE sees the families as separate groups
    for t in study.trials[5:]:  # complete configurations of the family TPE chose
        family = t.params["space"]
        assert all(k == "space" or k.startswith(f"{family}__") for k in t.params), t.params


def test_handoff_counts_the_claims_made_while_a_trial_started(pmlb_root):
    """A trial decided on the hand-off as it started and claimed its configuration later:
    trials of other threads (``n_jobs``) claiming meanwhile were not counted, so with
    ``handoff_after=2`` a third trial took a meta-learned configuration (``n_jobs=4``,
    ``handoff_after=6``: 7 or 8 of them in 6 of 15 runs). It counts them when it claims:
    it goes to the fallback."""
    import copy
    import threading

    from metaopt.data import LocalSource
    from metaopt.ranker import load_meta_model
    from metaopt.spaces import get_space

    ds = LocalSource(pmlb_root).load("heart_statlog")
    model = copy.copy(load_meta_model("svm", "classification"))
    model.handoff_after = 2
    sampler = MetaSampler(space="svm", dataset=(ds.X, ds.y), meta_model=model, seed=0)
    study = optuna.create_study(direction="maximize", sampler=sampler)
    decided, release = threading.Event(), threading.Event()
    hands_off = sampler._hands_off

    def slow_hands_off(study):
        off = hands_off(study)
        if threading.current_thread() is late:
            decided.set()
            release.wait(10)
        return off

    sampler._hands_off = slow_hands_off
    late_trial = study.ask()
    late = threading.Thread(target=get_space("svm").sample, args=(late_trial, "classification"))
    late.start()
    assert decided.wait(10)
    for _ in range(2):
        get_space("svm").sample(study.ask(), "classification")
    release.set()
    late.join(10)
    sources = [t.system_attrs.get("metaopt:source") for t in study.get_trials()]
    assert sources[1].startswith("portfolio pick 1") and sources[2].startswith("portfolio pick 2")
    assert sources[0] is None, sources  # the fallback's


def _svm_score(trial: optuna.Trial) -> float:
    """A cheap synthetic objective of the svm space (peak: rbf, C=10, gamma=0.01)."""
    from metaopt.spaces import get_space

    p = get_space("svm").sample(trial, "classification")
    score = -(np.log10(p["C"]) - 1) ** 2 - (np.log10(p.get("gamma", 0.01)) + 2) ** 2
    return score + {"rbf": 1.0, "poly": 0.5, "sigmoid": 0.0, "linear": 0.2}[p["kernel"]]


def test_narrowed_distributions_take_whole_configurations_inside_them():
    """An objective asking for narrower ranges and fewer choices than the space: the
    sampler used to claim configurations outside them, and the fallback replaced those
    values at random, so most trials mixed meta-learned and random values."""
    def narrowed(trial: optuna.Trial) -> float:
        kernel = trial.suggest_categorical("kernel", ["rbf", "linear"])
        c = trial.suggest_float("C", 1.0, 100.0, log=True)
        gamma = trial.suggest_float("gamma", 1e-3, 1e-1, log=True) if kernel == "rbf" else 0.01
        return -(np.log10(c) - 1) ** 2 - (np.log10(gamma) + 2) ** 2 + (kernel == "rbf")

    study = optuna.create_study(direction="maximize", sampler=MetaSampler(space="svm", seed=0))
    study.optimize(narrowed, n_trials=8)
    for t in study.trials[1:]:  # the first trial shows the sampler the distributions
        claim = json.loads(t.system_attrs["metaopt:config"])
        assert all(t.params[name] == claim[name] for name in t.params), (t.params, claim)


def test_trials_asked_in_a_batch_take_whole_configurations_inside_narrowed_ones():
    """Four trials asked at once with narrower distributions: only finished trials told
    the sampler what the objective asks for, so the fourth (the ranker's) claimed C=821
    and gamma=1.6, outside them, and ran the fallback's values instead."""
    from optuna.distributions import CategoricalDistribution, FloatDistribution

    asked = {"kernel": CategoricalDistribution(["rbf", "linear"]),
             "C": FloatDistribution(1.0, 100.0, log=True),
             "gamma": FloatDistribution(1e-3, 1e-1, log=True)}
    study = optuna.create_study(direction="maximize", sampler=MetaSampler(space="svm", seed=0))
    for trial in [study.ask(asked) for _ in range(4)][1:]:
        claim = json.loads(study._storage.get_trial(trial._trial_id).system_attrs["metaopt:config"])
        assert all(trial.params[name] == claim[name] for name in claim), (trial.params, claim)


def test_a_range_outside_the_space_goes_to_the_fallback_alone():
    """C asked above the space's [0.001, 1000] and kernel among choices the space lacks:
    no configuration was inside those, so after trial 0 every trial went whole to the
    fallback, silently; now only C and kernel do and the ranker learns from the rest."""
    def outside(trial: optuna.Trial) -> float:
        c = trial.suggest_float("C", 2000.0, 1e5, log=True)
        kernel = trial.suggest_categorical("kernel", ["rbf_custom", "laplacian"])
        gamma = trial.suggest_float("gamma", 1e-4, 10.0, log=True)
        return -(np.log10(gamma) + 2) ** 2 - np.log10(c) + (kernel == "laplacian")

    study = optuna.create_study(direction="maximize", sampler=MetaSampler(space="svm", seed=0))
    study.optimize(outside, n_trials=6)
    sources = [t.system_attrs.get("metaopt:source", "fallback") for t in study.trials]
    assert [s.split()[0] for s in sources] == ["portfolio"] * 3 + ["ranker"] * 3
    assert sources[4].startswith("ranker adapted on 4 evaluation"), sources[4]
    assert len({t.params["gamma"] for t in study.trials}) == 6


def test_a_value_is_fitted_to_a_distribution_only_inside_its_range():
    from optuna.distributions import FloatDistribution, IntDistribution

    from metaopt.samplers._meta_sampler import _OUTSIDE, _fitted

    assert _fitted(IntDistribution(1, 3), 2.6) == 3
    assert _fitted(IntDistribution(1, 3), 3.4) is _OUTSIDE  # int() made it 3
    assert _fitted(IntDistribution(1, 31, step=2), 4.0) in (3, 5)
    assert _fitted(FloatDistribution(0.5, 10.0, step=0.5), 1.2) == 1.0
    assert _fitted(FloatDistribution(0.5, 10.0, step=0.5), 0.3) is _OUTSIDE


def test_only_a_configuration_the_objective_ran_tells_which_parameters_it_skips():
    """A claimed rbf configuration whose kernel the fallback replaced by linear (outside
    the objective's choices) never reaches gamma: gamma is not a parameter the objective
    sets itself, so poly configurations differing in gamma must stay distinct."""
    from optuna.distributions import CategoricalDistribution, FloatDistribution

    from metaopt.samplers._meta_sampler import _offered

    dists = {"kernel": CategoricalDistribution(["linear", "poly"]),
             "C": FloatDistribution(0.5, 100.0, step=0.5)}

    def trial(claim, params, state=optuna.trial.TrialState.COMPLETE):
        return optuna.trial.create_trial(
            state=state, value=None if state != optuna.trial.TrialState.COMPLETE else 1.0,
            params=params, distributions={n: dists[n] for n in params},
            system_attrs={"metaopt:config": json.dumps(claim)})

    from metaopt.spaces import get_space

    own = {p.name: p.distribution for p in get_space("svm").params}
    replaced = trial({"kernel": "rbf", "C": 1.0, "gamma": 0.1}, {"kernel": "linear", "C": 1.0})
    assert _offered(replaced, own) == ()
    ran = trial({"kernel": "linear", "C": 1.2, "shrinking": True}, {"kernel": "linear", "C": 1.0})
    assert set(_offered(ran, own)) == {"kernel", "C", "shrinking"}  # 1.2 on the grid is 1.0
    failed = trial({"kernel": "poly", "C": 2.0, "degree": 3}, {"kernel": "poly"},
                   state=optuna.trial.TrialState.FAIL)
    assert _offered(failed, own) == ()


def test_values_between_the_steps_of_a_distribution_are_rounded_to_them():
    """An objective on a grid (C in steps of 0.5, integer degrees):
    a proposal between two steps went to the fallback, which drew the value at random."""
    def on_a_grid(trial: optuna.Trial) -> float:
        kernel = trial.suggest_categorical("kernel", ["rbf", "linear", "poly"])
        c = trial.suggest_float("C", 0.5, 1000.0, step=0.5)
        degree = trial.suggest_int("degree", 2, 5, step=1) if kernel == "poly" else 3
        return -abs(c - 10.0) + (kernel == "rbf") - degree

    study = optuna.create_study(direction="maximize", sampler=MetaSampler(space="svm", seed=0))
    study.optimize(on_a_grid, n_trials=8)
    for t in study.trials:
        claim = json.loads(t.system_attrs["metaopt:config"])
        assert t.params["kernel"] == claim["kernel"]
        if claim["C"] >= 0.5:  # in range: the nearest step, not a random value
            assert abs(t.params["C"] - claim["C"]) <= 0.25 + 1e-9, (t.params, claim)


def test_proposals_rounding_to_an_evaluated_step_are_not_repeated():
    """On a grid (C in 1, 2, ..., 10), different proposals rounded to the same step:
    the ranker's picks repeated evaluated configurations (5 distinct in 8 trials)."""
    def on_a_grid(trial: optuna.Trial) -> float:
        trial.suggest_categorical("kernel", ["linear"])
        return -abs(np.log(trial.suggest_float("C", 1.0, 10.0, step=1.0)) - 1)

    study = optuna.create_study(direction="maximize", sampler=MetaSampler(space="svm", seed=0))
    study.optimize(on_a_grid, n_trials=8)
    assert len({t.params["C"] for t in study.trials}) == 8


def test_values_are_fitted_to_the_nearest_choice_of_a_grid_of_numbers():
    """Numeric parameters asked as categorical grids (n_estimators in 100, 200, 300,
    500): no proposal was exactly on the grid, so every trial after the warm start went
    whole to the fallback (no claim), and TPE repeated earlier trials."""
    from optuna.distributions import CategoricalDistribution

    from metaopt.samplers._meta_sampler import _OUTSIDE, _fitted

    grid = CategoricalDistribution([0.001, 0.01, 0.1, 1.0, 10.0])
    assert _fitted(grid, 0.04) == 0.1  # nearest on a log scale
    assert _fitted(grid, 20.0) is _OUTSIDE  # beyond the grid, as beyond a range
    assert _fitted(CategoricalDistribution(["sqrt", 0.5, 1.0]), 0.75) is _OUTSIDE

    def on_grids(trial: optuna.Trial) -> float:
        n = trial.suggest_categorical("n_estimators", [100, 200, 300, 500])
        leaf = trial.suggest_categorical("min_samples_leaf", [1, 2, 4, 8])
        features = trial.suggest_categorical("max_features", ["sqrt", "log2", 0.5, 1.0])
        trial.suggest_categorical("bootstrap", [True, False])
        return -abs(n - 300) / 100 - leaf / 4 + (features == 0.5)

    study = optuna.create_study(direction="maximize",
                                sampler=MetaSampler(space="random_forest", seed=0))
    study.optimize(on_grids, n_trials=10)
    assert all(json.loads(t.system_attrs.get("metaopt:config") or "null")
               for t in study.trials[1:])  # the first shows the sampler the grids
    assert len({tuple(sorted(t.params.items())) for t in study.trials}) == 10


def _two_forest_parameters(trial: optuna.Trial, best_log_leaf: float) -> float:
    """An objective of 2 of the random forest's 5 parameters, as the space defines them."""
    from metaopt.spaces import get_space

    dists = get_space("random_forest").distributions("classification")
    features = trial._suggest("max_features", dists["max_features"])
    leaf = trial._suggest("min_samples_leaf", dists["min_samples_leaf"])
    return -abs(np.log(leaf) - best_log_leaf) + (features == "sqrt")


def test_parameters_the_objective_never_asks_for_do_not_make_copies_look_new():
    """An objective tuning 2 of the random forest's 5 parameters: configurations that
    differed only in the other 3 were proposed as new, and 5 of 12 trials repeated one."""

    study = optuna.create_study(direction="maximize",
                                sampler=MetaSampler(space="random_forest", seed=0))
    study.optimize(lambda trial: _two_forest_parameters(trial, best_log_leaf=1), n_trials=12)
    assert len({tuple(sorted(t.params.items())) for t in study.trials}) == 12


def test_a_parameter_outside_the_space_does_not_hide_the_ones_never_asked_for():
    """n_estimators asked in [1000, 2000] (the fallback's alone) beside 2 of the forest's
    other 4: its value never equals the claim's, so no trial counted as running its
    claim, the 2 parameters never asked for made copies look new again, and 8 of 16
    trials repeated the asked values of an earlier one (only the fallback's
    n_estimators differed)."""

    def foreign_and_two(trial: optuna.Trial) -> float:
        trial.suggest_int("n_estimators", 1000, 2000)
        return _two_forest_parameters(trial, best_log_leaf=1.5)

    study = optuna.create_study(direction="maximize",
                                sampler=MetaSampler(space="random_forest", seed=0))
    study.optimize(foreign_and_two, n_trials=16)
    asked = {(t.params["max_features"], t.params["min_samples_leaf"]) for t in study.trials}
    assert len(asked) == 16


@pytest.mark.parametrize("storage", [None, "sqlite://"])
def test_a_sampler_reused_for_another_study_starts_afresh(storage):
    """Trial ids restart in every storage: a reused sampler read the first study's trials
    (with the other direction) from its cache and repeated its proposals. Every
    in-memory SQLite database ("sqlite://") has the same URL: the second one's study was
    taken for the first one's, and its scores were read with the first one's sign."""
    sampler = MetaSampler(space="svm", seed=0)
    optuna.create_study(direction="maximize", sampler=sampler,
                        storage=storage).optimize(_svm_score, n_trials=6)
    second = optuna.create_study(direction="minimize", sampler=sampler, storage=storage)
    second.optimize(_svm_score, n_trials=6)
    fresh = optuna.create_study(direction="minimize", sampler=MetaSampler(space="svm", seed=0))
    fresh.optimize(_svm_score, n_trials=6)
    assert [t.params for t in second.trials] == [t.params for t in fresh.trials]
    observed, _ = sampler._observed(second)
    assert [score for _, score in observed] == [-t.value for t in second.trials]


def test_a_study_deleted_and_created_again_starts_afresh(tmp_path):
    """A notebook cell run again on an SQLite file: the study deleted and created anew
    under the same name has the same URL and id, and a reused sampler read its trials
    from the deleted study's cache, with that study's direction."""
    storage, sampler = f"sqlite:///{tmp_path}/study.db", MetaSampler(space="svm", seed=0)
    for direction in ("maximize", "minimize"):
        if direction == "minimize":
            optuna.delete_study(study_name="cell", storage=storage)
        study = optuna.create_study(study_name="cell", direction=direction, storage=storage,
                                    sampler=sampler)
        study.optimize(_svm_score, n_trials=3)
    observed, _ = sampler._observed(study)
    assert [score for _, score in observed] == [-t.value for t in study.trials]


def test_a_sampler_reused_for_another_study_infers_that_studys_search_space(tmp_path):
    """The relative search space is cached for one study: on an RDB storage a second study
    failed every trial ("cannot handle multiple studies"); in memory (every study has id
    0) it kept the first study's space, so a parameter asked as an integer there failed."""
    sampler = MetaSampler(space="svm", seed=0)
    url = f"sqlite:///{tmp_path / 'studies.db'}"
    optuna.create_study(study_name="a", storage=url, sampler=sampler).optimize(
        _svm_score, n_trials=3)
    second = optuna.create_study(study_name="b", storage=url, sampler=sampler)
    second.optimize(_svm_score, n_trials=2)
    assert [t.state for t in second.trials] == [optuna.trial.TrialState.COMPLETE] * 2

    def integer_c(trial):
        return -abs(trial.suggest_int("C", 1, 100) - 10)

    optuna.create_study(sampler=sampler).optimize(_svm_score, n_trials=3)
    in_memory = optuna.create_study(sampler=sampler)
    in_memory.optimize(integer_c, n_trials=3)
    assert [t.state for t in in_memory.trials] == [optuna.trial.TrialState.COMPLETE] * 3


def test_warm_start_during_a_study_does_not_restart_it():
    """warm_start() bound the sampler to a throwaway study of its own: the study being run
    then started afresh (its time-budget clock restarted, its fallback reseeded)."""
    def with_extra(trial):
        return _svm_score(trial) + trial.suggest_float("extra", 0.0, 1.0)  # the fallback's

    runs, clocks = [], []
    for peek in (False, True):
        sampler = MetaSampler(space="svm", seed=0, time_budget=3600)
        study = optuna.create_study(direction="maximize", sampler=sampler)
        study.optimize(with_extra, n_trials=3)
        started = sampler._started
        if peek:
            assert len(sampler.warm_start(2)) == 2
        study.optimize(with_extra, n_trials=3)
        runs.append([t.params for t in study.trials])
        clocks.append(sampler._started == started)
    assert runs[0] == runs[1]
    assert clocks == [True, True]


def test_a_claim_clash_does_not_use_up_the_warm_start(monkeypatch):
    """Replays two workers writing the same claim at once: the clash counted three times
    and ended the portfolio phase before any evaluation."""
    import metaopt.samplers._meta_sampler as module

    storage = optuna.storages.InMemoryStorage()
    first = optuna.create_study(study_name="s", storage=storage, direction="maximize",
                                sampler=MetaSampler(space="svm", seed=0))
    second = optuna.load_study(study_name="s", storage=storage,
                               sampler=MetaSampler(space="svm", seed=0))
    other = first.ask()
    claim, raced = module.MetaSampler._claim, []

    def racing(study, trial, params, reason):
        claim(study, trial, params, reason)
        if not raced:  # the other worker writes the same choice at the same moment
            raced.append(True)
            claim(study, study._storage.get_trial(other._trial_id), params, reason)
        return params

    monkeypatch.setattr(module.MetaSampler, "_claim", staticmethod(racing))
    trial = second.ask()
    _svm_score(trial)
    picks = second.sampler.meta_model.portfolio.suggest(2, None)["params"].tolist()
    assert trial.params == picks[1]
    assert storage.get_trial(trial._trial_id).system_attrs["metaopt:source"].startswith(
        "portfolio pick 2")


def test_foreign_trials_are_not_taken_for_the_default_configuration():
    """A trial that set none of the space's parameters became "the default configuration
    scored 9.0", and the portfolio then skipped its first pick."""
    from optuna.distributions import FloatDistribution

    sampler = MetaSampler(space="svm", seed=0)
    study = optuna.create_study(direction="maximize", sampler=sampler)
    study.add_trial(optuna.trial.create_trial(
        params={"lr": 0.1}, distributions={"lr": FloatDistribution(1e-3, 1.0)}, value=9.0))
    study.optimize(_svm_score, n_trials=1)
    first = sampler.meta_model.portfolio.suggest(1, None)["params"].iloc[0]
    assert study.trials[1].params == first
    observed, _ = sampler._observed(study)
    assert [params for params, _ in observed] == [first]  # the foreign trial is left out
    multi = optuna.create_study(directions=["minimize", "minimize"])
    with pytest.raises(ValueError, match=r"source_studies\[0\] .* is multi-objective"):
        MetaSampler(space="svm", source_studies=[multi])


def test_a_source_study_of_other_parameters_is_named():
    """A source study whose parameters were renamed (svc_C) was dropped silently: the
    study started from the portfolio as if no source study had been given."""
    from optuna.distributions import FloatDistribution

    def source(name, param):
        study = optuna.create_study(study_name=name, direction="maximize")
        study.add_trial(optuna.trial.create_trial(
            params={param: 3.0}, distributions={param: FloatDistribution(1e-3, 1e3)},
            value=0.9))
        return study

    sampler = MetaSampler(space="svm", seed=0,
                          source_studies=[source("renamed", "svc_C"), source("same", "C")])
    study = optuna.create_study(direction="maximize", sampler=sampler)
    with pytest.warns(UserWarning, match="source study 'renamed' .* no configuration of space"):
        study.optimize(_svm_score, n_trials=1)
    assert study.trials[0].params["C"] == 3.0



def test_a_source_study_without_a_completed_trial_is_named():
    """A source study loaded under a mistyped name (a new, empty study) or whose trials
    all failed was skipped without a word: the study started from the portfolio as if
    no source study had been given."""
    empty = optuna.create_study(study_name="mistyped", direction="maximize")
    sampler = MetaSampler(space="svm", seed=0, source_studies=[empty])
    study = optuna.create_study(direction="maximize", sampler=sampler)
    with pytest.warns(UserWarning, match="source study 'mistyped' has no completed trial"):
        study.optimize(_svm_score, n_trials=1)
    assert study.trials[0].system_attrs["metaopt:source"].startswith("portfolio pick 1")

def test_a_source_study_of_a_family_outside_the_combination_is_named():
    """A source study of "all" whose best trial is an svm, for a study of "knn+linear":
    the svm configuration was claimed by the first trial ("best trial of a source
    study"), which ran the fallback's values, without a word. It is named and not tried;
    a source study's best of a family in the combination is still tried first."""
    from metaopt.spaces import get_space

    every = get_space("all")

    def source(name, family):
        study = optuna.create_study(study_name=name, direction="maximize")
        study.enqueue_trial({"space": family})
        study.optimize(lambda t: (every.sample(t, "classification"), 0.9)[1], n_trials=1)
        return study

    space = get_space("knn+linear")
    sampler = MetaSampler(space=space.name, seed=0,
                          source_studies=[source("svm", "svm"), source("knn", "knn")])
    study = optuna.create_study(direction="maximize", sampler=sampler)
    with pytest.warns(UserWarning, match="source study 'svm' .* no configuration of space"):
        study.optimize(lambda t: (space.sample(t, "classification"), 0.5)[1], n_trials=2)
    first, second = study.trials
    assert first.system_attrs["metaopt:source"] == "best trial of a source study"
    assert first.params["space"] == "knn"
    assert second.system_attrs["metaopt:source"].startswith("portfolio pick 1")


def test_a_parameter_fixed_by_a_wrapping_sampler_does_not_make_copies_look_new():
    """PartialFixedSampler fixes C: configurations differing only in C ran as one, and
    the claims of finished trials (C not as run) came back as proposals that clashed
    with those trials, 5 times over, in one process: the trial went to the fallback."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        sampler = optuna.samplers.PartialFixedSampler({"C": 1.0}, MetaSampler(space="svm", seed=0))
    study = optuna.create_study(direction="maximize", sampler=sampler)
    study.optimize(_svm_score, n_trials=14)
    sources = [t.system_attrs["metaopt:source"] for t in study.trials]
    assert not [s for s in sources if "clashed" in s], sources
    assert len({tuple(sorted(t.params.items())) for t in study.trials}) == 14


def test_a_choice_fixed_by_a_wrapping_sampler_narrows_the_proposals():
    """PartialFixedSampler fixes kernel='rbf': the sampler kept claiming linear SVMs (no
    gamma), so each trial ran the claim's C with the fallback's random gamma. Now it
    proposes rbf configurations only, from the first trial, and each runs whole."""
    from metaopt.samplers._meta_sampler import _claim_of

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        sampler = optuna.samplers.PartialFixedSampler({"kernel": "rbf"},
                                                      MetaSampler(space="svm", seed=0))
    study = optuna.create_study(direction="maximize", sampler=sampler)
    study.optimize(_svm_score, n_trials=8)
    for t in study.trials:
        assert _claim_of(t) == t.params, (t.number, _claim_of(t), t.params)


def test_a_choice_fixed_by_an_inner_wrapping_sampler_narrows_the_proposals_too():
    """Two PartialFixedSamplers around the sampler (C outside, kernel='rbf' inside): only
    the outer one's values were read, so the claims were linear SVMs that ran as rbf with
    the fallback's gamma. Every wrapper is read now (the outer wins a name both fix, as
    it answers first): rbf claims that run whole."""
    from metaopt.samplers._meta_sampler import _claim_of

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        inner = optuna.samplers.PartialFixedSampler({"kernel": "rbf", "C": 5.0},
                                                    MetaSampler(space="svm", seed=0))
        sampler = optuna.samplers.PartialFixedSampler({"C": 2.0}, inner)
    study = optuna.create_study(direction="maximize", sampler=sampler)
    study.optimize(_svm_score, n_trials=6)
    for t in study.trials:
        claim = {**_claim_of(t), "C": 2.0}  # a fixed number: the claim's C is not run
        assert t.params["C"] == 2.0 and claim == t.params, (t.number, claim, t.params)


def test_infeasible_trials_score_below_every_feasible_one():
    """trial.set_constraint (or a constraints_func of the fallback): the ranker took an
    infeasible trial's value as it was, so it chased an infeasible incumbent (svm space
    on sonar, heart_statlog and breast_w: 80 of 102 trials after the warm start broke
    C <= 1; now 65)."""
    def constrained(trial: optuna.Trial) -> float:
        score = _svm_score(trial)
        trial.set_constraint("C_at_most_1", trial.params["C"] - 1.0)
        return score

    sampler = MetaSampler(space="svm", seed=0)
    study = optuna.create_study(direction="maximize", sampler=sampler)
    study.optimize(constrained, n_trials=8)
    observed = sampler._observed(study)[0]
    feasible = [s for p, s in observed if p["C"] <= 1.0]
    infeasible = [s for p, s in observed if p["C"] > 1.0]
    assert len(observed) == 8 and feasible and infeasible
    assert max(infeasible) < min(feasible), observed


def test_parameters_never_asked_for_are_observed_at_their_defaults():
    """An objective tuning 2 of the random forest's 5 parameters (the rest as scikit-learn
    sets them): the ranker was told the claim's n_estimators, bootstrap and max_samples,
    which never ran; it now sees the space's defaults, as for an enqueued trial."""
    from metaopt.spaces import get_space

    space = get_space("random_forest")
    own = space.distributions("classification")

    def subset(trial: optuna.Trial) -> float:
        leaf = trial._suggest("min_samples_leaf", own["min_samples_leaf"])
        features = trial._suggest("max_features", own["max_features"])
        return -np.log(leaf) + (features == "sqrt")

    sampler = MetaSampler(space="random_forest", seed=0)
    study = optuna.create_study(direction="maximize", sampler=sampler)
    study.optimize(subset, n_trials=5)
    default = space.default("classification")
    for params, _ in sampler._observed(study)[0]:
        assert {n: params.get(n) for n in ("n_estimators", "bootstrap", "max_samples")} == {
            n: default[n] for n in ("n_estimators", "bootstrap", "max_samples")}, params


def test_a_combined_model_without_the_studys_families_is_refused(tmp_path):
    """A user's 'linear+knn' model on a study whose "space" parameter chooses svm or knn
    (space=None) was used unrestricted: it never proposed svm and skipped its linear
    picks, while MetaSampler(space='svm+knn', meta_model=it) refused it."""
    from metaopt.kb import KnowledgeBase, load_default
    from metaopt.ranker import MetaModel
    from metaopt.ranker._train import train_meta_models
    from metaopt.spaces import get_space

    frame = load_default().to_frame()
    rows = frame[frame["space"].isin(["knn", "linear"]) & (frame["task"] == "classification")]
    keys = rows["dataset_key"].drop_duplicates().head(5)
    small = KnowledgeBase(tmp_path / "small.sqlite")
    small.add_frame(rows[rows["dataset_key"].isin(keys)].groupby(["dataset_key", "space"])
                    .head(3))
    with pytest.warns(UserWarning):
        written = train_meta_models(small, tmp_path / "models", spaces=["linear+knn"],
                                    progress=False,
                                    ranker_options={"iterations": 2, "n_ensemble": 1})
    model = MetaModel.load(written["linear+knn"])
    study = optuna.create_study(direction="maximize", sampler=MetaSampler(
        meta_model=model, task="classification", seed=0))
    svm_knn = get_space("svm+knn")
    with pytest.raises(ValueError, match=r"trained on the combination 'linear\+knn', which "
                                         r"lacks \['svm'\] of 'svm\+knn'"):
        study.optimize(lambda t: (svm_knn.sample(t, "classification"), 0.5)[1], n_trials=2)
    # the model's own families, in another order: restricted to them, as before
    knn_linear = get_space("knn+linear")
    study = optuna.create_study(direction="maximize", sampler=MetaSampler(
        meta_model=model, task="classification", seed=0))
    study.optimize(lambda t: (knn_linear.sample(t, "classification"), 0.5)[1], n_trials=2)
    assert [t.state for t in study.trials] == [optuna.trial.TrialState.COMPLETE] * 2


def test_a_conditional_objective_whose_first_trial_took_the_other_branch(pmlb_root):
    """``classifier`` in {svm, knn}, space="svm": the first trial took the knn branch, so
    the sampler warned that the objective's parameters are none of the svm space's and
    handed every later trial to the fallback, svm trials included (3 of 4 seeds). Now
    the svm trials get the meta-model's configurations once one has run; a knn trial's
    claim is neither scored (its accuracy went to an svm configuration it never ran)
    nor taken, and its label says it did not run (it read as a portfolio pick)."""
    from sklearn.model_selection import cross_val_score

    from metaopt.data import LocalSource
    from metaopt.spaces import get_space

    ds = LocalSource(pmlb_root).load("heart_statlog")
    spaces = {"svm": get_space("svm"), "knn": get_space("knn")}

    def objective(trial: optuna.Trial) -> float:
        name = trial.suggest_categorical("classifier", ["svm", "knn"])
        params = spaces[name].sample(trial, "classification")
        model = spaces[name].build(params, "classification", random_state=0)
        return float(cross_val_score(model, ds.X, ds.y, cv=3).mean())

    sampler = MetaSampler(space="svm", dataset=ds, seed=0)
    study = optuna.create_study(direction="maximize", sampler=sampler)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        study.optimize(objective, n_trials=10)
    assert study.trials[0].params["classifier"] == "knn"  # the case of the report
    assert sum("are none of space 'svm'" in str(w.message) for w in caught) == 1
    svm_trials = [t for t in study.trials if t.params["classifier"] == "svm"]
    first_svm = svm_trials[0].number
    later = [t for t in svm_trials if t.number > first_svm]
    assert later and all("metaopt:source" in t.system_attrs for t in later)
    # the first portfolio pick, claimed by the knn trial, is run by an svm trial
    first_pick = sampler.meta_model.portfolio.suggest(1, None)["params"].iloc[0]
    ran = [{k: v for k, v in t.params.items() if k != "classifier"} for t in later]
    assert first_pick in ran
    observed, claimed = sampler._observed(study)
    assert sorted(s for _, s in observed) == sorted(t.value for t in svm_trials)
    assert claimed == []
    # a knn trial's label said it ran its claim ("portfolio pick 1")
    for t in study.trials:
        if t.params["classifier"] == "knn" and "metaopt:source" in t.system_attrs:
            assert t.system_attrs["metaopt:source"].startswith("not run"), t.system_attrs


def _svr_objective(pmlb_root):
    """An objective of the svm space on a regression dataset (it asks for epsilon)."""
    from sklearn.model_selection import cross_val_score

    from metaopt.data import LocalSource
    from metaopt.spaces import get_space

    ds = LocalSource(pmlb_root).load("229_pwLinear")
    space = get_space("svm")

    def objective(trial: optuna.Trial) -> float:
        params = space.sample(trial, "regression")
        model = space.build(params, "regression", random_state=0)
        return float(cross_val_score(model, ds.X, ds.y, cv=3).mean())

    return objective


def test_a_regression_objective_without_task_gets_the_regression_model(pmlb_root):
    """space="svm" without task, dataset or meta_features served the classification
    meta-model to an SVR objective, silently: its portfolio picks had no epsilon (the
    fallback's, every trial) and its ranker was trained on accuracies. Once the objective
    asks for epsilon (regression only), the regression model serves the study."""
    from metaopt.ranker import load_meta_model

    objective = _svr_objective(pmlb_root)
    sampler = MetaSampler(space="svm", seed=0)
    study = optuna.create_study(direction="maximize", sampler=sampler)
    with pytest.warns(UserWarning, match="asks for 'epsilon', a parameter of regression"):
        study.optimize(objective, n_trials=4)
    regression = load_meta_model("svm", "regression").portfolio.suggest(2, None)
    assert [t.params for t in study.trials[1:3]] == regression["params"].tolist()
    assert all("epsilon" in json.loads(t.system_attrs["metaopt:config"])
               for t in study.trials[1:])
    # a task given is kept, and nothing is said
    given = optuna.create_study(direction="maximize", sampler=MetaSampler(
        space="svm", task="regression", seed=0))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        given.optimize(objective, n_trials=2)
    assert [t.params for t in given.trials] == regression["params"].tolist()


def test_the_task_is_read_from_new_trials_only(pmlb_root):
    """Without a task, each suggestion looked for a parameter of one task in every trial of
    the study (O(n) per suggestion, n trials); the finished trials already read are now
    skipped, and a later trial asking for one still switches the task."""
    regression = _svr_objective(pmlb_root)
    sampler = MetaSampler(space="svm", seed=0)
    study = optuna.create_study(direction="maximize", sampler=sampler)
    with pytest.warns(UserWarning, match="no task given") as caught:  # and nothing more
        study.optimize(lambda t: _svm_score(t), n_trials=3)
    assert len(caught) == 1, [str(w.message) for w in caught]
    assert sampler._task == "classification" and not sampler._task_settled
    assert sampler._task_scan == 2  # the trials finished before the last suggestion
    with pytest.warns(UserWarning, match="asks for 'epsilon', a parameter of regression"):
        study.optimize(regression, n_trials=2)
    assert sampler._task == "regression"


def test_a_multi_objective_study_is_refused_with_what_to_do():
    """Optuna's own message said only that MetaSampler cannot be used."""
    study = optuna.create_study(directions=["maximize", "minimize"],
                                sampler=MetaSampler(space="svm", seed=0))
    with pytest.raises(ValueError, match=r"multi-objective study \(2 directions\).*"
                                         r"TPESampler or NSGAIISampler"):
        study.optimize(lambda t: (_svm_score(t), 1.0), n_trials=1)


def test_dataset_as_a_list_of_x_and_y(pmlb_root):
    """dataset=[X, y] was refused ("must be (X, y) ..., got list")."""
    from metaopt.data import LocalSource

    ds = LocalSource(pmlb_root).load("heart_statlog")
    listed = MetaSampler(space="svm", dataset=[ds.X, ds.y], seed=0)
    paired = MetaSampler(space="svm", dataset=(ds.X, ds.y), seed=0)
    runs = []
    for sampler in (listed, paired):
        study = optuna.create_study(direction="maximize", sampler=sampler)
        study.optimize(_svm_score, n_trials=4)
        runs.append([t.params for t in study.trials])
    assert runs[0] == runs[1]
    pd.testing.assert_series_equal(listed._meta_features, paired._meta_features)
    with pytest.raises(ValueError, match="dataset must be"):
        MetaSampler(space="svm", dataset=[ds.X])


def test_a_space_object_instead_of_a_name_is_refused_with_what_to_pass():
    """MetaSampler(space=get_space("svm")) failed with "argument of type 'SearchSpace' is
    not iterable"."""
    from metaopt.spaces import get_space

    with pytest.raises(TypeError, match=r"space must be the name of a space with a "
                                        r"meta-model \(a str, e.g. 'svm'"):
        MetaSampler(space=get_space("svm"))
    assert MetaSampler(space="svm") is not None


def test_a_column_that_looks_like_a_row_id_is_warned_about(pmlb_root):
    """backache's first column, 'id', numbers its rows 1 to 180: MetaSampler(dataset=...)
    counted it as a feature of the meta-features (the nearest datasets, the warm start)
    without a word, where metaopt.suggest warns. It warns the same way at construction,
    pointing at the caller's line and saying to drop the column from X first."""
    from metaopt.data import LocalSource

    backache = LocalSource(pmlb_root).load("backache")
    id_warning = (r"column 'id' \(180 distinct whole numbers from 1 to 180, named like an "
                  r"id\) looks like a row identifier.*drop it: X\.drop\(columns=\['id'\]\) "
                  r"before passing X to MetaSampler")
    for dataset, name in (((backache.X, backache.y), "user-data"), (backache, "backache")):
        with pytest.warns(UserWarning, match=f"{name}: {id_warning}") as caught:
            MetaSampler(space="knn", dataset=dataset, seed=0)
        assert [w.filename for w in caught if "row identifier" in str(w.message)] == [__file__]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no warning once it is dropped
        MetaSampler(space="knn", dataset=(backache.X.drop(columns=["id"]), backache.y), seed=0)


def test_a_brute_force_fallback_samples_what_is_asked_after_the_models_parameters():
    """BruteForceSampler enumerates its grid as a tree in the order the objective asks for
    the parameters. The parameters the meta-model leaves (here "scaler", asked after
    knn's, and "n_quantiles" under one of its values) went to it at the trial's first
    suggestion, before any was asked: "param_name mismatch: scaler != n_neighbors"
    failed the second trial, and BruteForceSampler then stopped the study."""
    def objective(trial: optuna.Trial) -> float:
        k = trial.suggest_int("n_neighbors", 1, 64, log=True)
        weights = trial.suggest_categorical("weights", ["uniform", "distance"])
        p = trial.suggest_categorical("p", [1, 2])
        scaler = trial.suggest_categorical("scaler", ["std", "minmax", "quantile"])
        q = trial.suggest_int("n_quantiles", 10, 100, step=30) if scaler == "quantile" else 0
        return -abs(np.log(k / 8)) + (weights == "distance") + p + q / 100

    with warnings.catch_warnings():  # BruteForceSampler is experimental
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        brute_force = optuna.samplers.BruteForceSampler(seed=0)
    sampler = MetaSampler(space="knn", task="classification", n_warmup=2, seed=0,
                          fallback=brute_force)
    study = optuna.create_study(direction="maximize", sampler=sampler)
    study.optimize(objective, n_trials=8)
    assert [t.state for t in study.trials] == [optuna.trial.TrialState.COMPLETE] * 8
    assert any(t.params["scaler"] == "quantile" for t in study.trials)
    assert all(t.system_attrs["metaopt:source"].startswith(("portfolio", "ranker", "random"))
               for t in study.trials)


def test_a_range_that_depends_on_a_branch_is_read_per_branch():
    """``n_neighbors`` from 1 to 8 with uniform weights, from 16 to 64 with distance ones
    (the same name, another distribution per branch): the sampler read the range last
    asked for as the objective's, so it claimed uniform configurations with 26 or 56
    neighbours and distance ones with 3 or 4, which the fallback replaced at random (5 of
    20 trials mixed). The first trial of each branch shows the sampler its range."""
    ranges = {"uniform": (1, 8), "distance": (16, 64)}

    def objective(trial: optuna.Trial) -> float:
        weights = trial.suggest_categorical("weights", list(ranges))
        k = trial.suggest_int("n_neighbors", *ranges[weights], log=True)
        p = trial.suggest_categorical("p", [1, 2])
        return -abs(np.log(k / (4 if weights == "uniform" else 30))) + p

    sampler = MetaSampler(space="knn", task="classification", n_warmup=2, seed=0)
    study = optuna.create_study(direction="maximize", sampler=sampler)
    study.optimize(objective, n_trials=20)
    seen = set()
    for t in study.trials:
        claim = json.loads(t.system_attrs["metaopt:config"])
        if t.params["weights"] in seen:
            assert all(t.params[name] == claim[name] for name in t.params), (t.params, claim)
        seen.add(t.params["weights"])
    assert seen == set(ranges)


def test_the_space_guess_is_read_once_when_inferring_the_space():
    """_infer_space read the guess twice (to flag it, then to return it): another
    thread's first claim (``n_jobs=2``) could set it in between, and the guessed space's
    model was loaded unflagged as a guess, served for the whole study instead of the
    space inferred once a trial completed. A guess that another thread sets right after
    it is read stands for that read's flag and return alike."""

    class RacingSampler(MetaSampler):
        @property
        def _guess(self):
            value = self.__dict__["_stored_guess"]
            self.__dict__["_stored_guess"] = "knn"  # another thread's claim, just after
            return value

        @_guess.setter
        def _guess(self, value):
            self.__dict__["_stored_guess"] = value

    sampler = RacingSampler(seed=0)
    study = optuna.create_study(sampler=sampler)
    space = sampler._infer_space(study)
    assert (space, sampler._guessed) == (None, False)
