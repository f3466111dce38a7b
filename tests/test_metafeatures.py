"""Tests of metaopt.metafeatures: values against hand computations, edge cases, errors."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import sparse, stats
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import mutual_info_score
from sklearn.model_selection import StratifiedKFold, cross_val_score
from sklearn.naive_bayes import GaussianNB
from sklearn.neighbors import KNeighborsClassifier
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeClassifier

from metaopt import metafeatures as mf
from metaopt.data import LocalSource, from_arrays

pytestmark = pytest.mark.timeout(120)  # nothing hangs

OPENML_IRIS_QUALITIES = {
    "NumberOfInstances": 150.0,
    "NumberOfFeatures": 5.0,
    "NumberOfClasses": 3.0,
    "NumberOfMissingValues": 0.0,
    "NumberOfNumericFeatures": 4.0,
    "NumberOfSymbolicFeatures": 1.0,
    "MajorityClassSize": 50.0,
    "MinorityClassSize": 50.0,
    "NumberOfInstancesWithMissingValues": 0.0,
    "MaxNominalAttDistinctValues": 3.0,
}


@pytest.fixture(scope="module")
def iris() -> tuple[np.ndarray, np.ndarray]:
    return load_iris(return_X_y=True)


@pytest.fixture(scope="module")
def iris_features(iris) -> pd.Series:
    X, y = iris
    return mf.compute(X, y, "classification", random_state=0)


def _read_pmlb(root, name: str) -> pd.DataFrame:
    return pd.read_csv(root / name / f"{name}.tsv.gz", sep="\t")


def _check_well_formed(values: pd.Series) -> None:
    assert tuple(values.index) == mf.FEATURE_NAMES
    assert values.dtype == np.float64
    bad = values[~np.isfinite(values.to_numpy())]
    assert bad.empty, f"non-finite meta-features: {bad.to_dict()}"
    for name in mf.FEATURE_NAMES:
        if name.startswith(("pct_", "correlation_", "pca_", "landmark_")) or "fraction" in name:
            lo = -1.0 if name.startswith("landmark_") else 0.0
            assert lo <= values[name] <= 1.0, (name, values[name])


def test_fixed_feature_set(iris_features):
    assert mf.METAFEATURES_VERSION == 1
    assert 25 <= len(mf.FEATURE_NAMES) <= 40
    assert len(set(mf.FEATURE_NAMES)) == len(mf.FEATURE_NAMES)
    assert mf.FEATURE_NAMES[: len(mf.SIMPLE_FEATURES)] == mf.SIMPLE_FEATURES
    _check_well_formed(iris_features)


def test_iris_matches_hand_computed_values(iris, iris_features):
    X, y = iris
    v = iris_features
    n, p = X.shape
    assert v["n_instances"] == n and v["n_features"] == p
    assert v["dimensionality"] == pytest.approx(p / n)
    assert v["is_classification"] == 1.0 and v["n_classes"] == 3
    assert v["majority_class_fraction"] == pytest.approx(1 / 3)
    assert v["class_imbalance"] == 0.0
    assert v["pct_missing_values"] == 0.0 and v["pct_categorical_features"] == 0.0

    assert v["class_entropy"] == pytest.approx(stats.entropy(np.bincount(y), base=2))
    skew = stats.skew(X, axis=0)
    kurt = stats.kurtosis(X, axis=0)
    assert v["skewness_mean"] == pytest.approx(skew.mean())
    assert v["skewness_std"] == pytest.approx(skew.std())
    assert v["kurtosis_mean"] == pytest.approx(kurt.mean())
    assert v["kurtosis_std"] == pytest.approx(kurt.std())
    corr = np.abs(np.corrcoef(X, rowvar=False)[np.triu_indices(p, k=1)])
    assert v["correlation_abs_mean"] == pytest.approx(corr.mean())
    assert v["correlation_abs_max"] == pytest.approx(corr.max())
    eig = np.sort(np.linalg.eigvalsh(np.corrcoef(X, rowvar=False)))[::-1]
    assert v["pca_first_component_variance"] == pytest.approx(eig[0] / eig.sum())
    n_95 = np.argmax(np.cumsum(eig) / eig.sum() >= 0.95) + 1
    assert v["pca_fraction_95"] == pytest.approx(n_95 / p)

    # equal-frequency deciles, values on an edge go to the upper bin
    binned = [
        np.digitize(col, np.unique(np.quantile(col, np.linspace(0.1, 0.9, 9)))) for col in X.T
    ]
    mi = np.array([mutual_info_score(b, y) for b in binned]) / np.log(2)
    h = np.array([stats.entropy(np.bincount(b), base=2) for b in binned])
    assert v["mutual_information_mean"] == pytest.approx(mi.mean())
    assert v["mutual_information_max"] == pytest.approx(mi.max())
    assert v["attribute_entropy_mean"] == pytest.approx(h.mean())

    # landmarkers: standardized features, 3 stratified shuffled folds seeded like compute
    Xs = StandardScaler().fit_transform(X)
    cv = StratifiedKFold(3, shuffle=True, random_state=0)
    expected = {
        "landmark_1nn": KNeighborsClassifier(n_neighbors=1),
        "landmark_stump": DecisionTreeClassifier(max_depth=1, random_state=0),
        "landmark_naive_bayes": GaussianNB(),
        "landmark_linear": LogisticRegression(tol=1e-3),
    }
    for name, model in expected.items():
        assert v[name] == pytest.approx(cross_val_score(model, Xs, y, cv=cv).mean()), name


def test_deterministic_with_subsampling():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(3000, 150))
    y = (X[:, 0] + rng.normal(size=3000) > 0).astype(int)
    first = mf.compute(X, y, random_state=7, max_rows=500, max_columns=40)
    second = mf.compute(X, y, random_state=7, max_rows=500, max_columns=40)
    pd.testing.assert_series_equal(first, second)
    _check_well_formed(first)
    assert first["n_instances"] == 3000 and first["n_features"] == 150


@pytest.mark.parametrize(("name", "task"), [("hepatitis", "classification"),
                                          ("560_bodyfat", "regression")])
def test_row_order_moves_only_the_landmarkers_under_max_rows(pmlb_root, name, task):
    """docs/metafeatures.md: on a table of at most max_rows rows, only the landmarkers
    (their seeded folds) depend on the order of the rows; statistical sums may move by
    a rounding."""
    frame = _read_pmlb(pmlb_root, name)
    shuffled = frame.sample(frac=1.0, random_state=3).reset_index(drop=True)
    base, moved = (mf.compute(f.drop(columns="target"), f["target"], task)
                   for f in (frame, shuffled))
    exact = list(mf.SIMPLE_FEATURES + mf._INFO_FEATURES)
    pd.testing.assert_series_equal(moved[exact], base[exact], rtol=0, atol=0)
    statistical = list(mf._STATISTICAL_FEATURES)
    pd.testing.assert_series_equal(moved[statistical], base[statistical], rtol=1e-12)


def test_regression_pmlb(pmlb_root):
    frame = _read_pmlb(pmlb_root, "227_cpu_small")
    X, y = frame.drop(columns="target"), frame["target"]
    v = mf.compute(X, y, "regression")
    _check_well_formed(v)
    assert v["is_classification"] == 0.0
    for name in ("n_classes", "majority_class_fraction", "class_entropy", "landmark_naive_bayes"):
        assert v[name] == 0.0
    assert v["target_skewness"] == pytest.approx(stats.skew(y))
    assert v["n_instances"] == len(frame) and v["n_features"] == X.shape[1]
    assert v["landmark_linear"] > 0.3  # cpu_small is well explained by a linear model


@pytest.mark.parametrize("scale", [1e-7, 1e80])
def test_moments_do_not_depend_on_the_unit(pmlb_root, scale):
    """Columns with a variance under 1e-12 were taken for constant (the skewness and
    kurtosis of 227_cpu_small in units 1e-7 smaller were those of fewer columns), and
    fourth powers of values around 1e80 overflowed into NaN kurtoses."""
    frame = _read_pmlb(pmlb_root, "227_cpu_small")
    X, y = frame.drop(columns="target"), frame["target"]
    base = mf.compute(X, y, "regression")
    scaled = mf.compute(X * scale, y * scale, "regression")
    _check_well_formed(scaled)
    moments = ["skewness_mean", "skewness_std", "kurtosis_mean", "kurtosis_std",
               "target_skewness"]
    pd.testing.assert_series_equal(scaled[moments], base[moments], rtol=1e-9)


def test_moments_do_not_depend_on_an_offset(pmlb_root):
    """A target shifted by 1e9 (its spread 1e-8 of its mean) was taken for constant: its
    skewness read 0."""
    frame = _read_pmlb(pmlb_root, "560_bodyfat")
    X, y = frame.drop(columns="target"), frame["target"]
    base = mf.compute(X, y, "regression")
    moved = mf.compute(X + 1e9, y + 1e9, "regression")
    moments = ["skewness_mean", "skewness_std", "kurtosis_mean", "kurtosis_std",
               "target_skewness"]
    assert abs(base["target_skewness"]) > 0.1
    pd.testing.assert_series_equal(moved[moments], base[moments], rtol=1e-4)


@pytest.mark.parametrize(("scale", "offset"), [(1e-9, 0.0), (1.0, 1e9)])
def test_landmarkers_do_not_depend_on_the_target_unit_or_offset(pmlb_root, scale, offset):
    """scikit-learn's trees do not split a target whose variance is under 2.2e-16: the
    stump of 560_bodyfat in 1e-9 units, or shifted by 1e9, scored R² 0 instead of 0.66."""
    frame = _read_pmlb(pmlb_root, "560_bodyfat")
    X, y = frame.drop(columns="target"), frame["target"]
    base = mf.compute(X, y, "regression")
    moved = mf.compute(X, y * scale + offset, "regression")
    landmarks = ["landmark_1nn", "landmark_stump", "landmark_linear"]
    assert base["landmark_stump"] > 0.5
    pd.testing.assert_series_equal(moved[landmarks], base[landmarks], rtol=1e-6)


@pytest.mark.parametrize("scale", [1e160, 1e300])
def test_correlations_and_landmarkers_survive_huge_values(pmlb_root, scale):
    """Squares of values above 1e154 overflowed in the standardisation: such a column
    became all zeros, and the correlations, PCA and landmarkers of 227_cpu_small moved
    (``correlation_abs_mean`` by 0.3 on iris)."""
    frame = _read_pmlb(pmlb_root, "227_cpu_small").iloc[:400]
    X, y = frame.drop(columns="target"), frame["target"]
    base = mf.compute(X, y, "regression")
    big = X.copy()
    big.iloc[:, :3] *= scale
    scaled = mf.compute(big, y, "regression")
    _check_well_formed(scaled)
    pd.testing.assert_series_equal(scaled, base, rtol=1e-6, atol=1e-9)


def test_classification_pmlb(pmlb_root):
    manifest = pd.read_csv(pmlb_root / "manifest.csv").set_index("name")
    for name in ("hepatitis", "splice"):
        frame = _read_pmlb(pmlb_root, name)
        v = mf.compute(frame.drop(columns="target"), frame["target"], "classification")
        _check_well_formed(v)
        assert v["n_instances"] == manifest.loc[name, "n_instances"]
        assert v["n_features"] == manifest.loc[name, "n_features"]
        assert v["n_classes"] == manifest.loc[name, "n_classes"]
        assert v["landmark_linear"] > v["majority_class_fraction"] - 0.05


def test_categorical_string_and_missing_columns():
    rng = np.random.default_rng(0)
    n = 200
    num = rng.normal(size=n)
    num[:20] = np.nan
    X = pd.DataFrame(
        {
            "num": num,
            "color": rng.choice(["red", "green", "blue"], size=n).astype(object),
            "flag": rng.choice([True, False], size=n),
            "all_missing": np.full(n, np.nan),
        }
    )
    X.loc[5:9, "color"] = None
    y = np.where(num > 0, "yes", "no")
    v = mf.compute(X, y)
    _check_well_formed(v)
    assert v["pct_missing_values"] == pytest.approx((20 + 5 + n) / (4 * n))
    assert v["pct_instances_with_missing"] == 1.0
    assert v["pct_categorical_features"] == 0.5
    assert v["max_categories"] == 3
    assert v["pct_constant_features"] == 0.25  # the all-missing column


def test_only_categorical_columns():
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"a": rng.choice(list("xyz"), 300), "b": rng.choice(list("uv"), 300)})
    y = (X["a"] == "x").astype(int)
    v = mf.compute(X, y, "classification")
    _check_well_formed(v)
    assert v["skewness_mean"] == 0.0 and v["correlation_abs_mean"] == 0.0
    assert v["landmark_stump"] == 1.0


def test_constant_columns():
    X = np.ones((60, 3))
    y = np.arange(60) % 2
    v = mf.compute(X, y, "classification")
    _check_well_formed(v)
    assert v["pct_constant_features"] == 1.0
    assert v["skewness_mean"] == 0.0 and v["correlation_abs_max"] == 0.0
    assert v["mutual_information_max"] == 0.0
    reg = mf.compute(X, np.full(60, 3.0), "regression")  # constant target too
    _check_well_formed(reg)


def test_landmarkers_of_a_constant_regression_target_are_0_not_perfect(pmlb_root):
    """Every model predicts a constant target exactly, which r2_score scores 1.0: the
    landmarkers said the data was perfectly predictable. They are 0 (the R^2 of predicting
    the mean); another target keeps its scores."""
    df = pd.read_csv(pmlb_root / "228_elusage" / "228_elusage.tsv.gz", sep="\t")
    X = df.drop(columns="target")
    landmarkers = ["landmark_1nn", "landmark_stump", "landmark_naive_bayes", "landmark_linear"]
    for constant in (X, np.ones((len(X), 2))):  # informative columns, or none
        v = mf.compute(constant, np.full(len(X), 0.1), "regression")
        _check_well_formed(v)
        assert (v[landmarkers] == 0.0).all(), v[landmarkers].to_dict()
    assert mf.compute(X, df["target"], "regression")["landmark_linear"] > 0.5


def test_one_row_per_class():
    X = np.arange(8.0).reshape(4, 2)
    v = mf.compute(X, ["a", "b", "c", "d"], "classification")
    _check_well_formed(v)
    assert v["n_classes"] == 4 and v["minority_class_fraction"] == 0.25
    assert v["landmark_1nn"] == 0.0  # a test row's class is never in its training folds


def test_many_classes_warn_nothing():
    """With more classes than half a landmarker's training rows (1500 classes in the
    2000-row subsample), scikit-learn warned 9 times that y could be a regression
    target, though compute had validated it as classes."""
    import warnings

    rng = np.random.default_rng(0)
    X = rng.normal(size=(20_000, 3))
    y = np.array([f"person{k}" for k in rng.integers(0, 1500, 20_000)])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        v = mf.compute(X, y, "classification")
    assert v["n_classes"] == 1500


def test_two_rows():
    _check_well_formed(mf.compute([[0.0], [1.0]], [0, 1], "classification"))
    _check_well_formed(mf.compute([[0.0], [1.0]], [0.5, 1.5], "regression"))


def test_very_wide():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(10, 5000))
    v = mf.compute(X, np.arange(10) % 2, "classification")
    _check_well_formed(v)
    assert v["n_features"] == 5000 and v["dimensionality"] == 500


def test_large_dataset_runs():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(100_000, 100))
    y = (X[:, 0] > 0).astype(int)
    _check_well_formed(mf.compute(X, y, "classification"))


def _computed_with_peak_memory(X, y):
    """The meta-features of a classification dataset and the peak memory traced
    while computing them (bytes)."""
    import tracemalloc

    tracemalloc.start()
    try:
        return mf.compute(X, y, "classification"), tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_float32_data_is_not_copied_as_float64():
    """The infinity check of validate and the constant-column check took a float64 copy
    of all the numbers: compute peaked at 3.4 times the size of float32 data, now 2.6
    (the validated frame is a copy)."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(100_000, 50)).astype(np.float32)
    X[::97, 3] = np.nan
    y = (X[:, 0] > 0).astype(int)
    v, peak = _computed_with_peak_memory(X, y)
    assert peak < 3.0 * X.nbytes, f"peak {peak / X.nbytes:.1f} x the data"
    assert v["pct_constant_features"] == 0 and v["pct_missing_values"] == pytest.approx(
        np.isnan(X).mean())
    with pytest.raises(ValueError, match=r"infinite values in column\(s\) \['x7'\]"):
        mf.compute(np.where(np.arange(50) == 7, np.inf, X[:10]).astype(np.float32), y[:10])


