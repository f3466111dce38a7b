"""The one dataset record every part of metaopt consumes, and its validation."""

from __future__ import annotations

import copy
import datetime as dt
import os
import shlex
from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd
import pyarrow as pa
from pandas.api import types as ptypes
from scipy import sparse

from metaopt._checks import (
    check_int,
    check_label_types,
    python_value,
    repeated,
    text_not_numbers,
)
from metaopt._markdown import counted
from metaopt._warnings import warn
from metaopt.data._terms import terms

TaskType = Literal["classification", "regression"]
TASK_TYPES: tuple[TaskType, ...] = ("classification", "regression")

# A numeric target with more distinct values than this, non-integer ones or more than
# one per two rows (prices, counts), is continuous: refusing it as a classification
# target catches a common mistake.
_MAX_CLASSES_FOR_NUMERIC_TARGET = 50


# eq=False: two datasets are equal when they are the same object, and hash by identity
# (the generated __eq__ compared the frames elementwise: "The truth value of a DataFrame
# is ambiguous"; and a dataset could be no set member or dict key: "unhashable type")
@dataclass(frozen=True, eq=False)
class Dataset:
    """A validated supervised learning problem.

    ``X``, ``y`` and ``task`` are checked and normalised by :func:`validate` when the
    Dataset is built, by a loader or by hand (``task=None`` is inferred from ``y``):
    a ``ValueError`` names what is wrong (a missing target, ``y`` of another length than
    ``X``, no rows, a text target for regression).

    Datasets compare by identity (``a == b`` only when ``a is b``) and are hashable, so
    they can key a dict or fill a set; compare their ``X`` and ``y`` for their data.

    Each parameter is kept as the attribute of the same name.

    Parameters
    ----------
    X : array-like, DataFrame or sparse matrix of shape (n_samples, n_features)
        Features, kept as a DataFrame with proper dtypes: numeric columns as
        floats/ints, categorical columns as ``category`` (strings and objects are
        converted).
    y : array-like of shape (n_samples,)
        Target, kept as a Series: class labels (any hashable) for classification,
        floats for regression.
    task : {"classification", "regression"} or None
        None: inferred from ``y`` (the attribute holds the task found).
    name : str
        Human-readable name, unique within its source.
    source : str, default="arrays"
        Where it came from: ``"openml"``, ``"local"`` or ``"arrays"``.
    source_id : str or None, default=None
        Identifier within the source (OpenML dataset id, file path, ...).
    openml_dataset_id, openml_task_id : int or None, default=None
        OpenML identifiers when known.
    splits : list of (train_idx, test_idx) or None, default=None
        Predefined resampling splits (e.g. the folds of an OpenML task).
    """

    X: pd.DataFrame
    y: pd.Series
    task: TaskType
    name: str
    source: str = "arrays"
    source_id: str | None = None
    openml_dataset_id: int | None = None
    openml_task_id: int | None = None
    splits: list[tuple[np.ndarray, np.ndarray]] | None = field(default=None, repr=False)

    if TYPE_CHECKING:  # what the generated __init__ takes: the attributes before validate
        def __init__(self, X: Any, y: Any, task: str | None, name: str, source: str = ...,
                     source_id: str | None = ..., openml_dataset_id: int | None = ...,
                     openml_task_id: int | None = ...,
                     splits: list[tuple[np.ndarray, np.ndarray]] | None = ...) -> None: ...

    def __post_init__(self) -> None:
        # one validation, here, for the loaders and a Dataset built by hand alike, so that
        # a NaN target, a y shorter than X or a text target for regression is refused where
        # the Dataset is built, with a message naming it, not deep inside an evaluation
        X, y, task = validate(self.X, self.y, self.task)
        for attr, value in (("X", X), ("y", y), ("task", task)):
            object.__setattr__(self, attr, value)

    def __repr__(self) -> str:
        # short: what it is and its size (the dataclass's printed both frames whole,
        # 1,700 lines for adult); the data are in X and y
        ids = "".join(f", {name}={value!r}" for name, value in (
            ("source_id", self.source_id), ("openml_dataset_id", self.openml_dataset_id),
            ("openml_task_id", self.openml_task_id)) if value is not None)
        splits = "" if self.splits is None else f", {counted(len(self.splits), 'split')}"
        return (f"Dataset({self.name!r}, {self.task}, {self.n_samples:,} x "
                f"{self.n_features:,}, source={self.source!r}{ids}{splits})")

    @property
    def n_samples(self) -> int:
        """Number of rows of ``X``."""
        return int(self.X.shape[0])

    @property
    def n_features(self) -> int:
        """Number of columns of ``X``."""
        return int(self.X.shape[1])

    @property
    def categorical_columns(self) -> list[str]:
        """Names of the ``category`` columns of ``X``."""
        return [c for c in self.X.columns if isinstance(self.X[c].dtype, pd.CategoricalDtype)]

    @property
    def classes(self) -> np.ndarray | None:
        """Sorted class labels, or None for regression."""
        return np.unique(self.y.to_numpy()) if self.task == "classification" else None

    def subsample(self, max_rows: int, random_state: int | None = 0) -> Dataset:
        """Return a copy with at most ``max_rows`` rows (stratified for classification).

        Every class keeps at least one row (with more classes than ``max_rows``, that many
        classes drawn at random keep one row each). Predefined ``splits`` are dropped
        because their indices no longer apply.

        Parameters
        ----------
        max_rows : int
            Most rows kept; a dataset no larger is returned as is.
        random_state : int or None, default=0
            Seeds which rows are kept.

        Returns
        -------
        Dataset
        """
        idx = subsample_rows(self.y, self.task, max_rows, random_state)
        if idx is None:
            return self
        # rows of validated data, not validated again: a subsample of many classes, one
        # row each, would read as a regression target
        part = copy.copy(self)
        for attr, value in (("X", self.X.iloc[idx].reset_index(drop=True)),
                            ("y", self.y.iloc[idx].reset_index(drop=True)), ("splits", None)):
            object.__setattr__(part, attr, value)
        return part


