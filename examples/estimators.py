"""MetaOptClassifier on a real pmlb dataset: fit, summary, plot.

Run from the repository root: ``python examples/estimators.py``.
"""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
from sklearn.model_selection import train_test_split  # noqa: E402

from metaopt import MetaOptClassifier  # noqa: E402
from metaopt.data import LocalSource  # noqa: E402

PMLB = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "pmlb"

data = LocalSource(PMLB).load("heart_statlog", "classification")
X_train, X_test, y_train, y_test = train_test_split(
    data.X, data.y, test_size=0.3, random_state=0, stratify=data.y)

model = MetaOptClassifier(n_trials=15, cv=3, random_state=0, verbose=1)
model.fit(X_train, y_train)
print(model.summary())
print(f"held-out accuracy: {model.score(X_test, y_test):.4f}")
model.plot_history().figure.savefig("metaopt_history.png", dpi=120)
print("plot written to metaopt_history.png")
