"""Dataset sources: OpenML (through the ``openml`` package) and local directories."""

from __future__ import annotations

import difflib
import functools
import os
import threading
import types
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any

import pandas as pd
import yaml
from pandas.api import types as ptypes

from metaopt._checks import check_int, check_seconds, repeated
from metaopt._shared import SharedSetting
from metaopt._warnings import warn
from metaopt.data._dataset import TASK_TYPES, Dataset, infer_task

_TABLE_SUFFIXES = (".tsv.gz", ".tsv", ".csv.gz", ".csv", ".parquet")
_CATEGORICAL_TYPES = {"categorical", "nominal"}
_SKIP_PARQUET = "OPENML_SKIP_PARQUET"  # openml reads it at every load


class DatasetLoadError(RuntimeError):
    """A dataset could not be loaded (missing file, no network, bad format)."""


def _set_skip_parquet(value: str | None) -> None:
    if value is None:
        os.environ.pop(_SKIP_PARQUET, None)
    else:
        os.environ[_SKIP_PARQUET] = value


#: set while loads run, on any thread; the caller's value, or its absence, put back after
_skip_parquet = SharedSetting(lambda: os.environ.get(_SKIP_PARQUET), _set_skip_parquet)


def _openml_root_cache() -> str:
    import openml

    return str(openml.config.get_config_as_dict()["cachedir"])


def _set_openml_root_cache(root: str) -> None:
    import openml

    openml.config.set_root_cache_directory(root)


#: ``openml``'s root cache directory, set while loads run, the caller's put back after
_root_cache = SharedSetting(_openml_root_cache, _set_openml_root_cache)


def _openml_attempts() -> int:
    import openml

    return openml.config.connection_n_retries


def _set_openml_attempts(n: int) -> None:
    import openml

    openml.config.connection_n_retries = n


#: ``openml``'s attempts per request (retries, with pauses of 1, 2, ... s, included)
_attempts = SharedSetting(_openml_attempts, _set_openml_attempts)
#: the ``timeout`` of the load running on this thread (unset: none, openml's calls elsewhere)
_request_timeout = threading.local()


@functools.cache
def _timed_requests() -> types.SimpleNamespace:
    """``requests`` as ``openml._api_calls`` sees it while loads run: its sessions' requests
    wait at most the ``timeout`` of the load on their thread (openml gives none), and an
    answer that stalls midway raises a ``ReadTimeout`` too, as one that never starts."""
    import requests
    from urllib3.exceptions import ReadTimeoutError

    class Session(requests.Session):
        def request(self, method: str, url: str | bytes, *args: Any, **kwargs: Any
                    ) -> requests.Response:
            kwargs.setdefault("timeout", getattr(_request_timeout, "seconds", None))
            try:
                return super().request(method, url, *args, **kwargs)
            except requests.exceptions.ConnectionError as exc:
                # requests wraps a stall in the body as a ConnectionError, which openml
                # retried and the load took for OpenML unreachable
                if not (exc.args and isinstance(exc.args[0], ReadTimeoutError)):
                    raise
                stalled = exc.args[0]
            sent = requests.Request(method, url, params=kwargs.get("params")).prepare()
            raise requests.exceptions.ReadTimeout(stalled, request=sent) from stalled

    return types.SimpleNamespace(**{**vars(requests), "Session": Session})


def _openml_requests() -> Any:
    from openml import _api_calls

    return _api_calls.requests


def _set_openml_requests(module: Any) -> None:
    from openml import _api_calls

    _api_calls.requests = module


#: the ``requests`` module of ``openml``'s HTTP calls, :func:`_timed_requests` while loads run
_requests = SharedSetting(_openml_requests, _set_openml_requests)


@contextmanager
def _waiting_at_most(seconds: float | None) -> Iterator[None]:
    """openml's requests on this thread wait at most ``seconds`` (None: no limit) inside."""
    outer = getattr(_request_timeout, "seconds", None)
    _request_timeout.seconds = seconds
    try:
        with _requests.holding(_timed_requests()):
            yield
    finally:
        _request_timeout.seconds = outer


