"""Fitted-state rules shared by metaopt's scikit-learn estimators: a failed ``fit``
leaves an estimator unfitted, an array can be given where a DataFrame was fitted
(or an array of numpy's variable-width text), sparse input is made dense, and sample
weights are checked alike."""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.utils.validation import _check_sample_weight, validate_data

from metaopt.data._dataset import _target_of_shape, refuse_repeated_names, with_string_names
from metaopt.data._terms import estimator_terms

# Sparse input is densified up to this many cells (the models' preprocessing is dense).
MAX_DENSE_CELLS = 50_000_000

_Fit = TypeVar("_Fit", bound=Callable[..., Any])


def unfitted_on_error(fit: _Fit) -> _Fit:
    """Decorate ``fit`` so that when it raises, the estimator's fitted attributes (public
    names ending in ``_``) are removed: otherwise a refit that fails midway leaves the new
    data's preprocessing beside the old model, and ``predict`` silently returns nonsense.
    ``predict`` then raises scikit-learn's ``NotFittedError``. Inside, the data checks
    name the other task by the estimator of it (:func:`estimator_terms`: "use
    MetaOptRegressor", as the estimators take no ``task=``)."""

    @functools.wraps(fit)
    def wrapper(self, *args, **kwargs):
        try:
            with estimator_terms(type(self)):
                return fit(self, *args, **kwargs)
        except BaseException:
            for name in [k for k in vars(self) if k.endswith("_") and not k.startswith("_")]:
                delattr(self, name)
            raise

    return wrapper  # type: ignore[return-value]  # functools.wraps keeps the signature


def check_target_given(estimator, y) -> None:
    """Refuse ``y=None`` in scikit-learn's words (``fit(X)``, ``fit(X, None)``)."""
    if y is None:
        raise ValueError(f"{type(estimator).__name__} requires y to be passed, but the "
                         "target y is None")


def check_target_not_scalar(X, y) -> None:
    """Refuse a ``y`` that is one value, not one per row of ``X`` (a column's name, as a
    DataFrame-first API takes it: ``fit(df, "target")``), as :func:`metaopt.suggest`
    does, saying how to use a column of ``X`` as the target (scikit-learn's "y should be
    a 1d array, got an array of shape ()" said neither). None is left to
    :func:`check_target_given`."""
    if y is None:
        return
    # not np.ndim(y): scikit-learn's checks give objects refusing numpy's functions
    ndim = getattr(y, "ndim", None)
    if isinstance(y, (str, bytes)) or ndim == 0 or ndim is None and not any(
            hasattr(y, name) for name in ("__len__", "__iter__", "__array__")):
        _target_of_shape(y, (0, 0), getattr(X, "columns", ()))  # raises


def checked_frame(estimator, X: pd.DataFrame, reset: bool) -> pd.DataFrame:
    """scikit-learn's checks of the DataFrame ``X`` (``feature_names_in_`` set at fit
    only when its names are all strings, then compared) and ``X`` named as ``estimator``'s
    models are fitted: its names as strings. Names that are not all strings (``[0, 1,
    2]``, ``[0, "color"]``, which scikit-learn refuses) are positions, as metaopt's
    pipelines read them: at fit, and later in a frame of any names."""
    refuse_repeated_names(X)
    if not reset and getattr(estimator, "_names_as_strings", False):
        named = with_string_names(X)  # an old pickle's int names, as it compared them
        X = named if list(named.columns) == list(estimator.feature_names_in_) else X
    by_name = all(isinstance(c, str) for c in X.columns)
    validate_data(estimator, X if by_name else X.set_axis(range(X.shape[1]), axis=1),
                  reset=reset, skip_check_array=True)
    if reset:
        X = with_string_names(X)
        estimator._fitted_columns = X.columns
        return X
    return X.set_axis(estimator._fitted_columns, axis=1)


def unpickled_state(state: dict) -> dict:
    """``state``, pickled by a MetaOpt* or MetaMLP* estimator of a metaopt without
    ``search_rows`` and :func:`checked_frame`'s column names, as a current one holds it:
    ``search_rows=None`` (its search and refit saw every row) and, fitted on a DataFrame,
    its ``feature_names_in_`` as the names its models read. Those were a frame's names as
    strings, int names too (``['0', '1', ...]``), and a frame of those int names is
    compared so (:func:`checked_frame`), not warned about as a frame without names."""
    state.setdefault("search_rows", None)
    if "feature_names_in_" in state and "_fitted_columns" not in state:
        state["_fitted_columns"] = pd.Index(state["feature_names_in_"])
        state["_names_as_strings"] = True
    return state


