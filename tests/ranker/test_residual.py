"""The residual GP on the ranker's predictions, on real held-out TabRepo tasks."""

from __future__ import annotations

import copy

import numpy as np
from scipy.stats import spearmanr

from metaopt.ranker import MetaModel
from metaopt.ranker._residual import residual_correction


def _held_out(tabrepo_matrix, split):
    rows = [list(tabrepo_matrix.tasks.index).index(k) for k in split[1]]
    return rows, tabrepo_matrix.scores[rows]


def test_correction_follows_the_evaluations_where_the_ranker_is_wrong(
        small_meta_model, tabrepo_matrix, split):
    """Fifteen evaluations of an unseen task correct the ranking of its other
    configurations toward the truth; rescaling the scores changes nothing."""
    rows, scores = _held_out(tabrepo_matrix, split)
    params = list(tabrepo_matrix.configs["params"])
    encoded = np.stack([small_meta_model.space.encode(p) for p in params])
    gains = []
    for row, task_scores in zip(rows, scores, strict=True):
        mf = tabrepo_matrix.metafeatures.iloc[row]
        seen = list(np.random.default_rng(row).choice(len(params), 15, replace=False))
        rest = [j for j in range(len(params)) if j not in seen]
        observed = [(params[j], float(task_scores[j])) for j in seen]
        mean, std = small_meta_model.ranker.predict(mf, observed, params)
        corrected, corrected_std = residual_correction(
            task_scores[seen], mean[seen], encoded[seen], mean[rest], std[rest], encoded[rest])
        rescaled, _ = residual_correction(
            100 * task_scores[seen] - 7, mean[seen], encoded[seen], mean[rest], std[rest],
            encoded[rest])
        np.testing.assert_allclose(rescaled, corrected, atol=1e-6)
        assert (corrected_std > 0).all()
        gains.append(spearmanr(corrected, task_scores[rest])[0]
                     - spearmanr(mean[rest], task_scores[rest])[0])
    assert np.mean(gains) > 0.1


def test_meta_model_applies_it_from_three_evaluations(small_meta_model, tabrepo_matrix, split,
                                                      tmp_path):
    rows, scores = _held_out(tabrepo_matrix, split)
    mf = tabrepo_matrix.metafeatures.iloc[rows[0]]
    params = list(tabrepo_matrix.configs["params"])
    model = copy.copy(small_meta_model)
    model.residual_gp = True
    observed = [(params[i], float(scores[0][i])) for i in (5, 50, 95)]
    assert "GP on its residuals" not in model.propose(mf, observed[:2], candidates=params).reason
    proposal = model.propose(mf, observed, candidates=params)
    assert "GP on its residuals" in proposal.reason
    assert proposal.params not in [p for p, _ in observed]
    assert MetaModel.load(model.save(tmp_path / "model")).residual_gp
