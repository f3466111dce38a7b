"""ArchitecturePrior: valid samples that train, a proper density, persistence and refusal
of tampered files, the LCBench translation and task table."""

from __future__ import annotations

import copy
import csv
import json

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import make_classification

from metaopt.nas import (
    LCBENCH_SPACE,
    ArchitecturePrior,
    lcbench_tasks,
    random_configs,
    task_metafeatures,
    to_mlp_params,
)
from metaopt.spaces import get_space

SMALL = {"n_instances": 300.0, "n_features": 8.0, "n_classes": 2.0}
LARGE = {"n_instances": 60000.0, "n_features": 700.0, "n_classes": 10.0}


@pytest.fixture(scope="module")
def prior() -> ArchitecturePrior:
    return ArchitecturePrior.default()


def _toy_data():
    """Synthetic scores: small datasets like 1 layer, large ones 5."""
    rng = np.random.default_rng(0)
    configs = random_configs(LCBENCH_SPACE, 300, rng)
    layers = np.array([c["num_layers"] for c in configs])
    sizes = np.geomspace(200, 200000, 8)
    mf = pd.DataFrame({"n_instances": sizes, "n_features": 20.0, "n_classes": 2.0})
    want = np.where(sizes < 5000, 1, 5)
    scores = -np.abs(layers[None, :] - want[:, None]) + 0.1 * rng.random((8, 300))
    return mf, configs, scores


@pytest.fixture(scope="module")
def toy_prior() -> ArchitecturePrior:
    """A tiny hedged prior fitted on the synthetic scores."""
    return ArchitecturePrior(n_members=1, iterations=150, n_pool=512,
                             random_state=0).fit(*_toy_data())


def test_every_sampled_architecture_builds_and_trains_one_step(prior):
    space = get_space("mlp")
    X, y = make_classification(40, 6, random_state=0)
    samples = prior.sample(SMALL, 4, seed=0) + prior.sample(LARGE, 3, seed=1)
    for params in samples:
        checked = space.check_params(params, "classification")
        assert checked == params  # complete, valid, no inactive leftovers
        model = space.build({**params, "max_epochs": 10}, "classification", random_state=0)
        model.set_params(model__max_epochs=1).fit(X, y)
        assert model["model"].n_epochs_ == 1
        assert np.isfinite(model.predict_proba(X)).all()


def test_sampling_is_seeded_distinct_and_native_on_request(prior):
    first = prior.sample(SMALL, 5, seed=3, native=True)
    assert first == prior.sample(SMALL, 5, seed=3, native=True)
    assert first != prior.sample(SMALL, 5, seed=4, native=True)
    assert len({json.dumps(c, sort_keys=True) for c in first}) == 5
    for c in first:
        assert LCBENCH_SPACE.check_params(c, "classification") == c
    assert prior.sample(SMALL, 5, seed=3) == [to_mlp_params(c) for c in first]


def test_log_prob_is_a_density_ratio_that_favours_the_prior_mode(prior):
    rng = np.random.default_rng(0)
    rand = random_configs(LCBENCH_SPACE, 2000, rng)
    log_ratio = prior.log_prob(SMALL, rand, temperature=1.0)
    assert np.isfinite(log_ratio).all()
    # E_q[p/q] = 1: the mean density ratio over fresh draws of q is close to 1 (at T = 1;
    # the shipped T = 0.1 is too sharp for 2000 draws to estimate it)
    assert np.mean(np.exp(log_ratio)) == pytest.approx(1.0, rel=0.35)
    top = prior.describe(SMALL, n=3, temperature=1.0)
    assert list(top.columns) == ["probability", "log_ratio", "dataset_share", "architecture",
                                 "params", "lcbench"]
    assert top["probability"].is_monotonic_decreasing
    np.testing.assert_allclose(prior.log_prob(SMALL, list(top["lcbench"]), temperature=1.0),
                               top["log_ratio"], rtol=1e-5)
    assert (top["log_ratio"] > np.quantile(log_ratio, 0.95)).all()
    # a higher temperature flattens the distribution towards random search
    hot = prior.log_prob(SMALL, rand, temperature=20.0)
    assert np.std(hot) < np.std(log_ratio) / 10


