"""MetaMLP*'s ``search_rows``: the trials train on a sample of a large table's rows, the
best is refitted on all of them or on as many as the time budget allows, as
MetaOptClassifier's (tests/estimators/test_search_rows.py)."""

from __future__ import annotations

import re
import time
import warnings

import numpy as np
import pytest
import torch
from _small_prior import small_prior
from sklearn.model_selection import GroupKFold
from sklearn.utils.estimator_checks import parametrize_with_checks

from metaopt import _rows
from metaopt.data import LocalSource
from metaopt.nas import MetaMLPClassifier, MetaMLPRegressor, MLPClassifier, _estimators
from metaopt.nas._search import FoldTrainer, refit_seconds

FAST = dict(n_trials=2, cv=3, max_epochs=2, n_prior_trials=2, pruner="none", random_state=0,
            prior=small_prior())  # (small networks: what is counted is rows)


@pytest.fixture(scope="module")
def magic(pmlb_root):
    data = LocalSource(pmlb_root).load("magic", "classification")  # 19,020 rows
    return data.X.to_numpy(dtype=float), data.y.to_numpy()


@pytest.fixture
def seen(monkeypatch) -> dict:
    """Rows of the trainer's folds (training + validation, per fold) and of the refit."""
    seen: dict = {}

    class Counting(FoldTrainer):
        def __init__(self, X, y, *args, **kwargs):
            super().__init__(X, y, *args, **kwargs)
            seen["fold rows"] = [len(f.x_tr) + len(f.x_val) for f in self.folds]

    class CountingMLP(MLPClassifier):
        def fit(self, X, y, sample_weight=None):
            seen["refit rows"] = len(X)
            return super().fit(X, y, sample_weight)

    monkeypatch.setattr(_estimators, "FoldTrainer", Counting)
    monkeypatch.setattr(MetaMLPClassifier, "_final_model",
                        lambda self, **params: CountingMLP(**params))
    return seen


def test_trials_train_on_the_sample_and_the_best_is_refitted_on_every_row(magic, seen):
    X, y = magic
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # no refit on fewer rows
        model = MetaMLPClassifier(**FAST, search_rows=600).fit(X, y)
    assert model.search_rows_ == 600  # stratified, exactly that many (largest remainder)
    assert seen["fold rows"] == [600] * 3
    assert seen["refit rows"] == model.refit_rows_ == len(y)
    assert model.score(X, y) > 0.7


def test_without_sampling_every_row_is_searched(pmlb_root, seen):
    data = LocalSource(pmlb_root).load("wine_recognition")
    model = MetaMLPClassifier(**FAST, time_budget=30).fit(data.X, data.y)  # auto: 178 < 15,000
    assert model.search_rows_ == model.refit_rows_ == 178
    assert seen["fold rows"] == [178] * 3 and seen["refit rows"] == 178


def test_auto_samples_500_rows_per_second_of_budget(magic, seen, monkeypatch):
    monkeypatch.setattr(_rows, "AUTO_ROWS_MIN", 1000)  # (10,000 would need a 20 s budget)
    X, y = magic
    budget = 4.0
    start = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = MetaMLPClassifier(n_trials=None, time_budget=budget, max_epochs=20,
                                  random_state=0).fit(X, y)
    assert time.perf_counter() - start <= 1.1 * budget + 1.0
    assert model.search_rows_ == 2000 and seen["fold rows"] == [2000] * 3  # cv=3
    assert model.search_rows_ <= model.refit_rows_ == seen["refit rows"] <= len(y)
    said = [w for w in caught if "left time to refit" in str(w.message)]
    assert len(said) == (model.refit_rows_ < len(y))


def test_a_refit_the_time_left_cannot_take_on_every_row_takes_fewer_and_says_so(
        magic, seen, monkeypatch):
    """A refit of the best estimated to take 1e6 s on the sample: the time left allows no
    more than the sample's rows."""
    monkeypatch.setattr(_estimators, "refit_seconds", lambda *args: 1e6)
    X, y = magic
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = MetaMLPClassifier(**FAST, time_budget=60, search_rows=500).fit(X, y)
    assert seen["refit rows"] == model.refit_rows_ == model.search_rows_ == 500
    said = [w for w in caught if "left time to refit" in str(w.message)]
    assert [str(w.message) for w in said] == [
        f"time_budget=60 s left time to refit the best configuration on "
        f"{model.refit_rows_:,} of the 19,020 rows (the trials saw {model.search_rows_:,}); "
        "give more time to fit on all of them"]
    assert said[0].filename == __file__  # at the caller's line
    assert set(model.predict(X)) <= set(model.classes_)


def test_the_refit_estimate_is_per_row(pmlb_root):
    data = LocalSource(pmlb_root).load("wine_recognition")
    y = data.y.to_numpy() - 1
    splits = MetaMLPClassifier(cv=2)._splits(y, 0)
    trainer = FoldTrainer(data.X.to_numpy(dtype=float), y, "classification", splits,
                          torch.device("cpu"), 0)
    on_sample = refit_seconds(trainer, 2.0, 2, 3)
    assert refit_seconds(trainer, 2.0, 2, 3, rows=10 * 178) == pytest.approx(10 * on_sample)


def test_groups_and_weights_are_sampled_with_the_rows(magic, seen):
    X, y = magic
    groups = np.arange(len(y)) % 50
    weights = np.where(y == y[0], 2.0, 1.0)
    model = MetaMLPClassifier(**{**FAST, "cv": GroupKFold(3)}, search_rows=400).fit(
        X, y, sample_weight=weights, groups=groups)
    assert model.search_rows_ == 400 and seen["fold rows"] == [400] * 3
    assert model.refit_rows_ == seen["refit rows"] == len(y)
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        MetaMLPClassifier(**{**FAST, "cv": GroupKFold(3)}, search_rows=400).fit(
            X, y, groups=groups[:-1])


@pytest.mark.parametrize("value", [1, 0, True, "all", 2.5])
def test_bad_search_rows_are_refused_as_by_the_estimators(value):
    with pytest.raises(ValueError, match=re.escape(
            f"search_rows must be 'auto', None or an int >= 2, got {value!r}")):
        MetaMLPRegressor(n_trials=1, search_rows=value).fit(np.ones((10, 2)), np.arange(10.0))


TINY = dict(n_trials=1, cv=2, max_epochs=6, n_prior_trials=1, pruner="none", search_rows=20)


@parametrize_with_checks(
    # their fits draw among small networks: the checks need one that learns
    [MetaMLPClassifier(**TINY, prior=small_prior()),
     MetaMLPRegressor(**TINY, prior=small_prior())],
    expected_failed_checks=lambda est: {
        f"check_sample_weight_equivalence_on_{kind}_data": "CV folds and minibatches differ "
        "from those of repeated rows" for kind in ("dense", "sparse")})
def test_sklearn_compatible_when_sampling(estimator, check):
    check(estimator)
