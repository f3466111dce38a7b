"""How well a time-budgeted MetaOptClassifier fit keeps to its budget, cold and warm.

Each dataset runs in a fresh Python process, as a user's script does: a first fit
(``cold``: the trial workers start and import scikit-learn within the budget) and a
second one in the same process (``warm``: the kept workers). Prints per fit the wall
time against ``--budget``, the trials complete and the best CV score, then the mean and
worst overrun; writes ``estimator_overrun.csv`` to ``--out`` (default
``benchmarks/results``, the published file: give another directory to keep it).

    python benchmarks/estimator_overrun.py --budget 10
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
from _common import RESULTS, SHARED_DATA, run_main  # benchmarks/_common.py, beside this script

DATASETS = ("australian", "credit_g", "vehicle", "phoneme", "spambase", "churn", "magic",
            "adult")

# one process per dataset: its two fits, as JSON on the last line of stdout
_CHILD = r"""
import json, sys, time, warnings
from metaopt import MetaOptClassifier
from metaopt.data import LocalSource

root, name, budget, seed = sys.argv[1], sys.argv[2], float(sys.argv[3]), int(sys.argv[4])
data = LocalSource(root).load(name, "classification")
rows = []
for run in ("cold", "warm"):
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = MetaOptClassifier(time_budget=budget, random_state=seed).fit(data.X, data.y)
    trials = model.study_.trials
    rows.append({"dataset": name, "fit": run, "seconds": time.perf_counter() - start,
                 "complete": sum(t.state.name == "COMPLETE" for t in trials),
                 "trials": len(trials), "best_score": model.best_score_})
print(json.dumps(rows))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=float, default=10.0, help="seconds (default 10)")
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS),
                        help="pmlb classification datasets (default: 8 of 690-48,842 rows)")
    parser.add_argument("--pmlb", type=Path, default=SHARED_DATA / "pmlb",
                        help="pmlb-layout directory (default: the shared data's)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=RESULTS,
                        help="directory of the CSV (default: benchmarks/results)")
    args = parser.parse_args()
    if args.budget <= 0:
        raise ValueError(f"--budget must be > 0, got {args.budget}")
    rows = []
    for name in args.datasets:
        child = subprocess.run([sys.executable, "-c", _CHILD, str(args.pmlb), name,
                                str(args.budget), str(args.seed)],
                               capture_output=True, text=True, check=False)
        if child.returncode != 0:
            raise ValueError(f"{name}: {child.stderr.strip().splitlines()[-1]}")
        for row in json.loads(child.stdout.strip().splitlines()[-1]):
            row["overrun"] = row["seconds"] / args.budget - 1
            rows.append(row)
            print(f"{name:<12} {row['fit']:<5} {row['seconds']:6.2f} s ({row['overrun']:+.1%})"
                  f"  {row['complete']}/{row['trials']} complete  best {row['best_score']:.4f}",
                  flush=True)
    table = pd.DataFrame(rows)
    args.out.mkdir(parents=True, exist_ok=True)
    table.to_csv(args.out / "estimator_overrun.csv", index=False)
    print(table.groupby("fit", sort=False)["overrun"].agg(["mean", "max"])
          .map(lambda v: f"{v:+.1%}").to_string())


if __name__ == "__main__":
    run_main(main)
