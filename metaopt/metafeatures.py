"""Meta-features: describe a dataset by a fixed-length vector of numbers, fast.

:func:`compute` returns a :class:`pandas.Series` indexed by :data:`FEATURE_NAMES` (always
the same names in the same order for a given :data:`METAFEATURES_VERSION`). Values are
interpretable (counts are counts, fractions are in ``[0, 1]``); :func:`to_vector` turns
them into the scaled vector a meta-model consumes (log counts, signed-log moments).

Four groups, defined one by one in ``docs/metafeatures.md``:

- *simple*: sizes, classes, missing values, categorical columns (computed on all the
  data; also obtainable from OpenML qualities, see :func:`from_openml_qualities`);
- *statistical*: skewness, kurtosis, correlations and PCA of the numeric columns;
- *information-theoretic*: class entropy, attribute entropy, mutual information;
- *landmarkers*: out-of-fold score of 1-NN, a decision stump, naive Bayes and a linear
  model.

Statistical, information-theoretic and landmarker features are computed on a subsample
of at most ``max_rows`` rows (stratified for classification) and ``max_columns`` columns
(chosen at random, deterministically from ``random_state``), so the cost is bounded
whatever the size of the data.

Class-based features (``n_classes``, ``majority_class_fraction``,
``minority_class_fraction``, ``class_imbalance``, ``class_entropy`` and
``landmark_naive_bayes``) are 0 for regression and ``target_skewness`` is 0 for
classification: a neutral finite value, read together with ``is_classification``.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping

import numpy as np
import pandas as pd
from scipy import sparse
from sklearn.dummy import DummyClassifier, DummyRegressor
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.metrics import accuracy_score, r2_score
from sklearn.model_selection import KFold, StratifiedKFold
from sklearn.naive_bayes import GaussianNB
from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

from metaopt._checks import check_int, check_seed
from metaopt._threads import thread_pools
from metaopt.data import TASK_TYPES, Dataset, validate
from metaopt.data._dataset import subsample_rows, validate_sparse
from metaopt.data._terms import terms

__all__ = [
    "FEATURE_NAMES",
    "METAFEATURES_VERSION",
    "SIMPLE_FEATURES",
    "compute",
    "compute_dataset",
    "from_openml_qualities",
    "to_vector",
]

METAFEATURES_VERSION = 1

SIMPLE_FEATURES: tuple[str, ...] = (
    "n_instances",
    "n_features",
    "dimensionality",
    "is_classification",
    "n_classes",
    "pct_missing_values",
    "pct_instances_with_missing",
    "pct_categorical_features",
    "max_categories",
    "majority_class_fraction",
    "minority_class_fraction",
    "class_imbalance",
)
_STATISTICAL_FEATURES: tuple[str, ...] = (
    "pct_constant_features",
    "skewness_mean",
    "skewness_std",
    "kurtosis_mean",
    "kurtosis_std",
    "correlation_abs_mean",
    "correlation_abs_max",
    "pca_fraction_95",
    "pca_first_component_variance",
    "target_skewness",
)
_INFO_FEATURES: tuple[str, ...] = (
    "class_entropy",
    "attribute_entropy_mean",
    "mutual_information_mean",
    "mutual_information_max",
)
_LANDMARK_FEATURES: tuple[str, ...] = (
    "landmark_1nn",
    "landmark_stump",
    "landmark_naive_bayes",
    "landmark_linear",
)
FEATURE_NAMES: tuple[str, ...] = (
    SIMPLE_FEATURES + _STATISTICAL_FEATURES + _INFO_FEATURES + _LANDMARK_FEATURES
)

# to_vector: counts -> log1p, ratio -> log, unbounded moments -> sign(x) * log1p(|x|)
_LOG1P_FEATURES = frozenset({"n_instances", "n_features", "n_classes", "max_categories"})
_LOG_FEATURES = frozenset({"dimensionality"})
_SIGNED_LOG_FEATURES = frozenset(
    {"skewness_mean", "skewness_std", "kurtosis_mean", "kurtosis_std", "target_skewness"}
)

_N_BINS = 10  # equal-frequency bins for the information-theoretic features
_N_FOLDS = 3  # cross-validation folds of the landmarkers
_MAX_LEVELS = 10  # one-hot columns per categorical feature for the landmarkers
_R2_CLIP = (-1.0, 1.0)


def compute(
    X,
    y,
    task: str | None = None,
    *,
    random_state: int | None = 0,
    max_rows: int = 2000,
    max_columns: int = 100,
) -> pd.Series:
    """Compute the meta-features of a supervised dataset.

    Parameters
    ----------
    X : array-like, DataFrame or sparse matrix of shape (n_samples, n_features)
        Features; strings/objects/bools are categorical, NaN marks a missing value.
    y : array-like of shape (n_samples,)
        Target: class labels or real values.
    task : {"classification", "regression"} or None
        Inferred from ``y`` when None (see :func:`metaopt.data.infer_task`).
    random_state : int or None
        Seed (in [0, 2**32 - 1]) of the row/column subsamples and the landmarker folds; the
        same seed on the same data gives the identical Series.
    max_rows : int
        Rows used for the statistical, information-theoretic and landmarker features.
    max_columns : int
        Columns used for the same groups.

    Returns
    -------
    pandas.Series
        Float values indexed by :data:`FEATURE_NAMES`, all finite.

    Raises
    ------
    ValueError
        For invalid data (see :func:`metaopt.data.validate`), fewer than 2 rows,
        ``max_rows < 2`` / ``max_columns < 1``, or a ``random_state`` that is no seed.
    """
    options = _checked_options(random_state, max_rows, max_columns)
    # only a sparse X's subsample is made dense: a TF-IDF matrix's dense table can take
    # many GB
    data, target, task = (validate_sparse if sparse.issparse(X) else validate)(X, y, task)
    return _compute_validated(data, target, task, **options)


def _checked_options(random_state: int | None = 0, max_rows: int = 2000,
                     max_columns: int = 100) -> dict:
    """The options of :func:`compute`, checked."""
    # (numpy's and scikit-learn's words before: "expected non-negative integer", "Seed must
    # be between 0 and 2**32 - 1", "Generator(PCG64) ... cannot be used to seed")
    return {"max_rows": check_int(max_rows, "max_rows", minimum=2),
            "max_columns": check_int(max_columns, "max_columns"),
            "random_state": check_seed(
                random_state, "random_state",
                "the seed of the meta-features' subsamples and landmarker folds")}


def _compute_validated(
    data: pd.DataFrame | sparse.csr_matrix,
    target: pd.Series,
    task: str,
    *,
    random_state: int | None = 0,
    max_rows: int = 2000,
    max_columns: int = 100,
) -> pd.Series:
    """:func:`compute` of what :func:`~metaopt.data.validate` (a DataFrame) or
    ``validate_sparse`` (a CSR matrix) returned, without validating it again (for a
    caller that has validated the data already, such as ``MetaOptClassifier.fit``)."""
    if sparse.issparse(data):
        matrix = data
        is_cat_all = np.zeros(matrix.shape[1], dtype=bool)
        values = _sparse_table_features(matrix)
    else:
        frame = data
        is_cat_all = np.array([isinstance(dtype, pd.CategoricalDtype)
                               for dtype in frame.dtypes])
        values = _table_features(frame, is_cat_all)
    n, p = len(target), len(is_cat_all)
    if n < 2:
        raise ValueError(f"meta-features need at least 2 rows, {terms().features} has {n}")
    values.update(_whole_data(n, p, is_cat_all, target, task))
    rows = subsample_rows(target, task, max_rows, random_state)  # None: all of them
    cols = None
    if p > max_columns:
        rng = np.random.default_rng(random_state)
        cols = np.sort(rng.choice(p, size=max_columns, replace=False))
    if sparse.issparse(data):
        part = matrix if rows is None else matrix[rows]
        part = part if cols is None else part[:, cols]
        Xs = pd.DataFrame(part.toarray(), columns=[f"x{c}" for c in (
            range(p) if cols is None else cols)])
    else:
        Xs = frame if rows is None else frame.iloc[rows].reset_index(drop=True)
        Xs = Xs if cols is None else Xs.iloc[:, cols]
    is_cat = is_cat_all if cols is None else is_cat_all[cols]
    sub_y = target if rows is None else target.iloc[rows].reset_index(drop=True)
    numeric = Xs.loc[:, ~is_cat].to_numpy(dtype=float)
    y_codes = (
        np.unique(sub_y.to_numpy(), return_inverse=True)[1].ravel()
        if task == "classification"
        else None
    )
    values.update(_statistical(target, task, numeric))
    values.update(_information(Xs, is_cat, numeric, sub_y, y_codes))
    values.update(_landmarkers(Xs, is_cat, numeric, sub_y, y_codes, task, random_state))
    return pd.Series([float(values[k]) for k in FEATURE_NAMES], index=list(FEATURE_NAMES))


def compute_dataset(dataset: Dataset, *, random_state: int | None = 0, max_rows: int = 2000,
                    max_columns: int = 100) -> pd.Series:
    """Compute the meta-features of a :class:`~metaopt.data.Dataset` (of its own task).

    Parameters
    ----------
    dataset : Dataset
        The dataset: its ``X``, ``y`` and ``task``.
    random_state : int or None, default=0
        As in :func:`compute`.
    max_rows : int, default=2000
        As in :func:`compute`.
    max_columns : int, default=100
        As in :func:`compute`.

    Returns
    -------
    pandas.Series
        Named after the dataset.
    """
    if not isinstance(dataset, Dataset):
        raise TypeError(f"dataset must be a metaopt.data.Dataset, got {type(dataset).__name__}")
    # checked when it was built: not again (its warnings twice)
    return _compute_validated(dataset.X, dataset.y, dataset.task,
                              **_checked_options(random_state, max_rows, max_columns)
                              ).rename(dataset.name)


def from_openml_qualities(qualities: Mapping[str, float], task: str) -> pd.Series:
    """Fill the simple meta-features from OpenML dataset qualities.

    OpenML counts the target among the features: ``NumberOfFeatures`` and, for
    classification, ``NumberOfSymbolicFeatures`` include it, so one is subtracted.
    ``MaxNominalAttDistinctValues`` may also include the (nominal) target, so
    ``max_categories`` is an upper bound for classification (exact when no feature
    is nominal: it is then 0). Features the qualities cannot give, and simple features
    whose qualities are missing, are NaN.

    Parameters
    ----------
    qualities : mapping
        OpenML quality name -> value, e.g. ``openml.datasets.get_dataset(i).qualities``.
    task : {"classification", "regression"}

    Returns
    -------
    pandas.Series
        Indexed by :data:`FEATURE_NAMES`; NaN outside :data:`SIMPLE_FEATURES`.
    """
    if task not in TASK_TYPES:
        raise ValueError(f"task must be one of {TASK_TYPES}, got {task!r}")
    if not isinstance(qualities, Mapping):
        raise TypeError(f"qualities must be a mapping, got {type(qualities).__name__}")

    def q(name: str) -> float:
        value = qualities.get(name)
        return np.nan if value is None else float(value)

    is_clf = task == "classification"
    n = q("NumberOfInstances")
    p = q("NumberOfFeatures") - 1.0
    n_symbolic = q("NumberOfSymbolicFeatures") - (1.0 if is_clf else 0.0)
    majority, minority = q("MajorityClassSize"), q("MinorityClassSize")
    out = dict.fromkeys(FEATURE_NAMES, np.nan)
    out.update(
        n_instances=n,
        n_features=p,
        dimensionality=p / n,
        is_classification=float(is_clf),
        n_classes=q("NumberOfClasses") if is_clf else 0.0,
        pct_missing_values=q("NumberOfMissingValues") / (n * p),
        pct_instances_with_missing=q("NumberOfInstancesWithMissingValues") / n,
        pct_categorical_features=n_symbolic / p,
        # no nominal feature: 0; an unknown count (NaN) is no reason to claim none
        max_categories=0.0 if n_symbolic <= 0 else q("MaxNominalAttDistinctValues"),
        majority_class_fraction=majority / n if is_clf else 0.0,
        minority_class_fraction=minority / n if is_clf else 0.0,
        class_imbalance=1.0 - minority / majority if is_clf else 0.0,
    )
    return pd.Series([float(out[k]) for k in FEATURE_NAMES], index=list(FEATURE_NAMES))


#: the prefix of the meta-feature columns of a knowledge base's ``to_frame()``
MF_PREFIX = "mf_"


def by_bare_names(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with its ``mf_<name>`` columns (:meth:`metaopt.kb.KnowledgeBase.to_frame`,
    a ``PerformanceMatrix``'s tasks) named ``<name>``, as in :data:`FEATURE_NAMES`. Such a
    frame also holds the dataset's fields ``n_features`` and ``n_classes`` under the bare
    names: the meta-features take their place (renamed beside them, each was a column
    twice, and 32 features were read where there are 30)."""
    renamed = {c: str(c)[len(MF_PREFIX):] for c in frame.columns
               if str(c).startswith(MF_PREFIX)}
    if not renamed:
        return frame
    shadowed = [name for name in renamed.values() if name in frame.columns]
    return frame.drop(columns=shadowed).rename(columns=renamed)


