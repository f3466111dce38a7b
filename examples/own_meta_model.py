"""Your own knowledge base and meta-model, then MetaSampler with it on a new dataset.

    python examples/own_meta_model.py                         # 8 small pmlb datasets, knn, ~15 s
    python examples/own_meta_model.py --datasets 12 --space extra_trees --configs 10

1. ``metaopt.kb.build``: evaluate the same ``--configs`` configurations of ``--space`` by
   3-fold cross-validation on the ``--datasets`` smallest pmlb classification datasets
   (resumable: rerun after Ctrl-C and only what is missing is evaluated).
2. ``MetaModel.fit``: the greedy portfolio and a Meta-SGD ranker meta-trained on those
   evaluations; ``save`` writes plain JSON and safetensors files, ``load`` reads them.
3. ``MetaSampler(meta_model=...)``: an Optuna study on a held-out dataset (``--target``,
   not in the knowledge base) with that model, beside TPE, best CV accuracy per trial.
The shipped meta-models were made the same way, from a larger knowledge base
(``metaopt train-meta-model`` on the command line).

Prints the knowledge base's build report, the performance matrix's size, the portfolio's
first pick and, per trial, the best CV accuracy so far of the study with the new model
and of TPE. Eight datasets and eight configurations make a toy meta-model: this shows
the workflow, one seed on one dataset, not a gain over TPE. Writes the knowledge base
(``kb.sqlite``) and the model (``model/``) under ``--out``, ``own-meta-model/`` in the
current directory by default; delete it to start over.

Data: the pmlb copy in ``$METAOPT_SHARED_DATA/pmlb`` (by default ``../shared/data/pmlb``
beside the repository; ``--root`` overrides it), one ``<name>/<name>.tsv.gz`` per
dataset as in PMLB's ``datasets/`` folder, and a ``manifest.csv`` (name, task,
n_instances, n_features) to find the smallest.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np
import optuna
from sklearn.model_selection import StratifiedKFold, cross_val_score

from metaopt import kb
from metaopt.data import LocalSource, get_suite
from metaopt.ranker import ConfigRanker, MetaModel, PerformanceMatrix
from metaopt.samplers import MetaSampler
from metaopt.spaces import get_space

SHARED = Path(os.environ.get("METAOPT_SHARED_DATA",
                             Path(__file__).resolve().parents[2] / "shared" / "data"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", default=str(SHARED / "pmlb"), help="a PMLB copy")
    parser.add_argument("--space", default="knn")
    parser.add_argument("--datasets", type=int, default=8,
                        help="the knowledge base: this many smallest datasets")
    parser.add_argument("--configs", type=int, default=8, help="configurations per dataset")
    parser.add_argument("--iterations", type=int, default=300,
                        help="meta-training iterations of the ranker")
    parser.add_argument("--target", default="wine_recognition",
                        help="the new dataset (left out of the knowledge base)")
    parser.add_argument("--trials", type=int, default=10)
    parser.add_argument("--out", default="own-meta-model", help="store and model directory")
    args = parser.parse_args()
    if not Path(args.root).is_dir():
        sys.exit(f"no pmlb data at {args.root}: pass --root, or set METAOPT_SHARED_DATA to "
                 "the folder that holds pmlb/ (one <name>/<name>.tsv.gz per dataset, as in "
                 "PMLB's datasets/)")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    suite = get_suite("pmlb-classification", root=args.root)
    known = [r for r in sorted(suite, key=lambda r: r.size or 0) if r.name != args.target]
    refs = known[:args.datasets]
    store = kb.KnowledgeBase(out / "kb.sqlite")
    # n_design = n_configs: every dataset gets the same configurations (the shared
    # design), so the meta-model sees each configuration on every dataset; an evaluation
    # over 60 s counts as a timeout, and datasets are subsampled to 1000 rows
    report = kb.build(refs, store, spaces=args.space, n_configs=args.configs,
                      n_design=args.configs, cv_folds=3, time_limit=60, max_rows=1000,
                      progress=False)
    print(f"knowledge base {out / 'kb.sqlite'}: {report.summary()}")

    matrix = PerformanceMatrix.from_frame(store.to_frame(), args.space)
    print(f"performance matrix: {matrix.n_tasks} datasets x {matrix.n_configs} configurations")
    # an ensemble of 2 rankers (the shipped models use 5): their disagreement is the
    # sampler's exploration bonus
    ranker = ConfigRanker(iterations=args.iterations, n_ensemble=2, random_state=0)
    model = MetaModel.fit(matrix, ranker=ranker)
    model.save(out / "model")
    model = MetaModel.load(out / "model")  # files only: JSON and safetensors, no pickle
    first = model.portfolio.suggest(1, None)["params"].iloc[0]  # the greedy order's first
    print(f"saved to {out / 'model'}; the portfolio's first pick: {first}")

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    data = LocalSource(args.root).load(args.target)
    space = get_space(args.space)
    cv = StratifiedKFold(3, shuffle=True, random_state=0)

    def objective(trial: optuna.Trial) -> float:
        params = space.sample(trial, data.task)
        estimator = space.build(params, data.task, random_state=0)
        return float(np.mean(cross_val_score(estimator, data.X, data.y, cv=cv)))

    samplers = {
        "own model": MetaSampler(space=args.space, dataset=data, meta_model=model, seed=0),
        "TPE": optuna.samplers.TPESampler(multivariate=True, seed=0),
    }
    curves = {}
    for name, sampler in samplers.items():
        study = optuna.create_study(direction="maximize", sampler=sampler)
        study.optimize(objective, n_trials=args.trials)
        curves[name] = np.maximum.accumulate([t.value for t in study.trials])
    print(f"\n{data.name} (not in the knowledge base): best CV accuracy so far")
    print(f"{'trials':>6} " + " ".join(f"{n:>10}" for n in curves))
    for k in range(1, args.trials + 1):
        print(f"{k:>6} " + " ".join(f"{c[k - 1]:>10.4f}" for c in curves.values()))
    print(f"a toy meta-model ({matrix.n_tasks} datasets x {matrix.n_configs} configurations), "
          "one dataset, one seed: the workflow, not a comparison with TPE (docs/sampler.md, "
          "Benchmarks, has one)")


if __name__ == "__main__":
    main()
