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
