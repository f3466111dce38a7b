"""SIGINT and SIGTERM as KeyboardInterrupt, for long commands that keep what they
finished (a knowledge-base build, a benchmark run); whether a process still runs."""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


class StopGuard:
    """Turn SIGINT/SIGTERM into KeyboardInterrupt, but never in the middle of a write.

    ``signum`` is the first signal received (the one that stopped the command; a later
    one does not replace it), None until then."""

    def __init__(self) -> None:
        self.signum: int | None = None
        self._critical = False
        self._held = False
        self._previous: dict[int, Any] = {}

    def _handle(self, signum, frame) -> None:
        if self.signum is None:
            self.signum = signum
        if not (self._critical or self._held):
            raise KeyboardInterrupt

    def __enter__(self) -> StopGuard:
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                self._previous[sig] = signal.signal(sig, self._handle)
            _installed.append(self)
        return self

    def __exit__(self, *exc) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
        if self in _installed:
            _installed.remove(self)

    @contextmanager
    def writing(self) -> Iterator[None]:
        self._critical = True
        try:
            yield
        finally:
            self._critical = False
        if self.signum is not None and not self._held:
            raise KeyboardInterrupt

    def hold(self) -> None:
        """From now on until the guard is left, a signal is recorded (``signum``) but
        raises nothing: for the last work of a command that ends anyway (closing, recording
        how it ended), whose outcome (its result, or the KeyboardInterrupt of a first
        signal) a KeyboardInterrupt would replace."""
        self._held = True


#: The guards whose handlers are installed, innermost last (main thread only).
_installed: list[StopGuard] = []


def hold_signals() -> None:
    """:meth:`StopGuard.hold` the innermost guard installed, if any: for library code that
    ends a command's work (e.g. a benchmark that kept its finished runs) and does not know
    the guard its command runs under. Without a guard, nothing (Ctrl-C raises as always)."""
    if _installed:
        _installed[-1].hold()


def pid_alive(pid: int) -> bool:
    """Whether a process of this machine with id ``pid`` exists (another user's too);
    True outside POSIX, where this cannot be asked: Windows' ``os.kill(pid, 0)``
    terminates the process."""
    if os.name != "posix":
        return True
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's
        return True
    return True


def process_start(pid: int) -> int | None:
    """When process ``pid`` of this machine started, in clock ticks since boot (field 22 of
    Linux's ``/proc/PID/stat``): a process that took the id of a dead one started later.
    None where there is no ``/proc`` or no such process."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as file:
            stat = file.read()
    except OSError:
        return None
    # after the command name, in parentheses and of any characters, fields 3, 4, ...
    return int(stat[stat.rindex(b")") + 1:].split()[22 - 3])