#: set when a load found OpenML unreachable, cleared when one downloads again: meanwhile
#: loads try OpenML once, without ``openml``'s retries
_unreachable_seen = threading.Event()


class OpenMLSource:
    """Datasets and tasks from OpenML, through the ``openml`` package and its cache.

    Parameters
    ----------
    cache_dir : str or Path, optional
        Root of the OpenML cache. When given it is ``openml``'s root cache directory (a
        process-wide setting of that package) while loads run, and the caller's after
        (until 2026-12-05 it stayed set). Files already in the cache are used without
        network access. Once a load has found OpenML unreachable, later ones (of any
        source, in this process) try it once, without ``openml``'s retries, until one
        downloads.
    skip_parquet : bool, default=True
        Read the ARFF files instead of downloading OpenML's parquet copies (``openml``'s
        ``OPENML_SKIP_PARQUET``, set only while loads run, on any thread: until 2026-12-05
        it stayed set in ``os.environ``, so the caller's own ``openml`` calls, and a later
        source with ``skip_parquet=False``, skipped parquet too). False: as ``openml``
        decides.
    timeout : float or None, default=300
        Seconds each request to OpenML may wait to connect, and then for each part of the
        answer (a download that keeps receiving data goes on): a stalled server fails
        the load with a :class:`DatasetLoadError` naming the request and the timeout.
        None: no limit (``openml`` sets none). Applies to the loads' own thread only;
        parquet copies (``skip_parquet=False``) download through ``minio``, with its own
        300 s.
    """

    name = "openml"

    def __init__(self, cache_dir: str | Path | None = None, *, skip_parquet: bool = True,
                 timeout: float | None = 300):
        check_seconds(timeout, "timeout")
        self.cache_dir = Path(cache_dir) if cache_dir is not None else None
        self.skip_parquet = skip_parquet
        self.timeout = timeout

    @contextmanager
    def _configured(self) -> Iterator[Any]:
        """``openml`` with this source's cache directory, and (``skip_parquet``) skipping
        parquet inside: the caller's settings are as they were after."""
        import openml

        with (_root_cache.holding(str(self.cache_dir)) if self.cache_dir is not None
              else nullcontext()), \
                (_skip_parquet.holding("true") if self.skip_parquet else nullcontext()):
            yield openml

    def _cache_label(self) -> str:
        """The root cache directory loads use, as ``cache_dir`` (CLI ``--cache-dir``) takes it."""
        return str(self.cache_dir) if self.cache_dir is not None else _openml_root_cache()

    @contextmanager
    def _loading(self, kind: str, item_id: int) -> Iterator[Any]:
        """:meth:`_configured` for loading OpenML ``kind`` ``item_id``: any failure a
        :class:`DatasetLoadError`; one attempt only while OpenML is known unreachable;
        each request waiting at most ``timeout``."""
        cached = self.is_cached(**{f"{kind}_id": item_id})
        # openml downloads an unreadable description.xml / task.xml again and, when that
        # fails, deletes the item's cached files: refused before
        damaged = _damaged([folder / name for folder in self._cache_folders(kind, item_id)
                            for name in ("description.xml", "task.xml")])
        if damaged:
            raise DatasetLoadError(self._damaged_error(kind, item_id, damaged))
        with self._configured() as openml, _waiting_at_most(self.timeout), \
                (_attempts.holding(1) if _unreachable_seen.is_set() else nullcontext()):
            try:
                yield openml
            except Exception as exc:  # openml raises requests/OpenML/OS errors alike
                if _unreachable(exc):
                    _unreachable_seen.set()
                raise self._load_error(kind, item_id, exc) from exc
        if not cached:  # downloaded: OpenML is reachable
            _unreachable_seen.clear()

    def load_dataset(self, dataset_id: int, task: str | None = None) -> Dataset:
        """Load OpenML dataset ``dataset_id`` with its default target.

        Parameters
        ----------
        dataset_id : int
            OpenML's id of the dataset (an integer >= 1, or its text).
        task : {"classification", "regression"} or None, default=None
            None: classification for a categorical target, else inferred from it.

        Returns
        -------
        Dataset
        """
        dataset_id = _openml_id(dataset_id, "dataset")
        with self._loading("dataset", dataset_id) as openml:
            oml = openml.datasets.get_dataset(
                dataset_id,
                download_data=True,
                download_qualities=False,
                download_features_meta_data=False,  # get_data needs description and data only
            )
            X, y, _, _ = oml.get_data(target=oml.default_target_attribute)
        return self._to_dataset(X, y, task, name=oml.name, dataset_id=dataset_id)

    def load_task(self, task_id: int) -> Dataset:
        """Load an OpenML task: its dataset, target and train/test splits (repeat 0).

        Parameters
        ----------
        task_id : int
            OpenML's id of the task (an integer >= 1, or its text).

        Returns
        -------
        Dataset
        """
        task_id = _openml_id(task_id, "task")
        with self._loading("task", task_id) as openml:
            # its dataset first: get_task deletes the task's cached files when a part fails
            dataset_id = self._task_dataset_id(task_id)
            if dataset_id is not None:
                openml.datasets.get_dataset(dataset_id, download_data=True)
            otask = openml.tasks.get_task(task_id, download_splits=True)
            oml = otask.get_dataset(download_data=True)
            X, y, _, _ = oml.get_data(target=otask.target_name)
            n_folds = otask.get_split_dimensions()[1]
            splits = [otask.get_train_test_split_indices(fold=f) for f in range(n_folds)]
        task = "regression" if "Regression" in str(otask.task_type) else "classification"
        return self._to_dataset(
            X, y, task, name=oml.name, dataset_id=int(oml.dataset_id),
            task_id=task_id, splits=splits,
        )

    def _load_error(self, kind: str, item_id: int, exc: Exception) -> DatasetLoadError:
        """Why OpenML ``kind`` (``"dataset"``, ``"task"``) ``item_id`` did not load: not
        cached and no network (and where to point the cache), or OpenML's own error; and
        whether the other kind of that id is cached (task ids are no dataset ids)."""
        text = f"could not load OpenML {kind} {item_id} (cache: {self._cache_label()}): "
        cause = f"{type(exc).__name__}: {_first_line(exc)}"
        stalled = _read_timeout(exc)
        if stalled is not None:
            url = stalled.request.url if stalled.request is not None else "OpenML"
            return DatasetLoadError(
                f"{text}OpenML did not answer within {self.timeout:g} s ({url}): try again "
                f"later, or with a longer OpenMLSource(timeout=...) ({cause})")
        damaged: dict[Path, str] = {} if _unreachable(exc) else _damaged(
            [path for folder in self._cache_folders(kind, item_id) if folder.is_dir()
             for path in sorted(folder.iterdir())])
        if damaged:  # openml's own words for the file that failed (an ARFF file's line)
            failed = [p for p, why in damaged.items() if why.split(":")[0] == type(exc).__name__]
            damaged.update(dict.fromkeys(failed[:1], cause))
            return DatasetLoadError(self._damaged_error(kind, item_id, damaged)
                                    + ("" if failed else f" ({cause})"))
        if _unreachable(exc) and not self.is_cached(**{f"{kind}_id": item_id}):
            files = f"org/openml/www/{kind}s/{item_id}/"
            if kind == "task":
                dataset_id = self._task_dataset_id(item_id)
                files += f" and datasets/{'<id>' if dataset_id is None else dataset_id}/"
            text += (
                "it is not in the cache and OpenML could not be reached. Download it once "
                "with network access, or point the cache at the root of a copy that holds "
                f"{files} (OpenMLSource(cache_dir=...), get_suite(..., cache_dir=...), "
                f"CLI --cache-dir) ({cause})")
        else:
            text += cause
        other = "dataset" if kind == "task" else "task"
        if self.is_cached(**{f"{other}_id": item_id}):
            text += (f". OpenML {other} {item_id} is in the cache: load_{other}({item_id}) "
                     f"loads it (a {kind} id is not a {other} id)")
        return DatasetLoadError(text)

    def _damaged_error(self, kind: str, item_id: int, damaged: dict[Path, str]) -> str:
        """Which cached files of OpenML ``kind`` ``item_id`` are ``damaged`` (path -> why),
        and what to delete: openml makes a pickle again from its source file, offline,
        and downloads the others again."""
        remedies = [f"openml makes {path.name} again from {_pickled_from(path)}, without "
                    "network" if path.name.endswith(_PICKLES) else
                    f"openml downloads {path.name} again (network needed)" for path in damaged]
        return (f"could not load OpenML {kind} {item_id} (cache: {self._cache_label()}): "
                "damaged cache file(s): "
                + "; ".join(f"{path} ({why})" for path, why in damaged.items())
                + f". Delete {'it' if len(damaged) == 1 else 'them'} and load again: "
                + ", and ".join(remedies))

    def _cache_folders(self, kind: str, item_id: int) -> list[Path]:
        """The cache folders of OpenML ``kind`` ``item_id``: a task's, and its dataset's."""
        with self._configured() as openml:
            root = Path(openml.config.get_cache_directory())
        dataset_id = self._task_dataset_id(item_id) if kind == "task" else item_id
        return [root / f"{kind}s" / str(item_id)] + (
            [root / "datasets" / str(dataset_id)] if kind == "task" and dataset_id else [])

    def _task_dataset_id(self, task_id: int) -> int | None:
        """The dataset of task ``task_id``, from its cached ``task.xml`` (None: not cached)."""
        with self._configured() as openml:
            root = Path(openml.config.get_cache_directory())
        return _task_dataset_id(root / "tasks" / str(task_id) / "task.xml")

    def is_cached(self, *, dataset_id: int | None = None, task_id: int | None = None) -> bool:
        """Whether the cache holds the files for a dataset or task (no network used).

        Parameters
        ----------
        dataset_id : int, optional
        task_id : int, optional
            Checked instead of ``dataset_id`` when given: the task, its splits and its
            dataset. One of the two is required.

        Returns
        -------
        bool
        """
        with self._configured() as openml:
            root = Path(openml.config.get_cache_directory())
        if task_id is not None:  # load_task needs the task, its splits and its dataset
            source = self._task_dataset_id(task_id)
            return (source is not None
                    and (root / "tasks" / str(task_id) / "datasplits.arff").is_file()
                    and self.is_cached(dataset_id=source))
        if dataset_id is None:
            raise ValueError("pass dataset_id or task_id")
        folder = root / "datasets" / str(dataset_id)
        return (folder / "description.xml").is_file() and (
            (folder / "dataset.arff").is_file() or (folder / "dataset.pq").is_file()
        )

    def _to_dataset(self, X, y, task, *, name, dataset_id, task_id=None, splits=None) -> Dataset:
        if y is None:
            raise DatasetLoadError(f"OpenML dataset {dataset_id} ({name}) has no default target")
        return Dataset(  # validated there
            X=X, y=y, task=task or _openml_task(y), name=name, source="openml",
            source_id=str(task_id if task_id is not None else dataset_id),
            openml_dataset_id=dataset_id, openml_task_id=task_id, splits=splits,
        )


