"""Cross-validate a configuration, optionally in worker processes killed when its time is up.

Kept light on imports (scikit-learn and metaopt.spaces only): workers import this
module to unpickle the function they run.
"""

from __future__ import annotations

import contextlib
import glob
import multiprocessing
import os
import socket
import sys
import tempfile
import threading
import time
import uuid
import warnings
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_EXCEPTION, BrokenExecutor, Future, wait
from dataclasses import dataclass
from typing import Any

import joblib
import numpy as np
from joblib import Parallel, delayed
from joblib.externals.loky import ProcessPoolExecutor
from sklearn import config_context
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import check_cv, cross_validate
from sklearn.utils import _safe_indexing

from metaopt._signals import pid_alive
from metaopt._threads import thread_pools


def predictions(model, X, classes: np.ndarray | None) -> np.ndarray:
    """A fitted model's predicted values (``classes`` None) or class probabilities in
    ``classes`` order (one-hot predictions from a model without ``predict_proba``)."""
    if classes is None:
        return np.asarray(model.predict(X), dtype=float)
    out = np.zeros((X.shape[0], len(classes)))
    if hasattr(model, "predict_proba"):
        out[:, np.searchsorted(classes, model.classes_)] = model.predict_proba(X)
    else:
        out[np.arange(len(out)), np.searchsorted(classes, model.predict(X))] = 1.0
    return out


@contextlib.contextmanager
def fitting() -> Iterator[None]:
    """Where metaopt fits its pipelines: on one thread (OpenMP pools that share busy
    cores with other work wait on each other and made fits 100x slower), with
    scikit-learn's metadata routing off, which refuses the pipelines' step-prefixed fit
    parameters (``model__sample_weight``) when a user has turned it on
    (``sklearn.set_config(enable_metadata_routing=True)``), and without convergence
    warnings: a configuration that stops before converging is scored and refitted as it
    is, its iteration limit being one of the hyperparameters searched. So with a forest's
    fractional ``max_samples``, a searched value: on a small fold scikit-learn warns that
    it draws few bootstrap rows, once per fold and trial (30 times on 30 rows with
    ``LeaveOneOut``), about a setting the user never made."""
    with thread_pools().limit(limits=1), config_context(enable_metadata_routing=False), \
            warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.filterwarnings("ignore", "Using the fractional value max_samples",
                                UserWarning)
        yield


@contextlib.contextmanager
def callers_threads() -> Iterator[None]:
    """The caller's BLAS/OpenMP thread limits, torch thread count and warnings filters,
    put back at exit: evaluations on threads (joblib's ``"threading"`` backend) each set
    and restore them (:func:`fitting`, the knowledge base's evaluations), process-wide
    and in any order, and left the caller's BLAS on one thread and convergence warnings
    ignored."""
    torch = sys.modules.get("torch")
    before = None if torch is None else torch.get_num_threads()
    # restore the limits and the filters they found
    with thread_pools().limit(limits=None), warnings.catch_warnings():
        try:
            yield
        finally:
            if torch is not None:
                torch.set_num_threads(before)


