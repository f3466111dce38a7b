"""Meta-models over a knowledge base: warm-start portfolios and the adapted ConfigRanker."""

from metaopt.ranker._matrix import PerformanceMatrix, normalized_regret
from metaopt.ranker._metamodel import MetaModel, Proposal
from metaopt.ranker._portfolio import Portfolio, greedy_order
from metaopt.ranker._ranker import ALGORITHMS, ConfigRanker, rank_loss
from metaopt.ranker._scaling import MetaFeatureScaler
from metaopt.ranker._shipped import load_meta_model, shipped_spaces, training_datasets
from metaopt.ranker._spaces import resolve_space

__all__ = [
    "ALGORITHMS",
    "ConfigRanker",
    "MetaFeatureScaler",
    "MetaModel",
    "PerformanceMatrix",
    "Portfolio",
    "Proposal",
    "greedy_order",
    "load_meta_model",
    "normalized_regret",
    "rank_loss",
    "resolve_space",
    "shipped_spaces",
    "training_datasets",
]
