"""``search_rows``: the trials cross-validate on a sample of a large table's rows, the
best is refitted on all of them or on as many as the time budget allows."""

from __future__ import annotations

import re
import time
import warnings
from types import SimpleNamespace

import numpy as np
import optuna
import pytest
from sklearn.model_selection import GroupKFold
from sklearn.utils.estimator_checks import parametrize_with_checks

from metaopt import MetaOptClassifier, MetaOptRegressor, _rows
from metaopt.data import LocalSource
from metaopt.estimators import _search
from metaopt.spaces import get_space


@pytest.fixture(scope="module")
def magic(pmlb_root):
    return LocalSource(pmlb_root).load("magic", "classification")  # 19,020 rows


def _rows_seen_by_trials(monkeypatch) -> list[int]:
    """The number of rows each trial's cross-validation gets."""
    seen: list[int] = []
    cv_score = _search.cv_score

    def counting(space, params, task, X, y, *args, **kwargs):
        seen.append(len(y))
        return cv_score(space, params, task, X, y, *args, **kwargs)

    monkeypatch.setattr(_search, "cv_score", counting)
    return seen


def test_trials_see_the_sample_and_the_best_is_refitted_on_every_row(magic, monkeypatch):
    seen = _rows_seen_by_trials(monkeypatch)
    model = MetaOptClassifier(n_trials=3, spaces="linear", cv=3, random_state=0,
                              search_rows=600, recheck=False).fit(magic.X, magic.y)
    # stratified, exactly that many (each class's share rounded down gave 599)
    assert seen == [model.search_rows_] * 3 and model.search_rows_ == 600
    assert model.refit_rows_ == len(magic.y)
    assert model.score(magic.X, magic.y) > 0.75
    assert (f"rows: the trials cross-validated on a sample of {model.search_rows_}; the best "
            "was refitted on 19,020 (all)") in model.summary()


def test_without_sampling_the_summary_says_nothing_of_rows(magic):
    rows = np.random.default_rng(0).choice(len(magic.y), 500, replace=False)
    model = MetaOptClassifier(n_trials=1, spaces="linear", cv=2, random_state=0).fit(
        magic.X.iloc[rows], magic.y.iloc[rows])
    assert model.search_rows_ == model.refit_rows_ == 500
    assert "rows:" not in model.summary()


def test_a_sampled_regression_ensemble_selects_on_the_sample(pmlb_root, monkeypatch):
    """Ensemble selection reads the out-of-fold predictions of the sample's rows; each
    member is refitted on every row."""
    data = LocalSource(pmlb_root).load("1028_SWD", "regression")  # 1,000 rows
    seen = _rows_seen_by_trials(monkeypatch)
    model = MetaOptRegressor(n_trials=4, spaces=["linear", "knn"], cv=3, random_state=0,
                             search_rows=300).fit(data.X, data.y)
    assert set(seen) == {300}
    assert model.refit_rows_ == 1000
    assert model.ensemble_["weight"].sum() == pytest.approx(1.0)
    assert model.score(data.X, data.y) > 0.3


def test_groups_and_weights_are_sampled_with_the_rows(magic):
    groups = np.arange(len(magic.y)) % 50
    weights = np.where(magic.y.to_numpy() == magic.y.iloc[0], 2.0, 1.0)
    model = MetaOptClassifier(n_trials=2, spaces="linear", cv=GroupKFold(3), random_state=0,
                              search_rows=400).fit(magic.X, magic.y, sample_weight=weights,
                                                   groups=groups)
    assert model.search_rows_ == 400 and model.refit_rows_ == len(magic.y)
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        MetaOptClassifier(n_trials=1, spaces="linear", cv=GroupKFold(3),
                          search_rows=400).fit(magic.X, magic.y, groups=groups[:-1])


