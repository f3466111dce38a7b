"""Warm-start portfolios: configurations that are good together across datasets."""

from __future__ import annotations

import copy
import numbers
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from metaopt._checks import check_int
from metaopt._mf_version import MF_VERSION_KEY
from metaopt._model_files import (
    dumps,
    fitted_metafeatures_version,
    read_json,
    read_metafeatures_version,
    warn_metafeatures_version,
)
from metaopt._warnings import warn
from metaopt.ranker._matrix import PerformanceMatrix, check_matrix
from metaopt.ranker._scaling import MetaFeatureScaler

PORTFOLIO_FORMAT = "metaopt-portfolio/1"


def greedy_order(
    regret: np.ndarray,
    n: int,
    *,
    weights: np.ndarray | None = None,
    chosen: list[int] | tuple[int, ...] = (),
) -> list[int]:
    """Greedily extend ``chosen`` by ``n`` columns minimising expected best-so-far regret.

    Step ``i`` adds the configuration ``c`` that minimises
    ``sum_t w_t * min(best_t, regret[t, c])``, where ``best_t`` is task ``t``'s best
    regret among the configurations chosen so far (Wistuba et al. 2015; FLAML's and
    auto-sklearn 2's portfolios). Ties go to the lower mean regret.

    Parameters
    ----------
    regret : ndarray (n_tasks, n_configs), values in [0, 1], no NaN
    n : int
        Number of configurations to add.
    weights : ndarray (n_tasks,), optional
        Task weights (uniform by default).
    chosen : sequence of int
        Columns already chosen (e.g. already evaluated); never chosen again.

    Returns
    -------
    list of int
        The columns added, in order.
    """
    regret = np.asarray(regret, dtype=float)
    if regret.ndim != 2:
        raise ValueError("regret must be 2-d (tasks x configurations), got shape "
                         f"{regret.shape}: for one task pass [regret]")
    n_tasks, n_configs = regret.shape
    w = np.full(n_tasks, 1.0 / n_tasks) if weights is None else weights / weights.sum()
    best = regret[:, list(chosen)].min(axis=1) if len(chosen) else np.ones(n_tasks)
    tie_break = 1e-9 * (w @ regret)
    order = list(chosen)
    taken = np.zeros(n_configs, dtype=bool)
    taken[order] = True
    for _ in range(min(n, n_configs - len(order))):
        value = w @ np.minimum(best[:, None], regret) + tie_break
        value[taken] = np.inf
        c = int(np.argmin(value))
        order.append(c)
        taken[c] = True
        best = np.minimum(best, regret[:, c])
    return order[len(chosen):]


def warn_every_neighbour(k: int, n_tasks: int, name: str = "n_neighbors",
                         same_as: str = "n_neighbors=None") -> None:
    """``UserWarning`` when the ``k`` nearest of ``n_tasks`` training datasets are all of
    them (``name``: the option set to ``k``; ``same_as``: what that amounts to)."""
    if k >= n_tasks:
        warn(f"{name}={k} is not less than the {n_tasks} training datasets: every one is a "
             f"neighbour, as with {same_as}")