def test_id_column_with_many_classes_stays_small():
    # an ID-like column (a category per row) times 400 classes: counting its joint codes
    # with np.bincount took 40,000 x 400 counters (128 MB) for a 2000-row subsample
    n = 40_000
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"id": [f"u{i}" for i in range(n)], "x": rng.normal(size=n)})
    y = np.array([f"c{k}" for k in rng.integers(0, 400, n)])
    v, peak = _computed_with_peak_memory(X, y)
    assert peak < 60e6, f"peak traced memory {peak / 1e6:.0f} MB"
    _check_well_formed(v)
    assert v["max_categories"] == n
    # an ID determines the class: I(id; y) = H(y) on the subsample, H(id) = log2(rows)
    sub = from_arrays(X, y, "classification").subsample(2000, random_state=0)
    h_y = stats.entropy(sub.y.value_counts(), base=2)
    assert v["mutual_information_max"] == pytest.approx(h_y)


@pytest.mark.parametrize(
    ("X", "y", "task", "match"),
    [
        (np.empty((0, 3)), [], None, "0 rows"),
        (np.ones((5, 2)), [0, 1, 0], None, "different lengths"),
        (np.ones((5, 2)), [1, 1, 1, 1, 1], "classification", "at least 2 classes"),
        (np.ones((3, 2)), [np.nan] * 3, None, "only missing"),
        ([[1.0, np.inf], [2.0, 3.0]], [0, 1], None, "infinite"),
        (np.ones((200, 2)), np.linspace(0, 1, 200) + 0.001, "classification", "regression"),
        (np.ones((1, 2)), [1.0], "regression", "at least 2 rows"),
        (np.ones((4, 2)), [0, 1, 0, 1], "ranking", "task must be"),
    ],
)
def test_bad_inputs_raise(X, y, task, match):
    with pytest.raises(ValueError, match=match):
        mf.compute(X, y, task)


