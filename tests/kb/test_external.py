"""TabRepo and YAHPO in the knowledge base; their spaces as distributions + encodings."""

from __future__ import annotations

import json

import numpy as np
import pytest

from metaopt.kb import TABREPO_SPACE, YahpoBenchmark, load_tabrepo, load_yahpo


def test_tabrepo(shared_data):
    kb = load_tabrepo(shared_data / "tabrepo-lightgbm")
    frame = kb.to_frame()
    assert len(frame) == 73 * 104 and frame["dataset_key"].nunique() == 73
    assert frame.groupby("design_id")["dataset_key"].nunique().eq(73).all()
    assert frame["cv_score"].le(0).all() and frame.filter(like="mf_").notna().any().any()
    configs = [json.loads(c) for c in frame["config"]]
    codes = np.stack([TABREPO_SPACE.encode(c) for c in configs[:104]])
    assert codes.shape == (104, TABREPO_SPACE.n_encoded) and codes.min() >= 0 and codes.max() <= 1
    assert set(TABREPO_SPACE.distributions("regression")) == set(configs[0])
    with pytest.raises(ValueError, match="not a TabRepo directory"):
        load_tabrepo(shared_data)


@pytest.mark.parametrize("scenario", ["lcbench", "rbv2_xgboost", "rbv2_rpart"])
def test_yahpo_splits_and_batches(shared_data, scenario):
    path = shared_data / "yahpo"
    splits = json.loads((path / "splits.json").read_text())[scenario]
    bench = YahpoBenchmark(scenario, path)
    assert set(bench.instances) == set(splits["train"]) | set(splits["valid"])
    test = YahpoBenchmark(scenario, path, split="test")
    assert len(test.instances) == splits["n_reserved"]
    assert not set(test.instances) & set(bench.instances)
    with pytest.raises(ValueError, match="not in the 'train\\+valid' split"):
        bench.evaluate(bench.space.default("classification"), test.instances[0])

    configs = [bench.space.default("classification")] + [
        c.params for c in load_yahpo.__globals__["plan_configs"](
            bench.space, "classification", "x", n_configs=6, n_design=3, seed=0)]
    batch = bench.evaluate(configs, bench.instances[0])
    single = bench.evaluate(configs[3], bench.instances[0])
    assert batch.shape == (7, len(bench.targets))
    np.testing.assert_allclose(batch.iloc[3].to_numpy(), single.iloc[0].to_numpy(), rtol=1e-5)
    assert np.stack([bench.space.encode(c) for c in configs]).shape[1] == bench.space.n_encoded


def test_load_yahpo_small(shared_data):
    bench = YahpoBenchmark("rbv2_xgboost", shared_data / "yahpo", split="valid")
    frame = load_yahpo(bench, n_configs=5, n_design=3).to_frame()
    assert len(frame) == 5 * len(bench.instances)
    assert frame.groupby("design_id")["dataset_key"].nunique().eq(len(bench.instances)).all()
    # conditional params: gblinear configs carry no tree params
    for c in map(json.loads, frame["config"]):
        assert ("eta" in c) == (c["booster"] != "gblinear")


def test_yahpo_fidelity_outside_its_range_is_refused(shared_data):
    """lcbench's surrogate answered epoch=0 with 99.8 % validation accuracy, epoch=-10
    with NaN and epoch=500 by extrapolating: its epochs are 1..52."""
    bench = YahpoBenchmark("lcbench", shared_data / "yahpo")
    config, instance = bench.space.default("classification"), bench.instances[0]
    assert bench.evaluate(config, instance, fidelity={"epoch": 10.0}).notna().all(axis=None)
    for epoch in (0, -10, 500, 5.5):
        with pytest.raises(ValueError, match=r"'epoch' got .*; accepted: int in \[1, 52\]"):
            bench.evaluate(config, instance, fidelity={"epoch": epoch})
    with pytest.raises(ValueError, match=r"unknown parameter\(s\) \['repl'\]"):
        bench.evaluate(config, instance, fidelity={"repl": 1})
