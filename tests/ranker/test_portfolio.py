"""Greedy portfolios on a hand-made matrix and on the real TabRepo matrix."""

from __future__ import annotations

import json
import re
import warnings

import numpy as np
import pandas as pd
import pytest

from metaopt.ranker import PerformanceMatrix, Portfolio, greedy_order, normalized_regret


def test_greedy_order_prefers_complementary_configs():
    # c0 is good on average; c1 and c2 are each perfect on half of the tasks
    regret = np.array([[0.3, 0.0, 1.0], [0.3, 0.0, 1.0], [0.3, 1.0, 0.0], [0.3, 1.0, 0.0]])
    assert greedy_order(regret, 1) == [0]
    assert greedy_order(regret, 3) == [0, 1, 2]
    assert greedy_order(regret, 2, chosen=[1]) == [2, 0]  # after c1, c2 covers the rest
    weights = np.array([1.0, 1.0, 0.0, 0.0])
    assert greedy_order(regret, 1, weights=weights) == [1]


def test_normalized_regret_handles_failures_and_missing():
    scores = np.array([[0.9, 0.5, -np.inf, np.nan], [1.0, 1.0, 1.0, 1.0]])
    regret = normalized_regret(scores)
    assert regret[0, :3].tolist() == [0.0, 1.0, 1.0]
    assert np.isnan(regret[0, 3])
    assert regret[1].tolist() == [0.0, 0.0, 0.0, 0.0]


def test_portfolio_on_tabrepo_beats_random_order(tabrepo_matrix, split):
    train, test = split
    portfolio = Portfolio().fit(tabrepo_matrix.subset(train))
    picks = portfolio.suggest(5)
    assert list(picks.columns[:3]) == ["config_id", "params", "expected_regret"]
    assert picks["expected_regret"].is_monotonic_decreasing
    regret = tabrepo_matrix.subset(test).regret()
    cols = [list(tabrepo_matrix.configs.index).index(c) for c in picks["config_id"]]
    best_portfolio = regret[:, cols].min(axis=1).mean()
    rng = np.random.default_rng(0)
    best_random = np.mean([regret[:, rng.choice(regret.shape[1], 5, replace=False)].min(axis=1).mean()
                           for _ in range(200)])
    assert best_portfolio < best_random


def test_nearest_datasets_and_round_trip(tabrepo_matrix, tmp_path):
    portfolio = Portfolio(n_neighbors=10).fit(tabrepo_matrix)
    mf = tabrepo_matrix.metafeatures.iloc[0]
    near = portfolio.neighbors(mf, 3)
    assert near["dataset"].iloc[0] == tabrepo_matrix.tasks.index[0]
    assert near["distance"].iloc[0] == pytest.approx(0.0, abs=1e-9)
    assert portfolio.task_weights(mf).sum() == 10
    path = portfolio.save(tmp_path / "p.json")
    loaded = Portfolio.load(path)
    pd.testing.assert_frame_equal(loaded.suggest(4, mf), portfolio.suggest(4, mf), atol=1e-4)
    data = json.loads(path.read_text())
    data["format"] = "something-else"
    path.write_text(json.dumps(data))
    with pytest.raises(ValueError, match="not a metaopt portfolio"):
        Portfolio.load(path)


def test_a_portfolio_file_whose_parts_disagree_in_size_is_refused(tabrepo_matrix, tmp_path):
    """A portfolio.json edited after saving (a configuration fewer than regret columns)
    loaded, and suggest failed with a raw IndexError."""
    path = Portfolio().fit(tabrepo_matrix).save(tmp_path / "p.json")
    for field in ("config_ids", "task_keys", "task_vectors"):
        data = json.loads(path.read_text())
        data[field] = data[field][:-1]
        edited = tmp_path / f"{field}.json"
        edited.write_text(json.dumps(data))
        with pytest.raises(ValueError, match="parts disagree in size"):
            Portfolio.load(edited)


