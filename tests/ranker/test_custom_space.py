"""Meta-models of a user's own parameters: Optuna studies -> knowledge base -> MetaSampler."""

from __future__ import annotations

import dataclasses

import numpy as np
import optuna
import pytest
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution
from sklearn.model_selection import cross_val_score
from sklearn.neighbors import KNeighborsClassifier
from sklearn.tree import DecisionTreeClassifier

from metaopt._suggest import suggest
from metaopt.cli import main
from metaopt.data import LocalSource, get_suite
from metaopt.kb import KnowledgeBase, build, from_optuna_study
from metaopt.metafeatures import compute_dataset
from metaopt.ranker import ConfigRanker, MetaModel, PerformanceMatrix
from metaopt.ranker._train import train_meta_models
from metaopt.samplers import MetaSampler
from metaopt.spaces import CombinedSpace, Param, SearchSpace, combine, get_space


def _knn_study(data, sampler) -> optuna.Study:
    """A study of parameters that are no metaopt space's (a range and a name of the user's)."""
    X = data.X.to_numpy(dtype=float)

    def objective(trial):
        model = KNeighborsClassifier(n_neighbors=trial.suggest_int("n_neighbors", 1, 50, log=True),
                                     weights=trial.suggest_categorical("weights",
                                                                       ["uniform", "distance"]))
        return cross_val_score(model, X, data.y, cv=3).mean()

    study = optuna.create_study(direction="maximize", sampler=sampler)
    study.optimize(objective, n_trials=6)
    return study


