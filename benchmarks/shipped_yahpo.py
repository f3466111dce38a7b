"""The shipped YAHPO meta-models as a user loads them, on the scenario's ``valid`` instances.

``metaopt benchmark yahpo`` meta-trains its ``metaopt`` method in the same process; this
script runs the saved files instead (``load_meta_model``, or ``--model DIR`` for another
saved model of the scenario's space), with the policy the benchmark's ``metaopt`` method
uses, next to the greedy portfolio and random search on the same test tasks. It is
what catches a model whose saved form differs from the one trained (the
``yahpo_rbv2_xgboost`` file read permuted inputs until 2026-12-05, docs/ranker.md).

    python benchmarks/shipped_yahpo.py --scenario rbv2_xgboost --seeds 3
    python benchmarks/shipped_yahpo.py --scenario rbv2_xgboost --model OLD_DIR
"""

from __future__ import annotations

import argparse

import pandas as pd
from _common import SHARED_DATA, run_main, single_threaded

from metaopt._markdown import markdown_table
from metaopt.benchmark import register_method
from metaopt.benchmark._methods import MetaOpt
from metaopt.benchmark._surrogate import evaluate_methods, yahpo_test_tasks
from metaopt.kb import YahpoBenchmark
from metaopt.ranker import MetaModel, PerformanceMatrix, load_meta_model


class SavedModel(MetaOpt):
    """The benchmark's ``metaopt`` method with a saved model instead of one fitted on the
    training split (which it ignores)."""

    def __init__(self, model: MetaModel) -> None:
        super().__init__(min_distance=model.min_distance)
        self.model = model

    def fit(self, train: PerformanceMatrix) -> None:
        self.model_ = self.model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default="rbv2_xgboost", choices=("lcbench", "rbv2_xgboost"))
    parser.add_argument("--data", default=str(SHARED_DATA / "yahpo"))
    parser.add_argument("--model", help="a saved model directory (default: the shipped one)")
    parser.add_argument("--budgets", default="1,3,5,10,25")
    parser.add_argument("--seeds", type=int, default=3)
    args = parser.parse_args()
    single_threaded(1)
    model = (MetaModel.load(args.model) if args.model
             else load_meta_model(f"yahpo_{args.scenario}"))
    register_method("saved-model", lambda: SavedModel(model))
    train = PerformanceMatrix.from_yahpo(YahpoBenchmark(args.scenario, args.data, split="train"),
                                         n_configs=256)  # the portfolio's training design
    tasks = yahpo_test_tasks(YahpoBenchmark(args.scenario, args.data, split="valid"))
    result = evaluate_methods([(train, tasks)], ["random", "portfolio", "saved-model"],
                              [int(b) for b in args.budgets.split(",")], args.seeds)
    print(f"{args.scenario}, {len(tasks)} valid instances x {args.seeds} seeds: mean "
          "normalized regret (mean rank)")
    print(markdown_table(result.table()))
    paired = result.paired("saved-model")
    print("\nsaved model minus each method (95 % interval over tasks; runs won/tied/lost):")
    print(markdown_table(pd.DataFrame(paired)))


if __name__ == "__main__":
    run_main(main)
