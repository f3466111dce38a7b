"""Search spaces: registry, conditions, validation, encoding, and real fits on PMLB data."""

from __future__ import annotations

import io
import json
import pickle
import re
import tracemalloc
import warnings
from pathlib import Path

import numpy as np
import optuna
import pandas as pd
import pytest
import scipy.sparse as sp
from optuna.distributions import json_to_distribution
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.impute import SimpleImputer
from sklearn.model_selection import train_test_split
from sklearn.utils.estimator_checks import parametrize_with_checks

from metaopt.data import validate
from metaopt.spaces import SPACES_VERSION, SearchSpace, combine, get_space, list_spaces
from metaopt.spaces._base import cat_param, float_param
from metaopt.spaces._knn import ClippedKNeighborsClassifier, ClippedKNeighborsRegressor
from metaopt.spaces._preprocessing import MedianImputer, MixedAsStrings, make_preprocessor

optuna.logging.set_verbosity(optuna.logging.WARNING)

REQUIRED = ["hist_gradient_boosting", "random_forest", "extra_trees", "linear", "svm", "knn", "mlp"]
TASKS = ["classification", "regression"]
N_CONFIGS = 20
# Test-only caps on the parameters that drive fit time; every other value is as sampled.
CAPS = {"n_estimators": 24, "max_iter": 24, "max_epochs": 10, "width": 64}


def _load(pmlb_root, name: str, task: str, max_category_levels: int = 7):
    """A PMLB dataset with few-level integer columns as categories and some NaN injected."""
    df = pd.read_csv(pmlb_root / name / f"{name}.tsv.gz", sep="\t")
    X = df.drop(columns="target")
    rng = np.random.default_rng(0)
    for col in X.columns:
        if X[col].nunique() <= max_category_levels:
            X[col] = X[col].astype("category")
        X.loc[rng.random(len(X)) < 0.03, col] = np.nan
    return validate(X, df["target"], task)


@pytest.fixture(scope="module")
def datasets(pmlb_root):
    return {
        "classification": _load(pmlb_root, "colic", "classification"),
        "regression": _load(pmlb_root, "195_auto_price", "regression"),
    }


@pytest.fixture(params=REQUIRED)
def space(request) -> SearchSpace:
    return get_space(request.param)


def _sample_configs(space: SearchSpace, task: str, n: int = N_CONFIGS) -> list[dict]:
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    configs = []
    for _ in range(n):
        trial = study.ask()
        configs.append(space.sample(trial, task))
        study.tell(trial, 0.0)
    return configs


# --------------------------------------------------------------------------- registry
def test_registry_lists_required_spaces():
    assert list_spaces() == REQUIRED
    assert list_spaces("regression") == REQUIRED
    assert get_space("logistic_regression") is get_space("linear")
    for name in REQUIRED:
        assert get_space(name).name == name


def test_registry_ignores_spaces_around_names():
    """"svm + knn" failed with "unknown search space 'svm '"."""
    assert get_space("svm + knn").name == get_space("svm+knn").name
    assert get_space(" knn ") is get_space("knn") and get_space(" all").name == "all"


def test_registry_rejects_unknown_names():
    with pytest.raises(ValueError, match=r"unknown search space 'xgb'.*svm"):
        get_space("xgb")
    with pytest.raises(ValueError, match="task must be None or one of"):
        list_spaces("ranking")
    # 'all' inside a '+' list held svm twice, as 'svm__C' and 'all__svm__C'
    for name in ("all+svm", "knn+all"):
        with pytest.raises(ValueError, match=re.escape(f"'{name}': 'all' already holds every space")):
            get_space(name)
    with pytest.raises(ValueError, match=r"must be distinct, got \['linear', 'linear'\]"):
        get_space("linear+logistic_regression")
    assert [m.name for m in get_space("svm+knn").members] == ["svm", "knn"]
    with pytest.raises(ValueError, match=r"single spaces, got the combination\(s\) \['all'\]"):
        combine([get_space("all"), get_space("svm")])


# -------------------------------------------------------------------------- structure
def test_structure_defaults_and_json(space):
    assert space.tasks == ("classification", "regression")
    names = [p.name for p in space.params]
    for child, (parent, _) in space.conditions.items():
        assert names.index(parent) < names.index(child)
    encoded = space.to_json_dict()
    assert json.loads(json.dumps(encoded)) == encoded
    assert encoded["name"] == space.name and encoded["version"] == SPACES_VERSION
    for task in TASKS:
        default = space.default(task)
        assert space.check_params(default, task) == default
        vec = space.encode(default)
        assert vec.dtype == np.float32 and vec.shape == (space.n_encoded,)
        assert len(space.encoded_names) == space.n_encoded
        assert ((vec >= 0) & (vec <= 1)).all()
        for name, dist in space.distributions(task).items():
            entry = encoded["distributions"][task][name]
            assert json_to_distribution(json.dumps(entry)) == dist


def test_library_defaults_where_representable():
    assert get_space("random_forest").default("classification")["max_features"] == "sqrt"
    assert get_space("random_forest").default("regression")["max_features"] == 1.0
    assert get_space("extra_trees").default("regression")["bootstrap"] is False
    assert "max_samples" not in get_space("extra_trees").default("regression")
    assert get_space("svm").default("classification") == {"C": 1.0, "kernel": "rbf", "gamma": 0.1}
    assert get_space("linear").default("regression") == {"penalty": "l2", "alpha": 1.0}


def test_malformed_space_definitions_are_rejected():
    def build(params, task, random_state):
        raise AssertionError("never built")

    kernel = cat_param("kernel", ("rbf", "linear"), "rbf")
    with pytest.raises(ValueError, match="'gamma'.*parent 'kernel', which must be defined before"):
        SearchSpace(
            "bad",
            (float_param("gamma", 0.1, 1.0, 0.5, condition=("kernel", ("rbf",))), kernel),
            build,
        )
    with pytest.raises(ValueError, match=r"'kernel' got 'poly'; accepted: one of"):
        SearchSpace(
            "bad", (kernel, float_param("g", 0.1, 1.0, 0.5, condition=("kernel", ("poly",)))), build
        )
    with pytest.raises(ValueError, match=r"'g' got 2.0; accepted: float in \[0.1, 1.0\]"):
        SearchSpace("bad", (float_param("g", 0.1, 1.0, 2.0),), build)
    with pytest.raises(ValueError, match="'kernel' is defined twice"):
        SearchSpace("bad", (kernel, kernel), build)


# ----------------------------------------------------------------- sampling and fitting
@pytest.mark.filterwarnings("error::FutureWarning", "error::DeprecationWarning")
@pytest.mark.parametrize("task", TASKS)
def test_sampled_configs_fit_real_data(space, task, datasets):
    X, y, _ = datasets[task]
    stratify = y if task == "classification" else None
    X_tr, X_te, y_tr, y_te = train_test_split(
        X, y, test_size=0.3, random_state=0, stratify=stratify
    )
    configs = _sample_configs(space, task)
    assert len({json.dumps(c, sort_keys=True) for c in configs}) > N_CONFIGS // 2
    for params in configs:
        assert set(params) == set(space.active(params))
        assert space.check_params(params, task) == params
        assert space.encode(params).shape == (space.n_encoded,)
        cheap = {k: min(v, CAPS[k]) if k in CAPS else v for k, v in params.items()}
        model = clone(space.build(cheap, task, random_state=0))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(X_tr, y_tr)
        pred = model.predict(X_te)
        assert pred.shape == (len(X_te),)
        if task == "classification":
            assert set(pred) <= set(y_tr)
        else:
            assert np.isfinite(pred).all()


