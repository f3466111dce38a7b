"""TabRepo's LightGBM matrix (73 OpenML tasks x 104 configurations) as evaluations."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

from metaopt._warnings import warn
from metaopt.kb._design import config_id
from metaopt.kb._spaces import external_space
from metaopt.kb._store import KnowledgeBase
from metaopt.spaces import Param

#: LightGBM as tuned in TabRepo; bounds enclose every published configuration and the
#: defaults are AutoGluon's (``LightGBM_c1`` is the all-default configuration).
TABREPO_SPACE = external_space(
    "tabrepo_lightgbm",
    (
        Param("learning_rate", FloatDistribution(5e-3, 0.2, log=True), 0.05),
        Param("feature_fraction", FloatDistribution(0.4, 1.0), 1.0),
        Param("min_data_in_leaf", IntDistribution(2, 60, log=True), 20),
        Param("num_leaves", IntDistribution(16, 255, log=True), 31),
        Param("extra_trees", CategoricalDistribution((False, True)), False),
    ),
    ("classification", "regression"),
    "TabRepo LightGBM configurations (AutoGluon), precomputed on OpenML tasks",
)
_FILES = ("results.csv", "configs.json", "task_metadata.csv")
_REQUIRED_METADATA = ("tid", "task_type", "NumberOfInstances", "NumberOfFeatures",
                      "NumberOfClasses")
_REQUIRED_RESULTS = ("dataset", "framework", "metric_error", "time_train_s")
_TASKS = {"Supervised Classification": "classification", "Supervised Regression": "regression"}
_TASKS_READ = {name.casefold(): task for name, task in _TASKS.items()}  # any case, spaces
# columns of task_metadata.csv that are OpenML qualities (numbers), not task descriptors
_NOT_QUALITIES = {"tid", "did", "number_samples", "cost_matrix", "source_data",
                  "source_data_labeled", "target_feature_event", "target_feature_left",
                  "target_feature_right", "quality_measure", "target_value"}


def tabrepo_configs(path: str | os.PathLike) -> dict[str, dict[str, Any]]:
    """The configurations of ``configs.json``, completed with the defaults, by name.

    Parameters
    ----------
    path : str or path-like
        The directory holding ``configs.json``.

    Returns
    -------
    dict of str to dict
    """
    file = Path(path) / "configs.json"
    try:
        raw = json.loads(file.read_text())
    except json.JSONDecodeError as exc:
        raise ValueError(f"{file} is not valid JSON: {exc}") from None
    if not isinstance(raw, dict):
        raise ValueError(f"{file} holds no configurations by name (a JSON object)")
    default = TABREPO_SPACE.default("classification")
    configs = {}
    for name, spec in raw.items():
        try:
            given = {k: v for k, v in spec["hyperparameters"].items() if k != "ag_args"}
            configs[name] = TABREPO_SPACE.check_params({**default, **given}, "classification")
        except (KeyError, TypeError, AttributeError, ValueError) as exc:
            raise ValueError(f"{file}: configuration {name!r} is not a "
                             f"valid {TABREPO_SPACE.name} configuration: {exc}") from exc
    return configs


def _read_csv(path: Path) -> pd.DataFrame:
    """``path``'s rows; ``ValueError`` naming the file when it has none or is no CSV."""
    try:
        frame = pd.read_csv(path)
    except (pd.errors.EmptyDataError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path} is not a readable CSV file: {exc}") from None
    if frame.empty:
        raise ValueError(f"{path} has no rows")
    return frame


def _numbers(frame: pd.DataFrame, column: str, file: Path) -> pd.Series:
    """``frame[column]`` as numbers, NaN where a cell is empty; ``ValueError`` naming the
    file, the column and the first cells that hold something else (a word)."""
    values = pd.to_numeric(frame[column], errors="coerce")
    _refuse_cells(frame, column, values.isna() & frame[column].notna(), file,
                  "numbers (an empty cell where unknown)")
    return values