def _openml_id(value: Any, kind: str) -> int:
    """``value`` (an integer, or its text) as the id of an OpenML ``kind`` (``"dataset"``,
    ``"task"``): a ValueError saying what the id is when it is no integer >= 1, such as a
    name, 2.5 or True."""
    text = value.strip() if isinstance(value, str) else None
    try:
        return check_int(int(text) if text and text.isdecimal() else value, f"{kind}_id")
    except ValueError:
        example = "2 for anneal" if kind == "dataset" else "3, a task of openml-cc18"
        raise ValueError(f"{kind}_id must be an integer >= 1, OpenML's id of the {kind} "
                         f"(e.g. {example}), got {value!r}") from None


def _task_dataset_id(task_xml: Path) -> int | None:
    """The dataset id an OpenML ``task.xml`` names, or None (no file, or unreadable)."""
    import xml.etree.ElementTree as ElementTree

    try:
        root = ElementTree.parse(task_xml).getroot()
    except (OSError, ElementTree.ParseError):
        return None
    ids = [e.text for e in root.iter() if e.tag.endswith("}data_set_id") and e.text]
    return int(ids[0]) if ids and ids[0].strip().isdigit() else None


_PICKLES = (".pkl.py3", ".pkl")  # openml's pickles of dataset.arff, datasplits.arff, *.xml


