"""Named benchmark suites: OpenML suites (by task id) and local directory suites."""

from __future__ import annotations

import difflib
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path

import pandas as pd

from metaopt._checks import check_int
from metaopt._markdown import counted
from metaopt._suite_names import LOCAL_SUITES as _LOCAL_SUITES
from metaopt._suite_names import check_suite_name, list_suites, openml_suites
from metaopt._warnings import warn
from metaopt.data._dataset import Dataset
from metaopt.data.sources import LocalSource, OpenMLSource

__all__ = ["DatasetRef", "Suite", "get_suite", "list_suites", "openml_suites"]


@dataclass(frozen=True)
class DatasetRef:
    """A dataset of a suite, not loaded yet.

    Parameters
    ----------
    key : str
        Stable unique id such as ``"openml-task/31"`` or ``"pmlb/adult"``.
    name : str
        The dataset's name.
    task : {"classification", "regression"} or None
        None when not known before loading.
    source : str
        ``"openml"`` or ``"local"``.
    _loader : callable
        Returns the :class:`~metaopt.data.Dataset` (called by :meth:`load`).
    size : int or None, default=None
        Rows x columns, known before loading for local suites with a manifest.
    """

    key: str
    name: str
    task: str | None
    source: str
    _loader: Callable[[], Dataset] = field(repr=False, compare=False)
    size: int | None = None

    def load(self) -> Dataset:
        """Load the dataset; raises :class:`~metaopt.data.DatasetLoadError` on failure.

        Returns
        -------
        Dataset
        """
        return self._loader()


@dataclass(frozen=True)
class Suite:
    """An ordered collection of :class:`DatasetRef`.

    Parameters
    ----------
    name : str
    refs : tuple of DatasetRef
    cache_dir : Path or None, default=None
        The OpenML cache directory its OpenML tasks load from: the one :func:`get_suite`
        was given (None: openml's own cache, and for a local suite).
        :func:`metaopt.benchmark.run` looks there for the tasks missing from the cache.
    """

    name: str
    refs: tuple[DatasetRef, ...]
    cache_dir: Path | None = field(default=None, kw_only=True)

    def __iter__(self) -> Iterator[DatasetRef]:
        return iter(self.refs)

    def __len__(self) -> int:
        return len(self.refs)

    def __repr__(self) -> str:
        # short: its name, size and first names (the dataclass's listed every ref,
        # 7,600 characters for openml-cc18); the refs are in ``refs``
        names = [r.name for r in self.refs[:3]] + ["..."] * (len(self.refs) > 3)
        shown = f": {', '.join(names)}" if names else ""
        cache = "" if self.cache_dir is None else f", cache_dir={os.fspath(self.cache_dir)!r}"
        return f"Suite({self.name!r}, {counted(len(self), 'dataset')}{shown}{cache})"

    def __getitem__(self, i: int) -> DatasetRef:
        return self.refs[i]

    def select(
        self, limit: int | None = None, names: str | list[str] | None = None,
        smallest_first: bool = False,
    ) -> Suite:
        """The first ``limit`` refs, optionally only those whose name or key is in ``names``.

        Parameters
        ----------
        limit : int, optional
            Most refs kept (None: all).
        names : str or list of str, optional
            Names or keys of the refs kept; an unknown one raises ``ValueError``.
        smallest_first : bool, default=False
            Order refs by ``size`` (unknown sizes last) before the limit.

        Returns
        -------
        Suite
            With the same ``cache_dir``.
        """
        refs = self.refs
        if smallest_first:
            refs = tuple(sorted(refs, key=lambda r: (r.size is None, r.size or 0)))
        if names is not None:
            wanted = {names} if isinstance(names, str) else set(names)  # one name, not letters
            unknown = wanted - {r.name for r in refs} - {r.key for r in refs}
            if unknown:
                known = [r.name for r in refs]
                by_id = {r.key.rsplit("/", 1)[-1]: r.name for r in refs}  # "3": "task-3"
                close = {u: [by_id[u]] if u in by_id else difflib.get_close_matches(u, known, n=1)
                         for u in sorted(unknown)}
                hints = "; ".join((f"{u!r}: " if len(unknown) > 1 else "")
                                  + f"did you mean {c[0]!r}?" for u, c in close.items() if c)
                raise ValueError(f"suite {self.name!r} has no dataset{'s' * (len(unknown) > 1)}"
                                 f" named {', '.join(map(repr, close))}"
                                 + (f" ({hints})" if hints else ""))
            refs = tuple(r for r in refs if r.name in wanted or r.key in wanted)
        if limit is not None:
            refs = refs[:check_int(limit, "limit")]
        return replace(self, refs=refs)  # the same cache_dir


