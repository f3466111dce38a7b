"""The knowledge base: evaluations of configurations across datasets.

Our own runs (:func:`build`, resumable and parallel), external meta-datasets
(:func:`load_tabrepo`, :class:`YahpoBenchmark` / :func:`load_yahpo`) and a user's
Optuna studies (:func:`from_optuna_study`) all land in one :class:`KnowledgeBase`
(SQLite or PostgreSQL), exported to parquet for meta-training.
"""

from metaopt._lazy import lazy_exports

_EXPORTS = {
    "BACKENDS": "._build",
    "BuildInterrupted": "._build",
    "BuildReport": "._build",
    "build": "._build",
    "export_default": "._card",
    "load_default": "._card",
    "open_knowledge_base": "._card",
    "write_card": "._card",
    "PlannedConfig": "._design",
    "config_id": "._design",
    "design": "._design",
    "plan_configs": "._design",
    "DEFAULT_SCORING": "._evaluate",
    "library_versions": "._evaluate",
    "from_optuna_study": "._optuna",
    "to_optuna": "._optuna",
    "EVALUATION_COLUMNS": "._store",
    "KnowledgeBase": "._store",
    "MetaFeaturesVersionWarning": "._store",
    "STATUSES": "._store",
    "TABREPO_SPACE": "._tabrepo",
    "load_tabrepo": "._tabrepo",
    "tabrepo_configs": "._tabrepo",
    "YahpoBenchmark": "._yahpo",
    "load_yahpo": "._yahpo",
}
__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