def test_prior_is_conditioned_on_meta_features(toy_prior):
    small = toy_prior.describe({"n_instances": 300, "n_features": 20, "n_classes": 2}, n=5)
    large = toy_prior.describe({"n_instances": 150000, "n_features": 20, "n_classes": 2}, n=5)
    assert [c["num_layers"] for c in small["lcbench"]] == [1] * 5
    assert [c["num_layers"] for c in large["lcbench"]] == [5] * 5
    assert all(p["n_layers"] == 4 for p in large["params"])  # 5 LCBench layers -> 4


def test_hedge_alternates_with_the_unconditional_prior(toy_prior):
    plain = ArchitecturePrior(n_members=1, iterations=150, n_pool=512, random_state=0,
                              hedge=False).fit(*_toy_data())
    assert plain.flat_members_ == [] and len(toy_prior.flat_members_) == 1
    large = {"n_instances": 150000, "n_features": 20, "n_classes": 2}
    for seed in range(3):
        hedged = toy_prior.sample(large, 4, seed=seed, temperature=0.1, native=True)
        alone = plain.sample(large, 4, seed=seed, temperature=0.1, native=True)
        # odd draws are the dataset's prior (the same networks and Gumbel order)
        assert [hedged[0], hedged[2]] == alone[:2]
        assert min(c["num_layers"] for c in alone) >= 4
    # even draws follow the unconditional prior, which half the datasets pull to 1 layer
    flat_draws = [c for seed in range(6) for c in toy_prior.sample(
        large, 6, seed=seed, temperature=0.1, native=True)[1::2]]
    assert 1 in {c["num_layers"] for c in flat_draws}
    # the mixture's density: between the dataset's prior and the unconditional one
    configs = random_configs(LCBENCH_SPACE, 200, np.random.default_rng(5))
    one_layer = np.array([c["num_layers"] == 1 for c in configs])
    lp_mix, lp_plain = toy_prior.log_prob(large, configs), plain.log_prob(large, configs)
    assert lp_mix[one_layer].mean() > lp_plain[one_layer].mean()
    # describe says which part of the mixture holds each entry: the dataset's prior of a
    # large table puts 5 layers first, the unconditional one also 1 layer
    top = toy_prior.describe(large, n=len(toy_prior._pool))
    share = top["dataset_share"].to_numpy()
    layers = np.array([c["num_layers"] for c in top["lcbench"]])
    assert ((share >= 0) & (share <= 1)).all()
    assert share[layers == 5].mean() > 0.5 > share[layers == 1].mean()
    assert (plain.describe(large, n=5)["dataset_share"] == 1.0).all()


def test_save_load_round_trip(toy_prior, tmp_path):
    toy_prior.save(tmp_path / "p")
    loaded = ArchitecturePrior.load(tmp_path / "p")
    configs = random_configs(LCBENCH_SPACE, 50, np.random.default_rng(1))
    np.testing.assert_allclose(loaded.log_prob(SMALL, configs), toy_prior.log_prob(SMALL, configs),
                               rtol=1e-6, atol=1e-6)
    assert loaded.sample(SMALL, 4, seed=2) == toy_prior.sample(SMALL, 4, seed=2)
    assert len(loaded.flat_members_) == len(toy_prior.flat_members_) == 1
    assert loaded.training_ == toy_prior.training_


