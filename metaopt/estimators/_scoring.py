"""Checks of the search's scoring before any trial: refusals of scorings that cannot
score the target or its folds, warnings of scorings that mislead the search."""

from __future__ import annotations

import difflib
import functools
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
from sklearn.metrics import (
    get_scorer,
    get_scorer_names,
    mean_absolute_percentage_error,
    r2_score,
)

from metaopt._warnings import warn
from metaopt.estimators._ensemble import blend_scorer


def _scores_r2(scoring) -> bool:
    """Whether ``scoring`` is plain R²: ``"r2"``, or a scorer of ``r2_score`` without
    options (``get_scorer("r2")``, ``make_scorer(r2_score)``; scikit-learn keeps a
    scorer's function, sign and options in private attributes)."""
    if isinstance(scoring, str):
        return scoring == "r2"
    return (getattr(scoring, "_score_func", None) is r2_score
            and getattr(scoring, "_sign", None) == 1 and getattr(scoring, "_kwargs", None) == {})


def _warn_zero_divisors(scorer, y: np.ndarray, name: str) -> None:
    """A warning when ``scorer`` is a percentage error and ``y`` holds zeros: divided by
    float64's epsilon, their errors decide every score (below -1e10 on ``560_bodyfat``,
    one zero in 252 rows)."""
    zeros = np.count_nonzero(y == 0)
    if zeros and scorer._score_func is mean_absolute_percentage_error:
        warn(f"scoring={name!r} divides each error by |y|, and y holds {zeros} zero(s) of "
             f"{len(y)}: scikit-learn divides their errors by {np.finfo(float).eps:.1e} "
             "instead, so those rows decide every score and the search fits them alone; "
             "pass another scoring (e.g. 'neg_mean_absolute_error') or drop those rows")


@functools.cache
def _minimised_scorers() -> tuple[tuple[Callable, str], ...]:
    """(metric function, scorer name) of scikit-learn's scorers that minimise their
    metric (``mean_absolute_error``, ``"neg_mean_absolute_error"``), in name order."""
    scorers = ((get_scorer(known), known) for known in get_scorer_names())
    return tuple((scorer._score_func, known) for scorer, known in scorers if scorer._sign < 0)


def _warn_maximised_loss(scorer, name: str) -> None:
    """A warning when ``scorer`` maximises a metric that scikit-learn's scorer of it
    minimises (``make_scorer(mean_absolute_error)``, ``greater_is_better=False``
    forgotten): the search picked the configuration of the largest error."""
    if scorer._sign < 0:
        return
    known = next((known for func, known in _minimised_scorers()
                  if func is scorer._score_func), None)
    if known is not None:
        warn(f"scoring={name!r} maximises {scorer._score_func.__name__}, which "
             f"scikit-learn's {known!r} minimises: the search would pick the worst "
             f"configurations; pass scoring={known!r} or make_scorer(..., "
             "greater_is_better=False)")


def _check_scoring_name(scoring: str) -> None:
    """scikit-learn's ValueError for a ``scoring`` that names no scorer (it says where
    the names are), with the closest name when one is close (``'acuracy'``: ``did you
    mean 'accuracy'?``)."""
    try:
        get_scorer(scoring)
    except ValueError as exc:
        close = difflib.get_close_matches(scoring.lower(), get_scorer_names(), n=1)
        if not close:
            raise
        raise ValueError(f"{exc} Did you mean {close[0]!r}?") from None


def _response_methods(scoring) -> tuple[str, ...]:
    """The prediction methods a scikit-learn scorer can score (any one will do); empty
    for the default scoring and for a callable of one's own."""
    scorer = get_scorer(scoring) if isinstance(scoring, str) else scoring
    method = getattr(scorer, "_response_method", ())
    return (method,) if isinstance(method, str) else tuple(method)


def _blendable(scoring) -> bool:
    """Whether ``scoring`` can score blends of out-of-fold predictions (class
    probabilities, one-hot votes, values): not a scorer of decision values only."""
    methods = _response_methods(scoring)
    return not methods or bool({"predict", "predict_proba"} & set(methods))