@pytest.mark.parametrize("task", [None, "classification"])
@pytest.mark.parametrize("entry", ["compute", "suggest"])
def test_class_labels_mixing_strings_and_numbers_are_named(pmlb_root, entry, task):
    """Labels mixing strings and numbers (an object column) failed in the subsample's
    sort with numpy's "'<' not supported between instances of 'int' and 'str'"."""
    from metaopt import suggest
    from metaopt.data import LocalSource

    wine = LocalSource(pmlb_root).load("wine_recognition")
    y = wine.y.astype(object).where(wine.y != 1, "one")
    run = {"compute": lambda y: mf.compute(wine.X, y, task),
           "suggest": lambda y: suggest(wine.X, y, space="linear", n=1, task=task)}[entry]
    with pytest.raises(ValueError, match=r"Mix of label input types \(string and number\) in "
                                         r"y: 59 label\(s\) are strings \(e\.g\. 'one'\), "
                                         r"119 are int \(e\.g\. 2\).* y\.astype\(str\)"):
        run(y)
    assert len(run(y.astype(str))) > 0  # the fix the message gives works


@pytest.mark.parametrize("kwargs", [{"max_rows": 1}, {"max_columns": 0}, {"max_rows": 2.5}])
def test_bad_limits_raise(iris, kwargs):
    with pytest.raises(ValueError, match="max_"):
        mf.compute(*iris, **kwargs)


