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


def plot_search(history: pd.DataFrame, by: str, *, ylabel: str, title: str,
                ax: Axes | None = None, hollow: str = "pruned (its last score)",
                n_folds: int | None = None, chosen: int | None = None) -> Axes:
    """Each trial's score (``history``: ``trial``, ``score``, ``by`` and optionally
    ``complete`` and ``folds``) coloured by its ``by`` value, trials that did not complete
    hollow at their last score (``hollow``: what the legend calls them), far-lower scores
    (a diverging fit) at the bottom edge, and the best complete score so far as a step
    line (none when no trial completed).

    ``chosen``: the trial the model is the configuration of, as the estimator chose it.
    It is starred when it is not the best complete trial: when no trial completed, the
    legend saying on how many ``folds`` it was chosen (of ``n_folds``, when given), and
    when the best complete trial's refit failed its check and it was refitted instead.
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
    label = _chosen_label(history, complete, chosen, n_folds)
    if label is not None and chosen is not None:
        score = history.loc[history["trial"] == chosen, "score"].iloc[0]
        ax.plot([chosen], [max(score, floor)], linestyle="none", marker="*",
                markersize=13, markerfacecolor="none", color="black", label=label)
    ax.set_xlabel("trial")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=1))
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(fontsize="small")
    return ax


def _chosen_label(history: pd.DataFrame, complete: pd.Series, chosen: int | None,
                  n_folds: int | None) -> str | None:
    """The legend of the ``chosen`` trial's star (:func:`plot_search`); None for no star:
    no trial chosen, or not in ``history``, or the best complete trial."""
    rows = history.index[history["trial"] == chosen]
    if chosen is None or not len(rows):
        return None
    if not complete.any():
        folds = ("" if "folds" not in history else
                 f", on {int(history.loc[rows[0], 'folds'])}"
                 + ("" if n_folds is None else f" of {n_folds}") + " folds")
        return f"chosen: trial {chosen}{folds} (none complete)"
    best = int(history.loc[history["score"].where(complete).idxmax(), "trial"])
    if chosen == best:
        return None
    return f"chosen: trial {chosen}, as trial {best}'s refit failed its check"
