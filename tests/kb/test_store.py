"""The store: exactly-once writes, frames, parquet, corrupt files, concurrent writers."""

from __future__ import annotations

import multiprocessing
import os
import shutil
import sqlite3

import numpy as np
import optuna
import pandas as pd
import pytest

from metaopt.kb import EVALUATION_COLUMNS, KnowledgeBase, open_knowledge_base


def _record(i: int, **kw):
    return {"dataset_key": "d/1", "space": "s", "config_id": f"c{i}", "seed": 0,
            "config": {"a": i}, "status": "ok", "origin": "metaopt", "cv_score": i / 10,
            "task": "classification", **kw}


def _dataset(key="d/1", **kw):
    return {"dataset_key": key, "name": key, "source": "test", "task": "classification",
            "status": "ok", "metafeatures": {"n_rows": 10.0, "skew": float("nan")}, **kw}


def test_exactly_once_and_replace(tmp_path):
    kb = KnowledgeBase(tmp_path / "kb.sqlite")
    assert kb.add_evaluation(_record(1))
    assert not kb.add_evaluation(_record(1, cv_score=0.9))  # same key: ignored
    assert kb.add_evaluations([_record(1), _record(2), _record(3)]) == 2
    assert len(kb) == 3
    assert kb.to_frame()["cv_score"].tolist() == [0.1, 0.2, 0.3]
    assert kb.add_evaluation(_record(1, status="failed", cv_score=None, error="x"), replace=True)
    assert kb.done()[("d/1", "s", "c1", 0)] == "failed"
    assert len(kb) == 3
    # replace=True counts what it wrote, overwritten records included (as documented)
    assert kb.add_evaluations([_record(2), _record(3), _record(4)], replace=True) == 3


def test_frame_parquet_roundtrip(tmp_path):
    kb = KnowledgeBase()
    kb.add_dataset(_dataset())
    kb.add_evaluations([_record(i, extra={"fold_scores": [0.1, 0.2]}) for i in range(5)])
    frame = kb.to_frame()
    assert list(frame.columns[: len(EVALUATION_COLUMNS)]) == list(EVALUATION_COLUMNS)
    assert frame["mf_n_rows"].tolist() == [10.0] * 5
    assert frame["mf_skew"].isna().all()
    path = kb.to_parquet(tmp_path / "out" / "kb.parquet")
    umask = os.umask(0)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask  # not the temp file's private 0600
    back = KnowledgeBase.from_parquet(path).to_frame()
    cols = [c for c in frame.columns if c != "created_at"]
    pd.testing.assert_frame_equal(frame[cols], back[cols], check_dtype=False)


def test_atomic_writes_leave_the_process_umask_alone(tmp_path, monkeypatch):
    """The parquet export and the model files read the umask by setting it to 0 and back:
    a process-wide setting, so a file another thread created in between was
    world-writable. Their files still get a plain file's permissions."""
    from metaopt._model_files import write_files

    umask = os.umask(0o022)
    os.umask(umask)
    calls = []
    monkeypatch.setattr(os, "umask", lambda mask: calls.append(mask) or umask)
    kb = KnowledgeBase()
    kb.add_evaluation(_record(1))
    written = [kb.to_parquet(tmp_path / "kb.parquet"), tmp_path / "model.json"]
    write_files({written[1]: b"{}"})
    assert calls == []
    assert [p.stat().st_mode & 0o777 for p in written] == [0o666 & ~umask] * 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kb.parquet", "model.json"]


def test_dataset_update_keeps_known_fields():
    kb = KnowledgeBase()
    kb.add_dataset(_dataset(n_samples=10))
    kb.add_dataset({"dataset_key": "d/1", "source": "yahpo", "status": "ok"})
    row = kb.datasets().iloc[0]
    assert row["n_samples"] == 10 and "n_rows" in row["metafeatures"]


@pytest.mark.parametrize(
    ("record", "match"),
    [(_record(1, status="weird"), "status must be one of"),
     (_record(1, colour="red"), "unknown evaluation field"),
     ({"dataset_key": "d", "space": "s"}, "missing required field")],
)
def test_bad_records(record, match):
    with pytest.raises(ValueError, match=match):
        KnowledgeBase().add_evaluation(record)


