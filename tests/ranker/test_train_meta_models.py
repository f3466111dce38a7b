"""`train_meta_models` (`metaopt train-meta-model`) on a knowledge base of your own."""

from __future__ import annotations

import pytest

from metaopt.kb import KnowledgeBase, load_default
from metaopt.ranker import PerformanceMatrix
from metaopt.ranker._train import train_meta_models


def _small_kb(path):
    """5 classification datasets x the default knowledge base's knn configurations."""
    frame = load_default().to_frame()
    rows = frame[(frame["space"] == "knn") & (frame["task"] == "classification")]
    small = KnowledgeBase(path)
    small.add_frame(rows[rows["dataset_key"].isin(rows["dataset_key"].unique()[:5])])
    return small


def test_a_space_that_cannot_be_trained_stops_before_any_training(tmp_path):
    """`--spaces knn,knn+svm` on a store without svm: knn was trained and saved first,
    then the combination raised, and the command ended with an error that did not say
    that knn had been written."""
    small = _small_kb(tmp_path / "small.sqlite")
    out = tmp_path / "models"
    with pytest.raises(ValueError, match=r"model families \['svm'\] have no configuration"):
        train_meta_models(small, out, spaces=["knn", "knn+svm"], progress=False,
                          ranker_options={"iterations": 2, "n_ensemble": 1})
    assert not out.exists()


def test_the_card_of_your_own_model_claims_no_validation(tmp_path):
    """The card of a model trained on your knowledge base said 'Validation figures live
    in docs/ranker.md': that page validates the shipped models, not yours."""
    written = train_meta_models(_small_kb(tmp_path / "small.sqlite"), tmp_path / "models",
                                progress=False, ranker_options={"iterations": 2,
                                                                "n_ensemble": 1})
    card = (written["knn"] / "CARD.md").read_text()
    assert "Validation figures live" not in card
    assert "Not validated here" in card and "the shipped models only" in card


def test_each_model_is_announced_above_its_bars(tmp_path, capsys):
    """Training every space of a knowledge base (minutes) showed one bar per member, named
    by the space, without saying how many models there were or on how much data."""
    small = _small_kb(tmp_path / "small.sqlite")
    n_configs = PerformanceMatrix.from_frame(small.to_frame(), "knn").n_configs
    train_meta_models(small, tmp_path / "models", ranker_options={"iterations": 2,
                                                                 "n_ensemble": 1})
    err = capsys.readouterr().err
    assert f"knn: model 1/1, 5 datasets x {n_configs} configurations" in err
    assert err.index("model 1/1") < err.index("member 1/1")
    train_meta_models(small, tmp_path / "models", progress=False,
                      ranker_options={"iterations": 2, "n_ensemble": 1})
    assert capsys.readouterr().err == ""


def test_the_command_prints_each_model_as_it_is_saved(tmp_path, capsys, monkeypatch):
    """`train-meta-model --no-progress` printed nothing until every model was trained,
    then listed them all."""
    from metaopt.cli import main
    from metaopt.ranker import _train

    frame = load_default().to_frame()
    rows = frame[frame["space"].isin(["knn", "linear"]) & (frame["task"] == "classification")]
    small = KnowledgeBase(tmp_path / "small.sqlite")
    small.add_frame(rows[rows["dataset_key"].isin(rows["dataset_key"].unique()[:5])])
    small.close()
    printed = []  # what the command printed before each model's training
    fit_and_save = _train._fit_and_save

    def recording(*args, **kwargs):
        printed.append(capsys.readouterr().out)
        return fit_and_save(*args, **kwargs)

    monkeypatch.setattr(_train, "_fit_and_save", recording)
    out = tmp_path / "models"
    assert main(["train-meta-model", "--kb", str(tmp_path / "small.sqlite"), "--out",
                 str(out), "--spaces", "knn,linear", "--iterations", "2", "--n-ensemble",
                 "1", "--no-progress"]) == 0
    printed.append(capsys.readouterr().out)
    assert printed == ["", f"knn: {out / 'knn'}\n", f"linear: {out / 'linear'}\n"]