def _pickled_from(pickle_file: Path) -> str:
    """The name of the cached file openml made ``pickle_file`` from."""
    name = pickle_file.name
    return name.removesuffix(".pkl") if name.endswith(".xml.pkl") else (
        name.removesuffix(".pkl.py3") + ".arff")


def _read_back(path: Path) -> None:
    """Read the cached file ``path`` as openml does (XML, pickle, ARFF, parquet): raises
    when it is damaged."""
    import pickle
    import xml.etree.ElementTree as ElementTree
    from collections import deque

    import arff  # openml's ARFF reader
    import pyarrow.parquet as pq

    if path.name.endswith(_PICKLES):
        with path.open("rb") as fh:
            pickle.load(fh)  # noqa: S301 (openml's own cache, as openml reads it)
    elif path.suffix == ".xml":
        ElementTree.parse(path)
    elif path.suffix == ".arff":
        with path.open(encoding="utf8") as fh:
            deque(arff.load(fh, return_type=arff.DENSE_GEN)["data"], maxlen=0)
    elif path.suffix == ".pq":
        pq.read_metadata(path)


def _damaged(paths: list[Path]) -> dict[Path, str]:
    """The files among ``paths`` that exist and do not read back, with why."""
    damaged = {}
    for path in paths:
        if path.is_file():
            try:
                _read_back(path)
            except Exception as exc:  # any reader's error: the file is damaged
                damaged[path] = f"{type(exc).__name__}: {_first_line(exc)[:200]}"
    return damaged


