"""The resumable, parallel runner that fills a knowledge base from a suite of datasets."""

from __future__ import annotations

import difflib
import hashlib
import json
import os
import platform
import signal
import socket
import time
import uuid
from collections import Counter
from collections.abc import Iterable, Sequence
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from joblib import Parallel, delayed, parallel_config
from joblib.externals.loky import ProcessPoolExecutor
from sklearn.model_selection import train_test_split

from metaopt._checks import check_int, check_n_jobs, check_seconds, check_seed, repeated
from metaopt._isolated import callers_threads, daemonic
from metaopt._markdown import counted
from metaopt._progress import progress_bar
from metaopt._signals import StopGuard, process_start
from metaopt._warnings import warn
from metaopt.kb._design import plan_configs, stable_seed
from metaopt.kb._evaluate import DEFAULT_SCORING, Job, evaluate, library_versions, resolve_space
from metaopt.kb._store import KnowledgeBase, dumps, mixed_metafeatures
from metaopt.spaces import CombinedSpace, SearchSpace

BACKENDS = ("loky", "dask", "threading", "sequential")


class BuildInterrupted(KeyboardInterrupt):
    """A build stopped by SIGINT/SIGTERM; finished evaluations are stored (``report``).

    Parameters
    ----------
    report : BuildReport
        What the build did until it stopped.
    signum : int
        The signal that stopped it.
    """

    def __init__(self, report: BuildReport, signum: int) -> None:
        super().__init__(
            f"interrupted by {signal.Signals(signum).name}: {report.summary()}; "
            "run the same command again to resume"
        )
        self.report = report
        self.signum = signum


@dataclass
class BuildReport:
    """What one :func:`build` call did.

    Parameters
    ----------
    run_id : str
        Id of the run in the store's runs table.
    n_planned : int, default=0
        Evaluations planned.
    n_already_done : int, default=0
        Planned evaluations already stored, not run.
    n_ok, n_failed, n_timeout : int, default=0
        Evaluations this run stored, by status.
    n_duplicates : int, default=0
        Evaluations run here but stored meanwhile by another runner.
    worker_crashes : int, default=0
        Worker processes that died.
    dataset_errors : dict of str to str
        Why a dataset failed to load, by dataset key.
    seconds : float, default=0.0
        Duration of the build.
    errors : collections.Counter
        The last line of each error of the evaluations this run stored as ``failed``.
    """

    run_id: str
    n_planned: int = 0
    n_already_done: int = 0
    n_ok: int = 0
    n_failed: int = 0
    n_timeout: int = 0
    n_duplicates: int = 0
    worker_crashes: int = 0
    dataset_errors: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0
    errors: Counter = field(default_factory=Counter)

    @property
    def n_new(self) -> int:
        """Evaluations this run added to the store."""
        return self.n_ok + self.n_failed + self.n_timeout

    @property
    def n_remaining(self) -> int:
        """Planned evaluations neither stored before nor by this run."""
        return self.n_planned - self.n_already_done - self.n_new - self.n_duplicates

    def summary(self) -> str:
        """One line of the counts (the CLI prints it).

        Returns
        -------
        str
            New evaluations (ok, failed, timeout), seconds, already stored and not run;
            then, when there are any, duplicates, worker crashes, datasets that failed to
            load and the most frequent error.
        """
        text = (
            f"{counted(self.n_new, 'new evaluation')} ({self.n_ok} ok, {self.n_failed} failed, "
            f"{self.n_timeout} timeout) in {self.seconds:.1f} s, {self.n_already_done} "
            f"already stored, {self.n_remaining} not run"
        )
        if self.n_duplicates:
            text += f", {self.n_duplicates} stored meanwhile by another runner"
        if self.worker_crashes:
            text += f", {counted(self.worker_crashes, 'worker crash', 'worker crashes')}"
        if self.dataset_errors:
            text += f", {counted(len(self.dataset_errors), 'dataset')} failed to load: " + ", ".join(
                self.dataset_errors
            )
        if self.errors:
            (error, count), = self.errors.most_common(1)
            text += f"; most frequent error ({count} of {self.n_failed} failed): {error}"
        return text


class _DatasetItem:
    """Adapter giving a :class:`~metaopt.data.Dataset` the suite-entry interface."""

    def __init__(self, dataset) -> None:
        self._dataset = dataset
        self.key = f"{dataset.source}/{dataset.name}"
        self.name, self.task, self.source = dataset.name, dataset.task, dataset.source

    def load(self):
        return self._dataset