@pytest.mark.parametrize("task", TASKS)
def test_seeded_fits_leave_numpy_global_random_state_alone(space, task, datasets):
    """A model built with a random_state drew from numpy's global RandomState
    (ElasticNet, the linear family's l1 / elasticnet regressor, had no seed): fitting
    MetaOptRegressor(random_state=0) moved the caller's np.random stream."""
    if (space.name, task) == ("svm", "regression"):
        pytest.skip("scikit-learn's SVR takes no random_state and draws one it does not use")
    X, y, _ = datasets[task]
    configs = [space.default(task)] + _sample_configs(space, task, 6)
    if space.name == "linear":
        configs += [{"penalty": p, **({"C": 1.0} if task == "classification" else
                                      {"alpha": 0.01})} for p in ("l1", "l2")]
    def global_state():  # of np.random.seed / np.random.rand's legacy generator
        _, key, pos, *_ = np.random.get_state()  # noqa: NPY002
        return key.tobytes(), pos

    for params in configs:
        cheap = {k: min(v, CAPS[k]) if k in CAPS else v for k, v in params.items()}
        before = global_state()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            space.build(cheap, task, random_state=0).fit(X[:200], y[:200])
        assert global_state() == before, params


@pytest.mark.parametrize("task", TASKS)
def test_default_configs_fit_numpy_arrays_and_sparse_matrices(space, task, pmlb_root):
    """Sparse input once failed in every family but the forests ("Cannot center sparse
    matrices", or a sparse matrix where gradient boosting wants a DataFrame)."""
    name = "cars1" if task == "classification" else "230_machine_cpu"
    df = pd.read_csv(pmlb_root / name / f"{name}.tsv.gz", sep="\t")
    X, y = df.drop(columns="target").to_numpy(dtype=float)[:150], df["target"].to_numpy()[:150]
    params = {k: min(v, CAPS[k]) if k in CAPS else v for k, v in space.default(task).items()}
    model = space.build(params, task, random_state=0).fit(X, y)
    assert model.predict(X).shape == (150,)
    X_sparse = sp.csr_matrix(X)
    from_sparse = space.build(params, task, random_state=0).fit(X_sparse, y)
    np.testing.assert_allclose(from_sparse.predict(X_sparse), model.predict(X))


@pytest.mark.parametrize("as_frame", [False, True])
def test_default_configs_leave_out_a_column_without_values(space, as_frame, pmlb_root):
    """A numeric column with no observed value once made histogram gradient boosting
    fail and the imputers warn at every fit; now every family fits and predicts with
    it, silently, and the column is ignored."""
    df = pd.read_csv(pmlb_root / "cars1" / "cars1.tsv.gz", sep="\t")[:150]
    X, y = df.drop(columns="target"), df["target"].to_numpy()
    X_empty = X.assign(empty=np.nan)
    params = {k: min(v, CAPS[k]) if k in CAPS else v
              for k, v in space.default("classification").items()}
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        model = space.build(params, "classification", random_state=0).fit(
            X_empty if as_frame else X_empty.to_numpy(float), y)
    plain = space.build(params, "classification", random_state=0).fit(
        X if as_frame else X.to_numpy(float), y)
    filled = X_empty.assign(empty=1.0)  # values where training saw none: ignored
    np.testing.assert_array_equal(
        model.predict(filled if as_frame else filled.to_numpy(float)),
        plain.predict(X if as_frame else X.to_numpy(float)))


@pytest.mark.parametrize("dtype", [object, "category"])
def test_default_configs_fit_a_column_mixing_numbers_and_strings(space, dtype, pmlb_root):
    """A column holding 1, 2 and "unknown" made every family fail (scikit-learn's encoders
    refuse mixed types), so MetaOptClassifier failed every trial; it is now encoded as
    strings, also in a later batch holding only numbers."""
    df = pd.read_csv(pmlb_root / "crx" / "crx.tsv.gz", sep="\t")[:150]
    X, y = df.drop(columns="target"), df["target"].to_numpy()
    X["status"] = pd.Series(([1, 2, "unknown"] * 50)[:len(X)], dtype=dtype)
    params = {k: min(v, CAPS[k]) if k in CAPS else v
              for k, v in space.default("classification").items()}
    model = space.build(params, "classification", random_state=0).fit(X, y)
    numbers_only = X[X["status"].astype(str) != "unknown"]
    np.testing.assert_array_equal(model.predict(numbers_only.astype({"status": object})),
                                  model.predict(X)[numbers_only.index])
    # numbers with a missing value are floats: 1.0 is the 1 seen at fit, not unknown
    as_floats = numbers_only.assign(status=numbers_only["status"].astype(object).astype(float))
    as_floats.loc[as_floats.index[-1], "status"] = np.nan
    np.testing.assert_array_equal(model[:-1].transform(as_floats)[:-1],
                                  model[:-1].transform(numbers_only)[:-1])


@pytest.mark.parametrize("text", [object, "string"])
def test_numbers_written_as_text_are_numbers(space, text, pmlb_root):
    """A CSV read with dtype=str: validate and the meta-features took its columns for
    numbers, every family one-hot encoded them (at most 32 values each), and held-out R²
    of a linear model fell from 0.74 to -0.02; now the model is the one of the floats."""
    df = pd.read_csv(pmlb_root / "crx" / "crx.tsv.gz", sep="\t")[:150]
    X, y = df[["A2", "A3", "A8"]].round(3), df["target"]
    as_text = X.astype(text).assign(A3=lambda f: f["A3"].where(f.index != 4, None))
    params = {k: min(v, CAPS[k]) if k in CAPS else v
              for k, v in space.default("classification").items()}
    with_gap = X.assign(A3=X["A3"].where(X.index != 4))
    floats = space.build(params, "classification", random_state=0).fit(with_gap, y)
    texts = space.build(params, "classification", random_state=0).fit(as_text, y)
    assert texts[:-1].transform(as_text[:3]).shape[1] == 3
    np.testing.assert_array_equal(texts.predict(as_text), floats.predict(with_gap))


def test_text_that_is_no_number_in_a_number_column_of_a_later_batch_is_warned_about(
        space, pmlb_root):
    """A column of numbers at fit holding 'oops' in a later batch was read as missing and
    imputed without a word (scikit-learn's own pipelines fail on it). It still is, with a
    warning naming the column and the value; numbers as text and missing values are read
    silently, as at fit."""
    df = pd.read_csv(pmlb_root / "crx" / "crx.tsv.gz", sep="\t")[:150]
    X = df[["A2", "A3", "A8"]]
    params = {k: min(v, CAPS[k]) if k in CAPS else v
              for k, v in space.default("classification").items()}
    model = space.build(params, "classification", random_state=0).fit(X, df["target"])
    batch = X[:4].astype(object)
    batch.iloc[0, 1] = "oops"
    with pytest.warns(UserWarning, match=r"^column 'A3' held 1 value\(s\) that are no "
                      r"number \(e\.g\. 'oops'\), read as missing") as said:
        predicted = model.predict(batch)
    assert [w.filename for w in said] == [__file__]
    np.testing.assert_array_equal(predicted, model.predict(batch.replace("oops", np.nan)))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model.predict(X[:4].astype(str).assign(A8=None))


@pytest.mark.parametrize("mixed", [False, True])
def test_a_batch_missing_a_text_column_in_every_row_is_predicted(space, mixed, pmlb_root):
    """pandas reads a column that is empty in every row of a CSV as floats: a column of
    strings (or mixing strings and numbers) at fit then failed every prediction ('ufunc
    isnan not supported'); now it is missing, as the same rows as objects."""
    df = pd.read_csv(pmlb_root / "crx" / "crx.tsv.gz", sep="\t")[:150]
    words = ("g" + df["A4"].astype(str)).astype(object)
    X = df[["A2", "A3", "A8"]].assign(A4=words.where(df.index % 5 > 0, df["A4"]) if mixed
                                      else words)
    params = {k: min(v, CAPS[k]) if k in CAPS else v
              for k, v in space.default("classification").items()}
    model = space.build(params, "classification", random_state=0).fit(X, df["target"])
    batch = pd.read_csv(io.StringIO(X[:4].assign(A4="").to_csv(index=False)))
    assert batch["A4"].dtype == float
    as_objects = batch.astype({"A4": object}).assign(A4=None)
    np.testing.assert_array_equal(model.predict(batch), model.predict(as_objects))


