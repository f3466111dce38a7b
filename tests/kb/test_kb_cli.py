"""End to end on real PMLB data through the CLI: a real SIGINT, then a resume."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import pandas as pd
import pytest

from metaopt.kb import KnowledgeBase

ARGS = ["--suite", "pmlb-classification", "--spaces", "knn,linear", "--n-configs", "3",
        "--limit", "2", "--cv-folds", "2", "--max-rows", "300", "--no-progress"]


def _shipped_head(n: int) -> pd.DataFrame:
    """The first ``n`` evaluations of the shipped knowledge base, read from its parquet
    file: load_default() stores all 10,000 in SQLite (1-3 s), and then to_frame() reads
    them back (as long again)."""
    from metaopt.kb._card import DEFAULT_DIR

    return pd.read_parquet(DEFAULT_DIR / "evaluations.parquet").head(n)


def _argv(pmlb_root, store):
    return ["build-kb", *ARGS, "--root", str(pmlb_root), "--store", str(store)]


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_interrupt_then_resume(pmlb_root, tmp_path, capsys, sig):
    from metaopt.cli import main

    store = tmp_path / "kb.sqlite"
    proc = subprocess.Popen([sys.executable, "-m", "metaopt.cli", *_argv(pmlb_root, store)],
                            stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    while time.time() < deadline and proc.poll() is None:  # wait for the first results
        if store.exists() and len(KnowledgeBase(store)) >= 1:
            break
        time.sleep(0.2)
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=120)
    n_first = len(KnowledgeBase(store))
    if proc.returncode == 0:
        pytest.skip("the build finished before the signal arrived")
    assert proc.returncode == 128 + sig, err
    assert f"interrupted by {sig.name}" in err and "run the same command again" in err
    runs = KnowledgeBase(store).runs()
    assert list(runs["status"]) == ["interrupted"]

    # the same command again, in this process (a second interpreter's start-up and
    # imports checked nothing more)
    code = main(_argv(pmlb_root, store))
    done = capsys.readouterr()
    assert code == 0, done.err
    assert f"{n_first} already stored" in done.out
    frame = KnowledgeBase(store).to_frame()
    assert len(frame) == 2 * 2 * 3
    assert not frame.duplicated(["dataset_key", "space", "config_id", "seed"]).any()
    assert (frame["status"] == "ok").all()
    assert frame.filter(like="mf_").notna().any(axis=1).all()


def test_datasets_option_builds_only_the_named_datasets(pmlb_root, tmp_path, capsys):
    from metaopt.cli import main

    names = tmp_path / "datasets.txt"
    names.write_text("wine_recognition\n\npmlb/iris_bogus\n")
    store = tmp_path / "kb.sqlite"
    base = ["build-kb", "--suite", "pmlb-classification", "--root", str(pmlb_root),
            "--spaces", "knn", "--n-configs", "2", "--cv-folds", "2", "--max-rows", "200",
            "--no-progress", "--store", str(store)]
    assert main([*base, "--datasets", f"@{names}"]) != 0
    assert (f"--datasets @{names}: suite 'pmlb-classification' has no dataset named "
            "'pmlb/iris_bogus'") in capsys.readouterr().err
    names.write_text("wine_recognition\n\n")
    assert main([*base, "--datasets", f"@{names}"]) == 0, capsys.readouterr().err
    assert set(KnowledgeBase(store).to_frame()["dataset_key"]) == {"pmlb/wine_recognition"}


def test_an_unreadable_datasets_file_is_named_with_its_option(pmlb_root, tmp_path, capsys):
    """--datasets @FILE with a missing file said only "[Errno 2] No such file or
    directory: 'names.txt'", not which option named it; then "--datasets @FILE: cannot
    read the list of datasets: [Errno 2] ...": that the file is not there, in words."""
    from metaopt.cli import main

    missing = tmp_path / "names.txt"
    code = main(["build-kb", "--suite", "pmlb-classification", "--root", str(pmlb_root),
                 "--datasets", f"@{missing}", "--store", str(tmp_path / "kb.sqlite")])
    err = capsys.readouterr().err
    assert code == 2 and err.endswith(f"error: --datasets @{missing}: file {missing} not found\n")
    assert main(["build-kb", "--suite", "pmlb-classification", "--root", str(pmlb_root),
                 "--datasets", f"@{tmp_path}", "--store", str(tmp_path / "kb.sqlite")]) == 2
    assert capsys.readouterr().err.endswith(
        f"error: --datasets @{tmp_path}: cannot read the list of datasets: Is a directory\n")
    assert not (tmp_path / "kb.sqlite").exists()


