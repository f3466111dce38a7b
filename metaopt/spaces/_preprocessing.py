"""The one preprocessing builder every search space puts before its model."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import scipy.sparse as sp
from pandas.api import types as ptypes
from sklearn.base import BaseEstimator, OneToOneFeatureMixin, TransformerMixin
from sklearn.compose import ColumnTransformer, make_column_selector
from sklearn.impute import SimpleImputer
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, OrdinalEncoder, StandardScaler
from sklearn.utils.validation import (
    FLOAT_DTYPES,
    _check_feature_names_in,
    check_is_fitted,
    validate_data,
)

from metaopt._warnings import warn
from metaopt.data._dataset import (
    dates_as_seconds,
    holds_dates,
    holds_numbers,
    is_temporal,
    temporal_as_seconds,
)

PREPROCESSING_KINDS = ("scaled", "ordinal", "native")
# Cap on the columns one categorical feature may produce (one-hot) or codes it may
# keep (ordinal); rarer categories are grouped into one "infrequent" category.
MAX_ONEHOT_CATEGORIES = 32
MAX_ORDINAL_CATEGORIES = 64
_CATEGORICAL_DTYPES = ["category", "object", "string", "bool"]
# datetimes, timedeltas, times of day and periods are numbers of seconds (_as_numbers)
_NUMERIC_DTYPES = ["number", "datetime", "datetimetz", "timedelta"]


def _is_arrow_decimal(dtype) -> bool:
    return isinstance(dtype, pd.ArrowDtype) and pa.types.is_decimal(dtype.pyarrow_dtype)


def _is_number_column(column: pd.Series) -> bool:
    """Whether a column pandas does not type as numeric holds numbers: decimals
    (``decimal.Decimal`` objects, as SQL drivers return them, or pyarrow ``decimal128``),
    numbers as text, alone or mixed (:func:`metaopt.data._dataset.holds_numbers`),
    times (:func:`metaopt.data._dataset.is_temporal`: pyarrow times of day and periods
    escape ``select_dtypes``, and so do pyarrow timestamps with a time zone), or ISO 8601
    date text and date objects (:func:`metaopt.data._dataset.holds_dates`).
    Numbers, as :func:`metaopt.data.validate` takes them, not categories."""
    if _is_arrow_decimal(column.dtype) or is_temporal(column.dtype):
        return True
    if isinstance(column.dtype, pd.CategoricalDtype) or not (
            ptypes.is_object_dtype(column.dtype) or ptypes.is_string_dtype(column.dtype)):
        return False
    return holds_numbers(column) or holds_dates(column)


def _as_float(column: pd.Series) -> pd.Series:
    """A column of :func:`_is_number_column` as floats (text that is no number: NaN). A
    column holding no number, but times of day or durations in every row (a time column
    given as objects or read from a CSV): their seconds (:func:`_times_as_seconds`), not
    NaN in every row; else dates (ISO 8601 text or date objects): their seconds, a value
    that is none NaN, as :func:`metaopt.data.validate` parses them
    (:func:`metaopt.data._dataset.dates_as_seconds`), in every batch alike."""
    if _is_arrow_decimal(column.dtype):
        return column.astype(float)
    numbers = pd.to_numeric(column, errors="coerce").astype(float)
    if numbers.notna().any() or column.isna().all():
        return numbers
    seconds = _times_as_seconds(column)
    return dates_as_seconds(column) if seconds is None else seconds


def _times_as_seconds(column: pd.Series) -> pd.Series | None:
    """Seconds of a column of objects or text whose present values are all times of day
    (since midnight), durations or their text (``"10:30:00"``), as
    :func:`metaopt.data._dataset.temporal_as_seconds` gives them; None otherwise."""
    present = column.dropna()
    if ptypes.infer_dtype(present) == "time":  # datetime.time objects, as pyarrow times
        times = present.astype(pd.ArrowDtype(pa.time64("us")))
        return temporal_as_seconds(times).reindex(column.index)
    try:
        durations = pd.to_timedelta(present, errors="coerce")
    except (TypeError, ValueError):  # dates, or other objects
        return None
    if durations.notna().all():
        return temporal_as_seconds(durations).astype(float).reindex(column.index)
    return None


class ColumnSelector:
    """Select categorical or numeric columns of a DataFrame, or of a plain array.

    DataFrames delegate to :func:`sklearn.compose.make_column_selector`, columns of
    numbers typed as objects or text (:func:`_is_number_column`) being numeric and
    pyarrow string columns (which it does not see) categorical, and give column
    positions: names may be numbers that are not the positions, which scikit-learn
    would take for positions. A numpy array has no categorical columns, so all its
    columns are numeric. Numeric columns without any observed value in the rows being
    fitted are left out: they carry nothing, the imputer would drop them with a warning
    at every fit, and histogram gradient boosting fails on them.
    """

    def __init__(self, categorical: bool) -> None:
        self.categorical = categorical

    def __call__(self, X) -> list:
        if isinstance(X, pd.DataFrame):
            by_position = X.set_axis(range(X.shape[1]), axis=1)
            typed_otherwise = {i for i in by_position if _is_number_column(by_position[i])}
            if self.categorical:
                chosen = set(make_column_selector(dtype_include=_CATEGORICAL_DTYPES)(by_position))
                # (is_string_dtype: pyarrow strings, as read_csv(dtype_backend="pyarrow")
                # gives them, escape select_dtypes)
                return [i for i in by_position if i not in typed_otherwise and (
                    i in chosen or ptypes.is_string_dtype(by_position[i].dtype))]
            numeric = set(make_column_selector(dtype_include=_NUMERIC_DTYPES,
                                               dtype_exclude="bool")(by_position))
            return [i for i in by_position if (i in numeric or i in typed_otherwise)
                    and by_position[i].notna().any()]
        if self.categorical:
            return []
        if sp.issparse(X):
            return list(range(X.shape[1]))
        return np.flatnonzero(~pd.isna(np.asarray(X)).all(axis=0)).tolist()

    def __repr__(self) -> str:
        return f"ColumnSelector(categorical={self.categorical})"


def _with_columns(X: pd.DataFrame, positions: list[int], convert) -> pd.DataFrame:
    """``X`` with the columns at ``positions`` replaced by ``convert(column)``: a new
    frame sharing the other columns with ``X`` (pandas' copy-on-write: a write to either
    frame copies the column first), or ``X`` itself when there are none (by position:
    names may be numbers or repeat)."""
    if not positions:
        return X
    X = X.copy(deep=False)  # (a deep copy copied every column: 400 MB for 1,000,000 x 50)
    for i in positions:
        X.isetitem(i, convert(X.iloc[:, i]))
    return X


def _holds(column: pd.Series) -> set[bool]:
    """Whether the values (or categories) of ``column`` are strings (True), other values
    (False), or both."""
    values = (column.cat.categories if isinstance(column.dtype, pd.CategoricalDtype)
              else column.dropna().unique())
    return {isinstance(v, str) for v in values}


def _text(value) -> str:
    """``value`` as a string, a whole float as the integer it is (``1.0`` -> ``"1"``): a
    column of numbers with a missing value is float, and its ``1.0`` is the ``1`` seen
    at fit."""
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    return str(value)


class MixedAsStrings(OneToOneFeatureMixin, TransformerMixin, BaseEstimator):
    """Categorical columns whose values mix strings with numbers (``1, 2, "unknown"``) as
    strings (a whole float as its integer), missing values kept: scikit-learn's encoders
    refuse mixed types. The columns are chosen at fit, so a later batch holding only
    numbers (floats, with a missing value) is converted alike; so is a column of strings
    at fit given as numbers (a batch missing it in every row is floats)."""

    def fit(self, X: pd.DataFrame, y=None) -> MixedAsStrings:
        """Find the columns that mix strings with other values, and those of strings."""
        validate_data(self, X, skip_check_array=True)  # names, for get_feature_names_out
        # positions: column names may be numbers or repeat
        holds = [_holds(X.iloc[:, i]) for i in range(X.shape[1])]
        self.mixed_ = [i for i, kinds in enumerate(holds) if kinds == {True, False}]
        self.strings_ = [i for i, kinds in enumerate(holds) if True in kinds]
        return self

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        """``X`` with the columns found at fit as strings."""
        check_is_fitted(self)
        convert = [i for i in self.strings_ if i in self.mixed_
                   or ptypes.is_numeric_dtype(X.dtypes.iloc[i])]
        # (the last astype: map gives floats when every value is missing)
        return _with_columns(X, convert, lambda column: column.astype(object).map(
            _text, na_action="ignore").astype(object))

    def __setstate__(self, state: dict) -> None:
        # pickled before strings_ (2026-12-04): it converted its mixed columns alone,
        # which it knew by name before it knew them by position
        if "mixed_" in state and "strings_" not in state:
            names = list(state.get("feature_names_in_", []))
            state["mixed_"] = state["strings_"] = [
                names.index(c) if isinstance(c, str) else c for c in state["mixed_"]]
        super().__setstate__(state)


def _holds_na(dtype) -> bool:
    """Whether a column of ``dtype`` holds its missing values as ``pd.NA`` or ``None``:
    objects, pandas or pyarrow strings, and the other pyarrow columns of objects
    (a ``dictionary``, as a pandas categorical saved to parquet reads back with
    ``dtype_backend="pyarrow"``; ``binary``)."""
    return (ptypes.is_object_dtype(dtype) or ptypes.is_string_dtype(dtype)
            or (isinstance(dtype, pd.ArrowDtype) and dtype.kind == "O"))


def _missing_as_nan(X) -> pd.DataFrame:
    """Columns of :func:`_holds_na` with their missing values (``pd.NA``, ``None``) as NaN,
    as objects: the encoders take NaN for a missing value but refuse ``pd.NA`` beside
    strings or bools (a pandas or pyarrow string column cannot hold NaN). An array (the
    categorical columns of a later batch given as ``X.to_numpy()``, as SHAP and LIME give
    it) is read as a DataFrame of objects, by position as scikit-learn reads it."""
    if not isinstance(X, pd.DataFrame):
        X = pd.DataFrame(X, dtype=object)
    positions = [i for i, dtype in enumerate(X.dtypes)
                 if _holds_na(dtype) and X.iloc[:, i].isna().any()]
    return _with_columns(X, positions, lambda column: column.astype(object).where(
        column.notna(), np.nan))


def _as_category(X: pd.DataFrame) -> pd.DataFrame:
    return X.astype("category")


def _as_numbers(X, dense: bool):
    """A DataFrame's temporal columns as seconds and its decimal or number-text
    columns as floats; a sparse matrix,
    or a DataFrame's sparse columns, dense when ``dense`` (standardising, histogram
    gradient boosting and pandas output need it)."""
    if sp.issparse(X):
        return X.toarray() if dense else X
    if not isinstance(X, pd.DataFrame):
        return X
    # (every column here was selected as numeric: what pandas does not type as a number
    # holds decimals or number text; pyarrow decimals are "numeric" with a missing NA)
    positions = [i for i, dtype in enumerate(X.dtypes)
                 if is_temporal(dtype) or _is_arrow_decimal(dtype)
                 or not ptypes.is_numeric_dtype(dtype)
                 or (dense and isinstance(dtype, pd.SparseDtype))]
    return _with_columns(X, positions, _as_number_column)


def _as_number_column(column: pd.Series) -> pd.Series:
    """One column of :func:`_as_numbers`: dense, seconds or floats."""
    if isinstance(column.dtype, pd.SparseDtype):
        return column.sparse.to_dense()
    return temporal_as_seconds(column) if is_temporal(column.dtype) else _as_float(column)


class _Numbers(FunctionTransformer):
    """:func:`_as_numbers` as a step, which warns when a later batch holds text that is
    no number in a column typed as numbers at fit (read as missing, then imputed, as
    number text is at fit)."""

    def fit(self, X, y=None):
        super().fit(X, y)
        self.typed_as_numbers_ = (X.dtypes.map(ptypes.is_numeric_dtype).to_numpy()
                                  if isinstance(X, pd.DataFrame) else None)
        return self

    def transform(self, X):
        out = super().transform(X)
        if isinstance(X, pd.DataFrame) and self.typed_as_numbers_ is not None:
            for i, was in enumerate(self.typed_as_numbers_):
                if was and not ptypes.is_numeric_dtype(X.dtypes.iloc[i]) \
                        and not is_temporal(X.dtypes.iloc[i]):
                    _warn_text_read_as_missing(X.columns[i], X.iloc[:, i], out.iloc[:, i])
        return out


def _warn_text_read_as_missing(name, given: pd.Series, read: pd.Series) -> None:
    lost = given[given.notna().to_numpy() & read.isna().to_numpy()]
    if len(lost):
        warn(f"column {name!r} held {len(lost)} value(s) that are no number (e.g. "
             f"{lost.iloc[0]!r}), read as missing: it held numbers at fit")


def _numbers(dense: bool) -> _Numbers:
    return _Numbers(_as_numbers, kw_args={"dense": dense}, feature_names_out="one-to-one")


class MedianImputer(TransformerMixin, BaseEstimator):
    """``SimpleImputer(strategy="median")``, faster on wide dense data: its medians come
    from ``np.nanmedian`` (partial sorts), not ``np.ma.median`` (a full sort of a masked
    array): a 4000 x 2000 float array fits in 0.2 s rather than 0.6 s. The medians are
    handed to a ``SimpleImputer`` fitted on them alone, which learns them as they are and
    imputes with them: same output (columns without any observed value dropped, feature
    names). Sparse input, which ``SimpleImputer`` handles fast, goes to it directly.
    ``copy`` is ``SimpleImputer``'s: False imputes in place a writeable float array or a
    new array of a DataFrame's values, never the memory of a DataFrame."""

    def __init__(self, copy: bool = True) -> None:
        self.copy = copy

    def fit(self, X, y=None) -> MedianImputer:
        """Learn the median of each column, missing values (NaN) left out."""
        X = validate_data(self, X, accept_sparse="csc", dtype=FLOAT_DTYPES,
                          ensure_all_finite="allow-nan")
        self.imputer_ = SimpleImputer(strategy="median", copy=self.copy)
        if sp.issparse(X):
            self.imputer_.fit(X)
            return self
        # a column without an observed value has median NaN; np.nanmedian would warn
        # about it, and silencing that (warnings.catch_warnings) is not thread-safe
        observed = ~np.isnan(X).all(axis=0)
        if observed.all():
            medians = np.nanmedian(X, axis=0, keepdims=True)
        else:
            medians = np.full((1, X.shape[1]), np.nan)
            medians[:, observed] = np.nanmedian(X[:, observed], axis=0)
        self.imputer_.fit(medians)  # (the names are this imputer's to check)
        return self

    def transform(self, X):
        """``X`` with its missing values as the medians seen at fit."""
        check_is_fitted(self)
        # an array here: given a DataFrame, SimpleImputer would make pandas' read-only
        # view of its memory writeable (force_writeable), which copy=False then imputes
        # in place, the caller's frame too (pandas shares memory, copy-on-write); a
        # read-only array it copies
        X = validate_data(self, X, reset=False, accept_sparse="csc", dtype=FLOAT_DTYPES,
                          ensure_all_finite="allow-nan")
        return self.imputer_.transform(X)

    def get_feature_names_out(self, input_features=None):
        check_is_fitted(self)
        return self.imputer_.get_feature_names_out(_check_feature_names_in(self, input_features))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = tags.input_tags.sparse = True
        return tags

    def __setstate__(self, state: dict) -> None:
        # pickled before copy (2026-12-05): its SimpleImputer copied, and was fitted on a
        # DataFrame's medians with their names, which transform's array would be warned of
        if "copy" not in state:
            state["copy"] = True
            if "imputer_" in state:
                vars(state["imputer_"]).pop("feature_names_in_", None)
        super().__setstate__(state)