def _cause(exc: BaseException | None, kind: type[BaseException]) -> Any:
    """The first of ``exc`` and its causes that is a ``kind``, else None."""
    while exc is not None and not isinstance(exc, kind):
        exc = exc.__cause__ or exc.__context__
    return exc


def _unreachable(exc: BaseException | None) -> bool:
    """Whether a connection error (no network, OpenML down) is among ``exc``'s causes."""
    import requests

    return _cause(exc, requests.exceptions.ConnectionError) is not None


def _read_timeout(exc: BaseException | None) -> Any:
    """The ``requests`` read timeout among ``exc``'s causes (OpenML stalled), else None."""
    import requests

    return _cause(exc, requests.exceptions.ReadTimeout)


def _openml_task(y: pd.Series) -> str:
    return "classification" if isinstance(y.dtype, pd.CategoricalDtype) else infer_task(y)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:300] if text else ""


class LocalSource:
    """A directory of tabular datasets, laid out like PMLB.

    Each dataset is either a folder ``<root>/<name>/`` holding ``<name>.tsv.gz`` (or
    ``.tsv``, ``.csv``, ``.csv.gz``, ``.parquet``) and optionally ``metadata.yaml``
    (feature types; ``categorical``/``nominal`` features become ``category`` columns),
    or a single file ``<root>/<name>.<suffix>``. The target column is ``target`` unless
    ``target`` says otherwise. An optional ``manifest.csv`` with columns ``name`` and
    ``task`` (and any others, e.g. ``n_instances``, ``openml_did``) lists the datasets
    and their task types; without it, datasets are discovered and a task is the one
    their ``metadata.yaml`` gives (PMLB's ``task:``), else inferred when loading.

    Parameters
    ----------
    root : str or Path
        The directory.
    target : str, default="target"
        Name of the target column in every file.
    """

    name = "local"

    def __init__(self, root: str | Path, *, target: str = "target"):
        self.root = Path(root)
        if not self.root.is_dir():
            raise ValueError(f"root must be an existing directory, got {str(root)!r}")
        self.target = target

    def manifest(self) -> pd.DataFrame:
        """One row per dataset: ``name``, ``task`` (None when unknown) and manifest extras.

        Returns
        -------
        pandas.DataFrame
            Sorted by ``name``.
        """
        path = self.root / "manifest.csv"
        if path.is_file():
            table = pd.read_csv(path, dtype={"name": str})  # "1027" is a name, not a number
            missing = {"name", "task"} - set(table.columns)
            if missing:
                raise ValueError(f"{path} lacks column(s) {sorted(missing)}")
            bad = set(table["task"].dropna()) - set(TASK_TYPES)
            if bad:
                raise ValueError(f"{path}: unknown task type(s) {sorted(bad)}; use {TASK_TYPES}")
            return table.sort_values("name", kind="stable").reset_index(drop=True)
        names = sorted({name for p in self.root.iterdir() if (name := _dataset_name(p))})
        return pd.DataFrame({"name": names, "task": [self._metadata_task(n) for n in names]})

    def _metadata_task(self, name: str) -> str | None:
        """The task ``<name>/metadata.yaml`` gives, None without one (or with a malformed
        file: listing goes on, and loading that dataset says what is wrong)."""
        try:
            task = _read_metadata(self.root / name / "metadata.yaml").get("task")
        except DatasetLoadError:
            return None
        return task if task in TASK_TYPES else None

    def _known_task(self, name: str) -> str | None:
        """The task of ``name`` in the manifest (or, without one, its metadata), else None."""
        if not (self.root / "manifest.csv").is_file():
            return self._metadata_task(name)
        known = self.manifest().set_index("name")["task"].get(name)
        return known if isinstance(known, str) else None

    def names(self) -> list[str]:
        """The ``name`` column of :meth:`manifest`.

        Returns
        -------
        list of str
        """
        return self.manifest()["name"].tolist()

    def _find_file(self, name: str) -> Path:
        for base in (self.root / name / name, self.root / name):
            for suffix in _TABLE_SUFFIXES:
                path = base.with_name(base.name + suffix)
                if path.is_file() and _dataset_name(path) == name:  # not manifest.csv
                    return path
        raise DatasetLoadError(
            f"dataset {name!r} not found under {self.root} (looked for {name}/{name}.<ext> "
            f"and {name}.<ext> with ext in {_TABLE_SUFFIXES})" + self._meant(name)
        )

    def _meant(self, name: str) -> str:
        """``"; did you mean 'adult'?"`` for a missing dataset whose name is close to
        one of :meth:`names` (in another case, or misspelt), else ``""``."""
        try:
            names = self.names()
        except (OSError, ValueError):  # a malformed manifest: said when it is read
            return ""
        close = _closest(name, names)
        return f"; did you mean {close!r}?" if close else ""

    def load(self, name: str, task: str | None = None) -> Dataset:
        """Load a dataset of the directory.

        Parameters
        ----------
        name : str
            One of :meth:`names`.
        task : {"classification", "regression"} or None, default=None
            None: the task the manifest or metadata gives, else inferred from the target.

        Returns
        -------
        Dataset
        """
        path = self._find_file(name)
        return self._read(path, name, task or self._known_task(name))

    def _read(self, path: Path, name: str, task: str | None,
              na_values: list[str] | None = None, drop: list[str] | None = None) -> Dataset:
        """The dataset in the table file ``path``, without the columns ``drop``; the text
        ``na_values`` (besides pandas' own, ``""``, ``"NA"``, ``"n/a"``, ...) are missing
        values."""
        # pyarrow: "Could not open Parquet input source ...: Parquet file size is 0 bytes"
        if path.name.endswith(".parquet") and path.stat().st_size == 0:
            raise DatasetLoadError(f"{path} is empty: a parquet file of 0 bytes holds no table")
        try:
            if path.name.endswith(".parquet"):
                table = _text_as_missing(pd.read_parquet(path), na_values)
            else:
                sep = "\t" if ".tsv" in path.name else ","
                # low_memory=False: one type per column (read in chunks of 262,144 rows, a
                # column could hold numbers then text: 1 and "1")
                table = pd.read_csv(path, sep=sep, na_values=na_values, low_memory=False)
        except pd.errors.EmptyDataError:  # pandas: "No columns to parse from file"
            raise DatasetLoadError(f"{path} is empty: it has no header row and no data "
                                   "rows") from None
        except Exception as exc:
            why = _unreadable_parquet(path, exc) if path.name.endswith(".parquet") else None
            if why:
                raise DatasetLoadError(why) from None
            raise DatasetLoadError(f"could not read {path}: {type(exc).__name__}: {exc}") from exc
        if table.columns.empty:  # a parquet file's table: a CSV's raised EmptyDataError
            raise DatasetLoadError(f"{path} is empty: its table has no columns")
        if self.target not in table.columns:
            raise DatasetLoadError(_no_target(path, self.target, list(table.columns)))
        table = _without_saved_index(table, path)
        y = table.pop(self.target)
        if drop:
            table = _without(table, drop, path, self.target)
        for col in _categorical_features(path.parent / "metadata.yaml", table.columns):
            table[col] = table[col].astype("category")
        # validated by the Dataset
        return Dataset(X=table, y=y, task=task, name=name, source="local", source_id=str(path))



