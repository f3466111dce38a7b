"""Dataset validation: the bad inputs of the foundation issue, each a clear ValueError or a working result."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from scipy import sparse
from sklearn.datasets import load_iris

from metaopt.data import Dataset, LocalSource, from_arrays, infer_task, validate


@pytest.fixture
def iris():
    return load_iris(return_X_y=True, as_frame=True)


def test_iris_round_trip(iris):
    X, y = iris
    ds = from_arrays(X, y, name="iris")
    assert isinstance(ds, Dataset)
    assert ds.task == "classification"
    assert ds.n_samples == 150 and ds.n_features == 4
    assert list(ds.classes) == [0, 1, 2]
    assert list(ds.X.columns) == list(X.columns)


@pytest.mark.parametrize(
    "X, y, match",
    [
        (np.empty((0, 3)), np.empty(0), "0 rows"),
        (np.empty((5, 0)), np.arange(5) % 2, "0 columns"),
        (np.ones((5, 2)), np.arange(4) % 2, "different lengths: X has 5 rows, y has 4"),
        (np.random.default_rng(0).normal(size=(6, 2)), np.zeros(6), "at least 2 classes"),
        (np.ones((4, 2)), np.full(4, np.nan), "only missing values"),
        (np.ones((4, 2)), np.array([0, 1, np.nan, 1]), "1 missing value"),
        (np.array([[1.0, np.inf], [2.0, 3.0], [3, 4]]), [0, 1, 0], "infinite values"),
        (np.arange(5.0), np.arange(5) % 2, "2-dimensional"),
    ],
)
def test_bad_inputs_raise_clear_value_errors(X, y, match):
    with pytest.raises(ValueError, match=match):
        validate(X, y, "classification")


def test_repeated_columns_constant_targets_and_target_frames():
    """Repeated column names crashed with an AttributeError, and a y frame with a column
    called "name" with an ambiguous truth value."""
    X = pd.DataFrame([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], columns=["a", "a"])
    with pytest.raises(ValueError, match=r"repeated column names \['a'\]"):
        validate(X, [0, 1, 0])
    with pytest.raises(ValueError, match=r"repeated column names \['0'\]"):
        validate(X.set_axis([0, "0"], axis=1), [0, 1, 0])
    _, y, _ = validate(X.set_axis(["a", "b"], axis=1), pd.DataFrame({"name": [0, 1, 0]}))
    assert y.name == "name"
    with pytest.raises(ValueError, match=r"got 1 \(every row's target is 1; "):
        validate(X.set_axis(["a", "b"], axis=1), np.array([1, 1, 1]), "classification")


def test_a_constant_numeric_target_says_how_to_take_it_as_regression():
    """A constant numeric target without task= was read as one class, and the error did
    not say that task='regression' takes it as a regression target."""
    X = np.random.default_rng(0).normal(size=(6, 2))
    with pytest.raises(ValueError, match=r"is 7.0; to treat it as a regression target, "
                                         r"pass task='regression'\)$"):
        validate(X, np.full(6, 7.0))
    with pytest.raises(ValueError, match=r"target is 'a'\)$"):  # text: no such advice
        validate(X, np.array(["a"] * 6))


def test_a_column_name_given_as_y_is_refused_saying_how_to_pass_the_column(pmlb_root):
    """metaopt.suggest(df, "target"): the name of the target column as y failed with "X
    and y have different lengths: X has 699 rows, y has 1"."""
    from metaopt.data import LocalSource

    frame = LocalSource(pmlb_root).load("breast_w").X
    with pytest.raises(ValueError, match=r"y must hold one target per row of X, got the "
                       r"str 'Clump_Thickness': to use a column of X as the target, pass "
                       r"X\.drop\(columns='Clump_Thickness'\) as X and "
                       r"X\['Clump_Thickness'\] as y"):
        validate(frame, "Clump_Thickness")
    for y in (3, "target"):  # not a column of X
        with pytest.raises(ValueError, match=rf"y must hold one target per row of X, got "
                           rf"the {type(y).__name__} {y!r}$"):
            validate(frame, y)


