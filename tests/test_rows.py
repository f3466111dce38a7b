"""The rows a refit after a search on a sample gets (metaopt._rows.refit_sample)."""

import numpy as np

from metaopt._rows import refit_sample


def test_a_refit_short_of_all_rows_by_under_one_percent_takes_them_all():
    # 1201_BNG_breastTumor, MetaMLPRegressor(time_budget=30): 116,585 of 116,640 rows
    # (and a warning to give more time), far finer than the estimate of the time
    sample = np.arange(0, 116_640, 8)
    assert refit_sample(sample, 116_640, 14_580, 1.0, 116_585 / 14_580) is None
    rows = refit_sample(sample, 116_640, 14_580, 1.0, 110_000 / 14_580, seed=0)
    assert len(rows) == 110_000 and np.isin(sample, rows).all()
