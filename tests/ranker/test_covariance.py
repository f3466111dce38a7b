"""ConfigCovariance and the MetaModel's blend with it, on real TabRepo tasks."""

from __future__ import annotations

import copy

import numpy as np
import pytest
from scipy.stats import spearmanr

from metaopt.ranker import MetaModel, normalized_regret
from metaopt.ranker._covariance import ConfigCovariance


def _held_out_regret(tabrepo_matrix, split):
    rows = [list(tabrepo_matrix.tasks.index).index(k) for k in split[1]]
    return tabrepo_matrix.scores[rows], tabrepo_matrix.regret()[rows]


def test_posterior_predicts_held_out_regret_better_than_the_prior_mean(tabrepo_matrix, split):
    """Ten evaluated configurations of an unseen task, in its own units (minus the
    error), move the prediction of the other 94 toward the task's true regret."""
    covariance = ConfigCovariance(tabrepo_matrix.subset(split[0]).regret())
    scores, regret = _held_out_regret(tabrepo_matrix, split)
    gains = []
    for i, (task_scores, task_regret) in enumerate(zip(scores, regret, strict=True)):
        seen = list(np.random.default_rng(i).choice(len(task_regret), 10, replace=False))
        rest = [j for j in range(len(task_regret)) if j not in seen]
        posterior = covariance.posterior_regret(seen, task_scores[seen])
        gains.append(spearmanr(posterior[rest], task_regret[rest])[0]
                     - spearmanr(covariance.mean_[rest], task_regret[rest])[0])
    assert np.mean(gains) > 0.1


def test_posterior_ignores_the_units_of_the_scores(tabrepo_matrix, split):
    covariance = ConfigCovariance(tabrepo_matrix.subset(split[0]).regret())
    scores, _ = _held_out_regret(tabrepo_matrix, split)
    seen = [3, 17, 60, 90]
    raw = covariance.posterior_regret(seen, scores[0][seen])
    rescaled = covariance.posterior_regret(seen, 100 * scores[0][seen] - 7)
    np.testing.assert_allclose(raw, rescaled, atol=1e-6)


def test_posterior_ignores_units_far_from_one(tabrepo_matrix):
    """TabRepo's regression tasks are scored in raw RMSE: on the widest (a span of
    3.5e5) the predicted regret stayed near [0, 1] only once the scores were divided
    by 1000; in raw units it ranged from -40 to 30."""
    span = np.nanmax(tabrepo_matrix.scores, axis=1) - np.nanmin(tabrepo_matrix.scores, axis=1)
    wide = int(np.argmax(span))
    assert span[wide] > 1e5
    others = [i for i in range(tabrepo_matrix.n_tasks) if i != wide]
    covariance = ConfigCovariance(tabrepo_matrix.regret()[others])
    seen = [3, 17, 60, 90]
    scores = tabrepo_matrix.scores[wide, seen]
    raw = covariance.posterior_regret(seen, scores)
    for factor in (1e-3, 37.0, 1e-6):
        np.testing.assert_allclose(covariance.posterior_regret(seen, factor * scores), raw,
                                   atol=1e-6)
    assert raw.min() > -0.5 and raw.max() < 1.5


def test_scores_that_differ_by_rounding_are_a_tie(tabrepo_matrix):
    """Once scores were standardised, two that differ by 1e-13 were scaled up into a full
    gap: the posterior equalled that of 0.9 against 0.95, and an exact tie gave a third."""
    covariance = ConfigCovariance(tabrepo_matrix.regret())
    tie = covariance.posterior_regret([0, 1], np.array([0.9, 0.9]))
    for nearly in (0.9 + 1e-13, 0.9 - 1e-13):
        np.testing.assert_allclose(covariance.posterior_regret([0, 1], np.array([0.9, nearly])),
                                   tie)
    gap = covariance.posterior_regret([0, 1], np.array([0.9, 0.95]))
    assert np.abs(gap - tie).max() > 0.05


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="n_datasets >= 2"):
        ConfigCovariance(np.zeros((1, 4)))
    with pytest.raises(ValueError, match="finite"):
        ConfigCovariance(np.array([[0.0, np.nan], [1.0, 0.0]]))
    covariance = ConfigCovariance(normalized_regret(np.random.default_rng(0).random((6, 5))))
    with pytest.raises(ValueError, match="at least two"):
        covariance.posterior_regret([1], np.array([0.3]))
    with pytest.raises(ValueError, match="covariance_weight must be >= 0"):
        MetaModel(None, covariance_weight=-1.0)


def test_meta_model_blends_the_covariance_after_two_portfolio_configs(
        small_meta_model, tabrepo_matrix, split, tmp_path):
    mf = tabrepo_matrix.metafeatures.iloc[list(tabrepo_matrix.tasks.index).index(split[1][0])]
    scores, _ = _held_out_regret(tabrepo_matrix, split)
    params = list(tabrepo_matrix.configs["params"])
    observed = [(params[i], float(scores[0][i])) for i in (5, 50, 95)]
    plain = small_meta_model.propose(mf, observed, candidates=params)
    model = copy.copy(small_meta_model)
    model.covariance_weight = 3.0
    blended = model.propose(mf, observed, candidates=params)
    assert "blended" in blended.reason and "blended" not in plain.reason
    assert blended.params not in [p for p, _ in observed]
    # configurations outside the portfolio are not conditioned on: one portfolio
    # configuration observed is not enough to blend
    outside = {**params[0], "learning_rate": 0.0123456}
    single = model.propose(mf, [observed[0], (outside, 0.5)], candidates=params)
    assert "blended" not in single.reason
    # nor is a candidate set with configurations the covariance does not know
    mixed = model.propose(mf, observed, candidates=[*params, outside])
    assert "blended" not in mixed.reason
    loaded = MetaModel.load(model.save(tmp_path / "model"))
    assert loaded.covariance_weight == 3.0
