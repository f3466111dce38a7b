"""Architecture prior and MetaMLPClassifier on a real dataset (pmlb wine_recognition).

    python examples/nas_prior.py                 # 12 architectures, <= 40 epochs each
    python examples/nas_prior.py --trials 30 --epochs 60

Shows what the shipped prior proposes for this dataset's size, then searches 12 MLP
architectures (5 from the prior, then MetaSampler's ranker adapted to them, Hyperband
pruning on epochs) and reports the held-out accuracy of the refitted best one.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import pandas as pd
from sklearn.model_selection import train_test_split

from metaopt.data import LocalSource
from metaopt.metafeatures import compute
from metaopt.nas import ArchitecturePrior, MetaMLPClassifier

SHARED = Path(os.environ.get("METAOPT_SHARED_DATA",
                             Path(__file__).resolve().parents[2] / "shared" / "data"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=12)
    parser.add_argument("--epochs", type=int, default=40, help="at most, per architecture")
    args = parser.parse_args()
    data = LocalSource(SHARED / "pmlb").load("wine_recognition")
    X, y = data.X.to_numpy(dtype=float), data.y.to_numpy()
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, stratify=y,
                                                        random_state=0)

    prior = ArchitecturePrior.default()
    meta_features = compute(X_train, y_train, "classification")
    pd.set_option("display.max_colwidth", 90)
    pd.set_option("display.width", 160)
    print("Most likely architectures for this dataset:")
    likely = prior.describe(meta_features, n=5)[["probability", "log_ratio", "architecture"]]
    print(likely.to_string(index=False, float_format="{:.3f}".format, max_colwidth=100))

    model = MetaMLPClassifier(n_trials=args.trials, cv=3, max_epochs=args.epochs,
                              random_state=0)
    model.fit(X_train, y_train)
    # where each architecture came from: the prior, or MetaSampler's adapted ranker
    trials = pd.DataFrame([{
        "trial": t.number, "state": t.state.name, "cv accuracy": t.value,
        "epochs": t.user_attrs.get("epochs"),
        "source": t.user_attrs.get("source") or t.system_attrs.get("metaopt:source", "")[:60],
    } for t in model.study_.trials])
    print(trials.to_string(index=False))
    print(f"best cv accuracy {model.best_score_:.3f} with {model.best_params_}")
    print(f"epochs trained in the search: {model.n_epochs_searched_} "
          f"({args.trials} full trainings on 3 folds would be {args.trials * 3 * args.epochs})")
    print(f"test accuracy {model.score(X_test, y_test):.3f}")


if __name__ == "__main__":
    main()
