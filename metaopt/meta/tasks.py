"""Episodic task sampling: N-way K-shot classification and K-shot regression episodes.

Every sampler returns :class:`Episodes`: stacked support and query tensors with a
leading task dimension, ``[tasks, shots, ...]``, ready for the ``vmap``-ed learners.
Meta-train / meta-valid / meta-test splits are splits of *tasks* (classes or groups),
never of rows: see :func:`split_labels`.
"""

from __future__ import annotations

import base64
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields
from typing import Any

import numpy as np
import pandas as pd
import torch

from metaopt._checks import check_int, check_label_types
from metaopt._warnings import warn

__all__ = ["ClassificationTasks", "Episodes", "RegressionTasks", "SinusoidTasks", "pad_tasks",
           "split_labels"]


@dataclass(frozen=True)
class Episodes:
    """A meta-batch of tasks, each with a support and a query set.

    Each parameter is kept as the attribute of the same name.

    Parameters
    ----------
    support_x : Tensor
        Support inputs, ``[tasks, shots, ...]``.
    support_y : Tensor
        Support targets, ``[tasks, shots, ...]`` (class indices ``0..n_way-1`` for
        classification).
    query_x, query_y : Tensor
        Query inputs and targets, laid out as the support's.
    support_weight, query_weight : Tensor or None, default=None
        Per-example weights ``[tasks, shots]``; 0 marks padding. ``None`` means all ones.
    """

    support_x: torch.Tensor
    support_y: torch.Tensor
    query_x: torch.Tensor
    query_y: torch.Tensor
    support_weight: torch.Tensor | None = None
    query_weight: torch.Tensor | None = None

    @property
    def n_tasks(self) -> int:
        """Number of tasks of the meta-batch."""
        return self.support_x.shape[0]

    def to(self, device: torch.device | str) -> Episodes:
        """Move every tensor to a device.

        Parameters
        ----------
        device : torch.device or str

        Returns
        -------
        Episodes
        """
        tensors = {f.name: getattr(self, f.name) for f in fields(self)}
        moved: dict[str, Any] = {k: None if v is None else v.to(device) for k, v in tensors.items()}
        return Episodes(**moved)


def _check_episodes(episodes) -> None:
    """TypeError unless ``episodes`` is :class:`Episodes`, as a learner's ``training_step``
    takes: a learn2learn-style ``(x, y)`` batch failed with "'tuple' object has no
    attribute 'support_x'"."""
    if not isinstance(episodes, Episodes):
        raise TypeError(f"episodes must be metaopt.meta.Episodes(support_x, support_y, "
                        f"query_x, query_y), each [tasks, shots, ...], got a "
                        f"{type(episodes).__name__}; a task sampler's sample(n_tasks) returns "
                        "one, and meta_loss takes the four tensors themselves")


def _as_array(X, name: str, ndim: int | None = None) -> np.ndarray:
    array = np.asarray(X)
    if array.size == 0 or array.shape[0] == 0:
        raise ValueError(f"{name} is empty (shape {array.shape}); it needs at least one row")
    if ndim is not None and array.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-dimensional, got shape {array.shape}")
    return array


def _labels(values, name: str, ndim: int | None = 1) -> np.ndarray:
    """Class labels or group ids as an array; ``ValueError`` for missing ones (NaN,
    None), which no row's label equals: their class drew rows of other classes, and for
    strings mixed with numbers, which numpy cannot sort ("'<' not supported between
    instances of 'int' and 'str'")."""
    array = _as_array(values, name, ndim)
    missing = np.asarray(pd.isna(array))
    if missing.any():
        raise ValueError(f"{name} has {int(missing.sum())} missing value(s) (NaN or None), the "
                         f"first at row {int(np.flatnonzero(missing)[0])}; drop those rows "
                         "or give them a label")
    check_label_types(array, name)
    return array


