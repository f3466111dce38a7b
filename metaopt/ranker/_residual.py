"""A Gaussian process on the ranker's residuals: the meta-learned ranker as the prior
mean, corrected where the dataset's own evaluations disagree with it.

The ranker's outputs are in its own units (it is trained on rankings), so the observed
scores are standardized and related to its predictions by a least-squares line with a
non-negative slope; a GP (scikit-learn's ``GaussianProcessRegressor``, Matern 5/2 plus
white noise on the encoded configurations, hyperparameters by maximum marginal
likelihood) then models what the line misses. scikit-learn fits the GP; only the prior
mean and the unit change are written here.
"""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.gaussian_process.kernels import ConstantKernel, Matern, WhiteKernel


def residual_correction(
    scores: np.ndarray,
    ranker_observed: np.ndarray,
    encoded_observed: np.ndarray,
    ranker_mean: np.ndarray,
    ranker_std: np.ndarray,
    encoded: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Mean and std of the candidates' standardized scores.

    Parameters
    ----------
    scores : (n,) observed scores of the dataset, higher is better.
    ranker_observed : (n,) the ranker's mean prediction for those configurations.
    encoded_observed : (n, d) their encodings.
    ranker_mean, ranker_std : (m,) the ranker's prediction for the candidates.
    encoded : (m, d) the candidates' encodings.
    """
    y = (scores - scores.mean()) / (scores.std() + 1e-12)
    spread = ranker_observed.std()
    slope = 0.0
    if spread > 1e-12:
        slope = max(0.0, float(np.cov(ranker_observed, y, bias=True)[0, 1]) / spread**2)
    intercept = float(y.mean() - slope * ranker_observed.mean())
    residual = y - (intercept + slope * ranker_observed)
    kernel = (ConstantKernel(1.0, (1e-3, 1e1)) * Matern(0.5, (0.05, 5.0), nu=2.5)
              + WhiteKernel(0.1, (1e-4, 1.0)))
    gp = GaussianProcessRegressor(kernel, random_state=0)
    with warnings.catch_warnings():  # a bound reached on a few points is expected
        warnings.simplefilter("ignore", ConvergenceWarning)
        gp.fit(encoded_observed, residual)
    correction, correction_std = gp.predict(encoded, return_std=True)
    mean = intercept + slope * ranker_mean + correction
    return mean, np.sqrt((slope * ranker_std) ** 2 + correction_std**2)
