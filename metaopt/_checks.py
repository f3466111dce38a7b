"""Argument checks shared across metaopt."""

from __future__ import annotations

import numbers
from typing import Any


def check_int(value: Any, name: str, minimum: int = 1) -> int:
    """``value`` as an int when it is an integer (numpy ones too, not bool) of at least
    ``minimum``; ``ValueError`` naming ``name`` otherwise."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)
