"""One evaluation, run inside a worker: cross-validate a configuration under a time limit."""

from __future__ import annotations

import functools
import importlib.metadata
import platform
import signal
import sys
import threading
import time
import traceback
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from joblib import parallel_config
from sklearn.metrics import get_scorer
from sklearn.model_selection import KFold, StratifiedKFold

from metaopt._threads import thread_pools

DEFAULT_SCORING = {"classification": "accuracy", "regression": "r2"}
_VERSIONED = ("metaopt", "scikit-learn", "numpy", "pandas", "scipy", "optuna", "joblib")
_ERROR_CHARS = 2000


class EvaluationTimeout(BaseException):
    """Raised inside a worker when an evaluation exceeds its time limit.

    A ``BaseException`` so that ``except Exception`` blocks inside estimators cannot
    swallow it.
    """


@functools.cache
def library_versions() -> dict[str, str]:
    """Versions of Python and the libraries an evaluation depends on."""
    versions = {"python": platform.python_version()}
    for name in _VERSIONED:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return versions


@dataclass(frozen=True)
class Job:
    """Everything a worker needs to evaluate one configuration on one dataset."""

    dataset_key: str
    space: Any  # a registered space name, or a space object
    task: str
    config_id: str
    design_id: str | None
    params: dict[str, Any]
    seed: int
    cv_folds: int
    time_limit: float | None
    scoring: str

    @property
    def key(self) -> tuple[str, str, str, int]:
        return (self.dataset_key, _space_name(self.space), self.config_id, self.seed)


def _space_name(space: Any) -> str:
    return space if isinstance(space, str) else space.name


def resolve_space(space: Any):
    """A space object from a registered name (or the object itself)."""
    if isinstance(space, str):
        from metaopt.spaces import get_space

        return get_space(space)
    return space


@contextmanager
def _single_threaded() -> Iterator[Callable[[], None]]:
    """One BLAS/OpenMP/torch thread and sequential joblib per evaluation: parallelism is
    across jobs.

    Oversubscribed thread pools made models 5-10x slower when evaluations share the
    cores, and a model's own joblib calls (ColumnTransformer, forests) must not be sent
    back to the runner's backend (under dask they were lost: "already forgotten").
    torch is limited now if loaded, else by the function this yields once a model has
    imported it (threadpoolctl knows only the libraries loaded before), and its setting
    is restored at exit either way (a sequential build whose mlp model imports torch
    leaves the caller's torch with its own thread count).
    """
    before: list[int] = []  # torch's thread count before the limit

    def limit_torch() -> None:
        torch = sys.modules.get("torch")
        if torch is not None and not before:
            before.append(torch.get_num_threads())
            torch.set_num_threads(1)

    limit_torch()
    try:
        with thread_pools().limit(limits=1), parallel_config(backend="sequential"):
            yield limit_torch
    finally:
        if before:
            sys.modules["torch"].set_num_threads(before[0])


@contextmanager
def _time_limit(seconds: float | None) -> Iterator[None]:
    """Raise :class:`EvaluationTimeout` after ``seconds`` via SIGALRM when possible.

    SIGALRM needs the main thread of a POSIX process (loky workers and sequential runs);
    elsewhere (dask threads) the caller's checks between folds enforce the limit. A
    signal cannot interrupt a long call in C, so the timeout fires when it returns.
    A timer of the caller's (``signal.alarm``, ``setitimer``: a watchdog,
    pytest-timeout) is put back with the time it had left; one due during the
    evaluation fires as it ends.
    """
    if (seconds is None or not hasattr(signal, "setitimer")
            or threading.current_thread() is not threading.main_thread()):
        yield
        return

    def _raise(signum, frame):
        raise EvaluationTimeout

    previous = signal.signal(signal.SIGALRM, _raise)
    start = time.monotonic()
    callers = signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        _resume_timer(callers, time.monotonic() - start)


