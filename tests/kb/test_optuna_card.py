"""Optuna studies in and out; the card; the shipped default."""

from __future__ import annotations

import json

import optuna
import pytest

from metaopt.kb import (
    KnowledgeBase,
    export_default,
    from_optuna_study,
    load_default,
    open_knowledge_base,
    to_optuna,
    write_card,
)


def _study():
    study = optuna.create_study(direction="minimize", sampler=optuna.samplers.RandomSampler(0))

    def objective(trial):
        x = trial.suggest_float("x", -1, 1)
        kind = trial.suggest_categorical("kind", ["a", "b"])
        if kind == "b" and x > 0.5:
            raise optuna.TrialPruned
        return x**2

    study.optimize(objective, n_trials=12)
    return study


def test_optuna_roundtrip(tmp_path):
    study = _study()
    kb = from_optuna_study(study, dataset_key="user/iris", space="mine",
                           task="classification", metafeatures={"n_rows": 150.0})
    frame = kb.to_frame()
    complete = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    assert len(frame) == len(complete)
    assert frame["cv_score"].max() == pytest.approx(-study.best_value)
    assert (frame["metric"] == "neg_objective").all() and (frame["mf_n_rows"] == 150).all()
    names = to_optuna(kb, f"sqlite:///{tmp_path / 'out.db'}")
    back = optuna.load_study(study_name=names[0], storage=f"sqlite:///{tmp_path / 'out.db'}")
    assert len(back.trials) == len(complete)
    assert back.best_value == pytest.approx(-study.best_value)
    assert back.user_attrs["mf_n_rows"] == 150.0
    to_optuna(kb, f"sqlite:///{tmp_path / 'out.db'}")  # again: nothing added (was doubled)
    assert len(optuna.load_study(study_name=names[0], storage=f"sqlite:///{tmp_path / 'out.db'}")
               .trials) == len(complete)


def test_optuna_import_of_odd_trials():
    """An infinite objective was stored as ok without a score (to_optuna then failed on
    NaN), repeated parameters collapsed silently and a task typo was accepted."""
    study = optuna.create_study(direction="maximize")
    for params, value in (({"x": 0.1}, 1.0), ({"x": 0.2}, float("inf")), ({"x": 0.1}, 2.0)):
        study.add_trial(optuna.trial.create_trial(
            params=params, distributions={"x": optuna.distributions.FloatDistribution(0, 1)},
            value=value))
    with pytest.warns(UserWarning, match="1 trial.* repeat the parameters"):
        kb = from_optuna_study(study, dataset_key="user/d", space="mine", task="regression")
    frame = kb.to_frame().sort_values("cv_score")
    assert frame["status"].tolist() == ["ok", "failed"] and frame["cv_score"].iloc[0] == 1.0
    with pytest.raises(ValueError, match="task must be one of"):
        from_optuna_study(study, dataset_key="user/d", space="mine", task="regresion")


def test_optuna_import_keeps_a_stored_datasets_name_and_source():
    """It renamed a dataset a build had stored ('lupus' -> its key) and made it 'optuna'."""
    kb = KnowledgeBase()
    kb.add_dataset({"dataset_key": "pmlb/lupus", "name": "lupus", "source": "local",
                    "task": "classification", "status": "ok", "n_samples": 87})
    study = optuna.create_study(direction="maximize")
    study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=2)
    from_optuna_study(study, dataset_key="pmlb/lupus", space="mine", task="classification",
                      kb=kb)
    from_optuna_study(study, dataset_key="user/new", space="mine", task="classification",
                      kb=kb)
    rows = kb.datasets().set_index("dataset_key")
    assert rows.loc["pmlb/lupus", ["name", "source", "n_samples"]].tolist() == [
        "lupus", "local", 87]
    assert rows.loc["user/new", ["name", "source"]].tolist() == ["user/new", "optuna"]
    assert len(kb.to_frame()) == 4