def test_url_and_bad_dialect(tmp_path):
    kb = KnowledgeBase(f"sqlite:///{tmp_path / 'u.sqlite'}")
    kb.add_evaluation(_record(1))
    assert len(KnowledgeBase(tmp_path / "u.sqlite")) == 1
    with pytest.raises(ValueError, match="supported: a SQLite path"):
        KnowledgeBase("mysql://user@localhost/db")


def test_corrupt_and_foreign_stores(tmp_path):
    garbage = tmp_path / "garbage.sqlite"
    garbage.write_bytes(b"this is not a database" * 100)
    with pytest.raises(ValueError, match="corrupt or half-written"):
        KnowledgeBase(garbage)

    good = tmp_path / "good.sqlite"
    kb = KnowledgeBase(good)
    kb.add_evaluations([_record(i, error="x" * 5000) for i in range(300)])
    kb.close()
    with sqlite3.connect(good) as conn:  # fold the WAL in so the main file holds the data
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    data = good.read_bytes()
    half = tmp_path / "half.sqlite"
    half.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="corrupt or half-written"):
        KnowledgeBase(half)

    optuna_db = tmp_path / "optuna.db"
    optuna.create_study(storage=f"sqlite:///{optuna_db}")
    with pytest.raises(ValueError, match="Optuna storage"):
        KnowledgeBase(optuna_db)

    bad_parquet = tmp_path / "bad.parquet"
    bad_parquet.write_bytes(b"PAR1 truncated")
    with pytest.raises(ValueError, match="not a readable knowledge base parquet"):
        KnowledgeBase.from_parquet(bad_parquet)


def test_a_store_failing_sqlites_check_is_refused_with_what_the_check_found(tmp_path):
    """A file that opens but fails PRAGMA quick_check (here: a page nothing uses) is
    refused with the check's own words. Before: "(builtins.NoneType) None [SQL: integrity
    check: ...] (Background on this error at: https://sqlalche.me/...)"."""
    store = tmp_path / "kb.sqlite"
    KnowledgeBase(store).close()
    with sqlite3.connect(store) as conn:  # fold the WAL in so the main file holds the data
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    data = bytearray(store.read_bytes())
    page_size, pages = int.from_bytes(data[16:18], "big"), int.from_bytes(data[28:32], "big")
    data[28:32] = (pages + 1).to_bytes(4, "big")  # one page more, which no table uses
    store.write_bytes(bytes(data + bytes(page_size)))
    with pytest.raises(ValueError, match="corrupt or half-written") as info:
        KnowledgeBase(store)
    message = str(info.value)
    assert f"file?): integrity check: *** in database main ***\nPage {pages + 1} is never used. "\
        "Move it aside" in message
    assert "NoneType" not in message and "sqlalche.me" not in message


def _writer(path, offset):
    kb = KnowledgeBase(path)
    for i in range(60):  # overlapping ranges: 0..59 and 30..89
        kb.add_evaluation(_record(offset + i))


def test_two_processes_write_one_sqlite_file(tmp_path):
    path = tmp_path / "shared.sqlite"
    KnowledgeBase(path).close()
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_writer, args=(path, off)) for off in (0, 30)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    frame = KnowledgeBase(path).to_frame()
    assert len(frame) == 90
    assert not frame.duplicated(["dataset_key", "space", "config_id", "seed"]).any()
    assert np.isclose(frame["cv_score"].sum(), sum(i / 10 for i in range(90)))


def test_a_database_without_its_driver_names_the_package():
    """A postgresql:// store without its driver ended in a ModuleNotFoundError traceback."""
    import importlib.util

    if importlib.util.find_spec("psycopg") or importlib.util.find_spec("psycopg2"):
        pytest.skip("a PostgreSQL driver is installed here")
    with pytest.raises(ValueError, match=r"'postgresql://u:\*\*\*@localhost/db' needs the Python package"):
        KnowledgeBase("postgresql://u:secret@localhost/db")
    # the pip package of the driver SQLAlchemy asked for, not another PostgreSQL driver
    with pytest.raises(ValueError, match=r"'psycopg2' .*`pip install psycopg2-binary`"):
        KnowledgeBase("postgresql+psycopg2://u:secret@localhost/db")


