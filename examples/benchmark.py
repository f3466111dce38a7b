"""Benchmark optimizers from Python: a surrogate benchmark on TabRepo, then real fits on pmlb.

    python examples/benchmark.py                          # both parts, ~35 s
    python examples/benchmark.py --part surrogate --cv 5 --seeds 5 --full-metaopt
    python examples/benchmark.py --part real --limit 4 --trials 10 --out runs/bench

1. ``--part surrogate``: ``metaopt.benchmark.tabrepo_benchmark`` on the TabRepo LightGBM
   meta-dataset (73 tasks x 104 configurations, precomputed scores), leave-tasks-out
   ``--cv`` folds: random search, TPE, the greedy portfolio, metaopt and a method of
   our own, ``best-on-average`` (a ``Method`` subclass registered with
   ``register_method``: the training configurations by mean regret, best first, the
   same list on every task). Prints the mean normalized regret (mean rank) of each
   method after each of ``--budgets`` evaluations, then metaopt against the best of
   the others at the largest budget, the lowest mean regret there
   (``SurrogateResult.means``, the table's numbers), with ``SurrogateResult.paired``:
   the mean regret difference, its 95 % interval over tasks and the (task, seed) runs
   won/tied/lost.
   By default the metaopt column is ``metaopt-small``, metaopt with a smaller ranker
   (1 member x 200 meta-iterations, ~4 s per fold here) registered the same way;
   ``--full-metaopt`` runs the benchmark's own ``metaopt`` (5 x 1000, ~100 s per fold).
2. ``--part real``: ``metaopt.benchmark.run`` tunes ``--spaces`` on the ``--limit``
   smallest pmlb classification datasets with random search, Optuna's scrambled
   ``QMCSampler`` (registered with ``register_sampler`` as ``qmc``) and metaopt
   (``MetaSampler`` with the shipped meta-model), ``--trials`` trials per job, one job per
   (dataset, method, seed, outer fold), each written to ``--out/jobs/`` as it finishes:
   rerun the same command and the finished jobs are kept (resumed, not rerun). Then
   ``report`` writes ``report.md``, ``regret.png`` and ``rank.png`` into ``--out`` (and
   ``cd.png``, the critical-difference diagram, from 5 datasets on); it prints their
   paths and the final table (test accuracy, trials and seconds of tuning per job, jobs
   failed) with its legend (``final_table_legend``).
   The default space is one family, ``knn`` (fast fits): QMC's design spans the
   parameters of the first trial, so of several families (``--spaces all``) it samples
   the others' at random.

On this 2-core machine (one core used) the defaults take about 35 s: 25 s for the
surrogate part, 13 s for the real one (imports included in each). Data:
``$METAOPT_SHARED_DATA/tabrepo-lightgbm`` and ``$METAOPT_SHARED_DATA/pmlb`` (by default
``../shared/data`` beside the repository; ``--data`` and ``--root`` override them).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np
import optuna

from metaopt.benchmark import (
    Method,
    Problem,
    final_table,
    final_table_legend,
    make_method,
    register_method,
    register_sampler,
    report,
    run,
    tabrepo_benchmark,
)
from metaopt.data import get_suite
from metaopt.ranker import PerformanceMatrix

SHARED = Path(os.environ.get("METAOPT_SHARED_DATA",
                             Path(__file__).resolve().parents[2] / "shared" / "data"))


class BestOnAverage(Method):
    """The training configurations by mean normalized regret over the training tasks,
    best first: the same list on every test task (a zero-shot baseline)."""

    name = "best-on-average"

    def fit(self, train: PerformanceMatrix) -> None:
        # regret per task in [0, 1] (NaN: not evaluated there), averaged per configuration
        mean_regret = np.nanmean(train.regret(), axis=0)
        order = np.argsort(mean_regret, kind="stable")
        self.params_ = [train.configs["params"].iloc[i] for i in order]

    def run(self, problem: Problem, budget: int, seed: int) -> list[int | dict]:
        # a configuration the task lacks is snapped to its nearest untried candidate
        for params in self.params_[:budget]:
            problem.evaluate(params)
        return problem.history


def qmc_sampler(dataset, seed: int) -> optuna.samplers.BaseSampler:
    """Optuna's quasi-Monte Carlo sampler (scrambled Sobol, so each seed differs)."""
    return optuna.samplers.QMCSampler(scramble=True, seed=seed,
                                      warn_independent_sampling=False)


def need(path: Path, what: str) -> Path:
    if not path.is_dir():
        sys.exit(f"no {what} at {path}: pass it, or set METAOPT_SHARED_DATA to the folder "
                 f"that holds {path.name}/")
    return path