def _task_ids(frame: pd.DataFrame, column: str, file: Path) -> pd.Series:
    """``frame[column]`` as OpenML task ids (integers); ``ValueError`` naming the file and
    the first values that are none (a name, a fraction, an empty cell)."""
    values = pd.to_numeric(frame[column], errors="coerce")
    _refuse_cells(frame, column, values.isna() | (values != values.round()), file,
                  "OpenML task ids (integers)")
    return values.astype("int64")


def _refuse_cells(frame: pd.DataFrame, column: str, bad: pd.Series, file: Path,
                  what: str) -> None:
    """``ValueError`` naming ``file``, ``column`` and its first ``bad`` cells, which are no
    ``what``."""
    if bad.any():
        shown = frame.loc[bad, column].drop_duplicates().head(5).tolist()
        raise ValueError(f"{file}: column {column!r} must hold {what}, got {shown}")


def _one_row_each(frame: pd.DataFrame, columns: list[str], file: Path) -> pd.DataFrame:
    """``frame`` with rows copied whole kept once (a warning says how many); ``ValueError``
    when rows still share ``columns`` (which one would count?)."""
    copies = frame.duplicated()
    if copies.any():
        warn(f"{file} repeats {copies.sum()} row(s) exactly: each is read once",
             UserWarning)
        frame = frame[~copies]
    twice = frame[frame.duplicated(columns, keep=False)]
    if len(twice):
        first = ", ".join(f"{k}={v!r}" for k, v in twice[columns].to_dict("records")[0].items())
        raise ValueError(f"{file} has {len(twice)} rows that repeat a {', '.join(columns)} "
                         f"({first}, ...) with other values: give one row each")
    return frame


# results.csv's problem_type for each task type of task_metadata.csv
_PROBLEM_TYPES = {"classification": {"binary", "multiclass"}, "regression": {"regression"}}


def _whole(value: Any) -> int | None:
    """An integer field of the metadata, None where it is missing (NaN)."""
    return None if pd.isna(value) else int(value)


def check_tabrepo_dir(path: str | os.PathLike) -> Path:
    """``path`` as a Path; ValueError naming the files it lacks of a TabRepo directory."""
    path = Path(path)
    missing = [f for f in _FILES if not (path / f).is_file()]
    if missing:
        raise ValueError(f"path {os.fspath(path)!r} is not a TabRepo directory: missing {missing}")
    return path