def test_an_empty_file_or_a_directory_is_named_as_what_it_is(tmp_path, capsys):
    """`kb info empty.csv` (0 bytes) said "'empty.csv' is an empty SQLite database", and
    `kb info DIR` only "no knowledge base at 'DIR'": neither said what a store is."""
    from metaopt.cli import main

    (tmp_path / "empty.csv").touch()
    stores = "a SQLite file, a database URL or a parquet export"
    for store, message in (
            ("empty.csv", f"'empty.csv' is an empty file (0 bytes), not a knowledge base "
                          f"({stores})"),
            (".", f"no knowledge base at '.': it is a directory, and a knowledge base is "
                  f"{stores} (`metaopt build-kb --store kb.sqlite`, metaopt.kb.build)")):
        assert main(["kb", "info", str(tmp_path / store)]) == 2
        assert capsys.readouterr().err.endswith(message.replace(
            repr(store), repr(str(tmp_path / store))) + "\n"), store
    assert (tmp_path / "empty.csv").stat().st_size == 0


def test_reading_commands_create_no_store_and_an_empty_suite_is_an_error(tmp_path, capsys):
    """`kb info` / `kb export` on a mistyped path created an empty store and reported 0
    evaluations; `build-kb` on a directory without datasets finished with 0 new ones."""
    from metaopt.cli import main

    typo = tmp_path / "typo.sqlite"
    assert main(["kb", "info", str(typo)]) == 2
    assert main(["kb", "export", str(typo), str(tmp_path / "out.parquet")]) == 2
    assert "no knowledge base at" in capsys.readouterr().err and not typo.exists()
    typo.touch()  # an empty file: `kb info` added the store's tables to it
    assert main(["kb", "info", str(typo)]) == 2
    assert "is an empty file (0 bytes), not a knowledge base" in capsys.readouterr().err
    assert typo.stat().st_size == 0
    (tmp_path / "empty").mkdir()
    assert main(["build-kb", "--suite", "pmlb-classification", "--root",
                 str(tmp_path / "empty"), "--store", str(tmp_path / "kb.sqlite")]) == 2
    # as `benchmark run` says it (it said "--suite 'pmlb-classification' has no datasets
    # under DIR", not what the directory lacks)
    assert (f"error: --root {str(tmp_path / 'empty')!r} holds no classification dataset of "
            "suite 'pmlb-classification': give a PMLB-style directory (a folder NAME/ with "
            "NAME.tsv.gz per dataset, or a manifest.csv with columns name, task)\n"
            ) in capsys.readouterr().err


def test_a_misspelt_default_gets_the_keyword_suggested(tmp_path, capsys, monkeypatch):
    """`kb info Default` said only "no knowledge base at 'Default'", not that the keyword
    is `default`; a path of no such likeness gets no suggestion. `train-meta-model --kb
    Default` and Python's open_knowledge_base('Default') had no suggestion at all."""
    from metaopt.cli import main
    from metaopt.kb import open_knowledge_base

    monkeypatch.chdir(tmp_path)
    for command in (["kb", "info", "Default"], ["kb", "export", "defualt", "x.parquet"],
                    ["train-meta-model", "--kb", "DEFAULT", "--out", "m"]):
        assert main(command) == 2
        assert capsys.readouterr().err.endswith(
            f"error: no knowledge base at {command[2]!r}; did you mean 'default' (the shipped "
            "knowledge base)?\n")
    with pytest.raises(ValueError, match=r"^no knowledge base at 'Default'; did you mean "
                       r"'default' \(the shipped knowledge base\)\?$"):
        open_knowledge_base("Default")
    assert main(["kb", "info", str(tmp_path / "kb.sqlite")]) == 2
    assert "did you mean" not in capsys.readouterr().err