def cv_score(space, params: dict, task: str, X, y, cv, scoring, fit_params: dict,
             seed: int | None, n_jobs: int | None, return_predictions: bool = False,
             fold_map: Callable[[Callable, list[tuple]], list] | None = None
             ) -> tuple[float, float, float] | tuple[float, float, float, np.ndarray | None]:
    """Mean cross-validated score (higher is better), mean fit time and mean score time
    (of a test fold) of one config.

    With ``return_predictions``, also its out-of-fold :func:`predictions`: a row's mean
    over the folds that test it (several with ``RepeatedKFold``), None when some row is
    in no test fold (``ShuffleSplit``, ``TimeSeriesSplit``). The folds run on ``n_jobs`` joblib
    workers, or through ``fold_map(fold, argument_tuples)`` when given (a
    :meth:`KillableWorker.map`). Each fold is fitted in :func:`fitting`. joblib's
    workers exit once this process is gone (:func:`exit_with`), not after their 5 idle
    minutes.
    """
    model = space.build(params, task, random_state=seed)
    classes = np.unique(y) if task == "classification" else None
    calls = [(model, X, y, train, test, scoring, fit_params, classes, return_predictions)
             for train, test in check_cv(cv, y, classifier=classes is not None).split(X, y)]
    if fold_map is None:
        folds = Parallel(n_jobs=n_jobs, initializer=exit_with, initargs=(os.getpid(),))(
            delayed(_fold)(*call) for call in calls)
    else:
        folds = fold_map(_fold, calls)
    score, fit_time, score_time = (float(mean) for mean in np.mean(
        [fold_score(fold) for fold in folds], axis=0))
    if not return_predictions:
        return score, fit_time, score_time
    tests = [call[4] for call in calls]
    times_tested = tested(tests, len(y))
    if not times_tested.all():
        return score, fit_time, score_time, None
    out = np.zeros((len(y), len(classes)) if classes is not None else len(y))
    for (*_, fold_predictions), test in zip(folds, tests, strict=True):
        out[test] += fold_predictions
    return score, fit_time, score_time, (out.T / times_tested).T


def tested(tests: list[np.ndarray], n_rows: int) -> np.ndarray:
    """How many of the test folds ``tests`` hold each of ``n_rows`` rows."""
    return np.bincount(np.concatenate(tests), minlength=n_rows)


def fold_score(fold: tuple) -> tuple:
    """A fold's test score, fit time and score time (its :func:`_fold` without the
    predictions): what a worker reports of it as soon as it is done, kept if the trial
    is then stopped (``KillableWorker.map(report=...)``)."""
    return fold[:-1]


def _fold(model, X, y, train, test, scoring, fit_params: dict, classes,
          return_predictions: bool) -> tuple[float, float, float, np.ndarray | None]:
    """One fold: test score, fit time, score time (of the test rows: their predictions
    and the scoring) and (``return_predictions``) the test rows' :func:`predictions`."""
    with fitting():
        result = cross_validate(model, X, y, cv=[(train, test)], scoring=scoring,
                                params=fit_params, error_score="raise",
                                return_estimator=return_predictions)
        predicted = predictions(result["estimator"][0], _safe_indexing(X, test), classes) \
            if return_predictions else None
    return (float(result["test_score"][0]), float(result["fit_time"][0]),
            float(result["score_time"][0]), predicted)


def daemonic() -> bool:
    """Whether this process is daemonic (a ``multiprocessing.Pool`` worker), which may
    not start processes of its own."""
    return bool(multiprocessing.current_process().daemon)


class TrialTimeout(RuntimeError):
    """An evaluation ran past its time and its worker process was killed. ``done``: what
    the calls finished before the kill reported (:meth:`KillableWorker.map`'s
    ``report``), by their place in its calls."""

    def __init__(self, message: str, done: dict[int, Any] | None = None) -> None:
        super().__init__(message)
        self.done = done or {}


def _worker_started(parent: int) -> None:
    """Initializer of the worker processes: import the model libraries, and turn off
    loky's memory-leak check. It stops a worker whose memory grew by 300 MB since its
    first call; the ``mlp`` family's first trial in a worker imports torch, which is
    more than that, so loky stopped the worker after every mlp trial (with a warning)
    and the next one imported everything again. These workers need no such check: they
    are killed at time-outs and exit after 5 idle minutes. (Importing torch up front
    instead cost every worker start 1.3 s: with ``n_jobs=2`` the four starting processes
    left a 5 s search no time for a single trial.) A private setting of loky's: a test
    fails if it goes away. ``parent``: the process that starts it (:func:`_exit_with`)."""
    import sklearn.ensemble  # noqa: F401
    from joblib.externals.loky import process_executor

    import metaopt.spaces  # noqa: F401  (the model libraries)

    process_executor._MAX_MEMORY_LEAK_SIZE = float("inf")
    exit_with(parent)


