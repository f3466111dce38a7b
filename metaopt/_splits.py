"""Cross-validation splitters as metaopt's searches use them: checked by scikit-learn,
a splitter by groups told by its metadata request, a shuffle fixed for every trial."""

from __future__ import annotations

import copy
import numbers

import numpy as np
from sklearn.model_selection import KFold, StratifiedKFold, check_cv
from sklearn.utils.metadata_routing import get_routing_for_object

from metaopt._warnings import warn


def checked_splitter(cv, X, y, groups, classifier: bool, seed: int | None):
    """``cv`` as scikit-learn checks it, its shuffle fixed (:func:`fixed_shuffle`); a
    splitter by groups (``GroupKFold``, ...) as its splits of the data by ``groups``,
    made once here: the trials split without them. An int (or None) gives a shuffled
    K-fold: ``recheck``'s second split is shuffled, and on rows in some order (by date,
    by id) an unshuffled first split would be harder than it, so a rechecked best would
    hold the mean of a hard and an easy split, out of reach of later trials."""
    checked = check_cv(cv, y, classifier=classifier)
    if (cv is None or isinstance(cv, numbers.Integral)) and type(checked) in (
            KFold, StratifiedKFold):
        checked = type(checked)(n_splits=checked.n_splits, shuffle=True)
    cv = fixed_shuffle(checked, seed)
    if splits_by_groups(cv):
        if groups is None:
            raise ValueError(f"cv={cv!r} splits by groups: pass them to fit(X, y, "
                             "groups=...)")
        return check_cv(list(cv.split(X, y, groups)))
    if groups is not None:
        warn_groups_ignored(cv)
    return cv


def warn_groups_ignored(cv) -> None:
    """The warning that ``fit``'s ``groups`` are ignored by ``cv``, which does not split
    by groups."""
    warn(f"groups are ignored: cv={cv!r} does not split by groups (use a group "
         "splitter such as GroupKFold)", UserWarning)


def splits_by_groups(cv) -> bool:
    """Whether ``cv``'s ``split`` requests ``groups``, as scikit-learn's metadata routing
    tells it (``GroupKFold``, ``LeaveOneGroupOut``, ... and their subclasses, or a
    splitter declaring ``__metadata_request__split = {"groups": True}``); ``KFold``,
    ``ShuffleSplit`` or a list of splits do not."""
    return bool(get_routing_for_object(cv).consumes("split", ["groups"]))


def fixed_shuffle(cv, seed: int | None):
    """``cv``, or a copy with a ``random_state`` drawn from ``seed`` when it shuffles
    anew at each split (``random_state`` None or a ``RandomState``): every trial then
    has the same folds, as every candidate of scikit-learn's searches has."""
    if not getattr(cv, "shuffle", True) or not isinstance(
            getattr(cv, "random_state", 0), (type(None), np.random.RandomState)):
        return cv
    fixed = copy.copy(cv)
    # not the seed of MetaOptClassifier's recheck reshuffle, which must give other folds
    fixed.random_state = int(np.random.default_rng(
        None if seed is None else [seed, 1]).integers(2**31))
    return fixed
