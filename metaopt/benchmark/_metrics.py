"""Regret, ranks and their summaries: the numbers both benchmarks report."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

#: The range of :func:`min_max_regret`, the ``bounds`` of a paired regret difference.
REGRET_RANGE = (0.0, 1.0)


def min_max_regret(scores, best: float, worst: float) -> np.ndarray:
    """Normalized regret of higher-is-better ``scores``: 0 at ``best``, 1 at ``worst``.

    Values are clipped to [0, 1]; a failed evaluation (NaN or -inf) has regret 1, and
    when ``best == worst`` every finite score has regret 0. ``best < worst`` (the two
    swapped) and a bound that is no finite number raise ``ValueError``.

    Parameters
    ----------
    scores : array-like
    best, worst : float
        The range of finite scores.

    Returns
    -------
    ndarray
    """
    if not (np.isfinite(best) and np.isfinite(worst)):
        raise ValueError(f"best and worst must be finite numbers (the range of finite "
                         f"scores), got best={best!r}, worst={worst!r}")
    if best < worst:
        raise ValueError(f"best must be >= worst (higher is better), got best={best!r}, "
                         f"worst={worst!r}")
    scores = np.asarray(scores, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        regret = (best - scores) / (best - worst) if best > worst else np.zeros_like(scores)
    return np.clip(np.where(np.isfinite(scores), regret, 1.0), 0.0, 1.0)


def best_so_far(scores) -> np.ndarray:
    """Running maximum of higher-is-better scores.

    Parameters
    ----------
    scores : array-like of shape (n,)
        NaN and -inf never improve the maximum.

    Returns
    -------
    ndarray of shape (n,)
    """
    scores = np.asarray(scores, dtype=float)
    return np.fmax.accumulate(np.where(np.isfinite(scores), scores, -np.inf))


def add_ranks(frame: pd.DataFrame, within: Sequence[str], value: str = "regret") -> pd.DataFrame:
    """Add a ``rank`` column: rank of each method's ``value`` (lower is better) within groups.

    Ties share their average rank (1 = best).

    Parameters
    ----------
    frame : pandas.DataFrame
        Tidy, one row per method and comparison.
    within : sequence of str
        The columns that identify one comparison, e.g. ``["task", "seed", "budget"]``.
    value : str, default="regret"
        The column ranked.

    Returns
    -------
    pandas.DataFrame
        A copy of ``frame`` with the ``rank`` column.
    """
    out = frame.copy()
    out["rank"] = out.groupby(list(within))[value].rank(method="average")
    return out


def mean_ci(values, confidence: float = 0.95) -> tuple[float, float]:
    """Mean and half-width of its Student-t confidence interval (NaN, undefined, for one
    value: a single task says nothing about the spread).

    Parameters
    ----------
    values : array-like
        Non-finite values are left out.
    confidence : float, default=0.95

    Returns
    -------
    mean : float
    half_width : float
    """
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)]
    if values.size == 0:
        return float("nan"), float("nan")
    if values.size == 1:
        return float(values[0]), float("nan")
    sem = values.std(ddof=1) / np.sqrt(values.size)
    return float(values.mean()), float(sem * stats.t.ppf(0.5 + confidence / 2, values.size - 1))


def summary_means(curves: pd.DataFrame, *, x: str = "budget") -> pd.DataFrame:
    """Each method's mean ``regret`` and mean ``rank`` at each ``x`` of ``curves`` (as
    :func:`summary_table`), indexed by ``(method, x)``: each task counts once (seeds and
    folds are averaged within a task first)."""
    per_task = curves.groupby(["method", "task", x], sort=False)[["regret", "rank"]].mean()
    return per_task.groupby(["method", x]).mean()


def summary_table(
    curves: pd.DataFrame, *, x: str = "budget", methods: Sequence[str] | None = None
) -> pd.DataFrame:
    """Budgets as rows, methods as columns, cells ``"mean regret (mean rank)"``.

    ``curves`` is a tidy frame with columns ``method``, ``x``, ``regret`` and ``rank``;
    each task counts once (seeds and folds are averaged within a task first). A method
    without a value at a budget shows ``n/a``, without a rank only its regret.
    """
    means = summary_means(curves, x=x).reset_index()
    regret = means.pivot(index=x, columns="method", values="regret")
    rank = means.pivot(index=x, columns="method", values="rank")
    order = [m for m in (methods or regret.columns) if m in regret.columns]
    table = regret[order].map("{:.4f}".format) + rank[order].map(
        lambda r: f" ({r:.2f})" if np.isfinite(r) else "")
    table = table.where(regret[order].notna(), "n/a")
    table.columns.name = None
    return table


def paired_difference(ours: pd.Series, peer: pd.Series, *, unit: str = "task",
                      higher_is_better: bool = False,
                      bounds: tuple[float, float] | None = None) -> dict[str, str]:
    """``ours - peer`` on the comparisons both have: the mean difference with its 95 %
    Student-t interval over ``unit`` values, each unit's comparisons averaged first (the
    seeds or splits of one task are not independent), and how many comparisons ``ours``
    won / tied / lost.

    With few units the t-interval can pass the values a difference can take (3 tasks:
    4.3 standard errors each side); given the ``bounds`` of the values compared, it is
    clipped to ``[low - high, high - low]`` and says so
    (``"[-1.0000, +0.4120] (clipped to [-1, 1])"``). The true mean difference lies in
    that range, so the clipped interval covers it exactly when the t-interval does.

    Parameters
    ----------
    ours, peer : pandas.Series
        Indexed by ``unit`` and, e.g., seed.
    unit : str, default="task"
        The index level the interval is over.
    higher_is_better : bool, default=False
        Whether a higher value wins.
    bounds : (float, float), optional
        The lowest and highest value ``ours`` and ``peer`` can take: :data:`REGRET_RANGE`
        for normalized regret, ``(0, 1)`` for accuracy, ``(-inf, 1)`` for R² (no
        clipping: its differences are unbounded). None: the interval is not clipped.

    Returns
    -------
    dict of str to str
        ``difference``, ``95% interval`` and ``won/tied/lost``, formatted.
    """
    if bounds is not None and not bounds[0] <= bounds[1]:
        raise ValueError(f"bounds must be (lowest, highest) value, got {bounds[0]} and "
                         f"{bounds[1]}")
    both = pd.concat({"ours": ours, "peer": peer}, axis=1).dropna()
    diff = both["ours"] - both["peer"]
    mean, half = mean_ci(diff.groupby(level=unit).mean())
    won, lost = (diff > 0).sum(), (diff < 0).sum()
    if not higher_is_better:
        won, lost = lost, won
    reach = np.inf if bounds is None else bounds[1] - bounds[0]  # |difference| <= reach
    low, high = max(mean - half, -reach), min(mean + half, reach)
    clipped = (f" (clipped to [{-reach:g}, {reach:g}])"
               if mean + half > reach or mean - half < -reach else "")
    interval = (f"[{low:+.4f}, {high:+.4f}]{clipped}" if np.isfinite(half) else
                f"n/a ({diff.index.get_level_values(unit).nunique()} {unit})")
    return {"difference": f"{mean:+.4f}",
            "95% interval": interval,
            "won/tied/lost": f"{won}/{(diff == 0).sum()}/{lost}"}


def paired_differences(frame: pd.DataFrame, ours: str, *, value: str = "regret",
                       unit: str = "task", within: Sequence[str] = ("seed",),
                       x: str = "budget", higher_is_better: bool = False,
                       bounds: tuple[float, float] | None = None) -> pd.DataFrame:
    """Method ``ours`` against every other method at each ``x``; one comparison is a
    (``unit``, ``within``) pair. An ``ours`` that is none of the frame's methods raises
    ``ValueError``.

    Parameters
    ----------
    frame : pandas.DataFrame
        Tidy: columns ``method``, ``unit``, ``within``, ``x`` and ``value``.
    ours : str
        A method of ``frame``.
    value : str, default="regret"
        The column compared.
    unit : str, default="task"
        The column the intervals are over (see :func:`paired_difference`).
    within : sequence of str, default=("seed",)
        The columns that, with ``unit``, identify one comparison.
    x : str, default="budget"
        The column of the checkpoints.
    higher_is_better : bool, default=False
        Whether a higher ``value`` is better.
    bounds : (float, float), optional
        The range of ``value``, which the intervals are clipped to the differences of
        (see :func:`paired_difference`): :data:`REGRET_RANGE` for regret.

    Returns
    -------
    pandas.DataFrame
        Rows ``(x, against)``, columns as :func:`paired_difference`.
    """
    present = list(frame["method"].unique())
    if ours not in present:
        raise ValueError(f"{ours!r} is not among the methods with results: "
                         f"{', '.join(present)}")
    wide = frame.pivot_table(index=[unit, *within], columns=["method", x], values=value)
    rows = {(at, peer): paired_difference(wide[(ours, at)], wide[(peer, at)], unit=unit,
                                          higher_is_better=higher_is_better,
                                          bounds=bounds)
            for at in sorted(frame[x].unique()) for peer in frame["method"].unique()
            if peer != ours and (ours, at) in wide and (peer, at) in wide}
    index = pd.MultiIndex.from_tuples(list(rows), names=[x, "against"])
    return pd.DataFrame(list(rows.values()), index=index,
                        columns=["difference", "95% interval", "won/tied/lost"])