def test_preprocessing_takes_for_numbers_the_columns_validate_does(pmlb_root):
    """validate and the meta-features took numbers mixed with number text or decimals
    for numbers, the preprocessing one-hot encoded them as categories; an object column
    with no value was a category there, a column of NaN (dropped) for validate."""
    import decimal

    from metaopt.spaces._preprocessing import ColumnSelector

    df = pd.read_csv(pmlb_root / "crx" / "crx.tsv.gz", sep="\t")[:150]
    X = df[["A2", "A3", "A8", "A11", "A4"]].astype(object)
    X["A2"] = [v if i % 2 else str(v) for i, v in enumerate(df["A2"])]  # 30.83, "58.67"
    X["A3"] = [decimal.Decimal(str(v)) if i % 2 else v for i, v in enumerate(df["A3"])]
    X["A8"] = X["A8"].where(X.index % 3 > 0, None)
    X["A11"] = None
    X["A4"] = "g" + df["A4"].astype(str)  # a category
    frame, _, _ = validate(X, df["target"], "classification")
    assert [c for c in frame if pd.api.types.is_numeric_dtype(frame[c])] == [
        "A2", "A3", "A8", "A11"]
    assert ColumnSelector(categorical=False)(X) == [0, 1, 2]  # A11: no value, left out
    assert ColumnSelector(categorical=True)(X) == [4]


def test_selecting_text_columns_parses_one_value_of_a_column_of_words(pmlb_root,
                                                                      monkeypatch):
    """Every pipeline fit (every fold of every trial) parsed every value of every text
    column as a number, twice: 2,000 rows x 500 columns of words took 2.5 s instead of
    1 s to preprocess. A column's first value that is no number now ends its check."""
    from metaopt.spaces._preprocessing import ColumnSelector

    df = pd.read_csv(pmlb_root / "crx" / "crx.tsv.gz", sep="\t")
    X = "v" + df.drop(columns="target").astype(str)
    parsed = []
    to_numeric = pd.to_numeric
    monkeypatch.setattr(pd, "to_numeric", lambda values, **kw: (
        parsed.append(len(values)), to_numeric(values, **kw))[1])
    assert ColumnSelector(categorical=True)(X) == list(range(X.shape[1]))
    assert sum(parsed) <= X.shape[1]


@pytest.mark.parametrize("name", REQUIRED)
def test_columns_named_by_numbers_that_are_not_their_positions(name, pmlb_root):
    """Columns named 7, 3, 5: scikit-learn took the selected names for positions (a
    wrong column, or none), and the mixed-column step failed ('keywords must be
    strings'); the native preprocessing (pandas output) failed until 2026-12-05
    ('input_features is not equal to feature_names_in_')."""
    space = get_space(name)
    df = pd.read_csv(pmlb_root / "crx" / "crx.tsv.gz", sep="\t")[:150]
    named = df[["A2", "A3", "A4"]].astype({"A4": object})
    named["A4"] = pd.Series(([1, 2, "unknown"] * 50)[:len(named)], dtype=object)
    numbered = named.set_axis([7, 3, 5], axis=1)
    params = {k: min(v, CAPS[k]) if k in CAPS else v
              for k, v in space.default("classification").items()}
    by_name = space.build(params, "classification", random_state=0).fit(named, df["target"])
    by_number = space.build(params, "classification", random_state=0).fit(numbered,
                                                                          df["target"])
    np.testing.assert_array_equal(by_number.predict(numbered), by_name.predict(named))


def test_columns_named_by_ints_and_strings_are_read_by_position(space, pmlb_root):
    """crx from load_table with two columns renamed 0 and 1 (names [0, 1, "A3", ...]):
    every family failed in scikit-learn ('Feature names are only supported if all input
    features have string names'), with its default configuration and with the one
    metaopt.suggest puts first. The columns are now read by position, so the model is
    the one fitted on the string names; feature_names_in_ is set only when all names
    are strings, as scikit-learn sets it."""
    import metaopt
    from metaopt.data import load_table

    ds = load_table(pmlb_root / "crx" / "crx.tsv.gz", target="target")
    X, y = ds.X[:150], ds.y[:150]
    mixed = X.set_axis([0, 1, *X.columns[2:]], axis=1)
    first = metaopt.suggest(mixed, y, space=space.name, n=1)["params"].iloc[0]
    for params in (space.default("classification"), first):
        params = {k: min(v, CAPS[k]) if k in CAPS else v for k, v in params.items()}
        by_name = space.build(params, "classification", random_state=0).fit(X, y)
        model = space.build(params, "classification", random_state=0).fit(mixed, y)
        assert list(by_name.feature_names_in_) == list(X.columns)
        assert not hasattr(model, "feature_names_in_") and model.n_features_in_ == X.shape[1]
        np.testing.assert_array_equal(model.predict(mixed), by_name.predict(X))
        if hasattr(model, "predict_proba"):
            np.testing.assert_allclose(model.predict_proba(mixed), by_name.predict_proba(X))


def test_a_pyarrow_timestamp_with_a_time_zone_is_a_number(space):
    """validate took it for seconds, but every family's preprocessing left it out
    (select_dtypes does not see it as a datetime)."""
    import pyarrow as pa

    kind = pa.timestamp("s", tz="UTC")
    when = pd.Series(pa.array([pd.Timestamp("2020-01-01", tz="UTC") + pd.Timedelta(days=d)
                               for d in range(60)], kind), dtype=pd.ArrowDtype(kind))
    X = pd.DataFrame({"when": when, "b": np.arange(60.0) % 7})
    y = (np.arange(60) >= 30).astype(int)
    params = {k: min(v, CAPS[k]) if k in CAPS else v
              for k, v in space.default("classification").items()}
    model = space.build(params, "classification", random_state=0).fit(X, y)
    assert "when" in model[:-1].get_feature_names_out()


def _assert_same_as_objects(space, typed: pd.DataFrame, X: pd.DataFrame, y) -> None:
    """The capped default configuration transforms and predicts ``typed`` as it does
    ``X``, the same columns as objects."""
    params = {k: min(v, CAPS[k]) if k in CAPS else v
              for k, v in space.default("classification").items()}
    model = space.build(params, "classification", random_state=0).fit(typed, y)
    as_objects = space.build(params, "classification", random_state=0).fit(X, y)
    np.testing.assert_allclose(np.asarray(model[:-1].transform(typed), dtype=float),
                               np.asarray(as_objects[:-1].transform(X), dtype=float))
    np.testing.assert_array_equal(model.predict(typed), as_objects.predict(X))


def test_pyarrow_string_columns_are_categories(space, pmlb_root):
    """read_csv(dtype_backend="pyarrow") gives string[pyarrow] columns, which
    select_dtypes sees neither as numbers nor as categories: every family silently left
    them out. They are now encoded as the same strings as objects."""
    df = pd.read_csv(pmlb_root / "crx" / "crx.tsv.gz", sep="\t")[:150]
    X = df[["A2", "A3"]].assign(A4="g" + df["A4"].astype(str))
    arrow = pd.read_csv(io.StringIO(X.to_csv(index=False)), dtype_backend="pyarrow")
    assert str(arrow["A4"].dtype) == "string[pyarrow]"
    _assert_same_as_objects(space, arrow, X, df["target"])


@pytest.mark.parametrize("dtype", ["string", "string[pyarrow]"])
def test_a_missing_value_in_a_string_column_is_a_category(space, dtype, pmlb_root):
    """A pandas string column (convert_dtypes) holds a missing value as pd.NA, which
    scikit-learn's encoders refuse beside strings: every family failed ('Encoders require
    their input argument must be uniformly strings or numbers'). It is now the missing
    category of the same column as objects."""
    df = pd.read_csv(pmlb_root / "crx" / "crx.tsv.gz", sep="\t")[:150]
    X = df[["A2", "A3"]].assign(A4=("g" + df["A4"].astype(str)).where(df.index % 4 > 0))
    typed = X.astype({"A4": dtype})
    assert typed["A4"].isna().sum() == X["A4"].isna().sum() > 0
    _assert_same_as_objects(space, typed, X, df["target"])


