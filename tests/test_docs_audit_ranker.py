"""docs/ranker.md checked against the code: train-meta-model's --spaces."""

import pytest

from metaopt.cli import main
from metaopt.kb import KnowledgeBase
from metaopt.ranker._train import train_meta_models


def test_train_meta_models_refuses_a_space_named_twice(tmp_path):
    # it trained and wrote knn's models twice, the second over the first
    with pytest.raises(ValueError, match="spaces name 'knn' more than once"):
        train_meta_models(KnowledgeBase(), tmp_path / "models", spaces=["knn", "svm", "knn"])
    assert not (tmp_path / "models").exists()


def test_train_meta_model_command_refuses_a_space_named_twice(tmp_path, capsys):
    assert main(["train-meta-model", "--kb", "default", "--spaces", "knn,knn",
                 "--iterations", "1", "--n-ensemble", "1",
                 "--out", str(tmp_path / "models"), "--no-progress"]) == 2
    assert "--spaces name 'knn' more than once" in capsys.readouterr().err
    assert not (tmp_path / "models").exists()
