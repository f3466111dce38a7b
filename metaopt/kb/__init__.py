"""The knowledge base: evaluations of configurations across datasets.

Our own runs (:func:`build`, resumable and parallel), external meta-datasets
(:func:`load_tabrepo`, :class:`YahpoBenchmark` / :func:`load_yahpo`) and a user's
Optuna studies (:func:`from_optuna_study`) all land in one :class:`KnowledgeBase`
(SQLite or PostgreSQL), exported to parquet for meta-training.
"""

from typing import TYPE_CHECKING

from metaopt._lazy import lazy_exports

if TYPE_CHECKING:  # the lazy names below, for type checkers (PEP 484 explicit re-exports)
    from metaopt.kb._build import BACKENDS as BACKENDS
    from metaopt.kb._build import BuildInterrupted as BuildInterrupted
    from metaopt.kb._build import BuildReport as BuildReport
    from metaopt.kb._build import build as build
    from metaopt.kb._card import export_default as export_default
    from metaopt.kb._card import load_default as load_default
    from metaopt.kb._card import open_knowledge_base as open_knowledge_base
    from metaopt.kb._card import write_card as write_card
    from metaopt.kb._design import PlannedConfig as PlannedConfig
    from metaopt.kb._design import config_id as config_id
    from metaopt.kb._design import design as design
    from metaopt.kb._design import plan_configs as plan_configs
    from metaopt.kb._evaluate import DEFAULT_SCORING as DEFAULT_SCORING
    from metaopt.kb._evaluate import library_versions as library_versions
    from metaopt.kb._optuna import from_optuna_study as from_optuna_study
    from metaopt.kb._optuna import to_optuna as to_optuna
    from metaopt.kb._store import EVALUATION_COLUMNS as EVALUATION_COLUMNS
    from metaopt.kb._store import STATUSES as STATUSES
    from metaopt.kb._store import KnowledgeBase as KnowledgeBase
    from metaopt.kb._store import MetaFeaturesVersionWarning as MetaFeaturesVersionWarning
    from metaopt.kb._tabrepo import TABREPO_SPACE as TABREPO_SPACE
    from metaopt.kb._tabrepo import load_tabrepo as load_tabrepo
    from metaopt.kb._tabrepo import tabrepo_configs as tabrepo_configs
    from metaopt.kb._yahpo import YahpoBenchmark as YahpoBenchmark
    from metaopt.kb._yahpo import load_yahpo as load_yahpo

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