def surrogate(args: argparse.Namespace) -> None:
    data = need(Path(args.data), "TabRepo data (--data)")
    ours = "metaopt"
    if not args.full_metaopt:
        ours = "metaopt-small"
        # options of make_method("metaopt", ...) go to its ConfigRanker
        register_method(ours, lambda: make_method("metaopt", n_ensemble=1, iterations=200))
    register_method(BestOnAverage.name, BestOnAverage)
    methods = ["random", "tpe", "portfolio", BestOnAverage.name, ours]
    budgets = [int(b) for b in args.budgets.split(",")]
    result = tabrepo_benchmark(data, cv=args.cv, methods=methods, budgets=budgets,
                               seeds=args.seeds)
    n_tasks = result.curves["task"].nunique()
    print(f"TabRepo LightGBM, {args.cv}-fold leave-tasks-out CV, {n_tasks} tasks x "
          f"{args.seeds} seed(s): mean normalized regret (mean rank), 0 = the task's best "
          "configuration, rank 1 = best method")
    print(result.table().to_string())
    for name, reason in result.not_applicable.items():
        print(f"  {name}: n/a - {reason}")

    # the best peer: lowest mean regret at the largest budget (the table's numbers)
    peer = result.means().xs(max(budgets), level="budget")["regret"].drop(ours).idxmin()
    paired = result.paired(ours).xs(peer, level="against")
    print(f"\n{ours} against the best other method at {max(budgets)} evaluations, {peer}: "
          f"mean regret difference (negative: {ours} lower), 95 % interval over tasks, "
          "(task, seed) runs won/tied/lost")
    print(paired.to_string())


def real(args: argparse.Namespace) -> None:
    root = need(Path(args.root), "pmlb data (--root)")
    register_sampler("qmc", qmc_sampler)
    methods = ["random", "qmc", "metaopt"]
    suite = get_suite("pmlb-classification", root=root).select(limit=args.limit,
                                                               smallest_first=True)
    print(f"\nreal fits: {', '.join(r.name for r in suite)}; {', '.join(methods)}; "
          f"{args.trials} trials of {args.spaces} per job, 2 outer folds, 2-fold inner CV")
    frame = run(suite, args.out, methods=methods, budget_trials=args.trials, seeds=1,
                folds=2, cv_folds=2, spaces=args.spaces, n_jobs=args.n_jobs)
    n_jobs, ran = frame["job"].nunique(), frame.attrs["jobs_run"]
    print(f"{n_jobs} jobs in {args.out}: {ran} run now, {n_jobs - ran} kept from an "
          "earlier run")
    path = report(args.out)
    plots = [p for p in (path.parent / n for n in ("regret.png", "rank.png", "cd.png"))
             if p.is_file()]
    print(f"report: {path}; plots: {', '.join(map(str, plots))}")
    print(final_table(frame, methods).to_string())
    print(final_table_legend(frame))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=("surrogate", "real", "both"), default="both")
    group = parser.add_argument_group("surrogate benchmark")
    group.add_argument("--data", default=str(SHARED / "tabrepo-lightgbm"),
                       help="TabRepo-layout directory (default: "
                            "$METAOPT_SHARED_DATA/tabrepo-lightgbm)")
    group.add_argument("--cv", type=int, default=3, help="leave-tasks-out folds")
    group.add_argument("--seeds", type=int, default=1)
    group.add_argument("--budgets", default="1,3,5,10", help="comma-separated")
    group.add_argument("--full-metaopt", action="store_true",
                       help="the benchmark's own metaopt (5 ranker members x 1000 "
                            "meta-iterations: ~100 s per fold)")
    group = parser.add_argument_group("real fits")
    group.add_argument("--root", default=str(SHARED / "pmlb"),
                       help="a PMLB copy (default: $METAOPT_SHARED_DATA/pmlb)")
    group.add_argument("--limit", type=int, default=3, help="the N smallest datasets")
    group.add_argument("--trials", type=int, default=5, help="trials per job")
    group.add_argument("--spaces", default="knn",
                       help="model families searched, comma-separated, or all")
    group.add_argument("--n-jobs", type=int, default=1, help="jobs run in parallel")
    group.add_argument("--out", default="runs/benchmark",
                       help="results directory (resumed when it exists)")
    args = parser.parse_args()
    if args.part in ("surrogate", "both"):
        surrogate(args)
    if args.part in ("real", "both"):
        real(args)


if __name__ == "__main__":
    main()
