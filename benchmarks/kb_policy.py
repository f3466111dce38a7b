"""Variants of the knowledge-base meta-model, leave-datasets-out on the knowledge base.

The shipped ``all@classification`` / ``all@regression`` models are a greedy portfolio
and a Meta-SGD ranker of 3 members x 400 meta-iterations (covariance blend off, 3
portfolio warm starts). This meta-trains variants of them on 4/5 of the default
knowledge base's datasets and runs each on the held-out fifth, on the finite set of the
matrix's shared configurations (the HPO-B protocol of ``metaopt benchmark tabrepo``):
mean normalized regret per budget. No benchmark or development dataset is used.

Variants: ``shipped``; ``zeroshot`` (the ranker without adaptation); ``it2000`` (2000
meta-iterations); ``nomf`` (the ranker without meta-features); ``cov3`` (blended with
the portfolio's covariance, weight 3, as the TabRepo model); ``w5`` / ``w10`` (5 / 10
portfolio warm starts); ``lr0.2`` / ``lr0.5`` / ``lr1`` (Meta-SGD's inner learning
rates start at 0.2 / 0.5 / 1 instead of 0.05); ``portfolio`` (the greedy portfolio alone); ``random``.

    python benchmarks/kb_policy.py --task classification --variants portfolio,shipped,w10
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from _common import run_main, single_threaded  # benchmarks/_common.py, beside this script

from metaopt._markdown import markdown_table
from metaopt.benchmark._methods import MetaOpt, register_method
from metaopt.benchmark._surrogate import evaluate_methods, matrix_tasks, task_folds
from metaopt.kb import open_knowledge_base
from metaopt.ranker import MetaModel, PerformanceMatrix, load_meta_model
from metaopt.spaces import get_space

RESULTS = Path(__file__).resolve().parent / "results"
VARIANTS = {
    "shipped": {},
    "zeroshot": {"algorithm": "none"},
    "it2000": {"iterations": 2000},
    "nomf": {"use_metafeatures": False},
    "cov3": {"covariance_weight": 3.0},
    "w5": {"n_warmup": 5},
    "w10": {"n_warmup": 10},
    "lr0.2": {"inner_lr": 0.2},
    "lr0.5": {"inner_lr": 0.5},
    "lr1": {"inner_lr": 1.0},
}


def shipped_options(model: MetaModel) -> dict:
    """``MetaOpt`` options that rebuild the shipped ``model``: its ranker's size and seed
    and its policy (the other settings are ``ConfigRanker``'s and ``MetaOpt``'s defaults,
    as in the shipped models)."""
    ranker = model.ranker
    return {"n_ensemble": ranker.n_ensemble, "iterations": ranker.iterations,
            "random_state": ranker.random_state, "n_warmup": model.n_warmup,
            "exploration": model.exploration, "covariance_weight": model.covariance_weight}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", default="classification",
                        choices=["classification", "regression"])
    parser.add_argument("--space", default="all")
    parser.add_argument("--variants", default="portfolio,shipped,zeroshot,w5,w10",
                        help=f"comma-separated, of {['portfolio', 'random', *VARIANTS]}")
    parser.add_argument("--cv", type=int, default=5)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--budgets", default="1,3,5,10,25")
    parser.add_argument("--out", type=Path, default=None,
                        help="CSV of the curves (default: results/kb_policy_<task>.csv)")
    args = parser.parse_args()
    single_threaded(1)
    shipped = shipped_options(load_meta_model(args.space, args.task))
    methods = []
    for variant in args.variants.split(","):
        if variant in ("portfolio", "random"):
            methods.append(variant)
            continue
        if variant not in VARIANTS:
            parser.error(f"unknown variant {variant!r}; accepted: {list(VARIANTS)}")
        options = {**shipped, **VARIANTS[variant]}
        register_method(variant, lambda options=options: MetaOpt(**options))
        methods.append(variant)
    matrix = PerformanceMatrix.from_frame(open_knowledge_base("default").to_frame(),
                                          args.space, task=args.task)
    print(f"{args.space}@{args.task}: {matrix.n_tasks} datasets x {matrix.n_configs} shared "
          "configurations", flush=True)
    space = get_space(args.space)
    splits = [(matrix.subset(train), matrix_tasks(matrix.subset(test), space))
              for train, test in task_folds(list(matrix.tasks.index), args.cv)]
    start = time.perf_counter()
    budgets = [int(b) for b in args.budgets.split(",")]
    curves = evaluate_methods(splits, methods, budgets, args.seeds).curves
    out = args.out or RESULTS / f"kb_policy_{args.task}.csv"
    curves.to_csv(out, index=False)
    table = curves.groupby(["budget", "method"])["regret"].mean().unstack()[methods]
    print(f"\nmean normalized regret on held-out datasets ({args.cv}-fold leave-datasets-out, "
          f"{args.seeds} seeds; {time.perf_counter() - start:.0f} s)")
    print(markdown_table(table, ".4f"))
    print(f"wrote {out}")


if __name__ == "__main__":
    run_main(main)