def test_regression_target_as_classification_is_refused():
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(200, 3)), rng.normal(size=200)
    with pytest.raises(ValueError, match="looks like a regression target"):
        validate(X, y, "classification")
    assert validate(X, y)[2] == "regression"


def test_integer_valued_regression_target_as_classification_is_refused(pmlb_root):
    """195_auto_price's prices are whole numbers, 145 distinct in 159 rows: accepted as
    145 classes (MetaOptClassifier then failed every trial: too few rows per class)."""
    table = pd.read_csv(pmlb_root / "195_auto_price" / "195_auto_price.tsv.gz", sep="\t")
    X, y = table.drop(columns="target"), table["target"]
    with pytest.raises(ValueError, match=r"looks like a regression target \(145 distinct "
                       r"values in 159 rows\)"):
        validate(X, y, "classification")
    with pytest.raises(ValueError, match="looks like a regression target"):
        validate(X, y.astype(int), "classification")
    assert validate(X, y)[2] == "regression"
    # many integer classes with several rows each stay a classification target
    labels = np.arange(len(y)) % 60
    assert validate(X, labels, "classification")[1].nunique() == 60


def test_many_integer_labels_refused_as_classes_say_how_to_keep_them():
    """60 integer class labels in 100 rows (identities, one or two rows each) were refused
    by MetaOptClassifier, which has no task, with 'pass task='regression'' alone, though
    they are classes (MetaOptClassifier fitted them before that check). The message now
    names MetaOptRegressor and the way to keep them as classes: strings."""
    y = np.concatenate([np.repeat(np.arange(10), 5), np.arange(10, 60)])
    X = np.random.default_rng(0).normal(size=(100, 2))
    with pytest.raises(ValueError, match=r"MetaOptRegressor for an estimator\), or, if "
                       r"they are class labels, give them as strings \(y.astype\(str\)\)"):
        validate(X, y, "classification")
    assert validate(X, y.astype(str), "classification")[1].nunique() == 60


# the validated paths to a Dataset: a classification task given, or inferred
MIXED_LABEL_ENTRIES = {
    "from_arrays": lambda X, y: from_arrays(X, y),
    "validate": lambda X, y: validate(X, y, "classification"),
}


@pytest.mark.parametrize("entry", MIXED_LABEL_ENTRIES)
@pytest.mark.parametrize("labels", [
    lambda y: y.where(y != 1, "one").to_numpy(dtype=object),  # a string first
    lambda y: y.astype(object).where(y != 3, "three"),  # a number first, in a Series
    lambda y: pd.Series(pd.Categorical(y.astype(object).where(y != 2, "two"))),
], ids=["object array", "object Series", "categorical"])
def test_class_labels_mixing_strings_and_numbers_are_refused(pmlb_root, entry, labels):
    """Labels mixing strings and numbers made a Dataset whose classes, subsample and
    meta-features then failed with numpy's "'<' not supported between instances of
    'int' and 'str'"; they are refused where the Dataset is built, saying how to fix."""
    wine = LocalSource(pmlb_root).load("wine_recognition")
    build = MIXED_LABEL_ENTRIES[entry]
    y = labels(wine.y)
    with pytest.raises(ValueError, match=r"Mix of label input types \(string and number\) in "
                                         r"y: .* y\.astype\(str\)"):
        build(wine.X, y)
    fixed = pd.Series(y).astype(str)
    built = build(wine.X, fixed)
    ds = built if isinstance(built, Dataset) else Dataset(*built, name="wine")
    assert sorted(ds.classes) == sorted(fixed.unique())
    assert set(ds.subsample(30).y) == set(fixed)  # each class keeps a row


def test_label_types_of_one_kind_pass():
    """Only a mix of strings with other types is refused: numbers of several types, or
    strings of several (numpy's and Python's), are one kind of label."""
    from metaopt._checks import check_label_types

    for y in (np.array([1, 2.5, np.int64(3), True], dtype=object),
              np.array(["a", np.str_("b")], dtype=object), np.array([1, 2]), ["a", "b"]):
        check_label_types(y)
    with pytest.raises(ValueError, match=r"\(string and non-string\) in y: 1 label\(s\) "
                       r"are strings \(e\.g\. 'a'\), 2 are bytes, int \(e\.g\. b'b'\)"):
        check_label_types(np.array(["a", b"b", 3], dtype=object))


