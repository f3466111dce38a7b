"""Shared by the benchmark scripts: where the shared data is, thread pinning, loading a
named dataset of the task a script runs, and user errors in one line."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path

# the read-only data (pmlb, TabRepo, YAHPO), beside the repository unless set otherwise
SHARED_DATA = Path(os.environ.get("METAOPT_SHARED_DATA",
                                  Path(__file__).resolve().parents[2] / "shared" / "data"))
#: the published results, which a run on other data must not overwrite
RESULTS = Path(__file__).resolve().parent / "results"


def single_threaded(threads: int) -> None:
    """Limit BLAS/OpenMP (threadpoolctl) and torch to ``threads`` for the whole run: on
    a busy 2-core machine torch's default of one thread per core made the ranker ~6x
    slower."""
    import torch
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=threads)
    torch.set_num_threads(threads)


def load_of_task(source, name: str, task: str, option: str, why: str = ""):
    """Dataset ``name`` of ``source`` (a :class:`metaopt.data.LocalSource`); ``SystemExit``
    naming ``option`` when it is missing or unreadable, or is not a ``task`` dataset (its
    manifest, metadata or target says otherwise: a dataset of the other task was tuned
    on a target read as the wrong kind). ``why``: said after the task in that message."""
    from metaopt.data import DatasetLoadError

    try:
        data = source.load(name)
    except (DatasetLoadError, ValueError) as exc:
        raise SystemExit(f"{option}: {exc}") from None
    if data.task != task:
        raise SystemExit(f"{option}: {name!r} in {source.root} is a {data.task} dataset, "
                         f"not {task}{why}")
    return data


def manifest_with_sizes(root, task: str):
    """The ``task`` rows of the manifest of the pmlb-layout directory ``root``
    (:meth:`metaopt.data.LocalSource.manifest`: a ``manifest.csv``, else the datasets
    found) with ``n_instances`` and ``n_features``, read from a dataset's table where the
    manifest lacks them (NaN when it does not load)."""
    from tqdm.auto import tqdm

    from metaopt.data import DatasetLoadError, LocalSource

    source = LocalSource(root)
    table = source.manifest()
    table = table[table["task"] == task].reindex(
        columns=[*table.columns, *{"n_instances", "n_features"} - set(table.columns)])
    unknown = table.index[table[["n_instances", "n_features"]].isna().any(axis=1)]
    for i in tqdm(unknown, desc=f"sizes of {len(unknown)} tables (not in the manifest)",
                  leave=False, disable=not len(unknown)):
        try:
            data = source.load(table.at[i, "name"], task)
        except (DatasetLoadError, ValueError):
            continue  # unknown size: its error comes if it is picked
        table.loc[i, ["n_instances", "n_features"]] = data.n_samples, data.n_features
    return table.astype({"n_instances": float, "n_features": float}).reset_index(drop=True)


def check_out(out, **data: tuple) -> None:
    """``SystemExit`` when ``out`` is in :data:`RESULTS` and the data is not the
    published benchmark's: ``data`` maps an option (``pmlb`` for ``--pmlb``) to its
    ``(value, default)``. Its results would overwrite (or, resumed, mix with) the
    published ones."""
    other = [f"--{option.replace('_', '-')}" for option, (value, default) in data.items()
             if Path(value).resolve() != Path(default).resolve()]
    if other and Path(out).resolve().is_relative_to(RESULTS):
        raise SystemExit(f"{' and '.join(other)} name(s) other data than the published "
                         f"benchmark's: give --out outside {RESULTS} (the published "
                         "results, which this run would overwrite)")


def run_main(main: Callable[[], object]) -> None:
    """Run a script's ``main``: a user error (bad data or option: ``ValueError``,
    ``OSError``, :class:`metaopt.data.DatasetLoadError`) ends it in one line on stderr,
    ``<script>: error: <message>``, exit code 1, as ``metaopt`` commands say it, not in a
    traceback."""
    from metaopt.data import DatasetLoadError

    try:
        main()
    except (ValueError, OSError, DatasetLoadError) as exc:
        raise SystemExit(f"{Path(sys.argv[0]).name}: error: {exc}") from None