def exit_with(parent: int) -> None:
    """Initializer of a worker process: start the thread of :func:`_exit_with`."""
    threading.Thread(target=_exit_with, args=(parent,), daemon=True).start()


def _exit_with(parent: int) -> None:
    """In a worker: exit once ``parent``, the process it runs evaluations for, is gone
    (``kill -9`` runs none of its exit handlers; it may be gone before the worker has
    imported its libraries), and remove the files of the data it shared
    (:meth:`KillableWorker.share`). Orphans finished their fits, then idled for 5
    minutes, and the file stayed in the temporary directory for good."""
    while os.getppid() == parent:
        time.sleep(1.0)
    for path in glob.glob(os.path.join(tempfile.gettempdir(), _data_file(parent, "*"))):
        with contextlib.suppress(OSError):  # another worker's removed it
            os.remove(path)
    os._exit(1)


def _data_file(pid: int | str, key: str) -> str:
    """The name of a search's shared data file, or of a worker's mark of
    :meth:`KillableWorker.ready` (a glob pattern for ``"*"``): the process that wrote
    it, or that the worker runs calls for, and its host, whose process ids these are."""
    return f"metaopt-{pid}@{glob.escape(socket.gethostname())}-{key}.pkl"


def _remove_orphaned(directory: str) -> None:
    """Remove the files of shared data (:meth:`KillableWorker.share`) in ``directory``
    whose process is gone without removing them, its workers with it: loky kills a
    worker's whole process tree (a ``cross_val_score(n_jobs=2)`` whose other fit
    raised), so none of them was left to remove the file, and it stayed for good. Only
    this host's files: a temporary directory shared with other machines holds theirs."""
    for path in glob.glob(os.path.join(directory, _data_file("*", "*"))):
        pid = os.path.basename(path).removeprefix("metaopt-").partition("@")[0]
        if pid.isdigit() and not pid_alive(int(pid)):
            with contextlib.suppress(OSError):  # another process's removed it, or not ours
                os.remove(path)


_IDLE_SECONDS = 300
# how long KillableWorker.ready waits for a worker to start before it gives up on the
# workers (about 1 s, 3 s on a busy machine)
_START_SECONDS = 60.0


def _ready_mark(parent: int, key: str, worker: int | str = "*") -> str:
    """The file by which ``worker`` says it has started to the other workers of
    ``parent``'s call of :meth:`KillableWorker.ready` ``key`` (a glob pattern for
    ``"*"``); removed, if left behind, as shared data files are."""
    return os.path.join(tempfile.gettempdir(), _data_file(parent, f"{key}-{worker}"))


def _meet(parent: int, key: str, n: int) -> None:
    """In a worker: mark it started, and wait (:data:`_START_SECONDS` at most) until
    ``n`` workers have: none takes a sibling's call before the sibling has started."""
    open(_ready_mark(parent, key, os.getpid()), "w").close()
    deadline = time.monotonic() + _START_SECONDS
    while len(glob.glob(_ready_mark(parent, key))) < n and time.monotonic() < deadline:
        time.sleep(0.005)


def _started(processes: int) -> ProcessPoolExecutor:
    # an idle worker exits after _IDLE_SECONDS; the next call starts a new one. Workers
    # import the models as they start, while the caller does other work; the one job
    # that starts them leaves room in loky's call queue (``processes + 1`` jobs) for a
    # job per worker: a job still waiting for room when the executor is killed crashes
    # loky's manager thread (a KeyError on stderr)
    executor = ProcessPoolExecutor(max_workers=processes, timeout=_IDLE_SECONDS,
                                   initializer=_worker_started, initargs=(os.getpid(),))
    executor.submit(int)
    # loky registers its exit hook again at each executor's start (the registration
    # returns None, which it takes for none); it joins the executors, so it waits for a
    # busy worker (a spare importing the libraries: seconds on a loaded machine). Ours,
    # registered after it, runs first and kills the kept workers (atexit's run after)
    threading._register_atexit(_stop_idle)  # type: ignore[attr-defined]  # private: no stub
    return executor


