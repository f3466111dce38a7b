"""The torch MLP estimators: scikit-learn API compliance, early stopping, reproducibility."""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch
from sklearn.datasets import load_wine, make_classification, make_regression
from sklearn.exceptions import DataConversionWarning
from sklearn.utils.estimator_checks import parametrize_with_checks

from metaopt.nas import MLPClassifier, MLPRegressor, build_mlp

FAST = dict(width=32, max_epochs=40, batch_size=32, learning_rate=1e-2, n_iter_no_change=5)


# Minibatch training is not equivalent to repeating rows: a repeated row adds
# minibatches to an epoch and moves the random validation split.
WEIGHT_EQUIVALENCE = {
    f"check_sample_weight_equivalence_on_{kind}_data": "an epoch's minibatches and the "
    "validation split differ from those of repeated rows" for kind in ("dense", "sparse")
}


@parametrize_with_checks([MLPClassifier(**FAST), MLPRegressor(**FAST)],
                         expected_failed_checks=lambda est: WEIGHT_EQUIVALENCE)
def test_sklearn_compatible(estimator, check):
    check(estimator)


@pytest.mark.parametrize("norm", ["none", "batchnorm", "layernorm"])
@pytest.mark.parametrize("skip", [False, True])
def test_build_mlp_shapes_and_skip(norm, skip):
    net = build_mlp(
        7, 3, n_layers=3, width=16, activation="gelu", dropout=0.1, norm=norm, skip=skip
    )
    assert net(torch.randn(5, 7)).shape == (5, 3)
    assert [block.skip for block in net[:3]] == [False, skip, skip]  # first block resizes
    assert build_mlp(4, 1, n_layers=0, width=8)(torch.randn(2, 4)).shape == (2, 1)


def test_classifier_learns_and_is_reproducible():
    X, y = make_classification(300, 8, n_informative=5, n_classes=3, random_state=0)
    labels = np.array(["a", "b", "c"])[y]
    fits = [MLPClassifier(**FAST, random_state=7).fit(X, labels) for _ in range(2)]
    np.testing.assert_array_equal(fits[0].predict_proba(X), fits[1].predict_proba(X))
    assert fits[0].score(X, labels) > 0.85
    assert list(fits[0].classes_) == ["a", "b", "c"]
    other = MLPClassifier(**FAST, random_state=8).fit(X, labels)
    assert not np.array_equal(fits[0].predict_proba(X), other.predict_proba(X))


def test_regressor_standardises_target_and_stops_early():
    X, y = make_regression(300, 5, noise=1.0, random_state=0)
    model = MLPRegressor(**{**FAST, "max_epochs": 500, "n_iter_no_change": 3}, random_state=0)
    model.fit(X, 1000 + 50 * y)
    assert model.score(X, 1000 + 50 * y) > 0.9
    assert model.n_epochs_ < 500  # early stopping on the validation split
    assert len(model.validation_loss_curve_) == model.n_epochs_
    assert model.best_loss_ == pytest.approx(min(model.validation_loss_curve_))


@pytest.mark.parametrize(
    "params",
    [
        dict(norm="batchnorm", skip=True, activation="silu", dropout=0.2, n_layers=3),
        dict(norm="layernorm", activation="tanh", validation_fraction=0.0),
    ],
)
def test_architecture_variants_train(params):
    X, y = make_regression(64, 4, random_state=0)
    model = MLPRegressor(**{**FAST, **params}, random_state=0).fit(X, y)
    assert np.isfinite(model.predict(X)).all()
    assert model.device_ == torch.device("cpu")
    if params.get("validation_fraction") == 0.0:
        assert model.validation_loss_curve_ == []


