"""Plots shared by both benchmarks: curves with confidence bands."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from metaopt._files import write_whole
from metaopt.benchmark._metrics import mean_ci

_LINES = ("-", "--", ":", "-.")
_MARKERS = ("o", "s", "^", "D", "v", "x")


def plot_curves(
    curves: pd.DataFrame,
    path: str | os.PathLike,
    *,
    value: str = "regret",
    x: str = "budget",
    methods: Sequence[str] | None = None,
    title: str = "",
    ylabel: str = "mean normalized regret",
    xlabel: str | None = None,
    limits: tuple[float, float] | None = (0.0, 1.0),
    full_axis: bool = False,
    over: str = "tasks",
) -> Path:
    """Write a PNG of ``value`` vs ``x`` per method: mean over tasks and 95% t-band.

    Seeds and folds are averaged within a task first, so the band reflects tasks; the
    band is clipped to ``limits`` (the range ``value`` can take), and with ``full_axis``
    the y axis spans them (mean ranks: zoomed to the data, 2.2 against 2.8 of 5 methods
    looked as far apart as first and last); ``xlabel`` defaults to ``x``; the legend
    names the band, a 95 % interval over ``over`` (what the ``task`` column holds). Drawn on a
    figure of its own, not through pyplot: the caller's backend and open figures are
    left alone. Written whole or not at all (a save that fails midway leaves an earlier
    file as it was). Returns the path written: ``path``, with ``.png`` added when it has no
    extension.
    """
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch
    from matplotlib.ticker import NullFormatter, ScalarFormatter

    per_task = curves.groupby(["method", "task", x])[value].mean().reset_index()
    methods = [m for m in (methods or per_task["method"].unique())
               if m in set(per_task["method"])]
    fig = Figure(figsize=(7, 4.5), dpi=120)
    ax = fig.add_subplot()
    drawn: dict[str, pd.Series] = {}
    banded = False
    for i, name in enumerate(methods):
        rows = per_task[per_task["method"] == name]
        stats = rows.groupby(x)[value].apply(lambda v: pd.Series(mean_ci(v), index=["m", "h"]))
        stats = stats.unstack()
        # a curve identical to one drawn before would hide it: say so in the legend,
        # and vary dash and marker so overlapping curves stay visible
        same = [m for m, c in drawn.items() if c.equals(stats["m"])]
        label = f"{name} (= {same[0]})" if same else name
        drawn[name] = stats["m"]
        ax.plot(stats.index, stats["m"], _LINES[i % len(_LINES)],
                marker=_MARKERS[i % len(_MARKERS)], ms=4, label=label)
        low, high = stats["m"] - stats["h"], stats["m"] + stats["h"]
        if limits is not None:
            low, high = low.clip(*limits), high.clip(*limits)
        ax.fill_between(stats.index, low, high, alpha=0.15)
        banded |= bool(stats["h"].notna().any())
    ax.set_xscale("log")
    ticks = sorted(per_task[x].unique())
    ax.set_xticks(ticks if len(ticks) <= 12 else ticks[:: len(ticks) // 10 + 1])
    ax.xaxis.set_major_formatter(ScalarFormatter())
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xlabel(xlabel or x.replace("_", " "))
    ax.set_ylabel(ylabel)
    if full_axis and limits is not None and limits[1] > limits[0]:
        pad = 0.03 * (limits[1] - limits[0])
        ax.set_ylim(limits[0] - pad, limits[1] + pad)
    ax.set_title(title)
    ax.grid(True, which="major", alpha=0.3)
    handles, labels = ax.get_legend_handles_labels()
    if banded:  # what the shading is: nothing else said it
        handles.append(Patch(color="grey", alpha=0.3))
        labels.append(f"shaded: 95 % interval over {over}")
    ax.legend(handles, labels, fontsize=8, ncol=2, framealpha=0.8)
    fig.tight_layout()
    path = plot_path(path)
    save_whole(fig, path)
    return path


def save_whole(fig, path: Path, **kwargs) -> None:
    """``fig.savefig`` to ``path`` whole or not at all (:func:`~metaopt._files.write_whole`):
    a save that fails midway leaves an earlier file as it was. The format is ``path``'s
    extension, told to matplotlib: the temporary file's name ends in ``.tmp``."""
    write_whole(path, lambda tmp: fig.savefig(tmp, format=path.suffix[1:].lower(), **kwargs))


def plot_path(path: str | os.PathLike) -> Path:
    """The file :func:`plot_curves` writes for ``path``: with ``.png`` added when it has
    no extension (a PNG, as matplotlib writes it: named as written)."""
    path = Path(path)
    return path if path.suffix else path.with_suffix(".png")