def test_matrix_from_frame_errors(tabrepo_matrix):
    frame = pd.DataFrame({"space": ["a"], "dataset_key": ["d"], "config_id": ["c"],
                          "cv_score": [1.0], "status": ["ok"], "design_id": [None],
                          "config": ["{}"], "task": ["classification"]})
    with pytest.raises(ValueError, match="space 'b' has no evaluations"):
        PerformanceMatrix.from_frame(frame, "b")
    # a task the space lacks is named as such (it said the space had no evaluations)
    with pytest.raises(ValueError, match=r"no evaluations of task 'binary'; its tasks: "
                                         r"\['classification'\]"):
        PerformanceMatrix.from_frame(frame, "a", task="binary")
    with pytest.raises(ValueError, match="unknown task keys"):
        tabrepo_matrix.subset(["nope"])
    # a key given twice failed in pandas' reindexing, naming no task
    twice = list(tabrepo_matrix.tasks.index[:2]) * 2
    with pytest.raises(ValueError, match="given more than once"):
        tabrepo_matrix.subset(twice)
    with pytest.raises(ValueError, match="n must be an integer >= 1"):
        Portfolio().fit(tabrepo_matrix).suggest(0)
    # fractional counts were a TypeError deep in the greedy loop, or at suggest time
    with pytest.raises(ValueError, match="n must be an integer >= 1, got 2.5"):
        Portfolio().fit(tabrepo_matrix).suggest(2.5)
    for bad in (2.5, 0, True):
        with pytest.raises(ValueError, match=r"n_neighbors \(or None\) must be an integer"):
            Portfolio(n_neighbors=bad).fit(tabrepo_matrix)


def test_more_neighbours_than_training_datasets_is_warned_about(tabrepo_matrix):
    """Portfolio(n_neighbors=30) on 6 datasets took all 6 as neighbours, a global
    portfolio, without a word."""
    six = tabrepo_matrix.subset(list(tabrepo_matrix.tasks.index[:6]))
    with pytest.warns(UserWarning, match=r"^n_neighbors=30 is not less than the 6 training "
                      r"datasets: every one is a neighbour, as with n_neighbors=None") as said:
        Portfolio(n_neighbors=30).fit(six)
    assert [w.filename for w in said] == [__file__]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        Portfolio(n_neighbors=5).fit(six)


def test_matrix_counts_negative_r2_as_zero():
    """A diverging SVR on the default knowledge base scores R^2 near -1e29 on every
    regression dataset: counted as 0, it leaves the other configurations their spread."""
    from metaopt.kb._card import load_default

    frame = load_default().to_frame()
    svm = frame[(frame["space"] == "svm") & (frame["task"] == "regression")]
    assert svm["cv_score"].min() < -1e6  # the real runs hold such scores
    matrix = PerformanceMatrix.from_frame(frame, "svm", task="regression")
    finite = matrix.scores[np.isfinite(matrix.scores)]
    assert finite.min() == 0.0 and finite.max() > 0.9
    assert np.median(matrix.regret()) > 0.05  # min-max regrets spread, not all about 0


def test_meta_features_the_training_datasets_lack_do_not_move_a_dataset(
        tabrepo_matrix, pmlb_root, tmp_path):
    """TabRepo has 12 of the 30 meta-features. pmlb's vehicle is TabRepo's task 190146;
    computed in full, its 18 others passed through the scaler unscaled: it was 5.48 from
    itself, and the ranker read them through weights it never trained."""
    from metaopt import metafeatures
    from metaopt.data.sources import LocalSource
    from metaopt.ranker import MetaFeatureScaler

    vehicle = LocalSource(pmlb_root).load("vehicle")
    mf = metafeatures.compute_dataset(vehicle, random_state=0)
    portfolio = Portfolio().fit(tabrepo_matrix)
    near = portfolio.neighbors(mf, 1)
    assert near["dataset"].iloc[0] == "openml-task/190146"
    assert near["distance"].iloc[0] < 0.01
    scaler = portfolio.scaler_
    assert scaler.flat_.sum() == 18 and (scaler.transform(mf)[0, scaler.flat_] == 0).all()
    # files saved before the flat features were recorded mark them by a scale of 1
    old = {k: v for k, v in scaler.to_dict().items() if k != "flat"}
    np.testing.assert_array_equal(MetaFeatureScaler.from_dict(old).transform(mf),
                                  scaler.transform(mf))