def _damage(exc: Exception) -> str | None:
    """pyarrow's reason when ``exc`` says a parquet file is damaged, else None."""
    import pyarrow

    if isinstance(exc, pyarrow.ArrowInvalid):
        return str(exc)
    if isinstance(exc, OSError):  # "Couldn't deserialize thrift"; not the system's (an errno)
        return None if exc.errno else str(exc)
    return None


def _unreadable_parquet(path: Path, exc: Exception) -> str | None:
    """Why the parquet file ``path`` is unreadable, ``exc`` what reading it raised: it is
    damaged (pyarrow cannot read its footer: a file cut short, damaged, or no parquet
    file, "Parquet magic bytes not found in footer"; or with the footer intact, its data
    pages, ``exc``: "Corrupt snappy compressed data."), or columns share a name (pyarrow
    reads those only by position: "Multiple matches for FieldRef.Name(a)"); None when
    neither."""
    import pyarrow.parquet as pq

    try:
        names = pq.read_metadata(path).schema.to_arrow_schema().names
    except Exception as footer:
        damage = _damage(footer)
    else:
        twice = repeated(names)
        if twice:
            return (f"{path} has repeated column names {twice[:10]}: give every column a "
                    "name of its own")
        damage = _damage(exc)
    if damage is None:
        return None
    return f"{path} is not a readable parquet file (truncated or damaged): {damage}"


