"""What MetaModel, ConfigRanker, Portfolio and metaopt.suggest do with awkward input:
configurations written as other number types, failed evaluations, malformed
observations, settings that cannot train, meta-models of another task type."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from metaopt.ranker import ConfigRanker, MetaModel, Portfolio, load_meta_model


def _as_numpy_and_floats(params: dict) -> dict:
    """The same configuration with numpy scalars and integers written as floats."""
    out = {}
    for k, v in params.items():
        if isinstance(v, bool):
            out[k] = np.bool_(v)
        elif isinstance(v, int):
            out[k] = float(v)
        elif isinstance(v, float):
            out[k] = np.float64(v)
        else:
            out[k] = v
    return out


def test_a_configuration_in_other_number_types_is_not_proposed_again():
    model = load_meta_model("random_forest", "classification")
    first = model.propose(None, [], candidates=[]).params
    assert any(isinstance(v, int) and not isinstance(v, bool) for v in first.values())
    again = _as_numpy_and_floats(first)
    assert model.propose(None, [(again, 0.8)], candidates=[]).params != first
    assert model.propose(None, [], exclude=[again], candidates=[]).params != first
    # after the warm start, the ranker's candidates too
    port = list(model.portfolio.params_)
    observed = [(_as_numpy_and_floats(c), 0.7 + 0.01 * i) for i, c in enumerate(port[:3])]
    pick = model.propose(None, observed, candidates=port[:3] + [port[5]], seed=0)
    assert pick.params == port[5]


def test_failed_evaluations_are_never_proposed_again_nor_adapted_on(small_meta_model,
                                                                    tabrepo_matrix):
    params = list(tabrepo_matrix.configs["params"])
    observed = [(params[0], -np.inf), (params[1], 0.3), (params[2], 0.2)]
    pick = small_meta_model.propose(None, observed, candidates=params[:6], seed=0)
    assert pick.source == "ranker" and pick.params not in params[:3]
    with pytest.raises(ValueError, match="finite or -inf"):
        small_meta_model.propose(None, [(params[0], np.nan)], candidates=params)
    # refused in the warm start as well as after it
    with pytest.raises(ValueError, match=r"observed\[0\].*unknown parameter\(s\) \['foo'\]"):
        small_meta_model.propose(None, [({"foo": 1}, 0.5)], candidates=params)


def test_an_observed_value_the_space_cannot_take_is_refused_in_the_warm_start(
        small_meta_model, tabrepo_matrix):
    """A value out of range or an unknown choice passed the warm start's proposals and
    was refused only at the first ranker proposal, for data given from the first call."""
    params = list(tabrepo_matrix.configs["params"])
    name, value = next((k, v) for k, v in params[0].items() if isinstance(v, float))
    bad = {**params[0], name: 1e30}
    with pytest.raises(ValueError, match=rf"observed\[1\] is not a valid .*'{name}'"):
        small_meta_model.propose(None, [(bad, -np.inf), (bad, 0.5)], candidates=params)
    # a failed one is not adapted on, so not checked (as after the warm start)
    small_meta_model.propose(None, [(bad, -np.inf)], candidates=params)


def test_a_ranker_says_what_to_do_with_a_score_that_is_not_finite(small_meta_model,
                                                                 tabrepo_matrix):
    """ConfigRanker.predict said only "observed scores must be finite, got [-inf]", while
    MetaModel.propose takes -inf for a failed configuration."""
    params = list(tabrepo_matrix.configs["params"])
    for score in (-np.inf, np.nan):
        with pytest.raises(ValueError, match=r"got \[.*\] at observed\[1\]: leave out failed "
                                             r"or unscored evaluations \(MetaModel\.propose"):
            small_meta_model.ranker.rank(None, [(params[0], 0.5), (params[1], score)],
                                         params[2:5])


def test_an_empty_candidate_set_after_the_warm_start_is_named(small_meta_model,
                                                             tabrepo_matrix):
    """Once the warm start was over, candidates=[] raised CandidatesExhausted "every
    candidate configuration was already evaluated or claimed": nothing was."""
    params = list(tabrepo_matrix.configs["params"])
    assert small_meta_model.propose(None, [], candidates=[]).source == "portfolio"
    observed = [(params[0], 0.3), (params[1], 0.2)]  # n_warmup=2: the warm start is over
    with pytest.raises(ValueError, match=r"candidates is empty: .*model\.candidates\(task\)"):
        small_meta_model.propose(None, observed, candidates=[])