def subsample_rows(y: pd.Series, task: str, max_rows: int,
                   random_state: int | None = 0, *, exact: bool = False) -> np.ndarray | None:
    """The rows of :meth:`Dataset.subsample` for the target ``y``: sorted indices of at
    most ``max_rows`` rows (stratified for classification), None when all rows are kept.

    A stratified sample rounds each class's share down, so it may keep a few rows fewer
    than ``max_rows`` (4,999 of 5,000), as knowledge bases built with ``--max-rows`` hold
    them. ``exact``: exactly ``max_rows`` rows, those rows and the ones the rounding left
    out, handed to the classes of the largest remainders (one each, within a class's rows).
    """
    max_rows = check_int(max_rows, "max_rows")
    if len(y) <= max_rows:
        return None
    return _subsample_indices(y, task, max_rows, random_state, exact)


def _subsample_indices(
    y: pd.Series, task: str, max_rows: int, random_state: int | None, exact: bool = False
) -> np.ndarray:
    rng = np.random.default_rng(random_state)
    n = len(y)
    if task != "classification":
        return np.sort(rng.choice(n, size=max_rows, replace=False))
    codes = np.unique(y.to_numpy(), return_inverse=True)[1].ravel()
    counts = np.bincount(codes)
    quota = _class_quota(counts, max_rows, rng)
    # each class's rows in order, from one stable sort: a scan of all rows per class
    # took minutes with tens of thousands of classes
    rows = np.split(np.argsort(codes, kind="stable"), np.cumsum(counts)[:-1])
    chosen = [rng.choice(rows[k], size=q, replace=False) for k, q in enumerate(quota)]
    if exact:  # drawn after the rows above, which stay as they are
        extra = _leftover_quota(counts, quota, max_rows)
        taken = np.zeros(n, dtype=bool)
        taken[np.concatenate(chosen)] = True
        chosen += [rng.choice(rows[k][~taken[rows[k]]], size=extra[k], replace=False)
                   for k in np.flatnonzero(extra)]
    return np.sort(np.concatenate(chosen))


def _class_quota(counts: np.ndarray, max_rows: int, rng: np.random.Generator) -> np.ndarray:
    """Rows to draw per class: proportional, at least one each, at most ``max_rows`` in all."""
    n, k = int(counts.sum()), len(counts)
    quota = np.minimum(counts, np.maximum(1, np.floor(counts / n * max_rows).astype(int)))
    if quota.sum() <= max_rows:
        return quota
    if k <= max_rows:  # the small classes' one row went over: share out the rest
        return 1 + np.floor((counts - 1) / (n - k) * (max_rows - k)).astype(int)
    quota = np.zeros(k, dtype=int)  # more classes than rows: max_rows classes keep one
    quota[rng.choice(k, size=max_rows, replace=False)] = 1
    return quota


def _leftover_quota(counts: np.ndarray, quota: np.ndarray, max_rows: int) -> np.ndarray:
    """Rows to draw per class besides ``quota`` (of :func:`_class_quota`) for ``max_rows``
    in all (at most the ``counts`` of rows there are): the rows its rounding down left
    out, one each to the classes furthest below their proportional share (largest
    remainder; ties to the first class), within the rows each class has."""
    extra = np.zeros(len(counts), dtype=int)
    share = counts / counts.sum() * max_rows
    left = min(max_rows, int(counts.sum())) - int(quota.sum())
    while left > 0:  # one pass, unless fewer classes have rows to spare than are left
        given = quota + extra
        room = np.flatnonzero(given < counts)
        best = room[np.argsort(given[room] - share[room], kind="stable")[:left]]
        extra[best] += 1
        left -= len(best)
    return extra


