"""metaopt._signals.pid_alive."""

import os
import subprocess
import sys
from types import SimpleNamespace

from metaopt import _signals
from metaopt._signals import pid_alive


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