def test_messages_mask_the_password_of_a_store_url():
    """The password of a store URL was printed whole (logs, tracebacks) when the store
    could not be opened, had another schema or dialect; only the missing-driver message
    and repr masked it."""
    with pytest.raises(ValueError, match=r"'mysql://u:\*\*\*@localhost/db' uses 'mysql'") as info:
        KnowledgeBase("mysql://u:secret@localhost/db")
    assert "secret" not in str(info.value)
    # a URL SQLAlchemy cannot parse (a port that is no number) failed with int()'s message
    with pytest.raises(ValueError, match=r"'postgresql://u:\*\*\*@host:nan/db' is not a "
                                         "valid path or URL") as info:
        KnowledgeBase("postgresql://u:secret@host:nan/db")
    assert "secret" not in str(info.value)
    # so did opening one to read (`metaopt kb info URL`, `train-meta-model --kb URL`)
    with pytest.raises(ValueError, match=r"'postgresql://u:\*\*\*@host:nan/db' is not a "
                                         "valid path or URL") as info:
        KnowledgeBase.open_existing("postgresql://u:secret@host:nan/db")
    assert "secret" not in str(info.value)
    pytest.importorskip("psycopg")  # a server that cannot be reached (port 1)
    with pytest.raises(ValueError, match="cannot be opened as a knowledge base") as info:
        KnowledgeBase("postgresql+psycopg://u:secret@127.0.0.1:1/db")
    assert "secret" not in str(info.value) and "u:***@" in str(info.value)
    assert "server down or unreachable" in str(info.value)  # not "corrupt file? rebuild"
    assert "rebuild" not in str(info.value)



def test_export_onto_its_own_store_is_refused(tmp_path, monkeypatch):
    """`metaopt kb export kb.sqlite kb.sqlite` replaced the store by its parquet export."""
    store = tmp_path / "kb.sqlite"
    with KnowledgeBase(store) as kb:
        kb.add_evaluation(_record(1))
        monkeypatch.chdir(tmp_path)
        with pytest.raises(ValueError, match="own SQLite file"):
            kb.to_parquet("kb.sqlite")
    assert len(KnowledgeBase(store)) == 1


def test_a_data_table_given_as_the_store_is_named_one(tmp_path, pmlb_root):
    """A dataset's CSV or TSV given where a knowledge base goes (`metaopt kb info
    data.csv`, `build-kb --store data.tsv.gz`) was called "corrupt or half-written file?
    ... Move it aside and rebuild"."""
    table = tmp_path / "labor.tsv.gz"
    shutil.copy(pmlb_root / "labor" / "labor.tsv.gz", table)
    pd.read_csv(table, sep="\t").to_csv(tmp_path / "labor.csv", index=False)
    for path in (table, tmp_path / "labor.csv"):
        with pytest.raises(ValueError, match=r"is a data table, not a knowledge base .*"
                                             r"give a new path such as kb\.sqlite"):
            KnowledgeBase(path)
        with pytest.raises(ValueError, match="is a data table"):
            open_knowledge_base(path)


def test_a_parquet_export_given_as_the_store_of_a_build_is_named_one(tmp_path):
    """`build-kb --store kb.parquet` (the export of an earlier build, to grow it) was called
    "corrupt or half-written file? ... Move it aside and rebuild, or restore it from a
    parquet export": it is that export, whole."""
    with KnowledgeBase(tmp_path / "kb.sqlite") as kb:
        kb.add_evaluation(_record(1))
        export = kb.to_parquet(tmp_path / "kb.parquet")
    with pytest.raises(ValueError, match=r"is a parquet export: .* Build into a SQLite store.*"
                                         r"KnowledgeBase\.from_parquet\("):
        KnowledgeBase(export)
    assert len(open_knowledge_base(export)) == 1  # read as the export it is


