"""The knowledge base card (CARD.md) and the shipped default knowledge base."""

from __future__ import annotations

import difflib
import json
import os
from pathlib import Path

from metaopt._markdown import markdown_table
from metaopt.kb._store import KnowledgeBase, _is_parquet, is_sqlite

DEFAULT_DIR = Path(__file__).parent / "_default"


def write_card(kb: KnowledgeBase, path: str | os.PathLike,
               parquet: str | os.PathLike | None = None, notes: str | None = None) -> Path:
    """Write a Markdown card describing ``kb``: runs, machines, versions (its meta-features'
    ``METAFEATURES_VERSION`` among them), datasets, counts.

    Parameters
    ----------
    kb : KnowledgeBase
    path : path-like
        Where to write the card (e.g. ``metaopt/kb/_default/CARD.md``).
    parquet : path-like, optional
        The parquet export the card accompanies; its size is reported.
    notes : str, optional
        Markdown placed under "How it was built" (the budget, the dataset order...).

    Returns
    -------
    Path
        ``path``.

    Raises
    ------
    ValueError
        If ``path`` is the knowledge base's SQLite file, ``parquet`` or the parquet file
        the knowledge base was read from, which the card would replace.
    """
    kb.check_not_own_file(path, "the card")
    for other, what in ((parquet, "the parquet export's"),
                        (kb.parquet_source, "the parquet file the knowledge base was read from")):
        if other is not None and Path(other).resolve() == Path(path).resolve():
            raise ValueError(f"the card path {os.fspath(path)!r} is {what}: the card would "
                             "replace it; give another path (e.g. CARD.md)")
    frame = kb.to_frame(metafeatures=False)
    runs = kb.runs()
    datasets = kb.datasets()
    lines = ["# metaopt knowledge base", "",
             f"{len(frame)} evaluations of {frame['config_id'].nunique()} configurations on "
             f"{frame['dataset_key'].nunique()} datasets, {frame['space'].nunique()} search "
             "spaces.", ""]
    if (version := kb.metafeatures_version()) is not None:
        lines += [f"Meta-features: version {version} (`METAFEATURES_VERSION`).", ""]
    if parquet is not None:
        size = Path(parquet).stat().st_size
        lines += [f"File: `{Path(parquet).name}`, {size / 1e6:.2f} MB.", ""]
    if notes:
        lines += ["## How it was built", "", notes.strip(), ""]
    if len(runs):
        lines += ["## Build runs", ""]
        shown = runs.assign(
            machine=[_machine(h, m) for h, m in zip(runs["host"], runs["machine"], strict=True)],
            hours=(runs["seconds"].fillna(0) / 3600).round(2),
            params=[_params(p) for p in runs["params"]],
        )[["run_id", "started_at", "status", "n_evaluations", "hours", "machine", "params"]]
        lines += [markdown_table(shown, index=False), ""]
        versions = sorted({v for v in runs["versions"].dropna()})
        lines += ["Library versions: " + "; ".join(
            ", ".join(f"{k} {x}" for k, x in json.loads(v).items()) for v in versions), ""]
    if len(frame):
        lines += ["## Evaluations by origin, space and status", ""]
        counts = (frame.groupby(["origin", "space", "status"]).size().unstack(fill_value=0)
                  .reset_index())
        lines += [markdown_table(counts, index=False), ""]
        lines += [f"Total evaluation time: {frame['eval_time'].sum() / 3600:.2f} h "
                  f"(fit time per fold, median {frame['fit_time'].median():.3g} s).", ""]
    lines += ["## Datasets", ""]
    shown = datasets[["dataset_key", "source", "task", "n_samples", "n_features", "status"]]
    lines += [markdown_table(shown.sort_values("dataset_key"), index=False), ""]
    failed = datasets[datasets["status"] != "ok"]
    if len(failed):
        lines += ["Datasets that failed to load: " + "; ".join(
            f"{k}: {e}" for k, e in zip(failed["dataset_key"], failed["error"], strict=True)), ""]
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines))
    return path


def _machine(host: str | None, machine: str | None) -> str:
    m = json.loads(machine) if machine else {}
    return f"{host} ({m.get('cpu_count', '?')} CPUs, {m.get('platform', '?')})"


def _params(params: str | None) -> str:
    """A build run's settings: what was planned, every setting that changes what a score
    measures, and how it ran."""
    from metaopt.kb._build import _MEASURING

    p = json.loads(params) if params else {}
    keys = ("suite", "spaces", "n_configs", "n_design", *_MEASURING, "backend", "n_jobs")
    return ", ".join(f"{k}={p[k]}" for k in keys if k in p)


def export_default(kb: KnowledgeBase, directory: str | os.PathLike | None = None,
                   notes: str | None = None) -> Path:
    """Write ``evaluations.parquet`` and ``CARD.md`` of a knowledge base.

    Parameters
    ----------
    kb : KnowledgeBase
    directory : path-like, optional
        Where to write them (default: the shipped knowledge base's directory).
    notes : str, optional
        Passed to :func:`write_card`.

    Returns
    -------
    Path
        ``directory``.
    """
    directory = Path(DEFAULT_DIR if directory is None else directory)
    parquet = kb.to_parquet(directory / "evaluations.parquet")
    write_card(kb, directory / "CARD.md", parquet=parquet, notes=notes)
    return directory


def load_default() -> KnowledgeBase:
    """The knowledge base shipped with metaopt (``metaopt/kb/_default``), in memory.

    Its ``CARD.md`` says what was run, how, where and with which library versions.

    Returns
    -------
    KnowledgeBase
        Read from the shipped ``evaluations.parquet``; ``FileNotFoundError`` when it is
        missing.
    """
    path = DEFAULT_DIR / "evaluations.parquet"
    if not path.is_file():
        raise FileNotFoundError(
            f"no default knowledge base at {path}; build one with `metaopt build-kb` and "
            "install it with metaopt.kb.export_default(kb)"
        )
    return KnowledgeBase.from_parquet(path)


def open_knowledge_base(source: str | os.PathLike) -> KnowledgeBase:
    """Open a knowledge base.

    Parameters
    ----------
    source : str or path-like
        A parquet export (a ``.parquet`` path, or a file that is parquet whatever its
        name), a SQLite file/URL (also one named ``.parquet``), or ``"default"`` (the
        shipped one).

    Returns
    -------
    KnowledgeBase

    Raises
    ------
    ValueError
        If there is no such store; one spelt like ``"default"`` (``"Default"``,
        ``"defualt"``) gets that keyword suggested.
    """
    text = os.fspath(source)
    if text == "default":
        return load_default()
    if (text.endswith(".parquet") and not is_sqlite(source)) or _is_parquet(source):
        return KnowledgeBase.from_parquet(source)
    try:
        return KnowledgeBase.open_existing(source)
    except ValueError as error:
        if os.path.exists(text) or not difflib.get_close_matches(text.lower(), ["default"],
                                                                 cutoff=0.8):
            raise
        raise ValueError(f"{error}; did you mean 'default' (the shipped knowledge base)?") from None
