"""The ranker's Python API used directly, as a researcher would: observations and parts
given in the wrong kind of container, settings of the wrong type."""

from __future__ import annotations

import pytest

from metaopt.ranker import ConfigRanker, MetaModel, Portfolio


@pytest.fixture(scope="module")
def observed(tabrepo_matrix, split):
    """Four evaluations of a held-out TabRepo task."""
    task = tabrepo_matrix.tasks.index.get_loc(split[1][0])
    configs = list(tabrepo_matrix.configs["params"])
    return [(configs[i], float(tabrepo_matrix.scores[task, i])) for i in range(4)]


@pytest.mark.parametrize("call", [
    lambda model, obs, cands: model.propose(None, obs, candidates=cands, seed=0),
    lambda model, obs, cands: model.ranker.rank(None, obs, cands),
])
def test_observed_given_as_an_iterator_is_refused(small_meta_model, tabrepo_matrix,
                                                  observed, call):
    """A generator of (params, score) pairs was read once by the score check: propose
    then saw no evaluation and proposed portfolio pick 1 again, already evaluated, and
    rank raised "TypeError: 'generator' object is not subscriptable"."""
    candidates = list(tabrepo_matrix.configs["params"])
    with pytest.raises(ValueError, match=r"observed must be a list of \(params dict, score "
                       r"number\) pairs, got generator .*read once.*list\(observed\)"):
        call(small_meta_model, (pair for pair in observed), candidates)
    with pytest.raises(ValueError, match=r"got list_iterator"):
        call(small_meta_model, iter(observed), candidates)
    call(small_meta_model, tuple(observed), candidates)  # a tuple is a sequence: fine


@pytest.mark.parametrize("setting, value", [
    ("exploration", "0.5"), ("exploration", float("inf")), ("min_distance", "0.1"),
    ("covariance_weight", None), ("time_fraction", None), ("exploration", True)])
def test_a_policy_number_of_another_type_is_refused_by_name(small_meta_model, setting, value):
    """MetaModel(..., exploration="0.5") raised "TypeError: '>=' not supported between
    instances of 'str' and 'int'" (and a policy.json holding it 'is not a policy this
    metaopt version knows: '>=' not supported ...'); exploration=inf was taken."""
    with pytest.raises(ValueError, match=rf"^{setting} must be (>= 0|in \[0, 1\]) \(a finite "
                       r"number\), got"):
        MetaModel(small_meta_model.portfolio, small_meta_model.ranker, **{setting: value})


def test_a_policy_file_with_a_number_of_another_type_names_it(small_meta_model, tmp_path):
    directory = small_meta_model.save(tmp_path / "model")
    (directory / "policy.json").write_text('{"exploration": "a"}')
    with pytest.raises(ValueError, match=r"policy\.json: exploration must be >= 0 \(a finite "
                       r"number\), got 'a'"):
        MetaModel.load(directory)


def test_parts_that_are_no_fitted_portfolio_and_ranker_are_refused(small_meta_model):
    """MetaModel(None), MetaModel(Portfolio()), MetaModel(portfolio, "x") and
    MetaModel(portfolio, ConfigRanker()) were built, and their first proposal raised
    AttributeError ("'NoneType' object has no attribute 'params_'", "'str' object has no
    attribute 'space_'"); MetaModel.fit(matrix, ranker="x") too ("no attribute
    '_check_settings'")."""
    portfolio, ranker = small_meta_model.portfolio, small_meta_model.ranker
    with pytest.raises(TypeError, match=r"portfolio must be a fitted Portfolio \(Portfolio\(\)"
                       r"\.fit\(matrix\) or Portfolio\.load\(path\)\), got NoneType"):
        MetaModel(None, ranker)
    with pytest.raises(ValueError, match=r"this Portfolio is not fitted yet"):
        MetaModel(Portfolio(), ranker)
    with pytest.raises(TypeError, match=r"ranker must be a fitted ConfigRanker or None, got str"):
        MetaModel(portfolio, "x")
    with pytest.raises(ValueError, match=r"this ConfigRanker is not fitted yet"):
        MetaModel(portfolio, ConfigRanker())