def test_a_meta_model_of_imported_studies_serves_a_meta_sampler(pmlb_root, tmp_path):
    """Training on studies imported under a space of the user's own failed: "unknown
    search space 'my_knn'" (only the values were stored, not their distributions)."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    source = LocalSource(pmlb_root)
    kb = KnowledgeBase(tmp_path / "kb.sqlite")
    for name in ("wine_recognition", "heart_statlog", "glass"):
        data = source.load(name, "classification")
        # the same seeded random start on every dataset: configurations shared across
        # datasets, which is what a meta-model learns from
        study = _knn_study(data, optuna.samplers.RandomSampler(seed=0))
        from_optuna_study(study, dataset_key=f"pmlb/{name}", space="my_knn",
                          task="classification", kb=kb, metafeatures=compute_dataset(data))
    written = train_meta_models(kb, tmp_path / "models", min_datasets=3, progress=False,
                                ranker_options={"iterations": 5, "n_ensemble": 1})
    model = MetaModel.load(written["my_knn"])
    assert model.space.name == "my_knn" and model.space.n_encoded == 3

    data = source.load("ecoli", "classification")
    study = _knn_study(data, MetaSampler(meta_model=written["my_knn"],
                                         dataset=(data.X, data.y), seed=0))
    for trial in study.trials:  # the meta-model's configurations, whole and valid
        assert trial.system_attrs["metaopt:source"].split()[0] in ("portfolio", "ranker",
                                                                   "random")
        assert trial.params == model.space.check_params(trial.params, "classification")


def test_candidates_of_a_space_with_steps_are_on_its_grid(stepped_space):
    """SearchSpace.sample passes a distribution's step since 2026-12-05: the meta-model's
    own random and local candidate draws refused it (TypeError: unexpected keyword
    argument 'step') and every MetaSampler proposal failed."""
    from metaopt.ranker._metamodel import _LocalTrial, _RandomTrial

    space = stepped_space
    drawn = [space.sample(_RandomTrial(seed), "regression") for seed in range(30)]
    drawn += [space.sample(_LocalTrial({"alpha": 0.5, "k": 6}, seed, scale=0.5), "regression")
              for seed in range(30)]
    assert {d["k"] for d in drawn} <= {2, 4, 6, 8, 10} and len({d["k"] for d in drawn}) > 2
    assert {d["alpha"] for d in drawn} <= {0.0, 0.25, 0.5, 0.75, 1.0}
    for d in drawn:
        assert space.check_params(d, "regression") == d
    # a registered space (no step) draws as before: ints take every value
    knn = get_space("knn")
    ks = {knn.sample(_RandomTrial(seed), "classification")["n_neighbors"] for seed in range(60)}
    assert any(k % 2 for k in ks) and any(k % 2 == 0 for k in ks)


def _tree(params, task, random_state):
    return DecisionTreeClassifier(**params, random_state=random_state)


TREE = SearchSpace(
    name="my_tree",
    params=(Param("max_depth", IntDistribution(1, 8), 3),
            Param("min_samples_leaf", IntDistribution(1, 32, log=True), 1)),
    build_model=_tree, preprocessing="ordinal", tasks=("classification",))


@pytest.fixture(scope="module")
def tree_kb(pmlb_root, tmp_path_factory):
    """A knowledge base of TREE built as docs/spaces.md says: kb.build(spaces=[space])."""
    suite = get_suite("pmlb-classification", root=pmlb_root)
    refs = [r for r in suite if r.name in ("wine_recognition", "heart_statlog", "glass",
                                           "ecoli")]
    kb = KnowledgeBase(tmp_path_factory.mktemp("kb") / "kb.sqlite")
    build(refs, kb, spaces=[TREE], n_configs=4, n_design=4, cv_folds=2, time_limit=30,
          max_rows=300, backend="sequential", progress=False)
    return kb


def test_a_meta_model_of_a_built_space_of_ones_own(tree_kb, pmlb_root, tmp_path):
    """PerformanceMatrix.from_frame took only a name, and MetaModel.fit then failed for a
    space that kb.build evaluated from its object: "unknown search space 'my_tree'"."""
    matrix = PerformanceMatrix.from_frame(tree_kb.to_frame(), TREE)
    assert matrix.n_tasks == 4 and matrix.search_space is TREE
    model = MetaModel.fit(matrix, ranker=ConfigRanker(iterations=5, n_ensemble=1,
                                                      random_state=0, progress=False))
    model.save(tmp_path / "model")
    model = MetaModel.load(tmp_path / "model")
    assert model.space.to_json_dict() == TREE.to_json_dict()

    data = LocalSource(pmlb_root).load("monk2", "classification")
    study = optuna.create_study(direction="maximize", sampler=MetaSampler(
        meta_model=tmp_path / "model", dataset=(data.X, data.y), seed=0))
    study.optimize(lambda t: TREE.sample(t, "classification")["max_depth"], n_trials=2)
    picks = model.portfolio.suggest(2, compute_dataset(data))["params"]
    assert [t.params for t in study.trials] == list(picks)


def _pruned_tree(params, task, random_state):
    return DecisionTreeClassifier(ccp_alpha=params.get("ccp_alpha", 0.0),
                                  max_depth=params["max_depth"], random_state=random_state)


def _pruned(high: float = 0.05) -> SearchSpace:
    """A tiny space of one's own with a condition: ccp_alpha only when pruning."""
    return SearchSpace(
        name="my_pruned_tree",
        params=(Param("max_depth", IntDistribution(1, 8), 3),
                Param("prune", CategoricalDistribution((False, True)), False),
                Param("ccp_alpha", FloatDistribution(1e-4, high, log=True), 1e-3,
                      condition=("prune", (True,)))),
        build_model=_pruned_tree, tasks=("classification",))


