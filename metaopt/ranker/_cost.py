"""CostModel: how long a configuration takes to evaluate, learned from a knowledge base's
fit times and calibrated on the trials of the dataset at hand."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.linear_model import RidgeCV

from metaopt._mf_version import MF_VERSION_KEY, current_metafeatures_version
from metaopt._model_files import (
    dumps,
    fitted_metafeatures_version,
    read_json,
    read_metafeatures_version,
    warn_metafeatures_version,
)
from metaopt.ranker._scaling import as_metafeature_frame
from metaopt.spaces import CombinedSpace, SearchSpace, get_space

_FORMAT = "metaopt-cost-model"
_VERSION = 1
# meta-features the model reads, each as log(1 + value)
_SIZE_FEATURES = ("n_instances", "n_features", "n_classes")
# a family needs this many timed evaluations in the knowledge base to get a model
_MIN_ROWS = 20
# seconds of a trial per predicted second of one fit, before any trial was timed
# (about a 5-fold cross-validation)
_PRIOR_TRIAL_FACTOR = 5.0


class CostModel:
    """Predicted seconds to evaluate configurations on a dataset.

    Per model family, a ridge regression of the log of the mean fit time per fold on
    the encoded configuration, the log sizes of the dataset (rows, features, classes)
    and the products of the configuration's encoding with the log of the rows (a
    forest's time grows with its trees *and* the rows). :meth:`predict` turns it into
    seconds of a whole trial: shifted by the median gap between the log durations of
    the trials timed so far and their predictions (the machine, the cross-validation,
    the process overhead), or a fixed factor of 5 fits before any.

    Hand-written because the prediction must be data (JSON coefficients, no pickle).
    ``metafeatures_version`` is the ``METAFEATURES_VERSION`` of the sizes it was fitted
    on (None: this metaopt's).
    """

    def __init__(self, families: Mapping[str, Mapping[str, Any]],
                 metafeatures_version: int | None = None) -> None:
        self.families = {name: dict(spec) for name, spec in families.items()}
        self.metafeatures_version = (current_metafeatures_version()
                                     if metafeatures_version is None else metafeatures_version)

    # ------------------------------------------------------------------ training
    @classmethod
    def fit(cls, frame: pd.DataFrame) -> CostModel:
        """Fit on knowledge-base rows (``space``, ``config`` JSON, ``fit_time``, ``status``
        and the ``mf_*`` meta-features, as :meth:`KnowledgeBase.to_frame` gives them, with
        their version in ``attrs``)."""
        ok = frame[(frame["status"] == "ok") & (frame["fit_time"] > 0)]
        families = {}
        for name, rows in ok.groupby("space"):
            if len(rows) < _MIN_ROWS:
                continue
            space = get_space(str(name))
            encoded = np.stack([space.encode(json.loads(c)) for c in rows["config"]])
            sizes = np.log1p(rows[[f"mf_{f}" for f in _SIZE_FEATURES]]
                             .to_numpy(float, na_value=0.0))
            design = _features(encoded, sizes)
            log_seconds = np.log(rows["fit_time"].to_numpy(float))
            ridge = RidgeCV(alphas=np.logspace(-3, 3, 13)).fit(design, log_seconds)
            residual = log_seconds - ridge.predict(design)
            families[str(name)] = {
                "encoded": space.encoded_names, "coef": ridge.coef_.tolist(),
                "intercept": float(ridge.intercept_), "alpha": float(ridge.alpha_),
                "n_rows": len(rows), "n_datasets": int(rows["dataset_key"].nunique()),
                "residual_std": float(residual.std()),
            }
        if not families:
            raise ValueError(f"no model family has {_MIN_ROWS}+ timed evaluations")
        return cls(families, fitted_metafeatures_version(frame))

    # ------------------------------------------------------------------ prediction
    def log_fit_seconds(self, meta_features: Mapping[str, float] | None, space: SearchSpace,
                        configs: Sequence[Mapping[str, Any]]) -> np.ndarray:
        """Log of the predicted mean fit time per fold of each configuration of ``space``;
        NaN for a family without a model or without the dataset's sizes.

        ``meta_features`` as the portfolio and the ranker take them: the output of
        :func:`metaopt.metafeatures.compute`, a dict of its names, or knowledge-base
        columns prefixed ``mf_``."""
        out = np.full(len(configs), np.nan)
        if meta_features is None or not configs:
            return out
        row = as_metafeature_frame(meta_features).iloc[0]
        try:
            sizes = np.log1p([float(row.get(f, np.nan)) for f in _SIZE_FEATURES])
        except (TypeError, ValueError):
            return out
        members: dict[str, list[tuple[int, Mapping[str, Any]]]] = {}
        for i, params in enumerate(configs):
            family, own = (space.member(params) if isinstance(space, CombinedSpace)
                           else (space, params))
            members.setdefault(family.name, []).append((i, own))
        for name, items in members.items():
            spec = self.families.get(name)
            if spec is None:
                continue
            family = get_space(name)
            encoded = np.stack([family.encode(own) for _, own in items])
            design = _features(encoded, np.broadcast_to(sizes, (len(items), len(sizes))))
            out[[i for i, _ in items]] = design @ np.asarray(spec["coef"]) + spec["intercept"]
        return out

    def predict(self, meta_features: Mapping[str, float] | None, space: SearchSpace,
                configs: Sequence[Mapping[str, Any]],
                timed: Sequence[tuple[Mapping[str, Any], float]] = ()) -> np.ndarray:
        """Predicted seconds of a trial of each configuration (NaN where unknown), calibrated
        on ``timed``: (configuration, seconds its trial took) of this dataset."""
        offset = np.log(_PRIOR_TRIAL_FACTOR)
        if timed:
            predicted = self.log_fit_seconds(meta_features, space, [c for c, _ in timed])
            gaps = np.log([max(s, 1e-3) for _, s in timed]) - predicted
            if np.isfinite(gaps).any():
                offset = float(np.nanmedian(gaps))
        return np.exp(self.log_fit_seconds(meta_features, space, configs) + offset)

    # ------------------------------------------------------------------ files
    def save(self, path: str | Path) -> Path:
        path = Path(path)
        path.write_text(dumps({"format": _FORMAT, "version": _VERSION,
                                    "size_features": list(_SIZE_FEATURES),
                                    "families": self.families,
                                    MF_VERSION_KEY: self.metafeatures_version}, indent=1))
        return path

    @classmethod
    def load(cls, path: str | Path) -> CostModel:
        """Read a saved model (plain JSON); a file of another format or version, or one
        whose families no longer encode as saved, is refused. Warns
        ``MetaFeaturesVersionWarning`` (``metaopt.kb``) when it was fitted on meta-features
        of another ``METAFEATURES_VERSION`` than this metaopt's (a file that does not say
        is of version 1)."""
        self = cls._read(path)
        warn_metafeatures_version(self.metafeatures_version, path, "cost model")
        return self

    @classmethod
    def _read(cls, path: str | Path) -> CostModel:
        """:meth:`load` without its version warning (:meth:`MetaModel.load` warns of it)."""
        data = read_json(path, "cost model")
        if data.get("format") != _FORMAT or data.get("version") != _VERSION:
            raise ValueError(f"{path} is not a metaopt cost model of version {_VERSION} ("
                             + (", ".join(f"{key} {data[key]!r}" for key in ("format", "version")
                                          if data.get(key) is not None)
                                or "it names no format or version") + ")")
        families = data.get("families")
        if not isinstance(families, dict):
            raise ValueError(f"{path} is not a readable metaopt cost model (no families)")
        for name, spec in families.items():
            try:
                encoded = get_space(name).encoded_names
            except ValueError as exc:
                raise ValueError(f"{path}: {exc}") from exc
            if isinstance(spec, dict) and encoded != spec.get("encoded"):
                raise ValueError(f"{path}: the search space {name!r} changed since the cost "
                                 "model was fitted; fit it again")
            if not (isinstance(spec, dict) and _numbers(spec.get("coef"), 2 * len(encoded)
                                                        + len(_SIZE_FEATURES))
                    and _numbers([spec.get("intercept")], 1)):
                raise ValueError(f"{path}: the cost model of {name!r} is not as fitted (its "
                                 "coefficients and intercept are not the finite numbers of "
                                 "its encoding): the file was changed after saving; fit it "
                                 "again (metaopt train-meta-model --cost-only)")
        return cls(families, read_metafeatures_version(data, path, "cost model"))


def _numbers(values: Any, n: int) -> bool:
    """Whether ``values`` is a list of ``n`` finite numbers (not bools)."""
    return (isinstance(values, list) and len(values) == n
            and all(isinstance(v, (int, float)) and not isinstance(v, bool)
                    and np.isfinite(v) for v in values))


def _features(encoded: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """[configuration, log sizes, configuration x log rows] per row."""
    return np.hstack([encoded, sizes, encoded * sizes[:, :1]])