def test_a_missing_value_in_a_pyarrow_dictionary_column_is_a_category(space, pmlb_root,
                                                                      tmp_path):
    """A pandas categorical saved to parquet reads back with dtype_backend="pyarrow" as a
    pyarrow dictionary column, its missing value pd.NA: every family failed ('Encoders
    require their input argument must be uniformly strings or numbers'). It is now the
    missing category of the same column as objects."""
    df = pd.read_csv(pmlb_root / "crx" / "crx.tsv.gz", sep="\t")[:150]
    X = df[["A2", "A3"]].assign(A4=("g" + df["A4"].astype(str)).where(df.index % 4 > 0))
    X.astype({"A4": "category"}).to_parquet(tmp_path / "crx.parquet")
    typed = pd.read_parquet(tmp_path / "crx.parquet", dtype_backend="pyarrow")
    assert str(typed["A4"].dtype).startswith("dictionary<values=string")
    assert typed["A4"].isna().sum() == X["A4"].isna().sum() > 0
    _assert_same_as_objects(space, typed, X.astype({"A2": float, "A3": float}),
                            df["target"])


def test_default_configs_use_datetime_and_timedelta_columns_as_seconds(space, pmlb_root):
    """A datetime column was silently dropped by every family and a timedelta column
    crashed the scaled and ordinal preprocessing; both are now numbers of seconds, and
    a model sees the same as from those seconds given as floats (a missing time: NaN)."""
    df = pd.read_csv(pmlb_root / "crx" / "crx.tsv.gz", sep="\t")[:150]
    X, y = df[["A2", "A3"]].copy(), df["target"].to_numpy()
    X["when"] = pd.Timestamp("2020-01-01", tz="UTC") + pd.to_timedelta(y * 40 + np.arange(150), "D")
    X["took"] = pd.to_timedelta(np.arange(150) % 7, unit="h")
    X.loc[3, ["when", "took"]] = pd.NaT
    seconds = X.assign(when=(X["when"] - pd.Timestamp(0, tz="UTC")).dt.total_seconds(),
                       took=X["took"].dt.total_seconds())
    params = {k: min(v, CAPS[k]) if k in CAPS else v
              for k, v in space.default("classification").items()}
    model = space.build(params, "classification", random_state=0).fit(X, y)
    names = list(model[:-1].get_feature_names_out()) if hasattr(model, "__getitem__") else []
    assert not names or {"when", "took"} <= set(names)
    as_floats = space.build(params, "classification", random_state=0).fit(seconds, y)
    np.testing.assert_array_equal(model.predict(X), as_floats.predict(seconds))