def test_malformed_observations_and_meta_features(small_meta_model, tabrepo_matrix):
    ranker = small_meta_model.ranker
    params = list(tabrepo_matrix.configs["params"])
    with pytest.raises(ValueError, match=r"observed\[0\] must be a \(params dict, score"):
        ranker.predict(None, [params[0], params[1]], params[2:4])
    with pytest.raises(ValueError, match=r"observed\[1\] must be"):
        ranker.predict(None, [(params[0], 0.1), (params[1], "0.5")], params[2:4])
    # a bool is no score (True was taken as 1.0: a success flag read as a perfect score)
    with pytest.raises(ValueError, match=r"observed\[1\] must be .* got .*True"):
        ranker.predict(None, [(params[0], 0.1), (params[1], True)], params[2:4])
    as_dict = tabrepo_matrix.metafeatures.iloc[0].rename(lambda c: c[3:]).to_dict()
    as_series = pd.Series(as_dict)
    np.testing.assert_allclose(ranker.predict(as_dict, [], params[:4])[0],
                               ranker.predict(as_series, [], params[:4])[0])
    with pytest.raises(TypeError, match="meta_features must be a pandas Series"):
        ranker.predict([1.0, 2.0], [], params[:4])


def test_settings_are_checked_before_meta_training(tabrepo_matrix, split):
    matrix = tabrepo_matrix.subset(split[0][:6])
    with pytest.raises(ValueError, match="n_ensemble must be an integer >= 1"):
        ConfigRanker(n_ensemble=0).fit(matrix)
    with pytest.raises(ValueError, match="iterations must be an integer >= 0"):
        ConfigRanker(iterations=-3).fit(matrix)
    # passed the check, then failed in the first member with "steps must be ... >= 1"
    with pytest.raises(ValueError, match="inner_steps must be an integer >= 1"):
        ConfigRanker(inner_steps=0).fit(matrix)
    with pytest.raises(ValueError, match="covariance_weight must be >= 0"):
        MetaModel.fit(matrix, ranker=ConfigRanker(iterations=10 ** 9), covariance_weight=-1)


def test_fit_trains_a_copy_of_the_given_ranker(tabrepo_matrix, split):
    template = ConfigRanker(iterations=3, n_ensemble=1, hidden=(8,))
    first = MetaModel.fit(tabrepo_matrix.subset(split[0][:10]), ranker=template)
    MetaModel.fit(tabrepo_matrix.subset(split[0][10:20]), ranker=template)
    assert not hasattr(template, "members_")
    assert first.ranker.task_keys_ == split[0][:10]


def test_unseeded_ranker_is_not_the_seed_0_ranker(tabrepo_matrix, split):
    matrix = tabrepo_matrix.subset(split[0][:6])
    params = list(tabrepo_matrix.configs["params"])[:5]
    seeded = ConfigRanker(iterations=2, n_ensemble=1, hidden=(8,), random_state=0).fit(matrix)
    unseeded = ConfigRanker(iterations=2, n_ensemble=1, hidden=(8,), random_state=None).fit(matrix)
    assert not np.allclose(seeded.predict(None, [], params)[0],
                           unseeded.predict(None, [], params)[0])


def test_portfolio_misuse_gives_clear_errors(tabrepo_matrix):
    with pytest.raises(ValueError, match="Portfolio is not fitted"):
        Portfolio().suggest(3)
    no_features = tabrepo_matrix.subset(list(tabrepo_matrix.tasks.index[:5]))
    no_features = type(no_features)(no_features.space, no_features.tasks.assign(
        **{c: np.nan for c in no_features.metafeatures.columns}), no_features.configs,
        no_features.scores)
    assert not Portfolio().fit(no_features).has_metafeatures
    with pytest.raises(ValueError, match="n_neighbors needs meta-features"):
        Portfolio(n_neighbors=2).fit(no_features)
    from metaopt.spaces import get_space

    with pytest.raises(ValueError, match="restrict takes a combination"):
        load_meta_model("all", "classification").restrict(get_space("svm"))


def test_matrix_leaves_out_datasets_without_a_successful_evaluation(tabrepo_matrix,
                                                                    shared_data):
    from metaopt.kb import load_tabrepo
    from metaopt.ranker import PerformanceMatrix

    frame = load_tabrepo(shared_data / "tabrepo-lightgbm").to_frame()
    first = frame["dataset_key"].iloc[0]
    frame.loc[frame["dataset_key"] == first, "status"] = "error"
    with pytest.warns(UserWarning, match="without a successful evaluation left out"):
        matrix = PerformanceMatrix.from_frame(frame, "tabrepo_lightgbm")
    assert first not in matrix.tasks.index
    assert matrix.n_tasks == tabrepo_matrix.n_tasks - 1


def test_matrix_says_a_dataset_left_out_evaluated_no_shared_configuration(shared_data):
    """A dataset that evaluated none of the shared configurations (a build without a
    shared design) was left out "without a successful evaluation", all of its evaluations
    successful; and train-meta-model then said to add datasets, not shared ones."""
    from metaopt.kb import load_tabrepo
    from metaopt.ranker import PerformanceMatrix

    frame = load_tabrepo(shared_data / "tabrepo-lightgbm").to_frame()
    first = frame["dataset_key"].iloc[0]
    own = frame["dataset_key"] == first
    frame.loc[own, "config_id"] = "own-" + frame.loc[own, "config_id"]  # none shared
    with pytest.warns(UserWarning, match=rf"1 dataset\(s\) of space 'tabrepo_lightgbm' left "
                                         rf"out: they evaluated none of the .*{first}.*"
                                         "--n-design") as caught:
        matrix = PerformanceMatrix.from_frame(frame, "tabrepo_lightgbm")
    assert not any("without a successful evaluation" in str(w.message) for w in caught)
    assert first not in matrix.tasks.index