def test_string_labels_as_regression_are_refused():
    with pytest.raises(ValueError, match="numeric target"):
        validate(np.ones((3, 1)), ["a", "b", "a"], "regression")


def test_unknown_task_is_refused(iris):
    with pytest.raises(ValueError, match="task must be one of"):
        validate(*iris, task="ranking")


def test_nan_in_x_string_and_constant_columns_work():
    X = pd.DataFrame({
        "num": [1.0, np.nan, 3.0, 4.0, 5.0, 6.0],
        "text": ["a", "b", None, "a", "b", "a"],
        "numbers_as_text": ["1", "2", "3", "4", "5", "6"],
        "const": [7.0] * 6,
        "flag": [True, False, True, True, False, False],
    })
    frame, y, task = validate(X, ["yes", "no", "yes", "no", "yes", "no"])
    assert task == "classification"
    assert frame["num"].isna().sum() == 1
    assert isinstance(frame["text"].dtype, pd.CategoricalDtype)
    assert frame["text"].isna().sum() == 1  # missing stays missing, not the string "None"
    assert frame["numbers_as_text"].dtype == float
    assert isinstance(frame["flag"].dtype, pd.CategoricalDtype)


def test_one_row_per_class_and_wide_and_sparse():
    X = np.random.default_rng(0).normal(size=(10, 5000))
    ds = from_arrays(X, [f"c{i}" for i in range(10)], task="classification")
    assert ds.n_features == 5000 and len(ds.classes) == 10
    ds = from_arrays(sparse.random(20, 4, density=0.5, random_state=0, format="csr"), np.arange(20) % 2)
    assert ds.X.shape == (20, 4)


def test_infer_task():
    assert infer_task(pd.Series(["a", "b"])) == "classification"
    assert infer_task(pd.Series(np.arange(100) % 3)) == "classification"
    assert infer_task(pd.Series(np.linspace(0, 1, 100))) == "regression"


def test_subsample_is_stratified_and_seeded(iris):
    ds = from_arrays(*iris)
    small = ds.subsample(30, random_state=1)
    assert small.n_samples == 30
    assert small.y.value_counts().tolist() == [10, 10, 10]
    assert small.X.equals(ds.subsample(30, random_state=1).X)
    assert ds.subsample(1000) is ds
    with pytest.raises(ValueError, match="max_rows"):
        ds.subsample(0)


def test_subsample_keeps_at_most_max_rows_with_many_small_classes(pmlb_root):
    """The one row kept per class came on top of the proportional share: soybean (675
    rows, 18 classes of 14-92) gave 22 rows for subsample(20) and 18 for subsample(10)."""
    ds = LocalSource(pmlb_root).load("soybean")
    small = ds.subsample(20, random_state=0)
    assert small.n_samples <= 20 and small.y.nunique() == 18
    tiny = ds.subsample(10, random_state=0)
    assert tiny.n_samples == 10 and tiny.y.nunique() == 10
    assert tiny.X.equals(ds.subsample(10, random_state=0).X)
    assert ds.subsample(300, random_state=0).y.value_counts().max() == 40  # 92 * 300 // 675