def _names_as_strings(X):
    """``X`` as the column steps take it: a DataFrame whose names are not all strings
    (``[0, 1, "color"]``, which scikit-learn refuses, or ``[7, 3, 5]``) named as
    scikit-learn names columns it reads by position, ``x0, x1, ...``; ``X`` itself
    otherwise."""
    if isinstance(X, pd.DataFrame) and not all(isinstance(c, str) for c in X.columns):
        return X.set_axis([f"x{i}" for i in range(X.shape[1])], axis=1)
    return X


class ColumnTransformerByPosition(ColumnTransformer):
    """A ``ColumnTransformer`` that reads a DataFrame whose names are not all strings by
    position, at fit and later (:func:`_names_as_strings`), ``feature_names_in_`` being
    set only when they are, as scikit-learn sets it: scikit-learn refuses names mixing
    ints and strings, and its pandas output failed on int names."""

    def fit_transform(self, X, y=None, **params):
        named = _names_as_strings(X)
        Xt = super().fit_transform(named, y, **params)
        if named is not X:
            del self.feature_names_in_  # not the user's names
        return Xt

    def transform(self, X, **params):
        return super().transform(_names_as_strings(X), **params)

    def _hstack(self, Xs, *, n_samples):
        """One contiguous array as it is: ``np.hstack`` copied it (the same layout, 400 MB
        for 1,000,000 x 50), and the transformers of :func:`make_preprocessor` give arrays
        of their own, never the caller's."""
        if (len(Xs) == 1 and isinstance(Xs[0], np.ndarray)
                and (Xs[0].flags.c_contiguous or Xs[0].flags.f_contiguous)):
            return Xs[0]
        return super()._hstack(Xs, n_samples=n_samples)


