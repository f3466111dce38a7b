"""Saved meta-models record the METAFEATURES_VERSION of their training meta-features: one
trained before a bump compared a new dataset's meta-features (new definitions) with its
training datasets' (old ones) without a word."""

from __future__ import annotations

import dataclasses
import json
import shutil
import warnings

import pytest
import torch

import metaopt.metafeatures
from metaopt.kb import MetaFeaturesVersionWarning
from metaopt.ranker import ConfigRanker, MetaModel, Portfolio, load_meta_model
from metaopt.ranker._cost import CostModel
from metaopt.ranker._shipped import _models_root


@pytest.fixture
def bumped(monkeypatch):
    """This metaopt computing meta-features of version 2 (a bump after the models)."""
    monkeypatch.setattr(metaopt.metafeatures, "METAFEATURES_VERSION", 2)


def test_a_model_records_its_knowledge_bases_version_and_warns_when_loaded_after_a_bump(
        small_meta_model, tmp_path, monkeypatch):
    directory = small_meta_model.save(tmp_path / "model")
    with warnings.catch_warnings():  # the same version: silent
        warnings.simplefilter("error")
        MetaModel.load(directory)
    monkeypatch.setattr(metaopt.metafeatures, "METAFEATURES_VERSION", 2)
    with pytest.warns(MetaFeaturesVersionWarning) as caught:
        model = MetaModel.load(directory)
    assert len(caught) == 1  # once for the model, not once per part
    message = str(caught[0].message)
    assert "version 1" in message and "version 2" in message and "Retrain" in message
    assert caught[0].filename == __file__
    assert model.metafeatures_version == small_meta_model.metafeatures_version == 1
    assert json.loads((directory / "portfolio.json").read_text())["metafeatures_version"] == 1
    assert json.loads((directory / "ranker.json").read_text())["body"][
        "metafeatures_version"] == 1
    for cls, path in ((Portfolio, directory), (ConfigRanker, directory)):
        with pytest.warns(MetaFeaturesVersionWarning, match="trained on meta-features of "
                                                            "version 1"):
            assert cls.load(path).metafeatures_version_ == 1


def test_the_version_fitted_is_the_knowledge_bases_else_this_metaopts(tabrepo_matrix, bumped):
    """A knowledge base built before the bump (its frame's attrs say 1) gives a model of
    version 1; a frame that does not say holds meta-features computed now."""
    assert tabrepo_matrix.tasks.attrs["metafeatures_version"] == 1
    assert Portfolio().fit(tabrepo_matrix).metafeatures_version_ == 1
    unsaid = dataclasses.replace(tabrepo_matrix, tasks=tabrepo_matrix.tasks.copy())
    unsaid.tasks.attrs.clear()
    assert Portfolio().fit(unsaid).metafeatures_version_ == 2


