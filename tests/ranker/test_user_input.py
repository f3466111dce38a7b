"""Meta-models used as a new user would: a knowledge base where a matrix is expected,
candidates in other containers, bad files and paths, readable reasons."""

from __future__ import annotations

import copy
import re

import numpy as np
import pandas as pd
import pytest

from metaopt.ranker import ConfigRanker, MetaModel, Portfolio


@pytest.fixture(scope="module")
def tabrepo_kb(shared_data):
    from metaopt.kb import load_tabrepo

    return load_tabrepo(shared_data / "tabrepo-lightgbm")


@pytest.mark.parametrize("fit", [lambda m: ConfigRanker(iterations=1).fit(m),
                                 lambda m: Portfolio().fit(m),
                                 lambda m: MetaModel.fit(m)])
def test_fit_on_a_knowledge_base_says_how_to_build_the_matrix(tabrepo_kb, fit):
    """fit(kb) and fit(kb.to_frame()) failed with "'KnowledgeBase' object has no
    attribute 'n_tasks'"."""
    with pytest.raises(TypeError, match=r"takes a PerformanceMatrix .* got "
                       r"KnowledgeBase: build it with PerformanceMatrix\.from_frame\("
                       r"kb\.to_frame\(\), space\)"):
        fit(tabrepo_kb)
    with pytest.raises(TypeError, match=r"got DataFrame: .*from_frame\(frame, space\) "
                       r"\(spaces in this frame: \['tabrepo_lightgbm'\]\)"):
        fit(tabrepo_kb.to_frame())


@pytest.fixture(scope="module")
def svm_model():
    from metaopt.ranker import load_meta_model

    return load_meta_model("svm", "classification")


def test_candidates_as_a_dataframe(svm_model):
    """A DataFrame of candidates (one row per configuration, as pd.DataFrame(configs)
    makes, or the params column of rank() / Portfolio.suggest()) failed with
    "'str' object has no attribute 'items'"."""
    configs = svm_model.candidates("classification", seed=0)[:40]
    observed = [(configs[0], 0.9), (configs[1], 0.7), (configs[2], 0.8), (configs[3], 0.6)]
    ranker = svm_model.ranker
    frame = pd.DataFrame(configs[4:])  # inactive parameters are NaN; degree reads as float
    assert frame["degree"].dtype == float
    expected = ranker.rank(None, observed, configs[4:])
    ranked = ranker.rank(None, observed, frame)
    assert list(ranked["candidate"]) == list(expected["candidate"])
    assert list(ranked["params"]) == list(expected["params"])  # NaN left out
    degrees = [p["degree"] for p in ranked["params"] if "degree" in p]
    assert degrees and all(type(d) is int for d in degrees)  # not 3.0
    assert list(ranker.rank(None, observed, expected)["params"]) == list(expected["params"])
    assert ranker.suggest(None, observed, frame) == ranker.suggest(None, observed, configs[4:])
    pick = svm_model.propose(None, observed, candidates=frame, seed=0)
    assert pick == svm_model.propose(None, observed, candidates=configs[4:], seed=0)
    refined = svm_model.refined("classification", frame, observed, len(observed), seed=0)
    assert refined[:len(configs) - 4] == configs[4:]
    excluded = svm_model.propose(None, observed, candidates=configs[4:], seed=0,
                                 exclude=pd.DataFrame([pick.params]))
    assert excluded.params != pick.params


def test_candidates_of_the_wrong_kind_are_named(svm_model):
    configs = svm_model.candidates("classification", seed=0)[:8]
    ranker = svm_model.ranker
    with pytest.raises(TypeError, match=r"got one dict: pass \[candidates\]"):
        ranker.rank(None, [], configs[0])
    with pytest.raises(TypeError, match=r"candidates\[1\] must be a configuration"):
        ranker.rank(None, [], [configs[0], "C=1"])
    assert len(ranker.rank(None, [], (c for c in configs))) == 8  # a generator is read once
    with pytest.raises(TypeError, match=r"got one dict"):
        svm_model.propose(None, [], candidates=configs[0])
    observed = pd.DataFrame({"params": configs[:2], "score": [0.9, 0.8]})
    with pytest.raises(ValueError, match=r"observed must be a list of \(params dict, score "
                       r"number\) pairs, got DataFrame"):
        ranker.rank(None, observed, configs)