def test_a_store_in_a_new_directory_is_created_and_a_directory_is_refused(tmp_path):
    """`--store results/kb.sqlite` without a results/ directory, and a directory given as
    the store, both failed as "corrupt or half-written file? Move it aside and rebuild"."""
    store = tmp_path / "results" / "run1" / "kb.sqlite"
    with KnowledgeBase(store) as kb:
        kb.add_evaluation(_record(1))
    assert len(KnowledgeBase(store)) == 1
    with pytest.raises(ValueError, match="is a directory; give the path of a SQLite file"):
        KnowledgeBase(tmp_path / "results")


def test_reading_a_missing_store_creates_nothing(tmp_path, monkeypatch):
    """Since stores create their directories, `metaopt kb info sqlite:///typo/kb.sqlite`
    (open_existing) created typo/ and an empty store, and reported 0 evaluations."""
    monkeypatch.chdir(tmp_path)
    for store in ("sqlite:///typo/kb.sqlite", f"sqlite:///{tmp_path}/typo/kb.sqlite",
                  "typo/kb.sqlite", ":memory:"):
        with pytest.raises(ValueError, match="no knowledge base at"):
            KnowledgeBase.open_existing(store)
    assert not (tmp_path / "typo").exists()
    with KnowledgeBase(tmp_path / "kb.sqlite") as kb:
        kb.add_evaluation(_record(1))
    for store in ("kb.sqlite", "sqlite:///kb.sqlite", f"sqlite:///{tmp_path}/kb.sqlite"):
        with KnowledgeBase.open_existing(store) as kb:
            assert len(kb) == 1


def _count(kb: KnowledgeBase) -> int:
    return len(kb)


def test_a_file_store_pickles_as_a_handle_and_a_memory_one_says_why_not(tmp_path):
    """Copying or pickling a KnowledgeBase (e.g. to pass it to a joblib worker) failed
    with "cannot pickle 'module' object"."""
    import concurrent.futures
    import copy
    import pickle

    path = tmp_path / "kb.parquet"
    kb = KnowledgeBase(tmp_path / "kb.sqlite")
    kb.add_evaluation(_record(1))
    copied = copy.deepcopy(kb)
    copied.add_evaluation(_record(2))
    assert len(kb) == 2 and copied.url == kb.url  # the same store, not a snapshot
    kb.to_parquet(path)
    on_file = KnowledgeBase.from_parquet(path, store=tmp_path / "from-parquet.sqlite")
    assert pickle.loads(pickle.dumps(on_file)).parquet_source == path
    ctx = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(1, mp_context=ctx) as pool:
        assert pool.submit(_count, kb).result(timeout=60) == 2
    for memory in (KnowledgeBase(), KnowledgeBase.from_parquet(path)):
        with pytest.raises(TypeError, match="in memory cannot be copied or pickled.*to_parquet"):
            pickle.dumps(memory)


def test_a_batch_counts_only_its_own_new_evaluations_beside_another_writer(tmp_path):
    """add_evaluations counted the table before and after its insert: the rows another
    writer stored in between were counted as this batch's (4 processes storing the same
    400 evaluations were told 1180 were new)."""
    import sqlalchemy as sa

    path = tmp_path / "shared.sqlite"
    kb, other = KnowledgeBase(path), KnowledgeBase(path)
    kb.add_evaluation(_record(0))

    done = []

    def meanwhile(conn, cursor, statement, *args):
        if statement.lstrip().upper().startswith("INSERT") and not done:
            done.append(True)
            other.add_evaluations([_record(1), _record(5), _record(6)])  # c1 is in the batch

    sa.event.listen(kb.engine, "before_cursor_execute", meanwhile)
    assert kb.add_evaluations([_record(0), _record(1), _record(2), _record(3)]) == 2
    assert len(kb) == 6


def test_a_parquet_file_without_the_origin_column_says_so(tmp_path):
    """A parquet file lacking `origin` (required of every evaluation) passed the column
    check and failed on its first row with "evaluation record is missing required
    field(s) ['origin']", which named neither the file nor a column."""
    kb = KnowledgeBase()
    kb.add_evaluations([_record(1), _record(2)])
    path = tmp_path / "old.parquet"
    kb.to_frame().drop(columns="origin").to_parquet(path)
    with pytest.raises(ValueError, match=r"old.parquet' lacks knowledge base column\(s\) "
                                         r"\['origin'\]"):
        KnowledgeBase.from_parquet(path)