def test_fit_refuses_a_ranker_that_is_no_config_ranker(tabrepo_matrix, split):
    with pytest.raises(TypeError, match=r"ranker must be a ConfigRanker \(its settings; a copy "
                       r"is fitted\) or None, got str"):
        MetaModel.fit(tabrepo_matrix.subset(split[0]), ranker="x")


def test_a_ranker_of_another_space_than_the_portfolio_is_refused(small_meta_model):
    """MetaModel(svm portfolio, knn ranker) was built: its proposals failed on the
    portfolio's configurations ("observed[0] is not a valid knn configuration")."""
    from metaopt.ranker import load_meta_model

    knn = load_meta_model("knn", "classification")
    with pytest.raises(ValueError, match=r"the ranker was trained on space 'knn', the "
                       r"portfolio on 'tabrepo_lightgbm': they do not belong together"):
        MetaModel(small_meta_model.portfolio, knn.ranker)


@pytest.mark.parametrize("setting, value, message", [
    ("hidden", 64, r"hidden must be positive layer widths \(a tuple such as \(64, 64\)\), "
                   r"got 64"),
    ("lr", "1e-3", r"lr must be a number > 0, got '1e-3'"),
    ("inner_lr", None, r"inner_lr must be a number > 0, got None"),
])
def test_ranker_settings_of_another_type_are_refused_by_name(tabrepo_matrix, split, setting,
                                                             value, message):
    """ConfigRanker(hidden=64).fit raised "TypeError: object of type 'int' has no len()",
    lr="1e-3" "TypeError: '>' not supported between instances of 'str' and 'int'"."""
    with pytest.raises(ValueError, match=message):
        ConfigRanker(iterations=1, progress=False, **{setting: value}).fit(
            tabrepo_matrix.subset(split[0]))


@pytest.mark.parametrize("lost, kept", [("ranker.json", "ranker.safetensors"),
                                        ("ranker.safetensors", "ranker.json")])
def test_half_a_ranker_says_which_file_is_missing(small_meta_model, tmp_path, lost, kept):
    """A model directory that lost one file of its ranker read "no metaopt ranker at
    .../ranker (expected ranker.json and ranker.safetensors)", as if there were none."""
    directory = small_meta_model.save(tmp_path / "model")
    (directory / lost).unlink()
    missing = rf"{directory / lost} is missing beside {kept}: "
    for load in (MetaModel.load, ConfigRanker.load):
        with pytest.raises(ValueError, match=missing.replace(".", r"\.") + r"the two files are "
                           r"one ranker \(settings and weights\): copy both, or save it again"):
            load(directory)


@pytest.mark.parametrize("edit", [
    lambda knn: knn.update(coef=knn["coef"][:-2]),
    lambda knn: knn.update(coef="x"),
    lambda knn: knn.update(intercept=None),
    lambda knn: knn.update(coef=[float("nan")] * len(knn["coef"])),
])
def test_an_edited_cost_model_is_refused_when_loaded(tmp_path, edit):
    """A cost.json whose coefficients were cut, replaced or made NaN loaded, and the first
    proposal under a time budget raised a numpy error ("matmul: Input operand 1 has a
    mismatch in its core dimension", UFuncTypeError) or skipped nothing."""
    import json
    import shutil

    from metaopt.ranker._shipped import _models_root

    directory = tmp_path / "knn"
    shutil.copytree(_models_root() / "knn@classification", directory)
    data = json.loads((directory / "cost.json").read_text())
    edit(data["families"]["knn"])
    (directory / "cost.json").write_text(json.dumps(data))
    with pytest.raises(ValueError, match=r"cost\.json: the cost model of 'knn' is not as "
                       r"fitted .*: the file was changed after saving; fit it again"):
        MetaModel.load(directory)


@pytest.mark.parametrize("families, message", [
    ({"knn": 5}, r"the cost model of 'knn' is not as fitted"),
    ({"nosuch": {}}, r"cost\.json: unknown search space 'nosuch'"),
])
def test_a_cost_model_of_unknown_or_malformed_families_names_the_file(tmp_path, families,
                                                                      message):
    """{"knn": 5} raised "AttributeError: 'int' object has no attribute 'get'"; an
    unknown family's error did not name the file."""
    import json

    from metaopt.ranker._cost import CostModel

    path = tmp_path / "cost.json"
    path.write_text(json.dumps({"format": "metaopt-cost-model", "version": 1,
                                "families": families}))
    with pytest.raises(ValueError, match=message):
        CostModel.load(path)