def test_the_reason_counts_the_evaluations_the_ranker_adapted_on(small_meta_model,
                                                                 tabrepo_matrix):
    """Failed evaluations were counted as adapted on: with 4 failures and no success the
    reason read "ranker adapted on 4 evaluation(s)" though the ranker adapted on none."""
    params = list(tabrepo_matrix.configs["params"])
    failed = [(p, -np.inf) for p in params[:4]]
    pick = small_meta_model.propose(None, failed, candidates=params, seed=1)
    assert pick.source == "ranker"
    assert pick.reason.startswith("ranker not adapted (0 successful evaluation(s); it adapts "
                                  "from 2 on), 4 failed one(s) left out: predicted "), pick.reason
    assert "on its relative scale" in pick.reason
    mixed = failed[:1] + [(params[5], 0.3), (params[6], 0.2), (params[7], 0.1)]
    reason = small_meta_model.propose(None, mixed, candidates=params, seed=1).reason
    assert reason.startswith("ranker adapted on 3 evaluation(s), 1 failed one(s) left out: ")
    many = [(p, float(i % 7)) for i, p in enumerate(params[:60])]
    assert not any(small_meta_model.explores(n) for n in (4, 60))
    reason = small_meta_model.propose(None, many, candidates=params, seed=1).reason
    limit = 4 * small_meta_model.ranker.max_support
    assert reason.startswith(f"ranker adapted on {limit} evaluation(s) (the best and the "
                             "latest of 60): "), reason
    zero_shot = copy.copy(small_meta_model.ranker)
    zero_shot.algorithm = "none"
    assert zero_shot.adaptation(5) == "not adapted (a zero-shot ranker, algorithm='none')"


def test_a_ranker_saved_into_a_directory_lands_inside_it(small_meta_model, tmp_path):
    """save(existing_dir) wrote <dir>.json and <dir>.safetensors beside the directory."""
    ranker = small_meta_model.ranker
    folder = tmp_path / "models"
    folder.mkdir()
    assert ranker.save(folder) == folder / "ranker"
    assert sorted(p.name for p in folder.iterdir()) == ["ranker.json", "ranker.safetensors"]
    assert not (tmp_path / "models.json").exists()
    loaded = ConfigRanker.load(folder)
    assert loaded.task_keys_ == ranker.task_keys_
    # a saved MetaModel's folder gives its ranker
    model_dir = small_meta_model.save(tmp_path / "model")
    assert ConfigRanker.load(model_dir).task_keys_ == ranker.task_keys_


@pytest.mark.parametrize("exploration", [-1.0, float("nan"), "0.5", None])
def test_suggest_refuses_an_exploration_that_is_no_weight(small_meta_model, tabrepo_matrix,
                                                          exploration):
    """A NaN exploration silently picked candidate 0 and a negative one favoured the
    candidates the ensemble is least sure of."""
    params = list(tabrepo_matrix.configs["params"])[:6]
    with pytest.raises(ValueError, match="exploration must be a number >= 0"):
        small_meta_model.ranker.suggest(None, [], params, exploration=exploration)



def test_portfolio_save_paths(small_meta_model, tmp_path):
    """An unfitted Portfolio's save failed with "'Portfolio' object has no attribute
    'space_'", and Portfolio.save(directory) with IsADirectoryError."""
    with pytest.raises(ValueError, match="Portfolio is not fitted"):
        Portfolio().save(tmp_path / "p.json")
    folder = tmp_path / "folder"
    folder.mkdir()
    assert small_meta_model.portfolio.save(folder) == folder / "portfolio.json"
    assert Portfolio.load(folder).config_ids_ == small_meta_model.portfolio.config_ids_


def test_a_meta_model_saved_onto_a_file_is_refused_clearly(small_meta_model, tmp_path):
    """MetaModel.save onto an existing file failed with FileExistsError from mkdir."""
    afile = tmp_path / "model.json"
    afile.write_text("{}")
    with pytest.raises(ValueError, match=r"saved as a directory of files, and .*model\.json' "
                       "is a file"):
        small_meta_model.save(afile)
    assert afile.read_text() == "{}"


def test_an_invalid_observation_is_named_by_its_place_in_the_callers_list(svm_model,
                                                                          small_meta_model,
                                                                          tabrepo_matrix):
    """After a failed evaluation (left out before adapting) or past the adaptation's
    limit, a bad configuration was named by its place in the filtered list, or (with
    min_distance, as the shipped svm model) not named at all: "svm: parameter 'C' got
    1000000.0"."""
    configs = svm_model.candidates("classification", seed=0)[:30]
    bad = {"C": 1e6, "kernel": "rbf", "gamma": 0.1}
    observed = [(configs[0], -np.inf), (configs[1], 0.8), (configs[2], 0.7), (bad, 0.5)]
    assert svm_model.min_distance > 0
    with pytest.raises(ValueError, match=r"^observed\[3\] is not a valid svm configuration: "
                       r"svm: parameter 'C' got 1000000\.0"):
        svm_model.propose(None, observed, candidates=configs, seed=0)
    no_distance = copy.copy(svm_model)
    no_distance.min_distance = 0.0
    with pytest.raises(ValueError, match=r"^observed\[3\] is not a valid svm"):
        no_distance.propose(None, observed, candidates=configs, seed=0)
    with pytest.raises(ValueError, match=r"^candidates\[31\] is not a valid svm"):
        no_distance.propose(None, observed[:3], candidates=configs + [configs[3], bad], seed=0)
    # the ranker alone: past its adaptation limit it keeps the best and the latest
    params = list(tabrepo_matrix.configs["params"])
    many = [(p, float(i)) for i, p in enumerate(params[:60])]
    many[55] = ({**params[55], "num_leaves": -3}, 55.0)
    with pytest.raises(ValueError, match=r"^observed\[55\] is not a valid"):
        small_meta_model.ranker.predict(None, many, params[60:])


