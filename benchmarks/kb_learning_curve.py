"""Would more datasets in the knowledge base give better warm starts? A learning curve.

For each dataset of a knowledge base (leave one out), a greedy portfolio
(:class:`metaopt.ranker.Portfolio`, no meta-features) is fitted on ``n`` of the other
datasets drawn at random, and the held-out dataset's best normalized regret among the
portfolio's first ``b`` configurations is recorded; ``--draws`` draws per ``n``, the
mean over datasets and draws printed per ``n`` and ``b``. A curve still falling at
the largest ``n`` says the knowledge base is short of datasets.

``--groups-from REF`` asks whether datasets added to a knowledge base help as much as
the curve promises: the datasets of ``--kb`` that ``REF`` also holds are the
"reference" group, the others "added", and each held-out dataset of either group gets
the portfolio fitted on the other reference datasets, on the other added ones, on both,
and on as many of the larger group as the smaller one holds (``--draws`` draws).

    python benchmarks/kb_learning_curve.py [--kb default] [--space all] [--plot FILE]
    python benchmarks/kb_learning_curve.py --kb builds/kb-growth/evaluations.parquet \
        --groups-from default
    python benchmarks/kb_learning_curve.py --neighbors 5,10,15,20,25,30

``--neighbors K,...`` compares, leaving one dataset out, the global portfolio with
``Portfolio(n_neighbors=K)``: the greedy portfolio of the K training datasets nearest the
held-out one in meta-features (auto-sklearn's meta-learned warm start).
"""

from __future__ import annotations

import argparse
import warnings

import numpy as np
import pandas as pd
from _common import run_main  # benchmarks/_common.py, beside this script

from metaopt._files import write_whole
from metaopt._markdown import markdown_table
from metaopt.kb import open_knowledge_base
from metaopt.ranker import PerformanceMatrix, Portfolio

BUDGETS = (1, 3, 5, 10)


def held_out_regret(matrix: PerformanceMatrix, held_out: int, train: np.ndarray,
                    budgets=BUDGETS, n_neighbors: int | None = None) -> list[float]:
    """Best regret of dataset ``held_out`` among the first ``b`` picks of the portfolio
    fitted on the datasets ``train`` (``n_neighbors``: on the nearest of them to the
    held-out dataset's meta-features); a configuration it lacks counts as its worst."""
    keys = matrix.tasks.index
    portfolio = Portfolio(n_neighbors=n_neighbors).fit(matrix.subset(keys[train]))
    query = None if n_neighbors is None else matrix.metafeatures.iloc[[held_out]]
    picks = portfolio.suggest(max(budgets), query)["config_id"]
    regret = pd.Series(matrix.regret()[held_out], index=matrix.configs.index)
    picked = regret.loc[picks].fillna(1.0).to_numpy()
    return [float(picked[:b].min()) for b in budgets]


def learning_curve(matrix: PerformanceMatrix, sizes: list[int], draws: int,
                   seed: int = 0) -> pd.DataFrame:
    """Mean held-out regret per training size (rows) and budget (columns)."""
    rng = np.random.default_rng(seed)
    n = matrix.n_tasks
    rows = {}
    for size in sizes:
        results = []
        for _ in range(draws if size < n - 1 else 1):  # all the others: one draw
            for t in range(n):
                others = np.delete(np.arange(n), t)
                train = np.sort(rng.choice(others, size, replace=False))
                results.append(held_out_regret(matrix, t, train))
        rows[size] = np.mean(results, axis=0)
    return pd.DataFrame.from_dict(rows, orient="index", columns=[f"@{b}" for b in BUDGETS])


def transfer_table(matrix: PerformanceMatrix, reference: np.ndarray, draws: int,
                   seed: int = 0) -> pd.DataFrame:
    """Mean held-out regret per held-out group and training set (rows) and budget
    (columns); ``reference`` marks the reference datasets, the rest are "added"."""
    rng = np.random.default_rng(seed)
    rows = []
    for t in range(matrix.n_tasks):
        others = np.delete(np.arange(matrix.n_tasks), t)
        pools = {"reference": others[reference[others]], "added": others[~reference[others]]}
        size = min(len(pool) for pool in pools.values())
        held_out = "reference" if reference[t] else "added"
        trainings = [(f"all {name}", pool) for name, pool in pools.items()]
        trainings.append(("all others", others))
        trainings += [(f"{size} {name}", np.sort(rng.choice(pool, size, replace=False)))
                      for _ in range(draws) for name, pool in pools.items() if len(pool) > size]
        rows += [(held_out, name, *held_out_regret(matrix, t, train))
                 for name, train in trainings]
    table = pd.DataFrame(rows, columns=["held out", "trained on",
                                        *[f"@{b}" for b in BUDGETS]])
    return table.groupby(["held out", "trained on"]).mean()