def test_train_meta_model_rebuilds_a_built_space_from_the_store(pmlb_root, tmp_path, capsys):
    """The store kept only a built space's evaluations: `metaopt train-meta-model` refused
    it ("no metaopt space ... holds only their evaluations") and from_frame without the
    space object had no space to rebuild. The build now records its to_json_dict()."""
    space = _pruned()
    suite = get_suite("pmlb-classification", root=pmlb_root)
    refs = [r for r in suite if r.name in ("wine_recognition", "glass", "ecoli")]
    store = tmp_path / "kb.sqlite"
    build(refs, store, spaces=[space], n_configs=3, n_design=3, cv_folds=2, max_rows=200,
          backend="sequential", progress=False)
    with KnowledgeBase(store) as kb:
        assert kb.space_descriptions() == {space.name: space.to_json_dict()}
        back = KnowledgeBase.from_parquet(kb.to_parquet(tmp_path / "kb.parquet"))
        assert back.space_descriptions() == kb.space_descriptions()  # the export keeps it
        matrix = PerformanceMatrix.from_frame(back.to_frame())  # no space object given
    assert matrix.search_space.to_json_dict() == space.to_json_dict()

    out = tmp_path / "models"
    assert main(["train-meta-model", "--kb", str(store), "--out", str(out),
                 "--min-datasets", "3", "--iterations", "5", "--n-ensemble", "1",
                 "--no-progress"]) == 0, capsys.readouterr().err
    assert MetaModel.load(out / space.name).space.to_json_dict() == space.to_json_dict()
    data = LocalSource(pmlb_root).load("monk2", "classification")
    picks = suggest(data, space=space, n=2, meta_model=out / space.name)
    sampler = MetaSampler(meta_model=out / space.name, dataset=(data.X, data.y), seed=0)
    study = optuna.create_study(direction="maximize", sampler=sampler)
    study.optimize(lambda t: space.sample(t, "classification")["max_depth"], n_trials=2)
    assert [t.params for t in study.trials] == list(picks["params"])

    with pytest.raises(ValueError, match=r"space 'my_pruned_tree' is not the one the "
                                         r"knowledge base holds .* its distributions differ"):
        build(refs, store, spaces=[_pruned(high=0.1)], n_configs=3, n_design=3, cv_folds=2,
              max_rows=200, backend="sequential", progress=False)
    with KnowledgeBase(store) as kb:  # kept as it was: no run, the first description
        assert len(kb.runs()) == 1
        assert kb.space_descriptions() == {space.name: space.to_json_dict()}


def test_train_meta_models_names_a_built_space_it_cannot_rebuild(tree_kb, tmp_path):
    """A store of a SearchSpace of one's own built by an earlier metaopt (no description,
    no distributions): train-meta-model failed after any other space's training with
    "unknown search space 'my_tree'"; it says how to record the space or train without."""
    kb = KnowledgeBase.from_parquet(tree_kb.to_parquet(tmp_path / "kb.parquet"))
    with kb.engine.begin() as conn:
        conn.exec_driver_sql("DELETE FROM kb_meta WHERE key LIKE 'space_json:%'")
    with pytest.raises(ValueError, match=r"spaces \['my_tree'\] are no metaopt space.*"
                                         r"add_space_description\(space.to_json_dict\(\)\).*"
                                         r"PerformanceMatrix.from_frame\(kb.to_frame\(\), "
                                         r"space\)"):
        train_meta_models(kb, tmp_path / "models", min_datasets=3, progress=False)
    assert not (tmp_path / "models").exists()  # before any work
    kb.add_space_description(TREE.to_json_dict())  # as the message says
    assert list(train_meta_models(kb, tmp_path / "models", min_datasets=3, progress=False,
                                  ranker_options={"iterations": 5, "n_ensemble": 1})) == [
        "my_tree"]


def test_a_knowledge_base_without_shared_configurations_says_how_to_share(pmlb_root,
                                                                          tmp_path):
    """A build without a shared design (n_design=0) gave "no configuration of space
    'my_tree' covers 50% of the tasks", not what to do."""
    suite = get_suite("pmlb-classification", root=pmlb_root)
    refs = [r for r in suite if r.name in ("wine_recognition", "glass", "ecoli")]
    kb = KnowledgeBase(tmp_path / "kb.sqlite")
    build(refs, kb, spaces=[TREE], n_configs=2, n_design=0, cv_folds=2, max_rows=300,
          backend="sequential", progress=False)
    with pytest.raises(ValueError, match=r"evaluated on 50% of its 3 datasets.*"
                                         r"n_design=.*--n-design"):
        PerformanceMatrix.from_frame(kb.to_frame(), TREE)


def test_a_ranker_needs_two_shared_configurations(tree_kb):
    """A build with n_design=1 shares one configuration: the ranker, which learns from
    the order of configurations on a dataset, was meta-trained on no pair at all and
    MetaModel.fit gave no sign of it."""
    matrix = PerformanceMatrix.from_frame(tree_kb.to_frame(), TREE)
    one = dataclasses.replace(matrix, configs=matrix.configs.iloc[:1],
                              scores=matrix.scores[:, :1])
    with pytest.raises(ValueError, match=r"at least 2 configurations shared .* got 1.*"
                                         r"--n-design"):
        MetaModel.fit(one, ranker=ConfigRanker(iterations=5, n_ensemble=1, progress=False))