def to_vector(features: pd.Series | pd.DataFrame | Mapping[str, float], *,
              nan_value: float = 0.0) -> np.ndarray:
    """Scale meta-features for a model: the array a meta-learner consumes.

    Counts (``n_instances``, ``n_features``, ``n_classes``, ``max_categories``) become
    ``log1p``, ``dimensionality`` becomes ``log``, skewness/kurtosis summaries become
    ``sign(x) * log1p(|x|)``; the rest (fractions, entropies, scores) are unchanged.
    NaN (e.g. from :func:`from_openml_qualities`) is replaced by ``nan_value``.

    Parameters
    ----------
    features : Series, dict or DataFrame
        A Series (or dict) indexed by feature name, or a DataFrame with one row per dataset
        (columns named as in :data:`FEATURE_NAMES`, or ``mf_<name>`` as in
        :meth:`metaopt.kb.KnowledgeBase.to_frame`, whose are then the ones read).
    nan_value : float
        Value that replaces NaN.

    Returns
    -------
    numpy.ndarray
        Shape ``(len(FEATURE_NAMES),)`` for a Series or dict, ``(n_rows, len(FEATURE_NAMES))``
        for a DataFrame, columns in :data:`FEATURE_NAMES` order.
    """
    if isinstance(features, Mapping):  # {name: value}, read as the Series
        features = pd.Series(features, dtype=float)
    frame = features.to_frame().T if isinstance(features, pd.Series) else features
    if not isinstance(frame, pd.DataFrame):
        raise TypeError("features must be a Series, a dict or a DataFrame of named "
                        f"meta-features, got {type(features).__name__}")
    # a knowledge base's to_frame() names them mf_<name> (that frame was refused: "features
    # lack 28 meta-feature(s)")
    frame = by_bare_names(frame)
    missing = [name for name in FEATURE_NAMES if name not in frame.columns]
    if missing:
        raise ValueError(
            f"features lack {len(missing)} meta-feature(s), e.g. {missing[:5]}; "
            "pass the output of metafeatures.compute"
        )
    out = frame.loc[:, list(FEATURE_NAMES)].to_numpy(dtype=float).copy()
    with np.errstate(divide="ignore", invalid="ignore"):
        for j, name in enumerate(FEATURE_NAMES):
            if name in _LOG1P_FEATURES:
                out[:, j] = np.log1p(out[:, j])
            elif name in _LOG_FEATURES:
                out[:, j] = np.log(out[:, j])
            elif name in _SIGNED_LOG_FEATURES:
                out[:, j] = np.sign(out[:, j]) * np.log1p(np.abs(out[:, j]))
    out[~np.isfinite(out)] = nan_value
    return out[0] if isinstance(features, pd.Series) else out