def test_random_after_tie_must_be_a_bool(small_meta_model, tmp_path):
    """random_after_tie="no" (e.g. in an edited policy.json) was taken as on."""
    with pytest.raises(ValueError, match="random_after_tie must be True or False, got 'no'"):
        MetaModel(small_meta_model.portfolio, random_after_tie="no")
    directory = small_meta_model.save(tmp_path / "model")
    policy = directory / "policy.json"
    policy.write_text(policy.read_text().replace('"random_after_tie": false',
                                                 '"random_after_tie": "no"'))
    with pytest.raises(ValueError, match="random_after_tie must be True or False"):
        MetaModel.load(directory)
    assert MetaModel(small_meta_model.portfolio, random_after_tie=np.bool_(True)).random_after_tie


def test_a_portfolio_edited_to_hold_an_invalid_configuration_is_refused(tmp_path):
    """portfolio.json (plain JSON, no checksum) edited to C=5e6 loaded, and the model's
    first proposal was that configuration, outside the space."""
    import json
    import shutil

    from metaopt.ranker._shipped import _models_root

    directory = tmp_path / "svm"
    shutil.copytree(_models_root() / "svm@classification", directory)
    path = directory / "portfolio.json"
    data = json.loads(path.read_text())
    data["params"][0]["C"] = 5e6
    path.write_text(json.dumps(data))
    with pytest.raises(ValueError, match=r"portfolio\.json: configuration 0 \(\w+\) is not a "
                       r"valid svm configuration \(svm: parameter 'C' got 5000000\.0.*changed "
                       "after saving"):
        MetaModel.load(directory)
    data["params"][0] = "C=1"
    path.write_text(json.dumps(data))
    with pytest.raises(ValueError, match="configuration 0 .* is not a valid svm"):
        MetaModel.load(directory)


@pytest.mark.parametrize("k", [0, -1, 2.5])
def test_neighbors_refuses_a_count_that_is_no_count(small_meta_model, tabrepo_matrix, k):
    """k=0 gave every training dataset and k=-1 all but the farthest, silently."""
    portfolio = small_meta_model.portfolio
    mf = tabrepo_matrix.metafeatures.iloc[-1]
    assert len(portfolio.neighbors(mf, 2)) == 2
    assert len(portfolio.neighbors(mf)) == len(portfolio.task_keys_)
    with pytest.raises(ValueError, match=r"k \(or None: every training dataset\) must be an "
                       "integer >= 1"):
        portfolio.neighbors(mf, k)


def test_a_space_name_no_space_has_is_named_so_with_the_nearest(small_meta_model):
    """metaopt suggest --space knnn --meta-model <a knn model> said "give a model of
    'knnn'", a space that does not exist; it now says so and names the nearest."""
    from metaopt.ranker._shipped import model_for_space

    with pytest.raises(ValueError, match=r"not 'tabrepo_lightgbmm' \(no space of metaopt has "
                       r"that name; did you mean 'tabrepo_lightgbm'\?\): search"):
        model_for_space("tabrepo_lightgbmm", small_meta_model)
    with pytest.raises(ValueError, match=r"trained on space 'tabrepo_lightgbm', not 'knn': "):
        model_for_space("knn", small_meta_model)


@pytest.mark.parametrize("space", ["all", "svm+knn"])
def test_a_combination_is_no_unknown_space_name(small_meta_model, space):
    """MetaOptClassifier(spaces="all", meta_model=<a tabrepo model>) said "not 'all' (no
    space of metaopt has that name)": combinations are names of spaces too."""
    from metaopt.ranker._shipped import model_for_space

    with pytest.raises(ValueError) as info:
        model_for_space(space, small_meta_model)
    assert f"not {space!r}: search 'tabrepo_lightgbm'" in str(info.value)
    assert "no space of metaopt" not in str(info.value)


def test_a_shipped_models_name_given_as_a_directory_says_how_to_load_it(tmp_path,
                                                                        monkeypatch):
    """meta_model="knn@classification" said only "directory ... does not exist"."""
    from metaopt.ranker import MetaModel

    monkeypatch.chdir(tmp_path)  # no folder of that name here
    with pytest.raises(ValueError, match=re.escape(
            "meta-model directory 'knn@classification' does not exist (the shipped model of "
            "'knn' is metaopt.ranker.load_meta_model('knn', 'classification'), and "
            "meta_model=None serves it)")):
        MetaModel.load("knn@classification")
    with pytest.raises(ValueError, match=r"'nosuch' does not exist$"):
        MetaModel.load("nosuch")


