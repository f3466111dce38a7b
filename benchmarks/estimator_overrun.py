"""How well a time-budgeted MetaOptClassifier fit keeps to its budget, cold and warm.

Each dataset runs in a fresh Python process, as a user's script does, split once into a
stratified 75 % to fit on and 25 % to score on (``--seed`` picks the split and seeds the
fits): a first fit (``cold``: the trial workers start and import scikit-learn within
the budget), a second one in the same process (``warm``: the kept workers) and, with
``--fits N`` past 2, more warm ones (``warm2`` .. ``warm<N-1>``). ``--busy N`` runs N
busy-loop processes beside the fits (started before the first dataset, killed at the
end), to measure them on a loaded machine. Prints per fit the wall time against
``--budget``, the trials complete, the best CV score, the test accuracy and, for a fit
that raised, its error (the run goes on: the row has the error and no scores); then per
kind of fit the mean and worst overrun, the mean test accuracy and the fits that raised.
Writes ``estimator_overrun.csv`` to ``--out`` (default ``benchmarks/results``, the
published file: give another directory to keep it), a row per fit: ``dataset``, ``fit``,
``seconds``, ``complete``, ``trials``, ``best_score``, ``overrun`` (seconds / budget - 1),
``test_score``, ``error``, ``busy``.

    python benchmarks/estimator_overrun.py --budget 10
    python benchmarks/estimator_overrun.py --budget 10 --busy 1 --fits 3
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import subprocess
import sys
import time
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pandas as pd
from _common import RESULTS, SHARED_DATA, run_main  # benchmarks/_common.py, beside this script

DATASETS = ("australian", "credit_g", "vehicle", "phoneme", "spambase", "churn", "magic",
            "adult")
#: the characters of a fit's exception kept in its row
ERROR_CHARS = 200
#: a busy process's code, given its parent's pid: it spins a core, and ends once that
#: parent is gone (a killed run, whose cleanup did not run, leaves no loop behind)
BUSY_LOOP = """
import os, sys
while os.getppid() == int(sys.argv[1]):
    for _ in range(1_000_000):
        pass