def _check_scores(scoring, y: np.ndarray, folds: list, classes: np.ndarray | None,
                  name: str) -> None:
    """A ValueError before any trial when the scikit-learn scorer ``scoring`` cannot
    score ``y`` (``"f1"`` or ``"average_precision"`` of labels without 1, ``"roc_auc"`` of
    three classes, ``"neg_mean_squared_log_error"`` of negative targets) or a test fold of
    ``folds`` that lacks a class (``"roc_auc"`` of a fold without positives is NaN): every
    trial failed with it, three of them before the search stopped. Scored on predictions
    of every class (classification) or of the mean (regression); a callable of one's own
    and a scorer of decision values only are not tried."""
    scorer = get_scorer(scoring) if isinstance(scoring, str) else scoring
    if not hasattr(scorer, "_score_func"):
        return
    _warn_maximised_loss(scorer, name)
    if not _blendable(scorer):
        return
    if classes is None:
        _score_or_refuse(scorer, y, np.full(len(y), np.mean(y)), None, name)
        _warn_zero_divisors(scorer, y, name)
        return
    one_hot = np.eye(len(classes))
    _score_or_refuse(scorer, classes, one_hot, classes, name, labels=y)
    _refuse_constant(scorer, classes, name)
    for i, (_, test) in enumerate(folds):
        held = np.unique(y[test])
        if len(held) < len(classes):
            # the rarest first: a class of one row is in one test fold whatever the folds
            missing = sorted(np.setdiff1d(classes, held).tolist(), key=lambda c: np.sum(y == c))
            rows = np.sum(y == missing[0])
            more = f" nor of {len(missing) - 1} other classes" if len(missing) > 1 else ""
            _score_or_refuse(
                scorer, held, one_hot[np.searchsorted(classes, held)], classes, name,
                f" on test fold {i} of {len(folds)}, which holds no row of class "
                f"{missing[0]!r} (of {rows} in all){more}",
                "; it needs every class in every test fold: "
                + ("drop the rows of classes of one row, or use another scoring" if rows == 1
                   else "use fewer folds, or another scoring"), labels=y)


def _rarest(classes: np.ndarray, labels: np.ndarray | None) -> Any:
    """The class of ``classes`` with the fewest rows in ``labels`` (the usual positive
    class of a binary metric); of equally rare ones, and without ``labels``, the last."""
    if labels is None:
        return classes.tolist()[-1]
    counts = np.array([np.sum(labels == c) for c in classes])
    return classes.tolist()[np.flatnonzero(counts == counts.min())[-1]]


def _refuse_constant(scorer, classes: np.ndarray, name: str) -> None:
    """A ValueError when ``scorer`` scores right predictions of every class no better
    than uniform or wrong ones (``"top_k_accuracy"`` of two classes: 1.0 whatever the
    model): the search would have nothing to tell its trials apart by."""
    if len(classes) < 2:
        return
    y = np.repeat(classes, 2)  # two rows a class: pair-counting scores are defined
    right = np.eye(len(classes))[np.searchsorted(classes, y)]
    blends = (right, np.full_like(right, 1 / len(classes)), (1 - right) / (len(classes) - 1))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            scores = {blend_scorer(scorer, y, classes)(blend) for blend in blends}
    except ValueError:
        return
    if len(scores) == 1:
        raise ValueError(f"scoring={name!r} scores right predictions of these "
                         f"{len(classes)} classes no better than uniform or wrong ones "
                         f"({scores.pop():g} each), so the search has nothing to tell "
                         "models apart by: pass another scoring")


def _score_or_refuse(scorer, y: np.ndarray, blend: np.ndarray, classes: np.ndarray | None,
                     name: str, where: str = "", advice: str = "",
                     labels: np.ndarray | None = None) -> None:
    """Score ``blend`` of ``y`` with ``scorer``; a ValueError naming ``scoring`` if it
    raises or is NaN, ``where`` saying on what, ``advice`` what to do. A scorer that
    needs a ``pos_label`` is shown one naming the rarest class of ``labels`` (the whole
    target): the last of ``classes`` named the majority class of ``churn`` (86 %)."""
    try:
        with warnings.catch_warnings():  # ill-defined scores: a trial's concern
            warnings.simplefilter("ignore")
            nan = np.isnan(blend_scorer(scorer, y, classes)(blend))
    except ValueError as exc:
        fix = ""
        if classes is not None and "pos_label" in str(exc):
            options = "".join(f", {k}={v!r}" for k, v in scorer._kwargs.items())
            method = scorer._response_method
            function = scorer._score_func.__name__
            fix = (f"; after from sklearn.metrics import make_scorer, {function}, name the "
                   f"positive class, e.g. make_scorer({function}"
                   f"{options}, pos_label={_rarest(classes, labels)!r}"
                   + ("" if method == "predict" else f", response_method={method!r}")
                   + ("" if scorer._sign > 0 else ", greater_is_better=False") + ")")
        raise ValueError(f"scoring={name!r} cannot score this y{where}: {exc}{fix}{advice}"
                         ) from exc
    if nan:
        raise ValueError(f"scoring={name!r} is undefined (NaN){where}{advice}")