def test_optuna_import_under_a_metaopt_space_checks_the_params():
    """A study of other parameters filed under "knn" was accepted; training a meta-model
    on the knowledge base then failed with "knn: unknown parameter(s) ['k']"."""
    from metaopt.spaces import get_space

    knn = get_space("knn")
    ours = optuna.create_study(direction="maximize", sampler=optuna.samplers.RandomSampler(0))
    ours.optimize(lambda t: float(len(knn.sample(t, "classification"))), n_trials=4)
    ours.add_trial(optuna.trial.create_trial(  # failed before suggesting every parameter
        params={"n_neighbors": 3}, state=optuna.trial.TrialState.FAIL,
        distributions={"n_neighbors": optuna.distributions.IntDistribution(1, 64)}))
    frame = from_optuna_study(ours, dataset_key="user/d", space="knn",
                              task="classification").to_frame()
    assert frame["status"].tolist() == ["ok"] * 4 + ["failed"]
    assert [json.loads(c) for c in frame["config"]][:4] == [t.params for t in ours.trials[:4]]

    theirs = optuna.create_study(direction="maximize")
    theirs.optimize(lambda t: t.suggest_int("k", 1, 200) / 200, n_trials=2)
    kb = KnowledgeBase()
    with pytest.raises(ValueError, match=r"trial 0 .* not a configuration of the metaopt "
                       r"search space 'knn'.*unknown parameter\(s\) \['k'\]"):
        from_optuna_study(theirs, dataset_key="user/d", space="knn", task="classification",
                          kb=kb)
    assert len(kb) == 0 and kb.datasets().empty
    kb = from_optuna_study(theirs, dataset_key="user/d", space="my_knn", task="classification")
    assert len(kb) == 2


def test_optuna_import_of_a_combined_space_is_stored_per_family():
    """A study of "svm+knn" (the benchmark's Optuna methods sample one) was stored under
    "svm+knn", and training read none of it: "space 'svm+knn' has no evaluations;
    spaces present: ['svm+knn']"."""
    from metaopt.ranker import PerformanceMatrix
    from metaopt.spaces import get_space

    combined = get_space("svm+knn")
    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.RandomSampler(0))
    study.optimize(lambda t: float(len(combined.sample(t, "classification"))), n_trials=6)
    frame = from_optuna_study(study, dataset_key="user/d", space="svm+knn",
                              task="classification").to_frame()
    expected = [combined.member(t.params) for t in study.trials]
    assert frame["space"].tolist() == [m.name for m, _ in expected]
    assert [json.loads(c) for c in frame["config"]] == [p for _, p in expected]
    assert PerformanceMatrix.from_frame(frame, "svm+knn").scores.shape[1] == 6


def test_card(tmp_path):
    kb = KnowledgeBase(tmp_path / "kb.sqlite")
    kb.start_run("r1", {"host": "h", "machine": json.dumps({"cpu_count": 2}),
                        "params": json.dumps({"suite": "s", "n_configs": 3}),
                        "versions": json.dumps({"numpy": "2"})})
    kb.add_dataset({"dataset_key": "d", "status": "ok", "task": "regression"})
    kb.add_dataset({"dataset_key": "bad", "status": "failed", "error": "missing file"})
    kb.add_evaluation({"dataset_key": "d", "space": "s", "config_id": "c", "seed": 0,
                       "config": {}, "status": "ok", "origin": "metaopt", "eval_time": 3.0})
    kb.finish_run("r1", "finished", 1, 3.0)
    parquet = kb.to_parquet(tmp_path / "evaluations.parquet")
    text = write_card(kb, tmp_path / "CARD.md", parquet=parquet).read_text()
    for fragment in ("1 evaluations", "h (2 CPUs", "suite=s, n_configs=3", "numpy 2",
                     "bad: missing file", "evaluations.parquet"):
        assert fragment in text


