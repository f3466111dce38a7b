"""A search's Optuna study: its storage and heartbeats, dead processes' trials, copies
of its sampler, and readers of its trials' records."""

from __future__ import annotations

import copy
import datetime
import os
import socket
import threading
import warnings
from typing import Any

import numpy as np
import optuna
import sqlalchemy
from optuna.trial import TrialState

from metaopt._signals import pid_alive
from metaopt.kb._store import in_memory
from metaopt.samplers._meta_sampler import _INTERRUPTED

# user attribute of a trial stopped by the time budget after some of its folds: their
# "scores", mean "fit_time" and "score_time" and the trial's number of "folds"
_PARTIAL = "partial"
_FOLD_SCORES = "fold_scores"  # a complete trial's score on each fold (time budget only)
_NO_TIME = "time budget spent"  # why a trial that the budget left no time to start stopped
# A stored search's trials beat every _HEARTBEAT_SECONDS; a trial silent for
# _GRACE_SECONDS belonged to a dead process (on another host: this host's dead ones are
# found at once by their process id), so it fails, and a search runs it again. A process
# paused for longer (Ctrl-Z, a laptop asleep) finds its trial failed and stops.
_HEARTBEAT_SECONDS = 10
_GRACE_SECONDS = 120
_PROCESS = "metaopt:process"  # trial system attribute: "host:pid" of the process running it


def _resumable(url: Any) -> Any:
    """The storage at URL ``url`` with heartbeats: a search on it fails a trial whose
    process (on another host) has been silent for ``_GRACE_SECONDS`` and runs it again
    (:func:`_retry`). None, in-memory SQLite (one process; a heartbeat thread would get
    a database of its own) and storage objects (the caller's own settings) are returned
    as they are."""
    if not isinstance(url, str) or in_memory(sqlalchemy.engine.make_url(url)):
        return url
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        return optuna.storages.RDBStorage(
            url, heartbeat_interval=_HEARTBEAT_SECONDS, grace_period=_GRACE_SECONDS,
            heartbeat_stale_trial_callback=_retry())