def test_files_that_do_not_say_are_of_version_1(tmp_path, monkeypatch):
    """The shipped models (and a user's older files) record no version: version 1, silent
    now, and warned about after a bump."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        load_meta_model("knn", "classification")
    monkeypatch.setattr(metaopt.metafeatures, "METAFEATURES_VERSION", 2)
    with pytest.warns(MetaFeaturesVersionWarning, match="version 1"):
        model = load_meta_model("knn", "classification")
    assert model.metafeatures_version == 1


def test_a_garbled_or_mismatched_version_is_refused(small_meta_model, tmp_path):
    directory = small_meta_model.save(tmp_path / "model")
    path = directory / "portfolio.json"
    data = json.loads(path.read_text())
    path.write_text(json.dumps({**data, "metafeatures_version": "one"}))
    with pytest.raises(ValueError, match="metafeatures_version is 'one', not a version"):
        Portfolio.load(path)
    path.write_text(json.dumps({**data, "metafeatures_version": 2}))
    with pytest.raises(ValueError, match="ranker was trained on meta-features of version 1, "
                                         "the portfolio on version 2"):
        MetaModel.load(directory)


@pytest.fixture(scope="module")
def knn_rows():
    from metaopt.kb import load_default

    frame = load_default().to_frame()
    return frame[(frame["space"] == "knn") & (frame["task"] == "classification")]


def test_a_cost_model_records_its_knowledge_bases_version(knn_rows, tmp_path, monkeypatch):
    """cost.json, fitted on the knowledge base's sizes (mf_n_instances...), said nothing
    of their version: a bump went unnoticed where the portfolio's and ranker's warned."""
    assert knn_rows.attrs["metafeatures_version"] == 1
    cost = CostModel.fit(knn_rows)
    path = cost.save(tmp_path / "cost.json")
    assert json.loads(path.read_text())["metafeatures_version"] == 1
    with warnings.catch_warnings():  # the same version: silent
        warnings.simplefilter("error")
        assert CostModel.load(path).metafeatures_version == 1
    monkeypatch.setattr(metaopt.metafeatures, "METAFEATURES_VERSION", 2)
    with pytest.warns(MetaFeaturesVersionWarning, match=r"the cost model at .*cost\.json was "
                                                        "trained on meta-features of version 1"):
        assert CostModel.load(path).metafeatures_version == 1
    unsaid = knn_rows.copy()
    unsaid.attrs.clear()  # sizes computed now: this metaopt's version
    assert CostModel.fit(unsaid).metafeatures_version == 2
    data = json.loads(path.read_text())
    path.write_text(json.dumps({**data, "metafeatures_version": "one"}))
    with pytest.raises(ValueError, match="metafeatures_version is 'one', not a version"):
        CostModel.load(path)


def test_a_cost_json_that_does_not_say_is_of_version_1(monkeypatch):
    """The shipped cost.json files record no version: version 1, silent now."""
    path = _models_root() / "knn@classification" / "cost.json"
    assert "metafeatures_version" not in json.loads(path.read_text())
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert CostModel.load(path).metafeatures_version == 1
    monkeypatch.setattr(metaopt.metafeatures, "METAFEATURES_VERSION", 2)
    with pytest.warns(MetaFeaturesVersionWarning, match="version 1"):
        CostModel.load(path)


def test_a_meta_model_warns_of_a_cost_model_of_another_version(tmp_path, monkeypatch):
    """A cost.json fitted apart (add_cost_models) on meta-features of another version
    than the model's is warned of on its own; one of the model's, once for the model."""
    directory = shutil.copytree(_models_root() / "knn@classification", tmp_path / "knn")
    path = directory / "cost.json"
    path.write_text(json.dumps({**json.loads(path.read_text()), "metafeatures_version": 2}))
    with pytest.warns(MetaFeaturesVersionWarning) as caught:
        model = MetaModel.load(directory)
    assert len(caught) == 1 and "the cost model at" in str(caught[0].message)
    assert (model.metafeatures_version, model.cost.metafeatures_version) == (1, 2)
    monkeypatch.setattr(metaopt.metafeatures, "METAFEATURES_VERSION", 2)
    with pytest.warns(MetaFeaturesVersionWarning) as caught:
        MetaModel.load(directory)
    assert len(caught) == 1 and "the meta-model at" in str(caught[0].message)


def _small_kb(rows, path, version):
    """A store of 5 datasets' knn evaluations (enough for a cost model), their
    meta-features said to be of ``version``."""
    from metaopt.kb import KnowledgeBase

    rows = rows[rows["dataset_key"].isin(rows["dataset_key"].drop_duplicates().head(5))]
    rows.attrs["metafeatures_version"] = version
    kb = KnowledgeBase(path)
    kb.add_frame(rows)
    return kb


def test_the_training_card_records_the_version(knn_rows, tmp_path, monkeypatch):
    """card.json and CARD.md said which library versions trained a model, not which
    meta-features; add_cost_models put a cost model of a bumped knowledge base beside a
    model of the old one without a word."""
    from metaopt.ranker._train import add_cost_models, train_meta_models

    written = train_meta_models(_small_kb(knn_rows, tmp_path / "v1.sqlite", 1),
                                tmp_path / "models", progress=False,
                                ranker_options={"iterations": 2, "n_ensemble": 1})
    directory = written["knn"]
    card = json.loads((directory / "card.json").read_text())
    assert card["metafeatures_version"] == card["cost"]["metafeatures_version"] == 1
    text = (directory / "CARD.md").read_text()
    assert "meta-features version 1 (`METAFEATURES_VERSION`)" in text
    assert "and sizes (meta-features version 1)" in text
    # the machine as far as a retrain's rounding depends on it: CPU and torch's kernels
    machine = card["machine"]
    assert machine["torch"] == torch.__version__ and machine["cpu"]
    assert machine["torch_cpu_capability"] == torch.backends.cpu.get_cpu_capability()
    assert f"torch {torch.__version__} with {machine['torch_cpu_capability']} kernels" in text
    del card["metafeatures_version"]  # a card that does not say (the shipped ones): 1
    (directory / "card.json").write_text(json.dumps(card))
    monkeypatch.setattr(metaopt.metafeatures, "METAFEATURES_VERSION", 2)
    bumped_kb = _small_kb(knn_rows, tmp_path / "v2.sqlite", 2)
    with pytest.warns(MetaFeaturesVersionWarning, match="the meta-model at .* was trained on "
                                                        "meta-features of version 1") as caught:
        add_cost_models(bumped_kb, tmp_path / "models")
    assert len(caught) == 1 and caught[0].filename == __file__
    card = json.loads((directory / "card.json").read_text())
    assert "metafeatures_version" not in card and card["cost"]["metafeatures_version"] == 2
    assert "and sizes (meta-features version 2)" in (directory / "CARD.md").read_text()
    card["metafeatures_version"] = 2  # the card of a model retrained on it: silent
    (directory / "card.json").write_text(json.dumps(card))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        add_cost_models(bumped_kb, tmp_path / "models")
