"""The knowledge base: evaluations of configurations across datasets.

Our own runs (:func:`build`, resumable and parallel), external meta-datasets
(:func:`load_tabrepo`, :class:`YahpoBenchmark` / :func:`load_yahpo`) and a user's
Optuna studies (:func:`from_optuna_study`) all land in one :class:`KnowledgeBase`
(SQLite or PostgreSQL), exported to parquet for meta-training.
"""

from metaopt.kb._build import BACKENDS, BuildInterrupted, BuildReport, build
from metaopt.kb._card import export_default, load_default, write_card
from metaopt.kb._design import PlannedConfig, config_id, design, plan_configs
from metaopt.kb._evaluate import DEFAULT_SCORING, library_versions
from metaopt.kb._optuna import from_optuna_study, to_optuna
from metaopt.kb._store import EVALUATION_COLUMNS, STATUSES, KnowledgeBase
from metaopt.kb._tabrepo import TABREPO_SPACE, load_tabrepo, tabrepo_configs
from metaopt.kb._yahpo import YahpoBenchmark, load_yahpo

__all__ = [
    "BACKENDS",
    "DEFAULT_SCORING",
    "EVALUATION_COLUMNS",
    "STATUSES",
    "TABREPO_SPACE",
    "BuildInterrupted",
    "BuildReport",
    "KnowledgeBase",
    "PlannedConfig",
    "YahpoBenchmark",
    "build",
    "config_id",
    "design",
    "export_default",
    "from_optuna_study",
    "library_versions",
    "load_default",
    "load_tabrepo",
    "load_yahpo",
    "plan_configs",
    "tabrepo_configs",
    "to_optuna",
    "write_card",
]