@pytest.mark.parametrize(("budget", "n_rows", "expected"), [
    (None, 1_000_000, None),  # no budget: every row, however many
    (10, 9_000, None),  # at least 10,000 rows
    (10, 25_000, 10_000),
    (60, 25_000, None),  # 500 rows per second of budget
    (60, 100_000, 30_000),
])
def test_auto_samples_500_rows_per_second_of_budget(budget, n_rows, expected):
    y = np.arange(n_rows) % 3
    rows = MetaOptClassifier(time_budget=budget)._search_sample(y, seed=0)
    if expected is None:
        assert rows is None
    else:  # stratified (each class's share rounded down), sorted, distinct
        assert np.ptp(np.bincount(y[rows])) <= 1 and expected - 3 <= len(rows) <= expected
        assert np.all(np.diff(rows) > 0)


def _best(fit_time: float) -> SimpleNamespace:
    return SimpleNamespace(user_attrs={"fit_time": fit_time})


@pytest.mark.parametrize(("family", "left", "expected"), [
    ("linear", 15.0, 1000),  # 100 rows per 1.5 s: 1,000 in 15 s
    ("svm", 15.0, 316),  # quadratic: 100 * sqrt(10)
    ("linear", 0.0, 200),  # no time: the sample
    ("linear", 1e6, 5000),  # all of them
])
def test_the_refit_takes_the_rows_the_time_left_allows(family, left, expected):
    model = MetaOptRegressor(time_budget=60, random_state=0)
    model.best_family_ = family
    y = np.arange(5000.0)
    sample = np.arange(0, 5000, 25)  # 200 rows
    search = _search._SearchData(None, y[sample], {}, None, sample)
    refit = model._refit_data(np.arange(5000)[:, None], y, None, search, _best(1.0),
                              fold_rows=100.0, deadline=time.perf_counter() + left)
    assert len(refit.y) == pytest.approx(expected, abs=2)
    if refit.rows is not None:  # the sample and more
        assert np.isin(sample, refit.rows).all() and np.all(np.diff(refit.rows) > 0)


def test_a_budget_too_short_for_every_row_refits_on_fewer_and_says_so(magic, warm_workers):
    """A refit the time left cannot take on every row takes fewer, said by a warning and
    summary(). The workers start before the fit (``warm_workers``): their start, up to
    10 s on a loaded machine, took that much of the budget (8 s then: it failed at load
    ~7, and once with a 12 s budget)."""
    budget = 6.0
    start = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = MetaOptClassifier(spaces="svm", n_trials=None, time_budget=budget, cv=3,
                                  random_state=0, search_rows=1500).fit(magic.X, magic.y)
    elapsed = time.perf_counter() - start
    assert elapsed <= 1.1 * budget + 1.0, elapsed
    assert model.search_rows_ == 1500
    assert model.search_rows_ <= model.refit_rows_ <= len(magic.y)
    said = [str(w.message) for w in caught if "left time to refit" in str(w.message)]
    if model.refit_rows_ < len(magic.y):  # on a fast machine the refit may take them all
        assert said == [f"time_budget=6.0 s left time to refit the best configuration on "
                        f"{model.refit_rows_:,} of the 19,020 rows (the trials saw "
                        f"{model.search_rows_:,}); "
                        "give more time to fit on all of them"]
        assert "of 19,020 (time budget)" in " ".join(model.summary().split())  # wrapped
    else:
        assert said == []


@pytest.mark.parametrize("value", [1, 0, True, "all", 2.5])
def test_bad_search_rows_are_refused(value, magic):
    with pytest.raises(ValueError, match=re.escape(
            f"search_rows must be 'auto', None or an int >= 2, got {value!r}")):
        MetaOptClassifier(n_trials=1, search_rows=value).fit(magic.X, magic.y)