@pytest.mark.parametrize(
    ("param", "value", "message"),
    [
        (
            "activation",
            "swish",
            r"activation must be one of \['relu', 'gelu', 'silu', 'tanh'\], "
            r"got 'swish'",
        ),
        ("norm", "group", r"norm must be one of \['none', 'batchnorm', 'layernorm'\]"),
        ("width", 0, "width must be an int >= 1, got 0"),
        ("dropout", 1.0, r"dropout must be a float in \[0, 1\), got 1.0"),
        ("learning_rate", -1.0, "learning_rate must be a float > 0"),
        ("validation_fraction", 1.5, "validation_fraction must be a float in"),
        ("device", "tpu:0", "device='tpu:0' is not a valid device"),
        ("time_budget", 0, "time_budget must be a finite number of seconds > 0 or None, got 0"),
        # inf was taken as no limit, unlike MetaMLP*'s time_budget
        ("time_budget", float("inf"), "time_budget must be a finite number of seconds > 0"),
    ],
)
def test_invalid_parameters_raise_in_fit(param, value, message):
    X, y = make_classification(40, 4, random_state=0)
    model = MLPClassifier(**{param: value})  # accepted unchanged at construction
    assert getattr(model, param) == value
    with pytest.raises(ValueError, match=message):
        model.fit(X, y)


def test_without_validation_rows_the_last_epoch_is_kept():
    """MetaMLP's refit trains best_epoch_ epochs without validation rows; it used to
    restore the epoch of the lowest training loss (measured with dropout on), epochs
    before the one it reported."""
    X, y = load_wine(return_X_y=True)
    settings = dict(validation_fraction=0.0, n_iter_no_change=8, learning_rate=0.2,
                    dropout=0.3, random_state=0)
    model = MLPClassifier(max_epochs=8, **settings).fit(X, y)
    lowest = int(np.argmin(model.loss_curve_)) + 1
    assert lowest < model.n_epochs_ == 8
    at_lowest = MLPClassifier(max_epochs=lowest, **settings).fit(X, y)
    assert not np.allclose(model.predict_proba(X), at_lowest.predict_proba(X))


@pytest.mark.parametrize("cls", [MLPClassifier, MLPRegressor])
def test_a_failed_refit_leaves_the_model_unfitted(cls):
    """A refit that raised after the new data's standardisation and classes were set kept
    them beside the old network: predict then returned the new labels for every row
    (wine: accuracy 1.0 -> 0.0, silently). It now raises NotFittedError."""
    from sklearn.exceptions import NotFittedError

    X, y = load_wine(return_X_y=True)
    model = cls(max_epochs=5, random_state=0).fit(X, y)
    with pytest.raises(ValueError, match="needs at least 2 training rows"):
        model.set_params(norm="batchnorm").fit(X[:1] * 1000 + 50, y[:1] + 10)
    with pytest.raises(NotFittedError):
        model.predict(X)


def test_batch_size_one_trains_on_every_row():
    """batch_size=1 was accepted but never trained: every minibatch is one row and one-row
    minibatches were skipped (a trailing one breaks batchnorm). Wine: loss curve all 0,
    training accuracy 0.31 (the initialisation). With batchnorm it is refused."""
    X, y = load_wine(return_X_y=True)
    model = MLPClassifier(batch_size=1, max_epochs=3, random_state=0).fit(X, y)
    assert min(model.loss_curve_) > 0 and model.loss_curve_[-1] < model.loss_curve_[0]
    assert model.score(X, y) > 0.9
    with pytest.raises(ValueError, match="norm='batchnorm' needs batch_size >= 2"):
        MLPClassifier(batch_size=1, norm="batchnorm").fit(X, y)


