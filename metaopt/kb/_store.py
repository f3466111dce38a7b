"""The knowledge base store: evaluations, datasets and build runs in one SQL database.

SQLite (a file, WAL mode, busy timeout) is the embedded default; a PostgreSQL URL lets
several machines write to one store. Every evaluation is unique on
``(dataset_key, space, config_id, seed)``: an insert that collides is ignored, which is
what makes builds resumable and concurrent runners safe (exactly once).
"""

from __future__ import annotations

import difflib
import json
import math
import os
import re
import socket
import sqlite3
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import pandas as pd
import sqlalchemy as sa
from optuna.distributions import json_to_distribution
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.pool import StaticPool

from metaopt._files import write_whole
from metaopt._mf_version import (
    LEGACY_MF_VERSION,
    MF_VERSION_KEY,
    MetaFeaturesVersionWarning,
    current_metafeatures_version,
)
from metaopt._signals import pid_alive, process_start
from metaopt._warnings import warn

if TYPE_CHECKING:
    from metaopt.spaces._base import Distribution

SCHEMA_VERSION = "1"
STATUSES: tuple[str, ...] = ("ok", "failed", "timeout")
MF_PREFIX = "mf_"
SPACE_KEY = "space:"  # kb_meta key of a user's space: its parameters' Optuna distributions
# kb_meta key of a user's space that kb.build evaluated: its SearchSpace.to_json_dict()
SPACE_JSON_KEY = "space_json:"

_metadata = sa.MetaData()

_KEY_LENGTH = 64  # of kb_meta's keys
_meta_table = sa.Table(
    "kb_meta",
    _metadata,
    sa.Column("key", sa.String(_KEY_LENGTH), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)

datasets_table = sa.Table(
    "kb_datasets",
    _metadata,
    sa.Column("dataset_key", sa.String(255), primary_key=True),
    sa.Column("name", sa.String(255)),
    sa.Column("source", sa.String(64)),
    sa.Column("source_id", sa.String(255)),
    sa.Column("task", sa.String(32)),
    sa.Column("openml_dataset_id", sa.Integer),
    sa.Column("openml_task_id", sa.Integer),
    sa.Column("n_samples", sa.Integer),
    sa.Column("n_features", sa.Integer),
    sa.Column("n_classes", sa.Integer),
    sa.Column("metafeatures", sa.Text),  # JSON object name -> float (NaN as null)
    sa.Column("status", sa.String(16), nullable=False),  # ok / failed (to load)
    sa.Column("error", sa.Text),
    sa.Column("updated_at", sa.String(32)),
    # the data's own hash (build's content_hash), to tell one dataset under two keys
    sa.Column("content_hash", sa.String(64)),
)

evaluations_table = sa.Table(
    "kb_evaluations",
    _metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("dataset_key", sa.String(255), nullable=False),
    sa.Column("space", sa.String(64), nullable=False),
    sa.Column("config_id", sa.String(32), nullable=False),
    sa.Column("seed", sa.Integer, nullable=False),
    sa.Column("design_id", sa.String(32)),
    sa.Column("config", sa.Text, nullable=False),  # canonical JSON of the active params
    sa.Column("task", sa.String(32)),
    sa.Column("metric", sa.String(64)),
    sa.Column("cv_score", sa.Float),
    sa.Column("cv_score_std", sa.Float),
    sa.Column("test_score", sa.Float),
    sa.Column("fit_time", sa.Float),
    sa.Column("eval_time", sa.Float),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("error", sa.Text),
    sa.Column("origin", sa.String(32), nullable=False),  # metaopt / tabrepo / yahpo / optuna
    sa.Column("versions", sa.Text),  # JSON of library versions
    sa.Column("extra", sa.Text),  # JSON: fold scores, surrogate outputs, ...
    sa.Column("run_id", sa.String(64)),
    sa.Column("created_at", sa.String(32)),
    sa.UniqueConstraint("dataset_key", "space", "config_id", "seed", name="uq_evaluation"),
)

runs_table = sa.Table(
    "kb_runs",
    _metadata,
    sa.Column("run_id", sa.String(64), primary_key=True),
    sa.Column("started_at", sa.String(32)),
    sa.Column("finished_at", sa.String(32)),
    sa.Column("status", sa.String(16)),  # running / finished / interrupted / crashed
    sa.Column("host", sa.String(255)),
    sa.Column("machine", sa.Text),  # JSON: platform, cpu count, python
    sa.Column("params", sa.Text),  # JSON of the build arguments
    sa.Column("versions", sa.Text),
    sa.Column("n_evaluations", sa.Integer),
    sa.Column("seconds", sa.Float),
)

#: Columns of one evaluation record, in the order of :meth:`KnowledgeBase.to_frame`.
EVALUATION_COLUMNS: tuple[str, ...] = tuple(
    c.name for c in evaluations_table.columns if c.name != "id"
)
DATASET_COLUMNS: tuple[str, ...] = tuple(c.name for c in datasets_table.columns)
_UNIQUE_KEY = ("dataset_key", "space", "config_id", "seed")
# the columns of to_frame() every evaluation needs (add_frame, from_parquet)
_FRAME_REQUIRED = {*_UNIQUE_KEY, "config", "status", "origin"}


def now() -> str:
    """Current UTC time as an ISO-8601 string (the store's timestamp format)."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def dumps(value: Any) -> str:
    """Canonical JSON: sorted keys, NaN as null, numpy scalars as Python numbers."""
    return json.dumps(_jsonable(value), sort_keys=True, separators=(",", ":"), allow_nan=False)


def _jsonable(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def merge_distributions(known: Mapping[str, Any], new: Mapping[str, Any], what: str,
                        before: str) -> dict[str, Any]:
    """``known`` with ``new``'s parameters added (distributions as JSON objects of
    ``optuna.distributions.distribution_to_json``); ValueError if one differs, naming
    ``what`` gave ``new`` and ``before`` the other."""
    for name, dist in new.items():
        if name in known and known[name] != dist:
            raise ValueError(
                f"parameter {name!r}: {what} gives {_distribution(dist)}, {before} "
                f"{_distribution(known[name])}; a search space has one distribution per "
                "parameter: import such trials under a space name of their own")
    return {**known, **new}


def _distribution(data: Mapping[str, Any]) -> str:
    return repr(as_distribution(data))


def as_distribution(data: Mapping[str, Any]) -> Distribution:
    """A stored distribution (a JSON object) as Optuna's (a Float, Int or Categorical one,
    which Optuna's annotation leaves at BaseDistribution)."""
    return cast("Distribution", json_to_distribution(json.dumps(data)))