def test_build_kb_reads_openml_suites_from_cache_dir(openml_cache, tmp_path, capsys):
    """build-kb loads an OpenML suite's tasks but had no --cache-dir (benchmark run has
    one): it could only use openml's own cache. The real cache copy holds no task, so
    the load fails offline, naming the directory it was given."""
    from metaopt.cli import main

    assert "--cache-dir" in subprocess.run(
        [sys.executable, "-m", "metaopt.cli", "build-kb", "--help"], capture_output=True,
        text=True, timeout=120).stdout
    store = tmp_path / "kb.sqlite"
    assert main(["build-kb", "--suite", "openml-cc18", "--limit", "1", "--spaces", "knn",
                 "--n-configs", "1", "--cache-dir", str(openml_cache), "--store",
                 str(store), "--no-progress"]) == 1
    err = capsys.readouterr().err
    assert f"could not load OpenML task 3 (cache: {openml_cache})" in err
    datasets = KnowledgeBase(store).datasets()
    assert datasets["dataset_key"].tolist() == ["openml-task/3"]
    assert (datasets["status"] != "ok").all()


def test_reading_commands_open_the_default_and_parquet_exports(tmp_path, capsys):
    """`kb info` / `kb export` called the shipped knowledge base (a parquet export) a
    corrupt store, and had no name for it; train-meta-model --kb accepted both."""
    from metaopt.cli import main
    from metaopt.kb._card import DEFAULT_DIR

    n = len(pd.read_parquet(DEFAULT_DIR / "evaluations.parquet"))  # the shipped evaluations
    for source in ("default", str(DEFAULT_DIR / "evaluations.parquet")):
        assert main(["kb", "info", source]) == 0
        out = capsys.readouterr().out
        assert f": {n} evaluations, " in out
        # it named the in-memory copy: "KnowledgeBase('sqlite://'): ...", then the Python
        # repr "KnowledgeBase.from_parquet('...'): ..."; now the store as typed
        assert out.startswith(f"{source}: {n} evaluations, ")
    out = tmp_path / "copy.parquet"
    assert main(["kb", "export", "default", str(out)]) == 0
    assert len(KnowledgeBase.from_parquet(out)) == n


def test_info_and_export_count_one_in_the_singular(tmp_path, capsys):
    """`kb info` of a store of one evaluation said "1 evaluations, 1 datasets", and `kb
    export` "exported 1 evaluations"."""
    from metaopt.cli import main
    from metaopt.kb._card import DEFAULT_DIR

    one = tmp_path / "one.parquet"
    pd.read_parquet(DEFAULT_DIR / "evaluations.parquet").iloc[:1].to_parquet(one)
    assert main(["kb", "info", str(one)]) == 0
    assert capsys.readouterr().out.startswith(
        f"{one}: 1 evaluation, 1 dataset (0 failed to load)\n")
    assert main(["kb", "export", str(one), str(tmp_path / "copy.parquet")]) == 0
    assert capsys.readouterr().out == f"exported 1 evaluation to {tmp_path / 'copy.parquet'}\n"


def test_export_refuses_a_card_that_would_replace_the_store_or_the_export(tmp_path, capsys):
    """`kb export kb.sqlite out.parquet --card kb.sqlite` wrote the card over the
    knowledge base itself (then "file is not a database"); --card out.parquet replaced
    the export; both exited 0."""
    from metaopt.cli import main

    store = tmp_path / "kb.sqlite"
    with KnowledgeBase(store) as kb:
        kb.add_frame(_shipped_head(20))
    out = tmp_path / "out.parquet"
    assert main(["kb", "export", str(store), str(out), "--card", str(store)]) == 2
    assert "own SQLite file: the card would replace the store" in capsys.readouterr().err
    assert main(["kb", "export", str(store), str(out), "--card", str(out)]) == 2
    assert "the card would replace it" in capsys.readouterr().err
    assert len(KnowledgeBase.open_existing(store)) == 20
    assert len(KnowledgeBase.from_parquet(out)) == 20


def test_export_refuses_a_card_over_the_parquet_store_it_read(tmp_path, capsys):
    """`kb export kb.parquet out.parquet --card kb.parquet` replaced the parquet the
    knowledge base was read from with the card (it was then no parquet file), exit 0."""
    from metaopt.cli import main

    store = tmp_path / "kb.parquet"
    with KnowledgeBase() as kb:
        kb.add_frame(_shipped_head(20))
        kb.to_parquet(store)
    n = len(KnowledgeBase.from_parquet(store))
    assert n == 20
    assert main(["kb", "export", str(store), str(tmp_path / "out.parquet"),
                 "--card", str(store)]) == 2
    assert "the knowledge base was read from: the card would replace it" in (
        capsys.readouterr().err)
    assert len(KnowledgeBase.from_parquet(store)) == n


