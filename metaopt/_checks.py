"""Argument checks shared across metaopt."""

from __future__ import annotations

import math
import numbers
from collections import Counter
from collections.abc import Iterable
from typing import Any, Literal, overload

import numpy as np
import pandas as pd


def python_value(value: Any) -> Any:
    """A numpy scalar as the Python value it holds (``1``, not ``np.int64(1)``), for
    messages and JSON; anything else as it is."""
    return value.item() if isinstance(value, np.generic) else value


def check_int(value: Any, name: str, minimum: int = 1) -> int:
    """``value`` as an int when it is an integer (numpy ones too, not bool) of at least
    ``minimum``; ``ValueError`` naming ``name`` otherwise."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


@overload
def check_seed(value: Any, name: str, what: str, allow_none: Literal[False]) -> int: ...


@overload
def check_seed(value: Any, name: str, what: str, allow_none: bool = True) -> int | None: ...


def check_seed(value: Any, name: str, what: str, allow_none: bool = True) -> int | None:
    """``value`` as an int when it is None (when ``allow_none``) or an integer (numpy ones
    too, not bool) in [0, 2**32 - 1], the range numpy and scikit-learn take; ``ValueError``
    naming ``name`` and saying ``what`` the seed is for otherwise (a ``RandomState`` is
    not one)."""
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or not (
            0 <= value < 2**32):  # type: ignore[operator]  # typeshed: no Integral.__ge__
        raise ValueError(f"{name} must be {'None or ' * allow_none}an int in [0, 2**32 - 1] "
                         f"({what}), got {value!r}")
    return int(value)


def repeated(values: Iterable) -> list:
    """The values that occur more than once in ``values``, sorted (for error messages)."""
    return sorted(v for v, n in Counter(values).items() if n > 1)


def check_n_jobs(n_jobs: Any) -> None:
    """``ValueError`` unless ``n_jobs`` is a nonzero integer (before any work starts)."""
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, numbers.Integral) or n_jobs == 0:
        raise ValueError(f"n_jobs must be a nonzero integer (-1: every core), got {n_jobs!r}")


def check_seconds(value: Any, name: str, allow_none: bool = True) -> None:
    """``ValueError`` naming ``name`` unless ``value`` is a finite number of seconds > 0
    (numpy ones too; not a bool, nan or inf), or None when ``allow_none``."""
    if value is None and allow_none:
        return
    # (typeshed's numbers.Real has no __gt__: mypy refuses `0 < value`)
    if isinstance(value, bool) or not (isinstance(value, numbers.Real)
                                       and 0 < value < math.inf):  # type: ignore[operator]
        raise ValueError(f"{name} must be a finite number of seconds > 0"
                         f"{' or None' if allow_none else ''}, got {python_value(value)!r}")


def check_label_types(y: Any, name: str = "y") -> None:
    """``ValueError`` when the class labels ``y`` (1-d) mix strings with other types
    (``["a", 1]``): scikit-learn's "Mix of label input types (string and number)" rule,
    which its checks apply between two label arrays but not within one. ``name``: what
    the message calls ``y``."""
    values = y.to_numpy() if hasattr(y, "to_numpy") else np.asarray(y)
    if values.dtype != object:  # numbers, or text of one dtype
        return
    values = values.ravel()
    is_text = np.fromiter((isinstance(v, str) for v in values), bool, len(values))
    if is_text.all() or not is_text.any():
        return
    text, others = values[is_text][0], values[~is_text]
    other = python_value(others[0])
    kind = "number" if all(isinstance(v, numbers.Number) for v in others) else "non-string"
    types = ", ".join(sorted({type(v).__name__ for v in others}))
    raise ValueError(
        f"Mix of label input types (string and {kind}) in {name}: {int(is_text.sum())} label(s) "
        f"are strings (e.g. {text!r}), {len(others)} are {types} (e.g. {other!r}), so the "
        f"classes cannot be sorted; give every label one type, e.g. {name}.astype(str) (1 "
        "and '1' are then one class)"
    )


def text_not_numbers(y: Any) -> str:
    """Up to three distinct values of ``y`` (1-d) that are text but no number, quoted
    (``"'yes', 'no'"``); ``""`` when there is none."""
    values = (y.to_numpy() if hasattr(y, "to_numpy") else np.asarray(y)).ravel()
    if values.dtype.kind not in "OSU":
        return ""
    present = pd.notna(values)
    text = values[present & pd.isna(pd.to_numeric(pd.Series(values), errors="coerce")).to_numpy()]
    return ", ".join(repr(python_value(v)) for v in pd.unique(text)[:3])


def _named(estimator: Any, task: str) -> tuple[str, str]:
    """The metaopt class ``estimator`` (an estimator or its class) is or derives from (a
    user's subclass of ``MetaOptRegressor``: ``"MetaOptRegressor"``), and its counterpart
    of ``task`` (``"MetaOptClassifier"``)."""
    from metaopt.data._terms import _metaopt_class  # metaopt.data imports this module

    name = _metaopt_class(estimator if isinstance(estimator, type) else type(estimator))
    stem = name.removesuffix("Classifier").removesuffix("Regressor")
    return name, stem + ("Classifier" if task == "classification" else "Regressor")


def check_numeric_target(y: Any, estimator: Any) -> None:
    """``ValueError`` when a regressor's target ``y`` holds text that is no number
    (``"yes"``, ``"a"``), naming ``estimator`` (a regressor or its class; a user's
    subclass as the metaopt class it derives from) and its classifier, which such labels
    are for (scikit-learn's "dtype='numeric' is not compatible with arrays of
    bytes/strings" named neither)."""
    examples = text_not_numbers(y)
    if examples:
        name, classifier = _named(estimator, "classification")
        raise ValueError(
            f"{name} needs a numeric target, but y holds text that is no number "
            f"({examples}): for classes, use {classifier}")


def check_class_labels(y: Any, estimator: Any) -> None:
    """scikit-learn's ``check_classification_targets`` of a classifier's target ``y``,
    but a ``ValueError`` naming ``estimator`` (a classifier or its class; a user's
    subclass as the metaopt class it derives from) and its regressor when ``y`` holds
    continuous values (floats that are not whole), where scikit-learn's "Unknown label
    type: continuous" named neither."""
    # here, not at the top: the command line's fast errors import this module, not sklearn
    from sklearn.utils.multiclass import check_classification_targets, type_of_target

    if type_of_target(y, input_name="y").startswith("continuous"):
        values = np.asarray(y, dtype=float).ravel()
        example = values[np.isfinite(values) & (values != np.round(values))][0]
        name, regressor = _named(estimator, "regression")
        raise ValueError(
            f"{name} needs class labels, but y holds continuous values (e.g. "
            f"{example:.6g}): for a regression target, use {regressor}")
    check_classification_targets(y)


def check_one_target(y: Any, estimator: str, task: str, alternative: str = "",
                     fit: str = "search") -> None:
    """``ValueError`` when ``y`` holds several target columns (shape (n, k), k > 1),
    naming ``estimator`` (a class name) and scikit-learn's ``MultiOutputClassifier`` or
    ``MultiOutputRegressor`` (by ``task``), which runs one ``fit`` (what one fit of
    ``estimator`` is: ``"search"``, ``"network"``) per target; ``alternative``, another
    way to fit several, is appended. A single column, (n, 1), passes (``column_or_1d``
    ravels it)."""
    shape = getattr(y, "shape", None)
    if shape is None:
        shape = np.shape(np.asarray(y, dtype=object))
    if len(shape) != 2 or shape[1] <= 1:
        return
    what, wrapper = (("multilabel and multi-output classification", "MultiOutputClassifier")
                     if task == "classification" else
                     ("multi-output regression", "MultiOutputRegressor"))
    raise ValueError(
        f"{estimator} takes one target column, got y of shape {tuple(shape)} ({shape[1]} "
        f"targets): {what} is not supported. Fit one {fit} per target "
        f"with sklearn.multioutput.{wrapper}({estimator}(...)), which predicts "
        f"all {shape[1]} columns{alternative}")
