"""MetaSampler vs TPE on a real objective: cross-validated random forest on a PMLB dataset.

    python examples/optuna_sampler.py                   # credit_g, 20 trials each, ~60 s
    python examples/optuna_sampler.py --dataset vehicle --space extra_trees --trials 10

Runs the same objective (3-fold CV accuracy of ``--space`` on the dataset, R² on a
regression dataset such as ``560_bodyfat``, subsampled to at most 2000 rows) under MetaSampler and under multivariate TPE, one seed each, and
prints the best accuracy of both after 1, 3, 5, 10, ... trials and after the last. On
credit_g MetaSampler leads from the first trial (its portfolio's first pick) and TPE
has not caught up after 20; one dataset and one seed, not a benchmark
(``docs/sampler.md`` has that).

Data: the pmlb copy in ``$METAOPT_SHARED_DATA/pmlb`` (by default ``../shared/data/pmlb``
beside the repository; ``--root`` overrides it), one ``<name>/<name>.tsv.gz`` per
dataset, as in PMLB's ``datasets/`` folder.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np
import optuna
from sklearn.model_selection import KFold, StratifiedKFold, cross_val_score

from metaopt.data import DatasetLoadError, LocalSource
from metaopt.samplers import MetaSampler
from metaopt.spaces import get_space


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    shared = os.environ.get("METAOPT_SHARED_DATA",
                            Path(__file__).resolve().parents[2] / "shared" / "data")
    parser.add_argument("--root", default=str(Path(shared) / "pmlb"),
                        help="a PMLB copy (default: $METAOPT_SHARED_DATA/pmlb)")
    parser.add_argument("--dataset", default="credit_g")
    parser.add_argument("--space", default="random_forest")
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    if not Path(args.root).is_dir():
        sys.exit(f"no pmlb data at {args.root}: pass --root, or set METAOPT_SHARED_DATA to "
                 "the folder that holds pmlb/ (one <name>/<name>.tsv.gz per dataset, as in "
                 "PMLB's datasets/)")

    try:  # a mistyped name: the message names the closest one, without a traceback
        ds = LocalSource(args.root).load(args.dataset).subsample(2000, random_state=args.seed)
        space = get_space(args.space)
        meta = MetaSampler(space=args.space, dataset=ds, seed=args.seed)
    except (DatasetLoadError, ValueError) as e:
        sys.exit(str(e))
    classify = ds.task == "classification"
    cv = (StratifiedKFold if classify else KFold)(3, shuffle=True, random_state=args.seed)

    def objective(trial: optuna.Trial) -> float:
        params = space.sample(trial, ds.task)
        model = space.build(params, ds.task, random_state=args.seed)
        return float(np.mean(cross_val_score(model, ds.X, ds.y, cv=cv)))

    samplers = {
        "MetaSampler": meta,
        "TPE": optuna.samplers.TPESampler(multivariate=True, seed=args.seed),
    }
    curves = {}
    for name, sampler in samplers.items():
        study = optuna.create_study(direction="maximize", sampler=sampler)
        study.optimize(objective, n_trials=args.trials)
        curves[name] = np.maximum.accumulate([t.value for t in study.trials])
    metric = "accuracy" if classify else "R²"
    print(f"{ds.name}: {ds.n_samples} rows, space {args.space}; best CV {metric} so far")
    print(f"{'trials':>6} " + " ".join(f"{n:>12}" for n in curves))
    for k in sorted({1, 3, 5, 10, 15, 20, 30, 50, args.trials}):  # the last one too
        if k <= args.trials:
            print(f"{k:>6} " + " ".join(f"{c[k - 1]:>12.4f}" for c in curves.values()))
    print("one dataset, one seed: an illustration, not a benchmark (docs/sampler.md has one)")


if __name__ == "__main__":
    main()
