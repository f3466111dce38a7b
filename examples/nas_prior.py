"""Architecture prior and MetaMLPClassifier on a real dataset (pmlb wine_recognition).

    python examples/nas_prior.py                 # 12 architectures, <= 40 epochs each, ~10 s
    python examples/nas_prior.py --trials 30 --epochs 60

Prints the 5 architectures the shipped prior finds most likely for this dataset's
meta-features (``dataset_share``: how much of each one's probability comes from the
prior's part conditioned on this dataset's meta-features rather than from its
dataset-independent part), then searches ``--trials`` MLP architectures by 3-fold CV on
70 % of the data (5 drawn from the prior, then MetaSampler's ranker adapted to them,
Hyperband pruning on epochs) and prints the search's summary: the best trial, then one row per
trial with its epochs, its CV accuracy (for a pruned trial: at the epoch it was stopped)
and where it came from. Ends with the epochs the pruning saved and the accuracy of the
refitted best architecture on the held-out 30 %.

Data: the pmlb copy in ``$METAOPT_SHARED_DATA/pmlb`` (by default ``../shared/data/pmlb``
beside the repository), one ``<name>/<name>.tsv.gz`` per dataset, as in PMLB's
``datasets/`` folder.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from sklearn.model_selection import train_test_split

from metaopt.data import LocalSource
from metaopt.metafeatures import compute
from metaopt.nas import ArchitecturePrior, MetaMLPClassifier

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
    parser.add_argument("--trials", type=int, default=12)
    parser.add_argument("--epochs", type=int, default=40, help="at most, per architecture")
    args = parser.parse_args()
    data = LocalSource(pmlb_root()).load("wine_recognition")
    X, y = data.X.to_numpy(dtype=float), data.y.to_numpy()
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, stratify=y,
                                                        random_state=0)

    prior = ArchitecturePrior.default()
    meta_features = compute(X_train, y_train, "classification")
    print("Most likely architectures for this dataset (the search's first 5 trials are "
          "draws from this distribution):")
    likely = prior.describe(meta_features, n=5)[["probability", "log_ratio", "dataset_share",
                                                  "architecture"]]
    print(likely.to_string(index=False, float_format="{:.3f}".format, max_colwidth=100))

    model = MetaMLPClassifier(n_trials=args.trials, cv=3, max_epochs=args.epochs,
                              random_state=0)
    model.fit(X_train, y_train)
    print(f"\n{model.summary()}")
    print(f"pruning: {model.n_epochs_searched_} epochs trained, against "
          f"{args.trials * 3 * args.epochs} for {args.trials} full trainings on 3 folds")
    print(f"test accuracy {model.score(X_test, y_test):.3f}")


if __name__ == "__main__":
    main()