@pytest.fixture(scope="module")
def knn_model():
    from metaopt.ranker import load_meta_model

    model = load_meta_model("knn", "classification")
    model.time_fraction = 0.5
    return model


@pytest.mark.parametrize("kwargs, error, message", [
    (dict(seed="a"), ValueError, r"seed must be None or an int in \[0, 2\*\*32 - 1\] \(the "
                                 r"random proposals\), got 'a'"),
    (dict(seed=-1), ValueError, r"seed must be None or an int"),
    (dict(time_left="10"), ValueError, r"time_left must be None or a number of seconds "
                                       r">= 0, got '10'"),
    (dict(time_left=float("nan")), ValueError, r"time_left must be None or a number"),
    (dict(time_left=-3), ValueError, r"time_left must be None or a number of seconds >= 0, "
                                     r"got -3"),
    (dict(allowed=5), ValueError, r"allowed must be None or a function of a configuration "
                                  r"\(params dict\) saying whether it may be proposed, got 5"),
    (dict(time_left=10, timed={"a": 1}), ValueError, r"timed must be a list of \(params "
                                                     r"dict, seconds number\) pairs, got dict"),
    (dict(time_left=10, timed=[({"n_neighbors": 3}, "1")]), ValueError,
     r"timed\[0\] must be a \(params dict, seconds number\) pair"),
])
def test_propose_refuses_a_bad_seed_time_left_timed_or_allowed_by_name(knn_model, kwargs,
                                                                     error, message):
    """propose(seed="a") was taken until a random proposal, seed=-1 too (then "expected
    non-negative integer"); time_left="10" and timed seconds "1" raised "TypeError: '>'
    not supported between instances of 'float' and 'str'", time_left=nan was ignored,
    time_left=-3 taken as no time left, allowed=5 raised "'int' object is not callable",
    timed={"a": 1} raised "not enough values to unpack"."""
    portfolio = knn_model.portfolio.params_
    observed = [(portfolio[i], 0.7 + 0.01 * i) for i in range(4)]
    candidates = knn_model.candidates("classification", seed=0)
    with pytest.raises(error, match=message):
        knn_model.propose(None, observed, candidates=candidates, **kwargs)


def test_candidates_refuse_a_bad_seed(knn_model):
    """candidates(task, seed=-1) raised numpy's "expected non-negative integer"."""
    with pytest.raises(ValueError, match=r"seed must be None or an int in \[0, 2\*\*32 - 1\] "
                       r"\(the random candidates\), got -1"):
        knn_model.candidates("classification", seed=-1)


def _set(path: list, value):
    """An edit of a portfolio.json: ``value`` at ``path`` (keys and indices)."""
    def edit(data):
        for key in path[:-1]:
            data = data[key]
        data[path[-1]] = value
    return edit


@pytest.mark.parametrize("edit", [
    _set(["regret", 0, 0], float("nan")),
    _set(["task_vectors", 0, 0], float("inf")),
    _set(["params", 0], 5),
    _set(["n_neighbors"], "x"),
    _set(["n_neighbors"], 0),
    _set(["task_types"], 5),
])
def test_a_portfolio_file_with_garbled_values_is_refused(tmp_path, edit):
    """A NaN regret loaded and changed the portfolio's order (another first pick), a
    configuration 5 or n_neighbors 'x' loaded (the error came at suggest, naming 'k'),
    task_types 5 raised "TypeError: object of type 'int' has no len()"."""
    import json

    from metaopt.ranker._shipped import _models_root

    data = json.loads((_models_root() / "knn@classification" / "portfolio.json").read_text())
    edit(data)
    path = tmp_path / "portfolio.json"
    path.write_text(json.dumps(data))
    with pytest.raises(ValueError, match=r"portfolio\.json is not a (readable|consistent) "
                       r"metaopt portfolio: .*"):
        Portfolio.load(path)


def _resign(edit, tmp_path):
    """The shipped knn@classification ranker with its settings body edited and both
    checksums made to match again (a file edited by someone who knows the format)."""
    from metaopt._model_files import load_checked, save_checked
    from metaopt.ranker._shipped import _models_root

    stem = _models_root() / "knn@classification" / "ranker"
    body, tensors = load_checked(stem.with_suffix(".json"), stem.with_suffix(".safetensors"),
                                 "metaopt-ranker/2", "ranker")
    edit(body)
    save_checked(tmp_path / "r.json", tmp_path / "r.safetensors", body, tensors)
    return tmp_path / "r"