def test_suggest_refuses_a_model_of_another_task_type(pmlb_root):
    import metaopt
    from metaopt.data import LocalSource

    ds = LocalSource(pmlb_root).load("1027_ESL")  # regression
    svm_classifier = load_meta_model("svm", "classification")
    with pytest.raises(ValueError, match="trained on classification datasets, this one is "
                                         "regression"):
        metaopt.suggest(ds, space="svm", n=2, meta_model=svm_classifier)
    with pytest.raises(ValueError, match="task='classification', but the Dataset"):
        metaopt.suggest(ds, space="svm", n=2, task="classification")
    with pytest.raises(ValueError, match="carries its target: pass y=None"):  # was ignored
        metaopt.suggest(ds, ds.y.to_numpy()[::-1], space="svm", n=2)
    picks = metaopt.suggest(ds, space="svm", n=np.int64(2))
    assert len(picks) == 2
    # the shipped model too: YAHPO's LCBench tasks are all classification
    with pytest.raises(ValueError, match="the shipped yahpo_lcbench meta-model was trained "
                                         "on classification datasets, this one is regression"):
        metaopt.suggest(ds, space="yahpo_lcbench", n=2)


def test_suggest_says_when_the_model_knows_no_meta_features(pmlb_root):
    import metaopt
    from metaopt.data import LocalSource

    ds = LocalSource(pmlb_root).load("credit_g")
    picks = metaopt.suggest(ds, space="yahpo_lcbench", n=2)
    assert "nearest: unknown (the model's training datasets have no meta-features)" in \
        picks.attrs["summary"]
    assert picks.attrs["neighbors"] == {}


def test_train_meta_model_command_checks_its_input(tmp_path, shared_data, capsys):
    import json
    import warnings

    from metaopt.cli import main

    missing = tmp_path / "typo.sqlite"
    assert main(["train-meta-model", "--kb", str(missing), "--out", str(tmp_path / "m")]) == 2
    assert "no knowledge base at" in capsys.readouterr().err
    assert not missing.exists()  # a typo does not create an empty store
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # TabRepo models have no cost model by design
        code = main(["train-meta-model", "--tabrepo", str(shared_data / "tabrepo-lightgbm"),
                     "--out", str(tmp_path / "t"), "--iterations", "2", "--n-ensemble", "1",
                     "--min-distance", "0.05", "--no-progress"])
    assert code == 0
    policy = json.loads((tmp_path / "t" / "tabrepo_lightgbm" / "policy.json").read_text())
    assert policy["min_distance"] == 0.05
    # too few datasets for --min-datasets: the error says what to do
    assert main(["train-meta-model", "--tabrepo", str(shared_data / "tabrepo-lightgbm"),
                 "--out", str(tmp_path / "few"), "--min-datasets", "100", "--no-progress"]) == 2
    assert "has 100+ datasets that share configurations: add datasets" in capsys.readouterr().err


def test_search_refuses_a_model_of_another_task_type(pmlb_root):
    """MetaSampler and MetaOptRegressor ran a classification model's portfolio (its
    'linear' picks: LogisticRegression's C and penalty) on a regression study."""
    from metaopt import MetaOptRegressor
    from metaopt.data import LocalSource
    from metaopt.samplers import MetaSampler

    ds = LocalSource(pmlb_root).load("1027_ESL")  # regression
    linear_classifier = load_meta_model("linear", "classification")
    match = "trained on classification datasets, this one is regression"
    with pytest.raises(ValueError, match=match):
        MetaSampler(space="linear", task="regression", meta_model=linear_classifier)
    with pytest.raises(ValueError, match=match):
        MetaSampler(space="linear", dataset=ds, meta_model=linear_classifier)
    with pytest.raises(ValueError, match=match):
        MetaOptRegressor(spaces="linear", meta_model=linear_classifier,
                         n_trials=1).fit(ds.X, ds.y)
    MetaSampler(space="linear", task="classification", meta_model=linear_classifier)


def test_suggest_serves_a_combination_as_the_sampler_does(pmlb_root):
    """suggest refused space='knn+linear' with the shipped 'all' model ("pass space='all'")
    and, without meta_model, "no shipped meta-model for space 'knn+linear'", although
    MetaSampler and MetaOptClassifier serve it from that model."""
    import metaopt
    from metaopt.data import LocalSource

    ds = LocalSource(pmlb_root).load("wine_recognition")
    every = load_meta_model("all", "classification")
    for model in (every, None):
        picks = metaopt.suggest(ds, space="knn+linear", n=3, meta_model=model)
        assert len(picks) == 3
        assert {p["space"] for p in picks["params"]} <= {"knn", "linear"}