def make_preprocessor(kind: str) -> ColumnTransformer:
    """Column-wise preprocessing for DataFrames from :func:`metaopt.data.validate`, arrays
    or sparse matrices (densified where the numeric step needs it: ``"scaled"``, ``"native"``).

    Categorical columns mixing strings with numbers are encoded as strings
    (:class:`MixedAsStrings`). A missing categorical value (NaN, None or ``pd.NA``) is a
    category of its own (the encoders handle NaN) rather than imputed: missingness is often informative, and
    ``SimpleImputer`` on integer-coded ``category`` columns with NaN silently yields
    garbage (NaN cast to the minimum int64) with pandas 3.

    Parameters
    ----------
    kind : {"scaled", "ordinal", "native"}
        - ``"scaled"`` (linear, svm, knn, mlp): numeric -> median imputation +
          standardisation; categorical -> one-hot (unknown categories ignored, at most
          ``MAX_ONEHOT_CATEGORIES`` columns each).
        - ``"ordinal"`` (random/extra trees): numeric -> median imputation;
          categorical -> ordinal codes (unknown -> -1, missing -> -2).
        - ``"native"`` (histogram gradient boosting): numeric passes through with its
          NaN; categorical -> ordinal codes (unknown and missing -> NaN) returned as
          ``category`` columns of a DataFrame, for ``categorical_features="from_dtype"``.

    Returns
    -------
    sklearn.compose.ColumnTransformer
        Unfitted.
    """
    if kind not in PREPROCESSING_KINDS:
        raise ValueError(f"kind must be one of {PREPROCESSING_KINDS}, got {kind!r}")
    # Imputing and standardising in place (copy=False) works on a copy of the selected
    # columns: numpy's fancy indexing (ColumnSelector gives a list) copies an array or a
    # sparse matrix, MedianImputer makes a DataFrame a new array or a read-only view that
    # SimpleImputer copies before writing (force_writeable). The caller's X is never
    # written, and one copy (400 MB for 1,000,000 x 50 floats) is the output; the
    # scaler's fit still takes a temporary of that size.
    if kind == "scaled":
        numeric = make_pipeline(_numbers(dense=True), MedianImputer(copy=False),
                                StandardScaler(copy=False))
        categorical = OneHotEncoder(
            handle_unknown="ignore", max_categories=MAX_ONEHOT_CATEGORIES, sparse_output=False
        )
    elif kind == "ordinal":
        numeric = make_pipeline(_numbers(dense=False), MedianImputer(copy=False))
        categorical = OrdinalEncoder(
            handle_unknown="use_encoded_value",
            unknown_value=-1,
            encoded_missing_value=-2,
            max_categories=MAX_ORDINAL_CATEGORIES,
        )
    else:
        numeric = _numbers(dense=True)
        categorical = make_pipeline(
            OrdinalEncoder(
                handle_unknown="use_encoded_value",
                unknown_value=np.nan,
                encoded_missing_value=np.nan,
                max_categories=MAX_ORDINAL_CATEGORIES,
            ),
            FunctionTransformer(_as_category, feature_names_out="one-to-one"),
        )
    transformer = ColumnTransformerByPosition(
        [
            ("num", numeric, ColumnSelector(categorical=False)),
            ("cat", make_pipeline(
                FunctionTransformer(_missing_as_nan, feature_names_out="one-to-one"),
                MixedAsStrings(), categorical), ColumnSelector(categorical=True)),
        ],
        verbose_feature_names_out=False,
    )
    return transformer.set_output(transform="pandas") if kind == "native" else transformer