def _suite_items(suite: Any) -> list[Any]:
    """The entries of ``suite`` (``key``, ``name``, ``task``, ``source``, ``load()``): a
    Suite's, or Datasets adapted; a ``TypeError`` saying what a suite is for anything
    else (a suite's name, ``(X, y)`` pairs)."""
    def refused(what: str) -> TypeError:
        return TypeError("suite must be a Suite (metaopt.data.get_suite(name, root=...)) or "
                         "an iterable of metaopt.data.Dataset objects (from_arrays(X, y, "
                         f"name=...), load_table(path, target)), got {what}")

    if isinstance(suite, (str, bytes)) or not isinstance(suite, Iterable):
        raise refused(f"{type(suite).__name__} {suite!r}" if isinstance(suite, str)
                      else type(suite).__name__)
    items = []
    for entry in suite:
        if hasattr(entry, "X"):
            items.append(_DatasetItem(entry))
        elif all(hasattr(entry, name) for name in ("key", "task", "load")):
            items.append(entry)
        else:
            raise refused(type(entry).__name__)
    return items


def _checked_scoring(scoring: Any) -> dict[str, str]:
    """``DEFAULT_SCORING`` updated with ``scoring``, each name a scikit-learn scorer's: a
    wrong one is refused before the store is made, where every evaluation would fail."""
    from sklearn.metrics import get_scorer, get_scorer_names

    if scoring is None:
        return dict(DEFAULT_SCORING)
    if not isinstance(scoring, dict):
        raise TypeError("scoring must be a dict of task type -> scorer name, e.g. "
                        "{'classification': 'balanced_accuracy'}, got "
                        f"{type(scoring).__name__}")
    for task, name in scoring.items():
        if task not in DEFAULT_SCORING:
            raise ValueError("scoring's keys are task types, 'classification' or "
                             f"'regression', got {task!r}")
        try:
            if not isinstance(name, str):
                raise ValueError
            get_scorer(name)
        except ValueError:
            names = get_scorer_names()  # a prefix ('acc'), else a typo ('accuarcy')
            close = (sorted((n for n in names if name and n.startswith(str(name))), key=len)[:1]
                     or difflib.get_close_matches(str(name), names, n=1))
            raise ValueError(
                f"scoring[{task!r}]={name!r} is no scikit-learn scorer"
                + (f" (did you mean {close[0]!r}?)" if close else "")
                + ": give a name of sklearn.metrics.get_scorer_names(), higher is better"
            ) from None
    return {**DEFAULT_SCORING, **scoring}


def _resolve_spaces(spaces: str | Sequence[Any], task: str) -> list[Any]:
    from metaopt.spaces import list_spaces

    if isinstance(spaces, str):
        if spaces == "all":
            return list(list_spaces(task))
        spaces = [s.strip() for s in spaces.split(",") if s.strip()]
    if not spaces:
        raise ValueError("spaces names no search space: give 'all' or space names")
    resolved = [resolve_space(s) for s in spaces]
    combined = [s for s in resolved if isinstance(s, CombinedSpace)]
    if combined:  # stored under its own name, no family's model nor combination trained on it
        families = ",".join(dict.fromkeys(m.name for s in combined for m in s.members))
        raise ValueError(
            f"spaces {[s.name for s in combined]} combine model families, which a knowledge "
            f"base stores one by one: build the families (build-kb --spaces {families}) and "
            f"train the combination on them (train-meta-model --spaces {combined[0].name})")
    for space in resolved:
        _check_own_name(space)
    names = [s.name for s in resolved]
    twice = repeated(names)
    if twice:
        raise ValueError(f"spaces {twice} are given more than once: give each space once")
    return [s.name if isinstance(s0, str) else s0
            for s, s0 in zip(resolved, spaces, strict=True) if task in s.tasks]


def _metaopt_space(name: str):
    """The metaopt space called ``name`` (registered, an alias, ``"all"`` or a
    combination), else None."""
    from metaopt.spaces import get_space

    try:
        return get_space(name)
    except ValueError:  # no metaopt space's name
        return None


