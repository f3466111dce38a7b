"""MetaOptClassifier / MetaOptRegressor over a SearchSpace of one's own, with a meta-model
trained on it (docs/spaces.md, 'Your own space'): spaces=my_space, meta_model=..."""

from __future__ import annotations

import pickle

import numpy as np
import optuna
import pytest
from optuna.distributions import IntDistribution
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

from metaopt import MetaOptClassifier, MetaOptRegressor
from metaopt.data import LocalSource, get_suite
from metaopt.kb import KnowledgeBase, build
from metaopt.metafeatures import compute_dataset
from metaopt.ranker import ConfigRanker, MetaModel, PerformanceMatrix
from metaopt.spaces import Param, SearchSpace, combine


def _tree(params, task, random_state):
    model = DecisionTreeClassifier if task == "classification" else DecisionTreeRegressor
    return model(**params, random_state=random_state)


TREE = SearchSpace(
    name="my_tree",
    params=(Param("max_depth", IntDistribution(1, 8), 3),
            Param("min_samples_leaf", IntDistribution(1, 32, log=True), 1)),
    build_model=_tree, preprocessing="ordinal")


@pytest.fixture(scope="module")
def models(pmlb_root, tmp_path_factory):
    """Meta-models of TREE and of TREE + knn, trained as docs/spaces.md says."""
    suite = get_suite("pmlb-classification", root=pmlb_root)
    refs = [r for r in suite if r.name in ("wine_recognition", "heart_statlog", "glass",
                                           "ecoli")]
    out = tmp_path_factory.mktemp("models")
    kb = KnowledgeBase(out / "kb.sqlite")
    build(refs, kb, spaces=[TREE, "knn"], n_configs=4, n_design=4, cv_folds=2, time_limit=30,
          max_rows=300, backend="sequential", progress=False)
    frame = kb.to_frame()
    for name, space in (("tree", TREE), ("both", combine([TREE, "knn"]))):
        ranker = ConfigRanker(iterations=5, n_ensemble=1, random_state=0, progress=False)
        MetaModel.fit(PerformanceMatrix.from_frame(frame, space), ranker=ranker).save(out / name)
    return out


@pytest.fixture(scope="module")
def monk2(pmlb_root):
    return LocalSource(pmlb_root).load("monk2", "classification")


def test_a_space_of_ones_own_is_searched_with_its_meta_model(models, monk2):
    """spaces=my_space was refused ("searches no space of your own") even with a
    meta-model trained on it: its portfolio now starts the search."""
    search = MetaOptClassifier(spaces=TREE, meta_model=models / "tree", n_trials=4, cv=2,
                               random_state=0).fit(monk2.X, monk2.y)
    assert search.space_ == search.best_family_ == "my_tree"
    assert set(search.history_["family"]) == {"my_tree"}
    picks = MetaModel.load(models / "tree").portfolio.suggest(
        len(search.warm_start_), compute_dataset(monk2))["params"]
    assert list(search.warm_start_["params"]) == list(picks)
    assert search.warm_start_["reason"].str.startswith("portfolio").all()
    assert isinstance(search.best_estimator_[-1], DecisionTreeClassifier)
    assert search.score(monk2.X, monk2.y) > 0.6
    assert "over 'my_tree'" in search.summary()
    loaded = pickle.loads(pickle.dumps(search))
    np.testing.assert_array_equal(loaded.predict(monk2.X), search.predict(monk2.X))
    assert loaded.history_.equals(search.history_)
    # a MetaModel object as well as its directory
    again = MetaOptClassifier(spaces=TREE, meta_model=MetaModel.load(models / "tree"),
                              n_trials=4, cv=2, random_state=0).fit(monk2.X, monk2.y)
    assert again.history_.equals(search.history_)


def test_a_space_of_ones_own_combined_with_registered_names(models, monk2):
    """spaces=[my_space, "knn"] with a model of that combination, in killable workers."""
    search = MetaOptClassifier(spaces=[TREE, "knn"], meta_model=models / "both", n_trials=4,
                               cv=2, time_budget=60, random_state=0).fit(monk2.X, monk2.y)
    assert search.space_ == "my_tree+knn"
    assert set(search.history_["family"]) <= {"my_tree", "knn"}
    assert search.warm_start_["reason"].str.startswith("portfolio").all()
    assert search.predict(monk2.X).shape == monk2.y.shape
    # in another order, or as a combination object: the same families, the model restricted
    # to them (was refused: "trained on another space 'knn+my_tree' than the one given")
    for spaces in (["knn", TREE], combine(["knn", TREE])):
        other = MetaOptClassifier(spaces=spaces, meta_model=models / "both", n_trials=2, cv=2,
                                  random_state=0).fit(monk2.X, monk2.y)
        assert other.space_ == "knn+my_tree"
        assert other.warm_start_["reason"].str.startswith("portfolio").all()


def test_a_space_of_ones_own_without_its_model_is_refused_with_the_flow(models, monk2):
    with pytest.raises(ValueError, match=r"spaces: 'my_tree' is a space of your own.*"
                                         r"meta_model=.*train-meta-model.*sampler="):
        MetaOptClassifier(spaces=TREE, n_trials=2, cv=2).fit(monk2.X, monk2.y)
    # a model of another space: the MetaSampler's check
    with pytest.raises(ValueError, match="trained on space 'my_tree', not 'my_tree\\+knn'"):
        MetaOptClassifier(spaces=[TREE, "knn"], meta_model=models / "tree", n_trials=2,
                          cv=2).fit(monk2.X, monk2.y)
    with pytest.raises(ValueError, match=r"serves combinations of its families, not "
                                         r"'my_tree' alone; give a model of 'my_tree' alone"):
        MetaOptClassifier(spaces=TREE, meta_model=models / "both", n_trials=2,
                          cv=2).fit(monk2.X, monk2.y)
    wider = SearchSpace(name="my_tree", params=(Param("max_depth", IntDistribution(1, 16), 3),
                                                TREE.params[1]), build_model=_tree)
    with pytest.raises(ValueError, match="trained on another space 'my_tree' than the one"):
        MetaOptClassifier(spaces=wider, meta_model=models / "tree", n_trials=2,
                          cv=2).fit(monk2.X, monk2.y)


def test_a_space_of_ones_own_that_cannot_be_pickled_or_serve_the_task_is_refused(monk2):
    local = SearchSpace(name="my_lambda", params=TREE.params, build_model=lambda p, t, r: None)
    with pytest.raises(ValueError, match=r"spaces: 'my_lambda' cannot be pickled .*"
                                         r"module-level function"):
        MetaOptClassifier(spaces=local, sampler=optuna.samplers.RandomSampler(seed=0),
                          n_trials=2, cv=2).fit(monk2.X, monk2.y)
    regression = SearchSpace(name="my_reg", params=TREE.params, build_model=_tree,
                             tasks=("regression",))
    with pytest.raises(ValueError, match=r"spaces: 'my_reg' is a space of regression only"):
        MetaOptClassifier(spaces=regression, sampler=optuna.samplers.RandomSampler(seed=0),
                          n_trials=2, cv=2).fit(monk2.X, monk2.y)


def test_a_space_of_ones_own_with_a_sampler_needs_no_meta_model(pmlb_root):
    data = LocalSource(pmlb_root).load("1027_ESL", "regression")
    search = MetaOptRegressor(spaces=TREE, sampler=optuna.samplers.TPESampler(seed=0),
                              n_trials=3, cv=2, random_state=0).fit(data.X, data.y)
    assert set(search.history_["family"]) == {"my_tree"} and search.warm_start_.empty
    assert search.score(data.X, data.y) > 0.5