def _without(table: pd.DataFrame, drop: list[str], path: Path, target: str) -> pd.DataFrame:
    """``table`` (the features of ``path``) without the columns ``drop``, each one of them,
    and not all of them."""
    for name in drop:
        if name == target:
            raise ValueError(f"drop names the target column {name!r}: it is no feature")
        if name not in table.columns:
            close = difflib.get_close_matches(name, [str(c) for c in table.columns], n=1)
            raise ValueError(f"drop names {name!r}, not a column of {path}"
                             + (f"; did you mean {close[0]!r}?" if close else ""))
    if set(drop) >= set(table.columns):
        raise ValueError(f"drop names every feature column of {path}: leave at least one")
    return table.drop(columns=list(dict.fromkeys(drop)))


def _text_as_missing(table: pd.DataFrame, na_values: list[str] | None) -> pd.DataFrame:
    """``table`` with the ``na_values`` in its text columns missing, as ``read_csv``'s
    ``na_values`` makes them (a parquet file's text columns)."""
    for col in table.columns if na_values else ():
        if ptypes.is_object_dtype(table[col]) or ptypes.is_string_dtype(table[col]):
            table[col] = table[col].mask(table[col].isin(na_values))
    return table


def _without_saved_index(table: pd.DataFrame, path: Path) -> pd.DataFrame:
    """``table`` without a first column that is a saved pandas index (``to_csv`` without
    ``index=False``: named ``Unnamed: 0`` when read back, holding 0, 1, ..., n - 1), with a
    warning: row numbers are no feature."""
    first = table.columns[0] if len(table.columns) else None
    if first != "Unnamed: 0" or not table[first].equals(pd.Series(range(len(table)))):
        return table
    warn(f"{path}: its first column, unnamed, holds the row numbers 0 to "
         f"{len(table) - 1} (a saved pandas index): not used as a feature")
    return table.drop(columns=first)