@pytest.mark.parametrize("edit", [
    _set(["space"], 5),
    _set(["n_features"], "x"),
    _set(["params", "use_metafeatures"], False),
    _set(["params", "use_metafeatures"], "no"),
    lambda body: body["scaler"]["mean"].pop(),
    _set(["scaler", "mean", 0], float("nan")),
    lambda body: body["scaler"].update(scale=[0.0] * len(body["scaler"]["scale"])),
])
def test_a_ranker_file_with_matching_checksums_but_bad_settings_is_refused(tmp_path, edit):
    """Settings that pass the checksums but cannot be right loaded or crashed: space 5
    raised "AttributeError: 'int' object has no attribute 'get'", n_features "x" a torch
    TypeError, use_metafeatures false (35 inputs) "RuntimeError: mat1 and mat2 shapes
    cannot be multiplied" at rank, a scaler mean cut short "operands could not be
    broadcast" at rank; a NaN mean or zero scales loaded and ranked on garbage, and
    use_metafeatures "no" read as true."""
    path = _resign(edit, tmp_path)
    with pytest.raises(ValueError, match=r"r\.json holds settings this metaopt version "
                       r"cannot read"):
        ConfigRanker.load(path)


def test_use_metafeatures_must_be_a_bool(tabrepo_matrix, split):
    """ConfigRanker(use_metafeatures="no") trained with the meta-features."""
    with pytest.raises(ValueError, match=r"use_metafeatures must be True or False, got 'no'"):
        ConfigRanker(iterations=1, progress=False, use_metafeatures="no").fit(
            tabrepo_matrix.subset(split[0]))


@pytest.fixture(scope="module")
def kb_frame():
    from metaopt import kb

    return kb.load_default().to_frame()


def test_from_frame_refuses_what_is_no_knowledge_base_frame(kb_frame):
    """from_frame(kb) and from_frame([...]) raised TypeError from indexing, a frame
    without cv_score "KeyError: 'cv_score'", space=5 "argument of type 'int' is not
    iterable"."""
    from metaopt import kb
    from metaopt.ranker import PerformanceMatrix

    with pytest.raises(TypeError, match=r"from_frame takes a DataFrame of knowledge-base "
                       r"rows \(kb\.to_frame\(\)\), got KnowledgeBase"):
        PerformanceMatrix.from_frame(kb.load_default(), "knn")
    with pytest.raises(ValueError, match=r"the frame lacks column\(s\) \['cv_score'\] of "
                       r"knowledge-base rows \(kb\.to_frame\(\)\)"):
        PerformanceMatrix.from_frame(kb_frame.drop(columns=["cv_score"]), "knn")
    with pytest.raises(TypeError, match=r"space must be a space's name, a SearchSpace or "
                       r"None, got int"):
        PerformanceMatrix.from_frame(kb_frame, 5)


def test_subset_of_one_key_given_as_a_string_is_refused(kb_frame):
    """subset("pmlb/allhypo") read the key's letters: "task keys given more than once:
    ['l', 'p']"."""
    from metaopt.ranker import PerformanceMatrix

    matrix = PerformanceMatrix.from_frame(kb_frame, "knn", task="classification")
    key = matrix.tasks.index[0]
    with pytest.raises(TypeError, match=r"tasks must be a list of task keys, got str: pass "
                       r"\['pmlb/"):
        matrix.subset(key)
    assert matrix.subset([key]).n_tasks == 1


def test_normalized_regret_of_one_task_says_to_give_a_row(kb_frame):
    """normalized_regret(1-d scores) raised "AxisError: axis 1 is out of bounds"."""
    from metaopt.ranker import PerformanceMatrix, normalized_regret

    scores = PerformanceMatrix.from_frame(kb_frame, "knn", task="classification").scores
    with pytest.raises(ValueError, match=r"scores must be 2-d \(tasks x configurations\), "
                       r"got shape \(20,\): for one task pass \[scores\]"):
        normalized_regret(scores[0])
    assert normalized_regret([scores[0]]).shape == (1, 20)