def infer_task(y: pd.Series) -> TaskType:
    """Guess the task from the target: classification for text or bools, or at most 20
    whole values and at most one per 5 rows (2 always); else regression.

    Parameters
    ----------
    y : pandas.Series
        The target (missing values are ignored).

    Returns
    -------
    {"classification", "regression"}
    """
    values = y.dropna()
    if not ptypes.is_numeric_dtype(values) or ptypes.is_bool_dtype(values):
        return "classification"
    as_float = values.to_numpy(dtype=float)
    n_unique = len(np.unique(as_float))
    with np.errstate(invalid="ignore"):  # inf: not an integer (validate then says why)
        is_integer = bool(np.all(np.equal(np.mod(as_float, 1), 0)))
    if is_integer and n_unique <= max(2, min(20, len(values) // 5)):
        return "classification"
    return "regression"


def with_string_names(X: pd.DataFrame) -> pd.DataFrame:
    """``X`` with its column names as strings (``1`` as ``"1"``), as :func:`validate`
    names them and metaopt's estimators give them to the preprocessing (scikit-learn
    would take int names for positions); ``X`` itself when they already are."""
    if all(isinstance(c, str) for c in X.columns):
        return X
    return X.set_axis([str(c) for c in X.columns], axis=1)


def physical_memory() -> int | None:
    """Bytes of physical memory of this machine; None where the OS does not say."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return None


def _check_dense_fits(X) -> None:
    """``ValueError`` for a sparse ``X`` whose dense table would take over half of the
    machine's memory: metaopt's data checks and meta-features work on dense data, and
    such a table asked numpy for many GB (a ``MemoryError``, or the OOM killer)."""
    need, memory = X.shape[0] * X.shape[1] * np.dtype(X.dtype).itemsize, physical_memory()
    if memory is not None and need > memory / 2:
        raise ValueError(
            f"sparse X of shape {X.shape} would take {need / 2**30:.1f} GiB as the dense "
            f"table metaopt works on, over half of this machine's {memory / 2**30:.1f} GiB: "
            "give a sample of its rows, or fewer columns")


def refuse_repeated_names(X: pd.DataFrame) -> None:
    """A ``ValueError`` naming the columns of ``X`` whose names repeat, as strings (two
    columns of one name failed from inside scikit-learn's and pandas' checks, e.g.
    narwhals' "Expected unique column names")."""
    twice = repeated(str(c) for c in X.columns)
    if twice:
        raise ValueError(f"X has repeated column names {twice[:10]} (as strings): "
                         "give every column a name of its own")


def _to_frame(X) -> pd.DataFrame:
    if isinstance(X, pd.DataFrame):
        refuse_repeated_names(X)
        return with_string_names(X).reset_index(drop=True)
    if sparse.issparse(X):
        _check_dense_fits(X)
        # the dense table is ours: not copied again into the frame (in column order, as
        # pandas lays out a frame's columns; scipy gets there through a CSC copy of X)
        return pd.DataFrame(X.toarray(order="F"), columns=[f"x{i}" for i in range(X.shape[1])],
                            copy=False)
    arr = np.asarray(X)
    if arr.ndim == 1:
        raise ValueError(
            f"X must be 2-dimensional (n_samples, n_features), got a 1-d "
            f"{'Series' if isinstance(X, pd.Series) else 'array'} of shape {arr.shape}; use "
            f"{'X.to_frame()' if isinstance(X, pd.Series) else 'X.reshape(-1, 1)'} for a "
            "single feature"
        )
    if arr.ndim != 2:
        raise ValueError(f"X must be 2-dimensional (n_samples, n_features), got shape {arr.shape}")
    return pd.DataFrame(arr, columns=[f"x{i}" for i in range(arr.shape[1])])


def _is_time_of_day(dtype) -> bool:
    return isinstance(dtype, pd.ArrowDtype) and pa.types.is_time(dtype.pyarrow_dtype)


def is_temporal(dtype) -> bool:
    """Whether ``dtype`` holds datetimes (with or without a time zone, dates included),
    timedeltas, times of day or periods, numpy- or pyarrow-backed."""
    return (getattr(dtype, "kind", None) in ("M", "m") or _is_time_of_day(dtype)
            or isinstance(dtype, pd.PeriodDtype))


def temporal_as_seconds(s: pd.Series) -> pd.Series:
    """A datetime column as seconds since 1970 (a period: its start), a timedelta column
    as seconds, a time of day as seconds since midnight; floats, a missing value as NaN."""
    if _is_time_of_day(s.dtype):
        unit = s.dtype.pyarrow_dtype.unit
        ticks = pa.array(s).cast(pa.int64() if s.dtype.pyarrow_dtype.bit_width == 64
                                 else pa.int32())
        seconds = ticks.to_numpy(zero_copy_only=False).astype(float) / _TICKS_PER_SECOND[unit]
        return pd.Series(seconds, index=s.index, name=s.name)
    # dates after 2262 (9999-12-31, a common "no end" date) overflow nanoseconds, which
    # pandas 2 converts pyarrow timestamps and period starts to: each in its own unit
    if isinstance(s.dtype, pd.PeriodDtype):
        return _period_start_seconds(s)
    if isinstance(s.dtype, pd.ArrowDtype) and s.dtype.kind == "M":
        return _arrow_epoch_seconds(s)
    if s.dtype.kind == "M":
        s = s - pd.Timestamp(0, tz=s.dt.tz).as_unit(s.dt.unit)  # 1970 in the column's unit
    if isinstance(s.dtype, pd.ArrowDtype):
        # pyarrow's total_seconds refuses nanosecond counts above 2**53 (104 days)
        s = s.astype(s.dtype.numpy_dtype)
    return s.dt.total_seconds().astype(float)


_TICKS_PER_SECOND = {"s": 1.0, "ms": 1e3, "us": 1e6, "ns": 1e9}


def _arrow_epoch_seconds(s: pd.Series) -> pd.Series:
    """A pyarrow timestamp or date column as seconds since 1970 (UTC), from its ticks."""
    unit = s.dtype.pyarrow_dtype.unit if pa.types.is_timestamp(s.dtype.pyarrow_dtype) else "s"
    ticks = pa.array(s).cast(pa.timestamp(unit, tz=getattr(s.dtype.pyarrow_dtype, "tz", None)))
    ticks = ticks.cast(pa.int64()).to_numpy(zero_copy_only=False).astype(float)
    return pd.Series(ticks / _TICKS_PER_SECOND[unit], index=s.index, name=s.name)


def _period_start_seconds(s: pd.Series) -> pd.Series:
    """Each period's start as seconds since 1970, from its ordinal in microseconds (in
    nanoseconds for nanosecond periods, which are within their range)."""
    nano = isinstance(s.dtype.freq, pd.offsets.Nano)
    ticks = s.array.asfreq(pd.offsets.Nano() if nano else pd.offsets.Micro(), how="start")
    seconds = np.where(s.isna(), np.nan, ticks.asi8 / _TICKS_PER_SECOND["ns" if nano else "us"])
    return pd.Series(seconds, index=s.index, name=s.name)


# what pandas infers for an object column that may hold lists, dicts or other objects
_MIXED = ("mixed", "mixed-integer", "unknown-array")


def _check_usable(s: pd.Series) -> None:
    """Raise naming the column when its values cannot be features: complex numbers, or
    containers (lists, dicts, sets, arrays) among the values of an object column."""
    if ptypes.is_complex_dtype(s.dtype):
        raise ValueError(f"{terms().columns([s.name])} complex numbers; features must be "
                         "real numbers, strings, bools or dates: drop it or split it (real, imag)")
    if ptypes.is_object_dtype(s.dtype) and ptypes.infer_dtype(s, skipna=True) in _MIXED:
        containers = s.dropna()[~s.dropna().map(ptypes.is_scalar)]
        if len(containers):
            value = containers.iloc[0]
            raise ValueError(f"{terms().columns([s.name])} {type(value).__name__} values "
                             f"(e.g. {str(value)[:40]}); features must be numbers, strings, "
                             "bools or dates: drop the column or convert it")


def holds_numbers(s: pd.Series) -> bool:
    """Whether an object or text column holds only numbers, number text (``"1.5"``, a
    CSV read with ``dtype=str``) or missing values: numbers, not categories (bools are
    categories). A first value that is no number ends the check cheaply."""
    present = s.dropna()
    if len(present) and (ptypes.infer_dtype(present) == "boolean"
                         or pd.isna(pd.to_numeric(present.iloc[:1], errors="coerce")).all()):
        return False
    # as floats: pyarrow-backed results hold NaN, not a missing value, for a non-number
    return bool(pd.to_numeric(present, errors="coerce").astype(float).notna().all())


def _date_values(s: pd.Series) -> pd.Series:
    """``s`` with the values that are no text, date or datetime as missing (bools and
    numbers among dates: ``pd.to_datetime`` would read numbers as epochs)."""
    values = s.astype(object)
    return values.where(np.fromiter((isinstance(v, (str, dt.date)) for v in values), bool,
                                    len(values)))


def holds_dates(s: pd.Series) -> bool:
    """Whether an object or text column holds only dates: ISO 8601 date or datetime
    text (``"2021-07-17"``, ``"2021-07-17 10:30:00"``, ``"2021-07-17T10:30:00+02:00"``: what
    ``to_csv``, databases and JSON write, so a CSV read without ``parse_dates``), or
    ``datetime.date`` / ``datetime.datetime`` objects (``.dt.date``), or missing values,
    and no numbers (:func:`holds_numbers` comes first: ``"2021"`` is a number). Dates,
    not categories: their seconds (:func:`dates_as_seconds`). Other date text
    (``"07/17/2021"``: month or day first?) stays text. A first value that is no date
    ends the check cheaply."""
    present = s.dropna()
    if not len(present) or pd.isna(dates_as_seconds(present.iloc[:1])).all():
        return False
    return bool(ptypes.infer_dtype(present) in ("string", "date", "datetime")
                and dates_as_seconds(present).notna().all())


def dates_as_seconds(s: pd.Series) -> pd.Series:
    """The dates of :func:`holds_dates` as seconds since 1970 (UTC; a time zone given in
    the text or the object is converted, none is taken as UTC, as for a datetime column),
    floats; a value that is no ISO 8601 date, date or datetime is a missing value (NaN)."""
    times = pd.to_datetime(_date_values(s), format="ISO8601", utc=True, errors="coerce")
    return temporal_as_seconds(pd.Series(times, index=s.index, name=s.name))


_MAX_MARKERS = 3  # distinct text values among numbers that may be missing-value markers


def numbers_but_for(s: pd.Series) -> pd.Series | None:
    """The text values, with their counts, of a text column that holds numbers but for
    at most ``_MAX_MARKERS`` distinct text values making up less than half of its values
    (``"?"``, ``"-"``, ``"unknown"``: a missing-value marker pandas does not know, as in
    UCI and ARFF files); None for another column. Such a column is text, a category per
    value: what it holds is guessed by no one, only warned about (:func:`_fix_dtypes`).
    Its first 100 values decide cheaply that a column of words is none."""
    present = s.dropna()
    if not len(present) or pd.to_numeric(present.iloc[:100], errors="coerce").isna().mean() >= 0.5:
        return None
    others = present[pd.isna(pd.to_numeric(present, errors="coerce").astype(float))]
    counts = others.astype(str).value_counts()
    if not 0 < len(counts) <= _MAX_MARKERS or len(others) * 2 >= len(present):
        return None
    return counts


def _warn_numbers_as_text(found: dict) -> None:
    """Warn about the columns of :func:`numbers_but_for`, naming their text values and
    how to make them missing."""
    listed = ", ".join(
        f"{col!r} (" + ", ".join(f"{v!r} in {n}" for v, n in counts.items())
        + f" of {total} rows)" for col, (counts, total) in found.items())
    several = len(found) > 1
    markers = list(dict.fromkeys(v for counts, _ in found.values() for v in counts.index))
    t = terms()
    how = (f": X.replace({markers!r}, np.nan) in Python (or pd.read_csv(..., "
           f"na_values={markers!r})), --na-values {shlex.join(markers)} on the command line"
           if t.table is None else f" with --na-values {shlex.join(markers)}")
    warn(
        f"{t.columns(list(found), listed)} numbers but for a few text values, so "
        f"{'they are' if several else 'it is'} read as text: a category per value (one-hot "
        "or ordinal encoded on the most frequent ones), not numbers. If those values mark "
        f"missing values, make them missing{how}", UserWarning)


def _fix_dtypes(X: pd.DataFrame) -> pd.DataFrame:
    """Numeric columns stay numeric, datetimes and timedeltas become seconds, and so do
    ISO 8601 date text and date objects (:func:`holds_dates`); other strings/objects and
    bools become ``category``. Unusable columns raise (_check_usable). The columns kept
    as they are are ``X``'s, not copies (pandas' copy-on-write: a write to either frame
    copies the column first), so that columns needing no change cost no memory."""
    fixed, numbers_as_text = X.copy(deep=False), {}
    for i, (col, s) in enumerate(X.items()):
        _check_usable(s)
        if isinstance(s.dtype, pd.CategoricalDtype):
            continue
        if is_temporal(s.dtype):
            column = temporal_as_seconds(s)
        elif ptypes.is_bool_dtype(s) or ptypes.infer_dtype(s, skipna=True) == "boolean":
            column = s.astype("category")  # bools with None/NaN are objects
        elif ptypes.is_numeric_dtype(s):
            if not ptypes.is_extension_array_dtype(s):
                continue
            column = s.astype(float)
        elif holds_numbers(s):  # numbers stored as strings or objects, as floats
            column = pd.to_numeric(s, errors="coerce").astype(float)
        elif holds_dates(s):  # date text (a CSV read without parse_dates), date objects
            column = dates_as_seconds(s)
        else:
            markers = numbers_but_for(s)
            if markers is not None:
                numbers_as_text[col] = markers, int(s.notna().sum())
            column = s.astype(str).where(s.notna()).astype("category")
        fixed.isetitem(i, column)
    if numbers_as_text:
        _warn_numbers_as_text(numbers_as_text)
    return fixed


def check_target_present(y) -> None:
    """A ``ValueError`` when the 1-d ``y`` holds missing values (NaN, None or ``pd.NA``):
    scikit-learn's checks of class labels sort them first and fail on a missing one
    beside strings with a ``TypeError`` that names neither ("boolean value of NA is
    ambiguous", "'<' not supported between 'NoneType' and 'str'")."""
    n_missing, t = int(pd.isna(pd.Series(y, copy=False)).sum()), terms()
    if n_missing == len(y):
        raise ValueError(f"{t.target} contains only missing values ({t.missing})")
    if n_missing:
        raise ValueError(
            f"{t.target} contains {n_missing} missing value(s) ({t.missing}); drop those rows "
            "before fitting"
        )


def _check_same_row_order(X, y) -> None:
    """``ValueError`` when ``X`` and ``y`` are pandas objects holding the same row labels
    in another order (``y`` kept from before a shuffle or sort of ``X``): rows are paired
    by position, as scikit-learn pairs them, so each row silently got another's target."""
    if not (isinstance(X, pd.DataFrame) and isinstance(y, pd.Series | pd.DataFrame)):
        return
    rows, targets = X.index, y.index
    if (len(rows) != len(targets) or rows.equals(targets) or not rows.is_unique
            or not targets.is_unique or not targets.isin(rows).all()):
        return
    first = next(i for i, (a, b) in enumerate(zip(rows, targets, strict=True)) if a != b)
    raise ValueError(
        f"X and y hold the same row labels in another order (row {first}: X's is "
        f"{python_value(rows[first])!r}, y's {python_value(targets[first])!r}); rows are paired by "
        "position, so each row would get another row's target: align y first, "
        "y = y.loc[X.index] (or pass y.to_numpy() if the order is right)")


def validate(X, y, task: str | None = None) -> tuple[pd.DataFrame, pd.Series, TaskType]:
    """Check and normalise a supervised problem; raise ``ValueError`` naming what is wrong.

    NaN in X is allowed (metaopt's pipelines impute it); infinite values, missing
    targets, a single class and mismatched lengths are not. Rows are paired by position;
    a DataFrame ``X`` and a pandas ``y`` holding the same row labels in another order
    are refused (the targets would go to the wrong rows).

    Parameters
    ----------
    X : array-like, DataFrame or sparse matrix of shape (n_samples, n_features)
    y : array-like of shape (n_samples,)
    task : {"classification", "regression"} or None, default=None
        Inferred from ``y`` when None (see :func:`infer_task`).

    Returns
    -------
    X : pandas.DataFrame
    y : pandas.Series
    task : {"classification", "regression"}
    """
    if X is None or y is None:
        raise ValueError("X and y are required, got None")
    _check_same_row_order(X, y)
    frame = _fix_dtypes(_to_frame(X))
    target = _target_of_shape(y, frame.shape, frame.columns)
    largest = largest_magnitudes(frame)
    _refuse_infinite(list(largest.index[np.isinf(largest)]))
    message = too_large_message(largest, frame)
    if message:
        warn(message, UserWarning)
    target, task = _checked_target(target, task)
    _warn_target_in_X(frame, target)
    return frame, target, task


def _warn_target_in_X(frame: pd.DataFrame, target: pd.Series) -> None:
    """Warn about the columns of ``frame`` that hold the target itself (a table passed
    whole as X, target column included): a model fitted with one predicts from the
    answer, and its cross-validated scores are near perfect."""
    values = target.to_numpy()
    head = min(len(values), 100)  # most columns differ in their first rows: cheap
    same = [c for c, column in frame.items() if column.dtype == target.dtype
            and np.array_equal(column.to_numpy()[:head], values[:head])
            and np.array_equal(column.to_numpy(), values)]
    if not same:
        return
    t, them = terms(), "it" if len(same) == 1 else "them"
    warn(f"column(s) {same} of X hold y itself: a model fitted with them predicts from the "
         f"answer (cross-validated scores near perfect); drop them from X, e.g. "
         f"X.drop(columns={same!r})" if t.table is None else
         f"{t.columns(same)} {t.target} itself: a model fitted with {them} predicts from the "
         f"answer (cross-validated scores near perfect); {t.drop(same)}")


def validate_sparse(X, y, task: str | None = None
                    ) -> tuple[sparse.csr_matrix, pd.Series, TaskType]:
    """:func:`validate` for a sparse ``X``, kept sparse: the same checks and messages,
    ``X`` returned as a CSR matrix (its columns are those :func:`validate` names
    ``x0``, ``x1``, ...). For callers that look at a sample of the rows and columns, such
    as the meta-features: the dense table of a TF-IDF matrix can take many GB."""
    if y is None:
        raise ValueError("X and y are required, got None")
    X = sparse.csr_matrix(X)
    if X.dtype.kind not in "biuf":
        raise ValueError(f"sparse X must hold numbers, got dtype {X.dtype}")
    target = _target_of_shape(y, X.shape)
    if X.dtype.kind == "f":
        _refuse_infinite([f"x{c}" for c in np.unique(X.indices[np.isinf(X.data)])])
    target, task = _checked_target(target, task)
    return X, target, task


_FLOAT32_MAX = float(np.finfo(np.float32).max)
_SQUARE_MAX = float(np.sqrt(np.finfo(np.float64).max))  # beyond it, x**2 overflows
_SQUARE_MIN = float(np.sqrt(np.finfo(np.float64).tiny))  # below it, x**2 underflows


def float64_std(values: np.ndarray) -> np.ndarray:
    """The standard deviation of each column of ``values`` in float64, missing values
    ignored, as the models standardise: inf or NaN when its sum of squares overflows, 0
    when its squared deviations underflow."""
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        return np.nanstd(values, axis=0)


def check_target_scale(y: np.ndarray) -> None:
    """``ValueError`` for a numeric target ``y`` (a column or columns) of finite values
    too large or too small to standardise in float64: squared and summed, they overflow to
    inf (the network then predicted NaN or -inf), or their squared deviations underflow
    (every model then predicted a constant, scored R² 1.0 or 0)."""
    largest = float(np.abs(y).max(initial=0.0))
    std = float64_std(y)
    if largest > _SQUARE_MAX or not np.isfinite(std).all():
        size, power, op, verb = "large", "squared and summed, they overflow to inf", "/", "divide"
    elif 0 < largest < _SQUARE_MIN or ((std == 0) & (np.ptp(y, axis=0) > 0)).any():
        size, power, op, verb = ("small", "squared, their deviations from the mean underflow",
                                 "*", "multiply")
    else:
        return
    t = terms()
    exponent = min(abs(int(np.floor(np.log10(largest)))), 308)  # 1e309 is inf
    rescale = (f"rescale, e.g. y {op} 1e{exponent}" if t.table is None else
               f"rescale it in {t.table}, e.g. {verb} it by 1e{exponent}")
    raise ValueError(f"{t.target} holds finite values too {size} to standardise (up to "
                     f"{largest:.3g}: {power}); {rescale}")


def largest_magnitudes(X: pd.DataFrame) -> pd.Series:
    """The largest absolute value of each float column of ``X``, missing values
    ignored: inf for a column holding an infinite value, NaN for one of missing values."""
    # column by column, in its own dtype, with no temporary column: a float64 copy of all
    # the numbers at once took as much memory again as X (float32 data: twice as much)
    values = {c: column.to_numpy(dtype=float, na_value=np.nan)
              if ptypes.is_extension_array_dtype(column) else column.to_numpy()
              for c, column in X.select_dtypes(include="floating").items()}
    return pd.Series({c: max(np.fmax.reduce(v), -np.fmin.reduce(v)) for c, v in values.items()},
                     dtype=float)


def too_large_message(largest: pd.Series, X: pd.DataFrame) -> str | None:
    """What goes wrong with the columns of ``X`` whose :func:`largest_magnitudes` are
    finite but beyond float32's range, and how to rescale them; None when there is none."""
    big = largest[np.isfinite(largest) & (largest > _FLOAT32_MAX)].sort_values(ascending=False)
    if big.empty:
        return None
    column, value, t = big.index[0], big.iloc[0], terms()
    listed = ", ".join(f"{c!r} (up to {v:.3g})" for c, v in big.iloc[:10].items())
    power = f"1e{int(np.floor(np.log10(value)))}"
    # one column at a time, as largest_magnitudes reads them
    unstandardisable = any(not np.isfinite(float64_std(X[c].to_numpy(dtype=float,
                                                                      na_value=np.nan)))
                           for c in big.index)
    squares = (", and to standardise in float64 (squared and summed, they overflow to inf: "
               "standardising leaves them unscaled or NaN)" if unstandardisable else "")
    held, cast, rescale = (
        (f"X column(s) {listed} hold", "X", f"rescale, e.g. X[{column!r}] / {power}")
        if t.table is None else
        (t.columns(list(big.index[:10]), listed), "the features",
         f"rescale them in {t.table}, e.g. divide column {column!r} by {power}"))
    return (f"{held} finite values too large for float32 (beyond {_FLOAT32_MAX:.1e}: tree "
            f"models cast {cast} to it and see inf){squares}; {rescale}")


def _refuse_infinite(columns: list) -> None:
    if not columns:
        return
    t, shown = terms(), columns[:10]
    raise ValueError(
        f"X contains infinite values in column(s) {shown}; replace them with finite values "
        "or NaN (NaN is imputed)" if t.table is None else
        f"{t.columns(shown)} infinite values; replace them in {t.table} with finite values "
        f"or empty cells (empty cells are imputed), or {t.drop(shown)}")


def _target_of_shape(y, shape: tuple[int, int], columns=()) -> pd.Series:
    """The target ``y`` as a Series, checked to be one column and to fit an ``X`` of
    ``shape`` (which must have rows and columns) and ``columns``."""
    if np.ndim(y) == 0:  # a column's name, as a DataFrame-first API would take it
        column = (f": to use a column of X as the target, pass X.drop(columns={y!r}) as X "
                  f"and X[{y!r}] as y" if isinstance(y, str) and y in columns else "")
        raise ValueError(f"y must hold one target per row of X, got the "
                         f"{type(y).__name__} {y!r}{column}")
    if np.ndim(y) > 1 and np.shape(y)[1] != 1:
        raise ValueError(f"y must be 1-dimensional, got shape {np.shape(y)}")
    target = pd.Series(np.asarray(y).ravel() if not isinstance(y, pd.Series) else y.to_numpy())
    name = y.name if isinstance(y, pd.Series) else (
        y.columns[0] if isinstance(y, pd.DataFrame) else None)
    target.name = str(name) if name is not None else "target"
    t = terms()
    if shape[0] == 0:
        raise ValueError("X is empty: it has 0 rows" if t.table is None
                         else f"{t.table} has no data rows")
    if shape[1] == 0:
        raise ValueError(f"X has {shape[0]} rows but 0 columns: give at least one feature "
                         "column besides the target" if t.table is None else
                         f"{t.table} has no column besides {t.target}: it needs at least one "
                         "feature column")
    if shape[0] != len(target):
        raise ValueError(
            f"X and y have different lengths: X has {shape[0]} rows, y has {len(target)}"
        )
    return target


def _checked_target(target: pd.Series, task: str | None) -> tuple[pd.Series, TaskType]:
    """:func:`validate`'s checks of the values of ``target``: it and the task (given, or
    inferred from it)."""
    check_target_present(target)
    _refuse_unhashable(target)
    if task is None:
        task = infer_task(target)
    if task not in TASK_TYPES:
        raise ValueError(f"task must be one of {TASK_TYPES}, got {task!r}")
    if task == "classification":
        _check_classification_target(target)
    else:
        t = terms()
        if not ptypes.is_numeric_dtype(target) or ptypes.is_bool_dtype(target):
            raise ValueError(f"{t.task('regression')} needs a numeric target, but {t.target} "
                             f"holds {_held(target)}; use {t.task('classification')} for labels")
        target = target.astype(float)
        if not np.isfinite(target.to_numpy()).all():
            raise ValueError(f"{t.target} contains infinite values")
        check_target_scale(target.to_numpy())
    return target, task


def _refuse_unhashable(target: pd.Series) -> None:
    """``ValueError`` naming ``target`` when it holds lists, dicts, sets or arrays (a
    parquet list column), which pandas cannot count as classes ("unhashable type")."""
    if not (ptypes.is_object_dtype(target.dtype)
            and ptypes.infer_dtype(target, skipna=True) in _MIXED):
        return
    unhashable = target[~target.map(lambda value: isinstance(value, Hashable))]
    if len(unhashable):
        value = unhashable.iloc[0]
        raise ValueError(f"{terms().target} holds {type(value).__name__} values (e.g. "
                         f"{str(value)[:40]}): a target is one class label or number per row")


def _held(target: pd.Series) -> str:
    """What a target of no numbers holds, in words: "text values such as 'yes', 'no'"."""
    if ptypes.is_bool_dtype(target):
        return "true/false values"
    text = text_not_numbers(target)
    first = python_value(target.dropna().iloc[0])
    return (f"text values such as {text}" if text
            else f"numbers written as text (e.g. {first!r})" if isinstance(first, str)
            else f"{type(first).__name__} values (e.g. {first!r})")


def _check_classification_target(target: pd.Series) -> None:
    t = terms()
    check_label_types(target, t.target)
    n_classes = target.nunique()
    if n_classes < 2:
        numeric = ptypes.is_numeric_dtype(target) and not ptypes.is_bool_dtype(target)
        raise ValueError(
            f"classification needs at least 2 classes in {t.target}, got {n_classes} "
            f"(every row's target is {python_value(target.iloc[0])!r}"
            + (f"; to treat it as a regression target, {t.ask('regression')})"
               if numeric else ")"))
    if ptypes.is_numeric_dtype(target) and not ptypes.is_bool_dtype(target):
        values = target.to_numpy(dtype=float)
        with np.errstate(invalid="ignore"):  # inf is no integer
            non_integer = not np.all(np.equal(np.mod(values, 1), 0))
        mostly_unique = n_classes > len(target) / 2  # most classes would have one row
        if (non_integer or mostly_unique) and n_classes > _MAX_CLASSES_FOR_NUMERIC_TARGET:
            asked = (f"but {t.task('classification')}" if t.estimator is None
                     else f"for {t.estimator}")
            raise ValueError(
                f"{t.target} looks like a regression target ({n_classes} distinct "
                f"{'non-integer ' if non_integer else ''}values in {len(target)} rows) "
                f"{asked}; {t.ask('regression')}"
                + (("" if t.estimator else " (MetaOptRegressor for an estimator)")
                   + ", or, if they are class labels, give them as strings (y.astype(str))"
                   if t.table is None else "")
            )


def from_arrays(X, y, task: str | None = None, name: str = "user-data") -> Dataset:
    """Build a validated :class:`Dataset` from arrays, DataFrames or sparse matrices.

    Parameters
    ----------
    X : array-like, DataFrame or sparse matrix of shape (n_samples, n_features)
    y : array-like of shape (n_samples,)
    task : {"classification", "regression"} or None, default=None
        Inferred from ``y`` when None (see :func:`infer_task`).
    name : str, default="user-data"
        The dataset's :attr:`Dataset.name`.

    Returns
    -------
    Dataset
    """
    return Dataset(X=X, y=y, task=task, name=name, source="arrays")


def as_dataset(X, y=None, task: str | None = None) -> Dataset:
    """``X`` itself when it is a :class:`Dataset` (ValueError when it is not of ``task``,
    when given, or when a ``y`` is given too), else :func:`from_arrays` of ``X``, ``y``
    and ``task``."""
    if isinstance(X, Dataset):
        if y is not None:  # which target was meant? the Dataset's was taken silently
            raise ValueError(f"the Dataset {X.name!r} carries its target: pass y=None, or "
                             "X and y as arrays")
        if task is not None and task != X.task:
            raise ValueError(f"task={task!r}, but the Dataset {X.name!r} is {X.task}")
        return X
    return from_arrays(X, y, task=task)