def test_an_exact_subsample_has_the_rows_asked_for(pmlb_root):
    """Each class's share was rounded down and the rows left over given to none:
    search_rows=999 searched 997 rows of 3 classes (1,000, 1,000, 1,002), 10,000 of
    magic's 19,020 9,999, where the docs say "that many". exact= hands them out, the
    largest remainders first; the rows of the rounded sample (Dataset.subsample's, which
    knowledge bases built with --max-rows hold) are kept and stay as they were."""
    from metaopt.data._dataset import subsample_rows

    y = pd.Series(np.repeat([0, 1, 2], [1000, 1000, 1002]))
    rounded = subsample_rows(y, "classification", 999, 3)
    rows = subsample_rows(y, "classification", 999, 3, exact=True)
    assert len(rounded) == 997 and from_arrays(np.zeros((3002, 1)), y).subsample(
        999, random_state=3).n_samples == 997  # Dataset.subsample: as it was
    assert len(rows) == len(set(rows)) == 999 and set(rounded) <= set(rows)
    # shares 332.8, 332.8, 333.4: the two classes of the larger remainder get one more
    assert np.bincount(y[rows]).tolist() == [333, 333, 333]
    assert np.array_equal(rows, subsample_rows(y, "classification", 999, 3, exact=True))
    two = pd.Series(np.repeat([0, 1], [12332, 6688]))  # magic's classes, 19,020 rows
    assert len(subsample_rows(two, "classification", 10_000, 0, exact=True)) == 10_000
    # classes of one row keep theirs, and never give more rows than they have
    few = pd.Series(np.r_[np.arange(50), np.full(1000, 50), np.full(10, 51)])
    for asked in (60, 100, 500):
        kept = few[subsample_rows(few, "classification", asked, 0, exact=True)]
        assert len(kept) == asked and kept.nunique() == 52
    soybean = LocalSource(pmlb_root).load("soybean").y  # 18 classes of 14-92 rows
    for asked in (10, 20, 300):
        kept = soybean[subsample_rows(soybean, "classification", asked, 0, exact=True)]
        assert len(kept) == asked and kept.nunique() == min(asked, 18)
    assert subsample_rows(y, "classification", 3002, 0, exact=True) is None


def test_subsample_with_many_classes_is_fast():
    """Each class's rows were found by a scan of all rows: 30,000 classes of 300,000
    rows took 7 s (minutes for bigger data); one sort now, the same rows drawn."""
    import time

    rng = np.random.default_rng(0)
    y = pd.Series(rng.integers(0, 30_000, 300_000))
    ds = Dataset(X=pd.DataFrame({"x": np.arange(300_000.0)}), y=y,
                 task="classification", name="many-classes")
    start = time.perf_counter()
    small = ds.subsample(2000, random_state=0)
    assert time.perf_counter() - start < 3.0
    assert small.n_samples == 2000 and small.y.nunique() == 2000
    # every kept row is one of its class's rows
    assert (y.iloc[small.X["x"].to_numpy().astype(int)].to_numpy() == small.y).all()


def test_datetimes_and_timedeltas_are_seconds_with_or_without_a_missing_value():
    """A datetime column became numbers (nanoseconds) without a missing value and a
    category with one; both are now seconds, NaT as NaN, as the pipelines use them."""
    when = pd.Series(pd.to_datetime(["1970-01-02", "2000-01-01", None, "2020-06-01"]))
    took = pd.to_timedelta(["1h", None, "30s", "2D"])
    X, _, _ = validate(pd.DataFrame({"when": when, "took": took, "x": [1.0, 2, 3, 4]}),
                       [0, 1, 0, 1])
    assert X["when"].tolist()[:2] == [86400.0, 946684800.0] and np.isnan(X["when"][2])
    assert X["took"].tolist()[0] == 3600.0 and np.isnan(X["took"][1])
    assert X["took"][3] == 2 * 86400.0


def test_times_of_day_and_periods_are_seconds():
    """A pyarrow time of day became a category of ``time`` objects, unlike every other
    time column; now seconds since midnight (a period: seconds since 1970 at its start)."""
    import datetime as dt

    at = pd.Series([dt.time(1, 2, 3), None, dt.time(23, 0, 0, 500000), dt.time(0)],
                   dtype=pd.ArrowDtype(pa.time64("us")), index=[7, 5, 3, 1])
    month = pd.Series(pd.period_range("1970-01", periods=4, freq="M"), index=at.index)
    X, _, _ = validate(pd.DataFrame({"at": at, "month": month}), [0, 1, 0, 1])
    assert X["at"].tolist()[::2] == [3723.0, 82800.5] and np.isnan(X["at"].iloc[1])
    assert X["month"].tolist()[:2] == [0.0, 31 * 86400.0]