@pytest.mark.parametrize("coverage", [2, 50, -0.5, float("nan"), "0.5", True])
def test_from_frame_refuses_a_min_coverage_that_is_no_fraction(tabrepo_kb, coverage):
    """min_coverage=2 (or 50, meaning per cent) kept no configuration and said "no
    configuration of space 'tabrepo_lightgbm' was evaluated on 200% of its 73 datasets",
    as if the data were at fault; "0.5" raised a TypeError comparing float and str."""
    from metaopt.ranker import PerformanceMatrix

    frame = tabrepo_kb.to_frame()
    with pytest.raises(ValueError, match=re.escape(
            f"min_coverage must be a fraction of the datasets in [0, 1], got {coverage!r}")):
        PerformanceMatrix.from_frame(frame, min_coverage=coverage)
    assert PerformanceMatrix.from_frame(frame, min_coverage=1).n_configs > 0


def test_subset_names_the_tasks_it_has_for_an_unknown_key(tabrepo_kb):
    """subset(["2073"]) said only "unknown task keys: ['2073']": not what the keys look
    like, nor which one was meant (tabrepo_benchmark(tasks=...) passes them on)."""
    from metaopt.ranker import PerformanceMatrix

    matrix = PerformanceMatrix.from_frame(tabrepo_kb.to_frame())
    with pytest.raises(ValueError, match=re.escape(
            "unknown task keys: ['2073', 'openml-task/99999999'] (did you mean "
            "'openml-task/2073'?); the matrix's 73 tasks are keys such as "
            f"{matrix.tasks.index[0]!r}, {matrix.tasks.index[1]!r}, {matrix.tasks.index[2]!r}")):
        matrix.subset(["2073", "openml-task/99999999", matrix.tasks.index[0]])
    assert matrix.subset(["openml-task/2073"]).n_tasks == 1


def test_load_of_a_folder_without_a_model_says_what_one_holds(tmp_path):
    """MetaModel.load of a folder holding a saved ConfigRanker alone said only "holds no
    metaopt meta-model (no portfolio.json)": neither what a saved model holds nor that
    the files there are a ranker's, which ConfigRanker.load reads."""
    from metaopt.ranker import load_meta_model

    load_meta_model("knn", "classification").ranker.save(tmp_path)
    with pytest.raises(ValueError, match=re.escape(
            f"{tmp_path} holds no metaopt meta-model (no portfolio.json; a saved MetaModel "
            "is portfolio.json, policy.json and, when it has them, ranker.json + "
            "ranker.safetensors and cost.json); its ranker.json and ranker.safetensors are "
            f"a ConfigRanker's alone: ConfigRanker.load({str(tmp_path)!r})")):
        MetaModel.load(tmp_path)
    assert ConfigRanker.load(tmp_path).space_name_ == "knn"
    (tmp_path / "ranker.json").unlink()
    with pytest.raises(ValueError, match=re.escape(
            "(no portfolio.json; a saved MetaModel is portfolio.json, policy.json and, when "
            "it has them, ranker.json + ranker.safetensors and cost.json)")):
        MetaModel.load(tmp_path)


def test_metamodel_fit_refuses_an_unknown_setting_before_meta_training(tabrepo_kb,
                                                                      monkeypatch):
    """MetaModel.fit(matrix, iterations=3) meta-trained the default ranker (5 members x
    1000 iterations, a minute) and then raised "MetaModel.__init__() got an unexpected
    keyword argument 'iterations'". The page says fit checks its settings before
    meta-training; a ranker's setting is now named as one, with where it goes."""
    from metaopt.ranker import PerformanceMatrix

    matrix = PerformanceMatrix.from_frame(tabrepo_kb.to_frame())

    def trained(*args, **kwargs):
        raise AssertionError("meta-trained before the settings were checked")

    monkeypatch.setattr(ConfigRanker, "fit", trained)
    with pytest.raises(TypeError, match=re.escape(
            "MetaModel.fit got iterations=, n_ensemble=: settings of the ranker, which go "
            "to it: MetaModel.fit(matrix, ranker=ConfigRanker(iterations=..., "
            "n_ensemble=...))")):
        MetaModel.fit(matrix, iterations=3, n_ensemble=1, n_warmup=2)
    with pytest.raises(TypeError, match=re.escape(
            "MetaModel.fit got an unknown setting 'n_warmpu' (did you mean 'n_warmup'?); "
            "MetaModel's are "
            "n_warmup, exploration, n_random")):
        MetaModel.fit(matrix, n_warmpu=2)
