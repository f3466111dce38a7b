"""The ``metaopt.metafeatures.METAFEATURES_VERSION`` that a knowledge base and a saved
model record with their meta-features (shared by ``metaopt.kb`` and the model files;
imports nothing heavy)."""

from __future__ import annotations

#: the key of the version: in a knowledge base's ``kb_meta`` and ``to_frame().attrs``,
#: and in a saved model's JSON (a ranker's settings body, a portfolio's file)
MF_VERSION_KEY = "metafeatures_version"
#: the version of meta-features stored or saved without one (METAFEATURES_VERSION was 1
#: until it was recorded)
LEGACY_MF_VERSION = 1


class MetaFeaturesVersionWarning(UserWarning):
    """A knowledge base's meta-features are of another ``METAFEATURES_VERSION`` than the
    ones this metaopt computes for a dataset (make it an error with
    ``warnings.simplefilter("error", MetaFeaturesVersionWarning)``)."""


def current_metafeatures_version() -> int:
    """This metaopt's ``METAFEATURES_VERSION`` (read when called: importing
    ``metaopt.metafeatures`` imports scikit-learn)."""
    from metaopt.metafeatures import METAFEATURES_VERSION

    return METAFEATURES_VERSION