@pytest.mark.parametrize("unit", ["s", "us", "ns"])
def test_pyarrow_timestamps_and_durations_in_any_unit_are_seconds(unit):
    """pyarrow's total_seconds refuses nanosecond counts above 2**53: a timestamp[ns]
    column (a parquet file read with dtype_backend="pyarrow") or a duration[ns] over 104
    days failed validate and every pipeline ('Integer value 1577836800000000000 not in
    range'). They are seconds as the numpy-backed columns are."""
    when = pd.Series(pd.to_datetime(["1970-01-02", "2020-01-01", None]))
    took = pd.Series(pd.to_timedelta(["1h", "200D", None]))
    # first: pandas < 3.1.1's astype to a pyarrow timestamp wrote 1970 into when's NaT
    expected, _, _ = validate(pd.DataFrame({"when": when, "took": took}), [0, 1, 0])
    arrow = pd.DataFrame({"when": when.astype(pd.ArrowDtype(pa.timestamp(unit))),
                          "took": took.astype(pd.ArrowDtype(pa.duration(unit)))})
    X, _, _ = validate(arrow, [0, 1, 0])
    pd.testing.assert_frame_equal(X, expected)
    assert X["when"].tolist()[:2] == [86400.0, 1577836800.0]
    assert X["took"].tolist()[:2] == [3600.0, 200 * 86400.0]


@pytest.mark.parametrize("dtype", ["datetime64[s]", pd.ArrowDtype(pa.timestamp("us")),
                                   pd.ArrowDtype(pa.timestamp("us", tz="UTC")),
                                   pd.ArrowDtype(pa.date32()), "period[D]", "period[h]"])
def test_dates_after_2262_and_before_1677_are_seconds(dtype):
    """Dates outside the nanosecond range (9999-12-31, a common "no end" date; pandas and
    pyarrow hold them in seconds or microseconds) failed validate and every pipeline
    with OutOfBoundsDatetime: 1970 was subtracted in nanoseconds. With pandas 2 (which
    pyproject.toml allows) pyarrow dates and timestamps and period starts still failed:
    pandas 2 converts them to nanoseconds."""
    from metaopt.spaces import make_preprocessor

    days = ["9999-12-31", "1500-06-01", "2000-01-01"]
    when = pd.Series(np.array(days, dtype="datetime64[s]")).astype(dtype)
    X, _, _ = validate(pd.DataFrame({"until": when}), [0, 1, 0])
    expected = (np.array(days, dtype="datetime64[s]").astype("int64")).astype(float)
    np.testing.assert_array_equal(X["until"].to_numpy(), expected)
    scaled = make_preprocessor("scaled").fit_transform(pd.DataFrame({"until": when}))
    np.testing.assert_allclose(scaled.ravel(), (expected - expected.mean()) / expected.std())


def test_pyarrow_backed_strings_are_categorical(pmlb_root):
    """With dtype_backend="pyarrow" (read_csv, read_parquet), string columns were taken
    for numbers stored as strings and became all-NaN float columns."""
    frame = pd.read_csv(pmlb_root / "hepatitis" / "hepatitis.tsv.gz", sep="\t",
                        dtype_backend="pyarrow")
    X = frame.drop(columns="target").head(40)
    X["SEX"] = X["SEX"].map({1: "male", 2: "female"}).astype(pd.ArrowDtype(pa.string()))
    X["AGE"] = X["AGE"].astype(str).astype(pd.ArrowDtype(pa.string()))  # numbers as text
    ds = from_arrays(X, frame["target"].head(40))
    assert ds.categorical_columns == ["SEX"]
    assert ds.X["SEX"].notna().all() and set(ds.X["SEX"]) == {"male", "female"}
    assert ds.X["AGE"].dtype == float and ds.X["AGE"].tolist() == frame["AGE"].head(40).tolist()


def test_a_sparse_matrix_too_large_to_densify_is_refused_before_it_is(monkeypatch):
    """A 100k x 50k CSR at 0.1 % density (60 MB) asked numpy for 37 GiB dense (a
    MemoryError, or the OOM killer where it fits in virtual memory). Over half the
    machine's memory is now refused first, saying what to do."""
    import metaopt.data._dataset as dataset_module

    rows = np.arange(100_000)
    X = sparse.csr_matrix((np.ones(100_000), (rows, rows % 50_000)), shape=(100_000, 50_000))
    y = np.arange(100_000) % 2
    monkeypatch.setattr(dataset_module, "physical_memory", lambda: 24 * 2**30)
    with pytest.raises(ValueError, match=r"would take 37\.3 GiB .* half of this machine's "
                                         r"24\.0 GiB: give a sample of its rows"):
        from_arrays(X, y)
    small = sparse.random(200, 10, density=0.1, random_state=0, format="csr")
    assert from_arrays(small, np.arange(200) % 2).X.shape == (200, 10)


