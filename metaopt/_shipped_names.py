"""The names of the meta-models shipped in ``metaopt/_models``, read without importing the
ranker (torch): the command line lists them before its imports."""

from __future__ import annotations

from importlib import resources
from pathlib import Path


def models_root() -> Path:
    """The folder of the shipped meta-models."""
    return Path(str(resources.files("metaopt").joinpath("_models")))


def shipped_models() -> list[str]:
    """Folder names (``<space>`` or ``<space>@<task>``) of the models with a portfolio."""
    root = models_root()
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if (p / "portfolio.json").is_file())


def shipped_spaces() -> list[str]:
    """Spaces that have a shipped meta-model (for some task type).

    Returns
    -------
    list of str
        Sorted.
    """
    return sorted({name.split("@")[0] for name in shipped_models()})
