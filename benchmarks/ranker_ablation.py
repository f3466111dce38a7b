"""What each part of metaopt's ranker contributes, on TabRepo (leave-tasks-out CV).

Variants (all start with the same 3 greedy-portfolio picks, then differ in the ranker;
all but ``metaopt-ranker-only`` blend it with the portfolio's configuration covariance,
as the shipped TabRepo model does):

* ``metaopt``           -- Meta-SGD adaptation (learned per-parameter inner learning rates)
* ``metaopt-ranker-only`` -- the same without the covariance blend
* ``metaopt-maml``      -- MAML adaptation (one shared inner learning rate, second order)
* ``metaopt-anil``      -- only the ranker's last layer adapts
* ``metaopt-zeroshot``  -- no adaptation: the meta-trained ranker never sees the new task's scores
* ``metaopt-untrained`` -- no meta-training: the ranker is its random initialisation, adapted
* ``portfolio``         -- no ranker at all: the greedy portfolio, in order

Every variant is meta-trained in each fold on the training tasks only. Each variant's
curves are appended to ``results/ranker_ablation_curves.csv`` (``--out``) as soon as it
finishes, so an interrupted run resumes with the next variant; the settings are kept
beside it (``.settings.json``), and a run with other settings is refused there (give it
its own ``--out``). Prints mean normalized regret
(mean rank among the variants) and writes ``results/ranker_ablation.png``.

    python benchmarks/ranker_ablation.py                 # 5-fold CV, 1 seed
    python benchmarks/ranker_ablation.py --tasks 20 --out /tmp/quick.csv   # a quick look
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pandas as pd
from _common import SHARED_DATA, check_out, run_main  # benchmarks/_common.py, beside this script

from metaopt.benchmark._metrics import add_ranks, summary_table
from metaopt.benchmark._plots import plot_curves
from metaopt.benchmark._surrogate import load_tabrepo_matrix, tabrepo_benchmark

RESULTS = Path(__file__).resolve().parent / "results"
TABREPO = SHARED_DATA / "tabrepo-lightgbm"
VARIANTS = ["metaopt", "metaopt-ranker-only", "metaopt-maml", "metaopt-anil",
            "metaopt-zeroshot", "metaopt-untrained", "portfolio"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(TABREPO), help="TabRepo-layout directory")
    parser.add_argument("--variants", default=",".join(VARIANTS))
    parser.add_argument("--cv", type=int, default=5)
    parser.add_argument("--seeds", type=int, default=1)
    parser.add_argument("--budgets", default="1,3,5,10,25,50")
    parser.add_argument("--tasks", type=int, help="only the first N tasks (quick look)")
    parser.add_argument("--out", default=str(RESULTS / "ranker_ablation_curves.csv"))
    args = parser.parse_args()
    out = Path(args.out)
    check_out(out, data=(args.data, TABREPO))
    variants = args.variants.split(",")
    budgets = [int(b) for b in args.budgets.split(",")]
    settings = {"data": Path(args.data).name, "cv": args.cv, "seeds": args.seeds,
                "budgets": budgets, "tasks": args.tasks}
    record = out.with_suffix(".settings.json")
    if out.exists():
        saved = json.loads(record.read_text()) if record.exists() else None
        if saved != settings:
            parser.error(f"{out} holds a run with other settings ({saved}): pass another "
                         "--out for these")
    out.parent.mkdir(parents=True, exist_ok=True)
    record.write_text(json.dumps(settings) + "\n")
    tasks = None
    if args.tasks:
        tasks = list(load_tabrepo_matrix(args.data).tasks.index[: args.tasks])
    done = set(pd.read_csv(out)["method"]) if out.exists() else set()
    for variant in variants:
        if variant in done:
            print(f"{variant}: already in {out}")
            continue
        result = tabrepo_benchmark(args.data, cv=args.cv, methods=[variant], budgets=budgets,
                                   seeds=args.seeds, tasks=tasks)
        if result.interrupted:  # Ctrl-C: a cut variant is not done; a resume redoes it
            raise KeyboardInterrupt
        result.curves.drop(columns="rank").to_csv(out, mode="a", header=not out.exists(),
                                                  index=False)
        print(f"{variant}: done", flush=True)
    curves = pd.read_csv(out)
    curves = add_ranks(curves[curves["method"].isin(variants)], ["task", "seed", "budget"])
    print("mean normalized regret (mean rank among the variants), "
          f"{curves['task'].nunique()} tasks, {args.cv}-fold leave-tasks-out CV")
    print(summary_table(curves, methods=variants).to_string())
    plot = plot_curves(curves, out.with_name("ranker_ablation.png"), methods=variants,
                       title="TabRepo LightGBM: ranker ablation (leave-tasks-out CV)")
    print(f"plot: {plot}")


if __name__ == "__main__":
    run_main(main)
