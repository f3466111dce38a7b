"""The words the data checks' messages use: Python's ``X`` and ``y`` by default, a table
file and its target column on the command line (``--data FILE --target COL``). Where
the two wordings differ beyond these words, a check writes both, chosen by ``table``.
Inside an estimator's ``fit`` (:func:`estimator_terms`), the task is the estimator's
class, which takes no ``task``: the other task is its counterpart (``MetaOptRegressor``
for ``MetaOptClassifier``)."""

from __future__ import annotations

import shlex
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, replace


@dataclass(frozen=True)
class Terms:
    """How the checks of ``X`` and ``y`` name what they check: ``table`` is the file the
    features come from (None: Python's ``X``), ``target`` the target, ``missing`` what a
    missing value is."""

    table: str | None = None
    target: str = "y"
    missing: str = "NaN, None or pd.NA"
    #: the metaopt estimator class whose ``fit`` checks (``"MetaOptClassifier"``), if any
    estimator: str | None = None

    @property
    def features(self) -> str:
        """What holds the features: ``X``, or the table file."""
        return "X" if self.table is None else self.table

    def task(self, task: str) -> str:
        """How the task is given: ``task='regression'``, ``--task regression``, or, in an
        estimator's fit, the estimator of that task (``MetaOptRegressor``)."""
        if self.table is not None:
            return f"--task {task}"
        if self.estimator is not None:
            stem = self.estimator.removesuffix("Classifier").removesuffix("Regressor")
            return stem + ("Classifier" if task == "classification" else "Regressor")
        return f"task={task!r}"

    def ask(self, task: str) -> str:
        """How to ask for ``task`` instead: ``pass task='regression'``, ``pass --task
        regression``, or, in an estimator's fit, ``use MetaOptRegressor``."""
        return f"{'pass' if self.estimator is None else 'use'} {self.task(task)}"

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


def _metaopt_class(cls: type) -> str:
    """The name of metaopt's estimator class ``cls`` is, or derives from (a user's
    subclass of ``MetaOptClassifier``: ``"MetaOptClassifier"``)."""
    for klass in cls.__mro__:
        if (klass.__module__.split(".")[0] == "metaopt"
                and klass.__name__.endswith(("Classifier", "Regressor"))):
            return klass.__name__
    return cls.__name__


@contextmanager
def estimator_terms(estimator: type) -> Iterator[None]:
    """Inside, the checks name the other task by the estimator of it, the counterpart of
    metaopt's estimator class ``estimator`` (``MetaOptRegressor`` in
    ``MetaOptClassifier.fit``: an estimator takes no ``task=``). A table's terms, of the
    command line (its ``--task``), stay as they are."""
    current = _TERMS.get()
    token = _TERMS.set(current if current.table is not None
                       else replace(current, estimator=_metaopt_class(estimator)))
    try:
        yield
    finally:
        _TERMS.reset(token)


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