def test_datasets_compare_by_identity_and_key_a_dict(iris):
    """Comparing two datasets raised "The truth value of a DataFrame is ambiguous", and a
    dataset could not key a dict or fill a set ("unhashable type: 'DataFrame'")."""
    X, y = iris
    a, b = from_arrays(X, y, name="iris"), from_arrays(X, y, name="iris")
    assert a == a and a != b and not (a == b)
    results = {a: 1, b: 2}
    assert results[a] == 1 and len({a, b, a}) == 2
    assert b in [a, b] and [a, b].index(b) == 1


def test_a_target_in_another_row_order_than_X_is_refused(pmlb_root):
    """X shuffled (or sorted) after y was taken from the same table: from_arrays paired
    them by position and every row silently got another row's target (real data)."""
    from metaopt import metafeatures

    table = LocalSource(pmlb_root).load("analcatdata_aids")
    frame = table.X.assign(target=table.y)
    X, y = frame.drop(columns="target"), frame["target"]
    shuffled = X.sample(frac=1, random_state=0)
    with pytest.raises(ValueError, match=r"same row labels in another order .*y.loc\[X.index\]"):
        from_arrays(shuffled, y)
    with pytest.raises(ValueError, match="same row labels in another order"):
        metafeatures.compute(shuffled, y.to_frame())
    aligned = from_arrays(shuffled, y.loc[shuffled.index])
    assert aligned.y.tolist() == y.loc[shuffled.index].tolist()
    # position is the pairing otherwise: equal labels, other labels, arrays
    assert from_arrays(X, y).y.tolist() == y.tolist()
    assert from_arrays(shuffled, y.reset_index(drop=True).set_axis(range(100, 100 + len(y))))
    assert from_arrays(shuffled, y.to_numpy()).y.tolist() == y.tolist()


def test_a_series_as_X_is_told_to_frame(iris):
    """A Series X (one feature) was told "use X.reshape(-1, 1)", which a Series lacks."""
    X, y = iris
    with pytest.raises(ValueError, match=r"1-d Series of shape \(150,\); use X.to_frame\(\)"):
        from_arrays(X["sepal length (cm)"], y)
    assert from_arrays(X["sepal length (cm)"].to_frame(), y).n_features == 1
    with pytest.raises(ValueError, match=r"1-d array .*X.reshape\(-1, 1\)"):
        from_arrays(X["sepal length (cm)"].to_numpy(), y)


@pytest.mark.parametrize("task", [None, "regression"])
def test_an_infinite_target_is_refused_without_a_numpy_warning(iris, task):
    """The refusal of an infinite y came after numpy's "RuntimeWarning: invalid value
    encountered in mod", from the guess of the task."""
    import warnings

    X, _ = iris
    y = np.linspace(0.5, 2.5, len(X))
    y[3] = np.inf
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match="y contains infinite values"):
            from_arrays(X, y, task=task)


def test_row_id_columns_of_a_validated_frame_are_warned_about_with_a_name(pmlb_root):
    """warn_id_columns takes a validated X with the name of what is given it, and the
    words of how to drop the columns there (an estimator's fit: neither a Dataset nor
    suggest's Python-or-command-line advice)."""
    from metaopt.data._ids import warn_id_columns

    backache = LocalSource(pmlb_root).load("backache")
    with pytest.warns(UserWarning, match=r"^MetaOptClassifier: column 'id' \(180 distinct "
                      r".*drop it: X\.drop\(columns=\['id'\]\) before fit$"):
        warn_id_columns(backache.X, name="MetaOptClassifier",
                        drop="X.drop(columns={columns}) before fit")


