"""A regression target too large or too small to standardise is refused (it was silently
NaN, or every model a constant)."""

import re
import warnings

import numpy as np
import pytest

import metaopt
from metaopt import MetaOptRegressor
from metaopt.data import LocalSource, validate
from metaopt.data._terms import table_terms
from metaopt.nas import MetaMLPRegressor, MLPRegressor

MESSAGE = ("y holds finite values too large to standardise (up to 1.15e+{0}: squared and "
           "summed, they overflow to inf); rescale, e.g. y / 1e{0}")


@pytest.fixture(scope="module")
def machine_cpu(pmlb_root):
    return LocalSource(pmlb_root).load("230_machine_cpu", "regression")


@pytest.mark.parametrize("model", [MLPRegressor(max_epochs=2, random_state=0),
                                   MetaMLPRegressor(n_trials=1, cv=2, max_epochs=2,
                                                    random_state=0),
                                   MetaOptRegressor(n_trials=1, cv=2, spaces="linear",
                                                    random_state=0)])
def test_a_target_beyond_float64_squares_is_refused(machine_cpu, model):
    """``230_machine_cpu``'s target x 1e160: its standard deviation overflowed to inf,
    every trial scored R² 0 and the model predicted NaN (MetaOptRegressor: every trial
    failed, its CV score NaN); x 1e150 fits as x 1."""
    with pytest.raises(ValueError, match=f"^{re.escape(MESSAGE.format(163))}$"):
        model.fit(machine_cpu.X, machine_cpu.y * 1e160)
    model.fit(machine_cpu.X, machine_cpu.y * 1e150)
    assert np.isfinite(model.predict(machine_cpu.X)).all()


@pytest.mark.parametrize("fit", [
    lambda X, y: MLPRegressor(max_epochs=2, random_state=0).fit(X, y),
    lambda X, y: MetaMLPRegressor(n_trials=1, cv=2, max_epochs=2, random_state=0).fit(X, y),
    validate], ids=["MLPRegressor", "MetaMLPRegressor", "validate"])
def test_a_target_whose_summed_squares_overflow_is_refused(machine_cpu, fit):
    """``230_machine_cpu``'s target x 1e151 (up to 1.15e154, below the 1.3e154 whose square
    overflows): the sum of its 209 squared deviations overflowed, its standard deviation
    was inf and ``MLPRegressor`` predicted -inf."""
    with pytest.raises(ValueError, match=f"^{re.escape(MESSAGE.format(154))}$"):
        fit(machine_cpu.X, machine_cpu.y * 1e151)


TINY = ("y holds finite values too small to standardise (up to 1.15e-197: squared, their "
        "deviations from the mean underflow); rescale, e.g. y * 1e197")


@pytest.mark.parametrize("fit", [
    lambda X, y: MLPRegressor(max_epochs=2, random_state=0).fit(X, y),
    lambda X, y: MetaMLPRegressor(n_trials=1, cv=2, max_epochs=2, random_state=0).fit(X, y),
    lambda X, y: MetaOptRegressor(n_trials=1, cv=2, spaces="linear", random_state=0).fit(X, y),
    lambda X, y: metaopt.suggest(X, y, space="random_forest", n=1)],
    ids=["MLPRegressor", "MetaMLPRegressor", "MetaOptRegressor", "suggest"])
def test_a_target_below_float64_squares_is_refused(machine_cpu, fit):
    """``230_machine_cpu``'s target x 1e-200: its variance underflowed to 0, every model
    predicted a constant and nothing said so (MetaOptRegressor's trials all scored R² 1.0,
    the MLPs' R² 0; suggest's landmarkers' scores, and so its nearest datasets, changed);
    x 1e-150 fits as x 1."""
    with pytest.raises(ValueError, match=f"^{re.escape(TINY)}$"):
        fit(machine_cpu.X, machine_cpu.y * 1e-200)
    fit(machine_cpu.X, machine_cpu.y * 1e-150)


def test_a_target_whose_squared_deviations_underflow_is_refused(machine_cpu):
    """``230_machine_cpu``'s target as 1e-150 x (1 + y x 1e-15): its values differ by
    1e-162 at most, their squared deviations underflowed to 0, the scale fell back to 1
    and ``MLPRegressor`` predicted -0.18 for values of 1e-150."""
    y = (1 + machine_cpu.y * 1e-15) * 1e-150
    with pytest.raises(ValueError, match=re.escape(
            "(up to 1e-150: squared, their deviations from the mean underflow); rescale, "
            "e.g. y * 1e150")):
        MLPRegressor(max_epochs=2, random_state=0).fit(machine_cpu.X, y)
    with pytest.raises(ValueError, match="too small to standardise"):
        validate(machine_cpu.X, y)