def test_times_given_later_as_objects_or_text_are_the_seconds_seen_at_fit(space, pmlb_root):
    """A datetime or time-of-day column at fit, given to predict as objects (Timestamps,
    ``datetime.date``, ``datetime.time``) or as text (the same data read from a CSV),
    was NaN in every row, silently: imputed, so the model saw none of it (accuracy 0.53
    instead of 1.0 with a random forest on dates). They are now the same seconds."""
    import datetime as dt
    import io

    import pyarrow as pa

    df = pd.read_csv(pmlb_root / "crx" / "crx.tsv.gz", sep="\t")[:150]
    y = df["target"].to_numpy()
    minutes = (y * 600 + np.arange(150) * 3) % 1440
    X = df[["A2"]].astype(float).assign(
        when=pd.Timestamp("2020-01-01") + pd.to_timedelta(y * 400 + np.arange(150), "D"),
        at=pd.Series([dt.time(int(m) // 60, int(m) % 60) for m in minutes],
                     dtype=pd.ArrowDtype(pa.time64("us"))))
    params = {k: min(v, CAPS[k]) if k in CAPS else v
              for k, v in space.default("classification").items()}
    model = space.build(params, "classification", random_state=0).fit(X, y)
    expected = np.asarray(model[:-1].transform(X), dtype=float)
    as_objects = X.assign(when=X["when"].dt.date, at=X["at"].astype(object))
    as_text = pd.read_csv(io.StringIO(X.to_csv(index=False)))
    for later in (X.astype(object), as_objects, as_text):
        np.testing.assert_allclose(np.asarray(model[:-1].transform(later), dtype=float),
                                   expected)
        np.testing.assert_array_equal(model.predict(later), model.predict(X))


def test_date_text_and_date_objects_at_fit_are_the_seconds_of_the_datetimes(space,
                                                                           pmlb_root):
    """A date column read from a CSV without parse_dates (ISO 8601 text), or given as
    ``.dt.date`` objects, was a category per date at fit (one-hot: the 32 most frequent
    dates and "infrequent"), so the model saw hardly any of it and predicted other
    classes than from the same table with a datetime column. Now the same seconds, a
    time zone in the text converted to UTC."""
    df = pd.read_csv(pmlb_root / "crx" / "crx.tsv.gz", sep="\t")[:150]
    y = df["target"].to_numpy()
    X = df[["A2"]].astype(float).assign(
        when=pd.Timestamp("2020-01-01") + pd.to_timedelta(y * 400 + np.arange(150), "D"),
        at=pd.Timestamp("2020-01-01", tz="Europe/Paris")
        + pd.to_timedelta(y * 9 + np.arange(150), "h"))
    X.loc[3, ["when", "at"]] = pd.NaT
    as_text = pd.read_csv(io.StringIO(X.to_csv(index=False)))
    assert all(pd.api.types.is_string_dtype(as_text[c]) for c in ("when", "at"))
    as_objects = X.assign(when=X["when"].dt.date)
    for later in (as_text, as_objects):
        _assert_same_as_objects(space, later, X, y)


@pytest.mark.parametrize("kind", ["scaled", "ordinal", "native"])
def test_date_text_is_parsed_as_validate_parses_it_in_every_batch(kind, pmlb_root):
    """A column of ISO 8601 date text at fit is read by validate's parser (ISO 8601) in
    every batch: the same text gives the numbers it gave at fit, and date text that is no
    ISO 8601 date in a later batch ("07/08/2021": July or August?) is a missing date, as
    validate and a batch holding other text made it. Until 2026-12-05 a batch whose every
    value pandas could guess a date from (format="mixed") took it for one, month first
    ("07/08/2021") or day first ("13/07/2021"), so a row's numbers hung on its batch."""
    from metaopt.data._dataset import dates_as_seconds

    df = pd.read_csv(pmlb_root / "crx" / "crx.tsv.gz", sep="\t")[:150]
    days = pd.Timestamp("2021-01-01") + pd.to_timedelta(np.arange(150) * 3, "D")
    X = df[["A2", "A3"]].astype(float).assign(when=days.strftime("%Y-%m-%d"))
    preprocess = make_preprocessor(kind).fit(X)
    at_fit = np.asarray(preprocess.transform(X), dtype=float)[:20]
    later = X[:20].copy()
    later.loc[[5, 12], "when"] = days[[5, 12]].strftime("%m/%d/%Y")  # 01/16/2021, 02/06/2021
    missing = later.assign(when=later["when"].where(~later.index.isin([5, 12])))
    got = np.asarray(preprocess.transform(later), dtype=float)
    np.testing.assert_array_equal(got, np.asarray(preprocess.transform(missing), dtype=float))
    iso = ~later.index.isin([5, 12])
    np.testing.assert_array_equal(got[iso], at_fit[iso])
    if kind == "native":  # the seconds themselves, unscaled and unimputed
        np.testing.assert_array_equal(preprocess.transform(later)["when"],
                                      dates_as_seconds(later["when"]))


def test_times_of_day_and_periods_are_seconds(space, pmlb_root):
    """A pyarrow time of day with a missing value failed every fit (the encoders got
    ``time`` objects and NA); both it and a period column are now seconds (since midnight;
    since 1970 for the period's start), also on rows whose index is not 0..n-1."""
    import datetime as dt

    import pyarrow as pa

    df = pd.read_csv(pmlb_root / "crx" / "crx.tsv.gz", sep="\t")[:150]
    y = df["target"].to_numpy()
    minutes = (y * 600 + np.arange(150) * 3) % 1440
    X = df[["A2"]].copy()
    X["at"] = pd.Series([dt.time(int(m) // 60, int(m) % 60) for m in minutes],
                        dtype=pd.ArrowDtype(pa.time64("us")))
    X["month"] = pd.Series(pd.period_range("2000-01", periods=150, freq="M"))
    X.loc[3, ["at", "month"]] = None
    months = X["month"].dt.start_time
    seconds = X.assign(at=np.where(X.index == 3, np.nan, minutes * 60.0),
                       month=(months - pd.Timestamp(0)).dt.total_seconds())
    rows = np.random.default_rng(0).permutation(150)[:120]
    params = {k: min(v, CAPS[k]) if k in CAPS else v
              for k, v in space.default("classification").items()}
    model = space.build(params, "classification", random_state=0).fit(X.iloc[rows], y[rows])
    as_floats = space.build(params, "classification", random_state=0).fit(
        seconds.iloc[rows], y[rows])
    np.testing.assert_array_equal(model.predict(X), as_floats.predict(seconds))


def _churn_with_missing(pmlb_root) -> pd.DataFrame:
    """churn's 5000 rows (numpy takes medians of 600 rows or more otherwise than
    SimpleImputer does) with NaN in every other column and one column all NaN."""
    X = pd.read_csv(pmlb_root / "churn" / "churn.tsv.gz", sep="\t").drop(columns="target")
    rng = np.random.default_rng(0)
    for col in X.columns[::2]:
        X.loc[rng.random(len(X)) < 0.05, col] = np.nan
    return X.assign(empty=np.nan)


@pytest.mark.parametrize("form", ["frame", "array", "csr"])
def test_median_imputer_imputes_as_simple_imputer(form, pmlb_root):
    X = _churn_with_missing(pmlb_root)
    X = {"frame": X, "array": X.to_numpy(float), "csr": sp.csr_matrix(X.to_numpy(float))}[form]
    ours, theirs = MedianImputer(), SimpleImputer(strategy="median")
    if form == "frame":
        ours, theirs = ours.set_output(transform="pandas"), theirs.set_output(transform="pandas")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # the empty column: dropped
        got, expected = ours.fit(X[:4000]).transform(X), theirs.fit(X[:4000]).transform(X)
    np.testing.assert_array_equal(ours.imputer_.statistics_, theirs.statistics_)
    if form == "frame":
        pd.testing.assert_frame_equal(got, expected)
    elif form == "csr":
        assert sp.issparse(got)
        got, expected = got.toarray(), expected.toarray()
    assert got.shape == (X.shape[0], X.shape[1] - 1)
    np.testing.assert_array_equal(got, expected)
    np.testing.assert_array_equal(ours.get_feature_names_out(), theirs.get_feature_names_out())


@pytest.mark.parametrize("known_by", ["position", "name"])
def test_mixed_as_strings_pickled_before_strings_(known_by, pmlb_root):
    """A MixedAsStrings pickled before strings_ (2026-12-04), its mixed columns known by
    position or, earlier, by name: transform raised AttributeError, so did every
    pipeline's predict."""
    X = pd.read_csv(pmlb_root / "colic" / "colic.tsv.gz", sep="\t").iloc[:, :4].astype(object)
    X.iloc[::3, 1] = "unknown"  # a column of numbers and a string
    model = MixedAsStrings().fit(X)
    old = MixedAsStrings().fit(X)
    old.mixed_ = list(X.columns[old.mixed_]) if known_by == "name" else old.mixed_
    del old.__dict__["strings_"]
    old = pickle.loads(pickle.dumps(old))
    assert old.mixed_ == model.mixed_ == [1]
    pd.testing.assert_frame_equal(old.transform(X), model.transform(X))


def test_a_median_imputer_pickled_before_copy(pmlb_root):
    """A MedianImputer pickled before its copy parameter (2026-12-05) had none, and its
    SimpleImputer was fitted with a DataFrame's column names: repr raised AttributeError
    and every transform warned "X does not have valid feature names"."""
    X = _churn_with_missing(pmlb_root).drop(columns="empty")
    model = MedianImputer().fit(X[:4000])
    old = MedianImputer().fit(X[:4000])
    del old.__dict__["copy"]
    old.imputer_ = SimpleImputer(strategy="median").fit(X[:4000])  # as it was: named
    old = pickle.loads(pickle.dumps(old))
    assert repr(old) == "MedianImputer()"  # copy=True: its SimpleImputer copied
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.testing.assert_array_equal(old.transform(X[4000:]), model.transform(X[4000:]))
    np.testing.assert_array_equal(old.get_feature_names_out(), X.columns)


@pytest.mark.parametrize("kind", ["scaled", "ordinal"])
@pytest.mark.parametrize("form", ["frame", "csr"])
def test_preprocessing_imputes_as_simple_imputer_did(kind, form, pmlb_root):
    X = _churn_with_missing(pmlb_root)
    X = X.astype({"state": "category"}) if form == "frame" else sp.csr_matrix(X.to_numpy(float))
    before = make_preprocessor(kind).set_params(num__medianimputer=SimpleImputer(strategy="median"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # a sparse empty column: dropped
        outputs = [pre.fit(X[:4000]).transform(X[4000:]) for pre in (make_preprocessor(kind), before)]
    got, expected = (out.toarray() if sp.issparse(out) else out for out in outputs)
    np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize(("kind", "copies"), [("scaled", 2.5), ("ordinal", 1.5)])
@pytest.mark.parametrize("form", ["array", "frame"])
def test_preprocessing_of_a_large_table_copies_it_once(kind, copies, form, pmlb_root):
    """Fitting the scaled preprocessing of an array took 3.1 times its memory, the
    ordinal one 2.3 times, and transforming a table 2 to 3 times: the selected columns
    were copied by the imputer, then by the scaler, then stacked. The imputer and the
    scaler now work in place on one copy, which is the output (the scaler's fit still
    takes a temporary); the caller's X, an array or a DataFrame whose memory pandas
    shares with the columns selected, is left as it was."""
    X = _churn_with_missing(pmlb_root).drop(columns="empty")
    X = X.iloc[np.random.default_rng(0).integers(0, len(X), 200_000)].reset_index(drop=True)
    X = X.to_numpy() if form == "array" else X.astype(float)
    before, size = X.copy(), X.shape[0] * X.shape[1] * 8
    preprocess = make_preprocessor(kind)
    tracemalloc.start()
    try:
        fitted = preprocess.fit_transform(X)
        fit_peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.reset_peak()
        again = preprocess.transform(X)
        transform_peak = tracemalloc.get_traced_memory()[1] - fitted.nbytes
    finally:
        tracemalloc.stop()
    assert fit_peak < copies * size
    assert transform_peak < 1.5 * size
    np.testing.assert_array_equal(fitted, again)
    if form == "array":
        np.testing.assert_array_equal(X, before)
    else:
        pd.testing.assert_frame_equal(X, before, check_exact=True)


@pytest.mark.parametrize(("kind", "copies"), [("ordinal", 1.5), ("native", 0.5)])
def test_converting_a_date_column_copies_no_other_column(kind, copies, pmlb_root):
    """A column to convert (dates as seconds, number text as floats) copied the whole
    numeric frame before: the numeric preprocessing took one copy more of the table."""
    X = _churn_with_missing(pmlb_root).drop(columns="empty")
    X = X.iloc[np.random.default_rng(0).integers(0, len(X), 200_000)].reset_index(drop=True)
    X = X.astype(float).assign(when=pd.Timestamp("2026-01-01") + pd.to_timedelta(
        np.arange(len(X)), "min"))
    before, size = X.copy(), X.shape[0] * X.shape[1] * 8
    tracemalloc.start()
    try:
        make_preprocessor(kind).fit_transform(X)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < copies * size
    pd.testing.assert_frame_equal(X, before, check_exact=True)


@parametrize_with_checks([MedianImputer()])
def test_median_imputer_is_sklearn_compatible(estimator, check):
    check(estimator)


def test_gradient_boosting_early_stopping_with_a_class_of_one_row(pmlb_root):
    """Early stopping's stratified validation split failed every fit whose training rows
    held a class of one row (a 2-row class in 3-fold CV) or more classes than validation
    rows; such a fit now stops on the training loss, and others are as before."""
    from sklearn.model_selection import StratifiedKFold, cross_val_score

    df = pd.read_csv(pmlb_root / "ecoli" / "ecoli.tsv.gz", sep="\t")
    rare = df["target"].value_counts().index[-1]
    df = df.drop(df.index[df["target"] == rare][2:])  # 2 rows of the rarest class left
    X, y = df.drop(columns="target"), df["target"]
    space = get_space("hist_gradient_boosting")
    params = {**space.default("classification"), "early_stopping": True, "max_iter": 50}
    model = space.build(params, "classification", random_state=0)
    scores = cross_val_score(model, X, y, cv=StratifiedKFold(3, shuffle=True, random_state=0),
                             error_score="raise")
    assert scores.mean() > 0.75
    common = y.isin(y.value_counts().index[:4])  # 30+ rows each: scikit-learn's own split
    fitted = model.fit(X[common], y[common])
    assert fitted[-1].validation_score_.size > 0 and fitted[-1].validation_fraction == 0.1


def test_linear_l1_penalty_fits_a_sparse_model(pmlb_root):
    """The linear space sets only l1_ratio (scikit-learn >= 1.8 semantics): with an older
    scikit-learn, which pyproject.toml allowed, 'l1' and 'elasticnet' silently fit l2."""
    import tomllib

    pyproject = tomllib.loads((Path(__file__).resolve().parents[2] / "pyproject.toml")
                              .read_text())
    assert "scikit-learn>=1.8" in pyproject["project"]["dependencies"]
    df = pd.read_csv(pmlb_root / "wine_recognition" / "wine_recognition.tsv.gz", sep="\t")
    X, y = df.drop(columns="target"), df["target"]
    zeros = {}
    for penalty in ("l2", "l1"):
        model = get_space("linear").build({"penalty": penalty, "C": 0.05}, "classification",
                                          random_state=0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            zeros[penalty] = int((model.fit(X, y)[-1].coef_ == 0).sum())
    assert zeros["l2"] == 0 and zeros["l1"] > 10, zeros


@pytest.mark.parametrize("name", ["random_forest", "extra_trees"])
@pytest.mark.parametrize(("scale", "offset"), [(1e-9, 0.0), (1.0, 1e9)])
def test_forests_fit_a_target_in_tiny_units_or_far_from_zero(name, scale, offset, pmlb_root):
    """scikit-learn's trees stop splitting below a target variance of 2.2e-16: on body
    fat in 1e-9 units, or shifted by 1e9, the forests predicted a constant (R² ~ 0)."""
    from sklearn.model_selection import cross_val_score

    df = pd.read_csv(pmlb_root / "560_bodyfat" / "560_bodyfat.tsv.gz", sep="\t")
    X, y = df.drop(columns="target"), df["target"] * scale + offset
    space = get_space(name)
    model = space.build({**space.default("regression"), "n_estimators": 16}, "regression",
                        random_state=0)
    assert cross_val_score(model, X, y, cv=3, scoring="r2").mean() > 0.9


@pytest.mark.parametrize(
    ("name", "cheap"),
    [("random_forest", {"n_estimators": 16}), ("mlp", {"max_epochs": 10, "width": 32})],
)
def test_random_state_makes_fits_reproducible(name, cheap, datasets):
    X, y, _ = datasets["classification"]
    space = get_space(name)
    params = {**space.default("classification"), **cheap}
    probas = [
        space.build(params, "classification", random_state=3).fit(X, y).predict_proba(X)
        for _ in range(2)
    ]
    np.testing.assert_array_equal(probas[0], probas[1])


@parametrize_with_checks([ClippedKNeighborsClassifier(), ClippedKNeighborsRegressor()])
def test_knn_wrappers_are_sklearn_compatible(estimator, check):
    check(estimator)


def test_knn_clips_n_neighbors_to_training_size(datasets):
    X, y, _ = datasets["classification"]
    model = (
        get_space("knn")
        .build({"n_neighbors": 64, "weights": "uniform", "p": 2}, "classification")
        .fit(X[:10], y[:10])
    )
    assert model[-1].estimator_.n_neighbors == 10
    assert model.predict_proba(X[:3]).shape == (3, len(model.classes_))


# ------------------------------------------------------------------------- conditions
def test_conditions_and_activity():
    svm = get_space("svm")
    assert svm.conditions["degree"] == ("kernel", ("poly",))
    linear_cfg = {"C": 2.0, "kernel": "linear", "gamma": 0.5, "degree": 3}
    assert not svm.is_active("gamma", linear_cfg)
    assert svm.active(linear_cfg) == {"C": 2.0, "kernel": "linear"}
    assert svm.check_params(linear_cfg, "classification") == {"C": 2.0, "kernel": "linear"}
    assert svm.is_active("degree", {"kernel": "poly"})
    assert not svm.is_active("degree", {})
    mlp = get_space("mlp")
    assert not mlp.is_active("skip", {"n_layers": 1})
    assert mlp.is_active("skip", {"n_layers": 3})


def test_activity_through_nested_conditions_keeps_booleans_apart_from_numbers():
    # combined space: "random_forest__max_samples" needs space == random_forest AND
    # bootstrap is True (True == 1 in Python, but 1 is not the choice True)
    combined = get_space("all")
    child = "random_forest__max_samples"
    on = {"space": "random_forest", "random_forest__bootstrap": True}
    assert combined.is_active(child, on)
    assert not combined.is_active(child, {**on, "space": "svm"})  # parent inactive
    assert not combined.is_active(child, {**on, "random_forest__bootstrap": 1})
    assert not combined.is_active(child, {**on, "random_forest__bootstrap": [True]})
    assert not combined.is_active(child, {"random_forest__bootstrap": True})  # no family


def test_sampling_respects_conditions():
    svm = get_space("svm")
    for params in _sample_configs(svm, "regression", 40):
        assert ("gamma" in params) == (params["kernel"] != "linear")
        assert ("degree" in params) == (params["kernel"] == "poly")
        assert ("coef0" in params) == (params["kernel"] in ("poly", "sigmoid"))
        assert "epsilon" in params
    for params in _sample_configs(svm, "classification", 10):
        assert "epsilon" not in params


# --------------------------------------------------------------------------- encoding
def test_encoding_layout_and_values():
    svm = get_space("svm")
    names = svm.encoded_names
    assert names[:6] == [
        "C",
        "kernel=rbf",
        "kernel=poly",
        "kernel=sigmoid",
        "kernel=linear",
        "gamma",
    ]
    assert "gamma:active" in names and "epsilon:active" in names and "C:active" not in names
    vec = dict(zip(names, svm.encode({"C": 1.0, "kernel": "linear"}), strict=True))
    assert vec["C"] == pytest.approx(0.5)  # 1.0 is the log-midpoint of [1e-3, 1e3]
    assert vec["kernel=linear"] == 1.0 and vec["kernel=rbf"] == 0.0
    assert vec["gamma"] == 0.0 and vec["gamma:active"] == 0.0
    assert vec["epsilon:active"] == 0.0
    full = dict(
        zip(
            names,
            svm.encode(
                {
                    "C": 1e3,
                    "kernel": "poly",
                    "gamma": 1e-4,
                    "degree": 5,
                    "coef0": 0.0,
                    "epsilon": 0.1,
                }
            ),
            strict=True,
        )
    )
    assert full["C"] == 1.0 and full["gamma"] == 0.0 and full["gamma:active"] == 1.0
    assert full["degree"] == 1.0 and full["coef0"] == 0.5 and full["epsilon:active"] == 1.0
    np.testing.assert_array_equal(
        svm.encode({"kernel": "rbf", "C": 1.0, "gamma": 0.1}),
        svm.encode({"C": 1.0, "gamma": 0.1, "kernel": "rbf"}),
    )


def test_encoding_of_booleans_and_inactive_children():
    rf = get_space("random_forest")
    on = rf.encode({**rf.default("classification")})
    off = rf.encode({**rf.default("classification"), "bootstrap": False})
    assert on[rf.encoded_names.index("bootstrap=True")] == 1.0
    assert off[rf.encoded_names.index("max_samples:active")] == 0.0
    assert off[rf.encoded_names.index("bootstrap=True")] == 0.0


def test_encode_rejects_bad_input():
    svm = get_space("svm")
    with pytest.raises(ValueError, match=r"unknown parameter\(s\) \['foo'\]"):
        svm.encode({"C": 1.0, "kernel": "linear", "foo": 1})
    with pytest.raises(ValueError, match="'C' is required"):
        svm.encode({"kernel": "linear"})
    with pytest.raises(ValueError, match=r"'gamma' got 100.0; accepted: float in \[0.0001, 10.0\]"):
        svm.encode({"C": 1.0, "kernel": "rbf", "gamma": 100.0})
    # inactive (a linear kernel has no gamma), an invalid value was accepted silently
    with pytest.raises(ValueError, match=r"'gamma' got 'banana'"):
        svm.encode({"C": 1.0, "kernel": "linear", "gamma": "banana"})
    linear = svm.encode({"C": 1.0, "kernel": "linear"})
    for left_out in (None, float("nan"), 0.5):  # how tables of configurations leave it out
        np.testing.assert_array_equal(
            svm.encode({"C": 1.0, "kernel": "linear", "gamma": left_out}), linear)


# ---------------------------------------------------------------------- bad parameters
@pytest.mark.parametrize(
    ("name", "params", "task", "message"),
    [
        (
            "svm",
            {"C": 1.0, "kernel": "rbf", "gamma": 0.1, "foo": 3},
            "classification",
            r"unknown parameter\(s\) \['foo'\].*accepted: \['C', 'kernel'",
        ),
        (
            "svm",
            {"C": 1.0, "kernel": "linear", "epsilon": 0.1},
            "classification",
            r"unknown parameter\(s\) \['epsilon'\] for task='classification'",
        ),
        (
            "svm",
            {"C": 1e9, "kernel": "linear"},
            "classification",
            r"'C' got 1000000000.0; accepted: float in \[0.001, 1000.0\] \(log scale\)",
        ),
        (
            "svm",
            {"C": 1.0, "kernel": "cubic"},
            "classification",
            r"'kernel' got 'cubic'; accepted: one of \['rbf', 'poly', 'sigmoid', 'linear'\]",
        ),
        ("svm", {"C": "big", "kernel": "linear"}, "classification", r"'C' got 'big'"),
        ("svm", {"C": float("nan"), "kernel": "linear"}, "classification", r"'C' got nan"),
        (
            "svm",
            {"C": 1.0, "kernel": "poly", "gamma": 0.1, "coef0": 0.0},
            "classification",
            r"missing active parameter\(s\) \['degree'\].*int in \[2, 5\]",
        ),
        (
            "knn",
            {"n_neighbors": 2.5, "weights": "uniform", "p": 2},
            "regression",
            r"'n_neighbors' got 2.5; accepted: int in \[1, 64\]",
        ),
        (
            "knn",
            {"n_neighbors": True, "weights": "uniform", "p": 2},
            "regression",
            r"'n_neighbors' got True",
        ),
        (
            "random_forest",
            {**get_space("random_forest").default("regression"), "bootstrap": 1},
            "regression",
            r"'bootstrap' got 1; accepted: one of \[True, False\]",
        ),
        (
            "mlp",
            {**get_space("mlp").default("regression"), "n_layers": 0},
            "regression",
            r"'n_layers' got 0; accepted: int in \[1, 4\]",
        ),
    ],
)
def test_check_params_rejects_bad_input(name, params, task, message):
    space = get_space(name)
    with pytest.raises(ValueError, match=message):
        space.check_params(params, task)
    with pytest.raises(ValueError, match=message):
        space.build(params, task)


def test_check_params_canonicalises_types_and_rejects_bad_task():
    knn = get_space("knn")
    checked = knn.check_params(
        {"n_neighbors": np.int64(7), "weights": "distance", "p": 1.0}, "regression"
    )
    assert checked == {"n_neighbors": 7, "weights": "distance", "p": 1}
    assert type(checked["n_neighbors"]) is int
    rf = get_space("extra_trees")  # values read back from a table come as numpy scalars
    from_table = {**rf.default("regression"), "bootstrap": np.True_, "max_samples": np.float32(0.5)}
    assert rf.check_params(from_table, "regression")["bootstrap"] is True
    with pytest.raises(ValueError, match=r"task must be one of .* got 'ranking'"):
        knn.check_params(checked, "ranking")
    with pytest.raises(TypeError, match="params must be a mapping"):
        knn.check_params([("p", 1)], "regression")


def test_docs_list_every_space_and_parameter():
    docs = (Path(__file__).resolve().parents[2] / "docs" / "spaces.md").read_text()
    for name in REQUIRED:
        space = get_space(name)
        assert f"`{name}`" in docs and f"`n_encoded = {space.n_encoded}`" in docs
        for p in space.params:
            assert f"| `{p.name}` |" in docs


def test_median_imputer_on_threads_leaves_the_warning_filters_alone(pmlb_root):
    """fit silenced numpy's all-NaN warning with warnings.catch_warnings, which is not
    thread-safe: fits on threads (n_jobs threads, the knowledge base's threading
    backend) left an "ignore RuntimeWarning" filter behind for the whole process."""
    import threading

    X = _churn_with_missing(pmlb_root).to_numpy(float)[:300]
    before = list(warnings.filters)

    def fit_many():
        for _ in range(100):
            MedianImputer().fit(X)

    threads = [threading.Thread(target=fit_many) for _ in range(8)]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        after = list(warnings.filters)[1:]  # without the test's own "always"
    assert after == before
    assert not [w for w in caught if issubclass(w.category, RuntimeWarning)]
    assert np.isnan(MedianImputer().fit(X).imputer_.statistics_[-1])  # the empty column


def test_build_accepts_none_or_nan_for_inactive_parameters_as_in_trials_dataframe():
    """A row of study.trials_dataframe() has NaN for every parameter its trial did not
    suggest; build refused it ("'degree' got nan") although encode accepted it."""
    svm = get_space("svm")
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    study.optimize(lambda t: svm.sample(t, "classification")["C"], n_trials=12)
    rows = study.trials_dataframe(attrs=("params",)).rename(columns=lambda c: c[7:])
    assert rows.isna().any().any()  # some trials left parameters out
    for trial, (_, row) in zip(study.trials, rows.iterrows(), strict=True):
        assert svm.check_params(row.to_dict(), "classification") == trial.params
    for left_out in (None, float("nan")):
        assert svm.check_params({"C": 1.0, "kernel": "linear", "gamma": left_out},
                                "classification") == {"C": 1.0, "kernel": "linear"}
    with pytest.raises(ValueError, match=r"'gamma' got None; accepted: float"):
        svm.check_params({"C": 1.0, "kernel": "rbf", "gamma": None}, "classification")



def test_build_accepts_pd_na_for_inactive_parameters_of_a_nullable_trials_dataframe():
    """``trials_dataframe().convert_dtypes()`` (or a CSV read back with nullable dtypes)
    holds ``pd.NA`` where a trial suggested nothing, a float32 column ``np.float32`` NaN:
    both were refused ("'degree' got <NA>"), and ``pd.NA`` for a choice failed in
    ``bool(pd.NA == 'rbf')``."""
    svm = get_space("svm")
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    study.optimize(lambda t: svm.sample(t, "classification")["C"], n_trials=12)
    rows = study.trials_dataframe(attrs=("params",)).rename(columns=lambda c: c[7:])
    nullable = rows.convert_dtypes()
    assert nullable.isna().any().any() and str(nullable["degree"].dtype) == "Int64"
    for trial, (_, row) in zip(study.trials, nullable.iterrows(), strict=True):
        assert svm.check_params(dict(row), "classification") == trial.params
    for left_out in (pd.NA, np.float32("nan")):
        assert svm.check_params({"C": 1.0, "kernel": "linear", "gamma": left_out},
                                "classification") == {"C": 1.0, "kernel": "linear"}
    with pytest.raises(ValueError, match=r"'kernel' got <NA>; accepted: one of"):
        svm.check_params({"C": 1.0, "kernel": pd.NA}, "classification")

def test_own_space_honours_the_step_of_its_distributions(stepped_space):
    """A user's space with stepped distributions: sample ignored the step (k=7 from
    IntDistribution(2, 10, step=2)) and check_params accepted values off it."""
    space = stepped_space
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    sampled = []
    study.optimize(lambda t: sampled.append(space.sample(t, "regression")) or 0.0, n_trials=20)
    assert {p["k"] for p in sampled} <= {2, 4, 6, 8, 10}
    assert {p["alpha"] for p in sampled} <= {0.0, 0.25, 0.5, 0.75, 1.0}
    assert space.check_params({"alpha": 0.75, "k": 10.0}, "regression") == {"alpha": 0.75, "k": 10}
    with pytest.raises(ValueError, match=r"'k' got 3; accepted: int in \[2, 10\] in steps of 2"):
        space.check_params({"alpha": 0.5, "k": 3}, "regression")
    with pytest.raises(ValueError, match=r"'alpha' got 0.3; accepted: float in \[0.0, 1.0\] in "
                                         r"steps of 0.25"):
        space.check_params({"alpha": 0.3, "k": 4}, "regression")
    # the registered spaces have no step: their ints still take every value
    assert get_space("svm").check_params({"C": 1.0, "kernel": "poly", "gamma": 0.1, "degree": 3,
                                          "coef0": 0.0}, "classification")["degree"] == 3


def test_get_space_of_no_name_says_it_takes_a_str():
    """A list of names failed with "unhashable type: 'list'"."""
    with pytest.raises(TypeError, match=r"takes a space's name, a str, got list \(a list of "
                                        r"names: 'svm\+knn'\)"):
        get_space(["svm", "knn"])
    with pytest.raises(TypeError, match="got SearchSpace; a SearchSpace is used as it is"):
        get_space(get_space("svm"))
    with pytest.raises(TypeError, match="got NoneType"):
        get_space(None)
    assert get_space(" svm + knn ") is get_space("svm+knn")


def test_spaces_and_params_are_hashable():
    """Frozen records whose hash failed ("unhashable type: 'dict'", the task_defaults):
    a space could not key a dict nor be an lru_cache argument."""
    rf, svm = get_space("random_forest"), get_space("svm")
    assert len({rf, svm, get_space("all"), get_space("random_forest")}) == 3
    assert hash(rf.params[1]) == hash(get_space("extra_trees").params[1])
    own = SearchSpace(name="my_svm", params=svm.params, build_model=svm.build_model)
    assert own != svm and {own, svm} == {svm, own}


def test_docs_own_space_snippet_runs():
    """docs/spaces.md said nothing on how to define a space of one's own."""
    import sys
    import types

    docs = (Path(__file__).resolve().parents[2] / "docs" / "spaces.md").read_text()
    code = docs.split("<!-- own-space -->\n```python\n", 1)[1].split("```", 1)[0]
    module = types.ModuleType("own_space_snippet")
    sys.modules[module.__name__] = module  # its build_model pickles by reference
    try:
        exec(compile(code, "docs/spaces.md", "exec"), module.__dict__)
        both, space = module.both, module.my_space
        assert both.tasks == ("regression",)
        X = np.random.default_rng(0).normal(size=(40, 3))
        y = X @ [1.0, 2.0, 0.0]
        assert module.model.fit(X, y).score(X, y) > 0.5
        params = space.sample(optuna.trial.FixedTrial({"kind": "lasso", "alpha": 0.1}),
                              "regression")
        fitted = pickle.loads(pickle.dumps(space.build(params, "regression").fit(X, y)))
        assert fitted.named_steps["model"].__class__.__name__ == "Lasso"
        assert pickle.loads(pickle.dumps(space)) == space
    finally:
        del sys.modules[module.__name__]


def _build_tree(params, task, random_state):  # module level: the space pickles
    from sklearn.tree import DecisionTreeClassifier

    return DecisionTreeClassifier(**params, random_state=random_state)


def test_own_space_keeps_a_none_choice_also_from_trials_dataframe(datasets):
    """None is a choice of many scikit-learn parameters (``max_depth=None``): check_params
    dropped it as a parameter left out, so build failed with KeyError 'max_depth' for the
    default and every trial that sampled it; ``trials_dataframe()`` shows it as NaN."""
    from optuna.distributions import CategoricalDistribution, IntDistribution

    from metaopt.spaces import Param

    space = SearchSpace(name="tree", params=(
        Param("max_depth", CategoricalDistribution((None, 2, 8)), None),
        Param("min_samples_leaf", IntDistribution(1, 10), 1),
    ), build_model=_build_tree, preprocessing="ordinal", tasks=("classification",))
    X, y, _ = datasets["classification"]
    assert space.check_params(space.default("classification"), "classification") == {
        "max_depth": None, "min_samples_leaf": 1}
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    study.optimize(lambda t: space.build(space.sample(t, "classification"), "classification",
                                         random_state=0).fit(X, y).score(X, y), n_trials=10)
    assert {t.params["max_depth"] for t in study.trials} == {None, 2, 8}
    rows = study.trials_dataframe(attrs=("params",)).rename(columns=lambda c: c[7:])
    for trial, (_, row) in zip(study.trials, rows.iterrows(), strict=True):
        assert space.check_params(row.to_dict(), "classification") == trial.params
    assert space.encode({"max_depth": float("nan"), "min_samples_leaf": 1})[0] == 1


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"preprocessing": "standard"}, r"preprocessing must be one of \('scaled', 'ordinal', "
                                    r"'native'\), got 'standard'"),
    ({"tasks": ("clf",)}, r"tasks must be a non-empty tuple \(or list\) of "
                          r"\('classification', 'regression'\), got \('clf',\)"),
    ({"tasks": "regression"}, r"tasks must be a non-empty tuple \(or list\) of .*, got "
                              r"'regression'"),
    ({"condition": ("penalty", "l1")}, r"condition of 'alpha' must be \(parent, tuple of the "
                                       r"parent's values\), got \('penalty', 'l1'\)"),
])
def test_own_space_is_checked_when_made(kwargs, message):
    """A mistyped preprocessing failed only in build; tasks=("clf",) or "regression" (its
    substrings were tasks) and a condition's values as a str (its letters were the values:
    "got 'l'") were taken."""
    condition = kwargs.pop("condition", None)
    params = (cat_param("penalty", ("l1", "l2"), "l1"),
              float_param("alpha", 0.1, 1.0, 0.5, condition=condition))
    with pytest.raises(ValueError, match=rf"^mine: {message}$"):
        SearchSpace(name="mine", params=params, build_model=_build_tree, **kwargs)


def test_own_space_takes_its_tasks_as_a_list():
    """tasks=["classification"], as a user may write it, was refused by the check above
    when it came (a tuple only)."""
    params = (cat_param("penalty", ("l1", "l2"), "l1", tasks=["classification"]),)
    space = SearchSpace(name="mine", params=params, build_model=_build_tree,
                        tasks=["classification"])
    assert space.tasks == ("classification",) and space.params[0].tasks == ("classification",)
    assert space.default("classification") == {"penalty": "l1"}
    with pytest.raises(ValueError, match="task must be one of"):
        space.default("regression")


@pytest.mark.parametrize("name", ["hist_gradient_boosting", "random_forest", "svm"])
def test_a_model_fitted_on_categories_predicts_an_array_by_position(name, datasets):
    """Fitted on a DataFrame with categorical columns, ``predict(X.to_numpy())`` (as SHAP's
    and LIME's explainers call it) failed with "'numpy.ndarray' object has no attribute
    'dtypes'"; scikit-learn reads an array by position, with a warning."""
    X, y, _ = datasets["classification"]
    assert (X.dtypes == "category").any()
    space = get_space(name)
    model = space.build(space.default("classification"), "classification",
                        random_state=0).fit(X, y)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "X does not have valid feature names")
        by_position = model.predict(X.to_numpy())
    np.testing.assert_array_equal(by_position, model.predict(X))


def test_combining_spaces_without_a_common_task_names_their_tasks():
    """The combination of a classification-only and a regression-only space was made with
    no task, and every method then refused every task ("task must be one of ()")."""
    def only(task):
        return SearchSpace(name=task[:3], params=(cat_param("k", ("x", "y"), "x"),),
                           build_model=_build_tree, tasks=(task,))

    with pytest.raises(ValueError, match=r"^member spaces share no task: cla "
                                         r"\('classification',\), reg \('regression',\)$"):
        combine([only("classification"), only("regression")])
