"""Meta-models over a knowledge base: warm-start portfolios and the adapted ConfigRanker."""

from metaopt._lazy import lazy_exports

_EXPORTS = {
    "PerformanceMatrix": "._matrix",
    "normalized_regret": "._matrix",
    "MetaModel": "._metamodel",
    "Proposal": "._metamodel",
    "Portfolio": "._portfolio",
    "greedy_order": "._portfolio",
    "ALGORITHMS": "._ranker",
    "ConfigRanker": "._ranker",
    "rank_loss": "._ranker",
    "MetaFeatureScaler": "._scaling",
    "load_meta_model": "._shipped",
    "shipped_spaces": "._shipped",
    "training_datasets": "._shipped",
    "resolve_space": "._spaces",
}
__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