def load_tabrepo(
    path: str | os.PathLike, kb: KnowledgeBase | None = None
) -> KnowledgeBase:
    """Load the TabRepo LightGBM directory into a knowledge base.

    Each (task, configuration) becomes an ``ok`` evaluation of space
    ``"tabrepo_lightgbm"`` on dataset ``"openml-task/<tid>"``, with ``design_id`` the
    TabRepo config name (shared by all tasks), ``cv_score = -metric_error`` (TabRepo's
    error on the task's OpenML split: 1-AUC for binary, log loss for multiclass, RMSE for
    regression; higher is better after negation), ``fit_time = time_train_s``; the
    meta-features come from the OpenML qualities in ``task_metadata.csv``.

    Parameters
    ----------
    path : path-like
        Directory with ``results.csv``, ``configs.json`` and ``task_metadata.csv``.
    kb : KnowledgeBase, optional
        Store to add to; a new in-memory one by default.

    Returns
    -------
    KnowledgeBase
    """
    from metaopt import metafeatures

    path = check_tabrepo_dir(path)
    kb = KnowledgeBase() if kb is None else kb
    configs = tabrepo_configs(path)
    meta = _read_csv(path / "task_metadata.csv")
    absent = [c for c in _REQUIRED_METADATA if c not in meta.columns]
    if absent:
        raise ValueError(f"{path / 'task_metadata.csv'} lacks the column(s) {absent}")
    if meta["tid"].isna().any():
        raise ValueError(f"{path / 'task_metadata.csv'} has a row without a task id (tid)")
    meta["tid"] = _task_ids(meta, "tid", path / "task_metadata.csv")
    for column in ("did", *_REQUIRED_METADATA[2:]):
        if column in meta.columns:
            meta[column] = _numbers(meta, column, path / "task_metadata.csv")
    meta = _one_row_each(meta, ["tid"], path / "task_metadata.csv")
    results = _read_csv(path / "results.csv")
    absent = [c for c in _REQUIRED_RESULTS if c not in results.columns]
    if absent:
        raise ValueError(f"{path / 'results.csv'} lacks the column(s) {absent}")
    results["dataset"] = _task_ids(results, "dataset", path / "results.csv")
    for column in _REQUIRED_RESULTS[2:]:
        results[column] = _numbers(results, column, path / "results.csv")
    results = _one_row_each(results, ["dataset", "framework"], path / "results.csv")
    unlisted = sorted(set(results["framework"]) - set(configs), key=str)
    if unlisted:
        raise ValueError(f"{path / 'results.csv'} names {len(unlisted)} configuration(s) that "
                         f"configs.json lacks: {unlisted[:10]}; add their hyperparameters to "
                         f"{path / 'configs.json'} or remove their rows")
    quality_cols = [c for c in meta.select_dtypes("number").columns if c not in _NOT_QUALITIES]
    tasks = {}
    for row in meta.to_dict("records"):
        task = _TASKS_READ.get(str(row["task_type"]).strip().casefold())
        if task is None:
            raise ValueError(f"{path / 'task_metadata.csv'}: task {row['tid']} has unknown "
                             f"task_type {row['task_type']!r}; expected one of {list(_TASKS)}")
        key = f"openml-task/{int(row['tid'])}"
        tasks[int(row["tid"])] = (key, task)
        qualities = {c: row[c] for c in quality_cols if pd.notna(row[c])}
        features = _whole(row["NumberOfFeatures"])
        kb.add_dataset({
            "dataset_key": key, "name": str(row.get("name", key)), "source": "tabrepo",
            "source_id": str(int(row["tid"])), "task": task,
            "openml_dataset_id": _whole(row.get("did")), "openml_task_id": int(row["tid"]),
            "n_samples": _whole(row["NumberOfInstances"]),
            "n_features": None if features is None else features - 1,
            "n_classes": _whole(row["NumberOfClasses"]) if task == "classification" else None,
            "metafeatures": metafeatures.from_openml_qualities(qualities, task).to_dict(),
            "status": "ok",
        })
    unknown = sorted(set(results["dataset"]) - set(tasks))
    if unknown:
        raise ValueError(f"{path / 'results.csv'} has {len(unknown)} task(s) that "
                         f"task_metadata.csv lacks: {unknown[:10]}; add a row for each to "
                         f"{path / 'task_metadata.csv'} (with at least the columns "
                         f"{list(_REQUIRED_METADATA)}) or remove their results")
    if "problem_type" in results.columns:  # binary/multiclass/regression, as the metadata?
        for tid, kind in results.dropna(subset=["problem_type"]).groupby(
                "dataset")["problem_type"].unique().items():
            wrong = sorted(set(kind) - _PROBLEM_TYPES[tasks[tid][1]])
            if wrong:
                raise ValueError(f"{path / 'results.csv'}: task {tid} has problem_type "
                                 f"{wrong} but task_metadata.csv makes it a {tasks[tid][1]} "
                                 f"task; expected {sorted(_PROBLEM_TYPES[tasks[tid][1]])}")
    idle = sorted(set(tasks) - set(results["dataset"]))
    if idle:
        warn(f"task_metadata.csv lists {len(idle)} task(s) without results in "
             f"results.csv, left out: {idle[:10]}", UserWarning)
    records = []
    for row in results.itertuples(index=False):
        key, task = tasks[int(row.dataset)]
        params = configs[row.framework]
        finite = bool(np.isfinite(float(row.metric_error)))
        records.append({
            "dataset_key": key, "space": TABREPO_SPACE.name, "config_id": config_id(params),
            "seed": 0, "design_id": row.framework, "config": params, "task": task,
            "metric": "neg_metric_error",
            # a missing or infinite error is a failed evaluation (scores worst)
            "cv_score": -float(row.metric_error) if finite else None,
            "fit_time": float(row.time_train_s), "status": "ok" if finite else "failed",
            "origin": "tabrepo",
            "extra": {name: getattr(row, name, None)
                      for name in ("problem_type", "time_infer_s", "rank")},
        })
    kb.add_evaluations(records)
    return kb