def _resume_timer(timer: tuple[float, float], elapsed: float) -> None:
    """Set the real-time timer ``timer`` (``(delay, interval)`` as ``setitimer`` returns
    it; delay 0: none) again, ``elapsed`` seconds later: at once if it is overdue."""
    delay, interval = timer
    if delay > 0:
        signal.setitimer(signal.ITIMER_REAL, max(delay - elapsed, 1e-6), interval)


def _splitter(task: str, n_splits: int, seed: int):
    cls = StratifiedKFold if task == "classification" else KFold
    return cls(n_splits=n_splits, shuffle=True, random_state=seed)


def evaluate(
    job: Job,
    X: pd.DataFrame,
    y: pd.Series,
    holdout: tuple[np.ndarray, np.ndarray] | None = None,
) -> dict[str, Any]:
    """Cross-validate ``job`` on ``(X, y)``; never raises for a failing configuration.

    Parameters
    ----------
    job : Job
    X, y : validated features and target.
    holdout : (train_idx, test_idx) or None
        When given, CV runs on the train part and a refit on it is scored on the test
        part (``test_score``).

    Returns
    -------
    dict
        An evaluation record: ``status`` is ``"ok"``, ``"failed"`` (exception in
        build/fit/score, with the traceback tail in ``error``) or ``"timeout"``.
    """
    start = time.perf_counter()
    record: dict[str, Any] = {
        "dataset_key": job.dataset_key, "space": _space_name(job.space),
        "config_id": job.config_id, "seed": job.seed, "design_id": job.design_id,
        "config": job.params, "task": job.task, "metric": job.scoring, "origin": "metaopt",
        "versions": library_versions(),
    }
    fold_scores: list[float] = []
    fit_times: list[float] = []
    test_score = None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            # before the clock: a fresh worker's first evaluation loads the modules of the
            # space, the scorer and the model (0.35 s on an idle machine), no time of the
            # configuration's; a time limit that fired in an import was a 'failed' one
            space = resolve_space(job.space)
            scorer = get_scorer(job.scoring)
            space.build(job.params, job.task, random_state=job.seed)
        deadline = None if job.time_limit is None else time.perf_counter() + job.time_limit
        with _time_limit(job.time_limit), _single_threaded() as limit_torch, \
                warnings.catch_warnings():
            warnings.simplefilter("ignore")
            train_idx = np.arange(len(y)) if holdout is None else holdout[0]
            X_cv, y_cv = X.iloc[train_idx], y.iloc[train_idx]
            for tr, te in _splitter(job.task, job.cv_folds, job.seed).split(X_cv, y_cv):
                model = space.build(job.params, job.task, random_state=job.seed)
                limit_torch()  # a model of the mlp space imports torch
                t0 = time.perf_counter()
                model.fit(X_cv.iloc[tr], y_cv.iloc[tr])
                fit_times.append(time.perf_counter() - t0)
                fold_scores.append(float(scorer(model, X_cv.iloc[te], y_cv.iloc[te])))
                if deadline is not None and time.perf_counter() > deadline:
                    raise EvaluationTimeout
            if holdout is not None:
                model = space.build(job.params, job.task, random_state=job.seed)
                model.fit(X_cv, y_cv)
                test_score = float(scorer(model, X.iloc[holdout[1]], y.iloc[holdout[1]]))
        if not np.all(np.isfinite(fold_scores)):
            raise ValueError(f"non-finite CV score(s) {fold_scores}")
        record.update(status="ok", cv_score=float(np.mean(fold_scores)),
                      cv_score_std=float(np.std(fold_scores)), test_score=test_score)
    except EvaluationTimeout:
        record.update(status="timeout", error=(
            f"exceeded the time limit of {job.time_limit:g} s after "
            f"{len(fold_scores)}/{job.cv_folds} folds"
        ))
    except Exception:  # a failing configuration is data, never fatal
        record.update(status="failed", error=traceback.format_exc()[-_ERROR_CHARS:])
    record.update(
        fit_time=float(np.mean(fit_times)) if fit_times else None,
        eval_time=time.perf_counter() - start,
        extra={"fold_scores": fold_scores, "n_rows": len(y)},
    )
    return record