def test_a_target_out_of_float64_squares_is_refused_in_the_table_terms(machine_cpu):
    """On the command line, the target is a column of the table file, rescaled there."""
    with table_terms("cpu.csv", "PRP"), pytest.raises(ValueError, match=re.escape(
            "the target column 'PRP' holds finite values too small to standardise (up to "
            "1.15e-197: squared, their deviations from the mean underflow); rescale it in "
            "cpu.csv, e.g. multiply it by 1e197")):
        validate(machine_cpu.X, machine_cpu.y * 1e-200)
    with table_terms("cpu.csv", "PRP"), pytest.raises(ValueError, match=re.escape(
            "the target column 'PRP' holds finite values too large to standardise (up to "
            "1.15e+163: squared and summed, they overflow to inf); rescale it in cpu.csv, "
            "e.g. divide it by 1e163")):
        validate(machine_cpu.X, machine_cpu.y * 1e160)


def test_an_X_column_whose_summed_squares_overflow_is_warned_about_as_such(machine_cpu):
    """``230_machine_cpu``'s column ``MMAX`` scaled up to 1.15e154, below the 1.3e154 whose
    square overflows: its standard deviation was inf and the warning spoke of float32 only
    (the ``scaled`` preprocessing left the column unscaled, up to 9.4e153)."""
    X = machine_cpu.X.assign(MMAX=machine_cpu.X["MMAX"] * (1.15e154 / 64000))
    with pytest.warns(UserWarning, match=re.escape(
            "X column(s) 'MMAX' (up to 1.15e+154) hold finite values too large for float32 "
            "(beyond 3.4e+38: tree models cast X to it and see inf), and to standardise in "
            "float64 (squared and summed, they overflow to inf: standardising leaves them "
            "unscaled or NaN); rescale, e.g. X['MMAX'] / 1e154")):
        validate(X, machine_cpu.y)


def test_a_float32_X_column_is_standardised_in_float64(machine_cpu):
    """``MMAX`` x 1e16 as float32 (up to 6.4e20): its standard deviation, summed in float32,
    overflowed to inf, and ``MLPRegressor`` trained on the column as all 0; it is summed in
    float64 (1.17e20), as the float64 column's."""
    X = machine_cpu.X.assign(MMAX=machine_cpu.X["MMAX"] * 1e16)
    model = MLPRegressor(max_epochs=2, random_state=0).fit(X.astype("float32"), machine_cpu.y)
    np.testing.assert_allclose(model.x_scale_, X.std(ddof=0), rtol=1e-6)
    np.testing.assert_allclose(model.x_mean_, X.mean(), rtol=1e-6)


@pytest.mark.parametrize("as_array", [False, True], ids=["DataFrame", "array"])
def test_an_X_column_too_large_to_standardise_is_refused_by_MLPRegressor(machine_cpu,
                                                                         as_array):
    """``MMAX`` up to 1.15e154: its scale was inf, the column all 0 in the network, and
    ``MLPRegressor`` fitted without a word, ignoring it (the same predictions with MMAX up
    to 1.15e154, 1e200 or 1e306); ``MetaMLPRegressor`` refused it. It is refused with
    ``MetaMLPRegressor``'s message, naming the column, and without numpy's overflow
    warning before it."""
    X = machine_cpu.X.assign(MMAX=machine_cpu.X["MMAX"] * (1.15e154 / 64000))
    column = "x2" if as_array else "MMAX"
    with pytest.raises(ValueError, match=re.escape(
            f"X column(s) '{column}' (up to 1.15e+154) hold finite values too large for "
            "float32 (beyond 3.4e+38: tree models cast X to it and see inf), and to "
            f"standardise in float64 (squared and summed, they overflow to inf: "
            f"standardising leaves them unscaled or NaN); rescale, e.g. X['{column}'] / "
            "1e154")), warnings.catch_warnings():
        # numpy's "overflow encountered" came first, before the message that says it
        warnings.simplefilter("error", RuntimeWarning)
        MLPRegressor(max_epochs=2, random_state=0).fit(X.to_numpy() if as_array else X,
                                                       machine_cpu.y)
