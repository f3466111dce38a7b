"""Where the seconds of a time-budgeted MetaOptClassifier / MetaOptRegressor fit go.

On the held-out datasets and 70 % splits of ``estimator_vs_peers.py``, one fit per
dataset with ``time_budget=B``; prints per fit the complete trials, the seconds of the
trial killed at the budget (and its family; ``*`` marks an exploration proposal) and
the seconds of the exploration proposals (every 4th after the warm start), and writes
them to ``estimator_time_<task>.csv`` in ``--out`` (default ``benchmarks/results``,
the published file: give another directory to keep it).

    python benchmarks/estimator_time.py --task regression --budget 30 --seed 0
"""

from __future__ import annotations

import argparse
import warnings
from pathlib import Path

import optuna
import pandas as pd
from _common import run_main  # benchmarks/_common.py, beside this script
from estimator_vs_peers import RESULTS, held_out_datasets  # beside this script
from sklearn.model_selection import train_test_split

from metaopt import MetaOptClassifier, MetaOptRegressor


def _seconds(trial: optuna.trial.FrozenTrial) -> float:
    return (trial.datetime_complete - trial.datetime_start).total_seconds()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", choices=("classification", "regression"),
                        default="regression")
    parser.add_argument("--datasets", type=int, default=10)
    parser.add_argument("--budget", type=float, default=30.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=RESULTS,
                        help="directory of the CSV (default: benchmarks/results)")
    args = parser.parse_args()
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    warnings.filterwarnings("ignore")
    estimator = MetaOptClassifier if args.task == "classification" else MetaOptRegressor
    rows = []
    # estimator_vs_peers.py's defaults: at most 5000 rows, after the 50 smallest
    for data in held_out_datasets(args.task, args.datasets, max_rows=5000, after=50):
        X_tr, _, y_tr, _ = train_test_split(
            data.X, data.y, test_size=0.3, random_state=args.seed,
            stratify=data.y if args.task == "classification" else None)
        model = estimator(n_trials=None, time_budget=args.budget, cv=3,
                          random_state=args.seed).fit(X_tr, y_tr)
        seconds = pd.Series({t.number: _seconds(t) for t in model.study_.trials
                             if t.datetime_complete is not None})
        history = model.history_.set_index("trial").loc[seconds.index].assign(seconds=seconds)
        explored = history["reason"].str.contains("exploration")
        # a pruned trial that ran (not one stopped before it started) was killed
        killed = history[(history["state"] == "PRUNED") & (history["seconds"] > 0.5)]
        rows.append({
            "dataset": data.name, "complete": int((history["state"] == "COMPLETE").sum()),
            "killed_s": killed["seconds"].sum(),
            "killed": ",".join(family + "*" * bool(explored[trial])
                               for trial, family in killed["family"].items()),
            "exploration_s": history.loc[explored, "seconds"].sum(),
            "fit_s": model.fit_time_,
        })
        row = rows[-1]
        print(f"{row['dataset']:<24} {row['complete']:3d} complete; killed {row['killed_s']:4.1f} s "
              f"({row['killed'] or '-'}); exploration {row['exploration_s']:4.1f} s; "
              f"fit {row['fit_s']:.1f} s", flush=True)
    table = pd.DataFrame(rows)
    args.out.mkdir(parents=True, exist_ok=True)
    table.to_csv(args.out / f"estimator_time_{args.task}.csv", index=False)
    print(table[["complete", "killed_s", "exploration_s", "fit_s"]].describe()
          .loc[["mean", "min", "max"]].round(1).to_string())


if __name__ == "__main__":
    run_main(main)