# --------------------------------------------------------------------------- groups


def _table_features(X: pd.DataFrame, is_cat: np.ndarray) -> dict[str, float]:
    """Missing values, categories and constant columns of all rows and columns."""
    missing = X.isna().to_numpy()
    n_distinct = X.loc[:, is_cat].nunique().to_numpy()
    numeric = X.loc[:, ~is_cat]
    # max/min skip NaN; an all-NaN column gives NaN and counts as constant. (In each
    # column's dtype: not a float64 copy of all the data, twice its size for float32.)
    spread = (numeric.max() > numeric.min()).to_numpy()
    return {
        "pct_missing_values": missing.mean(),
        "pct_instances_with_missing": missing.any(axis=1).mean(),
        "max_categories": n_distinct.max(initial=0),
        "pct_constant_features": ((n_distinct <= 1).sum() + (~spread).sum()) / X.shape[1],
    }


def _sparse_table_features(X: sparse.csr_matrix) -> dict[str, float]:
    """:func:`_table_features` of a sparse matrix's dense table (all columns numeric, a
    missing value a stored NaN), without making it."""
    n, p = X.shape
    stored_nan = np.isnan(X.data) if X.dtype.kind == "f" else np.zeros(X.nnz, dtype=bool)
    rows_with_nan = np.searchsorted(X.indptr, np.flatnonzero(stored_nan), side="right") - 1
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # an all-NaN column's max is NaN
        spread = (X.nanmax(axis=0).toarray() > X.nanmin(axis=0).toarray()).ravel()
    return {
        "pct_missing_values": stored_nan.sum() / (n * p),
        "pct_instances_with_missing": len(np.unique(rows_with_nan)) / n,
        "max_categories": 0,
        "pct_constant_features": (~spread).sum() / p,
    }


