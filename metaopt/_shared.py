"""Process-wide settings that metaopt changes for a while, from several threads at once."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any


class SharedSetting:
    """A process-wide setting (an environment variable, a library's log level) that
    calls on several threads set for their duration: the caller's value is read when the
    first starts and put back when the last ends. Each putting back the value it found,
    calls that overlap restored it out of order: the first to end reset it under the
    other, and the other left its own value for good."""

    def __init__(self, get: Callable[[], Any], set_: Callable[[Any], None]) -> None:
        self._get, self._set = get, set_
        self._lock = threading.Lock()
        self._held: dict[object, Any] = {}  # the running calls' values, in order of start
        self._callers: Any = None

    @contextmanager
    def holding(self, value: Any) -> Iterator[None]:
        """The setting at ``value`` inside (the latest running call's while several run:
        when one ends, the latest of those still running is put back, so a call nested
        in another on the same thread leaves the outer one's value)."""
        mine = object()  # its own key: other calls may hold equal values
        with self._lock:
            if not self._held:
                self._callers = self._get()
            self._set(value)
            self._held[mine] = value
        try:
            yield
        finally:
            with self._lock:
                del self._held[mine]
                self._set(next(reversed(self._held.values())) if self._held
                          else self._callers)


def _set_optuna_verbosity(level: int) -> None:
    import optuna

    optuna.logging.set_verbosity(level)


def _optuna_verbosity() -> int:
    import optuna

    return optuna.logging.get_verbosity()


#: Optuna's log level, which metaopt's searches set while they run (searches on threads:
#: a GridSearchCV or cross_val_score of an estimator under joblib's threading backend)
optuna_verbosity = SharedSetting(_optuna_verbosity, _set_optuna_verbosity)
