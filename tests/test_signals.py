"""metaopt._signals: StopGuard (which signal it keeps), hold_signals, pid_alive."""

import os
import signal
import subprocess
import sys
from types import SimpleNamespace

import pytest

from metaopt import _signals
from metaopt._signals import StopGuard, hold_signals, pid_alive


def test_a_process_is_alive_until_it_is_gone():
    dead = int(subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                              capture_output=True, text=True, check=True).stdout)
    assert pid_alive(os.getpid()) and not pid_alive(dead)


def test_outside_posix_no_process_is_signalled(monkeypatch):
    """On Windows os.kill(pid, 0) terminates the process (TerminateProcess, exit code 0):
    a share of a fit's data, or KnowledgeBase.runs(), killed the other metaopt
    processes it asked about. There no process is taken for gone."""
    def kill(pid, sig):
        raise AssertionError(f"os.kill({pid}, {sig})")

    monkeypatch.setattr(_signals, "os", SimpleNamespace(name="nt", kill=kill))
    assert pid_alive(12345)


def test_the_first_signal_is_kept():
    """A second signal replaced the first one's number: a command stopped by SIGTERM
    that got a SIGINT while it ended exited 130, not 143."""
    with StopGuard() as guard:
        with pytest.raises(KeyboardInterrupt):
            signal.getsignal(signal.SIGTERM)(signal.SIGTERM, None)
        guard.hold()
        signal.getsignal(signal.SIGINT)(signal.SIGINT, None)  # recorded, raises nothing
    assert guard.signum == signal.SIGTERM


def test_hold_signals_holds_the_innermost_guard_installed():
    hold_signals()  # no guard: nothing to hold, nothing raised
    with StopGuard() as outer, StopGuard() as inner:
        hold_signals()
        signal.getsignal(signal.SIGTERM)(signal.SIGTERM, None)  # inner's: recorded only
    assert (outer._held, inner._held, inner.signum) == (False, True, signal.SIGTERM)
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL  # given back
    assert not _signals._installed  # a guard left is held by hold_signals no more