def as_distributions(stored: Mapping[str, Mapping[str, Any]]) -> dict[str, Distribution]:
    """Stored distributions (JSON objects, by parameter) as Optuna's."""
    return {name: as_distribution(data) for name, data in stored.items()}


def _space_key(prefix: str, space: str) -> str:
    """The ``kb_meta`` key ``<prefix><space>``; ValueError if the column cannot hold it."""
    limit = _KEY_LENGTH
    if len(prefix + space) > limit:
        raise ValueError(f"space name {space!r} is too long for a space of your own: "
                         f"at most {limit - len(prefix)} characters")
    return prefix + space


def _url(store: str | os.PathLike) -> str:
    text = os.fspath(store)
    if "://" in text:
        return text
    if text == ":memory:":
        return "sqlite://"
    return f"sqlite:///{Path(text).expanduser().resolve()}"


#: the pip package of a database driver SQLAlchemy imports, where the names differ
_DRIVER_WHEELS = {"psycopg": "psycopg[binary]", "psycopg2": "psycopg2-binary"}


#: what a store is (docs/kb.md, "Storage"), and how one is built, for the errors
_STORES = "a SQLite file, a database URL or a parquet export"
_BUILD_ONE = "`metaopt build-kb --store kb.sqlite`, metaopt.kb.build"


def _holds_no_tables(url: sa.engine.URL) -> bool:
    """Whether the SQLite file at ``url`` is an empty database (a 0-byte file too); a file
    that is no database at all is left to the store's own error."""
    engine = sa.create_engine(url)
    try:
        return not sa.inspect(engine).get_table_names()
    except sa.exc.DatabaseError:
        return False
    finally:
        engine.dispose()


def in_memory(url: sa.engine.URL) -> bool:
    """Whether ``url`` is a SQLite store in memory (one connection's, no file)."""
    return url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:")


def _sqlite_file(url: sa.engine.URL) -> Path | None:
    """The file of a SQLite ``url``; None for another database or one in memory."""
    if url.get_backend_name() != "sqlite" or in_memory(url) or url.database is None:
        return None
    return Path(url.database)


def _is_text_table(path: str | None) -> bool:
    """Whether ``path`` is named as a CSV or TSV table (gzipped or not), as a dataset is."""
    return str(path).lower().endswith((".csv", ".tsv", ".csv.gz", ".tsv.gz"))


def _is_parquet(path: str | os.PathLike | None) -> bool:
    """Whether ``path`` is a file that starts as parquet does: an export named ``kb.pq``
    or ``KB.PARQUET`` was opened as SQLite, "corrupt or half-written file? ... Move it
    aside and rebuild"."""
    if path is None:
        return False
    try:
        with open(path, "rb") as file:
            return file.read(4) == b"PAR1"
    except OSError:  # a URL, a directory, no such file: not parquet
        return False


def is_sqlite(path: str | os.PathLike | None) -> bool:
    """Whether ``path`` is a file that starts as a SQLite database does (a store named
    ``kb.parquet`` by a metaopt that let a build create one)."""
    if path is None:
        return False
    try:
        with open(path, "rb") as file:
            return file.read(16) == b"SQLite format 3\x00"
    except OSError:  # a URL, a directory, no such file
        return False


def _parsed_url(store: str | os.PathLike) -> sa.engine.URL:
    """The SQLAlchemy URL of ``store`` (a path or URL); a ValueError naming it when it
    is neither."""
    try:
        return sa.engine.make_url(_url(store))
    except (sa.exc.ArgumentError, ValueError) as exc:  # ValueError: a port not a number
        raise ValueError(f"store {_shown(store)!r} is not a valid path or URL: {exc}") from None


def _shown(store: str | os.PathLike) -> str:
    """``store`` as messages show it: a URL with its password masked (also one that
    SQLAlchemy cannot parse)."""
    text = os.fspath(store)
    if "://" not in text:
        return text
    try:
        return sa.engine.make_url(text).render_as_string()
    except (sa.exc.ArgumentError, ValueError):
        return re.sub(r"(://[^/@:]*:)[^/@]*@", r"\1***@", text)


def check_writable(path: str | os.PathLike, what: str, *, directory: bool = False) -> Path:
    """``path`` as a Path, checked as where to write a file (with ``directory``, a
    folder): ``ValueError`` naming ``what`` when a directory (a file) is there already,
    or a folder on its way is a file (``mkdir`` said only "File exists")."""
    path = Path(path)
    if path.exists() and path.is_dir() != directory:
        raise ValueError(f"{what} {os.fspath(path)!r} is "
                         + ("a file: give a directory" if directory else
                            "a directory: give a file path in it"))
    parent = next(p for p in path.parents if p.exists())
    if not parent.is_dir():
        raise ValueError(f"{what} {os.fspath(path)!r}: {os.fspath(parent)!r} is a file, "
                         "not a folder")
    return path


