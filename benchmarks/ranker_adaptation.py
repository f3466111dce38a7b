"""How far does adaptation move a shipped ranker's ranking?

For every training dataset of a shipped meta-model, ``--observed`` of its evaluated
configurations (drawn at random, ``--repeats`` times) are shown to the ranker; it ranks
the dataset's other configurations zero-shot and adapted. Printed per model: the mean
Spearman correlation between the two rankings (1.0: adaptation changes nothing), and of
each with the true scores. The datasets are the model's own training data, so the
correlations with the truth are in-sample (optimistic for the zero-shot ranker, which
has seen them); the first column is what this measures.

    python benchmarks/ranker_adaptation.py --models tabrepo_lightgbm,all@classification

``--inner-lr LR`` first retrains each knowledge-base model's ranker on its whole matrix
with Meta-SGD's inner learning rates starting at ``LR`` (its other settings as shipped)
and also prints their mean absolute value after meta-training.
"""

from __future__ import annotations

import argparse
import copy

import numpy as np
import pandas as pd
from _common import (  # benchmarks/_common.py, beside this script
    SHARED_DATA,
    run_main,
    single_threaded,
)
from scipy.stats import spearmanr

from metaopt._markdown import markdown_table
from metaopt.benchmark._surrogate import load_tabrepo_matrix
from metaopt.kb import open_knowledge_base
from metaopt.ranker import ConfigRanker, PerformanceMatrix, load_meta_model


def correlations(model, matrix: PerformanceMatrix, n_observed: int, repeats: int) -> np.ndarray:
    """Per (dataset, repeat): Spearman of (zero-shot, adapted), (zero-shot, truth) and
    (adapted, truth) over the configurations not shown."""
    rng = np.random.default_rng(0)
    params = list(matrix.configs["params"])
    metafeatures = matrix.tasks[[c for c in matrix.tasks.columns if c.startswith("mf_")]]
    rows = []
    for t in range(matrix.n_tasks):
        scores = matrix.scores[t]
        valid = np.flatnonzero(np.isfinite(scores))
        for _ in range(repeats):
            shown = rng.choice(valid, n_observed, replace=False)
            rest = np.setdiff1d(valid, shown)
            candidates = [params[i] for i in rest]
            mf = metafeatures.iloc[t]
            zero, _ = model.ranker.predict(mf, [], candidates)
            adapted, _ = model.ranker.predict(mf, [(params[i], scores[i]) for i in shown],
                                              candidates)
            truth = scores[rest]
            rows.append([spearmanr(zero, adapted)[0], spearmanr(zero, truth)[0],
                         spearmanr(adapted, truth)[0]])
    return np.asarray(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="tabrepo_lightgbm,all@classification,"
                        "all@regression,svm@classification")
    parser.add_argument("--observed", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--tabrepo", default=str(SHARED_DATA / "tabrepo-lightgbm"))
    parser.add_argument("--inner-lr", type=float, default=None,
                        help="retrain the knowledge-base rankers with this initial inner lr")
    args = parser.parse_args()
    single_threaded(1)
    frame = None
    table = {}
    for name in args.models.split(","):
        space, _, task = name.partition("@")
        model = load_meta_model(space, task or None)
        if space == "tabrepo_lightgbm":
            matrix = load_tabrepo_matrix(args.tabrepo)
        else:
            frame = open_knowledge_base("default").to_frame() if frame is None else frame
            matrix = PerformanceMatrix.from_frame(frame, space, task=task or None)
            if args.inner_lr is not None:
                model = copy.copy(model)
                shipped = model.ranker
                model.ranker = ConfigRanker(
                    inner_lr=args.inner_lr, n_ensemble=shipped.n_ensemble,
                    iterations=shipped.iterations, random_state=shipped.random_state,
                ).fit(matrix)
                rates = [rate.abs().mean().item() for member in model.ranker.members_
                         for rate in member.learning_rates().values()]
                print(f"{name}: mean |inner learning rate| {np.mean(rates):.3f}", flush=True)
        rho = np.nanmean(correlations(model, matrix, args.observed, args.repeats), axis=0)
        table[name] = {"zero-shot vs adapted": rho[0], "zero-shot vs truth": rho[1],
                       "adapted vs truth": rho[2]}
        print(name, np.round(rho, 3), flush=True)
    print(f"\nmean Spearman over each model's training datasets, {args.observed} configurations "
          f"shown, {args.repeats} draws each")
    print(markdown_table(pd.DataFrame(table).T.rename_axis("model"), ".3f"))


if __name__ == "__main__":
    run_main(main)
