"""`train_meta_models` (`metaopt train-meta-model`) on a knowledge base of your own."""

from __future__ import annotations

import pytest

from metaopt.kb import KnowledgeBase, load_default
from metaopt.ranker._train import train_meta_models


def test_a_space_that_cannot_be_trained_stops_before_any_training(tmp_path):
    """`--spaces knn,knn+svm` on a store without svm: knn was trained and saved first,
    then the combination raised, and the command ended with an error that did not say
    that knn had been written."""
    frame = load_default().to_frame()
    rows = frame[(frame["space"] == "knn") & (frame["task"] == "classification")]
    small = KnowledgeBase(tmp_path / "small.sqlite")
    small.add_frame(rows[rows["dataset_key"].isin(rows["dataset_key"].unique()[:5])])
    out = tmp_path / "models"
    with pytest.raises(ValueError, match=r"model families \['svm'\] have no configuration"):
        train_meta_models(small, out, spaces=["knn", "knn+svm"], progress=False,
                          ranker_options={"iterations": 2, "n_ensemble": 1})
    assert not out.exists()
