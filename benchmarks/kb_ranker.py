"""Does a knowledge-base meta-model rank configurations it was never trained on?

Most shipped knowledge-base models (`metaopt/_models/<space>@<task>`) were trained on a
shared design of 10 configurations per dataset (docs/ranker.md names the three retrained
on all 20), yet they rank hundreds of random candidates. This measures what that costs,
on the knowledge base's own data,
leave-datasets-out: the candidates of a held-out dataset are *all* its shared design
configurations, and each method is meta-trained on the other datasets with either

* ``<method>@10``: only the first 10 design configurations (``design-000`` .. ``009``),
  as most shipped models were: the other candidates are new to it; or
* ``<method>@all``: every shared design configuration (a knowledge base grown in depth).

Methods: ``metaopt`` (portfolio warm start + Meta-SGD ranker, shipped defaults),
``portfolio`` (greedy), ``random``. Mean normalized regret per budget, per space.

    python benchmarks/kb_ranker.py --cv 3 --seeds 3     # the shipped knowledge base
    python benchmarks/kb_ranker.py --kb kb.sqlite --spaces random_forest,svm --out DIR/kb_ranker.csv
"""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

import pandas as pd
from _common import (  # benchmarks/_common.py, beside this script
    check_out,
    run_main,
    single_threaded,
)

from metaopt._markdown import markdown_table
from metaopt.benchmark._methods import make_method, register_method
from metaopt.benchmark._surrogate import evaluate_methods, matrix_tasks, task_folds
from metaopt.kb import open_knowledge_base
from metaopt.ranker import PerformanceMatrix
from metaopt.spaces import get_space

RESULTS = Path(__file__).resolve().parent / "results"
N_SHIPPED = 10  # design configurations most shipped knowledge-base models were trained on


def first_designs(matrix: PerformanceMatrix, n: int) -> PerformanceMatrix:
    """``matrix`` with only the configurations ``design-000`` .. ``design-{n-1}``."""
    keep = [i for i, d in enumerate(matrix.configs["design_id"])
            if isinstance(d, str) and int(d.split("-")[1]) < n]
    return dataclasses.replace(matrix, configs=matrix.configs.iloc[keep],
                               scores=matrix.scores[:, keep])


class TrainedOnFirst:
    """A benchmark method meta-trained on the first ``n`` design configurations only."""

    def __init__(self, base: str, n: int) -> None:
        self.method = make_method(base)
        self.n = n

    def fit(self, train: PerformanceMatrix) -> None:
        self.method.fit(first_designs(train, self.n))

    def run(self, problem, budget: int, seed: int):
        return self.method.run(problem, budget, seed)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kb", default="default",
                        help="'default', a knowledge-base parquet export or a store (SQLite)")
    parser.add_argument("--spaces", default="hist_gradient_boosting,random_forest,extra_trees,"
                        "linear,svm,knn")
    parser.add_argument("--task", default="classification",
                        choices=["classification", "regression"])
    parser.add_argument("--cv", type=int, default=5)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--budgets", default="1,3,5,10")
    parser.add_argument("--out", default=str(RESULTS / "kb_ranker.csv"))
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    single_threaded(args.threads)
    check_out(args.out, kb=(args.kb, "default"))
    frame = open_knowledge_base(args.kb).to_frame()
    methods = []
    for base in ("metaopt", "portfolio"):
        for suffix, n in (("@10", N_SHIPPED), ("@all", None)):
            name = base + suffix
            register_method(name, (lambda base=base, n=n: TrainedOnFirst(base, n))
                            if n is not None else (lambda base=base: make_method(base)))
            methods.append(name)
    methods.append("random")
    budgets = [int(b) for b in args.budgets.split(",")]
    curves = []
    for space in args.spaces.split(","):
        matrix = PerformanceMatrix.from_frame(frame, space, task=args.task)
        print(f"{space}: {matrix.n_tasks} datasets x {matrix.n_configs} shared configurations",
              flush=True)
        splits = [(matrix.subset(train), matrix_tasks(matrix.subset(test), get_space(space)))
                  for train, test in task_folds(list(matrix.tasks.index), args.cv)]
        result = evaluate_methods(splits, methods, budgets, args.seeds, progress=False)
        if result.interrupted:  # Ctrl-C: stop, not the next space with this one cut
            raise KeyboardInterrupt
        curves.append(result.curves.assign(space=space))
    curves = pd.concat(curves, ignore_index=True)
    curves.to_csv(args.out, index=False)
    table = curves.groupby(["space", "budget", "method"])["regret"].mean().unstack()[methods]
    print(f"\nmean normalized regret on held-out datasets ({args.task}, {args.cv}-fold "
          f"leave-datasets-out, {args.seeds} seeds); candidates: all shared configurations")
    print(markdown_table(table, ".4f"))
    overall = curves.groupby(["budget", "method"])["regret"].mean().unstack()[methods]
    print("\nall spaces")
    print(markdown_table(overall, ".4f"))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    run_main(main)