def _prepare_sqlite_file(path: Path, store) -> None:
    """Create the parent directories of a SQLite store; ValueError if ``path`` is a directory."""
    if path.is_dir():
        raise ValueError(f"store {os.fspath(store)!r} is a directory; give the path of a SQLite "
                         f"file, e.g. {os.fspath(path / 'kb.sqlite')!r}")
    check_writable(path, "store").parent.mkdir(parents=True, exist_ok=True)


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA busy_timeout = 60000")
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.execute("PRAGMA synchronous = NORMAL")
    cursor.close()


class KnowledgeBase:
    """A store of evaluations of configurations on datasets.

    Parameters
    ----------
    store : str or path-like, default ":memory:"
        A SQLite file path (created, with its directories, if missing), ``":memory:"``,
        or an SQLAlchemy URL (``"sqlite:///kb.sqlite"``, ``"postgresql://user@host/db"``)
        for a store that several machines write at once.

    Raises
    ------
    ValueError
        If ``store`` is not a metaopt knowledge base (corrupt file, an Optuna storage,
        another schema version) or its URL dialect is not SQLite or PostgreSQL.
    """

    def __init__(self, store: str | os.PathLike = ":memory:") -> None:
        self.url = _url(store)
        self.parquet_source: Path | None = None  # the export from_parquet read, if any
        url = _parsed_url(store)
        self.dialect = url.get_backend_name()
        if self.dialect not in ("sqlite", "postgresql"):
            raise ValueError(
                f"store URL {_shown(store)!r} uses {self.dialect!r}; supported: a SQLite path or "
                "'sqlite:///...' URL, or 'postgresql://...'"
            )
        kwargs: dict[str, Any] = {}
        file = _sqlite_file(url)
        if in_memory(url):
            kwargs = {"poolclass": StaticPool, "connect_args": {"check_same_thread": False}}
        elif file is not None:
            if file.name.endswith(".parquet") and not file.exists():
                raise ValueError(
                    f"store {_shown(store)!r} is named as a parquet export: a new SQLite "
                    "store of that name would not open again (`metaopt kb info`, `--kb` and "
                    "metaopt.kb.open_knowledge_base read a .parquet file as an export). "
                    "Give the store another name, such as kb.sqlite, and export it with "
                    "`build-kb --export kb.parquet` (KnowledgeBase.to_parquet)")
            _prepare_sqlite_file(file, store)
            kwargs = {"connect_args": {"timeout": 60}}
        try:
            self.engine = sa.create_engine(url, **kwargs)
        except ModuleNotFoundError as exc:  # the database's driver, e.g. psycopg
            wheel = _DRIVER_WHEELS.get(exc.name or "", exc.name)
            raise ValueError(f"store {_shown(store)!r} needs "
                             f"the Python package {exc.name!r} (its database driver): "
                             f"`pip install {wheel}`") from None
        if self.dialect == "sqlite":
            sa.event.listen(self.engine, "connect", _sqlite_pragmas)
        self._open(store)

    @classmethod
    def open_existing(cls, store: str | os.PathLike) -> KnowledgeBase:
        """An existing knowledge base: commands that read must not create an empty store
        from a typo (nor, for a SQLite URL, its directories).

        Parameters
        ----------
        store : str or path-like
            A database URL or an existing SQLite file.

        Returns
        -------
        KnowledgeBase
        """
        text = os.fspath(store)
        url = _parsed_url(text)
        file = _sqlite_file(url)
        local = file is not None
        if file is not None and file.is_dir():
            raise ValueError(f"no knowledge base at {text!r}: it is a directory, and a "
                             f"knowledge base is {_STORES} ({_BUILD_ONE})")
        if ("://" not in text or local) and not (file is not None and file.is_file()):
            raise ValueError(f"no knowledge base at {text!r}" + _close_store(text))
        if file is not None and not file.stat().st_size:  # SQLite reads it as a database
            raise ValueError(f"{text!r} is an empty file (0 bytes), not a knowledge base "
                             f"({_STORES})")
        if local and _holds_no_tables(url):  # opening would create them: a read that writes
            raise ValueError(f"{text!r} is an empty SQLite database, not a knowledge base")
        return cls(store)

    def __repr__(self) -> str:
        if self.parquet_source is not None:  # its store is a copy, e.g. in memory
            return f"KnowledgeBase.from_parquet({str(self.parquet_source)!r})"
        return f"KnowledgeBase({self.engine.url.render_as_string(hide_password=True)!r})"

    def __getstate__(self) -> dict[str, Any]:
        """A copy or a pickle (for another process) is a handle on the same store, with
        connections of its own. A store in memory is this handle's alone: refused, with
        what to do."""
        if in_memory(sa.engine.make_url(self.url)):
            raise TypeError(
                "a KnowledgeBase in memory cannot be copied or pickled: its data live in "
                "this handle's connection. Copy it, build runs and failed datasets "
                "included, into a new file store and pass that: "
                "`KnowledgeBase.from_parquet(kb.to_parquet('kb.parquet'), "
                "store='kb.sqlite')`; or pass the file kb.to_parquet(path) writes and read "
                "it with KnowledgeBase.from_parquet(path) where it is used")
        return {"url": self.url, "parquet_source": self.parquet_source}

    def __setstate__(self, state: dict[str, Any]) -> None:
        KnowledgeBase.__init__(self, state["url"])
        self.parquet_source = state["parquet_source"]

    def __enter__(self) -> KnowledgeBase:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        """Release the database connections."""
        self.engine.dispose()

    # ------------------------------------------------------------------ schema
    def _open(self, store) -> None:
        try:
            with self.engine.begin() as conn:
                if self.dialect == "sqlite":
                    check = conn.exec_driver_sql("PRAGMA quick_check").scalar()
                    if check != "ok":
                        found = sqlite3.DatabaseError(f"integrity check: {check}")
                        raise sa.exc.DatabaseError("PRAGMA quick_check", None, found)
                tables = set(sa.inspect(conn).get_table_names())
                ours = {t.name for t in _metadata.sorted_tables}
                if tables and not tables & ours:
                    hint = (
                        " (it is an Optuna storage: import its studies with "
                        "metaopt.kb.from_optuna_study)"
                        if {"studies", "trials"} <= tables
                        else ""
                    )
                    raise ValueError(
                        f"store {_shown(store)!r} is a database without metaopt knowledge "
                        f"base tables{hint}; give a new file or an existing knowledge base"
                    )
                for table in _metadata.sorted_tables:
                    conn.execute(sa.schema.CreateTable(table, if_not_exists=True))
                _add_missing_columns(conn)
                conn.execute(
                    self._insert(_meta_table).values(key="schema_version", value=SCHEMA_VERSION)
                    .on_conflict_do_nothing()
                )
                conn.execute(
                    self._insert(_meta_table).values(key="created_at", value=now())
                    .on_conflict_do_nothing()
                )
                version = conn.execute(
                    sa.select(_meta_table.c.value).where(_meta_table.c.key == "schema_version")
                ).scalar()
        except sa.exc.DatabaseError as exc:
            self.engine.dispose()
            advice = ("(corrupt or half-written file?): {}. Move it aside and rebuild, or "
                      "restore it from a parquet export (KnowledgeBase.from_parquet)"
                      if self.dialect == "sqlite" else
                      "(server down or unreachable, wrong credentials or database name?): {}")
            if self.dialect == "sqlite" and _is_text_table(self.engine.url.database):
                raise ValueError(
                    f"store {_shown(store)!r} is a data table, not a knowledge base "
                    f"({_STORES}): to build one from your tables, give a new path such as "
                    f"kb.sqlite ({_BUILD_ONE})") from exc
            if self.dialect == "sqlite" and _is_parquet(self.engine.url.database):
                raise ValueError(
                    f"store {_shown(store)!r} is a parquet export: it is read as a copy in "
                    "memory (metaopt.kb.open_knowledge_base, `--kb`), where a build would not "
                    "be saved. Build into a SQLite store, such as the one it was exported "
                    "from; to make one of it, "
                    f"KnowledgeBase.from_parquet({_shown(store)!r}, store='kb.sqlite')") from exc
            raise ValueError(f"store {_shown(store)!r} cannot be opened as a knowledge base "
                             + advice.format(exc.orig or exc)) from exc
        if version != SCHEMA_VERSION:
            self.engine.dispose()
            raise ValueError(
                f"store {_shown(store)!r} has schema version {version!r}; this metaopt "
                f"reads version {SCHEMA_VERSION!r}"
            )

    def _insert(self, table: sa.Table):
        return (sqlite if self.dialect == "sqlite" else postgresql).insert(table)

    # ------------------------------------------------------------------ writes
    def add_dataset(self, record: Mapping[str, Any], *,
                    metafeatures_version: int | None = None) -> None:
        """Insert or update one dataset row.

        On update, fields given as None keep their stored value (so an external source
        without meta-features does not erase them); ``status`` and ``error`` are replaced.

        Parameters
        ----------
        record : mapping
            The row (key ``dataset_key``; see ``DATASET_COLUMNS``).
        metafeatures_version : int, optional
            Version of the record's meta-features (default: this metaopt's
            ``METAFEATURES_VERSION``); ``ValueError`` if the store holds meta-features of
            another version, which one store must not mix.
        """
        row = {k: record.get(k) for k in DATASET_COLUMNS}
        if not row["dataset_key"]:
            raise ValueError("dataset record needs a non-empty 'dataset_key'")
        if row["status"] not in ("ok", "failed"):
            raise ValueError(f"dataset status must be 'ok' or 'failed', got {row['status']!r}")
        if isinstance(row["metafeatures"], Mapping | pd.Series):
            row["metafeatures"] = dumps(dict(row["metafeatures"]))
        row["updated_at"] = row["updated_at"] or now()
        stmt = self._insert(datasets_table).values(row)
        stmt = stmt.on_conflict_do_update(
            index_elements=["dataset_key"],
            set_={
                k: stmt.excluded[k] if k in ("status", "error")
                else sa.func.coalesce(stmt.excluded[k], datasets_table.c[k])
                for k in DATASET_COLUMNS if k != "dataset_key"
            },
        )
        with self.engine.begin() as conn:
            if row["metafeatures"] is not None:
                self._claim_metafeatures_version(conn, metafeatures_version)
            conn.execute(stmt)

    def _claim_metafeatures_version(self, conn, version: int | None) -> None:
        """Record ``version`` as the store's meta-features' if it has none yet; ValueError
        if it has another."""
        if version is None:
            version = current_metafeatures_version()
        stored = self._metafeatures_version(conn)
        if stored is None:  # the first meta-features (another writer may be first)
            conn.execute(self._insert(_meta_table).values(key=MF_VERSION_KEY, value=str(version))
                         .on_conflict_do_nothing())
            stored = self._metafeatures_version(conn)
        if stored is not None and stored != version:  # (not None: recorded just now)
            raise ValueError(mixed_metafeatures(stored, version))

    def metafeatures_version(self) -> int | None:
        """The ``METAFEATURES_VERSION`` of the stored meta-features.

        Returns
        -------
        int or None
            The recorded version; ``LEGACY_MF_VERSION`` for a store that holds
            meta-features without a recorded version; None when none are stored.
        """
        with self.engine.connect() as conn:
            return self._metafeatures_version(conn)

    @staticmethod
    def _metafeatures_version(conn) -> int | None:
        value = conn.execute(sa.select(_meta_table.c.value)
                             .where(_meta_table.c.key == MF_VERSION_KEY)).scalar()
        if value is not None:
            return int(value)
        has_any = conn.execute(sa.select(datasets_table.c.dataset_key)
                               .where(datasets_table.c.metafeatures.is_not(None)).limit(1))
        return LEGACY_MF_VERSION if has_any.first() is not None else None

    def add_distributions(self, space: str, distributions: Mapping[str, Any]) -> None:
        """Record the Optuna distributions of the parameters of a space of the user's own
        (:func:`merge_distributions` with those stored).

        Parameters
        ----------
        space : str
            The space's name.
        distributions : mapping of str to optuna.distributions.BaseDistribution
        """
        if not distributions:
            return
        key = _space_key(SPACE_KEY, space)
        where = _meta_table.c.key == key
        with self.engine.begin() as conn:
            text = conn.execute(sa.select(_meta_table.c.value).where(where)).scalar()
            merged = merge_distributions(json.loads(text or "{}"), distributions,
                                         f"the import into space {space!r}",
                                         "the knowledge base holds")
            stmt = self._insert(_meta_table).values(key=key, value=dumps(merged))
            conn.execute(stmt.on_conflict_do_update(index_elements=["key"],
                                                    set_={"value": stmt.excluded.value}))

    def distributions(self) -> dict[str, dict[str, Any]]:
        """The Optuna distributions of the spaces of the user's own.

        Returns
        -------
        dict of str to dict
            ``{space: {param: distribution}}``, each distribution the JSON object of
            ``optuna.distributions.distribution_to_json``; empty when there are none.
        """
        return self._meta_json(SPACE_KEY)

    def add_space_description(self, description: Mapping[str, Any]) -> None:
        """Record the description of a space of the user's own that :func:`~metaopt.kb.build`
        evaluates, from which a meta-model's training rebuilds the space.

        Parameters
        ----------
        description : mapping
            ``SearchSpace.to_json_dict()``. ``ValueError`` if the store holds another
            description under its name (a changed space): one space's evaluations would
            be trained on as another's. Its ``version`` (metaopt's) is not compared.
        """
        _check_description(description)  # a wrong one, once stored, would refuse the right
        name = description["name"]
        key = _space_key(SPACE_JSON_KEY, name)
        new = json.loads(dumps(description))
        with self.engine.begin() as conn:  # another writer may be first
            conn.execute(self._insert(_meta_table).values(key=key, value=dumps(new))
                         .on_conflict_do_nothing())
            stored = json.loads(conn.execute(sa.select(_meta_table.c.value)
                                             .where(_meta_table.c.key == key)).scalar_one())
        changed = [k for k in sorted(new.keys() | stored.keys())
                   if k != "version" and new.get(k) != stored.get(k)]
        if changed:
            raise ValueError(
                f"space {name!r} is not the one the knowledge base holds evaluations of "
                f"under that name: its {', '.join(changed)} differ; the evaluations of both "
                "would be trained on as one space's. Name the changed space apart (e.g. "
                f"'{name}_2') or build it into a new store")

    def space_descriptions(self) -> dict[str, dict[str, Any]]:
        """The descriptions of the spaces of the user's own that :func:`~metaopt.kb.build`
        evaluated.

        Returns
        -------
        dict of str to dict
            ``{space: SearchSpace.to_json_dict()}``; empty when there are none.
        """
        return self._meta_json(SPACE_JSON_KEY)

    def _meta_json(self, prefix: str) -> dict[str, Any]:
        """``name -> JSON value`` of the ``kb_meta`` keys ``<prefix><name>``."""
        query = sa.select(_meta_table).where(_meta_table.c.key.startswith(prefix))
        with self.engine.connect() as conn:
            return {key[len(prefix):]: json.loads(value) for key, value in conn.execute(query)}

    def add_evaluations(
        self, records: Iterable[Mapping[str, Any]], *, replace: bool = False
    ) -> int:
        """Insert evaluation records in one transaction.

        Parameters
        ----------
        records : iterable of mapping
            Evaluation rows (see ``EVALUATION_COLUMNS``).
        replace : bool, default=False
            A record whose ``(dataset_key, space, config_id, seed)`` is already stored is
            skipped (False) or overwrites the stored one (True).

        Returns
        -------
        int
            How many were written: the new records (``replace=False``), else all.
        """
        rows = [self._evaluation_row(r) for r in records]
        if not rows:
            return 0
        stmt = self._insert(evaluations_table)
        if replace:
            stmt = stmt.on_conflict_do_update(
                index_elements=list(_UNIQUE_KEY),
                set_={k: stmt.excluded[k] for k in EVALUATION_COLUMNS if k not in _UNIQUE_KEY},
            )
        else:
            stmt = stmt.on_conflict_do_nothing(index_elements=list(_UNIQUE_KEY))
        with self.engine.begin() as conn:
            if replace:
                conn.execute(stmt, rows)
                return len(rows)
            # the rows this insert wrote, as it returns them: a count of the table before
            # and after also counted what other writers stored meanwhile (4 processes
            # each storing the same 400 evaluations were told 1180 were new)
            return len(conn.execute(stmt.returning(evaluations_table.c.id), rows).all())

    def add_evaluation(self, record: Mapping[str, Any], *, replace: bool = False) -> bool:
        """Insert one evaluation in its own transaction.

        Parameters
        ----------
        record : mapping
            An evaluation row (see ``EVALUATION_COLUMNS``).
        replace : bool, default=False
            Overwrite a stored evaluation of the same key (see :meth:`add_evaluations`).

        Returns
        -------
        bool
            Whether it was written (False: stored already and kept, ``replace=False``).
        """
        return self.add_evaluations([record], replace=replace) == 1

    @staticmethod
    def _evaluation_row(record: Mapping[str, Any]) -> dict[str, Any]:
        unknown = set(record) - set(EVALUATION_COLUMNS)
        if unknown:
            raise ValueError(
                f"unknown evaluation field(s) {sorted(unknown)}; accepted: {EVALUATION_COLUMNS}"
            )
        row: dict[str, Any] = {k: record.get(k) for k in EVALUATION_COLUMNS}
        missing = [k for k in (*_UNIQUE_KEY, "config", "status", "origin") if row[k] is None]
        if missing:
            raise ValueError(f"evaluation record is missing required field(s) {missing}")
        if row["status"] not in STATUSES:
            raise ValueError(f"evaluation status must be one of {STATUSES}, got {row['status']!r}")
        for key in ("config", "versions", "extra"):
            if row[key] is not None and not isinstance(row[key], str):
                row[key] = dumps(row[key])
        for key in ("cv_score", "cv_score_std", "test_score", "fit_time", "eval_time"):
            value = row[key]
            row[key] = None if value is None or not math.isfinite(float(value)) else float(value)
        row["seed"] = int(row["seed"])
        row["created_at"] = row["created_at"] or now()
        return row

    def start_run(self, run_id: str, record: Mapping[str, Any]) -> None:
        """Record the start of a build run (see ``kb_runs``).

        Parameters
        ----------
        run_id : str
        record : mapping
            Other columns of the run (host, machine, versions...).
        """
        row = {c.name: record.get(c.name) for c in runs_table.columns}
        row.update(run_id=run_id, started_at=now(), status="running")
        with self.engine.begin() as conn:
            conn.execute(self._insert(runs_table).values(row))

    def finish_run(self, run_id: str, status: str, n_evaluations: int, seconds: float) -> None:
        """Record how a build run ended.

        Parameters
        ----------
        run_id : str
        status : str
            E.g. ``"finished"``, ``"interrupted"``, ``"crashed"``.
        n_evaluations : int
            Evaluations the run stored.
        seconds : float
            Duration of the run.
        """
        with self.engine.begin() as conn:
            conn.execute(
                runs_table.update()
                .where(runs_table.c.run_id == run_id)
                .values(finished_at=now(), status=status, n_evaluations=n_evaluations,
                        seconds=seconds)
            )

    # ------------------------------------------------------------------ reads
    def __len__(self) -> int:
        with self.engine.connect() as conn:
            return int(
                conn.execute(sa.select(sa.func.count()).select_from(evaluations_table)).scalar_one()
            )

    def done(self, dataset_key: str | None = None) -> dict[tuple[str, str, str, int], str]:
        """Map ``(dataset_key, space, config_id, seed)`` -> status of stored evaluations.

        Parameters
        ----------
        dataset_key : str, optional
            Only the evaluations of this dataset (None: all).

        Returns
        -------
        dict
        """
        t = evaluations_table
        query = sa.select(t.c.dataset_key, t.c.space, t.c.config_id, t.c.seed, t.c.status)
        if dataset_key is not None:
            query = query.where(t.c.dataset_key == dataset_key)
        with self.engine.connect() as conn:
            return {tuple(r[:4]): r[4] for r in conn.execute(query)}

    def datasets(self) -> pd.DataFrame:
        """One row per dataset, including those that failed to load.

        Returns
        -------
        pandas.DataFrame
            The columns of ``DATASET_COLUMNS``: ``metafeatures`` as JSON text, ``status``
            ``"ok"`` or ``"failed"`` (with its ``error``), the ids and sizes as ``Int64``.
        """
        with self.engine.connect() as conn:
            frame = pd.read_sql(sa.select(datasets_table), conn)
        return frame.astype({"openml_dataset_id": "Int64", "openml_task_id": "Int64",
                             "n_samples": "Int64", "n_features": "Int64", "n_classes": "Int64"})

    def runs(self) -> pd.DataFrame:
        """One row per build run.

        Returns
        -------
        pandas.DataFrame
            The ``kb_runs`` table: ``run_id``, ``started_at``, ``finished_at``, ``status``
            (``running``, ``finished``, ``interrupted`` or ``crashed``), ``host``,
            ``machine`` and ``params`` (JSON), ``versions``, ``n_evaluations``,
            ``seconds``. A ``running`` run of this host whose process is gone (killed, as
            by SIGKILL, which no handler sees) reads ``crashed``: its process id is not
            alive, or (where it was recorded, on Linux) that process started at another
            time than the run's, a new process that took the id.
        """
        with self.engine.connect() as conn:
            runs = pd.read_sql(sa.select(runs_table), conn)
        here = socket.gethostname()

        def died(host: str | None, machine: str | None) -> bool:
            record = json.loads(machine) if machine else {}
            pid, start = record.get("pid"), record.get("pid_start")
            if host != here or not isinstance(pid, int):
                return False
            if not pid_alive(pid):
                return True
            now_start = process_start(pid) if isinstance(start, int) else None
            return now_start is not None and now_start != start

        gone = [status == "running" and died(host, machine) for status, host, machine
                in zip(runs["status"], runs["host"], runs["machine"], strict=True)]
        runs.loc[gone, "status"] = "crashed"
        return runs

    def to_frame(self, *, metafeatures: bool = True) -> pd.DataFrame:
        """All evaluations, one row each: config as JSON, dataset fields and ``mf_*`` columns.

        ``attrs["distributions"]`` holds :meth:`distributions` and
        ``attrs["space_descriptions"]`` :meth:`space_descriptions` when there are any, and
        ``attrs["metafeatures_version"]`` the ``mf_*`` columns' :meth:`metafeatures_version`
        (both kept by a parquet export and :meth:`add_frame`).

        Parameters
        ----------
        metafeatures : bool, default True
            Add one ``mf_<name>`` float column per meta-feature of the dataset.

        Returns
        -------
        pandas.DataFrame

        Warns
        -----
        MetaFeaturesVersionWarning
            If the meta-features are of another ``METAFEATURES_VERSION`` than this
            metaopt's: compared with a dataset's computed now (nearest datasets,
            meta-models, portfolios, ``MetaSampler``) they would mix two definitions.
        """
        frame = self._frame(metafeatures)
        version = frame.attrs.get(MF_VERSION_KEY)
        if version is not None and version != (current := current_metafeatures_version()):
            warn(
                f"the knowledge base's meta-features are of version {version}, this metaopt "
                f"computes version {current} "
                "(metaopt.metafeatures.METAFEATURES_VERSION): a dataset's meta-features "
                "compared with them (nearest datasets, meta-models, portfolios, MetaSampler) "
                "mix two definitions. Rebuild the knowledge base with this metaopt (a new "
                f"store), or use the metaopt whose meta-features are of version {version}",
                MetaFeaturesVersionWarning)
        return frame

    def _frame(self, metafeatures: bool) -> pd.DataFrame:
        with self.engine.connect() as conn:
            frame = pd.read_sql(
                sa.select(evaluations_table).order_by(evaluations_table.c.id), conn
            ).drop(columns="id")
        for col in ("cv_score", "cv_score_std", "test_score", "fit_time", "eval_time"):
            frame[col] = frame[col].astype(float)
        datasets = self.datasets()
        info = datasets[["dataset_key", "name", "source", "source_id", "openml_dataset_id",
                         "openml_task_id", "n_samples", "n_features", "n_classes"]]
        info = info.rename(columns={"name": "dataset_name", "source": "dataset_source"})
        frame = frame.merge(info, on="dataset_key", how="left")
        if metafeatures:
            mf = _metafeature_frame(datasets)
            frame = frame.merge(mf, left_on="dataset_key", right_index=True, how="left")
        if distributions := self.distributions():
            frame.attrs["distributions"] = distributions
        if descriptions := self.space_descriptions():
            frame.attrs["space_descriptions"] = descriptions
        if metafeatures and (version := self.metafeatures_version()) is not None:
            frame.attrs[MF_VERSION_KEY] = version
        return frame

    # ------------------------------------------------------------------ parquet
    def check_not_own_file(self, path: str | os.PathLike, what: str) -> None:
        """``ValueError`` if ``path`` is this knowledge base's own SQLite file.

        Parameters
        ----------
        path : str or path-like
            Where a file is to be written.
        what : str
            The file to be written, named in the error.
        """
        database = self.engine.url.database if self.dialect == "sqlite" else None
        if database and database != ":memory:" and Path(database).resolve() == Path(
                path).resolve():
            raise ValueError(f"{os.fspath(path)!r} is the knowledge base's own SQLite file: "
                             f"{what} would replace the store; give another path")

    def to_parquet(self, path: str | os.PathLike) -> Path:
        """Write :meth:`to_frame` to a parquet file atomically (temp file + rename).

        The file's metadata (``attrs`` of the frame :meth:`from_parquet` reads) also holds
        the build history: ``"runs"``, the rows of :meth:`runs`, and ``"datasets"``, the
        rows of :meth:`datasets` (status, load error, ``updated_at``; the meta-features of
        a dataset without evaluations, which has no row to hold them), so a store read
        back keeps its builds and the datasets that failed to load. Only the store's own
        creation time (``kb_meta``) is not kept: the store read back is a new one.

        Raises ``ValueError`` if ``path`` is this knowledge base's own SQLite file, a
        directory, or under a file.

        Parameters
        ----------
        path : str or path-like

        Returns
        -------
        Path
        """
        path = check_writable(path, "the parquet export")
        self.check_not_own_file(path, "the export")
        path.parent.mkdir(parents=True, exist_ok=True)
        frame = self._frame(metafeatures=True)  # (no warning: it keeps their version)
        datasets = self.datasets()
        datasets.loc[datasets["dataset_key"].isin(frame["dataset_key"]),
                     "metafeatures"] = None  # in the frame's mf_* columns
        frame.attrs.update(runs=_records(self.runs()), datasets=_records(datasets))
        write_whole(path, lambda tmp: frame.to_parquet(tmp, index=False))
        return path

    @classmethod
    def from_parquet(
        cls, path: str | os.PathLike, store: str | os.PathLike = ":memory:"
    ) -> KnowledgeBase:
        """Load a parquet export (see :meth:`to_parquet`) into a store; ``parquet_source``
        remembers the file, which a card must not replace.

        Parameters
        ----------
        path : str or path-like
            The parquet file.
        store : str or path-like, default=":memory:"
            The store to fill (a database URL or SQLite file).

        Returns
        -------
        KnowledgeBase
        """
        try:
            frame = pd.read_parquet(path)
        except FileNotFoundError as exc:
            raise ValueError(f"no knowledge base parquet file at {os.fspath(path)!r}") from exc
        except Exception as exc:  # pyarrow raises several types for a damaged file
            raise ValueError(
                f"{os.fspath(path)!r} is not a readable knowledge base parquet file: {exc}"
            ) from exc
        missing = _FRAME_REQUIRED - set(frame)
        if missing:
            raise ValueError(
                f"{os.fspath(path)!r} lacks knowledge base column(s) {sorted(missing)}: it "
                "is no knowledge base export (a data table? build a knowledge base from it "
                "with metaopt build-kb or metaopt.kb.build)"
            )
        kb = cls(store)
        kb.add_frame(frame)
        kb.parquet_source = Path(path)
        return kb

    def add_frame(self, frame: pd.DataFrame) -> int:
        """Insert rows shaped like :meth:`to_frame` (datasets, evaluations, distributions,
        space descriptions; a parquet export's build runs and dataset rows).

        Parameters
        ----------
        frame : pandas.DataFrame
            Its meta-features are of ``attrs["metafeatures_version"]``, or
            ``LEGACY_MF_VERSION`` for a frame that does not say (:meth:`add_dataset`).

        Returns
        -------
        int
            The count of new evaluations.
        """
        missing = _FRAME_REQUIRED - set(frame.columns)
        if missing:  # before anything is written
            raise ValueError(
                f"the frame lacks knowledge base column(s) {sorted(missing)}: add_frame "
                "takes rows shaped like KnowledgeBase.to_frame()'s, such as pd.read_parquet "
                "of an export")
        for space, distributions in frame.attrs.get("distributions", {}).items():
            self.add_distributions(space, distributions)
        for description in frame.attrs.get("space_descriptions", {}).values():
            self.add_space_description(description)
        version = int(frame.attrs.get(MF_VERSION_KEY, LEGACY_MF_VERSION))
        mf_cols = [c for c in frame.columns if c.startswith(MF_PREFIX)]
        renames = {"dataset_name": "name", "dataset_source": "source"}
        per_dataset = frame.drop_duplicates("dataset_key").rename(columns=renames)
        for row in per_dataset.to_dict("records"):
            mf = {c[len(MF_PREFIX):]: row[c] for c in mf_cols}
            record = {k: _none_if_na(row.get(k)) for k in DATASET_COLUMNS}
            # a dataset stored without meta-features has NaN columns beside others': none
            record.update(metafeatures=None if pd.isna(list(mf.values())).all() else mf,
                          status="ok")
            self.add_dataset(record, metafeatures_version=version)
        for record in frame.attrs.get("datasets", []):  # status, error, those without rows
            self.add_dataset(record, metafeatures_version=version)
        if runs := frame.attrs.get("runs"):
            rows = [{c.name: r.get(c.name) for c in runs_table.columns} for r in runs]
            with self.engine.begin() as conn:  # a run stored already is kept
                conn.execute(self._insert(runs_table).on_conflict_do_nothing(
                    index_elements=["run_id"]), rows)
        cols = [c for c in EVALUATION_COLUMNS if c in frame.columns]
        return self.add_evaluations(_records(frame[cols]))


