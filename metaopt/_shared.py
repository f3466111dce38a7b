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
        self._users = 0
        self._callers: Any = None

    @contextmanager
    def holding(self, value: Any) -> Iterator[None]:
        """The setting at ``value`` inside (the latest call's while several run)."""
        with self._lock:
            if not self._users:
                self._callers = self._get()
            self._users += 1
            self._set(value)
        try:
            yield
        finally:
            with self._lock:
                self._users -= 1
                if not self._users:
                    self._set(self._callers)


def _set_optuna_verbosity(level: int) -> None:
    import optuna

    optuna.logging.set_verbosity(level)


def _optuna_verbosity() -> int:
    import optuna

    return optuna.logging.get_verbosity()


#: Optuna's log level, which metaopt's searches set while they run (searches on threads:
#: a GridSearchCV or cross_val_score of an estimator under joblib's threading backend)
optuna_verbosity = SharedSetting(_optuna_verbosity, _set_optuna_verbosity)
