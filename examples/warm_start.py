"""Warm starts without a single fit, then the meta-model's ranker adapting to real results.

    python examples/warm_start.py                                  # pmlb credit_g, ~8 s
    python examples/warm_start.py --dataset vehicle --space extra_trees --evaluations 6

1. ``metaopt.suggest``: the shipped meta-model's first configurations of ``--space`` for
   the dataset, each with its reason (expected regret over the knowledge base, the
   known datasets it was best on), and the dataset's nearest known neighbours.
2. ``MetaModel.propose``: evaluate configurations by 3-fold cross-validation one at a
   time; after the warm start, the Meta-SGD ranker adapts to the scores seen so far and
   picks the next one (every 4th pick is a random one, for exploration).
   One line per evaluation: its CV score, where it came from (portfolio, ranker or
   random) and why; then the best configuration found.
The same loop runs inside ``MetaSampler`` and ``MetaOptClassifier``.

Data: the pmlb copy in ``$METAOPT_SHARED_DATA/pmlb`` (by default ``../shared/data/pmlb``
beside the repository), one ``<name>/<name>.tsv.gz`` per dataset, as in PMLB's
``datasets/`` folder.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from sklearn.model_selection import cross_val_score

import metaopt
from metaopt.data import LocalSource
from metaopt.ranker import load_meta_model
from metaopt.spaces import get_space

SHARED = Path(os.environ.get("METAOPT_SHARED_DATA",
                             Path(__file__).resolve().parents[2] / "shared" / "data"))


def pmlb_root() -> Path:
    root = SHARED / "pmlb"
    if not root.is_dir():
        sys.exit(f"no pmlb data at {root}: set METAOPT_SHARED_DATA to the folder that "
                 "holds pmlb/ (one <name>/<name>.tsv.gz per dataset, as in PMLB's datasets/)")
    return root


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="credit_g", help="a pmlb dataset name")
    parser.add_argument("--space", default="hist_gradient_boosting")
    parser.add_argument("--evaluations", type=int, default=8)
    args = parser.parse_args()
    data = LocalSource(pmlb_root()).load(args.dataset)

    picks = metaopt.suggest(data, space=args.space, n=3)
    print(picks.attrs["summary"])  # the data, its nearest known datasets
    for row in picks.itertuples():
        print(f"\n#{row.Index + 1} {row.reason}\n   {row.params}")

    space = get_space(args.space)
    model = load_meta_model(args.space, data.task)
    meta_features = metaopt.metafeatures.compute_dataset(data)
    candidates = model.candidates(data.task, seed=0)
    observed: list[tuple[dict, float]] = []
    print(f"\n{'#':>2} {'cv score':>8}  source     reason")
    for i in range(args.evaluations):
        proposal = model.propose(meta_features, observed, candidates=candidates, seed=0)
        estimator = space.build(proposal.params, data.task, random_state=0)
        score = cross_val_score(estimator, data.X, data.y, cv=3).mean()
        observed.append((proposal.params, score))
        print(f"{i + 1:>2} {score:8.4f}  {proposal.source:9s}  {proposal.reason}")
    best = max(observed, key=lambda o: o[1])
    print(f"\nbest cv score {best[1]:.4f} with {best[0]}")


if __name__ == "__main__":
    main()