def test_fit_and_load_leave_the_callers_torch_stream_alone(toy_prior, tmp_path):
    """fit re-seeded torch's global generator with random_state (the caller's draws after
    it no longer depended on the caller's seed); load drew initial weights from it."""
    import torch

    torch.manual_seed(1)
    expected = torch.rand(3)
    torch.manual_seed(1)
    ArchitecturePrior(n_members=1, iterations=2, n_pool=64, random_state=0).fit(*_toy_data())
    assert torch.equal(torch.rand(3), expected)
    toy_prior.save(tmp_path / "p")
    torch.manual_seed(1)
    ArchitecturePrior.load(tmp_path / "p")
    assert torch.equal(torch.rand(3), expected)


def test_a_numpy_random_state_fits_as_the_same_int():
    """np.int64(0) (from np.arange) crashed fit with torch's 'TypeError: an integer is
    required'; None crashed with an unsupported operand for * ."""
    small = {"n_members": 1, "iterations": 3, "n_pool": 64}
    plain = ArchitecturePrior(**small, random_state=0).fit(*_toy_data())
    numpy = ArchitecturePrior(**small, random_state=np.int64(0)).fit(*_toy_data())
    assert numpy.training_["final_listwise_loss"] == plain.training_["final_listwise_loss"]
    assert numpy.sample(SMALL, 3, seed=1) == plain.sample(SMALL, 3, seed=1)
    for bad in (None, -1, np.random.RandomState(0)):
        with pytest.raises(ValueError, match="random_state must be an integer >= 0"):
            ArchitecturePrior(**small, random_state=bad).fit(*_toy_data())


def test_a_prior_saved_with_its_hedge_switched_loads_as_saved(toy_prior, tmp_path):
    """hedge switched off on a fitted prior (docs/nas.md) was saved with the hedge's
    networks but a setting of none: load() refused the files ('holds 1 flat
    network(s), its settings 0'). It now loads unmixed and can be switched back on."""
    configs = random_configs(LCBENCH_SPACE, 20, np.random.default_rng(1))
    unmixed = copy.copy(toy_prior)
    unmixed.hedge = False
    loaded = ArchitecturePrior.load(unmixed.save(tmp_path / "off"))
    assert not loaded.hedge
    np.testing.assert_allclose(loaded.log_prob(SMALL, configs), unmixed.log_prob(SMALL, configs),
                               rtol=1e-6, atol=1e-6)
    loaded.hedge = True
    np.testing.assert_allclose(loaded.log_prob(SMALL, configs),
                               toy_prior.log_prob(SMALL, configs), rtol=1e-6, atol=1e-6)
    # and a prior fitted without the hedge, switched on (it has nothing to mix in)
    plain = ArchitecturePrior(n_members=1, iterations=5, n_pool=64, hedge=False).fit(
        *_toy_data())
    plain.hedge = True
    assert ArchitecturePrior.load(plain.save(tmp_path / "on")).flat_members_ == []


def test_tampered_or_foreign_files_are_refused(toy_prior, tmp_path):
    directory = toy_prior.save(tmp_path / "p")
    weights, meta = directory / "prior.safetensors", directory / "prior.json"
    good_weights, good_meta = weights.read_bytes(), meta.read_text()

    data = bytearray(good_weights)
    data[-3] ^= 0xFF  # flip bits in a weight
    weights.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="SHA-256 mismatch"):
        ArchitecturePrior.load(directory)
    weights.write_bytes(good_weights)

    record = json.loads(good_meta)
    record["body"]["params"]["temperature"] = 0.01  # edited settings, same weights
    meta.write_text(json.dumps(record))
    with pytest.raises(ValueError, match="settings were changed"):
        ArchitecturePrior.load(directory)

    record["body"]["format"] = "someone-else/3"
    meta.write_text(json.dumps(record))
    with pytest.raises(ValueError, match=r"is not a metaopt-nas-prior/\d+ file"):
        ArchitecturePrior.load(directory)

    meta.write_text("not json at all")
    with pytest.raises(ValueError, match="cannot read metaopt architecture prior"):
        ArchitecturePrior.load(directory)
    with pytest.raises(ValueError, match="no metaopt architecture prior at"):
        ArchitecturePrior.load(tmp_path / "missing")