def test_card_states_the_metafeatures_version(tmp_path):
    """The card named the library versions of a build, not its meta-features' version."""
    kb = KnowledgeBase()
    kb.add_dataset({"dataset_key": "d", "status": "ok", "task": "regression"})
    assert "Meta-features" not in write_card(kb, tmp_path / "CARD.md").read_text()  # none
    kb.add_dataset({"dataset_key": "e", "status": "ok", "task": "regression",
                    "metafeatures": {"n_instances": 10}}, metafeatures_version=1)
    text = write_card(kb, tmp_path / "CARD.md").read_text()
    assert "Meta-features: version 1 (`METAFEATURES_VERSION`)." in text


def test_card_names_every_measuring_setting(tmp_path):
    """The build-run table left out test_size and scoring: a card could not tell
    balanced accuracy on a 25 % holdout from the default accuracy."""
    import numpy as np

    from metaopt.data import from_arrays
    from metaopt.kb import build

    X = np.random.default_rng(0).normal(size=(60, 3))
    kb = KnowledgeBase()
    build([from_arrays(X, (X[:, 0] > 0).astype(int), task="classification", name="a")], kb,
          spaces="knn", n_configs=1, cv_folds=2, test_size=0.25, progress=False,
          scoring={"classification": "balanced_accuracy"}, backend="sequential")
    text = write_card(kb, tmp_path / "CARD.md").read_text()
    assert "test_size=0.25" in text and "'classification': 'balanced_accuracy'" in text


def test_export_and_load_default(tmp_path, monkeypatch):
    import metaopt.kb._card as card

    monkeypatch.setattr(card, "DEFAULT_DIR", tmp_path / "_default")
    with pytest.raises(FileNotFoundError, match="build one with `metaopt build-kb`"):
        load_default()
    kb = from_optuna_study(_study(), dataset_key="u/1", space="mine", task="regression")
    export_default(kb)
    assert (tmp_path / "_default" / "CARD.md").read_text().startswith("# metaopt knowledge base")
    assert len(load_default()) == len(kb)


def _trials(study, *rows):
    """Add complete trials ``(params, distributions, value)`` to ``study``."""
    for params, dists, value in rows:
        study.add_trial(optuna.trial.create_trial(params=params, distributions=dists,
                                                  value=value))
    return study


def test_optuna_import_of_a_space_of_ones_own_keeps_its_distributions(tmp_path):
    """Only the values were stored: no space could be rebuilt to train a meta-model on
    ("unknown search space 'mine'"). The distributions now go with the evaluations, into
    a parquet export and back, and to_optuna gives them back."""
    from metaopt.ranker import PerformanceMatrix

    study = _study()
    kb = from_optuna_study(study, dataset_key="user/d", space="mine", task="regression")
    expected = {k: json.loads(optuna.distributions.distribution_to_json(d))
                for k, d in study.trials[0].distributions.items()}
    assert kb.distributions() == {"mine": expected}
    back = KnowledgeBase.from_parquet(kb.to_parquet(tmp_path / "kb.parquet"))
    assert back.distributions() == {"mine": expected}
    space = PerformanceMatrix.from_frame(back.to_frame(), "mine").search_space
    assert space.distributions("regression") == study.trials[0].distributions
    names = to_optuna(back, f"sqlite:///{tmp_path / 'out.db'}")
    out = optuna.load_study(study_name=names[0], storage=f"sqlite:///{tmp_path / 'out.db'}")
    assert out.trials[0].distributions == study.trials[0].distributions


