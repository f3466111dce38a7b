"""ConfigCovariance: how the portfolio's configurations co-vary across training datasets.

A Gaussian prior over a new dataset's regret vector on the portfolio's configurations:
mean and covariance estimated across the training datasets (Ledoit-Wolf shrinkage, as
there are often fewer datasets than configurations). Given a few evaluated portfolio
configurations, the conditional mean predicts the regret of the others: an empirical
Bayes multi-task Gaussian process whose kernel over configurations is learned from the
knowledge base instead of chosen. Scores come in the user's own units (error, accuracy,
log loss), so they are related to regret by an unknown affine map ``score = a + b *
regret`` (``b < 0``), fitted by maximum marginal likelihood on the standardized scores:
``a`` in closed form (generalised least squares) and ``b`` on a log grid. No library
fits this small model with a free-form, data-estimated covariance over a finite set,
hence the few lines here.
"""

from __future__ import annotations

import numpy as np
from sklearn.covariance import LedoitWolf

# regret-scale noise of an observed score (TabRepo's 5-fold leave-tasks-out CV: 0.02)
NOISE = 0.02
_SLOPES = np.exp(np.linspace(np.log(1e-4), np.log(1e3), 141))


class ConfigCovariance:
    """Gaussian prior over the regret of a fixed set of configurations.

    Parameters
    ----------
    regret : array (n_datasets, n_configs)
        Normalized regret of each configuration on each training dataset (0 = best).
    """

    def __init__(self, regret: np.ndarray) -> None:
        regret = np.asarray(regret, dtype=float)
        if regret.ndim != 2 or regret.shape[0] < 2 or not np.isfinite(regret).all():
            raise ValueError("regret must be a finite (n_datasets >= 2, n_configs) array, "
                             f"got shape {regret.shape}")
        self.mean_ = regret.mean(axis=0)
        self.covariance_ = LedoitWolf().fit(regret).covariance_

    def posterior_regret(self, columns: list[int], scores: np.ndarray) -> np.ndarray:
        """Expected regret of every configuration given the ``scores`` (higher is better,
        any units) observed on the configurations at ``columns`` (at least two)."""
        obs = np.asarray(columns)
        y = np.asarray(scores, dtype=float)
        if len(obs) < 2 or len(obs) != len(y):
            raise ValueError("need at least two observed configurations, one score each")
        # the slope grid is in standardized units, whatever the scores'; a spread within
        # float rounding of the scores' size is a tie, not a gap to be scaled up
        spread = y.std()
        tied = spread <= 1e-9 * max(np.abs(y).max(), 1e-300)
        y = np.zeros_like(y) if tied else (y - y.mean()) / spread
        mu, cov = self.mean_, self.covariance_
        k_obs = cov[np.ix_(obs, obs)] + NOISE**2 * np.eye(len(obs))
        k_inv = np.linalg.inv(k_obs)
        logdet = np.linalg.slogdet(k_obs)[1]
        weights = k_inv.sum(axis=0)  # 1^T K^-1, for the GLS intercept
        best = (-np.inf, 0.0, -1.0)
        for b in -_SLOPES:  # scores fall as regret rises
            r = y - b * mu[obs]
            a = (weights @ r) / weights.sum()
            res = r - a
            loglik = -0.5 * (res @ k_inv @ res) / b**2 - len(obs) * np.log(abs(b)) - 0.5 * logdet
            if loglik > best[0]:
                best = (loglik, a, b)
        _, a, b = best
        observed_regret = (y - a) / b
        gain = np.linalg.solve(k_obs, cov[obs, :]).T
        return mu + gain @ (observed_regret - mu[obs])