HAND_BUILT_MISTAKES = {  # (X, y, task) of wine (classification) or 1027_ESL (regression)
    "missing target": (lambda w, r: (w.X, w.y.where(w.y.index != 3), "classification"),
                       r"y contains 1 missing value\(s\)"),
    "y shorter than X": (lambda w, r: (w.X, w.y.iloc[:-5], "classification"),
                         r"X and y have different lengths: X has 178 rows, y has 173"),
    "no rows": (lambda w, r: (w.X.iloc[:0], w.y.iloc[:0], "classification"),
                r"X is empty: it has 0 rows"),
    # it said "got dtype str (e.g. '6.0')"
    "text target for regression": (lambda w, r: (r.X, r.y.astype(str), "regression"),
                                   r"task='regression' needs a numeric target, but y holds "
                                   r"numbers written as text \(e\.g\. '6\.0'\)"),
    "labels for regression": (lambda w, r: (w.X, w.y.map({1: "yes", 2: "no", 3: "maybe"}),
                                            "regression"),
                              r"task='regression' needs a numeric target, but y holds text "
                              r"values such as 'yes', 'no', 'maybe'; use task='classification' "
                              r"for labels$"),
    "true/false for regression": (lambda w, r: (r.X, r.y > 4, "regression"),
                                  r"but y holds true/false values; use"),
}


@pytest.mark.parametrize("mistake", HAND_BUILT_MISTAKES)
def test_a_dataset_built_by_hand_is_validated_where_it_is_built(pmlb_root, mistake):
    """Dataset(...) by hand took its data as given: its meta-features refused it only
    when computed (MetaSampler(dataset=...): in the study's first trial), build's
    evaluations failed with sklearn's or numpy's words ("Input y contains NaN",
    "unsupported operand type(s) for /: 'str' and 'int'") or, for a y shorter than X,
    scored rows against other rows' targets without a word. It is refused where it is
    built, saying what is wrong, as the loaders refuse it."""
    from metaopt.samplers import MetaSampler

    source = LocalSource(pmlb_root)
    wine, esl = source.load("wine_recognition"), source.load("1027_ESL")
    make, match = HAND_BUILT_MISTAKES[mistake]
    X, y, task = make(wine, esl)
    with pytest.raises(ValueError, match=match):
        Dataset(X=X, y=y, task=task, name="by-hand")
    with pytest.raises(ValueError, match=match):  # as (X, y), as before
        MetaSampler(space="knn", dataset=(X, y), task=task)


def test_a_dataset_built_by_hand_is_normalised_as_a_loaded_one(pmlb_root):
    """A numpy X and y made a Dataset whose classes and subsample failed with
    "'numpy.ndarray' object has no attribute 'to_numpy'"; they are a frame and a Series,
    as the loaders make them, and the same data by hand is the loaded Dataset."""
    wine = LocalSource(pmlb_root).load("wine_recognition")
    arrays = Dataset(X=wine.X.to_numpy(), y=wine.y.to_numpy(), task="classification",
                     name="wine")
    assert list(arrays.classes) == [1, 2, 3] and arrays.subsample(30).y.nunique() == 3
    assert list(arrays.X.columns) == [f"x{i}" for i in range(13)]
    frame = Dataset(X=wine.X, y=wine.y, task="classification", name="wine")
    pd.testing.assert_frame_equal(frame.X, wine.X)
    pd.testing.assert_series_equal(frame.y, wine.y)


def test_loading_validates_once(pmlb_root, monkeypatch):
    """The loaders validated their data, then built the Dataset: now the Dataset's own
    check is the only one (a second one cost 16 ms on kddcup's 494,020 x 41), and a
    subsample, rows of validated data, is not checked again."""
    from metaopt.data import _dataset

    calls = []
    checked = _dataset.validate
    monkeypatch.setattr(_dataset, "validate", lambda *a: calls.append(1) or checked(*a))
    wine = LocalSource(pmlb_root).load("wine_recognition")
    from_arrays(wine.X, wine.y)
    wine.subsample(30)
    assert len(calls) == 2