def test_suggest_and_meta_sampler_take_the_space_object_with_its_model(tree_kb, pmlb_root,
                                                                       tmp_path):
    """metaopt.suggest(space=TREE, meta_model=...) was a TypeError printing the whole
    space, MetaSampler(space=TREE, meta_model=...) one saying to pass meta_model=."""
    import metaopt

    matrix = PerformanceMatrix.from_frame(tree_kb.to_frame(), TREE)
    MetaModel.fit(matrix, ranker=ConfigRanker(iterations=5, n_ensemble=1, random_state=0,
                                              progress=False)).save(tmp_path / "model")
    data = LocalSource(pmlb_root).load("monk2", "classification")
    picks = metaopt.suggest(data.X, data.y, space=TREE, n=2, meta_model=tmp_path / "model")
    by_name = metaopt.suggest(data.X, data.y, space="my_tree", n=2,
                              meta_model=tmp_path / "model")
    assert list(picks["params"]) == list(by_name["params"])
    sampler = MetaSampler(space=TREE, meta_model=tmp_path / "model", dataset=(data.X, data.y))
    assert sampler is not None
    wider = SearchSpace(name="my_tree", params=(Param("max_depth", IntDistribution(1, 16), 3),
                                                TREE.params[1]),
                        build_model=_tree, tasks=("classification",))
    with pytest.raises(ValueError, match="trained on another space 'my_tree' than the one"):
        MetaSampler(space=wider, meta_model=tmp_path / "model")
    with pytest.raises(TypeError, match="a space object goes with meta_model= only"):
        MetaSampler(space=TREE)


def test_a_saved_meta_model_encodes_configurations_as_trained(tree_kb, tmp_path):
    """A saved model restores a space of one's own from JSON whose parameter names are
    sorted: one declared in another order (min_samples_leaf first) was trained on one
    encoding and loaded with another, so the ranker scored permuted inputs."""
    backwards = dataclasses.replace(TREE, params=TREE.params[::-1])
    matrix = PerformanceMatrix.from_frame(tree_kb.to_frame(), backwards)
    model = MetaModel.fit(matrix, ranker=ConfigRanker(iterations=5, n_ensemble=1,
                                                      random_state=0, progress=False))
    model.save(tmp_path / "model")
    loaded = MetaModel.load(tmp_path / "model")
    for params in matrix.configs["params"]:
        np.testing.assert_array_equal(loaded.ranker.space_.encode(params),
                                      model.ranker.space_.encode(params))


