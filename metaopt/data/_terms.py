"""The words the data checks' messages use: Python's ``X`` and ``y`` by default, a table
file and its target column on the command line (``--data FILE --target COL``). Where
the two wordings differ beyond these words, a check writes both, chosen by ``table``."""

from __future__ import annotations

import shlex
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass


@dataclass(frozen=True)
class Terms:
    """How the checks of ``X`` and ``y`` name what they check: ``table`` is the file the
    features come from (None: Python's ``X``), ``target`` the target, ``missing`` what a
    missing value is."""

    table: str | None = None
    target: str = "y"
    missing: str = "NaN, None or pd.NA"

    @property
    def features(self) -> str:
        """What holds the features: ``X``, or the table file."""
        return "X" if self.table is None else self.table

    def task(self, task: str) -> str:
        """How the task is given: ``task='regression'`` or ``--task regression``."""
        return f"task={task!r}" if self.table is None else f"--task {task}"

    def columns(self, names: list, listed: str | None = None) -> str:
        """The columns ``names`` holding something: ``X column 'a' holds``, ``FILE: columns
        'a', 'b' hold``; ``listed`` is how they are listed (their names quoted by default)."""
        owner = "X" if self.table is None else f"{self.table}:"
        listed = ", ".join(map(repr, names)) if listed is None else listed
        return f"{owner} column{'s' * (len(names) > 1)} {listed} hold{'s' * (len(names) == 1)}"

    def drop(self, names: list) -> str:
        """How to drop the columns ``names`` from a table: ``drop them with --drop a b``."""
        return (f"drop {'it' if len(names) == 1 else 'them'} with --drop "
                + shlex.join(map(str, names)))


# Terms is frozen: the default is shared safely
_TERMS: ContextVar[Terms] = ContextVar("metaopt_data_terms", default=Terms())  # noqa: B039


def terms() -> Terms:
    """The terms in use: Python's, or those of :func:`table_terms` around the call."""
    return _TERMS.get()


@contextmanager
def table_terms(table: str, target: str) -> Iterator[None]:
    """Inside, the checks word their messages for the table file ``table`` and its target
    column ``target``, as the command line's ``--data`` and ``--target`` give them."""
    token = _TERMS.set(Terms(table=str(table), target=f"the target column {target!r}",
                             missing="empty cells or NA"))
    try:
        yield
    finally:
        _TERMS.reset(token)