def fitted_on_frame(estimator) -> bool:
    """Whether ``estimator`` was fitted on a DataFrame (:func:`checked_frame`)."""
    return getattr(estimator, "_fitted_columns", None) is not None


def as_fitted_frame(estimator, X):
    """``X`` (already checked) as a DataFrame of the columns ``estimator`` was fitted on,
    when it was fitted on a DataFrame and ``X`` is an array; as scikit-learn's own
    estimators do, such input is accepted after scikit-learn's warning that ``X`` has no
    feature names (the preprocessing selects columns by name)."""
    if not fitted_on_frame(estimator) or isinstance(X, pd.DataFrame):
        return X
    return pd.DataFrame(X, columns=estimator._fitted_columns)


def refuse_text_array(estimator, X) -> None:
    """A ``ValueError`` that says what to do when ``X`` is an array of text (or objects
    that are not numbers) and ``estimator`` was fitted on a DataFrame: only a DataFrame
    can say which columns are categorical (scikit-learn's own message, "could not convert
    string to float", named neither)."""
    if not fitted_on_frame(estimator) or isinstance(X, pd.DataFrame) or not hasattr(
            X, "__array__"):
        return
    array = np.asarray(X)
    if array.dtype.kind in "OUS":
        try:
            array.astype(float)
        except (TypeError, ValueError):
            raise ValueError(
                f"X is an array of text or objects, but this {type(estimator).__name__} was "
                f"fitted on a DataFrame (columns {list(estimator._fitted_columns)[:10]}): "
                "pass a DataFrame with those columns, so that its categorical ones are "
                "read as categories") from None


def first_text(X) -> str | None:
    """A value of ``X`` that is text and no number (None when there is none)."""
    values = X.to_numpy(dtype=object) if isinstance(X, pd.DataFrame) else np.asarray(
        X, dtype=object)
    for value in values.ravel():
        if isinstance(value, (str, bytes)):
            try:
                float(value)
            except ValueError:
                return str(value)
    return None


# how numpy and scikit-learn refuse text where numbers are expected (the second for
# dtype="numeric" and an array of str or bytes)
_TEXT_REFUSALS = ("could not convert string to float",
                  "dtype='numeric' is not compatible with arrays of bytes/strings")


@contextlib.contextmanager
def text_refused(X, message: Callable[[str], str]):
    """Inside: scikit-learn's check of ``X``. Its refusal of text, which names neither
    the estimator nor a way out, becomes a ``ValueError`` of ``message(text)``, ``text``
    a value of ``X`` that is no number; other errors pass."""
    try:
        yield
    except ValueError as error:
        text = any(refusal in str(error) for refusal in _TEXT_REFUSALS) and first_text(X)
        if not text:
            raise
        raise ValueError(message(text)) from None


def checkable_array(values):
    """``values`` as scikit-learn's checks of X and y can read them: a numpy
    ``StringDType`` array (numpy 2's variable-width text) as an array of objects, and a
    missing value in an array of objects (``pd.NA``, ``None``) as NaN, the missing value
    a DataFrame's would become; anything else as it is. The checks fail on the first with
    a ``TypeError`` that names neither ("dtype argument must be a NumPy dtype"), and read
    ``pd.NA`` as no number ("float() argument must be ... not 'NAType'")."""
    dtype = getattr(values, "dtype", None)
    if isinstance(dtype, np.dtype) and dtype.kind == "T":  # StringDType (numpy >= 2)
        values = np.asarray(values).astype(object)
    elif not (isinstance(values, np.ndarray) and values.dtype.kind == "O"):
        return values
    missing = pd.isna(values)
    return np.where(missing, np.nan, values) if missing.any() else values


def densified(X, trains_on: str):
    """``X``, made dense when sparse; a ValueError beyond ``MAX_DENSE_CELLS`` cells,
    saying that ``trains_on`` (what needs dense data) does."""
    if not sp.issparse(X):
        return X
    if np.prod(X.shape) > MAX_DENSE_CELLS:
        raise ValueError(f"sparse X of shape {X.shape} is too large to densify (limit "
                         f"{MAX_DENSE_CELLS:,} cells): {trains_on} on dense data")
    return X.toarray()


def checked_sample_weight(sample_weight, X):
    """``sample_weight`` as scikit-learn checks it (one finite weight >= 0 per row of
    ``X``), None when not given; a ValueError when every weight is 0 (no row would count)."""
    if sample_weight is None:
        return None
    sample_weight = _check_sample_weight(sample_weight, X, ensure_non_negative=True)
    if not sample_weight.any():
        raise ValueError("sample_weight is zero for every sample; give some samples a "
                         "positive weight")
    return sample_weight