def _check_own_name(space) -> None:
    """A ValueError for a space object of the user's own under the name of a metaopt
    space: its evaluations would be stored, and trained on, as that space's."""
    known = _metaopt_space(space.name)
    if known is not None and known.to_json_dict() != space.to_json_dict():
        raise ValueError(
            f"space {space.name!r} of your own has the name of a metaopt space "
            f"(get_space({space.name!r})): its evaluations would be stored, and trained on, "
            f"as that space's; name it apart (e.g. 'my_{space.name.replace('+', '_')}')")


def _holdout(dataset, test_size: float | None, seed: int):
    if dataset.splits:
        return tuple(np.asarray(i) for i in dataset.splits[0])
    if not test_size:
        return None
    stratify = dataset.y if dataset.task == "classification" else None
    idx = np.arange(dataset.n_samples)
    try:
        return tuple(train_test_split(idx, test_size=test_size, random_state=seed,
                                      stratify=stratify))
    except ValueError:  # a class too small to stratify
        return tuple(train_test_split(idx, test_size=test_size, random_state=seed))


# build settings that change what an evaluation measures
_MEASURING = ("seed", "cv_folds", "max_rows", "scoring", "test_size", "time_limit")


def _warn_other_settings(kb: KnowledgeBase, params: dict[str, Any],
                         retry_failed: bool) -> None:
    """Warn when the store's last run measured with other settings: evaluations already
    stored are kept as they are (a resume skips them; ``retry_failed`` redoes the failed
    and timed-out ones), so the store would mix both."""
    runs = kb.runs()
    if runs.empty or runs["params"].dropna().empty:
        return
    last = json.loads(runs.sort_values("started_at")["params"].dropna().iloc[-1])
    # (a new seed is not warned about: the seed is part of each evaluation's key, so
    # every evaluation under it is new, none is skipped)
    changed = {k: (last.get(k), params[k]) for k in _MEASURING
               if k != "seed" and k in last and last.get(k) != json.loads(dumps(params[k]))}
    if changed:
        warn(
            "the store's last run used other settings: " + ", ".join(
                f"{k} {old!r} -> {new!r}" for k, (old, new) in changed.items())
            + "; evaluations already stored are kept, not redone with them"
            + (", except the failed and timed-out ones, which retry_failed redoes"
               if retry_failed else "")
            + " (use a new store to measure with other settings)")


def _check_same_data(items, kb: KnowledgeBase, max_rows: int | None) -> None:
    """ValueError when an in-memory dataset's key is stored for data of another shape: its
    evaluations would be taken for the stored dataset's and skipped.

    The stored shape is that of the subsample a run kept (a stratified one may have fewer
    than ``max_rows`` rows), under this run's ``max_rows`` or an earlier run's. A dataset
    stored without a shape (an imported Optuna study's) is not checked.
    """
    stored = kb.datasets().set_index("dataset_key")
    limits = {max_rows} | {json.loads(p).get("max_rows") for p in kb.runs()["params"].dropna()}
    for item in items:
        if not isinstance(item, _DatasetItem) or item.key not in stored.index:
            continue
        data = item.load()
        shapes = {(data.subsample(m).n_samples if m else data.n_samples, data.n_features)
                  for m in limits}
        row = stored.loc[item.key]
        if pd.isna(row["n_samples"]):  # stored without data (e.g. from_optuna_study)
            continue
        if row["status"] == "ok" and (row["n_samples"], row["n_features"]) not in shapes:
            n, f = data.n_samples, data.n_features
            raise ValueError(
                f"dataset {item.key!r} is stored with {row['n_samples']} x "
                f"{row['n_features']} rows x features, this one has {n} x {f} (before "
                "subsampling): give it a name of its own, e.g. from_arrays(X, y, name=...)")


def _has_metafeatures(stored: pd.DataFrame, key: str) -> bool:
    """Whether dataset ``key`` is stored (``kb.datasets()`` by key) loaded, with meta-features."""
    return bool(key in stored.index and stored.loc[key, "status"] == "ok"
                and stored.loc[key, "metafeatures"])


def _check_metafeatures_version(kb: KnowledgeBase, keys: list[str]) -> None:
    """ValueError before the run when it would compute meta-features (of this metaopt's
    version) for datasets of ``keys`` in a store whose meta-features are of another:
    ``add_dataset`` would refuse them, in the middle of the run."""
    from metaopt.metafeatures import METAFEATURES_VERSION

    version = kb.metafeatures_version()
    if version in (None, METAFEATURES_VERSION):
        return
    stored = kb.datasets().set_index("dataset_key")
    new = [key for key in keys if not _has_metafeatures(stored, key)]
    if new:
        raise ValueError(f"{len(new)} dataset(s) of this build need meta-features "
                         f"({', '.join(new[:3])}{', ...' if len(new) > 3 else ''}): "
                         + mixed_metafeatures(version, METAFEATURES_VERSION))