def test_build_refuses_bad_settings_before_it_makes_the_store(pmlb_root, tmp_path, capsys):
    """--seed -1 stored every evaluation as failed ("Seed must be between 0 and 2**32 - 1")
    and exited 0; --spaces '' built nothing and exited 0; --n-design above --n-configs
    was refused after an empty store was made; an --export under a file failed after the
    whole build ("[Errno 17] File exists"), one not ending in .parquet was written but
    `kb info` could not read it."""
    from metaopt.cli import main

    store = tmp_path / "kb.sqlite"
    (tmp_path / "file").write_text("x")
    base = ["build-kb", "--suite", "pmlb-classification", "--root", str(pmlb_root), "--limit",
            "1", "--spaces", "linear", "--n-configs", "2", "--cv-folds", "2", "--no-progress",
            "--store", str(store)]
    for options, message in (
            (["--seed", "-1"], "--seed must be an integer in [0, 4294967295]"),
            # it said "must be (index, count) with 0 <= index < count, got (2, 2)"
            (["--shard", "2/2"], "--shard 2/2: INDEX/COUNT needs 0 <= INDEX < COUNT, like 0/4 to 3/4"),
            (["--spaces", ""], "--spaces names no search space"),
            (["--n-design", "3"], "--n-design must be in [0, --n-configs=2], got 3"),
            (["--export", str(tmp_path / "file" / "kb.parquet")], "is a file, not a folder"),
            (["--export", str(tmp_path / "kb.csv")], "must end in .parquet")):
        assert main([*base, *options]) == 2, options
        assert message in capsys.readouterr().err, options
        assert not store.exists(), options


def test_a_build_whose_every_dataset_fails_to_load_exits_1(pmlb_root, tmp_path, capsys):
    """It exited 0, as a build that evaluated something does."""
    from metaopt.cli import main

    root = tmp_path / "pmlb"
    (root / "saheart").mkdir(parents=True)
    (root / "saheart" / "saheart.tsv.gz").write_bytes(b"not gzip")
    manifest = pd.read_csv(pmlb_root / "manifest.csv")
    manifest[manifest["name"] == "saheart"].to_csv(root / "manifest.csv", index=False)
    args = ["build-kb", "--suite", "pmlb-classification", "--root", str(root), "--spaces",
            "linear", "--n-configs", "2", "--cv-folds", "2", "--no-progress", "--store",
            str(tmp_path / "kb.sqlite")]
    assert main(args) == 1
    err = capsys.readouterr().err
    assert "dataset pmlb/saheart failed to load" in err
    assert "no dataset of the suite could be loaded" in err


def test_export_checks_its_path_first(tmp_path, capsys):
    """`kb export kb.sqlite DIR` failed with "[Errno 21] Is a directory: '.DIR.3caf833d.tmp'
    -> 'DIR'", under a file with "[Errno 17] File exists", and `kb export kb.sqlite
    kb.csv` wrote parquet that `kb info kb.csv` then called a corrupt store."""
    from metaopt.cli import main

    store = tmp_path / "kb.sqlite"
    with KnowledgeBase(store) as kb:
        kb.add_frame(_shipped_head(5))
    (tmp_path / "file").write_text("x")
    for target, message in ((tmp_path, "is a directory: give a file path"),
                            (tmp_path / "file" / "kb.parquet", "is a file, not a folder"),
                            (tmp_path / "kb.csv", "must end in .parquet")):
        assert main(["kb", "export", str(store), str(target)]) == 2
        assert message in capsys.readouterr().err
    assert not (tmp_path / "kb.csv").exists()


def test_build_kb_target_names_the_target_column_of_your_own_tables(pmlb_root, tmp_path,
                                                                    capsys):
    """A local suite's target column was always `target`: tables whose target is named
    otherwise could only be built through the Python API."""
    from metaopt.cli import main

    root = tmp_path / "tables"
    root.mkdir()
    table = pd.read_csv(pmlb_root / "analcatdata_aids" / "analcatdata_aids.tsv.gz", sep="\t")
    table.rename(columns={"target": "label"}).to_csv(root / "aids.csv", index=False)
    pd.DataFrame({"name": ["aids"], "task": ["classification"]}).to_csv(
        root / "manifest.csv", index=False)
    store = tmp_path / "kb.sqlite"
    args = ["build-kb", "--suite", "pmlb-classification", "--root", str(root), "--spaces",
            "knn", "--n-configs", "2", "--cv-folds", "2", "--no-progress", "--store",
            str(store)]
    assert main(args) == 1  # the default 'target': the error says which option names it
    err = capsys.readouterr().err
    assert "has no target column 'target'" in err and "with --target COL" in err
    assert main([*args, "--target", "lable"]) == 1
    err = capsys.readouterr().err
    assert "has no target column 'lable'; did you mean 'label'?" in err
    assert "--target COL" not in err
    assert main([*args, "--target", "label"]) == 0
    frame = KnowledgeBase(store).to_frame()
    assert set(frame["dataset_key"]) == {"pmlb/aids"} and (frame["status"] == "ok").all()
    assert len(frame) == 2 and frame["n_features"].eq(table.shape[1] - 1).all()
    assert main(["build-kb", "--suite", "openml-cc18", "--target", "label", "--store",
                 str(tmp_path / "other.sqlite")]) == 2
    assert "--target: not used with suite 'openml-cc18'" in capsys.readouterr().err