def _closest(name: str, names: list[str]) -> str | None:
    """The one of ``names`` that ``name`` means: the same but for case and spaces, else the
    closest by spelling; None when none is close."""
    folded = {n.strip().lower(): n for n in names}
    close = ([folded[name.strip().lower()]] if name.strip().lower() in folded
             else difflib.get_close_matches(name, names, n=1))
    return close[0] if close else None


def _no_target(path: Path, target: str, columns: list) -> str:
    """The error for a target column ``path`` lacks: the closest column name (case and
    spaces aside, else by spelling), and the columns, the first and last five of many."""
    names = [str(c) for c in columns]
    close = _closest(target, names)
    quoted = [repr(n) for n in names]
    shown = quoted if len(names) <= 10 else [*quoted[:5], "...", *quoted[-5:]]
    other_sep = next((sep for sep in (";", "\t", "|") if len(names) == 1 and sep in names[0]),
                     None)
    return (f"{path} has no target column {target!r}"
            + (f"; did you mean {close!r}?" if close else "")
            + f" ({len(names)} columns: {', '.join(shown)})"
            + (f"; its one column holds {other_sep!r}: metaopt reads .csv files separated by "
               "commas and .tsv files by tabs, so convert the file or rename it"
               if other_sep else ""))


def _dataset_name(path: Path) -> str | None:
    if path.is_dir():
        return path.name if any(
            (path / f"{path.name}{s}").is_file() for s in _TABLE_SUFFIXES
        ) else None
    for suffix in _TABLE_SUFFIXES:
        if path.name.endswith(suffix) and path.name != "manifest.csv":
            return path.name[: -len(suffix)]
    return None


def _read_metadata(metadata: Path) -> dict:
    """The mapping in a PMLB ``metadata.yaml`` ({} without the file)."""
    if not metadata.is_file():
        return {}
    try:
        meta = yaml.safe_load(metadata.read_text()) or {}
    except yaml.YAMLError as exc:
        raise DatasetLoadError(f"could not parse {metadata}: {exc}") from exc
    features = (meta.get("features") or []) if isinstance(meta, dict) else None
    if not isinstance(features, list) or not all(isinstance(f, dict) for f in features):
        raise DatasetLoadError(
            f"{metadata} is not PMLB metadata: expected a mapping whose 'features' is a list "
            "of mappings with 'name' and 'type' (fix or remove the file)"
        )
    return meta


def _categorical_features(metadata: Path, columns) -> list[str]:
    present = set(columns)
    return [
        f["name"] for f in _read_metadata(metadata).get("features") or []
        if str(f.get("type")).lower() in _CATEGORICAL_TYPES and f.get("name") in present
    ]


def load_table(path: str | Path, target: str, task: str | None = None,
               na_values: list[str] | None = None, drop: list[str] | None = None) -> Dataset:
    """Load one CSV/TSV/parquet file with a named target column (for the CLI).

    Parameters
    ----------
    path : str or Path
        A ``.tsv.gz``, ``.tsv``, ``.csv.gz``, ``.csv`` or ``.parquet`` file.
    target : str
        Name of the target column.
    task : {"classification", "regression"} or None, default=None
        Inferred from the target when None.
    na_values : list of str, optional
        Text read as missing values in every column (e.g. ``["?"]``), besides pandas' own
        ``""``, ``"NA"``, ``"n/a"``, ...
    drop : list of str, optional
        Columns that are no feature (a row id), left out before the table is checked.

    Returns
    -------
    Dataset
    """
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"data file {str(path)!r} " + (
            "is a directory: give one table file in it" if path.is_dir() else "does not exist"))
    name = _dataset_name(path)
    if name is None:
        raise ValueError(f"data file {str(path)!r} must end in {', '.join(_TABLE_SUFFIXES[:-1])}"
                         f" or {_TABLE_SUFFIXES[-1]}")
    # this very file: not another format of the same name, a folder, or a manifest entry
    return LocalSource(path.parent, target=target)._read(path, name, task, na_values, drop)


__all__ = ["DatasetLoadError", "LocalSource", "OpenMLSource", "load_table"]