def _dataset_record(item, dataset=None, error: str | None = None, mf=None) -> dict[str, Any]:
    record = {"dataset_key": item.key, "name": item.name, "source": item.source,
              "task": item.task, "status": "failed" if error else "ok", "error": error}
    if dataset is not None:
        record.update(
            source_id=dataset.source_id, openml_dataset_id=dataset.openml_dataset_id,
            openml_task_id=dataset.openml_task_id, n_samples=dataset.n_samples,
            n_features=dataset.n_features, metafeatures=mf,
            n_classes=None if dataset.classes is None else len(dataset.classes),
        )
    return record


def content_hash(dataset) -> str:
    """A hash of a dataset's values, features and target, whatever its rows' order and
    its columns' names: the same data stored under two keys hash the same."""
    rows = pd.util.hash_pandas_object(pd.concat([dataset.X, dataset.y], axis=1), index=False)
    return hashlib.sha256(np.sort(rows.to_numpy()).tobytes()).hexdigest()[:32]


def _warn_same_content(key: str, content: str, known: dict[str, str]) -> None:
    """Warn when dataset ``key`` holds the data of another key of the store (``known``:
    key -> content hash): one dataset under two keys counts twice in meta-training and
    leaks between the folds of its cross-validation."""
    others = [other for other, value in known.items() if value == content and other != key]
    if others:
        warn(f"dataset {key!r} holds the same data as {', '.join(map(repr, others))}, "
             "stored already under another key: the knowledge base counts that dataset "
             "twice (twice the weight in meta-training, and a meta-model's cross-validation "
             "tests on data it trained on); leave one key out of the build (--datasets)")


def _metafeatures(dataset, seed: int) -> tuple[dict | None, str | None]:
    from metaopt import metafeatures

    try:
        values = metafeatures.compute(dataset.X, dataset.y, dataset.task, random_state=seed)
    except Exception as exc:  # evaluations are still useful without meta-features
        return None, f"meta-features failed: {type(exc).__name__}: {exc}"
    return values.to_dict(), None


@dataclass
class _Runner:
    kb: KnowledgeBase
    report: BuildReport
    guard: StopGuard
    bar: Any
    n_jobs: int
    retry_failed: bool
    run_id: str
    backend: str
    batch_size: int | str = "auto"
    _worker: ProcessPoolExecutor | None = field(default=None, init=False, repr=False)

    def run_chunk(self, jobs: list[Job], X, y, holdout) -> None:
        """Evaluate ``jobs`` in parallel; after a worker crash, rerun the rest one by one."""
        finished: set[tuple] = set()
        try:
            self._consume(jobs, X, y, holdout, finished, self.n_jobs)
            return
        except (BrokenProcessPool, _killed_worker_error()) as exc:
            self.report.worker_crashes += 1
            crash = f"{type(exc).__name__}: {exc}"
        for job in jobs:  # isolate each remaining job: a crash now names its culprit
            if job.key in finished:
                continue
            try:
                self._consume([job], X, y, holdout, finished, max(self.n_jobs, 2))
            except (BrokenProcessPool, _killed_worker_error()) as exc:
                self.report.worker_crashes += 1
                self._write(_crash_record(job, f"{type(exc).__name__}: {exc}", crash))

    def _consume(self, jobs, X, y, holdout, finished: set, n_jobs: int) -> None:
        if n_jobs == 1 and self.backend == "loky" and not daemonic():
            # one worker process, not this one: a configuration that kills its process
            # (out of memory, a crash in native code) is then recorded as failed, where
            # it ended the build, and a resume evaluated it first again (a daemonic
            # process cannot start one: it evaluates in itself, as joblib's Parallel does)
            if self._worker is None:
                self._worker = ProcessPoolExecutor(max_workers=1)
            records = (self._worker.submit(evaluate, job, X, y, holdout).result()
                       for job in jobs)
        else:
            parallel = Parallel(n_jobs=n_jobs, return_as="generator_unordered",
                                batch_size=self.batch_size)
            records = parallel(delayed(evaluate)(job, X, y, holdout) for job in jobs)
        try:
            for record in records:
                finished.add((record["dataset_key"], record["space"], record["config_id"],
                              record["seed"]))
                self._write(record)
        except BaseException:
            self.close()  # the next chunk starts a new worker (this one may be dead)
            raise

    def close(self) -> None:
        """Stop the worker process of ``n_jobs=1``, if one was started."""
        if self._worker is not None:
            self._worker.shutdown(kill_workers=True)
            self._worker = None

    def _write(self, record: dict[str, Any]) -> None:
        record["run_id"] = self.run_id
        with self.guard.writing():  # counted inside: a signal meanwhile stops after it
            if self.kb.add_evaluation(record, replace=self.retry_failed):
                name = {"ok": "n_ok", "failed": "n_failed",
                        "timeout": "n_timeout"}[record["status"]]
                setattr(self.report, name, getattr(self.report, name) + 1)
                if record["status"] == "failed":
                    lines = str(record.get("error") or "").strip().splitlines()
                    self.report.errors[lines[-1][:200] if lines else "no message"] += 1
            else:
                self.report.n_duplicates += 1
        self.bar.update(1)
        self.bar.set_postfix(failed=self.report.n_failed, timeout=self.report.n_timeout,
                             refresh=False)