def test_numpy_integer_limits(iris):
    """max_rows=np.int64(60) (from a numpy array or a config) was refused as not an integer."""
    X, y = iris
    pd.testing.assert_series_equal(
        mf.compute(X, y, max_rows=np.int64(60), max_columns=np.int32(3)),
        mf.compute(X, y, max_rows=60, max_columns=3))
    ds = from_arrays(X, y)
    assert ds.subsample(np.int64(30)).n_samples == 30
    with pytest.raises(ValueError, match="max_rows must be an integer"):
        ds.subsample(2.5)


def test_compute_dataset(iris, iris_features):
    ds = from_arrays(*iris, task="classification", name="iris")
    values = mf.compute_dataset(ds)
    assert values.name == "iris"
    pd.testing.assert_series_equal(values, iris_features, check_names=False)
    with pytest.raises(TypeError, match="Dataset"):
        mf.compute_dataset(iris)
    # compute's task= named a private function: "_checked_options() got an unexpected
    # keyword argument 'task'"
    with pytest.raises(TypeError, match=r"compute_dataset\(\) got an unexpected keyword "
                                        "argument 'task'"):
        mf.compute_dataset(ds, task="regression")


def test_compute_dataset_does_not_check_the_dataset_again(pmlb_root):
    """A Dataset is checked when it is built: compute_dataset checked it again, giving
    each of its warnings (a copy of the target among the features) twice."""
    wine = LocalSource(pmlb_root).load("wine_recognition")
    X = wine.X.assign(copy=wine.y)
    with pytest.warns(UserWarning, match=r"column\(s\) \['copy'\] of X hold y itself"):
        ds = from_arrays(X, wine.y, name="wine")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        values = mf.compute_dataset(ds, random_state=1)
        with pytest.raises(ValueError, match="random_state must be None or an int"):
            mf.compute_dataset(ds, random_state=-1)
    assert values.name == "wine"
    pd.testing.assert_series_equal(values, mf._compute_validated(ds.X, ds.y, ds.task,
                                                                 random_state=1),
                                   check_names=False)


