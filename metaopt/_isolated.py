"""Cross-validate a configuration, optionally in a worker process killed when its time is up.

Kept light on imports (scikit-learn and metaopt.spaces only): workers import this
module to unpickle the function they run.
"""

from __future__ import annotations

import atexit
import os
import threading
import warnings
from collections.abc import Callable
from concurrent.futures import BrokenExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

import numpy as np
from joblib.externals.loky import ProcessPoolExecutor
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import cross_validate
from sklearn.utils import _safe_indexing
from threadpoolctl import threadpool_limits


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


def cv_score(space, params: dict, task: str, X, y, cv, scoring, fit_params: dict,
             seed: int | None, n_jobs: int | None, return_predictions: bool = False
             ) -> tuple[float, float] | tuple[float, float, np.ndarray | None]:
    """Mean cross-validated score (higher is better) and mean fit time of one config.

    With ``return_predictions``, also its out-of-fold :func:`predictions` (None when the
    splits do not predict every row exactly once).
    Each fit uses one thread (``n_jobs`` runs folds in parallel): OpenMP pools that
    share busy cores with other work wait on each other and made fits 100x slower.
    A configuration that stops before converging is scored as it is, silently: its
    iteration limit is one of the hyperparameters searched.
    """
    model = space.build(params, task, random_state=seed)
    with threadpool_limits(limits=1), warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        result = cross_validate(model, X, y, cv=cv, scoring=scoring, params=fit_params,
                                n_jobs=n_jobs, error_score="raise",
                                return_estimator=return_predictions,
                                return_indices=return_predictions)
        score = float(np.mean(result["test_score"]))
        fit_time = float(np.mean(result["fit_time"]))
        if not return_predictions:
            return score, fit_time
        tests = result["indices"]["test"]
        if not np.array_equal(np.sort(np.concatenate(tests)), np.arange(len(y))):
            return score, fit_time, None
        classes = np.unique(y) if task == "classification" else None
        out = np.zeros((len(y), len(classes)) if classes is not None else len(y))
        for fitted, test in zip(result["estimator"], tests, strict=True):
            out[test] = predictions(fitted, _safe_indexing(X, test), classes)
    return score, fit_time, out


class TrialTimeout(RuntimeError):
    """An evaluation ran past its time and its worker process was killed."""


def _import_models() -> None:
    import sklearn.ensemble  # noqa: F401

    import metaopt.spaces  # noqa: F401  (the model libraries)


_IDLE_SECONDS = 300


def _started() -> ProcessPoolExecutor:
    # an idle worker exits after _IDLE_SECONDS; the next call starts a new one
    executor = ProcessPoolExecutor(max_workers=1, timeout=_IDLE_SECONDS)
    executor.submit(_import_models)  # warm up while the caller does other work
    return executor


def _stop(*executors: ProcessPoolExecutor | None) -> None:
    # wait=True: loky's manager thread kills the worker and exits before the executor
    # drops its internals (about 10 ms); with wait=False the thread could still be
    # handling the killed worker's exit and crash on them (a TypeError on stderr)
    for executor in executors:
        if executor is not None:
            executor.shutdown(wait=True, kill_workers=True)


# one idle (pid, active, spare) triple kept between searches: a second fit in the same
# process does not wait seconds for a worker to start and import scikit-learn
_idle: list[tuple[int, ProcessPoolExecutor, ProcessPoolExecutor | None]] = []
_idle_lock = threading.Lock()


@atexit.register
def _stop_idle() -> None:
    with _idle_lock:
        while _idle:
            _stop(*_idle.pop()[1:])  # no worker outlives the interpreter


class KillableWorker:
    """One worker process for evaluations, plus a warm spare.

    A signal cannot stop a long call inside compiled code (an SVM or a tree fit), so
    the only reliable stop is killing the process that runs it. Starting a process and
    importing scikit-learn takes seconds, so a spare is kept warm to take over at once,
    and both are kept for the next search in this process (idle workers exit after
    5 minutes). Use as a context manager.
    """

    def __enter__(self) -> KillableWorker:
        with _idle_lock:
            reused = _idle.pop() if _idle else None
        if reused is not None and reused[0] != os.getpid():  # inherited through a fork
            reused = None
        self._active, self._spare = reused[1:] if reused else (_started(), None)
        self._running = None
        return self

    def __exit__(self, *exc) -> None:
        if self._running is None or self._running.done():  # idle: keep it for the next search
            with _idle_lock:
                if not _idle:
                    _idle.append((os.getpid(), self._active, self._spare))
                    return
        _stop(self._active, self._spare)

    def call(self, fn: Callable[..., Any], *args: Any, seconds: float) -> Any:
        """``fn(*args)`` in the worker; :class:`TrialTimeout` after ``seconds``."""
        try:
            future = self._running = self._active.submit(fn, *args)
            if self._spare is None:  # warms up during the first evaluation, not before it
                self._spare = _started()
            return future.result(timeout=max(seconds, 0.0))
        except FutureTimeout:
            self._replace_active()
            raise TrialTimeout(f"evaluation stopped after {seconds:.1f} s (time budget)") from None
        except BrokenExecutor:  # the worker died (e.g. out of memory): the spare takes over
            self._replace_active()
            raise

    def _replace_active(self) -> None:
        _stop(self._active)
        self._running = None
        self._active, self._spare = self._spare or _started(), _started()