"""

# one process per dataset: its fits, as JSON on the last line of stdout
_CHILD = r"""
import sys
sys.path.insert(0, sys.argv[1])
import estimator_overrun
estimator_overrun.child(sys.argv[2:])
"""


def fit_name(i: int) -> str:
    """The kind of the ``i``-th fit in a process: ``cold``, ``warm``, ``warm2``, ..."""
    return "cold" if i == 0 else "warm" if i == 1 else f"warm{i}"


def run_fits(name: str, split: tuple, fits: int, make: Callable[[], Any]) -> list[dict]:
    """``fits`` fits, one after the other, of an estimator ``make()`` returns on the
    training part of ``split`` (``X_train, X_test, y_train, y_test``), scored by accuracy
    on the test part: a row each. A fit that raises is a row too, with its error (the
    exception's first :data:`ERROR_CHARS` characters) and NaN scores and trials."""
    from sklearn.metrics import accuracy_score

    X_tr, X_te, y_tr, y_te = split
    rows = []
    for i in range(fits):
        row: dict[str, Any] = {"dataset": name, "fit": fit_name(i)}
        start = time.perf_counter()
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                model = make().fit(X_tr, y_tr)
        except Exception as exc:  # a fit that raises is a result too: the run goes on
            row.update(seconds=time.perf_counter() - start, complete=math.nan,
                       trials=math.nan, best_score=math.nan, test_score=math.nan,
                       error=f"{type(exc).__name__}: {exc}"[:ERROR_CHARS])
        else:
            row["seconds"] = time.perf_counter() - start  # the fit's, not the scoring's
            trials = model.study_.trials
            row.update(complete=sum(t.state.name == "COMPLETE" for t in trials),
                       trials=len(trials), best_score=float(model.best_score_),
                       test_score=float(accuracy_score(y_te, model.predict(X_te))), error="")
        rows.append(row)
    return rows


def child(argv: list[str]) -> None:
    """A dataset's process: ``root name budget seed fits``; prints its rows as JSON."""
    from sklearn.model_selection import train_test_split

    from metaopt import MetaOptClassifier
    from metaopt.data import LocalSource

    root, name, budget, seed, fits = argv[0], argv[1], float(argv[2]), int(argv[3]), int(argv[4])
    data = LocalSource(root).load(name, "classification")
    split = train_test_split(data.X, data.y, test_size=0.25, random_state=seed,
                             stratify=data.y)
    rows = run_fits(name, split, fits,
                    lambda: MetaOptClassifier(time_budget=budget, random_state=seed))
    print(json.dumps(rows))  # NaN: JSON's NaN, which json.loads reads back


@contextlib.contextmanager
def busy_processes(n: int) -> Iterator[list[subprocess.Popen]]:
    """``n`` processes each spinning a core (:data:`BUSY_LOOP`) while the block runs;
    killed when it ends, by an exception or Ctrl-C too."""
    procs: list[subprocess.Popen] = []
    try:
        for _ in range(n):
            procs.append(subprocess.Popen([sys.executable, "-c", BUSY_LOOP, str(os.getpid())],
                                          stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                          stderr=subprocess.DEVNULL))  # Ctrl-C: no traceback
        yield procs
    finally:
        for proc in procs:
            proc.kill()
        for proc in procs:
            proc.wait()


def summary(table: pd.DataFrame) -> pd.DataFrame:
    """Per kind of fit: the mean and worst overrun, the mean test score (of the fits
    that did not raise) and the fits that raised."""
    raised = table["error"].fillna("").astype(bool)
    return table.assign(raised=raised).groupby("fit", sort=False).agg(
        mean=("overrun", "mean"), max=("overrun", "max"), test_score=("test_score", "mean"),
        raised=("raised", "sum"))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog="Each dataset is split once (stratified, 25 % held out, --seed); the fits "
               "are on the 75 %. Columns: dataset, fit, seconds, complete, trials, "
               "best_score, overrun, test_score, error (a fit that raised), busy.")
    parser.add_argument("--budget", type=float, default=10.0, help="seconds (default 10)")
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS),
                        help="pmlb classification datasets (default: 8 of 690-48,842 rows)")
    parser.add_argument("--pmlb", type=Path, default=SHARED_DATA / "pmlb",
                        help="pmlb-layout directory (default: the shared data's)")
    parser.add_argument("--seed", type=int, default=0,
                        help="the train/test split's and the fits' seed (default 0)")
    parser.add_argument("--fits", type=int, default=2,
                        help="fits per dataset in its process: cold, warm, then warm2 .. "
                             "(default 2)")
    parser.add_argument("--busy", type=int, default=0,
                        help="busy-loop processes running beside the fits, a core each, "
                             "from before the first dataset to the end (default 0)")
    parser.add_argument("--out", type=Path, default=RESULTS,
                        help="directory of the CSV (default: benchmarks/results)")
    args = parser.parse_args()
    if args.budget <= 0:
        raise ValueError(f"--budget must be > 0, got {args.budget}")
    if args.fits < 1:
        raise ValueError(f"--fits must be >= 1, got {args.fits}")
    if args.busy < 0:
        raise ValueError(f"--busy must be >= 0, got {args.busy}")
    rows = []
    with busy_processes(args.busy):
        for name in args.datasets:
            proc = subprocess.run([sys.executable, "-c", _CHILD, str(Path(__file__).parent),
                                   str(args.pmlb), name, str(args.budget), str(args.seed),
                                   str(args.fits)],
                                  capture_output=True, text=True, check=False)
            if proc.returncode != 0:
                said = proc.stderr.strip().splitlines() or [f"exit code {proc.returncode}"]
                raise ValueError(f"{name}: {said[-1]}")
            for row in json.loads(proc.stdout.strip().splitlines()[-1]):
                row["overrun"] = row["seconds"] / args.budget - 1
                row["busy"] = args.busy
                rows.append(row)
                done = (f"raised {row['error']}" if row["error"] else
                        f"{row['complete']}/{row['trials']} complete  best "
                        f"{row['best_score']:.4f}  test {row['test_score']:.4f}")
                print(f"{name:<12} {row['fit']:<6} {row['seconds']:6.2f} s "
                      f"({row['overrun']:+.1%})  {done}", flush=True)
    table = pd.DataFrame(rows)[["dataset", "fit", "seconds", "complete", "trials", "best_score",
                                "overrun", "test_score", "error", "busy"]]
    args.out.mkdir(parents=True, exist_ok=True)
    table.to_csv(args.out / "estimator_overrun.csv", index=False)
    stats = summary(table)
    print(pd.DataFrame({"mean overrun": stats["mean"].map(lambda v: f"{v:+.1%}"),
                        "max overrun": stats["max"].map(lambda v: f"{v:+.1%}"),
                        "mean test": stats["test_score"].map(lambda v: f"{v:.4f}"),
                        "raised": stats["raised"]}).to_string())
    print(f"{len(table)} fits of {args.budget:g} s on {len(args.datasets)} dataset(s), "
          f"{args.busy} busy process(es) beside them: {int(stats['raised'].sum())} raised")


if __name__ == "__main__":
    run_main(main)