def test_from_openml_qualities_matches_compute(iris_features):
    v = mf.from_openml_qualities(OPENML_IRIS_QUALITIES, "classification")
    assert tuple(v.index) == mf.FEATURE_NAMES
    simple = list(mf.SIMPLE_FEATURES)
    pd.testing.assert_series_equal(v[simple], iris_features[simple])
    assert v.drop(simple).isna().all()


def test_from_openml_qualities_regression_and_missing_keys():
    qualities = {"NumberOfInstances": 100, "NumberOfFeatures": 11, "NumberOfSymbolicFeatures": 2}
    v = mf.from_openml_qualities(qualities, "regression")
    assert v["n_features"] == 10 and v["pct_categorical_features"] == 0.2
    assert v["n_classes"] == 0.0 and v["class_imbalance"] == 0.0
    assert np.isnan(v["pct_missing_values"]) and np.isnan(v["max_categories"])
    # without NumberOfSymbolicFeatures, max_categories used to be 0 ("no nominal
    # feature"), even when MaxNominalAttDistinctValues gave 10
    unknown = {"NumberOfInstances": 100, "NumberOfFeatures": 11}
    v = mf.from_openml_qualities({**unknown, "MaxNominalAttDistinctValues": 10}, "regression")
    assert v["max_categories"] == 10 and np.isnan(v["pct_categorical_features"])
    assert np.isnan(mf.from_openml_qualities(unknown, "classification")["max_categories"])
    with pytest.raises(ValueError, match="task"):
        mf.from_openml_qualities(qualities, "clustering")


