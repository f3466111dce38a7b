"""What the benchmark command line needs before the benchmarks' imports (kept light): the
methods a surrogate benchmark compares by default (its help shows them), and a run
directory's settings file (a wrong ``--out`` is refused at once)."""

from __future__ import annotations

import os
from pathlib import Path

DEFAULT_METHODS = ("random", "tpe", "gp", "cmaes", "portfolio", "knn", "rgpe", "flaml", "metaopt")


def run_settings_file(out: str | os.PathLike) -> Path:
    """``out/run.json``; ValueError when ``out`` is not a ``benchmark run`` directory."""
    path = Path(out) / "run.json"
    if not path.is_file():
        raise ValueError(f"{os.fspath(Path(out))!r} is not a `benchmark run` directory "
                         "(no run.json)")
    return path