def _whole_data(n: int, p: int, is_cat: np.ndarray, y: pd.Series,
                task: str) -> dict[str, float]:
    """Simple features and ``class_entropy`` of all ``n`` rows and ``p`` columns (their
    missing values, categories and constant columns: :func:`_table_features`)."""
    out = {
        "n_instances": n,
        "n_features": p,
        "dimensionality": p / n,
        "is_classification": float(task == "classification"),
        "pct_categorical_features": is_cat.sum() / p,
        "n_classes": 0.0,
        "majority_class_fraction": 0.0,
        "minority_class_fraction": 0.0,
        "class_imbalance": 0.0,
        "class_entropy": 0.0,
    }
    if task == "classification":
        counts = y.value_counts().to_numpy()
        prob = counts / n
        out.update(
            n_classes=len(counts),
            majority_class_fraction=counts.max() / n,
            minority_class_fraction=counts.min() / n,
            class_imbalance=1.0 - counts.min() / counts.max(),
            class_entropy=-(prob * np.log2(prob)).sum(),
        )
    return out


def _unit_scaled(a: np.ndarray) -> np.ndarray:
    """Each column divided by its largest absolute value (NaN kept): moments then do not
    depend on the unit, and no power of a large value overflows."""
    peak = np.fmax.reduce(np.abs(a), axis=0)  # all-NaN columns give NaN
    return a / np.where(peak > 0, peak, 1.0)