def test_to_vector(iris_features):
    vec = mf.to_vector(iris_features)
    assert vec.shape == (len(mf.FEATURE_NAMES),) and np.isfinite(vec).all()
    index = {name: i for i, name in enumerate(mf.FEATURE_NAMES)}
    assert vec[index["n_instances"]] == pytest.approx(np.log1p(150))
    assert vec[index["dimensionality"]] == pytest.approx(np.log(4 / 150))
    k = iris_features["kurtosis_mean"]
    assert vec[index["kurtosis_mean"]] == pytest.approx(np.sign(k) * np.log1p(abs(k)))
    assert vec[index["landmark_1nn"]] == iris_features["landmark_1nn"]

    partial = mf.from_openml_qualities(OPENML_IRIS_QUALITIES, "classification")
    matrix = mf.to_vector(pd.DataFrame([iris_features, partial]), nan_value=-1.0)
    assert matrix.shape == (2, len(mf.FEATURE_NAMES))
    assert (matrix[1, len(mf.SIMPLE_FEATURES) :] == -1.0).all()
    with pytest.raises(ValueError, match="lack"):
        mf.to_vector(iris_features.drop("n_instances"))


def test_to_vector_reads_a_knowledge_base_frame(pmlb_root):
    """The mf_<name> columns of KnowledgeBase.to_frame() were refused: "features lack 28
    meta-feature(s)" (real data: a pmlb dataset's meta-features through a store); its
    n_features and n_classes columns are the dataset's fields, not the meta-features."""
    from metaopt.data import LocalSource
    from metaopt.kb import KnowledgeBase

    values = mf.compute_dataset(LocalSource(pmlb_root).load("analcatdata_aids"))
    kb = KnowledgeBase()
    kb.add_dataset({"dataset_key": "pmlb/analcatdata_aids", "status": "ok",
                    "metafeatures": values})
    kb.add_evaluation({"dataset_key": "pmlb/analcatdata_aids", "space": "s", "seed": 0,
                       "config_id": "c", "config": {}, "status": "ok", "origin": "metaopt"})
    frame = kb.to_frame()
    np.testing.assert_array_equal(mf.to_vector(frame), mf.to_vector(values)[None, :])
    assert mf.to_vector(frame.iloc[0]).shape == (len(mf.FEATURE_NAMES),)
    # the meta-models' scaling reads it alike: its mf_ columns renamed beside the dataset's
    # n_features and n_classes made each a column twice (32 features, a broadcast error)
    from metaopt.ranker import load_meta_model
    from metaopt.ranker._scaling import as_metafeature_frame

    assert not as_metafeature_frame(frame).columns.duplicated().any()
    scaler = load_meta_model("svm", "classification").portfolio.scaler_
    np.testing.assert_array_equal(scaler.transform(frame.iloc[0]), scaler.transform(values))