class Portfolio:
    """Greedy warm-start portfolio over a knowledge base, optionally per nearest datasets.

    Parameters
    ----------
    n_neighbors : int, optional
        When set and meta-features are given to :meth:`suggest`, the portfolio is built
        on the ``n_neighbors`` training datasets nearest in standardized meta-feature
        space (auto-sklearn's meta-learning warm start, made complementary by the greedy
        criterion). None: one portfolio for every dataset (FLAML zero-shot style).

    Attributes
    ----------
    regret_ : ndarray (n_tasks, n_configs)
        Normalized regret of each configuration on each training dataset (where it was
        not evaluated, its mean regret elsewhere).
    evaluated_ : ndarray of bool (n_tasks, n_configs)
        Where the regret was measured, not imputed.
    config_ids_, params_ : list
        The candidate configurations.
    task_keys_ : list of str
    metafeatures_version_ : int
        The ``metaopt.metafeatures.METAFEATURES_VERSION`` of the training datasets'
        meta-features (the knowledge base's; saved, and a :meth:`load` of another
        version than this metaopt's warns ``MetaFeaturesVersionWarning``).
    """

    def __init__(self, *, n_neighbors: int | None = None):
        self.n_neighbors = n_neighbors

    def fit(self, matrix: PerformanceMatrix) -> Portfolio:
        """Build the portfolio on every task of ``matrix``.

        Parameters
        ----------
        matrix : PerformanceMatrix
            From a knowledge base ``kb``: ``PerformanceMatrix.from_frame(kb.to_frame(),
            space)``.

        Returns
        -------
        Portfolio
            The portfolio itself, fitted.
        """
        check_matrix(matrix, "Portfolio.fit")
        if self.n_neighbors is not None:
            check_int(self.n_neighbors, "n_neighbors (or None)")
        if matrix.n_tasks == 0:
            raise ValueError("the matrix has no tasks to build a portfolio on")
        regret = matrix.regret()
        # a configuration not evaluated on a task is assumed as good as on average
        # elsewhere; one that none of the tasks evaluated, as the worst
        evaluated = ~np.isnan(regret)
        col_mean = np.divide(np.nansum(regret, axis=0), evaluated.sum(axis=0),
                             out=np.ones(regret.shape[1]), where=evaluated.any(axis=0))
        self.regret_ = np.where(evaluated, regret, col_mean[None, :])
        self.evaluated_ = evaluated
        self.space_ = matrix.space
        self.config_ids_ = list(matrix.configs.index)
        self.params_ = list(matrix.configs["params"])
        self.task_keys_ = list(matrix.tasks.index)
        self.task_types_ = list(matrix.tasks["task"])
        self.scaler_ = MetaFeatureScaler().fit(matrix.metafeatures)
        self.metafeatures_version_ = fitted_metafeatures_version(matrix)
        self.task_vectors_ = self.scaler_.transform(matrix.metafeatures)
        if self.n_neighbors is not None and not self.has_metafeatures:
            raise ValueError("n_neighbors needs meta-features, and the datasets of this "
                             "matrix have none: use n_neighbors=None")
        if self.n_neighbors is not None:
            warn_every_neighbour(self.n_neighbors, matrix.n_tasks)
        return self

    @property
    def has_metafeatures(self) -> bool:
        """Whether the training datasets differ in meta-features (YAHPO's have none)."""
        self._check_fitted()
        return bool(np.any(self.task_vectors_ != 0))

    def _check_fitted(self) -> None:
        if not hasattr(self, "regret_"):
            raise ValueError("this Portfolio is not fitted yet: call fit() or load()")

    def neighbors(self, meta_features: pd.Series, k: int | None = None) -> pd.DataFrame:
        """Training datasets by distance to a dataset's meta-features, nearest first.

        Parameters
        ----------
        meta_features : pandas.Series
        k : int, optional
            The ``k`` nearest (``k`` >= 1); None: all.

        Returns
        -------
        pandas.DataFrame
            Columns ``dataset`` and ``distance``.
        """
        self._check_fitted()
        if k is not None:
            k = check_int(k, "k (or None: every training dataset)")
        query = self.scaler_.transform(meta_features)[0]
        dist = np.linalg.norm(self.task_vectors_ - query, axis=1)
        order = np.argsort(dist, kind="stable")[: len(dist) if k is None else k]
        return pd.DataFrame({
            "dataset": [self.task_keys_[i] for i in order], "distance": dist[order],
        })

    def task_weights(self, meta_features: pd.Series | None) -> np.ndarray:
        """Weights of the training datasets: uniform, or 1 on the ``n_neighbors`` nearest
        and 0 elsewhere.

        Parameters
        ----------
        meta_features : pandas.Series or None
            None: uniform.

        Returns
        -------
        ndarray of shape (n_training_datasets,)
        """
        weights = np.ones(len(self.task_keys_))
        if meta_features is None or self.n_neighbors is None:
            return weights
        near = self.neighbors(meta_features, self.n_neighbors)["dataset"]
        return np.isin(self.task_keys_, near).astype(float)

    def suggest(self, n: int, meta_features: pd.Series | None = None) -> pd.DataFrame:
        """The first ``n`` configurations, with why each was chosen.

        Parameters
        ----------
        n : int
        meta_features : pandas.Series, optional
            Weights the training datasets (:meth:`task_weights`).

        Returns
        -------
        pandas.DataFrame
            Columns ``config_id``, ``params``, ``expected_regret`` (the mean best-so-far
            regret over the weighted training datasets once this configuration is added),
            ``mean_regret`` and ``best_on`` (training datasets where it is best).
        """
        self._check_fitted()
        n = check_int(n, "n")
        weights = self.task_weights(meta_features)
        order = greedy_order(self.regret_, n, weights=weights)
        w = weights / weights.sum()
        best_so_far = np.minimum.accumulate(self.regret_[:, order], axis=1)
        rows = []
        for step, c in enumerate(order):
            winners = [self.task_keys_[t] for t in np.flatnonzero(
                (self.regret_[:, c] == 0) & self.evaluated_[:, c] & (weights > 0))]
            rows.append({
                "config_id": self.config_ids_[c],
                "params": self.params_[c],
                "expected_regret": float(w @ best_so_far[:, step]),
                "mean_regret": float(w @ self.regret_[:, c]),
                "best_on": winners,
            })
        return pd.DataFrame(rows)

    def expected_regret(self, columns: list[int],
                        meta_features: pd.Series | None = None) -> float:
        """The mean best regret of these configurations over the weighted training
        datasets (:meth:`task_weights`): what :meth:`suggest`'s ``expected_regret`` is for
        its first picks, for any set of them.

        Parameters
        ----------
        columns : list of int
            Positions in ``params_``; none: 1, the worst.
        meta_features : pandas.Series, optional

        Returns
        -------
        float
        """
        self._check_fitted()
        n = self.regret_.shape[1]
        for column in columns:
            if (isinstance(column, (bool, np.bool_)) or not isinstance(column, numbers.Integral)
                    or not 0 <= column < n):
                raise ValueError(f"columns are positions in params_, integers in [0, {n}), "
                                 f"got {column!r}")
        weights = self.task_weights(meta_features)
        if not len(columns):
            return 1.0
        best = self.regret_[:, [int(c) for c in columns]].min(axis=1)
        return float(weights @ best / weights.sum())

    def restrict(self, keep: Callable[[dict], bool]) -> Portfolio:
        """A copy choosing only among some configurations.

        Parameters
        ----------
        keep : callable
            ``keep(params)`` is True for a configuration kept.

        Returns
        -------
        Portfolio
        """
        cols = [i for i, p in enumerate(self.params_) if keep(p)]
        if not cols:
            raise ValueError("restrict kept no configuration of the portfolio")
        out = copy.copy(self)
        out.regret_, out.evaluated_ = self.regret_[:, cols], self.evaluated_[:, cols]
        out.config_ids_ = [self.config_ids_[i] for i in cols]
        out.params_ = [self.params_[i] for i in cols]
        return out

    def save(self, path: str | Path) -> Path:
        """Write the portfolio as one JSON file (data only, no code).

        Parameters
        ----------
        path : str or Path
            An existing directory gets ``portfolio.json`` inside it (as in a saved
            MetaModel).

        Returns
        -------
        Path
            The file written.
        """
        self._check_fitted()
        path = Path(path)
        if path.is_dir():
            path = path / "portfolio.json"
        path.write_text(dumps({
            "format": PORTFOLIO_FORMAT, "space": self.space_, "n_neighbors": self.n_neighbors,
            "config_ids": self.config_ids_, "params": self.params_,
            "task_keys": self.task_keys_, "task_types": self.task_types_,
            "regret": np.round(self.regret_, 5).tolist(),
            # [task, configuration] of the regrets imputed (absent: none)
            **({"unevaluated": np.argwhere(~self.evaluated_).tolist()}
               if not self.evaluated_.all() else {}),
            "task_vectors": np.round(self.task_vectors_, 5).tolist(),
            "scaler": self.scaler_.to_dict(),
            MF_VERSION_KEY: self.metafeatures_version_,
        }))
        return path

    @classmethod
    def load(cls, path: str | Path) -> Portfolio:
        """Read a saved portfolio (plain JSON); another format, or missing or garbled
        fields, is refused with ``ValueError``. A directory is read as
        ``<directory>/portfolio.json`` (a saved MetaModel's portfolio).

        Warns ``MetaFeaturesVersionWarning`` (``metaopt.kb``) when it was trained on
        meta-features of another ``METAFEATURES_VERSION`` than this metaopt's (a file
        that does not say is of version 1).

        Parameters
        ----------
        path : str or Path

        Returns
        -------
        Portfolio
        """
        self, path = cls._read(path)
        warn_metafeatures_version(self.metafeatures_version_, path, "portfolio")
        return self

    @classmethod
    def _read(cls, path: str | Path) -> tuple[Portfolio, Path]:
        """:meth:`load` without its version warning (a MetaModel warns once for its
        parts), and the file read."""
        path = Path(path)
        if path.is_dir():
            path = Path(path) / "portfolio.json"
        data = read_json(path, "portfolio")
        if data.get("format") != PORTFOLIO_FORMAT:
            raise ValueError(
                f"{path} is not a metaopt portfolio of format {PORTFOLIO_FORMAT!r} "
                f"(found {data.get('format')!r})"
            )
        try:
            for name in ("config_ids", "params", "task_keys", "task_types"):
                if not isinstance(data[name], list):
                    raise ValueError(f"its {name} is no list")
            # (sizes are compared after: a shorter list is named there)
            for i, (config_id, params) in enumerate(zip(data["config_ids"], data["params"],
                                                        strict=False)):
                if not isinstance(params, dict):
                    raise ValueError(f"configuration {i} ({config_id}) is not a valid "
                                     f"{data['space']} configuration (a params dict), got "
                                     f"{params!r:.40}")
            if data["n_neighbors"] is not None:
                check_int(data["n_neighbors"], "its n_neighbors (or None)")
            self = cls(n_neighbors=data["n_neighbors"])
            self.space_ = data["space"]
            self.config_ids_, self.params_ = data["config_ids"], data["params"]
            self.task_keys_, self.task_types_ = data["task_keys"], data["task_types"]
            self.regret_ = np.asarray(data["regret"], dtype=float)
            self.evaluated_ = np.ones(self.regret_.shape, dtype=bool)
            for task, config in data.get("unevaluated", []):
                self.evaluated_[task, config] = False
            self.task_vectors_ = np.asarray(data["task_vectors"], dtype=float)
            self.scaler_ = MetaFeatureScaler.from_dict(data["scaler"])
        except (KeyError, TypeError, ValueError, IndexError) as exc:
            raise ValueError(f"{path} is not a readable metaopt portfolio: "
                             + (f"no field {exc}" if isinstance(exc, KeyError) else str(exc))
                             ) from exc
        self.metafeatures_version_ = read_metafeatures_version(data, path, "portfolio")
        self._check_sizes(path)
        return self, path

    def _check_sizes(self, path) -> None:
        """``ValueError`` if the loaded parts disagree in size (a file edited or mixed
        after saving): a configuration would take another's regrets."""
        sizes = {"regret rows x columns": self.regret_.shape,
                 "task_keys, task_types": (len(self.task_keys_), len(self.task_types_)),
                 "config_ids, params": (len(self.config_ids_), len(self.params_)),
                 "task_vectors": self.task_vectors_.shape,
                 "scaler features": (len(self.scaler_.mean_),)}
        n_tasks, n_configs = (self.regret_.shape if self.regret_.ndim == 2 else (-1, -1))
        if not (sizes["task_keys, task_types"] == (n_tasks, n_tasks)
                and sizes["config_ids, params"] == (n_configs, n_configs)
                and sizes["task_vectors"] == (n_tasks, len(self.scaler_.mean_))):
            raise ValueError(f"{path} is not a consistent metaopt portfolio: its parts "
                             f"disagree in size ({sizes}); it was changed after saving")
        if not (np.isfinite(self.regret_).all() and np.isfinite(self.task_vectors_).all()):
            raise ValueError(f"{path} is not a consistent metaopt portfolio: its regrets or "
                             "task vectors are not all finite numbers; it was changed after "
                             "saving")
