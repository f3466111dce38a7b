"""metaopt.suggest: clear errors for arguments of the wrong kind, and a warning for
a column that looks like a row id."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import metaopt
from metaopt.data import LocalSource


@pytest.fixture(scope="module")
def wine(pmlb_root):
    return LocalSource(pmlb_root).load("wine_recognition")


@pytest.mark.parametrize("space", [None, ["svm", "knn"]])
def test_space_must_be_a_name(wine, space):
    """None failed with "argument of type 'NoneType' is not iterable"; a list, as
    MetaOptClassifier's spaces take, with "no shipped meta-model for space ['svm', 'knn']"."""
    with pytest.raises(TypeError, match=r"space must be a str .*'svm\+knn'"):
        metaopt.suggest(wine.X, wine.y, space=space)


def test_random_state_is_checked_as_a_seed(wine):
    """-1 failed in numpy with "Seed must be between 0 and 2**32 - 1", naming no argument."""
    with pytest.raises(ValueError, match=r"random_state must be None or an int in \[0, 2\*\*32"):
        metaopt.suggest(wine.X, wine.y, space="knn", random_state=-1)


def test_a_space_name_in_other_case_gets_a_suggestion(wine):
    """space="SVM" was refused without "did you mean 'svm'?" (difflib is case-sensitive)."""
    with pytest.raises(ValueError, match=r"no shipped meta-model for space 'SVM' .*did you "
                       r"mean 'svm'\?"):
        metaopt.suggest(wine.X, wine.y, space="SVM")
    with pytest.raises(ValueError, match=r"did you mean 'random_forest'\?"):
        metaopt.suggest(wine.X, wine.y, space="Random_Forests")


def test_a_column_that_looks_like_a_row_id_is_warned_about(pmlb_root, wine):
    """backache's first column, 'id', numbers its rows 1 to 180: suggest counted it as a
    feature (n_features and its statistics), so the nearest datasets and picks were off,
    without a word. It is kept (a year can be a feature) but warned about, with how to
    drop it; a string id and an unnamed row count too, and no real feature is named."""
    backache = LocalSource(pmlb_root).load("backache")
    with pytest.warns(UserWarning, match=r"backache: column 'id' \(180 distinct whole "
                      r"numbers from 1 to 180, named like an id\) looks like a row "
                      r"identifier.*drop it: X\.drop\(columns=\['id'\]\)$"):
        picks = metaopt.suggest(backache, space="knn", n=1)
    assert "180 x 32" in picks.attrs["summary"]
    X = wine.X.assign(PassengerId=[f"p{i}" for i in range(len(wine.X))],
                      row=np.arange(len(wine.X), 0, -1))
    with pytest.warns(UserWarning, match=r"columns 'PassengerId' \(178 distinct strings, "
                      r"named like an id\); 'row' \(178 distinct whole numbers from 1 to "
                      r"178\) look like row identifiers.*drop them: "
                      r"X\.drop\(columns=\['PassengerId', 'row'\]\)$"):
        metaopt.suggest(X, wine.y, space="knn", n=1)
    for X, y in ((backache.X.drop(columns="id"), backache.y), (wine.X, wine.y)):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            metaopt.suggest(X, y, space="knn", n=1)
        assert not [w for w in caught if "row identifier" in str(w.message)]


def test_a_sparse_matrix_is_not_made_dense_whole(pmlb_root):
    """suggest made a sparse X dense (a 50,000 x 100,000 TF-IDF matrix was refused as
    37 GiB); its meta-features now look at a dense sample of it only."""
    import tracemalloc

    from scipy import sparse

    wine = LocalSource(pmlb_root).load("wine_recognition")
    X = sparse.hstack([sparse.csr_matrix(wine.X.to_numpy(float))] * 2
                      + [sparse.csr_matrix((len(wine.y), 40_000))]).tocsr()  # 57 MB dense
    dense = metaopt.suggest(X.toarray(), wine.y, space="all", n=3)  # loads the meta-model
    tracemalloc.start()
    try:
        picks = metaopt.suggest(X, wine.y, space="all", n=3)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < X.shape[0] * X.shape[1] * 8 / 10
    assert picks.attrs["summary"] == dense.attrs["summary"]
    assert picks.attrs["summary"].startswith("user-data: classification, 178 x 40026;")
    assert list(picks["config_id"]) == list(dense["config_id"])


def test_picks_of_two_spaces_concatenate(wine, tmp_path):
    """.attrs["neighbors"] was a DataFrame: pd.concat and merge of two suggestions
    compare their attrs and failed with "The truth value of a DataFrame is ambiguous",
    and to_parquet could not write them."""
    import pandas as pd

    knn = metaopt.suggest(wine.X, wine.y, space="knn", n=2)
    svm = metaopt.suggest(wine.X, wine.y, space="svm", n=2)
    assert len(pd.concat([knn, svm])) == 4
    assert len(knn.merge(svm, on="config_id", how="outer")) == 4
    knn[["config_id", "expected_regret"]].to_parquet(tmp_path / "picks.parquet")
    nearest = knn.attrs["neighbors"]
    assert len(nearest) == 3 and list(nearest.values()) == sorted(nearest.values())
    assert all(f"{d} ({dist:.2f})" in knn.attrs["summary"] for d, dist in nearest.items())


def test_a_meta_model_of_the_wrong_kind_is_named(wine):
    """meta_model=3 failed with "expected str, bytes or os.PathLike object, not int"."""
    with pytest.raises(TypeError, match="meta_model must be a MetaModel or the directory "
                                        "of a saved one, got int"):
        metaopt.suggest(wine.X, wine.y, space="knn", meta_model=3)