def _sparse_dna(pmlb_root, empty_columns: int = 0):
    """pmlb's ``dna`` (3,186 rows of 180 binary columns, a quarter of them 1) as a CSR
    matrix with a few missing values, a constant column and ``empty_columns`` columns
    of zeros after them (a bag of words' rare terms); and its classes."""
    frame = _read_pmlb(pmlb_root, "dna")
    X = frame.drop(columns="target").to_numpy(dtype=float)
    X[::7, 3] = np.nan
    X[:, 5] = 0.0
    return (sparse.hstack([sparse.csr_matrix(X), sparse.csr_matrix((len(X), empty_columns))],
                          format="csr"), frame["target"].to_numpy())


def test_sparse_input_gives_the_meta_features_of_its_dense_table(pmlb_root):
    X, y = _sparse_dna(pmlb_root)
    for task, target, limits in [("classification", y, {}),
                                 ("regression", y * 1.5, {"max_rows": 5000, "max_columns": 20})]:
        pd.testing.assert_series_equal(mf.compute(X, target, task, random_state=1, **limits),
                                       mf.compute(X.toarray(), target, task, random_state=1,
                                                  **limits))
    with pytest.raises(ValueError, match=r"infinite values in column\(s\) \['x4'\]"):
        mf.compute(sparse.csr_matrix(np.where(np.arange(180) == 4, np.inf, X[:10].toarray())),
                   y[:10])
    with pytest.raises(ValueError, match="different lengths"):
        mf.compute(X, y[:-1])


def test_sparse_input_is_made_dense_only_for_its_sample(pmlb_root):
    """A sparse X was made dense whole (and copied again as the validated frame): 50,000
    rows of kddcup one-hot encoded into 11,804 columns took 9.8 GB at the peak and 20 s,
    a 50,000 x 100,000 TF-IDF matrix was refused (37 GiB dense); only the sample of at
    most max_rows x max_columns is now dense (0.6 GB, 0.2 s)."""
    X, y = _sparse_dna(pmlb_root, empty_columns=3420)  # 3,186 x 3,600: 92 MB dense
    dense_bytes = X.shape[0] * X.shape[1] * 8
    v, peak = _computed_with_peak_memory(X, y)
    _check_well_formed(v)
    assert v["n_features"] == 3600 and v["pct_constant_features"] == 3421 / 3600
    assert v["pct_missing_values"] == pytest.approx(np.isnan(X.data).sum() / (dense_bytes / 8))
    assert peak < dense_bytes / 10, f"peak {peak / dense_bytes:.2f} x the dense table"


