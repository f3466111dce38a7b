"""``search_rows``: the rows a time-budgeted search's trials see, and the rows its refit
takes (``MetaOptClassifier`` / ``MetaOptRegressor`` and ``MetaMLPClassifier`` /
``MetaMLPRegressor``)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.utils import _safe_indexing
from sklearn.utils.validation import check_consistent_length

from metaopt.data._dataset import subsample_rows

# search_rows="auto" with a time budget: the trials see this many rows per second of
# budget, at least AUTO_ROWS_MIN. The estimator benchmark's 10 s fits on tables of up
# to 5,000 rows ran enough trials to win it: 500 rows per second keeps that ratio, so a
# budget allows about as many trials whatever the table's size
AUTO_ROWS_PER_SECOND = 500
AUTO_ROWS_MIN = 10_000
# a refitted model is checked on at most this many of its training rows (refit_check_rows),
# under a time budget on at most a CV test fold's, at least REFIT_CHECK_MIN_ROWS of them
REFIT_CHECK_ROWS = 10_000
REFIT_CHECK_MIN_ROWS = 1_000


def rows_of(a, rows: np.ndarray | slice | None):
    """``a`` at ``rows`` (an array, DataFrame or list, as scikit-learn indexes them);
    ``a`` itself for every row (``rows`` None) or without ``a``."""
    return a if rows is None or a is None else _safe_indexing(a, rows)


def sampled_groups(groups, y, rows: np.ndarray | None):
    """``fit``'s ``groups`` at ``rows``, refused when they are not one per row of ``y``
    (their rows would be others than ``y``'s)."""
    if rows is not None and groups is not None:
        check_consistent_length(y, groups)
    return rows_of(groups, rows)


def check_search_rows(search_rows) -> None:
    """Refuse a ``search_rows`` that is not ``"auto"``, None or an int >= 2."""
    if search_rows not in ("auto", None) and (
            not isinstance(search_rows, (int, np.integer))
            or isinstance(search_rows, bool) or search_rows < 2):
        raise ValueError("search_rows must be 'auto', None or an int >= 2, got "
                         f"{search_rows!r}")


def search_sample(y, task: str, search_rows, time_budget: float | None,
                  seed: int | None) -> np.ndarray | None:
    """Sorted indices of exactly ``search_rows`` rows the trials see (stratified for a
    classifier, every class kept: :func:`~metaopt.data._dataset.subsample_rows`, its
    ``exact`` rows), None for all of them."""
    limit = search_rows
    if limit == "auto":
        limit = None if time_budget is None else max(
            AUTO_ROWS_MIN, int(AUTO_ROWS_PER_SECOND * time_budget))
    if limit is None:
        return None
    n_classes = len(np.unique(y)) if task == "classification" else 0
    if n_classes > limit and len(y) > limit:
        given = (f"search_rows='auto' ({limit} rows for time_budget={time_budget} s)"
                 if search_rows == "auto" else f"search_rows={limit}")
        raise ValueError(f"{given} is fewer than the {n_classes} classes of y: a sample "
                         f"keeps a row of each; give search_rows >= {n_classes} or None")
    return subsample_rows(pd.Series(y), task, int(limit), seed, exact=True)


def sampled_reserve(seconds: float, time_budget: float) -> float:
    """The refit's reserve while the trials run on a sample: ``seconds``, a fit on all
    the rows, at most half the budget (the refit then takes as many as it has time for)."""
    return min(seconds, time_budget / 2)


def rows_in_time(rows: float, seconds: float, left: float, exponent: float, floor: int,
                 n_total: int) -> int | None:
    """How many of ``n_total`` rows ``left`` seconds allow a fit taking ``seconds`` on
    ``rows`` of them (growing as rows ** ``exponent``), ``floor`` at least; None for all
    of them (a fit taking no time too), and for all but under 1 % (far finer than the
    estimate of the time)."""
    if seconds <= 0:
        return None
    n_rows = min(n_total, max(floor, int(rows * (left / seconds) ** (1 / exponent))))
    return None if n_rows >= 0.99 * n_total else n_rows


def refit_sample(sample: np.ndarray, n_total: int, rows: float, seconds: float,
                 left: float, exponent: float = 1.0, seed: int | None = None
                 ) -> np.ndarray | None:
    """Sorted indices of the rows to refit on after a search on ``sample``: as many of
    the ``n_total`` as ``left`` seconds allow, a fit on ``rows`` rows taking ``seconds``
    (growing as rows ** ``exponent``), never fewer than the sample, which they hold, and
    more drawn at random; None for all of them, and for all but under 1 % of them (far
    finer than the estimate of the time)."""
    n_rows = rows_in_time(rows, seconds, left, exponent, len(sample), n_total)
    if n_rows is None:
        return None
    others = np.setdiff1d(np.arange(n_total), sample, assume_unique=True)
    extra = np.random.default_rng(seed).choice(others, n_rows - len(sample), replace=False)
    return np.sort(np.concatenate([sample, extra]))


def refit_rows_in_time(y, task: str, seconds: float, left: float, exponent: float,
                       floor: int, seed: int | None) -> np.ndarray | None:
    """Sorted indices of the rows a refit has time for after a search on all of them:
    as many of ``y``'s as ``left`` seconds allow, a fit on all of them taking
    ``seconds`` (growing as rows ** ``exponent``), ``floor`` at least (stratified for a
    classifier, every class kept); None for all of them, and for all but under 1 %."""
    n_rows = rows_in_time(len(y), seconds, left, exponent, floor, len(y))
    return None if n_rows is None else subsample_rows(pd.Series(y), task, n_rows, seed, exact=True)


def refit_rows_warning(time_budget: float, refit_rows: int, n_rows: int,
                       search_rows: int) -> str:
    """What the warning of a refit on fewer than all the rows says."""
    return (f"time_budget={time_budget} s left time to refit the best configuration "
            f"on {refit_rows:,} of the {n_rows:,} rows (the trials saw "
            f"{search_rows:,}); give more time to fit on all of them")


def budget_check_rows(n_rows: int, n_folds: int) -> int:
    """How many of a refit's ``n_rows`` its check scores under a time budget (a trial
    scored a CV test fold in its time): a test fold's of ``n_folds``, at least
    ``REFIT_CHECK_MIN_ROWS`` and at most ``REFIT_CHECK_ROWS``, all of them at most."""
    return min(n_rows, REFIT_CHECK_ROWS, max(REFIT_CHECK_MIN_ROWS, -(-n_rows // n_folds)))


def refit_check_rows(y, task: str, seed: int | None,
                     max_rows: int = REFIT_CHECK_ROWS) -> slice | np.ndarray:
    """The rows of a refit's target ``y`` that it is scored on: all, or a random
    ``max_rows`` of more (stratified for a classifier, every class kept: a scoring of
    probabilities fails on rows without one of the model's classes)."""
    rows = subsample_rows(pd.Series(y), task, max_rows, seed, exact=True)
    return slice(None) if rows is None else rows


def refit_failed(train_score: float, cv_score: float, constant_score: float) -> bool:
    """Whether a refit scoring ``train_score`` on its own training rows failed (diverged,
    or was cut): below its configuration's ``cv_score`` by more than a quarter of that
    score's lead over a constant prediction's (``constant_score``), and by at least 0.05
    (5 % of the constant's score where that is beyond 1, as a squared error may be).
    A training score is normally at or above the CV score."""
    margin = max(0.25 * (cv_score - constant_score), 0.05 * max(1.0, abs(constant_score)))
    return not train_score >= cv_score - margin