def _close_store(text: str) -> str:
    """``"; did you mean 'metaopt-kb.sqlite'?"`` for a missing store's path whose folder
    holds a store of a close name (a SQLite file or a parquet export), else ``""``."""
    path = Path(text)
    folder = path.parent
    if "://" in text or not folder.is_dir():
        return ""
    stores = [p.name for p in folder.iterdir()
              if p.suffix in (".sqlite", ".sqlite3", ".db", ".parquet") and p.is_file()]
    close = difflib.get_close_matches(path.name, stores, n=1)
    if not close:
        return ""
    shown = close[0] if folder == Path(".") else os.fspath(folder / close[0])
    return f"; did you mean {shown!r}?"


def _check_description(description: Any) -> None:
    """A ``ValueError`` unless ``description`` rebuilds a space, as training rebuilds it
    from the store (``SearchSpace.to_json_dict()``)."""
    from metaopt.ranker._spaces import space_from_json

    try:
        if not isinstance(description, Mapping):
            raise TypeError(f"got {type(description).__name__}")
        if not isinstance(description.get("name"), str):
            raise TypeError(f"its name is {description.get('name')!r}")
        space_from_json(json.loads(dumps(description)))
    except (KeyError, TypeError, ValueError, AttributeError, IndexError) as error:
        raise ValueError(
            "the description must be a space's SearchSpace.to_json_dict(), with its name, "
            "tasks, distributions, conditions and defaults: "
            + (f"it lacks {error}" if isinstance(error, KeyError) else str(error))) from None


