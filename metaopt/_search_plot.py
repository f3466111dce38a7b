"""The search-history plot of the estimators (``plot_history`` of MetaOpt* and MetaMLP*)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from matplotlib.axes import Axes


def plot_floor(scores: pd.Series) -> float:
    """The lowest score the plot shows: scores below 10 times the spread of the better
    three quarters (from their lowest to the best) under them are outliers, drawn at
    this edge; -inf when there are none."""
    low, top = scores.quantile(0.25), scores.max()
    floor = low - 10 * ((top - low) or 0.01 * max(abs(top), 1.0))
    return floor if scores.min() < floor else -np.inf


def partial_choice(history: pd.DataFrame) -> pd.Series | None:
    """The row of the trial chosen when none completed: the most finished ``folds``, of
    those the best ``score`` (the mean of its folds), then the earliest (the estimators'
    rule); None when one ``complete``d, or ``history`` has no ``folds`` or no row."""
    if "folds" not in history or history["complete"].any():
        return None
    ranked = history.sort_values(["folds", "score", "trial"], ascending=[False, False, True])
    return ranked.iloc[0] if len(ranked) else None


def plot_search(history: pd.DataFrame, by: str, *, ylabel: str, title: str,
                ax: Axes | None = None, hollow: str = "pruned (its last score)",
                n_folds: int | None = None) -> Axes:
    """Each trial's score (``history``: ``trial``, ``score``, ``by`` and optionally
    ``complete`` and ``folds``) coloured by its ``by`` value, trials that did not complete
    hollow at their last score (``hollow``: what the legend calls them), far-lower scores
    (a diverging fit) at the bottom edge, and the best complete score so far as a step
    line. When no trial completed there is no step line; with ``folds`` (those each trial
    finished), the trial chosen on them (:func:`partial_choice`) is starred, the legend
    saying on how many folds (of ``n_folds``, when given).
    The trial axis has integer ticks only (one trial's axis showed -0.04, -0.02, ...)."""
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    complete = history["complete"] if "complete" in history else pd.Series(True, history.index)
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4))
    floor = plot_floor(history["score"])
    low = history["score"] < floor
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for i, (group, rows) in enumerate(history.groupby(by, sort=False)):
        colour = colours[i % len(colours)]
        ax.scatter([], [], color=colour, s=22, label=group)
        for below, part in rows.groupby(low[rows.index]):
            # far below the others, at the bottom edge: scores of a diverging fit
            # (R² of -8000 among 0.95s) flattened every other one into a line
            ax.scatter(part["trial"], part["score"].clip(lower=floor),
                       marker="v" if below else "o", s=30 if below else 22,
                       edgecolors=colour,
                       facecolors=[colour if c else "none" for c in complete[part.index]])
    if not complete.all():
        ax.scatter([], [], facecolors="none", edgecolors="grey", s=22,
                   label=hollow)
    if low.any():
        top = history["score"].max()
        ax.set_ylim(floor - 0.05 * (top - floor), top + 0.05 * (top - floor))
        ax.scatter([], [], marker="v", color="grey", label=(
            f"{low.sum()} lower, at the edge (lowest {history['score'].min():.4g})"))
    if complete.any():
        best = history["score"].where(complete).cummax().ffill()
        ax.step(history["trial"], best.clip(lower=floor), where="post", color="black",
                label="best so far" if complete.all() else "best complete so far")
    chosen = partial_choice(history.assign(complete=complete))
    if chosen is not None:
        of = "" if n_folds is None else f" of {n_folds}"
        ax.plot([chosen["trial"]], [max(chosen["score"], floor)], linestyle="none",
                marker="*", markersize=13, markerfacecolor="none", color="black",
                label=f"chosen: trial {int(chosen['trial'])}, on {int(chosen['folds'])}"
                      f"{of} folds (none complete)")
    ax.set_xlabel("trial")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=1))
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(fontsize="small")
    return ax
