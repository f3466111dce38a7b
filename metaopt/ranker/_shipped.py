"""The meta-models shipped with metaopt (``metaopt/_models/<space>/``), read as data."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

from metaopt.ranker._metamodel import MetaModel


def _models_root() -> Path:
    return Path(str(resources.files("metaopt").joinpath("_models")))


def shipped_spaces() -> list[str]:
    """Spaces that have a shipped meta-model."""
    root = _models_root()
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if (p / "portfolio.json").is_file())


def load_meta_model(space: str) -> MetaModel:
    """The shipped :class:`MetaModel` of ``space``; ``ValueError`` lists what exists."""
    available = shipped_spaces()
    if space not in available:
        raise ValueError(
            f"no shipped meta-model for space {space!r}; shipped: {available}. Train one with "
            "MetaModel.fit(PerformanceMatrix.from_frame(kb.to_frame(), space))"
        )
    return MetaModel.load(_models_root() / space)


def training_datasets(space: str | None = None) -> set[str]:
    """Dataset keys the shipped meta-models were trained on (for hold-out checks)."""
    keys: set[str] = set()
    for name in [space] if space else shipped_spaces():
        data = json.loads((_models_root() / name / "portfolio.json").read_text())
        keys.update(data["task_keys"])
    return keys
