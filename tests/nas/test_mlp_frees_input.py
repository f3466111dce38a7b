"""MLP ``fit`` trains on its float32 folds alone: the float64 copy of ``X`` that input
validation made (of a mixed-dtype DataFrame, an int array, a list) is freed before the
epochs, not held beside them."""

from __future__ import annotations

import weakref

import numpy as np
import pandas as pd
import pytest

from metaopt.nas import MLPClassifier, MLPRegressor, _mlp

rng = np.random.default_rng(0)
VALUES = rng.normal(size=(120, 4))
INPUTS = {
    # a float DataFrame's values are a view of its block; with an int column, a copy
    "mixed-dtype dataframe": pd.DataFrame(VALUES, columns=list("abcd")).assign(
        e=np.arange(len(VALUES))),
    "int array": (VALUES * 10).astype(np.int64),
    "list of rows": VALUES.tolist(),
}


@pytest.mark.parametrize("estimator", [MLPClassifier, MLPRegressor])
@pytest.mark.parametrize("kind", list(INPUTS))
def test_the_validated_copy_of_x_is_freed_before_training(estimator, kind, monkeypatch):
    X = INPUTS[kind]
    y = (VALUES[:, 0] > 0).astype(int) if estimator is MLPClassifier else VALUES[:, 1]
    validated = []
    validate_data = _mlp.validate_data

    def capturing(*args, **kwargs):
        out = validate_data(*args, **kwargs)
        validated.append(weakref.ref(out[0]))
        return out

    freed_when_training = []
    train = _mlp._BaseMLP._train

    def checking(self, *args, **kwargs):
        freed_when_training.append(validated[0]() is None)
        return train(self, *args, **kwargs)

    monkeypatch.setattr(_mlp, "validate_data", capturing)
    monkeypatch.setattr(_mlp._BaseMLP, "_train", checking)
    model = estimator(max_epochs=2, width=8, n_layers=1, random_state=0).fit(X, y)
    assert freed_when_training == [True]
    assert model.n_epochs_ == 2
    assert np.isfinite(model.predict(X)).all()
