"""How low can a warm-start portfolio go on TabRepo? A bound, not a method.

A greedy portfolio chosen on *all* tasks and scored on the same tasks (in-sample) is
the best static list of configurations this meta-dataset admits, up to greedy's
approximation: no method that proposes a fixed order can beat it on average. Printed
next to the same greedy portfolio under leave-tasks-out K-fold CV (what the
``portfolio`` method of ``metaopt benchmark tabrepo --cv`` measures). A method below
the in-sample line at a budget must be adapting to the task's observed scores or
meta-features, not only ordering configurations well.

The *nearest-task oracle* bounds that adaptation when it works by transfer from similar
training tasks (source-task weighting, nearest datasets, a ranker that recognises the
task): for each held-out task it takes the ``k`` training tasks whose regrets agree best
with the held-out task's own over **all** configurations (Spearman), which no method
can know, and follows the greedy portfolio of those ``k`` (after the global portfolio's
first ``--warm`` picks). ``--cv`` equal to the number of tasks is leave-one-out.

    python benchmarks/tabrepo_bounds.py --data ../shared/data/tabrepo-lightgbm
"""

from __future__ import annotations

import argparse

import numpy as np
import pandas as pd
from _common import run_main  # benchmarks/_common.py, beside this script
from scipy.stats import spearmanr

from metaopt._checks import check_int
from metaopt._markdown import markdown_table
from metaopt.benchmark._surrogate import load_tabrepo_matrix, task_folds
from metaopt.ranker._portfolio import greedy_order, warn_every_neighbour


def best_after(regret: np.ndarray, order: list[int], budgets: list[int]) -> list[float]:
    """Mean over tasks (rows) of the best regret among the first ``b`` of ``order``."""
    return [float(regret[:, order[:b]].min(axis=1).mean()) for b in budgets]


def most_similar_first(train: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """Rows of ``train`` ordered by the Spearman correlation of their regrets with
    ``truth``, highest first."""
    similarity = np.array([spearmanr(truth, row)[0] for row in train])
    return np.argsort(-np.nan_to_num(similarity, nan=-1.0), kind="stable")


def nearest_task_oracle(train: np.ndarray, nearest: np.ndarray, warm: list[int],
                        n: int) -> list[int]:
    """The first ``n`` picks: ``warm``, then the greedy portfolio of the training tasks
    (rows of ``train``) at ``nearest``."""
    return list(warm) + greedy_order(train[nearest], n, chosen=warm)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, help="TabRepo-layout directory")
    parser.add_argument("--budgets", default="1,3,5,10,25,50")
    parser.add_argument("--cv", type=int, default=5)
    parser.add_argument("--cv-seed", type=int, default=0)
    parser.add_argument("--neighbours", default="1,3,10", help="k of the nearest-task oracle")
    parser.add_argument("--warm", type=int, default=3,
                        help="global portfolio picks before the oracle's (metaopt's n_warmup)")
    args = parser.parse_args(argv)
    budgets = [int(b) for b in args.budgets.split(",")]

    matrix = load_tabrepo_matrix(args.data)
    regret = np.nan_to_num(matrix.regret(), nan=1.0)  # a missing score counts as worst
    keys = list(matrix.tasks.index)
    in_sample = best_after(regret, greedy_order(regret, max(budgets)), budgets)

    neighbours = [check_int(int(k), "--neighbours") for k in args.neighbours.split(",")]
    folds = task_folds(keys, args.cv, args.cv_seed)
    for k in neighbours:  # k >= a fold's training tasks: that fold's CV portfolio again
        warn_every_neighbour(k, min(len(train) for train, _ in folds), "--neighbours",
                             "the greedy portfolio's CV column")
    n = max(budgets)
    cv = np.zeros(len(budgets))
    oracle = {k: np.zeros(len(budgets)) for k in neighbours}
    for train, test in folds:
        rows_train = [keys.index(k) for k in train]
        rows_test = [keys.index(k) for k in test]
        order = greedy_order(regret[rows_train], n)
        cv += np.array(best_after(regret[rows_test], order, budgets)) * len(test)
        for row in rows_test:
            truth = regret[row]
            ranked = most_similar_first(regret[rows_train], truth)
            for k in neighbours:
                picks = nearest_task_oracle(regret[rows_train], ranked[:k], order[:args.warm], n)
                oracle[k] += best_after(truth[None, :], picks, budgets)
    cv /= len(keys)

    print(f"{matrix.n_tasks} tasks x {matrix.n_configs} configurations; mean normalized regret")
    columns = {"greedy portfolio, in-sample (bound)": in_sample,
               f"greedy portfolio, {args.cv}-fold CV": cv}
    for k in neighbours:
        columns[f"nearest-task oracle, k={k}"] = oracle[k] / len(keys)
    table = pd.DataFrame(columns, index=pd.Index(budgets, name="budget"))
    print(markdown_table(table, ".4f"))


if __name__ == "__main__":
    run_main(main)