def test_configurations_none_of_the_tasks_evaluated_count_as_the_worst():
    """On the knowledge base's two regression datasets that lack one MLP configuration,
    that configuration (regret NaN everywhere) came first, every expected regret was NaN
    and the later picks were in index order."""
    from metaopt.kb._card import load_default

    matrix = PerformanceMatrix.from_frame(load_default().to_frame(), "all", task="regression")
    missing = np.isnan(matrix.scores)
    col = int(np.argmax(missing.sum(axis=0)))
    subset = matrix.subset(matrix.tasks.index[missing[:, col]])
    portfolio = Portfolio().fit(subset)
    assert (portfolio.regret_[:, col] == 1.0).all()
    picks = portfolio.suggest(3)
    assert matrix.configs.index[col] not in set(picks["config_id"])
    assert np.isfinite(picks["expected_regret"]).all()
    np.testing.assert_allclose(picks["expected_regret"].iloc[0], portfolio.regret_.mean(0).min())
    with pytest.raises(ValueError, match="no tasks"):
        Portfolio().fit(matrix.subset([]))


def test_best_on_names_only_datasets_that_evaluated_the_configuration(tmp_path):
    """A configuration evaluated on one dataset, where it was best, has an imputed regret
    of 0 on the others: it was reported as best on every dataset, also after saving."""
    scores = np.array([[0.9, 0.5, np.nan], [0.2, 0.8, 0.1], [0.3, 0.4, 0.6]])
    from metaopt.metafeatures import FEATURE_NAMES

    tasks = pd.DataFrame({"task": ["classification"] * 3}, index=["a", "b", "c"]).reindex(
        columns=["task", *(f"mf_{name}" for name in FEATURE_NAMES)])  # meta-features NaN
    configs = pd.DataFrame({"params": [{"x": i} for i in range(3)]}, index=["p", "q", "r"])
    sparse = Portfolio().fit(PerformanceMatrix("toy", tasks, configs, scores))
    picks = sparse.suggest(3).set_index("config_id")
    assert picks.loc["p", "best_on"] == ["a"]  # imputed 0 on b, not measured there
    assert picks.loc["r", "best_on"] == ["c"]
    again = Portfolio.load(sparse.save(tmp_path / "portfolio.json"))
    pd.testing.assert_frame_equal(again.suggest(3), sparse.suggest(3))
    assert again.restrict(lambda p: p["x"] != 1).evaluated_.tolist() == [
        [True, False], [True, True], [True, True]]


def test_matrix_from_a_frame_of_one_space_needs_no_space_name():
    """space was required even when the frame held only that space."""
    from metaopt.kb import load_default

    frame = load_default().to_frame()
    knn = frame[frame["space"] == "knn"]
    implied = PerformanceMatrix.from_frame(knn, task="classification")
    named = PerformanceMatrix.from_frame(knn, "knn", task="classification")
    assert implied.space == "knn"
    pd.testing.assert_frame_equal(implied.tasks, named.tasks)
    np.testing.assert_array_equal(implied.regret(), named.regret())
    with pytest.raises(ValueError, match=r"the frame holds \d+ spaces .*name one"):
        PerformanceMatrix.from_frame(frame)


def test_positions_and_regrets_of_another_shape_are_refused_saying_what_they_are(
        tabrepo_matrix):
    """expected_regret([0, 200]) raised numpy's "IndexError: index 200 is out of bounds
    for axis 1", expected_regret(["abc"]) "only integers, slices ... are valid indices",
    and greedy_order of one task's regrets "not enough values to unpack"."""
    portfolio = Portfolio().fit(tabrepo_matrix)
    n = len(portfolio.params_)
    for columns, bad in [([0, 200], 200), (["abc"], "abc"), ([True], True), ([-1], -1)]:
        with pytest.raises(ValueError, match=re.escape(
                f"columns are positions in params_, integers in [0, {n}), got {bad!r}")):
            portfolio.expected_regret(columns)
    assert portfolio.expected_regret([np.int64(0), 1]) == portfolio.expected_regret([0, 1])
    with pytest.raises(ValueError, match=re.escape(
            "regret must be 2-d (tasks x configurations), got shape (2,): for one task "
            "pass [regret]")):
        greedy_order(np.array([0.0, 1.0]), 1)
    assert greedy_order([[0.0, 1.0]], 1) == [0]