def _numeric(array: np.ndarray, name: str) -> np.ndarray:
    """``array`` as numbers, refusing non-numeric values and NaN or infinite ones, which
    would make every loss of an episode that draws their row NaN, with no error."""
    if array.dtype.kind not in "biuf":
        try:
            array = array.astype(np.float64)
        except (TypeError, ValueError):
            raise ValueError(f"{name} must be numeric, got values of dtype {array.dtype}; "
                             "encode its non-numeric columns first") from None
    if array.dtype.kind == "f":
        bad = ~np.isfinite(array.reshape(len(array), -1)).all(axis=1)
        if bad.any():
            raise ValueError(f"{name} has {int(bad.sum())} row(s) with a NaN or infinite value, "
                             f"the first row {int(np.flatnonzero(bad)[0])}; impute those "
                             "values or drop those rows")
    return array


def _float_dtype(dtype) -> torch.dtype:
    """``dtype`` if it is a floating torch dtype (the model's); an integer one would
    truncate the data without a word (pixels in [0, 1] to 0 and 1)."""
    if not (isinstance(dtype, torch.dtype) and dtype.is_floating_point):
        raise ValueError(f"dtype must be a floating torch dtype such as torch.float64, "
                         f"got {dtype!r}")
    return dtype


def _check_rows(X: np.ndarray, y: np.ndarray, name: str = "y") -> None:
    if X.shape[0] != y.shape[0]:
        raise ValueError(f"X has {X.shape[0]} rows but {name} has {y.shape[0]}; they must match")