def test_bad_arguments_give_clear_errors(toy_prior):
    with pytest.raises(ValueError, match="n_features"):
        toy_prior.sample({"n_instances": 10, "n_classes": 2}, 2)
    with pytest.raises(TypeError, match="meta_features must be"):
        toy_prior.sample([100, 10, 2], 2)
    with pytest.raises(ValueError, match=r"n must be an int in \[1, 512\]"):
        toy_prior.sample(SMALL, 0)
    few = random_configs(LCBENCH_SPACE, 3, np.random.default_rng(0))
    with pytest.raises(ValueError, match=r"n must be an int in \[1, 3\]"):
        toy_prior.sample(SMALL, 4, candidates=few)
    with pytest.raises(ValueError, match="not a native"):
        toy_prior.sample(SMALL, 1, candidates=[get_space("mlp").default("classification")])
    with pytest.raises(ValueError, match="temperature must be a float > 0"):
        toy_prior.sample(SMALL, 2, temperature=0)
    with pytest.raises(ValueError, match="not a native"):
        toy_prior.log_prob(SMALL, [get_space("mlp").default("classification")])
    with pytest.raises(ValueError, match="not fitted"):
        ArchitecturePrior().sample(SMALL, 1)
    with pytest.raises(ValueError, match="scores must have shape"):
        ArchitecturePrior().fit(pd.DataFrame([SMALL, LARGE]), [{}, {}], np.zeros((3, 2)))


def test_translation_to_the_mlp_space():
    params = to_mlp_params({"batch_size": 64, "learning_rate": 0.05, "max_dropout": 0.6,
                            "max_units": 512, "momentum": 0.9, "num_layers": 5,
                            "weight_decay": 1e-5})
    assert params == {"n_layers": 4, "width": 512, "activation": "relu",
                      "dropout": pytest.approx(0.3), "norm": "none",
                      "learning_rate": pytest.approx(0.05), "weight_decay": 1e-5,
                      "batch_size": 64, "max_epochs": 50, "skip": False}
    assert "skip" not in to_mlp_params({"num_layers": 1})  # inactive below 2 layers
    with pytest.raises(ValueError, match="num_layers"):
        to_mlp_params({"num_layers": 9})


def test_lcbench_space_and_task_table_match_the_shared_data(shared_data):
    from metaopt.kb import YahpoBenchmark

    bench = YahpoBenchmark("lcbench", shared_data / "yahpo", split="train")
    assert LCBENCH_SPACE.to_json_dict() == bench.space.to_json_dict()
    splits = json.loads((shared_data / "yahpo" / "splits.json").read_text())["lcbench"]
    tasks = lcbench_tasks()
    assert sorted(lcbench_tasks("train").index) == sorted(splits["train"])
    assert sorted(lcbench_tasks("valid").index) == sorted(splits["valid"])
    # the rows said to come from pmlb copies agree with them
    with open(shared_data / "pmlb" / "manifest.csv") as f:
        manifest = {r["openml_did"]: r for r in csv.DictReader(f) if r["openml_did"]}
    checked = 0
    for _, row in tasks[tasks["source"] == "pmlb"].iterrows():
        copy = manifest[str(row["did"])]
        assert int(copy["n_instances"]) == row["NumberOfInstances"]
        assert int(copy["n_features"]) + 1 == row["NumberOfFeatures"]
        checked += 1
    assert checked >= 5
    assert task_metafeatures("167161")["n_features"] == 20.0  # credit-g: target removed


