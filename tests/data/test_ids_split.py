"""A row identifier is caught in what a random train/test split leaves of it: the check
asked for whole numbers covering their range without a gap, which a split never leaves."""

import numpy as np
import pandas as pd
import pytest
from sklearn.model_selection import train_test_split

from metaopt.data import LocalSource
from metaopt.data._ids import id_like_columns, warn_id_columns


@pytest.mark.parametrize("start", [0, 1])
def test_a_random_subset_of_a_row_numbering_is_flagged(start):
    """75 % of the rows of a column numbering them 0..n-1 or 1..n, in random order: all
    distinct, over a range 4/3 the rows kept; a real feature next to it is not flagged."""
    rng = np.random.default_rng(0)
    full = pd.DataFrame({"row": np.arange(start, start + 4000),
                         "x": rng.normal(size=4000).round(2)})
    kept = full.sample(frac=0.75, random_state=1)
    low, high = kept["row"].min(), kept["row"].max()
    assert high - low + 1 > len(kept)  # gaps: the old rule missed it
    assert id_like_columns(kept) == {"row": f"3000 distinct whole numbers from {low} to {high}"}
    assert id_like_columns(full) == {
        "row": f"4000 distinct whole numbers from {start} to {start + 3999}"}


def test_distinct_whole_numbers_over_a_wide_range_are_not_flagged():
    """Distinct draws from 0..10**6 (a count, an amount) are no row numbering."""
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"amount": rng.choice(10**6 + 1, size=3000, replace=False)})
    assert X["amount"].nunique() == 3000
    assert id_like_columns(X) == {}


def test_the_range_may_be_at_most_twice_the_rows():
    """Half the rows of a numbering: 10 values every other one of 0..19 (range 19 <= 20)
    are flagged; every third one (0..27, range 28 > 20) are not."""
    assert id_like_columns(pd.DataFrame({"n": np.arange(0, 20, 2)})) == {
        "n": "10 distinct whole numbers from 0 to 18"}
    assert id_like_columns(pd.DataFrame({"n": np.arange(0, 30, 3)})) == {}


def test_churn_phone_number_is_warned_about_in_a_training_split(pmlb_root):
    """pmlb churn's 'phone number' (0..4999, one per row) was found on the whole table
    but not on the 75 % training split, so MetaOptClassifier.fit(Xtr, ytr) said nothing
    where `metaopt suggest` on the file warned."""
    churn = LocalSource(pmlb_root).load("churn")
    Xtr, _, _, _ = train_test_split(churn.X, churn.y, test_size=0.25, random_state=0)
    numbers = Xtr["phone number"].astype(float)
    assert id_like_columns(Xtr) == {"phone number": (
        f"3750 distinct whole numbers from {numbers.min():.0f} to {numbers.max():.0f}")}
    with pytest.warns(UserWarning, match=r"churn: column 'phone number' \(3750 distinct "
                      r"whole numbers from \d+ to \d+\) looks like a row identifier"):
        warn_id_columns(Xtr, name="churn")


def test_the_estimator_warns_on_a_training_split_as_suggest_on_the_file(pmlb_root):
    """MetaOptClassifier.fit(Xtr, ytr) on churn's training split warns about 'phone
    number', as `metaopt suggest` on the whole file does."""
    from metaopt import MetaOptClassifier

    churn = LocalSource(pmlb_root).load("churn")
    Xtr, _, ytr, _ = train_test_split(churn.X, churn.y, test_size=0.25, random_state=0)
    with pytest.warns(UserWarning, match=r"MetaOptClassifier: column 'phone number' \(3750 "
                      r"distinct whole numbers from \d+ to \d+\) looks like a row identifier"):
        MetaOptClassifier(n_trials=1, spaces="linear", cv=2, random_state=0).fit(Xtr, ytr)