def _row_table(owner: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows of each value of ``owner`` as a padded ``[values, max_rows]`` table and its mask."""
    rows = [np.flatnonzero(owner == v) for v in values]
    width = max(len(r) for r in rows)
    table = np.zeros((len(rows), width), dtype=np.int64)
    valid = np.zeros((len(rows), width), dtype=bool)
    for i, r in enumerate(rows):
        table[i, : len(r)], valid[i, : len(r)] = r, True
    return table, valid


def _draw_rows(
    table: np.ndarray, valid: np.ndarray, owners: np.ndarray, count: int, rng: np.random.Generator
) -> np.ndarray:
    """``count`` distinct rows of each owner in ``owners`` (any shape), vectorised: random
    keys, padding pushed last, the ``count`` smallest keys in increasing order (partitioned
    first, so a huge class costs one pass, not a sort of all its rows). Returns
    ``owners.shape + (count,)`` row indices."""
    keys = rng.random((*owners.shape, table.shape[1]))
    keys += ~valid[owners]  # padding + 1: after every row, and distinct (partitions slow on ties)
    if count < keys.shape[-1]:
        smallest = np.argpartition(keys, count - 1, axis=-1)[..., :count]
    else:
        smallest = np.broadcast_to(np.arange(count), keys.shape).copy()
    order = np.take_along_axis(
        smallest, np.argsort(np.take_along_axis(keys, smallest, axis=-1), axis=-1), axis=-1)
    return table[owners[..., None], order]


def split_labels(
    labels, *, fractions: Sequence[float] = (0.6, 0.2, 0.2), seed: int | None = None
) -> list[np.ndarray]:
    """Split the distinct values of ``labels`` (classes or task groups) into disjoint sets.

    Parameters
    ----------
    labels : array-like
        Class labels or group ids; only the distinct values matter.
    fractions : sequence of float
        Share of distinct values per split, e.g. meta-train / meta-valid / meta-test.
        Normalised to sum to 1; every split gets at least one value.
    seed : int, optional
        Seed of the shuffle.

    Returns
    -------
    list of ndarray
        One array of distinct label values per fraction, disjoint.
    """
    values = np.unique(_labels(labels, "labels", ndim=None))
    fractions = np.asarray(fractions, dtype=float)
    if fractions.ndim != 1 or len(fractions) == 0 or not np.all(
            np.isfinite(fractions) & (fractions > 0)):
        raise ValueError(
            "fractions must be a non-empty sequence of positive finite numbers, got "
            f"{fractions.tolist()}"
        )
    if len(values) < len(fractions):
        raise ValueError(
            f"labels has {len(values)} distinct values, fewer than the {len(fractions)} splits in fractions"
        )
    values = np.random.default_rng(seed).permutation(values)
    return np.split(values, np.cumsum(_split_sizes(fractions, len(values)))[:-1])


def _split_sizes(fractions: np.ndarray, n: int) -> np.ndarray:
    """``n`` values shared in proportion to ``fractions``, at least one each: the
    remainder goes to the first (training) split, and the values that raising small
    splits to one take beyond ``n`` come from the largest ones."""
    sizes = np.maximum(np.floor(fractions / fractions.sum() * n).astype(int), 1)
    while sizes.sum() > n:
        sizes[np.argmax(sizes)] -= 1
    sizes[0] += n - sizes.sum()
    return sizes


class _NumpyStream:
    """The state of a task stream drawn with ``self._rng``, as JSON data, so a resumed
    meta-training draws the episodes an unbroken one would."""

    _rng: np.random.Generator

    def get_state(self) -> dict:
        """The task stream's state as JSON data (see :meth:`set_state`).

        Returns
        -------
        dict
            ``{"numpy": ...}``: the state of the stream's numpy bit generator.
        """
        return {"numpy": self._rng.bit_generator.state}

    def set_state(self, state: dict) -> None:
        """Continue the task stream from a :meth:`get_state`.

        Parameters
        ----------
        state : dict
        """
        self._rng.bit_generator.state = state["numpy"]


class ClassificationTasks(_NumpyStream):
    """N-way K-shot classification episodes from any labelled data.

    Each episode draws ``n_way`` classes, then ``k_shot`` support and ``n_query``
    query rows per class, without overlap. Labels are re-indexed ``0..n_way-1`` in
    the order the classes were drawn.

    Parameters
    ----------
    X : array-like of shape (n_samples, ...)
        Inputs.
    y : array-like of shape (n_samples,)
        Class labels.
    n_way, k_shot, n_query : int
        Classes per episode, support rows per class, query rows per class.
    classes : array-like, optional
        Restrict episodes to these classes (e.g. one element of :func:`split_labels`).
    seed : int, optional
        Seed of the episode stream; the same seed gives the same episodes.
    dtype : torch.dtype
        Floating dtype of the inputs (the model's).
    """

    def __init__(
        self,
        X,
        y,
        *,
        n_way: int = 5,
        k_shot: int = 1,
        n_query: int = 15,
        classes=None,
        seed: int | None = None,
        dtype: torch.dtype = torch.float32,
    ) -> None:
        dtype = _float_dtype(dtype)
        X = _numeric(_as_array(X, "X"), "X")
        y = _labels(y, "y")
        _check_rows(X, y)
        self.n_way = check_int(n_way, "n_way", minimum=2)
        self.k_shot = check_int(k_shot, "k_shot")
        self.n_query = check_int(n_query, "n_query")
        if classes is not None:
            classes = np.asarray(classes)
            if classes.size == 0:  # it read "n_way=5 exceeds the 0 classes available"
                raise ValueError("classes is empty; pass the class labels to draw episodes "
                                 "from (e.g. one part of split_labels), or None for all")
            unknown = np.setdiff1d(classes, y)
            if len(unknown):
                raise ValueError(f"classes contains labels absent from y: {unknown[:5].tolist()}")
            keep = np.isin(y, classes)
            X, y = X[keep], y[keep]
        self.classes_, counts = np.unique(y, return_counts=True)
        if self.n_way > len(self.classes_):
            # "use n_way <= 1" for a split of one class asked for what n_way cannot be
            advice = (f"use n_way <= {len(self.classes_)}" if len(self.classes_) >= 2 else
                      "an episode needs at least 2 classes: give this split more of them "
                      "(e.g. a larger fraction in split_labels)")
            raise ValueError(
                f"n_way={self.n_way} exceeds the {len(self.classes_)} class(es) available; "
                f"{advice}")
        need = self.k_shot + self.n_query
        eligible = counts >= need
        if eligible.sum() < self.n_way:
            raise ValueError(
                f"k_shot + n_query = {self.k_shot} + {self.n_query} = {need} rows per class, but only "
                f"{int(eligible.sum())} of {len(self.classes_)} classes have that many "
                f"(smallest class has {counts.min()}); n_way={self.n_way} needs {self.n_way}. "
                "Lower k_shot or n_query."
            )
        if not eligible.all():
            short = self.classes_[~eligible][:5].tolist()
            message = (f"{int((~eligible).sum())} class(es) have fewer than k_shot + n_query "
                       f"= {need} rows (e.g. {short})")
            if classes is not None:
                raise ValueError(f"{message}; they were asked for in classes=")
            warn(f"{message}: left out of the episodes")
        self.classes_ = self.classes_[eligible]
        self._table, self._valid = _row_table(y, self.classes_)
        self._X = torch.tensor(X, dtype=dtype)  # a copy: pandas' arrays are read-only
        self._rng = np.random.default_rng(seed)

    def sample(self, n_tasks: int) -> Episodes:
        """Draw episodes.

        Parameters
        ----------
        n_tasks : int

        Returns
        -------
        Episodes
            Support ``[n_tasks, n_way * k_shot, ...]``, query ``[n_tasks, n_way * n_query, ...]``.
        """
        n_tasks = check_int(n_tasks, "n_tasks")
        need = self.k_shot + self.n_query
        classes = np.argsort(self._rng.random((n_tasks, len(self.classes_))), axis=1)[
            :, : self.n_way
        ]
        picks = _draw_rows(self._table, self._valid, classes, need, self._rng)

        def labels(per_class: int) -> torch.Tensor:
            return (
                torch.arange(self.n_way)
                .repeat_interleave(per_class)
                .expand(n_tasks, -1)
                .contiguous()
            )

        support = torch.as_tensor(picks[:, :, : self.k_shot].reshape(n_tasks, -1))
        query = torch.as_tensor(picks[:, :, self.k_shot :].reshape(n_tasks, -1))
        return Episodes(
            support_x=self._X[support],
            support_y=labels(self.k_shot),
            query_x=self._X[query],
            query_y=labels(self.n_query),
        )


class RegressionTasks(_NumpyStream):
    """K-shot regression episodes: each group of rows (e.g. one dataset) is one task.

    Parameters
    ----------
    X : array-like of shape (n_samples, ...)
        Inputs.
    y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        Targets.
    groups : array-like of shape (n_samples,)
        Task id of every row.
    k_shot : int or (int, int)
        Support rows per task, or an inclusive range: each task then draws its own
        number of support rows and is padded to the maximum with weight 0
        (``Episodes.support_weight``).
    n_query : int
        Query rows per task.
    tasks : array-like, optional
        Restrict episodes to these group ids (e.g. one element of :func:`split_labels`).
        A group named here with fewer than ``max(k_shot) + n_query`` rows is refused
        (ValueError); without ``tasks``, such groups are left out with a warning (see ``tasks_``).
    seed : int, optional
        Seed of the episode stream.
    dtype : torch.dtype
        Floating dtype of inputs and targets (the model's).
    """

    def __init__(
        self,
        X,
        y,
        groups,
        *,
        k_shot: int | tuple[int, int] = 10,
        n_query: int = 10,
        tasks=None,
        seed: int | None = None,
        dtype: torch.dtype = torch.float32,
    ) -> None:
        dtype = _float_dtype(dtype)
        X = _numeric(_as_array(X, "X"), "X")
        y = _numeric(_as_array(y, "y"), "y")
        groups = _labels(groups, "groups")
        _check_rows(X, y)
        _check_rows(X, groups, "groups")
        # a (min, max) list or array too
        if isinstance(k_shot, Iterable) and np.ndim(k_shot) > 0:
            k_range = tuple(k_shot)
        else:
            k_range = (k_shot, k_shot)
        if len(k_range) != 2:
            raise ValueError(f"k_shot must be an int or a (min, max) pair, got {k_shot!r}")
        low = check_int(k_range[0], "k_shot")
        high = check_int(k_range[1], "k_shot")
        if low > high:
            raise ValueError(f"k_shot range must have min <= max, got {k_shot!r}")
        self.k_shot = (low, high)
        self.n_query = check_int(n_query, "n_query")
        if tasks is not None:
            if np.asarray(tasks).size == 0:  # numpy's "zero-size array to reduction operation"
                raise ValueError("tasks is empty; pass the group ids to draw tasks from "
                                 "(e.g. one part of split_labels), or None for all")
            unknown = np.setdiff1d(np.asarray(tasks), groups)
            if unknown.size:
                raise ValueError(f"tasks contains ids absent from groups: {unknown[:5].tolist()}")
            keep = np.isin(groups, np.asarray(tasks))
            X, y, groups = X[keep], y[keep], groups[keep]
        ids, counts = np.unique(groups, return_counts=True)
        need = high + self.n_query
        if counts.max() < need:
            raise ValueError(
                f"k_shot (max {high}) + n_query ({self.n_query}) = {need} rows per task, but the largest "
                f"group has {counts.max()}; lower k_shot or n_query"
            )
        if (counts < need).any():
            short = ids[counts < need][:5].tolist()
            message = (f"{int((counts < need).sum())} group(s) have fewer than k_shot + "
                       f"n_query = {need} rows (e.g. {short})")
            if tasks is not None:
                raise ValueError(f"{message}; they were asked for in tasks=")
            warn(f"{message}: left out of the episodes")
        self.tasks_ = ids[counts >= need]
        self._table, self._valid = _row_table(groups, self.tasks_)
        self._X = torch.tensor(X, dtype=dtype)  # copies: pandas' arrays are read-only
        self._y = torch.tensor(y, dtype=dtype)
        self._rng = np.random.default_rng(seed)

    def sample(self, n_tasks: int) -> Episodes:
        """Draw episodes (tasks drawn with replacement, rows without).

        Parameters
        ----------
        n_tasks : int

        Returns
        -------
        Episodes
        """
        n_tasks = check_int(n_tasks, "n_tasks")
        low, high = self.k_shot
        owners = self._rng.integers(len(self.tasks_), size=n_tasks)
        picks = _draw_rows(self._table, self._valid, owners, high + self.n_query, self._rng)
        sizes = self._rng.integers(low, high + 1, size=n_tasks)
        weight = (np.arange(high) < sizes[:, None]).astype(np.float32)
        support = torch.as_tensor(picks[:, :high])
        query = torch.as_tensor(picks[:, high:])
        return Episodes(
            support_x=self._X[support],
            support_y=self._y[support],
            query_x=self._X[query],
            query_y=self._y[query],
            support_weight=None if low == high else torch.as_tensor(weight, dtype=self._X.dtype),
        )


def _range(bounds, name: str) -> tuple[float, float]:
    """``bounds`` as a ``(low, high)`` pair of finite floats with ``low <= high``; torch
    refused a reversed or NaN pair only at the first ``sample``, in its own words."""
    try:
        low, high = (float(v) for v in bounds)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a (low, high) pair of numbers, got {bounds!r}") from None
    if not (math.isfinite(low) and math.isfinite(high) and low <= high):
        raise ValueError(f"{name} must be a (low, high) pair of finite numbers with "
                         f"low <= high, got {bounds!r}")
    return low, high


class SinusoidTasks:
    """Sinusoid regression tasks as in the MAML and Meta-SGD papers.

    ``y = amplitude * sin(x - phase)`` with amplitude in ``[0.1, 5]``, phase in
    ``[0, pi]`` and ``x`` uniform in ``[-5, 5]``; inputs and targets are ``[.., 1]``.

    Parameters
    ----------
    k_shot, n_query : int
        Support and query points per task.
    amplitude, phase, x_range : (float, float)
        Uniform ranges of the task parameters and inputs.
    seed : int, optional
        Seed of the task stream.
    dtype : torch.dtype
        Dtype of inputs and targets (the model's: a float64 model needs float64 tasks).
        The tasks drawn are the same for every dtype.
    """

    def __init__(
        self,
        *,
        k_shot: int = 10,
        n_query: int = 10,
        amplitude: tuple[float, float] = (0.1, 5.0),
        phase: tuple[float, float] = (0.0, math.pi),
        x_range: tuple[float, float] = (-5.0, 5.0),
        seed: int | None = None,
        dtype: torch.dtype = torch.float32,
    ) -> None:
        self.k_shot = check_int(k_shot, "k_shot")
        self.n_query = check_int(n_query, "n_query")
        self.dtype = _float_dtype(dtype)
        self.amplitude, self.phase, self.x_range = (
            _range(value, name) for name, value in (
                ("amplitude", amplitude), ("phase", phase), ("x_range", x_range)))
        self._generator = torch.Generator().manual_seed(
            int(np.random.default_rng(seed).integers(2**62))
        )

    def get_state(self) -> dict:
        """The task stream's state as JSON data (see :meth:`set_state`).

        Returns
        -------
        dict
            ``{"torch": ...}``: the stream's torch generator state, base64-encoded.
        """
        return {"torch": base64.b64encode(self._generator.get_state().numpy().tobytes()).decode()}

    def set_state(self, state: dict) -> None:
        """Continue the task stream from a :meth:`get_state`.

        Parameters
        ----------
        state : dict
        """
        raw = np.frombuffer(base64.b64decode(state["torch"]), dtype=np.uint8).copy()
        self._generator.set_state(torch.from_numpy(raw))

    def _uniform(self, shape: tuple[int, ...], bounds: tuple[float, float]) -> torch.Tensor:
        return torch.empty(shape).uniform_(bounds[0], bounds[1], generator=self._generator)

    def sample(self, n_tasks: int) -> Episodes:
        """Draw sinusoids and their support/query points.

        Parameters
        ----------
        n_tasks : int

        Returns
        -------
        Episodes
        """
        n_tasks = check_int(n_tasks, "n_tasks")
        # drawn in float32 whatever the dtype: the same tasks for every dtype
        amplitude, phase, x = (self._uniform(shape, bounds).to(self.dtype) for shape, bounds in (
            ((n_tasks, 1, 1), self.amplitude), ((n_tasks, 1, 1), self.phase),
            ((n_tasks, self.k_shot + self.n_query, 1), self.x_range)))
        y = amplitude * torch.sin(x - phase)
        k = self.k_shot
        return Episodes(x[:, :k], y[:, :k], x[:, k:], y[:, k:])


def pad_tasks(tasks: Sequence[tuple], dtype: torch.dtype = torch.float32,
              ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Stack tasks with different numbers of rows, padding with weight 0.

    Parameters
    ----------
    tasks : sequence of (X, y)
        One pair of arrays per task, rows first.
    dtype : torch.dtype
        Of ``x``, of non-integer targets and of the weights (the model's dtype);
        integer labels stay int64, as ``"cross_entropy"`` needs.

    Returns
    -------
    x : Tensor
        ``[tasks, max_rows, ...]`` inputs (padding repeats the first row).
    y : Tensor
        ``[tasks, max_rows, ...]`` targets, padded alike.
    weight : Tensor
        ``[tasks, max_rows]``: 1 for real rows, 0 for padding.
    """
    if len(tasks) == 0:
        raise ValueError("tasks is empty; pass at least one (X, y) pair")
    dtype = _float_dtype(dtype)
    xs: list[torch.Tensor] = []
    ys: list[torch.Tensor] = []
    arrays = [(_numeric(_as_array(X, f"tasks[{i}] X"), f"tasks[{i}] X"),
               _numeric(_as_array(y, f"tasks[{i}] y"), f"tasks[{i}] y"))
              for i, (X, y) in enumerate(tasks)]
    labels = [np.issubdtype(y.dtype, np.integer) for _, y in arrays]
    if any(labels) and not all(labels):
        raise ValueError("tasks mix integer labels and other targets: pass one kind")
    for i, (X, y) in enumerate(arrays):
        X = torch.tensor(X, dtype=dtype)  # copies: pandas' arrays are read-only
        y = torch.tensor(y, dtype=torch.int64 if labels[i] else dtype)
        if X.shape[0] != y.shape[0]:
            raise ValueError(f"tasks[{i}] has {X.shape[0]} rows in X but {y.shape[0]} in y")
        for name, t, first in (("X", X, xs), ("y", y, ys)):  # torch.stack's error named none
            if first and t.shape[1:] != first[0].shape[1:]:
                raise ValueError(f"tasks[{i}] {name} has rows of shape {tuple(t.shape[1:])}, "
                                 f"tasks[0] {name} {tuple(first[0].shape[1:])}; every task's "
                                 "must match")
        xs.append(X)
        ys.append(y)
    rows = max(x.shape[0] for x in xs)
    weight = torch.zeros(len(xs), rows, dtype=dtype)
    for i, x in enumerate(xs):
        weight[i, : x.shape[0]] = 1.0

    def pad(t: torch.Tensor) -> torch.Tensor:
        return torch.cat([t, t[:1].expand(rows - t.shape[0], *t.shape[1:])])

    return torch.stack([pad(x) for x in xs]), torch.stack([pad(y) for y in ys]), weight
