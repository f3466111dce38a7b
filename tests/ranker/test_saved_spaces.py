"""A space restored from a saved model's JSON encodes exactly like the one it was saved from."""

from __future__ import annotations

import numpy as np
import pytest

from metaopt.kb import TABREPO_SPACE, YahpoBenchmark
from metaopt.kb._design import design
from metaopt.ranker import load_meta_model
from metaopt.ranker._shipped import shipped_space
from metaopt.ranker._spaces import space_from_json


@pytest.mark.parametrize("scenario", ["lcbench", "rbv2_xgboost", "rbv2_rpart"])
def test_yahpo_space_round_trips_through_json(shared_data, scenario):
    space = YahpoBenchmark(scenario, shared_data / "yahpo", split="train").space
    restored = space_from_json(space.to_json_dict())
    assert restored.encoded_names == space.encoded_names
    assert restored.to_json_dict() == space.to_json_dict()
    for config in design(space, "classification", 20, seed=0):
        np.testing.assert_array_equal(restored.encode(config.params), space.encode(config.params))


def test_tabrepo_space_round_trips_through_json():
    restored = space_from_json(TABREPO_SPACE.to_json_dict())
    assert restored.encoded_names == TABREPO_SPACE.encoded_names


@pytest.mark.parametrize("scenario", ["lcbench", "rbv2_xgboost"])
def test_shipped_yahpo_models_encode_as_their_scenario(shared_data, scenario):
    """The rbv2_xgboost ranker was trained with YAHPO's order (unconditional parameters
    first); its file, written with sorted keys, restored them sorted by name, so the
    shipped model read permuted inputs."""
    space = YahpoBenchmark(scenario, shared_data / "yahpo", split="train").space
    model = load_meta_model(f"yahpo_{scenario}")
    assert model.space.encoded_names == space.encoded_names
    assert shipped_space(f"yahpo_{scenario}").encoded_names == space.encoded_names