def _killed_worker_error() -> type[BaseException]:
    try:
        from distributed.scheduler import KilledWorker
    except ImportError:
        return BrokenProcessPool
    return KilledWorker


def _crash_record(job: Job, error: str, first: str) -> dict[str, Any]:
    return {
        "dataset_key": job.dataset_key, "space": job.key[1], "config_id": job.config_id,
        "seed": job.seed, "design_id": job.design_id, "config": job.params, "task": job.task,
        "metric": job.scoring, "origin": "metaopt", "versions": library_versions(),
        "status": "failed",
        "error": f"the worker process died while evaluating this configuration ({error}); "
                 f"first crash in this batch: {first}",
    }


def _backend_context(backend: str, scheduler: Any):
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
    if backend != "dask":
        if scheduler is not None:
            # these messages name one parameter, first: the command line shows its option
            raise ValueError(f"scheduler must only be given with the dask backend, got "
                             f"{scheduler!r} with the {backend} backend")
        # joblib's parallel_config takes effect when made, not when entered: made here,
        # an error before build's `with` left every later joblib call of the process on
        # this backend (effective_n_jobs(2) of 1 after a refused sequential build)
        @contextmanager
        def _joblib():
            with parallel_config(backend=backend):
                yield

        return _joblib()
    try:
        from distributed import Client
    except ImportError as exc:
        raise ValueError("backend='dask' needs dask[distributed]: pip install "
                         "'metaopt[distributed]'") from exc
    if scheduler is None:
        raise ValueError("scheduler must be given with the dask backend: a dask scheduler's "
                         "address, e.g. 'tcp://127.0.0.1:8786' (from Python, also a "
                         "distributed.Client)")

    @contextmanager
    def _dask():
        client = scheduler if isinstance(scheduler, Client) else Client(scheduler)
        try:
            with parallel_config(backend="dask"):
                yield
        finally:
            if client is not scheduler:
                client.close()

    return _dask()


