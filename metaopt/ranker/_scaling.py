"""Meta-feature scaling shared by every meta-model: log transforms, then standardization."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from metaopt import metafeatures


def as_metafeature_frame(values: pd.Series | pd.DataFrame) -> pd.DataFrame:
    """Meta-features as one row per dataset, named as in ``metafeatures.FEATURE_NAMES``.

    Accepts the output of :func:`metaopt.metafeatures.compute` (a Series; a dict of the
    same names is taken as one) or knowledge-base columns prefixed ``mf_``.
    """
    if isinstance(values, Mapping):
        values = pd.Series(values, dtype=object)
    if not isinstance(values, (pd.Series, pd.DataFrame)):
        raise TypeError("meta_features must be a pandas Series (metaopt.metafeatures.compute) "
                        f"or a dict of its names, got {type(values).__name__}")
    frame = values.to_frame().T if isinstance(values, pd.Series) else values
    frame = metafeatures.by_bare_names(frame)
    mixed = [name for name in metafeatures.FEATURE_NAMES
             if name in frame.columns and frame[name].dtype == object]
    if mixed:  # e.g. a dict holding None or text: numbers, NaN where missing
        frame = frame.copy()
        for name in mixed:
            numbers = pd.to_numeric(frame[name], errors="coerce")
            bad = frame[name][numbers.isna() & frame[name].notna()]
            if len(bad):
                raise ValueError(f"meta-feature {name!r} must be a number, got {bad.iloc[0]!r}")
            frame[name] = numbers
    return frame


class MetaFeatureScaler:
    """Standardize :func:`metaopt.metafeatures.to_vector` features over training datasets.

    Unknown values (NaN, e.g. meta-features an external meta-dataset lacks) become 0,
    the training mean, so they do not move a dataset in any direction. So does every
    value of a feature that did not vary over the training datasets (``flat_``: TabRepo
    lacks the landmarks, say): meta-models trained on it learned nothing of it.
    """

    def fit(self, values: pd.DataFrame) -> MetaFeatureScaler:
        """Learn each feature's mean and scale.

        Parameters
        ----------
        values : pandas.DataFrame
            Meta-features of the training datasets, one row each.

        Returns
        -------
        MetaFeatureScaler
            The scaler itself, fitted.
        """
        raw = metafeatures.to_vector(as_metafeature_frame(values), nan_value=np.nan)
        # columns all NaN (features a source lacks) get mean 0 and scale 1, without
        # np.nanmean's warning (silencing it with warnings.catch_warnings is not thread-safe)
        observed = ~np.isnan(raw).all(axis=0)
        self.mean_, std = np.zeros(raw.shape[1]), np.zeros(raw.shape[1])
        self.mean_[observed] = np.nanmean(raw[:, observed], axis=0)
        std[observed] = np.nanstd(raw[:, observed], axis=0)
        self.flat_ = ~(np.isfinite(std) & (std > 1e-12))
        self.scale_ = np.where(self.flat_, 1.0, std)
        return self

    def transform(self, values: pd.Series | pd.DataFrame) -> np.ndarray:
        """Standardized feature vectors.

        Parameters
        ----------
        values : pandas.Series or pandas.DataFrame
            Meta-features of one dataset, or of one per row.

        Returns
        -------
        ndarray of shape (n_datasets, n_features)
        """
        raw = metafeatures.to_vector(as_metafeature_frame(values), nan_value=np.nan)
        scaled = np.nan_to_num((raw - self.mean_) / self.scale_, nan=0.0)
        scaled[:, self.flat_] = 0.0
        return scaled

    def to_dict(self) -> dict:
        """JSON data for :meth:`from_dict`.

        Returns
        -------
        dict
            Keys ``features`` (the meta-feature names), ``mean``, ``scale`` and ``flat``.
        """
        return {"features": list(metafeatures.FEATURE_NAMES),
                "mean": self.mean_.tolist(), "scale": self.scale_.tolist(),
                "flat": self.flat_.tolist()}

    @classmethod
    def from_dict(cls, data: dict) -> MetaFeatureScaler:
        """The scaler :meth:`to_dict` described; ``ValueError`` if it was saved with
        another meta-feature set.

        Parameters
        ----------
        data : dict

        Returns
        -------
        MetaFeatureScaler
        """
        if list(data["features"]) != list(metafeatures.FEATURE_NAMES):
            raise ValueError(
                "the meta-feature scaler was saved with another meta-feature set "
                f"({len(data['features'])} features); retrain the meta-model"
            )
        scaler = cls()
        scaler.mean_ = np.asarray(data["mean"], dtype=float)
        scaler.scale_ = np.asarray(data["scale"], dtype=float)
        # files written before "flat" was saved mark such features by a scale of exactly 1
        scaler.flat_ = np.asarray(data.get("flat", scaler.scale_ == 1.0), dtype=bool)
        n = len(metafeatures.FEATURE_NAMES)
        if not (scaler.mean_.shape == scaler.scale_.shape == scaler.flat_.shape == (n,)
                and np.isfinite(scaler.mean_).all() and np.isfinite(scaler.scale_).all()
                and (scaler.scale_ > 0).all()):
            raise ValueError(f"the meta-feature scaler does not hold {n} finite means and "
                             "positive scales; the file was changed after saving")
        return scaler
