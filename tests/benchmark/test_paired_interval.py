"""The paired-difference interval stays within the range of the difference compared."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from metaopt.benchmark import SurrogateResult, paired_difference, report, run


def _bounds(interval: str) -> tuple[float, float]:
    low, high = re.match(r"\[([-+.\d]+), ([-+.\d]+)\]", interval).groups()
    return float(low), float(high)


def test_report_of_three_datasets_keeps_the_interval_within_minus_one_one(pmlb_root, tmp_path):
    """Three PMLB datasets, random against default: the t-intervals were [-1.5015,
    +1.2348] and [-2.4841, +2.4841], beyond any difference of two regrets."""
    from metaopt.data import get_suite

    suite = get_suite("pmlb-classification", root=pmlb_root).select(limit=3)
    run(suite, tmp_path, methods=["random", "default"], budget_trials=2, folds=2, cv_folds=2,
        spaces="linear,knn", max_rows=100, time_limit=None, progress=False)
    text = report(tmp_path).read_text()
    rows = re.findall(r"^\| \d+ \| random \| [-+.\d]+ \| ([^|]+) \|", text, flags=re.MULTILINE)
    assert len(rows) == 2
    for interval in rows:
        low, high = _bounds(interval)
        assert -1 <= low <= high <= 1, interval
    assert all(r.strip().endswith("(clipped to [-1, 1])") for r in rows), rows
    assert "clipped to [-1, 1], the range of a regret difference" in text


def test_surrogate_paired_is_clipped_and_bounds_come_from_the_caller():
    # regret differences -1, -1, +1 over 3 tasks: t-interval [-3.20, +2.54]
    curves = pd.DataFrame({"method": ["random"] * 3 + ["metaopt"] * 3,
                           "task": ["a", "b", "c"] * 2, "seed": 0, "budget": 5,
                           "regret": [1.0, 1.0, 0.0, 0.0, 0.0, 1.0], "rank": 1.0})
    row = SurrogateResult(curves, ["random", "metaopt"]).paired("metaopt").loc[(5, "random")]
    assert row["95% interval"] == "[-1.0000, +1.0000] (clipped to [-1, 1])"
    ours = curves[curves["method"] == "metaopt"].set_index("task")["regret"]
    peer = curves[curves["method"] == "random"].set_index("task")["regret"]
    low, high = _bounds(paired_difference(ours, peer)["95% interval"])  # no bounds given
    assert low == pytest.approx(-3.2018, abs=1e-4) and high == pytest.approx(2.5351, abs=1e-4)
    # R² is unbounded below: nothing to clip to
    r2 = paired_difference(ours, peer, bounds=(-np.inf, 1.0))["95% interval"]
    assert r2 == "[-3.2018, +2.5351]"
    # a narrow interval is left as it is
    assert paired_difference(ours * 0.01, peer * 0.01, bounds=(0, 1))["95% interval"] \
        == "[-0.0320, +0.0254]"
    with pytest.raises(ValueError, match="bounds must be"):
        paired_difference(ours, peer, bounds=(1, 0))