@parametrize_with_checks(
    [MetaOptClassifier(n_trials=2, spaces="linear", cv=2, random_state=0, search_rows=20),
     MetaOptRegressor(n_trials=3, spaces="linear", cv=2, random_state=0, search_rows=20)],
    expected_failed_checks=lambda est: {
        "check_sample_weight_equivalence_on_dense_data": "CV folds differ from repeated rows",
        "check_sample_weight_equivalence_on_sparse_data": "CV folds differ from repeated rows"},
)
def test_sklearn_compatible_when_sampling(estimator, check):
    check(estimator)


@pytest.mark.parametrize("random_state", [0, None])
def test_a_stored_search_on_a_sample_resumes(magic, tmp_path, random_state):
    """The sample is drawn from ``random_state`` or, without one, from the data, as the
    folds are: a fit resuming the stored study has its rows."""
    url = f"sqlite:///{tmp_path / 'search.db'}"
    settings = dict(spaces="linear", cv=3, random_state=random_state, storage=url,
                    search_rows=500)
    first = MetaOptClassifier(n_trials=2, **settings).fit(magic.X, magic.y)
    resumed = MetaOptClassifier(n_trials=3, **settings).fit(magic.X, magic.y)
    assert resumed.study_.study_name == first.study_.study_name
    assert len(resumed.study_.trials) == 3


def test_a_sampled_search_tries_the_default_configuration_first(magic):
    """The knowledge base's evaluations are of at most 2,000 rows: a search that samples
    a larger table starts from the library's defaults (histogram gradient boosting's
    for every family), then the portfolio's picks."""
    rows = np.random.default_rng(0).choice(len(magic.y), 3000, replace=False)
    X, y = magic.X.iloc[rows], magic.y.iloc[rows]  # the trials see 600 of its 3,000 rows
    model = MetaOptClassifier(n_trials=2, cv=3, random_state=0, search_rows=600,
                              recheck=False).fit(X, y)
    first = model.warm_start_.iloc[0]
    assert (first.trial, first.family, first.params) == (
        0, "hist_gradient_boosting", get_space("hist_gradient_boosting").default(
            "classification"))
    assert first.reason.startswith("the default configuration, first")
    assert model.warm_start_["reason"].iloc[1].startswith("portfolio pick 1")
    unsampled = MetaOptClassifier(n_trials=1, cv=3, random_state=0, recheck=False).fit(
        X.iloc[:600], y.iloc[:600])
    assert unsampled.warm_start_["reason"].iloc[0].startswith("portfolio pick 1")
    # one family: the sampler's first pick (a 351-tree random forest of every family's)
    # cost more than the rest of the test; without the sampler, linear's default goes first
    own = MetaOptClassifier(n_trials=1, cv=3, random_state=0, search_rows=600,
                            spaces="linear", recheck=False,
                            sampler=optuna.samplers.RandomSampler(seed=0)).fit(X, y)
    assert own.history_["reason"].iloc[0] == "RandomSampler (sampler=)"


def test_search_rows_fewer_than_the_classes_is_refused_by_name():
    # a sample cannot keep every class: sklearn's "n_splits=2 cannot be greater than
    # the number of members in each class" said nothing of search_rows
    X = np.random.default_rng(0).normal(size=(600, 3))
    y = np.repeat(np.arange(30), 20)
    with pytest.raises(ValueError, match="search_rows=10 is fewer than the 30 classes"):
        MetaOptClassifier(search_rows=10, n_trials=1, spaces="linear", cv=2).fit(X, y)


def test_auto_search_rows_fewer_than_the_classes_names_the_budget(monkeypatch):
    monkeypatch.setattr(_rows, "AUTO_ROWS_MIN", 5)
    monkeypatch.setattr(_rows, "AUTO_ROWS_PER_SECOND", 2)
    X = np.random.default_rng(0).normal(size=(600, 3))
    y = np.repeat(np.arange(30), 20)
    with pytest.raises(ValueError, match=re.escape(
            "search_rows='auto' (10 rows for time_budget=5 s) is fewer than the 30 classes")):
        MetaOptClassifier(time_budget=5, spaces="linear", cv=2).fit(X, y)