class _Missing:
    key, name, task, source = "broken/missing", "missing", "classification", "test"

    def load(self):
        from metaopt.data import DatasetLoadError

        raise DatasetLoadError("file /nowhere/missing.tsv.gz not found")


def _assert_same_history(copy: KnowledgeBase, kb: KnowledgeBase) -> None:
    """``copy`` holds ``kb``'s build runs and dataset rows, its failed dataset among them."""
    pd.testing.assert_frame_equal(copy.runs(), kb.runs())
    by_key = ["dataset_key"]
    pd.testing.assert_frame_equal(copy.datasets().sort_values(by_key, ignore_index=True),
                                  kb.datasets().sort_values(by_key, ignore_index=True))
    assert copy.datasets().set_index("dataset_key").loc["broken/missing", "status"] == "failed"
    assert copy.metafeatures_version() == kb.metafeatures_version() == 1


def test_a_parquet_export_keeps_the_build_history(pmlb_root, tmp_path):
    """The export kept evaluations and meta-features only: read back, the knowledge base
    had no build runs (its card no settings, machines or versions; a build into it no
    warning of other settings) and had forgotten the datasets that failed to load."""
    from metaopt.data import get_suite
    from metaopt.kb import build, write_card

    two = get_suite("pmlb-classification", root=pmlb_root).select(limit=2,
                                                                   smallest_first=True)
    kb = KnowledgeBase(tmp_path / "kb.sqlite")
    # in this process: a loky build with n_jobs=1 starts a worker (1-4 s) per call
    settings = {"spaces": "knn", "cv_folds": 2, "max_rows": 1000, "progress": False,
                "backend": "sequential"}
    build([*two, _Missing()], kb, n_configs=1, **settings)
    build(two, kb, n_configs=2, **settings)
    back = KnowledgeBase.from_parquet(kb.to_parquet(tmp_path / "kb.parquet"))
    assert len(back.runs()) == 2
    _assert_same_history(back, kb)
    card = write_card(back, tmp_path / "CARD.md").read_text()
    assert "## Build runs" in card and "Datasets that failed to load: broken/missing" in card
    # read back into a store that has one of the runs: kept, once
    again = KnowledgeBase(tmp_path / "again.sqlite")
    again.add_frame(pd.read_parquet(tmp_path / "kb.parquet"))
    again.add_frame(pd.read_parquet(tmp_path / "kb.parquet"))
    assert again.runs()["run_id"].tolist() == kb.runs()["run_id"].tolist()


def test_the_copy_an_unpicklable_knowledge_base_recommends_keeps_its_history(
        pmlb_root, tmp_path, monkeypatch):
    """Pickling a knowledge base in memory recommended copying it with
    ``add_frame(kb.to_frame())``, which drops the build runs and the datasets that failed
    to load: the recipe the error gives must copy the whole knowledge base."""
    import pickle
    import re

    from metaopt.data import get_suite
    from metaopt.kb import build

    two = get_suite("pmlb-classification", root=pmlb_root).select(limit=2,
                                                                   smallest_first=True)
    kb = KnowledgeBase()
    build([*two, _Missing()], kb, spaces="knn", n_configs=1, cv_folds=2, max_rows=1000,
          progress=False, backend="sequential")  # no worker process to start
    with pytest.raises(TypeError) as refused:
        pickle.dumps(kb)
    recipe = re.findall(r"`([^`]+)`", str(refused.value))
    assert recipe, f"no recipe in {refused.value}"
    monkeypatch.chdir(tmp_path)
    eval(recipe[0], {"kb": kb, "KnowledgeBase": KnowledgeBase})  # noqa: S307 (our message)
    copied = pickle.loads(pickle.dumps(KnowledgeBase.open_existing("kb.sqlite")))
    assert len(copied) == len(kb) > 0
    _assert_same_history(copied, kb)
    pd.testing.assert_frame_equal(copied.to_frame(), kb.to_frame())


