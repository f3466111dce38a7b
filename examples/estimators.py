"""MetaOptClassifier / MetaOptRegressor on a real pmlb dataset: fit, summary, plot.

    python examples/estimators.py                       # heart_statlog, 15 trials, ~12 s
    python examples/estimators.py --dataset vehicle --trials 30 --out history.png
    python examples/estimators.py --task regression     # 560_bodyfat, R^2

Searches model families and their hyperparameters (meta-learned warm start, then
MetaSampler) by 3-fold CV on 70 % of the data, with a progress bar, and refits the best
(MetaOptRegressor, by default: an ensemble selected from the trials, named in the summary).
Prints the one-screen summary (the warm-start picks, the best score per model family)
and the accuracy on the held-out 30 % (R^2 for regression), and writes the search plot
(CV score per trial, coloured by model family, with the best so far) to ``--out``:
``metaopt_history.png`` in the current directory by default.

Data: the pmlb copy in ``$METAOPT_SHARED_DATA/pmlb`` (by default ``../shared/data/pmlb``
beside the repository), one ``<name>/<name>.tsv.gz`` per dataset, as in PMLB's
``datasets/`` folder.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
from sklearn.model_selection import train_test_split  # noqa: E402

from metaopt import MetaOptClassifier, MetaOptRegressor  # noqa: E402
from metaopt.data import DatasetLoadError, LocalSource  # noqa: E402

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
    parser.add_argument("--task", choices=("classification", "regression"),
                        default="classification")
    parser.add_argument("--dataset", help="a pmlb dataset name (default: heart_statlog; "
                        "560_bodyfat for regression)")
    parser.add_argument("--trials", type=int, default=15)
    parser.add_argument("--out", default="metaopt_history.png")
    args = parser.parse_args()
    classify = args.task == "classification"
    name = args.dataset or ("heart_statlog" if classify else "560_bodyfat")
    try:  # a mistyped name (with the closest one), or a target of the other task
        data = LocalSource(pmlb_root()).load(name, args.task)
    except DatasetLoadError as e:
        sys.exit(str(e))
    except ValueError as e:
        other = "regression" if classify else "classification"
        sys.exit(f"{name}: {e}\n(in this script: --task {other})")
    X_train, X_test, y_train, y_test = train_test_split(
        data.X, data.y, test_size=0.3, random_state=0, stratify=data.y if classify else None)

    estimator = MetaOptClassifier if classify else MetaOptRegressor
    model = estimator(n_trials=args.trials, cv=3, random_state=0, verbose=1)
    model.fit(X_train, y_train)
    print(model.summary())
    print(f"held-out {'accuracy' if classify else 'R^2'}: {model.score(X_test, y_test):.4f}")
    model.plot_history().figure.savefig(args.out, dpi=120)
    print(f"plot written to {args.out}")


if __name__ == "__main__":
    main()
