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


def repeated(values: Iterable) -> list:
    """The values that occur more than once in ``values``, sorted (for error messages)."""
    return sorted(v for v, n in Counter(values).items() if n > 1)