def _check_suite_arguments(
    name: str, root, cache_dir, download: bool = False, *, target: str | None = None,
    root_name: str = "root", cache_dir_name: str = "cache_dir",
    download_name: str = "download", target_name: str = "target",
) -> None:
    """Refuse ``cache_dir`` or ``download`` with a local suite and ``root`` or ``target``
    with an OpenML one: the suite would not use them. The CLIs call it before any work
    with their options' names (``--root``, ``--cache-dir``, ``--download``, ``--target``)."""
    oml = openml_suites()
    if name in _LOCAL_SUITES:
        for given, option, use in ((cache_dir is not None, cache_dir_name, "is openml's cache"),
                                   (download, download_name,
                                    "fetches the tasks missing from openml's cache")):
            if given:
                raise ValueError(
                    f"{option}: not used with suite {name!r} (a local directory suite, read "
                    f"from {root_name}; {option} {use}, used by the OpenML suites only: "
                    f"{', '.join(sorted(oml))})")
    if name in oml and root is not None:
        raise ValueError(
            f"{root_name}: not used with suite {name!r} (an OpenML suite, loaded through "
            f"openml's cache: {cache_dir_name} sets it; {root_name} is the directory of a "
            f"local suite, used by {', '.join(sorted(_LOCAL_SUITES))} only)")
    if name in oml and target is not None:
        raise ValueError(
            f"{target_name}: not used with suite {name!r} (an OpenML suite: each task names "
            f"its target; {target_name} names the target column of a local suite's tables, "
            f"used by {', '.join(sorted(_LOCAL_SUITES))} only)")


def _check_cache_dir(suite: Suite, cache_dir) -> None:
    """Refuse a ``cache_dir`` other than ``suite.cache_dir`` (the one :func:`get_suite`
    was given; None: openml's own), however spelled (a local suite's is refused first,
    by :func:`_check_suite_arguments`)."""
    own = getattr(suite, "cache_dir", None)
    # openml takes the directory as given (no ~ expansion): compared as it will be used
    if own is None or Path(cache_dir).resolve() != Path(own).resolve():
        where = ("openml's own cache (the suite was built without cache_dir)"
                 if own is None else repr(os.fspath(own)))
        raise ValueError(
            f"cache_dir={os.fspath(cache_dir)!r} is not the OpenML cache of suite "
            f"{suite.name!r}, which loads its tasks from {where}: build the suite with the "
            f"cache directory (get_suite({suite.name!r}, cache_dir=...)) and leave "
            "cache_dir out: the suite's is used")


def get_suite(
    name: str, root: str | Path | None = None, *, cache_dir: str | Path | None = None,
    target: str | None = None,
) -> Suite:
    """A suite by name.

    Parameters
    ----------
    name : str
        One of :func:`list_suites`: ``openml-cc18``, ``amlb-classification``,
        ``openml-ctr23`` (OpenML task ids, loaded through :class:`OpenMLSource`), or
        ``pmlb-classification`` / ``pmlb-regression`` (a local directory, ``root``).
    root : str or Path, optional
        The directory of a local suite (required for the ``pmlb-*`` suites). A dataset's
        task comes from the directory's ``manifest.csv``, else from its ``metadata.yaml``;
        datasets with neither are left out, with a warning.
    cache_dir : str or Path, optional
        OpenML cache directory for the OpenML suites (default: openml's own). The suite
        keeps it (``Suite.cache_dir``): its tasks load from there, and
        :func:`metaopt.benchmark.run` looks there for the tasks missing from the cache.
    target : str, optional
        The target column of a local suite's tables (default: ``target``, PMLB's); a
        table without it fails to load, naming the closest column.

    Returns
    -------
    Suite

    Raises
    ------
    ValueError
        For an unknown suite, a local suite without ``root``, and an argument the suite
        would not use: ``cache_dir`` with a local suite, ``root`` or ``target`` with an
        OpenML one.
    """
    _check_suite_arguments(name, root, cache_dir, target=target)
    if name in _LOCAL_SUITES:
        if root is None:
            raise ValueError(f"suite {name!r} is a local directory suite: pass its directory "
                             "(root=, or --root on the command line)")
        source = LocalSource(root, target="target" if target is None else target)
        table = source.manifest()
        unknown = table.loc[table["task"].isna(), "name"].tolist()
        if unknown:
            warn(
                f"{len(unknown)} dataset(s) in {root} have no known task and are left out of "
                f"suite {name!r}, e.g. {unknown[:5]}: give their task in {root}/manifest.csv "
                "(columns name, task) or as 'task:' in their metadata.yaml")
        task = _LOCAL_SUITES[name]
        rows = table.loc[table["task"] == task]
        sizes = (rows["n_instances"] * rows["n_features"] if {"n_instances", "n_features"}
                 <= set(rows) else [None] * len(rows))
        refs = tuple(
            DatasetRef(f"pmlb/{n}", n, task, "local", partial(source.load, n, task),
                       None if pd.isna(size) else int(size))
            for n, size in zip(rows["name"], sizes, strict=True)
        )
        return Suite(name, refs)
    check_suite_name(name)
    source = OpenMLSource(cache_dir)
    spec = openml_suites()[name]
    refs = tuple(
        DatasetRef(f"openml-task/{tid}", f"task-{tid}", spec["task_type"], "openml",
                   partial(source.load_task, tid))
        for tid in spec["task_ids"]
    )
    return Suite(name, refs, cache_dir=source.cache_dir)