def test_backend_sequential_evaluates_in_this_process(pmlb_root, tmp_path, capsys,
                                                      monkeypatch):
    """`--backend` took loky and dask only: a build could not be debugged with pdb nor
    run where worker processes are not allowed, though build(backend="sequential") does
    both. Now each evaluation runs in the command's own process, --n-jobs ignored, and
    --scheduler (a dask option) is refused with it."""
    import os

    from metaopt.cli import main
    from metaopt.kb import _build

    pids = []

    def evaluate(*args, **kwargs):
        pids.append(os.getpid())  # in a worker, this list would be the worker's copy
        return original(*args, **kwargs)

    original = _build.evaluate
    monkeypatch.setattr(_build, "evaluate", evaluate)
    store = tmp_path / "kb.sqlite"
    base = ["build-kb", "--suite", "pmlb-classification", "--root", str(pmlb_root),
            "--datasets", "wine_recognition", "--spaces", "knn", "--n-configs", "2", "--cv-folds", "2",
            "--max-rows", "100", "--no-progress", "--store", str(store),
            "--backend", "sequential", "--n-jobs", "2"]
    assert main([*base, "--scheduler", "tcp://h:1"]) == 2
    assert ("error: --scheduler must only be given with the dask backend, got 'tcp://h:1' "
            "with the sequential backend") in capsys.readouterr().err
    assert not store.exists()
    assert main(base) == 0, capsys.readouterr().err
    assert pids == [os.getpid()] * 2
    frame = KnowledgeBase(store).to_frame(metafeatures=False)
    assert len(frame) == 2 and (frame["status"] == "ok").all()


def test_export_says_where_it_wrote_the_card(tmp_path, capsys):
    """`kb export kb.sqlite out.parquet --card CARD.md` printed only "exported 20
    evaluations to out.parquet": nothing said the card was written, nor where (a missing
    folder of its path is made)."""
    from metaopt.cli import main

    store = tmp_path / "kb.sqlite"
    with KnowledgeBase(store) as kb:
        kb.add_frame(_shipped_head(20))
    out, card = tmp_path / "out.parquet", tmp_path / "new" / "CARD.md"
    assert main(["kb", "export", str(store), str(out), "--card", str(card)]) == 0
    assert capsys.readouterr().out == f"exported 20 evaluations to {out} and its card to {card}\n"
    assert card.read_text().startswith("# metaopt knowledge base")


def test_a_missing_store_gets_the_closest_store_beside_it(tmp_path, capsys, monkeypatch):
    """`build-kb` without --store writes metaopt-kb.sqlite; `kb info kb.sqlite` then said
    only "no knowledge base at 'kb.sqlite'". A store of a close name in the same folder
    is suggested (a data table is not)."""
    from metaopt.cli import main

    monkeypatch.chdir(tmp_path)
    with KnowledgeBase("metaopt-kb.sqlite") as kb:
        kb.add_frame(_shipped_head(3))
    (tmp_path / "kb.csv").write_text("a,b\n1,2\n")
    for command in (["kb", "info", "kb.sqlite"],
                    ["train-meta-model", "--kb", "kb.sqlite", "--out", "m"]):
        assert main(command) == 2
        assert capsys.readouterr().err.endswith(
            "error: no knowledge base at 'kb.sqlite'; did you mean 'metaopt-kb.sqlite'?\n")
    assert main(["kb", "info", str(tmp_path / "sub" / "other.sqlite")]) == 2
    assert "did you mean" not in capsys.readouterr().err
    assert main(["kb", "info", "metaopt-kb.sqlite"]) == 0
