"""The names of the meta-models shipped in ``metaopt/_models``, read without importing the
ranker (torch): the command line lists them before its imports."""

from __future__ import annotations

import difflib
from importlib import resources
from pathlib import Path

# the space `metaopt demo` tunes when given none (if a model of it is shipped)
DEMO_SPACE = "hist_gradient_boosting"


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


def serves_no_task(space: str) -> bool:
    """Whether no shipped meta-model serves ``space`` for any task type: it is neither a
    shipped space nor a combination of model families (``"svm+knn"``, which the ``"all"``
    model may serve). Such a name is refused before any data is read."""
    return "+" not in space and space not in shipped_spaces()


def no_shipped_model(space: str, detail: str = "") -> ValueError:
    """The error for a ``space`` without a shipped meta-model, naming those with one."""
    spaces = shipped_spaces()
    asked = str(space).split("@")[0]
    close = ([s for s in spaces if s.lower() == asked.lower().strip()]  # 'SVM', ' svm'
             or difflib.get_close_matches(asked.lower(), spaces, n=1))
    return ValueError(
        f"no shipped meta-model for space {space!r}{detail}; "
        + (f"did you mean {close[0]!r}? " if close else "")
        + f"spaces with one: {spaces}. Train one with `metaopt train-meta-model`"
    )