def test_meta_features_of_another_version_are_not_added_to_a_store(tmp_path):
    from metaopt.kb import MetaFeaturesVersionWarning

    kb = KnowledgeBase()
    kb.add_dataset(_dataset(), metafeatures_version=1)
    kb.add_dataset({"dataset_key": "y/1", "status": "ok"})  # without meta-features: fine
    with pytest.raises(ValueError, match="holds meta-features of version 1 .* these are of "
                       "version 2"):
        kb.add_dataset(_dataset("d/2"), metafeatures_version=2)
    kb.add_evaluation(_record(1))
    frame = kb.to_frame()
    assert frame.attrs["metafeatures_version"] == 1
    frame.attrs["metafeatures_version"] = 2  # e.g. an export of a later metaopt
    with pytest.raises(ValueError, match="these are of version 2"):
        kb.add_frame(frame)
    later = KnowledgeBase()
    assert later.add_frame(frame) == 1  # into a new store: its version goes with it
    assert later.metafeatures_version() == 2
    export = later.to_parquet(tmp_path / "later.parquet")  # no warning: it keeps the version
    assert KnowledgeBase.from_parquet(export).metafeatures_version() == 2
    with pytest.warns(MetaFeaturesVersionWarning, match="of version 2, this metaopt "
                      "computes version 1"):
        later.to_frame()


def test_a_run_whose_process_died_reads_as_crashed(tmp_path):
    """A build killed with SIGKILL (or a crash of the machine's process) left its run
    'running' in runs() and the knowledge-base card for good; a run of this host whose
    process is gone now reads 'crashed'. A live process's run, another host's and one
    recorded without a process id (older builds) read as stored."""
    import json
    import socket
    import subprocess
    import sys

    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    kb = KnowledgeBase(tmp_path / "kb.sqlite")
    here = socket.gethostname()
    for run_id, host, machine in (("killed", here, {"pid": dead.pid}),
                                  ("live", here, {"pid": os.getpid()}),
                                  ("elsewhere", "another-host", {"pid": dead.pid}),
                                  ("older", here, {"cpu_count": 2})):
        kb.start_run(run_id, {"host": host, "machine": json.dumps(machine)})
    status = kb.runs().set_index("run_id")["status"].to_dict()
    assert status == {"killed": "crashed", "live": "running", "elsewhere": "running",
                      "older": "running"}


def test_a_run_whose_process_id_was_taken_reads_as_crashed(tmp_path):
    """A killed build's run read 'running' as long as a new process held its process id;
    the run records when its process started (Linux), and a process of another start
    time is not its. A record of the same start time (the run's own process) and one of
    an older store, without a start time, read as stored."""
    import json
    import socket

    from metaopt._signals import process_start

    started = process_start(os.getpid())
    if started is None:
        pytest.skip("no /proc: no process start times")
    kb = KnowledgeBase(tmp_path / "kb.sqlite")
    here = socket.gethostname()
    for run_id, machine in (("taken", {"pid": os.getpid(), "pid_start": started - 1}),
                            ("own", {"pid": os.getpid(), "pid_start": started}),
                            ("older", {"pid": os.getpid()})):
        kb.start_run(run_id, {"host": here, "machine": json.dumps(machine)})
    status = kb.runs().set_index("run_id")["status"].to_dict()
    assert status == {"taken": "crashed", "own": "running", "older": "running"}


def test_a_killed_build_records_its_process_and_reads_as_crashed(tmp_path):
    """A build in a child process, killed with SIGKILL mid-evaluation: its run recorded
    the process id and (on Linux) its start time, and reads 'crashed' once it is gone."""
    import json
    import signal
    import subprocess
    import sys
    import time
    from pathlib import Path

    from metaopt._signals import process_start

    store = tmp_path / "kb.sqlite"
    script = f"""
import sys
sys.path.insert(0, {str(Path(__file__).parent)!r})
import numpy as np
from _faulty import FaultySpace
from metaopt.data import from_arrays
from metaopt.kb import build
X = np.random.default_rng(0).normal(size=(60, 3))
build([from_arrays(X, (X[:, 0] > 0).astype(int), task="classification", name="toy")],
      {str(store)!r}, spaces=[FaultySpace("sleepy", ("sleep",))], n_configs=1, cv_folds=2,
      backend="sequential", progress=False)
"""
    def runs() -> pd.DataFrame:
        try:
            with KnowledgeBase.open_existing(store) as kb:
                return kb.runs()
        except ValueError:  # no file, or no tables yet
            return pd.DataFrame()

    child = subprocess.Popen([sys.executable, "-c", script])
    try:
        deadline = time.monotonic() + 60
        while runs().empty:
            assert child.poll() is None and time.monotonic() < deadline, "the build did not start"
            time.sleep(0.1)
        run = runs().iloc[0]
        assert run["status"] == "running"
        machine = json.loads(run["machine"])
        assert machine["pid"] == child.pid
        assert machine.get("pid_start") == process_start(child.pid)
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    assert runs()["status"].tolist() == ["crashed"]