def test_of_validated_data_the_same_values_without_validating_again(pmlb_root, monkeypatch):
    """_compute_validated (MetaOptClassifier.fit's, of the frame it validated) gives
    compute's values, of a dense table with a categorical column and of a sparse one."""
    from metaopt.data import LocalSource, validate
    from metaopt.data._dataset import validate_sparse

    data = LocalSource(pmlb_root).load("breast")
    dense = validate(data.X, data.y, "classification")
    X, y = _sparse_dna(pmlb_root)
    matrix = validate_sparse(X, y, "classification")
    expected = [mf.compute(data.X, data.y, "classification"),
                mf.compute(X, y, "classification")]

    def refused(*args, **kwargs):
        raise AssertionError("validated again")

    monkeypatch.setattr(mf, "validate", refused)
    monkeypatch.setattr(mf, "validate_sparse", refused)
    for validated, values in zip([dense, matrix], expected, strict=True):
        pd.testing.assert_series_equal(mf._compute_validated(*validated), values,
                                       check_exact=True)


@pytest.mark.parametrize("seed", [-1, 2**32, 1.5, "0", True, np.random.default_rng(0),
                                  np.random.RandomState(0)])
def test_a_random_state_that_is_no_seed_is_named(pmlb_root, seed):
    """Refused in numpy's or scikit-learn's words: "expected non-negative integer", "Seed
    must be between 0 and 2**32 - 1", "Generator(PCG64) ... cannot be used to seed a
    numpy.random.RandomState instance" (dna: 180 columns, so the column subsample is drawn);
    True and a RandomState were taken, the Series then depending on the RandomState's
    state."""
    frame = _read_pmlb(pmlb_root, "dna").iloc[:300]
    X, y = frame.drop(columns="target"), frame["target"]
    with pytest.raises(ValueError, match=r"^random_state must be None or an int in \[0, "
                                         r"2\*\*32 - 1\] \(the seed of the meta-features'"):
        mf.compute(X, y, random_state=seed)
    assert mf.compute(X, y, random_state=np.int64(3)).equals(mf.compute(X, y, random_state=3))


def test_landmarkers_fit_on_one_thread(pmlb_root, monkeypatch):
    """The landmarkers' fits ran on every OpenMP/BLAS thread: with a core busy elsewhere
    the 1-NN's threads waited on each other, and the meta-features of satimage took 0.3-0.45
    s on the 2-core VM instead of 0.08. They now fit on one thread."""
    from threadpoolctl import threadpool_info, threadpool_limits

    threads = []
    score = mf._oof_score

    def recording(*args, **kwargs):
        threads.append({pool["user_api"]: pool["num_threads"] for pool in threadpool_info()})
        return score(*args, **kwargs)

    monkeypatch.setattr(mf, "_oof_score", recording)
    frame = _read_pmlb(pmlb_root, "breast_w")
    with threadpool_limits(limits=2):  # as on a 2-core machine, whatever runs the tests
        mf.compute(frame.drop(columns="target"), frame["target"], "classification")
    assert len(threads) == 4  # 1-NN, stump, naive Bayes, linear
    assert all(set(pools.values()) == {1} for pools in threads)


def test_to_vector_takes_a_dict_of_meta_features(iris_features):
    """to_vector(dict(values)) raised "features must be a Series or DataFrame, got dict",
    though a dict is how the other entry points take meta-features (a prior's, a
    ranker's); it reads as the Series. An array, whose numbers name nothing, is still
    refused."""
    np.testing.assert_array_equal(mf.to_vector(dict(iris_features)),
                                  mf.to_vector(iris_features))
    with pytest.raises(ValueError, match=r"features lack 29 meta-feature\(s\)"):
        mf.to_vector({"n_instances": 150.0})
    with pytest.raises(TypeError, match=r"^features must be a Series, a dict or a DataFrame "
                       r"of named meta-features, got ndarray$"):
        mf.to_vector(np.zeros(30))