def _stop(*executors: ProcessPoolExecutor | None) -> None:
    # wait=True: loky's manager thread kills the workers and exits before the executor
    # drops its internals (about 10 ms); with wait=False the thread could still be
    # handling a killed worker's exit and crash on them (a TypeError on stderr)
    for executor in executors:
        if executor is not None:
            executor.shutdown(wait=True, kill_workers=True)


@dataclass
class _Kept:
    """Workers kept between searches, and the calls of :meth:`KillableWorker.ready`
    still waiting for them to start (none once they have)."""

    pid: int
    processes: int
    active: ProcessPoolExecutor
    spare: ProcessPoolExecutor | None
    up: list[Future]
    up_since: float
    up_key: str

    def stop(self) -> None:
        _stop(self.active, self.spare)
        _unmark(self.up_key)


# one record kept between searches: a second fit in the same process does not wait
# seconds for workers to start and import scikit-learn
_idle: list[_Kept] = []
_idle_lock = threading.Lock()


def _stop_idle() -> None:
    with _idle_lock:
        while _idle:
            _idle.pop().stop()  # no worker outlives the interpreter


def _unmark(key: str) -> int:
    """Remove the marks of the workers' meeting ``key`` of :meth:`KillableWorker.ready`
    (none for ``""``): their number."""
    marks = glob.glob(_ready_mark(os.getpid(), key)) if key else []
    for path in marks:
        with contextlib.suppress(OSError):
            os.remove(path)
    return len(marks)


@dataclass(frozen=True)
class _Shared:
    """In a call sent to a worker, the place of an object of :meth:`KillableWorker.share`
    in its file."""

    index: int


# in a worker: the file of the objects shared by the current search, and the objects
_loaded: dict[str, tuple] = {}


def _shared(path: str) -> tuple:
    """The objects of the file ``path``, read once per worker and search (numeric arrays
    memory-mapped); the previous search's are dropped."""
    if path not in _loaded:
        _loaded.clear()
        _loaded[path] = joblib.load(path, mmap_mode="r")
    return _loaded[path]


def _each(fn: Callable[..., Any], calls: list[tuple], path: str | None = None,
          report: Callable[[Any], Any] | None = None, reports: Sequence[str] = ()) -> list:
    """``fn`` of each of ``calls``; with ``report``, ``report(result)`` of each written to
    its file of ``reports`` as soon as it is done (complete or not at all, for a kill)."""
    shared = _shared(path) if path is not None else ()
    results = []
    for i, args in enumerate(calls):
        results.append(fn(*(shared[arg.index] if isinstance(arg, _Shared) else arg
                            for arg in args)))
        if report is not None:
            part = reports[i].removesuffix(".pkl") + "-part.pkl"
            joblib.dump(report(results[-1]), part)
            os.replace(part, reports[i])
    return results