def test_a_store_of_an_earlier_metaopt_gains_the_new_dataset_column(tmp_path):
    """A store made before datasets had a content hash opens, its rows without one."""
    store = tmp_path / "kb.sqlite"
    with KnowledgeBase(store) as kb:
        kb.add_dataset({"dataset_key": "pmlb/iris", "status": "ok"})
    with sqlite3.connect(store) as conn:
        conn.execute("ALTER TABLE kb_datasets DROP COLUMN content_hash")
    with KnowledgeBase(store) as kb:
        datasets = kb.datasets()
    assert datasets["content_hash"].isna().all() and list(datasets["dataset_key"]) == [
        "pmlb/iris"]


def test_add_frame_of_other_rows_names_the_columns_it_lacks(tmp_path):
    """add_frame(a data table) raised "KeyError: Index(['dataset_key'], dtype='str')",
    and one with dataset_key alone stored the dataset before "evaluation record is
    missing required field(s)"; a parquet data table given as a knowledge base was only
    said to lack columns. Each now says what the rows must be, before writing."""
    import re

    import pandas as pd

    table = pd.DataFrame({"x": [1.0, 2.0], "label": [0, 1]})
    kb = KnowledgeBase()
    with pytest.raises(ValueError, match=re.escape(
            "the frame lacks knowledge base column(s) ['config', 'config_id', "
            "'dataset_key', 'origin', 'seed', 'space', 'status']: add_frame takes rows "
            "shaped like KnowledgeBase.to_frame()'s, such as pd.read_parquet of an export")):
        kb.add_frame(table)
    with pytest.raises(ValueError, match=r"lacks knowledge base column\(s\) \['config', "):
        kb.add_frame(table.assign(dataset_key="a"))
    assert kb.datasets().empty
    table.to_parquet(tmp_path / "data.parquet")
    with pytest.raises(ValueError, match=re.escape(
            f"{str(tmp_path / 'data.parquet')!r} lacks knowledge base column(s) ['config', "
            "'config_id', 'dataset_key', 'origin', 'seed', 'space', 'status']: it is no "
            "knowledge base export (a data table? build a knowledge base from it with "
            "metaopt build-kb or metaopt.kb.build)")):
        KnowledgeBase.from_parquet(tmp_path / "data.parquet")


def test_a_space_description_that_is_none_is_refused_before_it_is_recorded(tmp_path):
    """add_space_description({"name": "x"}) was recorded: training then failed on it
    (KeyError 'tasks'), and the store kept it, refusing the right description later as
    "a changed space". It is now refused, and the right one goes in."""
    from optuna.distributions import FloatDistribution
    from sklearn.linear_model import Ridge

    from metaopt.spaces import Param, SearchSpace

    kb = KnowledgeBase(tmp_path / "kb.sqlite")
    for bad in ({"name": "x"}, {"name": "x", "tasks": ["regression"], "distributions": {},
                                "conditions": {}, "defaults": {}}, "x"):
        with pytest.raises(ValueError, match=r"^the description must be a space's "
                           r"SearchSpace\.to_json_dict\(\), with its name, tasks, "
                           r"distributions, conditions and defaults: "):
            kb.add_space_description(bad)
    assert kb.space_descriptions() == {}
    space = SearchSpace("x", (Param("alpha", FloatDistribution(0.1, 1.0), 0.5),),
                        lambda params, task, seed: Ridge(), tasks=("regression",))
    kb.add_space_description(space.to_json_dict())
    assert kb.space_descriptions() == {"x": space.to_json_dict()}
