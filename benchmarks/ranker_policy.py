"""How metaopt's proposal policy should be set, on TabRepo (leave-tasks-out CV).

One Meta-SGD ranker is meta-trained per fold on the training tasks only; every policy
variant then runs with a copy of it on the fold's held-out tasks, so the variants
differ only in the policy:

* ``w1``, ``w2``, ``w5`` -- ``n_warmup=k`` portfolio picks before the ranker (default 3)
* ``e0``, ``e1.5`` -- ``exploration=x``: weight of the ensemble's spread (default 0.5)
* ``r0``       -- ``random_every=0``: no random proposal after the warm start (default:
  every 4th)
* ``tie``      -- ``random_after_tie=True``: a random proposal after a score that ties
  an earlier one

    python benchmarks/ranker_policy.py                      # 5-fold CV, budgets up to 10
    python benchmarks/ranker_policy.py --budgets 1,3,5,10,25,50

Prints mean normalized regret per budget and writes ``results/ranker_policy.csv``.
"""

from __future__ import annotations

import argparse
import copy
from pathlib import Path

from _common import SHARED_DATA, check_out, run_main  # benchmarks/_common.py, beside this script

from metaopt.benchmark._methods import MetaOpt, register_method
from metaopt.benchmark._surrogate import tabrepo_benchmark

RESULTS = Path(__file__).resolve().parent / "results"
TABREPO = SHARED_DATA / "tabrepo-lightgbm"
DEFAULT = {"n_warmup": 3, "exploration": 0.5, "random_every": 4}
VARIANTS = {
    "default": {},
    "w1": {"n_warmup": 1}, "w2": {"n_warmup": 2}, "w5": {"n_warmup": 5},
    "e0": {"exploration": 0.0}, "e1.5": {"exploration": 1.5},
    "r0": {"random_every": 0}, "tie": {"random_after_tie": True},
}


class SharedRanker(MetaOpt):
    """metaopt with a given policy, reusing the ranker fitted on the same training matrix."""

    fitted: dict[tuple, object] = {}  # training tasks -> MetaModel fitted on them

    def __init__(self, name: str, policy: dict) -> None:
        super().__init__(name=name)
        self.policy = policy

    def fit(self, train) -> None:
        key = tuple(train.tasks.index)
        if key not in self.fitted:
            super().fit(train)
            self.fitted[key] = self.model_
        self.model_ = copy.copy(self.fitted[key])
        for key, value in self.policy.items():
            setattr(self.model_, key, value)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(TABREPO), help="TabRepo-layout directory")
    parser.add_argument("--cv", type=int, default=5)
    parser.add_argument("--seeds", type=int, default=1)
    parser.add_argument("--budgets", default="1,3,5,10")
    parser.add_argument("--variants", default=",".join(VARIANTS),
                        help=f"comma-separated, of {', '.join(VARIANTS)}")
    parser.add_argument("--out", default=str(RESULTS / "ranker_policy.csv"))
    args = parser.parse_args()
    check_out(args.out, data=(args.data, TABREPO))
    unknown = [name for name in args.variants.split(",") if name not in VARIANTS]
    if unknown:
        parser.error(f"unknown variants {unknown}; known: {', '.join(VARIANTS)}")
    variants = {name: VARIANTS[name] for name in args.variants.split(",")}
    for name, change in variants.items():
        register_method(name, lambda name=name, change=change: SharedRanker(
            name, {**DEFAULT, **change}))
    result = tabrepo_benchmark(args.data, cv=args.cv, methods=list(variants),
                               budgets=[int(b) for b in args.budgets.split(",")],
                               seeds=args.seeds, progress=True)
    result.curves.to_csv(args.out, index=False)
    table = result.curves.groupby(["budget", "method"])["regret"].mean().unstack()
    print(f"mean normalized regret, {args.cv}-fold leave-tasks-out CV, {args.seeds} seed(s); "
          f"policy {DEFAULT} unless the variant says otherwise")
    print(table[list(variants)].round(4).to_string())
    print(f"wrote {args.out}")


if __name__ == "__main__":
    run_main(main)
