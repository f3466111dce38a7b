"""MetaOptClassifier on a real pmlb dataset: fit, summary, plot.

    python examples/estimators.py                       # heart_statlog, 15 trials
    python examples/estimators.py --dataset vehicle --trials 30 --out history.png

Searches model families and their hyperparameters (meta-learned warm start, then
MetaSampler), refits the best, prints the one-screen summary and the held-out accuracy,
and writes the search plot (best CV score vs trial, by model family).
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
from sklearn.model_selection import train_test_split  # noqa: E402

from metaopt import MetaOptClassifier  # noqa: E402
from metaopt.data import LocalSource  # noqa: E402

SHARED = Path(os.environ.get("METAOPT_SHARED_DATA",
                             Path(__file__).resolve().parents[2] / "shared" / "data"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="heart_statlog", help="a pmlb dataset name")
    parser.add_argument("--trials", type=int, default=15)
    parser.add_argument("--out", default="metaopt_history.png")
    args = parser.parse_args()
    data = LocalSource(SHARED / "pmlb").load(args.dataset, "classification")
    X_train, X_test, y_train, y_test = train_test_split(
        data.X, data.y, test_size=0.3, random_state=0, stratify=data.y)

    model = MetaOptClassifier(n_trials=args.trials, cv=3, random_state=0, verbose=1)
    model.fit(X_train, y_train)
    print(model.summary())
    print(f"held-out accuracy: {model.score(X_test, y_test):.4f}")
    model.plot_history().figure.savefig(args.out, dpi=120)
    print(f"plot written to {args.out}")


if __name__ == "__main__":
    main()