def _moments(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Skewness and excess kurtosis (biased, as ``scipy.stats``) of non-constant columns."""
    a = _unit_scaled(a)
    present = ~np.isnan(a)
    count = present.sum(axis=0)
    usable = count >= 2
    a, present, count = a[:, usable], present[:, usable], count[usable]
    mean = np.where(present, a, 0.0).sum(axis=0) / count
    dev = np.where(present, a - mean, 0.0)
    m2 = (dev**2).sum(axis=0) / count
    # constant columns have no shape; a spread of 1e-12 of the mean and above is no
    # rounding noise (a target in 1e9 + [0, 50], 1e-8 of its mean, read constant at 1e-6)
    keep = m2 > 1e-24 * np.maximum(1.0, mean**2)
    dev, m2, count = dev[:, keep], m2[keep], count[keep]
    skew = (dev**3).sum(axis=0) / count / m2**1.5
    kurt = (dev**4).sum(axis=0) / count / m2**2 - 3.0
    return skew, kurt


def _standardized(numeric: np.ndarray) -> np.ndarray:
    """Mean-impute, drop constant columns, scale to unit variance. Columns with values
    above 1e150 are unit-scaled first (their squares would overflow); the others are left
    as they are, so their results do not move by a rounding."""
    huge = np.fmax.reduce(np.abs(numeric), axis=0) > 1e150
    if huge.any():
        numeric = numeric.copy()
        numeric[:, huge] = _unit_scaled(numeric[:, huge])
    present = ~np.isnan(numeric)
    count = present.sum(axis=0)
    mean = np.where(present, numeric, 0.0).sum(axis=0) / np.maximum(count, 1)
    filled = np.where(np.isnan(numeric), mean, numeric)
    std = filled.std(axis=0)
    keep = std > 1e-12 * np.maximum(1.0, np.abs(mean))
    return (filled[:, keep] - mean[keep]) / std[keep]


def _statistical(y: pd.Series, task: str, numeric: np.ndarray) -> dict[str, float]:
    skew, kurt = _moments(numeric)
    z = _standardized(numeric)
    d = z.shape[1]
    if d >= 2:
        corr = (z.T @ z) / z.shape[0]
        upper = np.abs(corr[np.triu_indices(d, k=1)])
        eig = np.clip(np.linalg.eigvalsh(corr)[::-1], 0.0, None)
        explained = np.cumsum(eig) / eig.sum()
        n_95 = int(np.searchsorted(explained, 0.95 - 1e-12)) + 1
        pca_fraction, first = n_95 / d, eig[0] / eig.sum()
    else:
        upper, pca_fraction, first = np.zeros(1), 1.0, 1.0
    target_skew = 0.0
    if task == "regression":
        target_skew_arr = _moments(y.to_numpy(dtype=float)[:, None])[0]
        target_skew = float(target_skew_arr[0]) if target_skew_arr.size else 0.0
    return {
        "skewness_mean": skew.mean() if skew.size else 0.0,
        "skewness_std": skew.std() if skew.size else 0.0,
        "kurtosis_mean": kurt.mean() if kurt.size else 0.0,
        "kurtosis_std": kurt.std() if kurt.size else 0.0,
        "correlation_abs_mean": upper.mean(),
        "correlation_abs_max": upper.max(),
        "pca_fraction_95": pca_fraction,
        "pca_first_component_variance": first,
        "target_skewness": target_skew,
    }


def _bin_codes(a: np.ndarray) -> np.ndarray:
    """Equal-frequency bins (``_N_BINS``) per column; NaN gets a bin of its own."""
    codes = np.empty(a.shape, dtype=np.int64)
    for j in range(a.shape[1]):
        col = a[:, j]
        nan = np.isnan(col)
        edges = (
            np.unique(np.nanquantile(col, np.linspace(0, 1, _N_BINS + 1)[1:-1]))
            if not nan.all()
            else np.empty(0)
        )
        codes[:, j] = np.where(nan, _N_BINS, np.searchsorted(edges, col, side="right"))
    return codes


def _entropy(codes: np.ndarray) -> float:
    """Shannon entropy in bits of the empirical distribution of integer codes. Counted
    by value, not with ``np.bincount``: the codes of a column with many categories
    times the number of classes reach billions, counters for each of them."""
    prob = np.unique(codes, return_counts=True)[1] / codes.size
    return float(-(prob * np.log2(prob)).sum())


def _information(
    Xs: pd.DataFrame,
    is_cat: np.ndarray,
    numeric: np.ndarray,
    y: pd.Series,
    y_codes: np.ndarray | None,
) -> dict[str, float]:
    columns = [_bin_codes(numeric)] if numeric.shape[1] else []
    for c in Xs.columns[is_cat]:
        columns.append((Xs[c].cat.codes.to_numpy(dtype=np.int64) + 1)[:, None])
    codes = np.hstack(columns)
    target = y_codes if y_codes is not None else _bin_codes(y.to_numpy(dtype=float)[:, None])[:, 0]
    h_y = _entropy(target)
    n_target = int(target.max()) + 1
    h_x = np.array([_entropy(codes[:, j]) for j in range(codes.shape[1])])
    h_xy = np.array([_entropy(codes[:, j] * n_target + target) for j in range(codes.shape[1])])
    mi = np.clip(h_x + h_y - h_xy, 0.0, None)
    return {
        "attribute_entropy_mean": h_x.mean(),
        "mutual_information_mean": mi.mean(),
        "mutual_information_max": mi.max(),
    }


def _landmark_matrix(Xs: pd.DataFrame, is_cat: np.ndarray, numeric: np.ndarray) -> np.ndarray:
    """Standardized numeric columns (mean-imputed) and one-hot frequent categories."""
    blocks = [_standardized(numeric)]
    for c in Xs.columns[is_cat]:
        codes = Xs[c].cat.codes.to_numpy()
        levels = pd.Series(codes[codes >= 0]).value_counts().index[:_MAX_LEVELS].to_numpy()
        blocks.append((codes[:, None] == levels[None, :]).astype(float))
    return np.hstack(blocks)


def _landmarkers(
    Xs: pd.DataFrame,
    is_cat: np.ndarray,
    numeric: np.ndarray,
    y: pd.Series,
    y_codes: np.ndarray | None,
    task: str,
    random_state: int | None,
) -> dict[str, float]:
    Z = _landmark_matrix(Xs, is_cat, numeric)
    n_splits = min(_N_FOLDS, len(Z))
    if y_codes is not None:
        target = y_codes
        models = {
            "landmark_1nn": KNeighborsClassifier(n_neighbors=1),
            "landmark_stump": DecisionTreeClassifier(max_depth=1, random_state=random_state),
            "landmark_naive_bayes": GaussianNB(),
            "landmark_linear": LogisticRegression(tol=1e-3),
        }
        stratify = np.bincount(y_codes).max() >= n_splits
    else:
        target = _centred_unit_target(y.to_numpy(dtype=float))
        models = {
            "landmark_1nn": KNeighborsRegressor(n_neighbors=1),
            "landmark_stump": DecisionTreeRegressor(max_depth=1, random_state=random_state),
            "landmark_linear": Ridge(alpha=1.0),
        }
        stratify = False
    splitter = (
        StratifiedKFold(n_splits, shuffle=True, random_state=random_state)
        if stratify
        else KFold(n_splits, shuffle=True, random_state=random_state)
    )
    with warnings.catch_warnings():
        # a class smaller than the number of folds is fine: its rows land in some folds
        warnings.filterwarnings("ignore", message="The least populated class", category=UserWarning)
        folds = list(splitter.split(Z, target))
    if Z.shape[1] == 0:
        # every column is constant or missing: each model can only predict the prior
        Z = np.zeros((len(Z), 1))
        prior = DummyClassifier() if y_codes is not None else DummyRegressor()
        models = dict.fromkeys(models, prior)
    out = {"landmark_naive_bayes": 0.0}
    # one OpenMP/BLAS thread for these small fits (at most max_rows rows): with a core
    # busy elsewhere, the 1-NN's threads waited on each other (4x slower on satimage)
    with thread_pools().limit(limits=1):
        for name, model in models.items():
            out[name] = _oof_score(model, Z, target, folds, task)
    return out


def _centred_unit_target(y: np.ndarray) -> np.ndarray:
    """``y`` centred and scaled to unit variance (a constant one centred): R² does not
    change, and the stump splits it in any unit (scikit-learn's trees do not split a
    node whose variance is below 2.2e-16: a target in 1e-9 units, or shifted by 1e9)."""
    centred = y - y.mean()
    std = centred.std()
    return centred / std if std > 0 else centred


def _oof_score(model, Z: np.ndarray, y: np.ndarray, folds: list, task: str) -> float:
    """Score of the pooled out-of-fold predictions (accuracy, or R^2 clipped to [-1, 1];
    0, as for predicting the mean, for a constant target: r2_score calls its fit perfect)."""
    if task == "regression" and not np.ptp(y):
        return 0.0
    pred = np.empty_like(y)
    for train, test in folds:
        if task == "classification" and np.unique(y[train]).size == 1:
            pred[test] = y[train][0]  # one class seen: every model predicts it
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            # many classes in few rows: y was validated as classes, not a regression target
            warnings.filterwarnings("ignore", message="The number of unique classes is greater",
                                    category=UserWarning)
            pred[test] = model.fit(Z[train], y[train]).predict(Z[test])
    if task == "classification":
        return accuracy_score(y, pred)
    return float(np.clip(r2_score(y, pred), *_R2_CLIP))
