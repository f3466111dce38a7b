"""A run killed between writing a job's temporary file and renaming it left the file
behind unless that job ran again; the next run on the directory removes it, and only it."""

from __future__ import annotations

import socket
import subprocess
import sys
import textwrap

from metaopt.benchmark import load_results, run

SMALL = dict(methods=["default"], budget_trials=1, folds=2, cv_folds=2, spaces="linear",
             max_rows=100, time_limit=None, progress=False)

# SIGKILL itself once the first job's results are written to their temporary file
KILLED_RUN = """
import os, signal, sys
from metaopt.benchmark import _runner
from metaopt.data import get_suite

def killed(src, dst):
    if os.path.basename(os.path.dirname(dst)) == "jobs":
        os.kill(os.getpid(), signal.SIGKILL)
    os.rename(src, dst)

_runner.os.replace = killed
suite = get_suite("pmlb-classification", root=sys.argv[1]).select(limit=2)
_runner.run(suite, sys.argv[2], **{small!r})
"""


def test_a_resumed_run_removes_a_killed_runs_temp_files_only(pmlb_root, pmlb_suite, tmp_path):
    script = textwrap.dedent(KILLED_RUN).format(small=SMALL)
    killed = subprocess.run([sys.executable, "-c", script, str(pmlb_root), str(tmp_path)],
                            capture_output=True, text=True, timeout=120)
    assert killed.returncode == -9, killed.stderr
    left = [p.name for p in (tmp_path / "jobs").iterdir()]
    assert len(left) == 1 and left[0].endswith(".tmp"), left
    # a live process's temporary file (a run writing now) and another machine's are kept
    with subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"]) as live:
        try:
            kept = [tmp_path / "jobs" / f"other.jsonl.{live.pid}.{socket.gethostname()}.tmp",
                    tmp_path / "jobs" / "other.jsonl.1.another-machine.tmp",
                    tmp_path / "notes.tmp"]  # not the run's
            for path in kept:
                path.write_text("")
            # another method added: the killed job is not run again, which rewrote
            # and renamed its temporary file; only its stale file is removed
            run(pmlb_suite, tmp_path, **{**SMALL, "methods": ["random"]})
        finally:
            live.kill()
    assert sorted(p.name for p in tmp_path.rglob("*.tmp")) == sorted(p.name for p in kept)
    assert load_results(tmp_path)["method"].value_counts().to_dict() == {"random": 4}