def test_hedge_switch_describe_and_settings_checks(toy_prior):
    configs = random_configs(LCBENCH_SPACE, 3, np.random.default_rng(1))
    mixed = toy_prior.log_prob(SMALL, configs)
    unmixed = copy.copy(toy_prior)
    unmixed.hedge = False  # the switch acts at once, not only after a save and load
    assert not np.allclose(unmixed.log_prob(SMALL, configs), mixed)
    with pytest.raises(ValueError, match=r"n must be an int in \[1, "):
        toy_prior.describe(SMALL, n=-1)
    with pytest.raises(TypeError, match="configs must be a list of configurations"):
        toy_prior.log_prob(SMALL, configs[0])
    assert len(toy_prior.sample(SMALL, 2, temperature=np.float32(0.5))) == 2
    with pytest.raises(ValueError, match="n_members must be an integer >= 1"):
        ArchitecturePrior(n_members=0).fit(pd.DataFrame([SMALL, SMALL]), configs,
                                           np.zeros((2, 3)))


def test_repeated_candidates_and_a_numpy_temperature(toy_prior, tmp_path):
    """sample() promises distinct configurations, but a candidate given twice could be
    drawn twice (4 draws, 3 distinct); a numpy temperature, which sample() takes, made
    save() fail (not JSON serializable)."""
    few = random_configs(LCBENCH_SPACE, 3, np.random.default_rng(0))
    picks = toy_prior.sample(SMALL, 3, seed=0, candidates=few + few[:2], native=True)
    assert sorted(map(str, picks)) == sorted(map(str, few))
    with pytest.raises(ValueError, match="more than the 3 distinct candidates"):
        toy_prior.sample(SMALL, 4, candidates=few + few[:1])
    warm = copy.copy(toy_prior)
    warm.temperature = np.float32(0.5)
    assert ArchitecturePrior.load(warm.save(tmp_path / "t")).temperature == 0.5


def test_a_dataset_without_scores_is_left_out_with_a_warning():
    """A row of NaN scores made every final loss NaN (the training reported it as is);
    now it is left out with a warning, and the prior is the one fitted without it."""
    mf, configs, scores = _toy_data()
    with_gap = np.vstack([scores[:4], np.full((1, scores.shape[1]), np.nan), scores[4:]])
    gap_mf = pd.concat([mf.iloc[:4], pd.DataFrame([SMALL]), mf.iloc[4:]], ignore_index=True)
    settings = dict(n_members=1, iterations=20, n_pool=64, hedge=False, random_state=0)
    with pytest.warns(UserWarning, match=r"1 dataset\(s\) without any score left out: \['4'\]"):
        gapped = ArchitecturePrior(**settings).fit(gap_mf, configs, with_gap)
    plain = ArchitecturePrior(**settings).fit(mf, configs, scores)
    assert np.isfinite(gapped.training_["final_listwise_loss"]).all()
    assert gapped.training_["final_listwise_loss"] == plain.training_["final_listwise_loss"]
    assert gapped.training_["n_datasets"] == 8
    with pytest.raises(ValueError, match="at least 2 datasets with scores"), pytest.warns(
            UserWarning, match="left out"):
        ArchitecturePrior(**settings).fit(mf.iloc[:2], configs,
                                          np.vstack([scores[0], np.full(300, np.nan)]))


def _per_row_configs(space, n, rng, task="classification"):
    """random_configs as it was built before its columns were converted at once: one
    ``is_active`` call and one conversion per parameter and row (the reference)."""
    from optuna.distributions import CategoricalDistribution, IntDistribution

    dists = space.distributions(task)
    draws = {}
    for name, d in dists.items():
        if isinstance(d, CategoricalDistribution):
            draws[name] = rng.integers(len(d.choices), size=n)
            continue
        lo, hi = float(d.low), float(d.high)
        if isinstance(d, IntDistribution):
            lo, hi = lo - 0.5, hi + 0.5
        u = rng.random(n)
        x = (np.exp(np.log(lo) + u * (np.log(hi) - np.log(lo))) if d.log
             else lo + u * (hi - lo))
        draws[name] = np.clip(np.rint(x), d.low, d.high) if isinstance(d, IntDistribution) else x
    out = []
    for i in range(n):
        config = {}
        for name, d in dists.items():
            if space.is_active(name, config):
                v = draws[name][i]
                config[name] = (d.choices[int(v)] if isinstance(d, CategoricalDistribution)
                                else int(v) if isinstance(d, IntDistribution) else float(v))
        out.append(config)
    return out


