"""summary()'s text (outcomes, scores, wrapped columns) and what a search shows as it
runs: its progress bar and Optuna's log."""

from __future__ import annotations

import logging
import re
import textwrap
import threading
import time
import warnings
from collections.abc import Iterator
from concurrent.futures import BrokenExecutor
from contextlib import contextmanager

import numpy as np
import optuna
import pandas as pd

from metaopt._shared import optuna_verbosity
from metaopt.estimators._families import _member
from metaopt.estimators._study import _NO_TIME, _PARTIAL, _best_value, _stopped_better
from metaopt.spaces import SearchSpace

_ERROR_SHOWN = 100  # characters of a trial's error summary() shows
_WIDTH = 100  # summary()'s lines wrap beyond this many characters
_TICK_SECONDS = 0.5  # the progress bar's seconds move this often while a trial runs


def _error_text(exc: Exception) -> str:
    """Why a trial failed, in a line: loky's words for a worker process that died
    (three sentences on segmentation faults and memory) said in a few."""
    if isinstance(exc, BrokenExecutor):
        return (f"{type(exc).__name__}: the worker process running its folds died (killed "
                "by the system, e.g. out of memory, or crashed)")
    return f"{type(exc).__name__}: {exc}"


def _score_text(score: float) -> str:
    """A score to 4 decimals, or to 4 significant digits where decimals show none of it
    (an MSE of 1e-7 read -0.0000) or too many (a percentage error of 1e15)."""
    return f"{score:.4f}" if score == 0 or 1e-3 <= abs(score) < 1e6 else f"{score:.4g}"


def _outcome(state: str, score: float | None, interrupted: str | None = None,
             error: str | None = None, partial: dict | None = None) -> str:
    """A trial's score, or what became of it when it has none: not run (the time budget
    was spent before it started: ``interrupted`` is ``_NO_TIME``), interrupted (Ctrl-C),
    stopped (it ran past the time it got; with ``partial``, after some of its folds),
    failed (with the start of its ``error``)."""
    if score is not None and not pd.isna(score):
        return f"score {_score_text(score)}"
    if interrupted == _NO_TIME:
        return "not run: the time budget was spent before it started"
    if interrupted is not None:
        return f"interrupted ({interrupted}) before it finished"
    if state == "PRUNED" and partial:
        return (f"stopped: out of time after {len(partial['scores'])} of {partial['folds']} "
                f"folds (their mean score {_score_text(float(np.mean(partial['scores'])))})")
    if state == "FAIL" and error:
        return "failed: " + (error if len(error) <= _ERROR_SHOWN else
                             error[:_ERROR_SHOWN - 3].rstrip() + "...")
    return {"PRUNED": "stopped: out of time", "FAIL": "failed"}.get(state, state.lower())


def _columns(rows: list[tuple[str, str, str, str]]) -> list[str]:
    """summary()'s warm-start rows (trial, family, outcome, reason) in aligned columns,
    each line within ``_WIDTH`` characters: a trial a line when every reason fits beside
    its outcome, else each reason on the lines under its family (wrapped there); an
    outcome too long for a line wraps under itself."""
    if not rows:
        return []
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    heads = [f"  {t:<{widths[0]}} {family:<{widths[1]}}  " for t, family, _, _ in rows]
    family_at, outcome_at = 3 + widths[0], len(heads[0])
    reason_at = outcome_at + widths[2] + 2
    beside = all(reason_at + len(reason) <= _WIDTH for *_, reason in rows)
    lines = []
    for head, (_, _, outcome, reason) in zip(heads, rows, strict=True):
        if beside:  # reasons in a column of their own
            lines.append(f"{head}{outcome:<{widths[2]}}  {reason}".rstrip())
        else:  # the outcome's line, then the reason under it
            lines += _wrap_units(outcome, initial_indent=head,
                                 subsequent_indent=" " * outcome_at)
            lines += _wrap_units(reason, initial_indent=" " * family_at,
                                 subsequent_indent=" " * family_at)
    return lines


# a number and the unit after it ("0.9 s", "12 %", "3.5 MB"): summary() keeps them on
# one line
_NUMBER_UNIT = re.compile(r"(?<![\w.])(-?\d(?:[\d,.]*\d)?) (?=(?:s|ms|min|h|%|[kMG]?B)(?!\w))")
_KEEP = "\N{NO-BREAK SPACE}"


def _wrap_units(text: str, initial_indent: str, subsequent_indent: str,
                keep_words: bool = False) -> list[str]:
    """``text`` wrapped within ``_WIDTH`` characters, never between a number and its
    unit (the space between them is held by a no-break space while wrapping);
    ``keep_words``: nor within a word or at its hyphens."""
    return [line.replace(_KEEP, " ") for line in textwrap.wrap(
        _NUMBER_UNIT.sub(rf"\1{_KEEP}", text), _WIDTH, initial_indent=initial_indent,
        subsequent_indent=subsequent_indent, break_long_words=not keep_words,
        break_on_hyphens=not keep_words)]


def _item(label: str, text: str) -> list[str]:
    """A line of summary()'s head, ``label`` then ``text``, wrapped within ``_WIDTH``
    characters, its later lines indented under its text so that it reads as one item
    (words are not broken: a name or a number stays whole, and beside its unit)."""
    return _wrap_units(label + text, "", " " * len(label), keep_words=True)


