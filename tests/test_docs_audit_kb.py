"""docs/kb.md checked against the code: a new store named as a parquet export."""

import subprocess
import sys

import pytest

from metaopt.kb import KnowledgeBase


def test_new_store_named_parquet_is_refused(tmp_path):
    # `kb info`, `--kb` and open_knowledge_base read a .parquet path as an export: a
    # SQLite store created under that name would never open again
    with pytest.raises(ValueError, match="named as a parquet export.*kb.sqlite"):
        KnowledgeBase(tmp_path / "kb.parquet")
    assert not (tmp_path / "kb.parquet").exists()


def test_build_kb_refuses_a_parquet_store_before_any_work(tmp_path):
    root = tmp_path / "tables"
    root.mkdir()
    (root / "manifest.csv").write_text("name,task\ntiny,classification\n")
    (root / "tiny.csv").write_text("a,target\n" + "".join(f"{i},{i % 2}\n" for i in range(20)))
    result = subprocess.run(
        [sys.executable, "-m", "metaopt", "build-kb", "--suite", "pmlb-classification",
         "--root", str(root), "--spaces", "linear", "--n-configs", "1", "--cv-folds", "2",
         "--backend", "sequential", "--no-progress", "--store", str(tmp_path / "kb.parquet")],
        capture_output=True, text=True, timeout=60)
    assert result.returncode == 2, result.stderr
    assert "named as a parquet export" in result.stderr
    assert not (tmp_path / "kb.parquet").exists()


def test_a_sqlite_store_named_parquet_opens_as_the_store_it_is(tmp_path):
    # a build of a metaopt before the refusal above made one: `kb info kb.parquet` and
    # `--kb kb.parquet` failed with "Parquet magic bytes not found in footer"
    from metaopt.kb import load_default, open_knowledge_base

    with KnowledgeBase(tmp_path / "kb.sqlite") as kb:
        kb.add_frame(load_default().to_frame().head(3))
    (tmp_path / "kb.sqlite").rename(tmp_path / "kb.parquet")
    with open_knowledge_base(tmp_path / "kb.parquet") as kb:
        assert len(kb.to_frame()) == 3