def _retry() -> optuna.storages.RetryHeartbeatStaleTrialCallback:
    """Optuna's callback that runs a dead process's trial again, once (twice dead, the
    configuration may be what kills it)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        return optuna.storages.RetryHeartbeatStaleTrialCallback(max_retry=1)


def _this_process() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _fail_dead_trials(study: optuna.Study) -> None:
    """Fail the running trials of this host's processes that are gone (a fit killed or
    crashed) and run each again, once, as the heartbeat does for other hosts' after its
    grace period: a search resumed at once runs them. POSIX only (elsewhere the heartbeat
    alone): a trial of a live process or of another host is left alone. So is one that
    names no process, for ``_GRACE_SECONDS``: its process was killed while the sampler
    proposed (after Optuna created the trial, before the objective named the process and
    the heartbeat began), and the trial stayed running for good, Optuna's heartbeat
    failing only trials that have beaten."""
    host = socket.gethostname()
    orphaned = datetime.datetime.now() - datetime.timedelta(seconds=_GRACE_SECONDS)
    for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        if _PROCESS not in trial.system_attrs:
            if trial.datetime_start is None or trial.datetime_start > orphaned:
                continue
        else:
            owner_host, _, pid = str(trial.system_attrs[_PROCESS]).rpartition(":")
            if (os.name != "posix" or owner_host != host or not pid.isdigit()
                    or pid_alive(int(pid))):
                continue
        try:
            if study._storage.set_trial_state_values(trial._trial_id, TrialState.FAIL):
                _retry()(study, study._storage.get_trial(trial._trial_id))
        except optuna.exceptions.UpdateFinishedTrialError:
            pass  # another process failed it first (and retried it)


_LOCKS = {type(threading.Lock()): threading.Lock, type(threading.RLock()): threading.RLock}


def _fresh_locks(sampler: optuna.samplers.BaseSampler, memo: dict[int, Any]) -> dict[int, Any]:
    """``memo`` for ``copy.deepcopy`` giving the copy a new lock for each thread lock of
    ``sampler`` and of the samplers it holds (Optuna's ``NSGAIISampler`` and
    ``NSGAIIISampler`` hold one, as a ``MetaSampler``'s fallback too; a lock cannot be
    copied)."""
    for value in getattr(sampler, "__dict__", {}).values():
        if type(value) in _LOCKS:
            memo[id(value)] = _LOCKS[type(value)]()
        elif isinstance(value, optuna.samplers.BaseSampler):
            _fresh_locks(value, memo)
    return memo


def _copy_of(sampler: optuna.samplers.BaseSampler) -> optuna.samplers.BaseSampler:
    """A deep copy of ``sampler`` (with locks of its own), where each fit starts (so two
    fits search alike); a ValueError saying so when it cannot be copied (pickle's "cannot
    pickle '_io.TextIOWrapper' object" named neither)."""
    try:
        return copy.deepcopy(sampler, _fresh_locks(sampler, {}))
    except Exception as exc:  # TypeError, PicklingError: what copying an object raises
        raise ValueError(f"sampler={type(sampler).__name__} cannot be copied ({exc}), and "
                         "each fit starts from a copy of it, so that fits with the same "
                         "sampler search alike: pass another sampler (TPESampler, "
                         "RandomSampler, CmaEsSampler, GPSampler, ...)") from exc


def _best_value(study: optuna.Study) -> float:
    try:
        return study.best_value
    except ValueError:  # no complete trial yet
        return -np.inf


def _partial_score(trial: optuna.trial.FrozenTrial) -> float:
    """The mean score of the folds a stopped trial finished (NaN: none, or one is NaN)."""
    if _PARTIAL not in trial.user_attrs:
        return np.nan
    return float(np.mean(trial.user_attrs[_PARTIAL]["scores"]))


def _fold_time(trial: optuna.trial.FrozenTrial, kind: str) -> float | None:
    """A trial's mean fold ``kind`` (``"fit_time"``, ``"score_time"``): of all its folds,
    or of those a stopped trial finished; None when it has none (a trial stored by an
    older metaopt, which kept no score time)."""
    return trial.user_attrs.get(kind, trial.user_attrs.get(_PARTIAL, {}).get(kind))


def _fit_time(trial: optuna.trial.FrozenTrial) -> float | None:
    """A trial's mean fold fit time (:func:`_fold_time`)."""
    return _fold_time(trial, "fit_time")


def _score_time(trial: optuna.trial.FrozenTrial) -> float:
    """A trial's mean score time of a test fold (:func:`_fold_time`), 0 where not kept."""
    return _fold_time(trial, "score_time") or 0.0


def _timed(study: optuna.Study) -> list[optuna.trial.FrozenTrial]:
    """The trials whose fold times are known: those that finished their folds, or while
    none has, the stopped trials that finished some."""
    trials = study.get_trials(deepcopy=False)
    return ([t for t in trials if "fit_time" in t.user_attrs]
            or [t for t in trials if _PARTIAL in t.user_attrs])


def _mean_times(folds) -> dict[str, float]:
    """The mean ``"fit_time"`` and ``"score_time"`` of the folds a worker reported
    (:func:`~metaopt._isolated.fold_score`: a score, then these times)."""
    means = np.mean([fold[1:] for fold in folds], axis=0)
    return {kind: float(mean) for kind, mean in zip(("fit_time", "score_time"), means,
                                                     strict=True)}


def _best_partial(study: optuna.Study) -> optuna.trial.FrozenTrial | None:
    """Of the trials stopped by the time budget after some folds, the one with the most
    finished folds (of those, the best mean score); None when none finished a fold."""
    stopped = [t for t in study.get_trials(deepcopy=False, states=(TrialState.PRUNED,))
               if np.isfinite(_partial_score(t))]
    return max(stopped, key=lambda t: (len(t.user_attrs[_PARTIAL]["scores"]),
                                       _partial_score(t), -t.number), default=None)


def _stopped_better(study: optuna.Study, best: optuna.trial.FrozenTrial
                    ) -> tuple[optuna.trial.FrozenTrial, float, float, int] | None:
    """Of the trials stopped by the time budget whose mean on the folds they finished
    beats the complete trial ``best``'s on the same folds: the one with the most folds
    (of those, the widest lead), its mean, ``best``'s and how many such trials there are.
    None when there is none, or nothing to set side by side: ``best``'s fold scores are
    kept with a time budget only, and a stopped trial without fold indices (stored by an
    earlier metaopt) is left out."""
    per_fold = best.user_attrs.get(_FOLD_SCORES)
    if not per_fold:
        return None
    beaten = []
    for trial in study.get_trials(deepcopy=False, states=(TrialState.PRUNED,)):
        partial = trial.user_attrs.get(_PARTIAL, {})
        indices = partial.get("fold_indices")
        if not indices or partial.get("folds") != len(per_fold):
            continue
        theirs = float(np.mean(partial["scores"]))
        ours = float(np.mean([per_fold[i] for i in indices]))
        if theirs > ours:
            beaten.append((trial, theirs, ours))
    if not beaten:
        return None
    trial, theirs, ours = max(beaten, key=lambda b: (len(b[0].user_attrs[_PARTIAL]["scores"]),
                                                    b[1] - b[2], -b[0].number))
    return trial, theirs, ours, len(beaten)


def _interruptions(study: optuna.Study) -> dict[int, str]:
    """Trial number -> what stopped it from outside (``mark_interrupted``'s reason: the
    time budget before it started, Ctrl-C); a retried trial's copy of the mark, which
    names the original trial, is not its own."""
    marks = ((t.number, t.system_attrs.get(_INTERRUPTED)) for t in study.get_trials(deepcopy=False))
    return {n: mark["reason"] for n, mark in marks
            if isinstance(mark, dict) and mark.get("trial") == n}
