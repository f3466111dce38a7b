"""Columns that look like row identifiers (a ``PassengerId``, an ``id`` of 1 to n or
what a train/test split leaves of it), warned about where a user's table is described
(``metaopt.suggest``, the CLI's ``suggest`` and ``metafeatures``,
``MetaSampler(dataset=...)``, ``MetaOptClassifier`` / ``MetaOptRegressor``)."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
from pandas.api import types as ptypes

from metaopt._warnings import warn
from metaopt.data._dataset import Dataset
from metaopt.data._terms import terms

# a column's name reads as an id when its last word is one of these (PassengerId,
# customer_id, BookID) or its first one of the last three (ID_code, index_no)
_ID_WORDS = frozenset({"id", "ids", "idx", "index", "key", "uuid", "guid"})
_MIN_ROWS_FOR_ID = 10  # on fewer rows, every value of a column being distinct says little
# distinct whole numbers read as a row numbering when their range (high - low + 1) is at
# most this many times their count: 1 for 1..n itself, up to 2 for a random subset of it
# keeping at least half the rows (a train/test split). On the 214 pmlb tables, whole and
# a 75 % subset of each, the distinct whole-number columns spread over at most 1.46 times
# their count are all identifiers (row numbers, phone numbers, text or firm codes, zip
# codes, years of a yearly series), the rest over at least 577 times.
_MAX_RANGE_PER_ROW = 2


def _named_like_an_id(name: str) -> bool:
    words = [w.lower() for w in re.findall(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+", name)]
    return bool(words) and (words[-1] in _ID_WORDS or words[0] in {"id", "idx", "index"})


def _id_evidence(column: pd.Series, name: str) -> str | None:
    """Why ``column`` looks like a row identifier, or None: every value distinct (none
    missing), whole numbers or strings, and named like an id or whole numbers whose range
    is at most twice their count (1, 2, ..., n in any order, or a random subset of it
    keeping at least half the rows, as a train/test split leaves)."""
    n = len(column)
    if n < _MIN_ROWS_FOR_ID or column.isna().any():
        return None
    values = (column.astype(column.cat.categories.dtype)
              if isinstance(column.dtype, pd.CategoricalDtype) else column)
    if ptypes.is_bool_dtype(values):
        return None
    if ptypes.is_numeric_dtype(values):
        numbers = values.to_numpy(dtype=float)
        if not (np.isfinite(numbers).all() and (numbers == np.round(numbers)).all()):
            return None
        what, low, high = "whole numbers", numbers.min(), numbers.max()
        dense = high - low + 1 <= _MAX_RANGE_PER_ROW * n
    elif ptypes.is_object_dtype(values) or ptypes.is_string_dtype(values):
        what, dense = "strings", False
    else:  # dates, intervals: not what an id column is read as
        return None
    named = _named_like_an_id(name)
    if not (named or dense) or values.nunique() != n:
        return None
    return (f"{n} distinct {what}" + (f" from {low:.0f} to {high:.0f}" if dense else "")
            + (", named like an id" if named else ""))


def id_like_columns(X: pd.DataFrame) -> dict[str, str]:
    """The columns of ``X`` that look like row identifiers (a ``PassengerId``, an ``id``
    of 1 to n or a random subset of it), each with why; see :func:`_id_evidence`."""
    evidence = {str(c): _id_evidence(X[c], str(c)) for c in X.columns}
    return {c: why for c, why in evidence.items() if why is not None}


def warn_id_columns(data: Dataset | pd.DataFrame, *, name: str | None = None,
                    drop: str | None = None) -> None:
    """Warn, naming them and how to drop them, about the columns of ``data`` (a Dataset,
    or a validated ``X`` of a table called ``name``) that look like row identifiers: as
    features they skew the meta-features (the number of features and their statistics),
    hence the nearest datasets and the suggestions. They are kept: a year or a running
    count can be a real feature. ``drop`` says how to drop them where the warning is
    given, ``{columns}`` their names as a list; None: in the terms of the data checks,
    ``X.drop(columns=[...])`` in Python, ``--drop ...`` for a table on the command line."""
    X, name = (data.X, data.name) if isinstance(data, Dataset) else (data, name)
    found = id_like_columns(X)
    if not found:
        return
    names, t = list(found), terms()
    listed = "; ".join(f"{c!r} ({why})" for c, why in found.items())
    which = ("columns {} look like row identifiers, which as features skew" if len(names) > 1
             else "column {} looks like a row identifier, which as a feature skews")
    how = (t.drop(names) if drop is None and t.table is not None else
           f"drop {'them' if len(names) > 1 else 'it'}: "
           + (drop or "X.drop(columns={columns})").format(columns=repr(names)))
    warn(
        f"{name}: {which.format(listed)} the meta-features (the number of features and "
        "their statistics) and with them the nearest datasets and the suggestions; if "
        f"{'they are' if len(names) > 1 else 'it is one'}, {how}")