def _add_missing_columns(conn) -> None:
    """Add the nullable columns a store made by an earlier metaopt lacks (its rows read
    them as missing)."""
    inspector = sa.inspect(conn)
    for table in _metadata.sorted_tables:
        have = {c["name"] for c in inspector.get_columns(table.name)}
        for column in table.columns:
            if column.name not in have:
                kind = column.type.compile(dialect=conn.dialect)
                conn.exec_driver_sql(
                    f'ALTER TABLE {table.name} ADD COLUMN "{column.name}" {kind}')


def _none_if_na(value: Any) -> Any:
    if value is None or (not isinstance(value, str | bytes | list | dict) and pd.isna(value)):
        return None
    return value.item() if isinstance(value, np.generic) else value


def mixed_metafeatures(stored: int, version: int) -> str:
    """Why meta-features of ``version`` cannot join a store's of version ``stored``."""
    return (f"the knowledge base holds meta-features of version {stored} "
            f"(metaopt.metafeatures.METAFEATURES_VERSION), these are of version {version}: "
            "one store mixing them would compare datasets described by two definitions. "
            "Store them in a new knowledge base (a new build), or use the metaopt whose "
            f"meta-features are of version {stored}")


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """``frame``'s rows as JSON-able dicts (None for a missing value)."""
    return [{k: _none_if_na(v) for k, v in r.items()} for r in frame.to_dict("records")]


def _metafeature_frame(datasets: pd.DataFrame) -> pd.DataFrame:
    rows = {
        key: json.loads(text) if isinstance(text, str) else {}
        for key, text in zip(datasets["dataset_key"], datasets["metafeatures"], strict=True)
    }
    mf = pd.DataFrame.from_dict(rows, orient="index", dtype=float)
    mf.columns = [f"{MF_PREFIX}{c}" for c in mf.columns]
    return mf