def build(
    suite: Iterable[Any],
    store: str | os.PathLike | KnowledgeBase = "metaopt-kb.sqlite",
    *,
    spaces: str | Sequence[Any] = "all",
    n_configs: int = 16,
    n_design: int | None = None,
    seed: int = 0,
    cv_folds: int = 5,
    time_limit: float | None = 300.0,
    max_rows: int | None = 5000,
    scoring: dict[str, str] | None = None,
    test_size: float | None = None,
    n_jobs: int = 1,
    backend: str = "loky",
    scheduler: Any = None,
    retry_failed: bool = False,
    shard: tuple[int, int] | None = None,
    progress: bool = True,
) -> BuildReport:
    """Evaluate configurations of each search space on each dataset of a suite.

    Resumable and exactly-once: jobs already in the store are skipped, each result is
    committed as it arrives, and the store's unique key ignores a result another runner
    stored meanwhile. A failing or slow configuration is recorded (``failed`` /
    ``timeout``), never fatal; a dataset that fails to load is recorded and skipped.

    Parameters
    ----------
    suite : iterable
        A :class:`~metaopt.data.Suite` (entries with ``key``, ``name``, ``task``,
        ``source`` and ``load()``) or :class:`~metaopt.data.Dataset` objects.
    store : path, URL or KnowledgeBase
        Where results go (SQLite file by default, or a PostgreSQL URL).
    spaces : "all", "a,b" or list of names / space objects
        Spaces not supporting a dataset's task are skipped for it. The store records the
        description (``to_json_dict()``) of each ``SearchSpace`` of your own, from which
        training rebuilds it; ``ValueError`` if it holds another one under that name.
    n_configs : int
        Configurations per (dataset, space).
    n_design : int, optional
        How many of them come from the shared design (default, then Sobol points) that
        every dataset of a task shares; default ``ceil(n_configs / 2)``. The rest are
        random per dataset.
    seed : int
        Seeds the design, the random part, the CV splits and the models.
    cv_folds : int
        K-fold CV (stratified for classification).
    time_limit : float or None
        Seconds per evaluation; beyond it the evaluation is recorded as ``timeout``.
    max_rows : int or None
        Datasets are subsampled (stratified) to at most this many rows.
    scoring : dict, optional
        The scikit-learn scorer name per task, default ``{"classification": "accuracy",
        "regression": "r2"}`` (higher is better).
    test_size : float, optional
        Fraction held out for ``test_score``; datasets with predefined splits use their
        first split instead.
    n_jobs : int
        Parallel workers (``-1``: all cores or all dask workers). With ``"loky"`` even 1
        is a worker process, so a configuration that kills its process is recorded as
        failed and the build goes on (not in a daemonic process, which cannot start one).
    backend : {"loky", "dask", "threading", "sequential"}
        ``"sequential"`` evaluates in this process.
    scheduler : str or distributed.Client, optional
        The dask scheduler address (``backend="dask"`` only).
    retry_failed : bool
        Re-evaluate configurations stored as ``failed``/``timeout`` (and overwrite them).
    shard : (index, count), optional
        Evaluate only this runner's share of the jobs, to split one build across
        machines writing to the same store.
    progress : bool
        Show a tqdm progress bar with ETA.

    Returns
    -------
    BuildReport

    Raises
    ------
    BuildInterrupted
        On SIGINT/SIGTERM, after the finished evaluations are stored.
    """
    n_configs, cv_folds = check_int(n_configs, "n_configs"), check_int(cv_folds, "cv_folds", 2)
    max_rows = None if max_rows is None else check_int(max_rows, "max_rows", minimum=10)
    check_n_jobs(n_jobs)
    check_seconds(time_limit, "time_limit")
    seed = check_seed(seed, "seed", "the design, the CV splits and the models", allow_none=False)
    if test_size is not None and not 0 < test_size < 1:
        raise ValueError(f"test_size must be in (0, 1), got {test_size!r}")
    if shard is not None and not (len(shard) == 2 and 0 <= shard[0] < shard[1]):
        raise ValueError(f"shard must be (index, count) with 0 <= index < count, got {shard!r}")
    n_design = (n_configs + 1) // 2 if n_design is None else n_design
    if not 0 <= n_design <= n_configs:  # before the store is made
        raise ValueError(f"n_design must be in [0, n_configs={n_configs}], got {n_design}")
    scoring = _checked_scoring(scoring)
    backend_ctx = _backend_context(backend, scheduler)
    items = _suite_items(suite)
    keys = [item.key for item in items]
    twice = repeated(keys)
    if twice:
        raise ValueError(f"datasets {twice} appear more than once: each needs a key of "
                         "its own (source/name); name in-memory data, e.g. "
                         "from_arrays(X, y, name=...)")
    _resolve_spaces(spaces, "classification")  # unknown or repeated names: before the store
    kb = store if isinstance(store, KnowledgeBase) else KnowledgeBase(store)
    _check_same_data(items, kb, max_rows)
    for space in [] if isinstance(spaces, str) else spaces:  # what training rebuilds
        if isinstance(space, SearchSpace) and _metaopt_space(space.name) is None:
            kb.add_space_description(space.to_json_dict())

    run_id = uuid.uuid4().hex[:12]
    report = BuildReport(run_id=run_id)
    done = kb.done()
    plans = []
    for item in items:
        jobs = []
        for space in _resolve_spaces(spaces, item.task):
            space_obj = resolve_space(space)
            for cfg in plan_configs(space_obj, item.task, item.key, n_configs=n_configs,
                                    n_design=n_design, seed=seed):
                if shard and stable_seed(item.key, space_obj.name, cfg.config_id) % shard[1] != shard[0]:
                    continue
                job = Job(item.key, space, item.task, cfg.config_id, cfg.design_id, cfg.params,
                          seed, cv_folds, time_limit, scoring[item.task])
                report.n_planned += 1
                status = done.get(job.key)
                if status == "ok" or (status is not None and not retry_failed):
                    report.n_already_done += 1
                else:
                    jobs.append(job)
        plans.append((item, jobs))
    _check_metafeatures_version(kb, [item.key for item, jobs in plans if jobs])

    params = {"suite": getattr(suite, "name", None), "datasets": [i.key for i in items],
              "spaces": spaces if isinstance(spaces, str) else [getattr(s, "name", s) for s in spaces],
              "n_configs": n_configs, "n_design": n_design, "seed": seed, "cv_folds": cv_folds,
              "time_limit": time_limit, "max_rows": max_rows, "scoring": scoring,
              "test_size": test_size, "n_jobs": n_jobs, "backend": backend, "shard": shard}
    _warn_other_settings(kb, params, retry_failed)
    machine = {"platform": platform.platform(), "processor": platform.processor(),
               "cpu_count": os.cpu_count(), "python": platform.python_version(),
               "pid": os.getpid()}  # a run of a process that died reads "crashed"
    started = process_start(os.getpid())
    if started is not None:  # so does one whose pid a new process took (Linux)
        machine["pid_start"] = started
    kb.start_run(run_id, {"host": socket.gethostname(), "machine": dumps(machine),
                          "params": dumps(params), "versions": dumps(library_versions())})
    start = time.perf_counter()
    stored_datasets = kb.datasets().set_index("dataset_key")
    hashes = stored_datasets["content_hash"].dropna().to_dict()
    n_pending = sum(len(jobs) for _, jobs in plans)
    status = "crashed"
    # callers_threads: evaluations on threads (backend="threading") each swap the
    # process-wide warnings filters and thread limits, in any order; the caller's are
    # restored after them
    with StopGuard() as guard, backend_ctx, callers_threads(), progress_bar(
        total=n_pending, unit="eval", desc="build-kb", disable=not progress, smoothing=0.05
    ) as bar:
        # joblib's dask backend loses auto-sized batches ("already forgotten"): one job each
        batch_size = 1 if backend == "dask" else "auto"
        runner = _Runner(kb, report, guard, bar, n_jobs, retry_failed, run_id, backend,
                         batch_size)
        try:
            for item, jobs in plans:
                if not jobs:
                    continue
                bar.set_description(f"build-kb {item.name}"[:40])
                try:
                    dataset = item.load()
                    if dataset.task == "regression" and dataset.y.nunique() < 2:
                        raise ValueError(f"the regression target is constant "
                                         f"({float(dataset.y.iloc[0])}): every configuration "
                                         "would score the same")
                    content = content_hash(dataset)  # of the data, not the subsample
                    if max_rows is not None:
                        dataset = dataset.subsample(max_rows, random_state=seed)
                except Exception as exc:  # recorded, reported, retried by the next run
                    error = f"{type(exc).__name__}: {exc}"
                    report.dataset_errors[item.key] = error
                    with guard.writing():
                        kb.add_dataset(_dataset_record(item, error=error))
                    bar.total -= len(jobs)
                    bar.refresh()
                    continue
                _warn_same_content(item.key, content, hashes)
                hashes[item.key] = content
                record = {"dataset_key": item.key, "status": "ok", "content_hash": content}
                if not _has_metafeatures(stored_datasets, item.key):
                    mf, mf_error = _metafeatures(dataset, seed)
                    record |= _dataset_record(item, dataset, mf_error, mf) | {"status": "ok"}
                with guard.writing():  # (a stored row keeps its fields: add_dataset)
                    kb.add_dataset(record)
                runner.run_chunk(jobs, dataset.X, dataset.y, _holdout(dataset, test_size, seed))
            status = "finished"
        except KeyboardInterrupt as exc:
            guard.hold()  # a second signal neither replaces this one nor skips the record
            status = "interrupted"
            report.seconds = time.perf_counter() - start
            raise BuildInterrupted(report, guard.signum or signal.SIGINT) from exc
        finally:
            guard.hold()  # (the build ends anyway: its run is recorded, its outcome kept)
            report.seconds = time.perf_counter() - start
            runner.close()
            kb.finish_run(run_id, status, report.n_new, report.seconds)
            if store is not kb:
                kb.close()
    return report

