"""The rows a search on a sample sees (metaopt._rows.search_sample), the rows a refit
after it gets (refit_sample) and those its check scores (refit_check_rows)."""

import numpy as np
import pandas as pd

from metaopt._rows import REFIT_CHECK_ROWS, refit_check_rows, refit_sample, search_sample


def test_a_refit_short_of_all_rows_by_under_one_percent_takes_them_all():
    # 1201_BNG_breastTumor, MetaMLPRegressor(time_budget=30): 116,585 of 116,640 rows
    # (and a warning to give more time), far finer than the estimate of the time
    sample = np.arange(0, 116_640, 8)
    assert refit_sample(sample, 116_640, 14_580, 1.0, 116_585 / 14_580) is None
    rows = refit_sample(sample, 116_640, 14_580, 1.0, 110_000 / 14_580, seed=0)
    assert len(rows) == 110_000 and np.isin(sample, rows).all()


def test_a_stratified_sample_has_exactly_the_rows_asked_for():
    """Each class's share was rounded down: search_rows=999 searched 997 rows of three
    classes (1,000, 1,000, 1,002), and magic's 19,020 rows (12,332 / 6,688) 9,999 of
    10,000, where the docs say "that many"."""
    y = np.repeat([0, 1, 2], [1000, 1000, 1002])
    rows = search_sample(y, "classification", 999, None, 0)
    assert len(rows) == len(set(rows)) == 999
    assert np.bincount(y[rows]).tolist() == [333, 333, 333]
    magic = pd.Series(np.repeat(["g", "h"], [12_332, 6_688]))
    assert len(search_sample(magic, "classification", "auto", 10, 0)) == 10_000
    assert len(refit_check_rows(magic, "classification", 0)) == REFIT_CHECK_ROWS
    assert len(search_sample(np.arange(3002.0), "regression", 999, None, 0)) == 999