def _half_mislabelled():
    """Wine with a shuffled half of its labels rotated to the next class."""
    X, y = load_wine(return_X_y=True)
    wrong = np.random.default_rng(0).permutation(len(y))[: len(y) // 2]
    noisy = y.copy()
    noisy[wrong] = (y[wrong] + 1) % 3
    weights = np.ones(len(y))
    weights[wrong] = 0.0
    return X, y, noisy, weights


def test_sample_weight_zero_leaves_rows_out_and_scale_does_not_matter():
    X, y, noisy, weights = _half_mislabelled()
    weighted = MLPClassifier(**FAST, random_state=0).fit(X, noisy, sample_weight=weights)
    plain = MLPClassifier(**FAST, random_state=0).fit(X, noisy)
    assert weighted.score(X, y) > 0.9  # learned from the correctly labelled half alone
    assert weighted.score(X, y) > plain.score(X, y) + 0.2
    scaled = MLPClassifier(**FAST, random_state=0).fit(X, noisy, sample_weight=7 * weights)
    np.testing.assert_allclose(scaled.predict_proba(X), weighted.predict_proba(X),
                               atol=1e-6)


def test_sample_weight_weights_the_regression_loss():
    X, y = make_regression(300, 5, noise=1.0, random_state=0)
    shifted = y + np.where(np.arange(300) % 2 == 0, 500.0, 0.0)  # even rows corrupted
    weights = (np.arange(300) % 2).astype(float)
    model = MLPRegressor(**FAST, random_state=0).fit(X, shifted, sample_weight=weights)
    assert model.score(X, y) > 0.8


@pytest.mark.parametrize("weights, message", [
    (np.zeros(178), "zero for every sample|at least one non-zero"),  # scikit-learn < / >= 1.9
    (-np.ones(178), "Negative values in data passed to `sample_weight`"),
    (np.ones(5), r"sample_weight.shape == \(5,\), expected \(178,\)"),
])
def test_bad_sample_weight_is_refused(weights, message):
    X, y = load_wine(return_X_y=True)
    with pytest.raises(ValueError, match=message):
        MLPClassifier(**FAST).fit(X, y, sample_weight=weights)


def test_the_early_stopping_rows_are_stratified(monkeypatch):
    """The validation rows were a random 10 %: on 200 rows with 10 of the rare class,
    about a third of the seeds held out none of it (early stopping blind to it), and a
    class of one row was held out, never trained on, in about one seed in ten. scikit-learn's
    MLPClassifier stratifies; so does this one, and a class's last row always trains."""
    splits = []

    def spy(self, x_tr, x_val, target, n_out, train_idx, val_idx, sample_weight, deadline):
        splits.append((target.numpy()[train_idx], target.numpy()[val_idx]))
        self.loss_curve_ = []

    monkeypatch.setattr(MLPClassifier, "_train", spy)
    X = np.random.default_rng(0).normal(size=(201, 3))
    y = np.r_[np.zeros(190), np.ones(10), 2]
    for seed in range(20):
        MLPClassifier(validation_fraction=0.1, random_state=seed).fit(X, y)
    for train, val in splits:
        assert np.bincount(val.astype(int), minlength=3).tolist() == [19, 1, 0]
        assert np.bincount(train.astype(int)).tolist() == [171, 9, 1]


def test_the_classes_that_give_the_last_early_stopping_rows_are_drawn_at_random(monkeypatch):
    """With 50 classes of 2 rows, 10 % held out is 10 rows from 10 classes: they were
    always the 10 first labels (ties went to the lowest class index)."""
    held = []

    def spy(self, x_tr, x_val, target, n_out, train_idx, val_idx, sample_weight, deadline):
        held.append(set(target.numpy()[val_idx].tolist()))
        self.loss_curve_ = []

    monkeypatch.setattr(MLPClassifier, "_train", spy)
    X = np.random.default_rng(0).normal(size=(100, 3))
    y = np.repeat(np.arange(50), 2)
    for seed in range(3):
        MLPClassifier(random_state=seed).fit(X, y)
    assert all(len(h) == 10 for h in held)
    assert held[0] != set(range(10)) and held[0] != held[1]


@pytest.mark.parametrize("cls", [MLPClassifier, MLPRegressor])
def test_sparse_input_as_a_one_hot_encoder_gives_it(cls):
    """make_pipeline(OneHotEncoder(), MLPClassifier()) raised 'Sparse data was passed for
    X, but dense data is required', where scikit-learn's MLPClassifier trains. Sparse
    input is densified: the same model as on the dense array."""
    import scipy.sparse as sp
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder

    rng = np.random.default_rng(0)
    X = rng.choice(["a", "b", "c"], size=(120, 3))
    y = (X[:, 0] == "a").astype(int)
    pipe = make_pipeline(OneHotEncoder(), cls(max_epochs=20, random_state=0)).fit(X, y)
    assert pipe.score(X, y) > 0.9
    dense = OneHotEncoder(sparse_output=False).fit_transform(X)
    model = cls(max_epochs=3, random_state=0)
    on_sparse = model.fit(sp.csr_matrix(dense), y).predict(sp.csc_matrix(dense))
    np.testing.assert_allclose(on_sparse, model.fit(dense, y).predict(dense), rtol=1e-12)


def test_a_model_fitted_on_another_device_is_pickled_on_the_cpu():
    """A model fitted on a GPU pickled its CUDA tensors, which torch refuses to unpickle
    on a machine without one. (No GPU here: the device is stood in for.)"""
    import pickle

    X, y = load_wine(return_X_y=True)
    model = MLPClassifier(**FAST, random_state=0).fit(X, y)
    expected = model.predict_proba(X)
    model.device_ = torch.device("cuda")  # as fitted on a GPU (its tensors stay here)
    state = model.__getstate__()
    assert state["device_"] == torch.device("cpu") and state["model_"] is not model.model_
    restored = pickle.loads(pickle.dumps(model))
    assert restored.device_ == torch.device("cpu")
    np.testing.assert_array_equal(restored.predict_proba(X), expected)
    assert model.device_ == torch.device("cuda")  # the fitted model itself is unchanged


def _auto_price(shared_data):
    """pmlb's autoPrice (159 cars, real): price, city and highway mpg as three targets of
    very different scales (about 1e4 and 30), the other 13 columns as features."""
    import pandas as pd
    from sklearn.model_selection import train_test_split

    table = pd.read_csv(shared_data / "pmlb" / "207_autoPrice" / "207_autoPrice.tsv.gz",
                        sep="\t")
    targets = ["target", "city-mpg", "highway-mpg"]
    X, Y = table.drop(columns=targets).to_numpy(), table[targets].to_numpy()
    return train_test_split(X, Y, test_size=0.3, random_state=0)


MULTI = dict(width=32, max_epochs=200, batch_size=32, learning_rate=3e-3,
             n_iter_no_change=20, weight_decay=1e-2)


def test_the_regressor_fits_several_targets_at_once(shared_data):
    """A 2-D y, which scikit-learn's MLPRegressor takes, raised 'y should be a 1d array'.
    Now one output unit per column, each column standardised on its own (price, 1e4,
    does not drown the mpg columns), as good as one single-output fit per column; R² is
    scikit-learn's uniform average; a column y is a 1-D y, as for scikit-learn."""
    from sklearn.metrics import r2_score

    X_tr, X_te, Y_tr, Y_te = _auto_price(shared_data)
    model = MLPRegressor(**MULTI, random_state=0).fit(X_tr, Y_tr)
    assert model.n_outputs_ == 3 and model.model_[-1].out_features == 3
    np.testing.assert_allclose(model.y_mean_, Y_tr.mean(axis=0))
    np.testing.assert_allclose(model.y_scale_, Y_tr.std(axis=0))
    pred = model.predict(X_te)
    assert pred.shape == Y_te.shape and pred.dtype == np.float64
    per_column = r2_score(Y_te, pred, multioutput="raw_values")
    assert model.score(X_te, Y_te) == pytest.approx(per_column.mean())
    single = [r2_score(Y_te[:, j], MLPRegressor(**MULTI, random_state=0)
                       .fit(X_tr, Y_tr[:, j]).predict(X_te)) for j in range(3)]
    assert per_column.min() > 0.6 and per_column.mean() > np.mean(single) - 0.1

    with pytest.warns(DataConversionWarning, match="column-vector y"):
        column = MLPRegressor(**FAST, random_state=0).fit(X_tr, Y_tr[:, :1])
    flat = MLPRegressor(**FAST, random_state=0).fit(X_tr, Y_tr[:, 0])
    assert column.n_outputs_ == 1 and column.predict(X_te).shape == (len(X_te),)
    np.testing.assert_array_equal(column.predict(X_te), flat.predict(X_te))


def test_sample_weight_weights_every_output(shared_data):
    """With a 2-D y, a row of weight 0 is left out of every output's loss."""
    X_tr, X_te, Y_tr, Y_te = _auto_price(shared_data)
    corrupt = np.arange(len(Y_tr)) % 2 == 0
    shifted = Y_tr + np.where(corrupt, 3.0, 0.0)[:, None] * Y_tr.std(axis=0)
    weights = (~corrupt).astype(float)
    weighted = MLPRegressor(**MULTI, random_state=0).fit(X_tr, shifted, sample_weight=weights)
    plain = MLPRegressor(**MULTI, random_state=0).fit(X_tr, shifted)
    assert weighted.score(X_te, Y_te) > 0.5 > plain.score(X_te, Y_te)


def test_the_classifier_refuses_a_multilabel_y_and_says_so():
    """A 2-D y raised scikit-learn's 'y should be a 1d array', which did not say that
    multilabel is unsupported nor what to use instead. The refusal is worded as the
    other estimators' (metaopt._checks.check_one_target), and what it offers works."""
    from sklearn.multioutput import MultiOutputClassifier
    from sklearn.neural_network import MLPClassifier as SklearnMLPClassifier

    X, y = load_wine(return_X_y=True)
    labels = np.column_stack([y == 0, y == 1]).astype(int)
    with pytest.raises(ValueError, match=re.escape(
            "MLPClassifier takes one target column, got y of shape (178, 2) (2 targets): "
            "multilabel and multi-output classification is not supported. Fit one network "
            "per target with sklearn.multioutput.MultiOutputClassifier(MLPClassifier(...)), "
            "which predicts all 2 columns, or train one network on all of them with "
            "sklearn.neural_network.MLPClassifier, which takes a 2-D y of 0/1 labels")):
        MLPClassifier(**FAST).fit(X, labels)
    assert MultiOutputClassifier(MLPClassifier(**FAST)).fit(X, labels).predict(X).shape \
        == (178, 2)
    assert SklearnMLPClassifier(max_iter=5).fit(X, labels).predict(X).shape == (178, 2)
    with pytest.warns(DataConversionWarning, match="column-vector y"):
        assert MLPClassifier(max_epochs=2).fit(X, y[:, None]).predict(X).shape == (178,)


class _StepClock:
    """A ``time`` module stand-in whose clock moves 1 s per training minibatch."""

    def __init__(self) -> None:
        self.now = 0.0

    def perf_counter(self) -> float:
        return self.now


def test_a_budget_passed_just_after_the_last_epoch_ended_whole_stopped_nothing(
        minibatch_clock):
    """out_of_time_ was set whenever the deadline had passed after an epoch, also after the
    last one, trained whole: MetaMLP then warned that the budget had stopped a refit that
    had trained every epoch. On a clock of 1 s per minibatch, one epoch of 50 minibatches
    and a 49 s budget: the checks within the epoch (every 4 minibatches, up to 48 s) pass,
    and the epoch ends at 50 s."""
    clock = minibatch_clock
    X, y = make_classification(500, 5, random_state=0)
    whole = MLPClassifier(width=8, batch_size=10, max_epochs=1, validation_fraction=0.0,
                          time_budget=49.0, random_state=0).fit(X, y)
    assert clock.now == 50.0 and whole.n_epochs_ == 1 and not whole.out_of_time_
    clock.now = 0.0  # the same budget with a second epoch to go: stopped by it
    left = MLPClassifier(width=8, batch_size=10, max_epochs=2, validation_fraction=0.0,
                         time_budget=49.0, random_state=0).fit(X, y)
    assert left.n_epochs_ == 1 and left.out_of_time_


def test_time_budget_stops_the_training_within_an_epoch(monkeypatch):
    """MetaMLP's refit (an MLPClassifier of its best epoch count, no hold-out) ran its
    epochs to the end whatever the budget: 13.6 s for 9 s left on 1,000,000 x 50, its one
    epoch 1,000,000 rows. ``time_budget`` now stops it within an epoch, every
    STOP_CHECK_EVERY minibatches, keeping the weights so far. On a clock where each
    minibatch takes 1 s: 5 s of budget, 50 minibatches an epoch."""
    from metaopt.nas import _mlp

    clock, counted = _StepClock(), []

    def timed_row_losses(*args):
        clock.now += 1.0
        counted.append(1)
        return row_losses(*args)

    row_losses = _mlp.row_losses
    monkeypatch.setattr(_mlp, "time", clock, raising=False)
    monkeypatch.setattr(_mlp, "row_losses", timed_row_losses)
    X, y = make_classification(500, 5, random_state=0)
    model = MLPClassifier(width=8, batch_size=10, max_epochs=3, validation_fraction=0.0,
                          time_budget=5.0, random_state=0).fit(X, y)
    assert _mlp.STOP_CHECK_EVERY == 4
    assert len(counted) == 8  # checked after 4 (4 s) and 8 (8 s >= 5 s), of 3 x 50
    assert model.out_of_time_ and model.n_epochs_ == 1
    assert model.predict(X).shape == (500,)
    # no budget, or one not reached: the very same training (no random number drawn)
    counted.clear()
    free = MLPClassifier(width=8, batch_size=10, max_epochs=3, validation_fraction=0.0,
                         random_state=0).fit(X, y)
    clock.now = 0.0
    roomy = MLPClassifier(width=8, batch_size=10, max_epochs=3, validation_fraction=0.0,
                          time_budget=1e6, random_state=0).fit(X, y)
    assert len(counted) == 2 * 150 and not roomy.out_of_time_
    assert roomy.loss_curve_ == free.loss_curve_
    for a, b in zip(roomy.model_.parameters(), free.model_.parameters(), strict=True):
        assert torch.equal(a, b)


def test_a_fitted_model_keeps_no_deadline():
    """fit left its time_budget's deadline, an absolute perf_counter() time, on the
    estimator (``_deadline``): a fitted, cloned-by-copy or pickled model carried a time
    stale in any other process or later fit."""
    import pickle

    X, y = make_classification(100, 5, random_state=0)
    model = MLPClassifier(width=8, max_epochs=2, time_budget=60.0, random_state=0).fit(X, y)
    assert model.n_epochs_ == 2 and not model.out_of_time_
    assert "_deadline" not in vars(model)
    assert "_deadline" not in vars(pickle.loads(pickle.dumps(model)))


@pytest.mark.parametrize("cls", [MLPClassifier, MLPRegressor])
def test_a_model_pickled_before_time_budget_shows_and_predicts(cls):
    """A model pickled before ``time_budget`` existed (the mlp space's pipelines, the
    MetaMLP estimators' best_estimator_) raised AttributeError in repr and get_params."""
    import pickle

    X, y = load_wine(return_X_y=True)
    model = cls(**FAST, random_state=0).fit(X, y)
    expected = model.predict(X)
    del model.time_budget  # as pickled by the code before the parameter
    restored = pickle.loads(pickle.dumps(model))
    assert restored.get_params()["time_budget"] is None and "MLP" in repr(restored)
    np.testing.assert_array_equal(restored.predict(X), expected)


def test_standardise_gives_numpy_float64_mean_and_std_bit_for_bit():
    """Blocks of rows (or of columns) summed in float64 give numpy's float64 mean and std
    to the last bit, whatever the table's layout: row after row for a row-major table,
    pairwise down each column for a column-major one (a DataFrame's) or a single column;
    a float32 column far beyond float32's squares (1.8e19) gets a finite scale."""
    from metaopt.nas._mlp import _standardise

    rng = np.random.default_rng(0)
    n = 100_003  # several blocks of 2**18 values, the last one partial
    table = rng.normal(size=(n, 7)) * [1, 1e-3, 1e3, 10, 1, 5, 1e6] + [0, 1, -50, 1e4, 3, 0, 0]
    table[:, 5] = rng.integers(0, 2, n)  # a binary column
    table[:, 6] = np.abs(table[:, 6]) * 1e25  # up to ~5e31 as float32
    layouts = {"rows": lambda t: t, "columns": np.asfortranarray,
               "strided": lambda t: t[::2, ::2], "one column": lambda t: t[:, 3:4],
               "1-D": lambda t: t[:, 3], "reversed": lambda t: np.asfortranarray(t)[::-1]}
    for dtype in (np.float32, np.float64):
        for layout, view in layouts.items():
            a = view(table.astype(dtype))
            mean, scale = _standardise(a)
            expected_scale = a.std(axis=0, dtype=np.float64).astype(dtype)
            np.testing.assert_array_equal(
                mean, a.mean(axis=0, dtype=np.float64).astype(dtype), err_msg=layout)
            np.testing.assert_array_equal(scale, expected_scale, err_msg=layout)
            assert mean.dtype == scale.dtype == dtype and np.shape(mean) == a.shape[1:]
    scale = _standardise(table.astype(np.float32))[1]
    assert np.isfinite(scale).all() and scale[6] > 1e30
    mean, scale = _standardise(np.full((10, 2), 4.0, dtype=np.float32))  # constant: scale 1
    np.testing.assert_array_equal(mean, [4, 4])
    np.testing.assert_array_equal(scale, [1, 1])


def _traced_peak(f, *args):
    """The most memory Python and numpy held while ``f(*args)`` ran, in bytes."""
    import tracemalloc

    tracemalloc.start()
    try:
        f(*args)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("order", ["C", "F"])
def test_standardise_takes_bounded_memory(order):
    """numpy's std made a float64 copy of ``a - mean``: 80 MB for this 40 MB float32
    table; the blocks take a few MB whatever the number of rows."""
    from metaopt.nas._mlp import _standardise

    a = np.asarray(np.random.default_rng(0).standard_normal((200_000, 50), dtype=np.float32),
                   order=order)
    peak = _traced_peak(_standardise, a)
    assert peak < a.nbytes / 8, f"{peak / 1e6:.1f} MB for a {a.nbytes / 1e6:.0f} MB table"


def test_fit_and_predict_standardise_without_full_size_temporaries():
    """fit made X - mean, then its float32 copy (1.5 x a float64 X beside it), and
    predict X - mean and its quotient (2 x X); the float32 inputs are written a block at
    a time, and predict standardises a batch at a time."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((100_000, 50))
    y = (X[:, 0] > 0).astype(int)
    model = MLPClassifier(max_epochs=1, width=4, batch_size=4096, validation_fraction=0,
                          random_state=0)
    model.fit(X[:100], y[:100])  # (a process's first optimiser imports torch._dynamo)
    peak = _traced_peak(model.fit, X, y)
    assert peak < 0.75 * X.nbytes, f"fit: {peak / 1e6:.0f} MB for a {X.nbytes / 1e6:.0f} MB X"
    peak = _traced_peak(model.predict_proba, X)
    assert peak < X.nbytes / 4, f"predict: {peak / 1e6:.0f} MB for a {X.nbytes / 1e6:.0f} MB X"


def test_the_standardised_inputs_are_not_held_through_the_epochs(monkeypatch):
    """fit kept its float32 standardised inputs (n x d, 2 MB here) for the whole training
    beside the folds copied from them; they are dropped once the folds are taken."""
    import tracemalloc

    from metaopt.nas import _mlp

    X = np.random.default_rng(0).standard_normal((10_000, 50))
    y = (X[:, 0] > 0).astype(int)
    held, train_epoch = [], _mlp.train_epoch

    def spy(*args, **kwargs):
        held.append(tracemalloc.get_traced_memory()[0])
        return train_epoch(*args, **kwargs)

    monkeypatch.setattr(_mlp, "train_epoch", spy)
    model = MLPClassifier(max_epochs=1, width=4, batch_size=4096, random_state=0)
    model.fit(X[:100], y[:100])  # (a process's first optimiser imports torch._dynamo)
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        held.clear()
        model.fit(X, y)
    finally:
        tracemalloc.stop()
    assert len(held) == 1
    inputs = X.size * 4  # bytes of the float32 inputs
    assert held[0] - base < inputs / 4, f"{(held[0] - base) / 1e6:.1f} MB held in the epoch"

def test_a_device_without_float64_predicts_on_the_cpu():
    """Apple's MPS has no float64: the trained network's ``.double()`` failed there after
    the whole training. The network moves to the CPU; CPU and CUDA keep theirs."""
    from metaopt.nas._mlp import _inference_device

    for device in ("cpu", "cuda", "cuda:1"):
        assert _inference_device(torch.device(device)) == torch.device(device)
    assert _inference_device(torch.device("mps")) == torch.device("cpu")
    assert _inference_device(torch.device("mps:0")) == torch.device("cpu")


def test_predict_feeds_the_network_on_its_own_device():
    """A network trained on MPS predicts on the CPU while ``device_`` says where it
    trained: predict moved the rows to ``device_`` (MPS, and float64 there)."""
    X, y = load_wine(return_X_y=True)
    model = MLPClassifier(**{**FAST, "max_epochs": 2}, random_state=0).fit(X, y)
    expected = model.predict_proba(X)
    model.device_ = torch.device("mps")  # as trained on MPS, the network on the CPU
    np.testing.assert_array_equal(model.predict_proba(X), expected)


def test_fit_puts_the_network_on_its_inference_device(monkeypatch):
    """fit asks ``_inference_device`` with the training device and moves the float64
    network there (no MPS here: the answer is stood in for)."""
    from metaopt.nas import _mlp

    asked = []
    monkeypatch.setattr(_mlp, "_inference_device",
                        lambda device: asked.append(device) or torch.device("cpu"))
    X, y = load_wine(return_X_y=True)
    model = MLPRegressor(**{**FAST, "max_epochs": 2}, random_state=0).fit(X, y)
    assert asked == [model.device_]
    weights = next(model.model_.parameters())
    assert weights.device == torch.device("cpu") and weights.dtype == torch.float64



@pytest.mark.parametrize("cls", [MLPClassifier, MLPRegressor])
def test_text_in_X_is_refused_saying_what_encodes_it(cls):
    """A text column reached numpy's "could not convert string to float: 'south'", which
    named neither the estimator nor a way out: the MLP takes numbers, and the mlp space's
    pipeline (or the MetaMLP search) one-hot encodes a DataFrame's text columns. What the
    message offers works."""
    from metaopt.spaces import get_space

    X, y = load_wine(return_X_y=True, as_frame=True)
    X = X.iloc[:, :3].assign(site=np.where(np.arange(len(X)) % 2, "north", "south"))
    task = "classification" if cls is MLPClassifier else "regression"
    target = y.to_numpy() if cls is MLPClassifier else X["alcohol"].to_numpy()
    message = (f"{cls.__name__} takes numbers, but X holds text ('south'): encode it "
               "first, e.g. with metaopt.spaces.get_space('mlp').build(params, "
               f"'{task}'), a pipeline that one-hot encodes a DataFrame's text columns, "
               f"or search the MLP with metaopt.nas.Meta{cls.__name__}, which does the same")
    for data in (X, X.to_numpy()):
        with pytest.raises(ValueError, match=re.escape(message)):
            cls(**FAST).fit(data, target)
    numeric = cls(max_epochs=2).fit(X.drop(columns="site").to_numpy(), target)
    with pytest.raises(ValueError, match=re.escape(message)):
        numeric.predict(X[["site", "malic_acid", "ash"]].to_numpy())
    params = {**get_space("mlp").default(task), "max_epochs": 10, "width": 16}
    assert get_space("mlp").build(params, task).fit(X, target).predict(X).shape == (178,)