def test_a_meta_feature_that_is_no_number_is_named(small_meta_model, tabrepo_matrix, split):
    """A meta-feature given as text raised numpy's "could not convert string to float:
    'many'", naming no meta-feature."""
    features = tabrepo_matrix.metafeatures.loc[split[1][0]]
    features = features.rename(lambda name: name.removeprefix("mf_")).astype(object)
    features["n_instances"] = "many"
    candidates = list(tabrepo_matrix.configs["params"])
    for given in (features, features.to_dict()):
        with pytest.raises(ValueError, match=r"meta-feature 'n_instances' must be a number, "
                           r"got 'many'"):
            small_meta_model.ranker.rank(given, [], candidates)
        with pytest.raises(ValueError, match=r"meta-feature 'n_instances' must be a number"):
            small_meta_model.portfolio.neighbors(given)


def test_suggest_refuses_an_infinite_exploration(small_meta_model, tabrepo_matrix):
    """exploration=inf multiplied a std of 0 into NaN and suggested candidate 0, whatever
    the ranking."""
    candidates = list(tabrepo_matrix.configs["params"])
    with pytest.raises(ValueError, match=r"exploration must be a number >= 0 .*finite.*, got inf"):
        small_meta_model.ranker.suggest(None, [], candidates, exploration=float("inf"))


def test_a_ranker_swapped_in_from_a_model_of_other_datasets_is_refused(tmp_path):
    """knn@regression's ranker files copied into knn@classification loaded (same space):
    a classification model then ranked with a ranker of the regression datasets."""
    import shutil

    from metaopt.ranker._shipped import _models_root

    directory = tmp_path / "knn"
    shutil.copytree(_models_root() / "knn@classification", directory)
    for name in ("ranker.json", "ranker.safetensors"):
        shutil.copy(_models_root() / "knn@regression" / name, directory / name)
    with pytest.raises(ValueError, match=r"the ranker and the portfolio were trained on no "
                       r"common dataset .*: the files do not belong together"):
        MetaModel.load(directory)


def test_a_cost_model_of_other_families_than_the_model_is_refused(tmp_path):
    """svm's cost.json copied into knn@classification loaded: it predicted NaN for every
    knn configuration, so a time limit skipped nothing."""
    import re
    import shutil

    from metaopt.ranker._shipped import _models_root

    directory = tmp_path / "knn"
    shutil.copytree(_models_root() / "knn@classification", directory)
    shutil.copy(_models_root() / "svm@classification" / "cost.json", directory / "cost.json")
    with pytest.raises(ValueError, match=re.escape(
            f"{directory / 'cost.json'}: the cost model is of model families ['svm'], the "
            "meta-model's space 'knn' of ['knn']: the files do not belong together")):
        MetaModel.load(directory)
    # the combined space's cost model covers knn among its families: it predicts for knn
    shutil.copy(_models_root() / "all@classification" / "cost.json", directory / "cost.json")
    assert MetaModel.load(directory).cost.families.keys() > {"knn"}


def test_a_portfolio_file_given_to_the_ranker_is_named_as_no_ranker(small_meta_model,
                                                                    tmp_path):
    """ConfigRanker.load("model/portfolio.json") said portfolio.safetensors was missing
    beside it, as if it were half a ranker."""
    directory = small_meta_model.save(tmp_path / "model")
    with pytest.raises(ValueError, match=r"portfolio\.json is not a metaopt ranker file"):
        ConfigRanker.load(directory / "portfolio.json")


def test_a_model_directory_without_its_policy_says_what_a_saved_model_holds(tmp_path):
    """A copy of a model without policy.json read "no metaopt policy at .../policy.json",
    which said neither what the file is nor how to get one."""
    import re
    import shutil

    from metaopt.ranker._shipped import _models_root

    directory = tmp_path / "knn"
    shutil.copytree(_models_root() / "knn@classification", directory)
    (directory / "policy.json").unlink()
    with pytest.raises(ValueError, match=re.escape(
            f"{directory / 'policy.json'} is missing: a saved MetaModel is portfolio.json, "
            "policy.json (its proposal settings) and, when it has them, ranker.json + "
            "ranker.safetensors and cost.json: copy every file of the model, or save it "
            "again (MetaModel.save)")):
        MetaModel.load(directory)