def test_optuna_import_refuses_trials_that_disagree_on_a_distribution():
    small, large = (optuna.distributions.IntDistribution(1, n) for n in (30, 50))
    study = _trials(optuna.create_study(study_name="knn-runs"),
                    ({"k": 3}, {"k": small}, 0.5), ({"k": 40}, {"k": large}, 0.6))
    kb = KnowledgeBase()
    with pytest.raises(ValueError, match=r"parameter 'k': trial 1 of study 'knn-runs' gives "
                       r"IntDistribution\(high=50.*earlier trials give IntDistribution\("
                       r"high=30.*under a space name of their own"):
        from_optuna_study(study, dataset_key="u/1", space="mine", task="regression", kb=kb)
    assert len(kb) == 0 and kb.datasets().empty and kb.distributions() == {}
    first = _trials(optuna.create_study(), ({"k": 3}, {"k": small}, 0.5))
    from_optuna_study(first, dataset_key="u/1", space="mine", task="regression", kb=kb)
    second = _trials(optuna.create_study(), ({"k": 40}, {"k": large}, 0.6))
    with pytest.raises(ValueError, match="the import into space 'mine' gives IntDistribution"
                       r"\(high=50.*the knowledge base holds IntDistribution\(high=30"):
        from_optuna_study(second, dataset_key="u/2", space="mine", task="regression", kb=kb)
    assert len(kb) == 1
    with pytest.raises(ValueError, match="'\\+' joins metaopt spaces"):
        from_optuna_study(first, dataset_key="u/1", space="my+knn", task="regression")


def test_a_parameter_some_trials_leave_out_depends_on_a_categorical_one():
    from metaopt.ranker import PerformanceMatrix

    kernel = optuna.distributions.CategoricalDistribution(["linear", "rbf"])
    gamma, c = (optuna.distributions.FloatDistribution(1e-3, 1, log=True) for _ in range(2))
    study = _trials(optuna.create_study(),
                    ({"kernel": "rbf", "gamma": 0.1, "C": 0.5},
                     {"kernel": kernel, "gamma": gamma, "C": c}, 0.5),
                    ({"kernel": "linear", "C": 0.2}, {"kernel": kernel, "C": c}, 0.6))
    frame = from_optuna_study(study, dataset_key="u/1", space="mine",
                              task="regression").to_frame()
    space = PerformanceMatrix.from_frame(frame, "mine").search_space
    assert space.conditions == {"gamma": ("kernel", ("rbf",))}
    assert space.encode({"kernel": "linear", "C": 0.2}).tolist()[-2:] == [0.0, 0.0]
    study = _trials(optuna.create_study(), ({"x": 0.1}, {"x": gamma}, 0.5),
                    ({"x": 0.1, "y": 0.2}, {"x": gamma, "y": gamma}, 0.6))
    frame = from_optuna_study(study, dataset_key="u/1", space="mine",
                              task="regression").to_frame()
    with pytest.raises(ValueError, match="'y' is set in 1 of 2 successful evaluations, and "
                       "no categorical parameter's value tells when"):
        PerformanceMatrix.from_frame(frame, "mine")


@pytest.mark.parametrize("name", ["kb.pq", "KB.PARQUET", "export"])
def test_a_parquet_export_of_another_name_opens(tmp_path, name):
    """A parquet export not named .parquet was opened as SQLite: "cannot be opened as a
    knowledge base (corrupt or half-written file?) ... Move it aside and rebuild"."""
    kb = from_optuna_study(_study(), dataset_key="u/1", space="mine", task="regression")
    path = kb.to_parquet(tmp_path / "kb.parquet").rename(tmp_path / name)
    opened = open_knowledge_base(path)
    assert len(opened) == len(kb) and opened.parquet_source == path
    assert len(open_knowledge_base(str(path))) == len(kb)


def test_importing_a_study_without_a_finished_trial_warns():
    """A study with no trial, or only pruned ones, imported nothing, silently."""
    with pytest.warns(UserWarning, match=r"no complete or failed trial \(it has no trial\)"):
        kb = from_optuna_study(optuna.create_study(), dataset_key="u/1", space="mine",
                               task="regression")
    assert len(kb) == 0
    def objective(trial):
        trial.suggest_float("x", 0, 1)
        raise optuna.TrialPruned

    pruned = optuna.create_study()
    pruned.optimize(objective, n_trials=2)
    with pytest.warns(UserWarning, match=r"its 2 trial\(s\) are pruned\): no evaluation"):
        from_optuna_study(pruned, dataset_key="u/2", space="mine", task="regression", kb=kb)
