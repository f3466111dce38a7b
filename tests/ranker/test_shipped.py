"""The meta-models shipped in metaopt/_models load as data and are described by cards."""

from __future__ import annotations

import json

import pytest

from metaopt.ranker import MetaModel, load_meta_model, shipped_spaces, training_datasets
from metaopt.ranker._shipped import _models_root, _shipped_models


def test_shipped_models_exist():
    spaces = shipped_spaces()
    assert "tabrepo_lightgbm" in spaces
    assert "hist_gradient_boosting" in spaces
    model = load_meta_model("hist_gradient_boosting", "classification")
    assert set(model.portfolio.task_types_) == {"classification"}


@pytest.mark.parametrize("name", _shipped_models())
def test_each_shipped_model_loads_and_has_a_card(name):
    model = MetaModel.load(_models_root() / name)
    card = json.loads((_models_root() / name / "card.json").read_text())
    assert card["space"] == name.split("@")[0]
    assert sorted(card["datasets"]) == sorted(model.portfolio.task_keys_)
    assert (_models_root() / name / "CARD.md").read_text().startswith("# Meta-model card")
    assert set(card["datasets"]) <= training_datasets(card["space"])
    first = model.portfolio.suggest(1)["params"][0]
    model.space.encode(first)  # the portfolio's configurations belong to the space