def test_a_saved_ranker_restores_the_parameter_order_it_was_trained_on(tree_kb, tmp_path):
    """A ranker fitted on an external space given explicitly (as the YAHPO models are:
    plain parameters first, then the conditional ones) was loaded with the order its
    saved JSON restores, names sorted: the shipped yahpo_rbv2_xgboost model ranked
    permuted inputs."""
    matrix = PerformanceMatrix.from_frame(tree_kb.to_frame(), TREE)
    backwards = dataclasses.replace(TREE, params=TREE.params[::-1])
    ranker = ConfigRanker(iterations=5, n_ensemble=1, random_state=0,
                          progress=False).fit(matrix, space=backwards)
    ranker.save(tmp_path / "ranker")
    loaded = ConfigRanker.load(tmp_path / "ranker")
    assert [p.name for p in loaded.space_.params] == [p.name for p in backwards.params]
    configs = list(matrix.configs["params"])
    observed = [(configs[0], 0.8), (configs[1], 0.6)]
    for a, b in zip(loaded.predict(None, observed, configs[2:]),
                    ranker.predict(None, observed, configs[2:]), strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.fixture(scope="module")
def tree_knn_kb(pmlb_root, tmp_path_factory):
    """A knowledge base of TREE and the knn space (kb.build(spaces=[TREE, "knn"]))."""
    suite = get_suite("pmlb-classification", root=pmlb_root)
    refs = [r for r in suite if r.name in ("wine_recognition", "glass", "ecoli")]
    store = tmp_path_factory.mktemp("kb") / "kb.sqlite"
    build(refs, store, spaces=[TREE, "knn"], n_configs=3, n_design=3, cv_folds=2,
          max_rows=200, backend="sequential", progress=False)
    return store


def test_a_meta_model_of_a_combination_with_a_space_of_ones_own_loads(tree_knn_kb, pmlb_root,
                                                                      tmp_path):
    """A meta-model of combine([own space, knn]) fitted and saved, but MetaModel.load
    failed: "unknown search space 'my_tree'" (a combination was looked up among the
    registered spaces only, and one restored unordered could not be put back in order)."""
    both = combine([dataclasses.replace(TREE, params=TREE.params[::-1]), get_space("knn")])
    with KnowledgeBase(tree_knn_kb) as kb:
        matrix = PerformanceMatrix.from_frame(kb.to_frame(), both)
    MetaModel.fit(matrix, ranker=ConfigRanker(iterations=5, n_ensemble=1, random_state=0,
                                              progress=False)).save(tmp_path / "model")
    loaded = MetaModel.load(tmp_path / "model")
    assert isinstance(loaded.space, CombinedSpace)
    assert loaded.space.to_json_dict() == both.to_json_dict()
    assert loaded.ranker.space_.encoded_names == both.encoded_names

    data = LocalSource(pmlb_root).load("monk2", "classification")
    picks = suggest(data, space=both, n=2, meta_model=tmp_path / "model")
    sampler = MetaSampler(space=both, meta_model=tmp_path / "model",
                          dataset=(data.X, data.y), seed=0)
    study = optuna.create_study(direction="maximize", sampler=sampler)
    study.optimize(lambda t: both.sample(t, "classification")["space"] == "knn", n_trials=2)
    assert [t.params for t in study.trials] == list(picks["params"])


def test_train_meta_model_combines_a_built_space_of_ones_own_by_name(tree_knn_kb, tmp_path,
                                                                     capsys):
    """`train-meta-model --spaces my_tree+knn` said "space 'my_tree+knn' has no
    evaluations; spaces present: 'knn', 'my_tree'": a combination was read from
    registered spaces only, not from the store's description of one's own."""
    out = tmp_path / "models"
    assert main(["train-meta-model", "--kb", str(tree_knn_kb), "--out", str(out),
                 "--spaces", "my_tree+knn", "--min-datasets", "3", "--iterations", "5",
                 "--n-ensemble", "1", "--no-progress"]) == 0
    assert "warning" not in capsys.readouterr().err  # no cost model, none asked for
    model = MetaModel.load(out / "my_tree+knn")
    assert model.space.to_json_dict() == combine([TREE, get_space("knn")]).to_json_dict()


def test_a_saved_combination_keeps_the_defaults_of_a_later_member_of_ones_own(tree_knn_kb,
                                                                               tmp_path):
    """MetaModel.load of a model of combine([knn, own space]) gave the own space each
    parameter's low end as default (max_depth 1, not 3): the combination's description
    holds its first member's defaults only. A file without the members' descriptions
    (saved before them) is still read so."""
    from metaopt.ranker._spaces import combination_from_json

    both = combine([get_space("knn"), TREE])
    with KnowledgeBase(tree_knn_kb) as kb:
        matrix = PerformanceMatrix.from_frame(kb.to_frame(), both)
    MetaModel.fit(matrix, ranker=ConfigRanker(iterations=5, n_ensemble=1, random_state=0,
                                              progress=False)).save(tmp_path / "model")
    loaded = MetaModel.load(tmp_path / "model").space
    assert [m.to_json_dict() for m in loaded.members] == [m.to_json_dict()
                                                          for m in both.members]
    assert loaded.members[1].default("classification") == {"max_depth": 3,
                                                           "min_samples_leaf": 1}
    old = combination_from_json(both.to_json_dict())
    assert old.members[1].default("classification")["max_depth"] == 1
