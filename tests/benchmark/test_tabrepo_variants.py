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


def test_what_one_file_lacks_is_named_with_what_to_do(data):
    """A task without metadata, a configuration configs.json lacks and an unknown task
    type were refused naming neither the file's path nor the remedy ("results.csv has tasks
    without metadata: [...]"); a task type in other case or with spaces was unknown."""
    target, results, meta = data
    first = meta["tid"][0]
    _write(target, results, meta.iloc[1:])
    with pytest.raises(ValueError, match=re.escape(
            f"{target / 'results.csv'} has 1 task(s) that task_metadata.csv lacks: [{first}]; "
            f"add a row for each to {target / 'task_metadata.csv'}")):
        load_tabrepo(target)
    extra = results.iloc[:1].assign(framework="LightGBM_r999")
    _write(target, pd.concat([results, extra, extra.assign(framework=np.nan)]), meta)
    with pytest.raises(ValueError, match=re.escape(
            f"{target / 'results.csv'} names 2 configuration(s) that configs.json lacks: "
            f"['LightGBM_r999', nan]; add their hyperparameters to {target / 'configs.json'} "
            "or remove their rows")):
        load_tabrepo(target)
    _write(target, results, _with(meta, "task_type", "Supervised Clustering"))
    with pytest.raises(ValueError, match=re.escape(
            f"{target / 'task_metadata.csv'}: task {first} has unknown task_type "
            "'Supervised Clustering'; expected one of ['Supervised Classification'")):
        load_tabrepo(target)
    _write(target, results, _with(meta, "task_type", meta["task_type"][0].lower() + " "))
    assert len(load_tabrepo(target).to_frame()) == 3 * 104


def test_rows_copied_whole_are_read_once(data):
    """Rows given twice with the same values (files joined twice) were refused like rows
    that disagree; they are read once, with a warning. Rows that disagree still fail."""
    target, results, meta = data
    _write(target, pd.concat([results, results.iloc[:5]]), pd.concat([meta, meta.iloc[:1]]))
    with pytest.warns(UserWarning, match=r"repeats \d row\(s\) exactly") as record:
        frame = load_tabrepo(target).to_frame()
    assert sorted(str(w.message) for w in record) == [
        f"{target / 'results.csv'} repeats 5 row(s) exactly: each is read once",
        f"{target / 'task_metadata.csv'} repeats 1 row(s) exactly: each is read once"]
    assert len(frame) == 3 * 104
    _write(target, pd.concat([results, results.iloc[:1].assign(metric_error=9.0)]), meta)
    with pytest.raises(ValueError, match=r"results.csv has 2 rows that repeat a dataset, "
                                         r"framework .* with other values: give one row each"):
        load_tabrepo(target)


def test_a_directory_without_any_result_is_named(data):
    """A test directory whose every metric_error is empty (all failed) stopped the
    benchmark with "no dataset of space 'tabrepo_lightgbm' has a successful evaluation",
    not saying whether the train or the test directory was meant."""
    from metaopt.benchmark._surrogate import load_tabrepo_matrix

    target, results, meta = data
    _write(target, results.assign(metric_error=np.nan), meta)
    with pytest.warns(UserWarning, match="without a successful evaluation left out"), \
            pytest.raises(ValueError, match=re.escape(f"{target}: no dataset of space")):
        load_tabrepo_matrix(target, min_coverage=0.0)


def test_a_test_task_type_that_train_lacks_is_warned(tabrepo_dir, tmp_path):
    """Regression test tasks after training on classification tasks only ran without a
    word, though every meta-trained method then extrapolates."""
    from metaopt.benchmark import tabrepo_benchmark

    results = pd.read_csv(tabrepo_dir / "results.csv")
    meta = pd.read_csv(tabrepo_dir / "task_metadata.csv")
    kind = results.groupby("dataset")["problem_type"].first()
    dirs = {}
    for name, tasks in (("train", kind.index[kind != "regression"][:4]),
                        ("test", kind.index[kind == "regression"][:1])):
        dirs[name] = tmp_path / name
        dirs[name].mkdir()
        shutil.copy(tabrepo_dir / "configs.json", dirs[name] / "configs.json")
        _write(dirs[name], results[results["dataset"].isin(tasks)], meta[meta["tid"].isin(tasks)])
    with pytest.warns(UserWarning, match="test has regression tasks but train has none"):
        result = tabrepo_benchmark(dirs["train"], dirs["test"], methods=["portfolio"],
                                   budgets=[1, 2], seeds=1, progress=False)
    assert result.curves["task"].nunique() == 1


def test_test_tasks_that_train_also_has_are_refused_naming_both_directories(data, tmp_path):
    """The refusal said only "test has tasks that are also training tasks": not which
    directories, how many, nor what to do."""
    from metaopt.benchmark import tabrepo_benchmark

    target, results, meta = data
    _write(target, results, meta)
    test = tmp_path / "test"
    shutil.copytree(target, test)
    with pytest.raises(ValueError) as info:
        tabrepo_benchmark(target, test, methods=["portfolio"], budgets=[1], seeds=1,
                          progress=False)
    message = str(info.value)
    assert str(test) in message and str(target) in message
    assert "3 task(s)" in message and "remove them" in message and "cv=K" in message
