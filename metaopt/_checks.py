"""Argument checks shared across metaopt."""

from __future__ import annotations

import numbers
from collections import Counter
from collections.abc import Iterable
from typing import Any


def check_int(value: Any, name: str, minimum: int = 1) -> int:
    """``value`` as an int when it is an integer (numpy ones too, not bool) of at least
    ``minimum``; ``ValueError`` naming ``name`` otherwise."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def check_seed(value: Any, name: str, what: str) -> int | None:
    """``value`` as an int when it is None or an integer (numpy ones too, not bool) in
    [0, 2**32 - 1], the range numpy and scikit-learn take; ``ValueError`` naming ``name``
    and saying ``what`` the seed is for otherwise (a ``RandomState`` is not one)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or not (
            0 <= value < 2**32):
        raise ValueError(f"{name} must be None or an int in [0, 2**32 - 1] ({what}), "
                         f"got {value!r}")
    return int(value)


def repeated(values: Iterable) -> list:
    """The values that occur more than once in ``values``, sorted (for error messages)."""
    return sorted(v for v, n in Counter(values).items() if n > 1)


def check_n_jobs(n_jobs: Any) -> None:
    """``ValueError`` unless ``n_jobs`` is a nonzero integer (before any work starts)."""
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, numbers.Integral) or n_jobs == 0:
        raise ValueError(f"n_jobs must be a nonzero integer (-1: every core), got {n_jobs!r}")


def check_time_limit(time_limit: Any) -> None:
    """``ValueError`` unless ``time_limit`` is None or positive seconds."""
    if time_limit is not None and time_limit <= 0:
        raise ValueError(f"time_limit must be > 0 seconds or None, got {time_limit!r}")