def _family_lines(history: pd.DataFrame, partials: dict[int, dict]) -> list[str]:
    """summary()'s best score per family: of its complete trials, or of a family with
    none, of its stopped trials' finished folds (the trial with the most, as
    :func:`~metaopt.estimators._study._best_partial` chooses), marked "on k of n folds"."""
    lines = []
    for family, trials in history.groupby("family"):
        done = trials[trials["state"] == "COMPLETE"]
        if len(done):
            n = len(done)
            lines.append(f"  {family:<24} {_score_text(done['score'].max())} "
                         f"({n} trial{'s' * (n != 1)})")
            continue
        stopped = [partials[t] for t in trials["trial"] if t in partials
                   and np.isfinite(np.mean(partials[t]["scores"]))]
        if stopped:
            n, top = len(stopped), max(stopped, key=lambda p: (len(p["scores"]),
                                                                np.mean(p["scores"])))
            lines.append(f"  {family:<24} {_score_text(float(np.mean(top['scores'])))} on "
                         f"{len(top['scores'])} of {top['folds']} folds ({n} stopped trial"
                         f"{'s' * (n != 1)}, none complete)")
    return lines


def _stopped_better_text(study: optuna.Study, best: optuna.trial.FrozenTrial,
                         space: SearchSpace, time_budget: float | None) -> str | None:
    """The stopped trial of :func:`~metaopt.estimators._study._stopped_better` against
    ``best`` in words, for ``fit``'s warning and ``summary()``; None when there is none."""
    better = _stopped_better(study, best)
    if better is None:
        return None
    trial, theirs, ours, n_better = better
    partial, others = trial.user_attrs[_PARTIAL], n_better - 1
    return (f"trial {trial.number} ({_member(space, trial.params)[0].name}), stopped by "
            f"time_budget={time_budget} s after {len(partial['scores'])} of {partial['folds']}"
            f" CV folds, scored {_score_text(theirs)} on them against {_score_text(ours)} on "
            f"the same folds for the chosen trial {best.number} "
            f"({_member(space, best.params)[0].name})"
            + (f" ({others} other stopped trial{'s' * (others != 1)} also did better on "
               "their folds)" if others else ""))


def _seconds(value: float) -> str:
    """Seconds as a progress bar shows them: one decimal, none when whole (``30``, ``7.5``)."""
    return f"{value:.1f}".removesuffix(".0")


class _Progress:
    """The search's progress bar (``verbose >= 1``), an Optuna callback updated after
    each trial, as Optuna's own bar. With ``n_trials``, trials done of them; with a
    ``time_budget`` too, seconds since ``fit`` started of the budget after them
    (``12.3/30 s``); with a ``time_budget`` alone, the bar is those seconds.
    Optuna's log (tracebacks, ``verbose=2``'s trials) is written above the bar. With a
    ``time_budget`` the seconds also move while a trial runs (every ``_TICK_SECONDS``,
    from a thread of the bar's own)."""

    def __init__(self, n_trials: int | None, budget: float | None, start: float) -> None:
        from tqdm.contrib.logging import logging_redirect_tqdm

        from metaopt._progress import progress_bar

        self._budget, self._start = budget, start
        if n_trials is None:
            assert budget is not None  # fit refuses neither n_trials nor time_budget
            self._bar = progress_bar(total=budget, initial=self._elapsed(), bar_format=(
                "{desc}{percentage:3.0f}%|{bar}| {n:.1f}/" + _seconds(budget) + " s"))
        else:
            self._bar = progress_bar(total=n_trials, unit="trial")
            self._show_time()
        self._log = logging_redirect_tqdm(loggers=[logging.getLogger("optuna")])
        self._log.__enter__()
        self._lock, self._closed = threading.Lock(), threading.Event()
        if budget is not None:
            threading.Thread(target=self._tick, name="metaopt-progress", daemon=True).start()

    def _tick(self) -> None:
        # a bar written to a log is redrawn at its slower pace (mininterval)
        while not self._closed.wait(max(_TICK_SECONDS, self._bar.mininterval)):
            with self._lock:
                if not self._closed.is_set():
                    self._move_time()
                    self._bar.refresh()

    def _elapsed(self) -> float:
        assert self._budget is not None  # seconds are shown with a time_budget only
        return min(time.perf_counter() - self._start, self._budget)

    def _show_time(self) -> None:
        if self._budget is not None:
            self._bar.set_postfix_str(f"{self._elapsed():.1f}/{_seconds(self._budget)} s",
                                      refresh=False)

    def _move_time(self) -> None:
        """The seconds shown: the postfix of a bar of trials, or the bar itself."""
        if self._bar.unit == "trial":
            self._show_time()
        else:
            self._bar.update(self._elapsed() - self._bar.n)

    def __call__(self, study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        best = _best_value(study)
        with self._lock:
            if np.isfinite(best):
                self._bar.set_description(f"Best trial: {study.best_trial.number}. "
                                          f"Best value: {_score_text(best)}", refresh=False)
            self._move_time()
            if self._bar.unit == "trial":
                self._bar.update(1)

    def close(self) -> None:
        with self._lock:
            self._closed.set()
            self._log.__exit__(None, None, None)
            self._bar.close()


@contextmanager
def _optuna_log(verbose: int) -> Iterator[None]:
    """Optuna's per-trial log only at ``verbose >= 2``, its failed-trial tracebacks from
    ``verbose >= 1`` (``fit`` sums failures up in one warning); its experimental warnings
    hidden."""
    level = [optuna.logging.ERROR, optuna.logging.WARNING, optuna.logging.INFO][min(verbose, 2)]
    with optuna_verbosity.holding(level), warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        yield