def neighbor_table(matrix: PerformanceMatrix, ks: list[int]) -> pd.DataFrame:
    """Mean held-out regret (leave one dataset out, all the others to train on) of the
    global portfolio and of ``Portfolio(n_neighbors=k)``, and on how many datasets the
    latter is better / worse after 5 picks."""
    others = [np.delete(np.arange(matrix.n_tasks), t) for t in range(matrix.n_tasks)]
    regret = {k: np.array([held_out_regret(matrix, t, train, n_neighbors=k)
                           for t, train in enumerate(others)]) for k in [None, *ks]}
    at5 = BUDGETS.index(5)
    rows = {}
    for k, values in regret.items():
        row = dict(zip([f"@{b}" for b in BUDGETS], values.mean(axis=0), strict=True))
        change = values[:, at5] - regret[None][:, at5]
        row["@5 better / worse"] = f"{(change < 0).sum()} / {(change > 0).sum()}"
        rows["all (global)" if k is None else f"{k} nearest"] = row
    return pd.DataFrame.from_dict(rows, orient="index")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kb", default="default", help="knowledge base (see `metaopt kb info`)")
    parser.add_argument("--space", default="all")
    parser.add_argument("--tasks", default="classification,regression")
    parser.add_argument("--sizes", default="5,10,20,30,all")
    parser.add_argument("--draws", type=int, default=20)
    parser.add_argument("--plot", default=None, help="write the curves to this PNG")
    parser.add_argument("--neighbors", default=None, metavar="K,...",
                        help="compare the global portfolio with one fitted on the K training "
                             "datasets nearest the held-out one, instead of the curve")
    parser.add_argument("--groups-from", default=None, metavar="REF",
                        help="a knowledge base whose datasets are the reference group: print "
                             "how the others transfer to them and back, instead of the curve")
    args = parser.parse_args()
    frame = open_knowledge_base(args.kb).to_frame()
    if args.groups_from:
        reference = set(open_knowledge_base(args.groups_from).to_frame()["dataset_key"])
    curves = {}
    for task in args.tasks.split(","):
        with warnings.catch_warnings():  # datasets without a successful evaluation
            warnings.simplefilter("ignore")
            matrix = PerformanceMatrix.from_frame(frame, args.space, task=task)
        n = matrix.n_tasks
        if args.neighbors:
            print(f"\n{task}: {n} datasets, {matrix.n_configs} configurations of "
                  f"{args.space!r}; mean held-out regret of the portfolio's best after b picks")
            ks = [int(k) for k in args.neighbors.split(",")]
            print(markdown_table(neighbor_table(matrix, ks).rename_axis("portfolio"), ".4f"))
            continue
        if args.groups_from:
            in_reference = matrix.tasks.index.isin(list(reference))
            print(f"\n{task}: {in_reference.sum()} reference datasets, {n - in_reference.sum()} "
                  f"added, {matrix.n_configs} configurations of {args.space!r}; mean held-out "
                  "regret of the portfolio's best after b picks")
            print(markdown_table(transfer_table(matrix, in_reference, args.draws), ".4f"))
            continue
        sizes = sorted({n - 1 if s == "all" else min(int(s), n - 1)
                        for s in args.sizes.split(",")})
        curve = learning_curve(matrix, sizes, args.draws)
        curves[task] = curve
        print(f"\n{task}: {n} datasets, {matrix.n_configs} configurations of {args.space!r}; "
              "mean held-out regret of the portfolio's best after b picks")
        print(markdown_table(curve.rename_axis("training datasets"), ".4f"))
    if args.plot and curves:
        plot(curves, args.plot)
        print(f"\nplot: {args.plot}")


def plot(curves: dict[str, pd.DataFrame], path: str) -> None:
    """The learning curves of each task side by side, a PNG at ``path``, written whole or
    not at all: a crash or Ctrl-C mid-save keeps an earlier file."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(curves), figsize=(5 * len(curves), 3.5), squeeze=False)
    for ax, (task, curve) in zip(axes[0], curves.items(), strict=True):
        for column in curve.columns:
            ax.plot(curve.index, curve[column], marker="o", label=f"best after {column[1:]}")
        ax.set(title=task, xlabel="training datasets", ylabel="held-out normalized regret")
        ax.legend()
    fig.tight_layout()
    write_whole(path, lambda tmp: fig.savefig(tmp, format="png", dpi=120))
    plt.close(fig)


if __name__ == "__main__":
    run_main(main)