class KillableWorker:
    """``processes`` worker processes for evaluations, plus as many warm spares.

    A signal cannot stop a long call inside compiled code (an SVM or a tree fit), so
    the only reliable stop is killing the processes that run it. Starting a process and
    importing scikit-learn takes seconds, so spares are kept warm to take over at once,
    and both are kept for the next search in this process, still starting too (idle
    workers exit after 5 minutes). The parallel folds of one evaluation are calls of
    :meth:`map`, each in a worker of its own: no worker starts processes of its own,
    which a kill would leave to loky's resource tracker. A search's data goes to the
    workers once (:meth:`share`). Use as a context manager.
    """

    def __init__(self, processes: int = 1) -> None:
        self.processes = processes
        self._objects: tuple = ()  # of share(), and the file holding them (None: none)
        self._path: str | None = None

    def __enter__(self) -> KillableWorker:
        if daemonic():
            raise ValueError(
                "time_budget runs the trials in worker processes that are killed when "
                "the time is up, and this process is daemonic (a multiprocessing.Pool "
                "worker), which may not start processes: fit in a process that may "
                "(concurrent.futures.ProcessPoolExecutor, joblib), or give n_trials "
                "without time_budget")
        with _idle_lock:
            kept = _idle.pop() if _idle else None
        if kept is not None and (kept.pid, kept.processes) != (os.getpid(), self.processes):
            kept.stop()  # inherited through a fork, or of another size
            kept = None
        if kept is None:
            kept = _Kept(os.getpid(), self.processes, _started(self.processes), None, [],
                         0.0, "")
        self._active, self._spare = kept.active, kept.spare
        self._running: list[Future] = []
        # of ready(): a call for each active worker, when it sent them, and their marks;
        # a previous search's while its workers are still starting
        self._up, self._up_since, self._up_key = kept.up, kept.up_since, kept.up_key
        return self

    def __exit__(self, *exc) -> None:
        self._unshare()
        if all(future.done() for future in self._up):
            self._unmark()
            self._up = []  # the next search checks again (an idle worker exits)
        with _idle_lock:
            # idle, or still starting after a kill (the next search waits on for them:
            # new ones would start later, and on a loaded machine every search after
            # one out of time at ready() started its workers anew and ran no trial)
            keep = not _idle and all(future.done() for future in self._running)
            if keep:
                _idle.append(_Kept(os.getpid(), self.processes, self._active, self._spare,
                                   self._up, self._up_since, self._up_key))
        if not keep:
            _stop(self._active, self._spare)
            self._unmark()

    def share(self, *objects: Any) -> None:
        """Send ``objects`` (a search's X, y and fit parameters) to the workers once: in
        the calls of :meth:`map` they stand for their place in a file, written now, that
        each worker reads at its first call (a worker started after a kill too) and keeps
        until the next search's (numeric arrays memory-mapped: the workers share one copy;
        without room for the file, they go with every call). With the objects shared
        already (the same ones, not equal ones), nothing to do."""
        if len(objects) == len(self._objects) and all(
                a is b for a, b in zip(objects, self._objects, strict=True)):
            return
        self._unshare()
        _remove_orphaned(tempfile.gettempdir())
        # a new name for each: a worker knows a search's objects by their file's name
        self._path = os.path.join(tempfile.gettempdir(),
                                  _data_file(os.getpid(), uuid.uuid4().hex))
        try:
            joblib.dump(objects, self._path)
        except OSError:  # no room in the temporary directory: they go with every call
            self._unshare()
        self._objects = objects

    def _unshare(self) -> None:
        if self._path is not None:
            with contextlib.suppress(OSError):
                os.remove(self._path)
        self._objects, self._path = (), None

    def ready(self, seconds: float) -> None:
        """Wait, at most ``seconds``, until every worker has started (a process start and
        the import of the model libraries: seconds on a busy machine), so that a call's
        time counts from then: a call per worker, which meet (:func:`_meet`; a single
        worker's is ``int()``). A :class:`RuntimeError` when a worker has not started
        :data:`_START_SECONDS` after the first call: the workers are then killed, and the
        spares take over."""
        if not self._up:
            self._up_since = time.monotonic()
            if self.processes == 1:
                self._up = self._submit([(int,)])
            else:
                key = f"up{uuid.uuid4().hex}"
                self._up = self._submit([(_meet, os.getpid(), key, self.processes)]
                                        * self.processes)
                self._up_key = key
        limit = _START_SECONDS - (time.monotonic() - self._up_since)
        _, pending = wait(self._up, timeout=max(min(seconds, limit), 0.0))
        if pending and seconds < limit:
            return  # out of time: the workers may still meet
        started = self._unmark()
        if pending:
            self._replace_active()
            raise RuntimeError(
                f"{started} of the {self.processes} worker processes had started after "
                f"{_START_SECONDS:.0f} s (a start and the import of scikit-learn take "
                "about 3 s, longer on an overloaded machine): they were stopped, and the "
                "spare workers take over")

    def _unmark(self) -> int:
        """Remove the marks of the workers' meeting in :meth:`ready`, if any (after it
        returned out of time, once the workers are stopped or have met): their number."""
        key, self._up_key = self._up_key, ""  # removed once
        return _unmark(key)

    def call(self, fn: Callable[..., Any], *args: Any, seconds: float) -> Any:
        """``fn(*args)`` in a worker; :class:`TrialTimeout` after ``seconds``."""
        return self.map(fn, [args], seconds=seconds)[0]

    def map(self, fn: Callable[..., Any], calls: list[tuple], *, seconds: float,
            report: Callable[[Any], Any] | None = None) -> list:
        """``[fn(*args) for args in calls]``, dealt round-robin to the workers (one
        submission each: a call queued behind another when the workers are killed made
        loky's manager thread crash); :class:`TrialTimeout` when they are not all done
        after ``seconds`` (every worker is then killed), its ``done`` holding
        ``report(result)`` of each call finished by then (a worker writes it to a file of
        the temporary directory as the call ends). A call's exception is raised once the
        other workers are done or killed."""
        if self._path is not None:
            places = {id(obj): _Shared(i) for i, obj in enumerate(self._objects)}
            calls = [tuple(places.get(id(arg), arg) for arg in args) for args in calls]
        key = f"done{uuid.uuid4().hex}"
        reports = [os.path.join(tempfile.gettempdir(), _data_file(os.getpid(), f"{key}-{i}"))
                   for i in range(len(calls))]
        n = min(self.processes, len(calls))
        try:
            self._running = self._submit([(_each, fn, calls[i::n], self._path, report,
                                           reports[i::n]) for i in range(n)])
            if self._spare is None:  # warms up during the first evaluation, not before it
                self._spare = _started(self.processes)
            done, pending = wait(self._running, timeout=max(seconds, 0.0),
                                 return_when=FIRST_EXCEPTION)
            error = next((future.exception() for future in done if future.exception()),
                         None)
            # calls still running are killed; so are workers after one died (e.g. out of
            # memory): the spares take over
            if pending or isinstance(error, BrokenExecutor):
                self._replace_active()
            if error is not None:
                raise error
            if pending:
                raise TrialTimeout(f"evaluation stopped after {seconds:.1f} s (time budget)",
                                   {i: joblib.load(path) for i, path in enumerate(reports)
                                    if os.path.exists(path)})
        finally:
            for path in glob.glob(os.path.join(tempfile.gettempdir(), _data_file(
                    os.getpid(), f"{key}-*"))) if report is not None else ():
                with contextlib.suppress(OSError):
                    os.remove(path)
        results: list = [None] * len(calls)
        for i, future in enumerate(self._running):
            results[i::n] = future.result()
        return results

    def _submit(self, calls: list[tuple]) -> list[Future]:
        """``calls`` (a function and its arguments each) submitted to the active workers.
        When one of them died between calls (the system's out-of-memory killer picks the
        largest process, a worker holding a search's data), their executor refuses every
        call: the spares take over first. Every later trial, and every later search in
        the process, failed with loky's TerminatedWorkerError."""
        try:
            return [self._active.submit(*call) for call in calls]
        except BrokenExecutor:
            self._replace_active()
            return [self._active.submit(*call) for call in calls]

    def _replace_active(self) -> None:
        """The spare takes over from the killed workers; the next :meth:`map` starts a
        new spare. Started here, it imported scikit-learn beside whatever came next: after
        the last trial of a time-budgeted search, the refit on the main process (on 2
        cores, a 0.65 s refit took 1.1 s and the fit overran its budget)."""
        _stop(self._active)
        self._unmark()
        self._running, self._up = [], []
        self._active, self._spare = self._spare or _started(self.processes), None