@pytest.mark.parametrize("form", ["frame", "array"])
def test_validate_copies_no_column_it_keeps(pmlb_root, form):
    """validate copied every column of a DataFrame (as much memory again as X: 400 MB
    for 1,000,000 x 50 floats), and an array twice. A column needing no change is now the
    caller's (pandas' copy-on-write): a write to the validated frame or to the caller's
    leaves the other as it was."""
    import tracemalloc

    df = pd.read_csv(pmlb_root / "crx" / "crx.tsv.gz", sep="\t")
    rows = np.random.default_rng(0).integers(0, len(df), 100_000)
    X = df.drop(columns="target").iloc[rows].reset_index(drop=True).astype(float)
    X["A1"] = "v" + X["A1"].astype(str)  # converted: a category
    y = df["target"].to_numpy()[rows]
    X = X if form == "frame" else X.drop(columns="A1").to_numpy()
    before = X.copy()
    tracemalloc.start()
    try:
        frame = validate(X, y)[0]
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    size = X.shape[0] * (X.shape[1] - (form == "frame")) * 8  # the float columns
    assert peak < (0.5 if form == "frame" else 1.5) * size
    assert isinstance(frame["A1" if form == "frame" else "x0"].dtype,
                      pd.CategoricalDtype if form == "frame" else np.dtype)
    validated = frame.copy()
    frame.iloc[:5, 1:] = -1.0
    if form == "frame":
        pd.testing.assert_frame_equal(X, before, check_exact=True)
        X.iloc[5:10, 1:] = -2.0
    else:
        np.testing.assert_array_equal(X, before)
        X[5:10] = -2.0
    pd.testing.assert_frame_equal(frame.iloc[5:], validated.iloc[5:], check_exact=True)


def test_a_target_left_in_X_is_warned_about(pmlb_root):
    """breast_w passed whole as X with its target: accepted without a word, so a search
    scored near-perfect models that read the answer. The warning names the column and
    points at the caller's line; a table without it validates silently."""
    import warnings

    from metaopt.data import LocalSource

    data = LocalSource(pmlb_root).load("breast_w")
    whole = data.X.assign(target=data.y.to_numpy())
    with pytest.warns(UserWarning, match=r"column\(s\) \['target'\] of X hold y itself.*"
                      r"X\.drop\(columns=\['target'\]\)") as said:
        validate(whole, data.y)
    assert [w.filename for w in said] == [__file__]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        validate(data.X, data.y)


def test_validate_densifies_a_sparse_matrix_once(pmlb_root):
    """The dense table of a sparse X was copied again into the frame: a peak of twice
    its size."""
    import tracemalloc

    from sklearn.preprocessing import OneHotEncoder

    df = pd.read_csv(pmlb_root / "crx" / "crx.tsv.gz", sep="\t")
    X = OneHotEncoder().fit_transform(df.drop(columns="target"))  # 690 x 1176, 1% filled
    y = df["target"].to_numpy()
    tracemalloc.start()
    try:
        frame = validate(X, y)[0]
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 1.5 * X.shape[0] * X.shape[1] * 8
    np.testing.assert_array_equal(frame.to_numpy(), X.toarray())


def test_finite_values_too_large_for_float32_are_warned_about_by_column(pmlb_root):
    """Finite values beyond float32's range became inf in a tree's float32 copy, and past
    1.3e154 inf then NaN when standardised: a model failed with "infinite values" or
    "Input X contains NaN". The warning names the column, its largest value and a
    rescaling; a genuinely infinite value is refused as before."""
    df = pd.read_csv(pmlb_root / "228_elusage" / "228_elusage.tsv.gz", sep="\t")
    X, y = df.drop(columns="target"), df["target"]
    huge = X.assign(average_temperature=X["average_temperature"] * 1e306)
    with pytest.warns(UserWarning, match=(
            r"X column\(s\) 'average_temperature' \(up to 7\.9e\+307\) hold finite values too "
            r"large for float32 .*, and to standardise in float64 .*; rescale, e\.g\. "
            r"X\['average_temperature'\] / 1e307$")):
        validate(huge, y)
    with pytest.warns(UserWarning, match=(
            r"\(up to 7\.9e\+39\) .*tree models cast X to it and see inf\); rescale")):
        validate(X.assign(average_temperature=X["average_temperature"] * 1e38), y)
    with pytest.raises(ValueError, match=r"infinite values in column\(s\) \['month'\]"):
        validate(huge.assign(month=np.inf), y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        validate(X.astype({"average_temperature": "float32"}) * 1e30, y)