@pytest.mark.parametrize("space, task", [
    (LCBENCH_SPACE, "classification"),  # no condition: whole columns zipped
    (get_space("mlp"), "classification"),  # skip only with 2-4 layers (an int parent)
    (get_space("svm"), "regression"),  # three parameters on a categorical parent
])
def test_random_configs_match_the_per_row_construction(space, task):
    """Same values, Python types (int, float, the category objects) and key order as one
    configuration built parameter by parameter, for the same seed."""
    got = random_configs(space, 500, np.random.default_rng(3), task)
    want = _per_row_configs(space, 500, np.random.default_rng(3), task)

    def typed(configs):
        return [[(k, type(v), v) for k, v in c.items()] for c in configs]

    assert typed(got) == typed(want)
    # the conditional spaces' draws do leave some parameters out
    assert (len({len(c) for c in got}) > 1) == (space is not LCBENCH_SPACE)
    assert random_configs(space, 0, np.random.default_rng(3), task) == []


def test_equal_priors_pickle_to_equal_bytes_and_unpickle_to_the_same_draws(toy_prior):
    """torch pickles a tensor's storage with its memory address: a deep copy of the prior
    hashed differently (joblib), which scikit-learn's check_estimators_overwrite_params
    took for a prior that fit had changed. The networks pickle as their weights."""
    import pickle

    import joblib
    import torch
    from sklearn.utils.estimator_checks import check_estimators_overwrite_params

    from metaopt.nas import MetaMLPClassifier

    copied = copy.deepcopy(toy_prior)
    assert joblib.hash(copied) == joblib.hash(toy_prior)
    assert pickle.dumps(copied) == pickle.dumps(toy_prior)
    state = torch.get_rng_state()
    restored = pickle.loads(pickle.dumps(toy_prior))
    assert torch.equal(torch.get_rng_state(), state)  # rebuilding drew nothing of the caller's
    for prior in (copied, restored):
        assert all(not net.training for net in prior.members_ + prior.flat_members_)
        for mf in (SMALL, LARGE):
            assert prior.sample(mf, 6, seed=2, native=True) == toy_prior.sample(
                mf, 6, seed=2, native=True)
            np.testing.assert_array_equal(prior.log_prob(mf, toy_prior._pool[:50]),
                                          toy_prior.log_prob(mf, toy_prior._pool[:50]))
    # a prior pickled with its networks themselves (by an earlier metaopt) still unpickles
    earlier = ArchitecturePrior.__new__(ArchitecturePrior)
    earlier.__setstate__(dict(vars(copy.deepcopy(toy_prior))))
    assert earlier.sample(SMALL, 6, seed=2) == toy_prior.sample(SMALL, 6, seed=2)
    check_estimators_overwrite_params("MetaMLPClassifier", MetaMLPClassifier(
        n_trials=1, cv=2, max_epochs=3, n_prior_trials=1, pruner="none", prior=toy_prior,
        random_state=0))


def test_random_configs_takes_a_seed_and_a_space_name():
    """random_configs(space, n, 0) raised "AttributeError: 'int' object has no attribute
    'random'" and random_configs("mlp", ...) "'str' object has no attribute
    'distributions'": a seed (or None) and a registered space's name now do, with the
    draws of the Generator of that seed and of the space itself."""
    from metaopt.spaces import get_space

    assert random_configs(LCBENCH_SPACE, 4, 7) == random_configs(
        LCBENCH_SPACE, 4, np.random.default_rng(7))
    assert random_configs("mlp", 3, 0, "regression") == random_configs(
        get_space("mlp"), 3, np.random.default_rng(0), "regression")
    assert len(random_configs(LCBENCH_SPACE, 2, None)) == 2
    with pytest.raises(ValueError, match="unknown search space 'mpl'"):
        random_configs("mpl", 2, 0)
