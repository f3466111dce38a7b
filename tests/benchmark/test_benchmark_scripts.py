from __future__ import annotations

import os
import runpy
import sys
from pathlib import Path

import pandas as pd
import pytest

SCRIPTS = Path(__file__).resolve().parents[2] / "benchmarks"


def test_ranker_ablation_stops_on_ctrl_c_and_redoes_the_cut_variant(tabrepo_dir, tmp_path,
                                                                     monkeypatch,
                                                                     interrupted_method):
    """tabrepo_benchmark returns the finished runs of an interrupted benchmark: the
    script stored the cut variant's 2 tasks as done ('stops: done'), went on with the
    next variant, and a resume skipped it. Ctrl-C stops it again, the variant unsaved."""
    out = tmp_path / "curves.csv"
    monkeypatch.syspath_prepend(str(SCRIPTS))
    monkeypatch.setattr(sys, "argv", [
        "ranker_ablation.py", "--data", str(tabrepo_dir), "--variants", "portfolio,stops,random",
        "--cv", "2", "--tasks", "8", "--budgets", "1,2", "--out", str(out)])
    with pytest.raises(KeyboardInterrupt), pytest.warns(UserWarning, match="interrupted"):
        runpy.run_path(str(SCRIPTS / "ranker_ablation.py"), run_name="__main__")
    assert set(pd.read_csv(out)["method"]) == {"portfolio"}


def test_kb_learning_curve_groups_the_datasets_by_a_reference_knowledge_base(
        tmp_path, monkeypatch, capsys):
    """--groups-from: the default knowledge base's knn datasets, 12 of its classification
    ones as the reference group. Held out from the reference group and trained on all the
    other reference datasets, the portfolio is the learning curve's on a knowledge base
    holding the reference datasets alone (all others, one draw)."""
    import numpy as np

    from metaopt.kb import load_default
    from metaopt.ranker import PerformanceMatrix

    frame = load_default().to_frame()
    knn = frame[(frame["space"] == "knn") & (frame["task"] == "classification")]
    reference_keys = sorted(knn["dataset_key"].unique())[:12]
    reference = knn[knn["dataset_key"].isin(reference_keys)]
    reference.to_parquet(tmp_path / "reference.parquet")
    monkeypatch.syspath_prepend(str(SCRIPTS))
    monkeypatch.setattr(sys, "argv", [
        "kb_learning_curve.py", "--space", "knn", "--tasks", "classification",
        "--groups-from", str(tmp_path / "reference.parquet"), "--draws", "2"])
    runpy.run_path(str(SCRIPTS / "kb_learning_curve.py"), run_name="__main__")
    out = capsys.readouterr().out
    assert "12 reference datasets" in out
    rows = {tuple(cell.strip() for cell in line.strip("|").split("|")[:2]):
            [float(v) for v in line.strip("|").split("|")[2:]]
            for line in out.splitlines() if line.startswith("| reference") or
            line.startswith("| added")}
    assert set(rows) == {("added", "all added"), ("added", "all reference"),
                         ("added", "all others"), ("added", "12 added"),
                         ("reference", "all added"), ("reference", "all reference"),
                         ("reference", "all others"), ("reference", "11 added")}
    assert all(0 <= v <= 1 for values in rows.values() for v in values)
    import kb_learning_curve

    alone = PerformanceMatrix.from_frame(reference, "knn")
    curve = kb_learning_curve.learning_curve(alone, [alone.n_tasks - 1], draws=1)
    np.testing.assert_allclose(rows[("reference", "all reference")],
                               curve.iloc[0].to_numpy(), atol=5e-5)


def test_kb_learning_curve_compares_nearest_neighbour_portfolios(monkeypatch, capsys):
    """--neighbors: a portfolio of the k nearest training datasets; with k = all the
    others it is the global portfolio, pick for pick, and with fewer it differs."""
    monkeypatch.syspath_prepend(str(SCRIPTS))
    monkeypatch.setattr(sys, "argv", [
        "kb_learning_curve.py", "--space", "knn", "--tasks", "regression",
        "--neighbors", "5,31"])
    runpy.run_path(str(SCRIPTS / "kb_learning_curve.py"), run_name="__main__")
    out = capsys.readouterr().out
    assert "32 datasets" in out
    rows = {line.strip("|").split("|")[0].strip(): [c.strip() for c in
                                                    line.strip("|").split("|")[1:]]
            for line in out.splitlines() if line.startswith(("| all", "| 5 ", "| 31 "))}
    assert set(rows) == {"all (global)", "5 nearest", "31 nearest"}
    assert rows["31 nearest"] == rows["all (global)"]
    assert rows["all (global)"][-1] == "0 / 0"
    assert rows["5 nearest"][:-1] != rows["all (global)"][:-1]


@pytest.fixture
def pmlb_copy(pmlb_root):
    """Makes a pmlb-layout directory (no manifest) of the real datasets ``names``."""
    import shutil

    def copy(target: Path, names: tuple[str, ...]) -> Path:
        for name in names:
            shutil.copytree(pmlb_root / name, target / name)
        return target

    return copy


def test_estimator_vs_peers_writes_a_run_on_other_data_into_out(pmlb_copy, tmp_path, monkeypatch,
                                                                capsys):
    """A run on another pmlb-layout directory appended its fits to the published
    benchmarks/results/estimator_vs_peers_fits.csv and overwrote the published CSV and
    plot with its own datasets (no option said where to write). --out now takes them."""
    pmlb = pmlb_copy(tmp_path / "pmlb", ("wine_recognition", "balance_scale"))
    published = {p: p.stat().st_mtime_ns for p in (SCRIPTS / "results").glob("estimator_vs_peers*")}
    out = tmp_path / "new" / "results"
    monkeypatch.syspath_prepend(str(SCRIPTS))
    argv = ["estimator_vs_peers.py", "--pmlb", str(pmlb), "--names",
            "wine_recognition,balance_scale", "--methods", "default", "--budgets", "1",
            "--out", str(out)]
    monkeypatch.setattr(sys, "argv", argv)
    runpy.run_path(str(SCRIPTS / "estimator_vs_peers.py"), run_name="__main__")
    assert "2 held-out datasets: wine_recognition, balance_scale" in capsys.readouterr().out
    fits = pd.read_csv(out / "estimator_vs_peers_fits.csv")
    assert sorted(fits["dataset"]) == ["balance_scale", "wine_recognition"]
    assert fits["score"].between(0, 1).all()
    assert (out / "estimator_vs_peers.csv").is_file() and (out / "estimator_vs_peers.png").is_file()
    assert {p: p.stat().st_mtime_ns
            for p in (SCRIPTS / "results").glob("estimator_vs_peers*")} == published
    # a rerun resumes from --out: nothing is fitted again
    runpy.run_path(str(SCRIPTS / "estimator_vs_peers.py"), run_name="__main__")
    assert len(pd.read_csv(out / "estimator_vs_peers_fits.csv")) == 2
    monkeypatch.setattr(sys, "argv", [*argv[:-1], str(out / "estimator_vs_peers.csv")])
    with pytest.raises(SystemExit, match="is a file, not a folder"):
        runpy.run_path(str(SCRIPTS / "estimator_vs_peers.py"), run_name="__main__")


def test_estimator_vs_peers_names_say_why_a_dataset_is_refused(pmlb_copy, tmp_path, monkeypatch):
    """--names refused a regression dataset, a missing one and one whose task only its
    target gave alike ("not classification datasets of DIR: [...]"), the last though it
    was a classification dataset. Each now says why; a task read from the target runs."""
    import shutil

    pmlb = pmlb_copy(tmp_path / "pmlb", ("wine_recognition", "560_bodyfat"))
    shutil.move(pmlb / "wine_recognition", pmlb / "hidden_wine")
    (pmlb / "hidden_wine" / "wine_recognition.tsv.gz").rename(
        pmlb / "hidden_wine" / "hidden_wine.tsv.gz")
    (pmlb / "hidden_wine" / "metadata.yaml").unlink()  # the task comes from the target
    monkeypatch.syspath_prepend(str(SCRIPTS))
    import estimator_vs_peers

    pick = estimator_vs_peers.held_out_datasets
    for names, message in ((["hidden_wine", "560_bodyfat"],
                            r"--names: '560_bodyfat' in .* is a regression dataset, not "
                            r"classification \(--task\)"),
                           (["nosuch"], "--names: dataset 'nosuch' not found under")):
        with pytest.raises(SystemExit, match=message):
            pick("classification", 0, 5000, 0, pmlb=pmlb, names=names)
    assert [d.name for d in pick("classification", 0, 5000, 0, pmlb=pmlb,
                                 names=["hidden_wine"])] == ["hidden_wine"]


def test_estimator_vs_peers_ranks_a_failed_fit_last(pmlb_copy, tmp_path, monkeypatch, capsys):
    """A fit that raised (no model, score NaN) was left out of the ranks: a method that
    failed on a dataset was ranked only where it ran, so it looked better. It now ranks
    last there, and the table counts the failed fits."""
    pmlb = pmlb_copy(tmp_path / "pmlb", ("wine_recognition",))
    out = tmp_path / "out"
    monkeypatch.syspath_prepend(str(SCRIPTS))
    monkeypatch.setattr(sys, "argv", [
        "estimator_vs_peers.py", "--pmlb", str(pmlb), "--names", "wine_recognition",
        "--methods", f"default,metaopt@{tmp_path / 'none'}", "--budgets", "1",
        "--out", str(out)])
    runpy.run_path(str(SCRIPTS / "estimator_vs_peers.py"), run_name="__main__")
    frame = pd.read_csv(out / "estimator_vs_peers.csv").set_index("method").sort_index()
    assert frame["score"].isna().tolist() == [False, True]  # default, metaopt@...
    assert frame["rank"].tolist() == [1.0, 2.0]
    table = capsys.readouterr().out
    assert "a fit that failed (no model) ranks last" in table
    score, rank, _, failed = table.split("metaopt@")[-2].split()[1:5]  # the table, then
    assert "no paired comparison with metaopt@" in table  # the sentence of the pairs
    assert (score, rank, failed) == ("NaN", "2.0", "1")


def test_nas_prior_refuses_datasets_it_cannot_use_before_running(pmlb_copy, tmp_path, monkeypatch):
    """--datasets with a regression dataset read its target as classes and failed deep in
    scikit-learn's split ("The least populated classes in y have only 1 member"), after
    the runs before it; an unknown name failed with a traceback. Both now stop first."""
    pmlb_copy(tmp_path / "pmlb", ("analcatdata_aids", "192_vineyard"))
    monkeypatch.syspath_prepend(str(SCRIPTS))
    import _common

    monkeypatch.setattr(_common, "SHARED_DATA", tmp_path)
    for names, message in ((["analcatdata_aids", "192_vineyard"],
                            r"'192_vineyard' in .* is a regression dataset, not "
                            r"classification \(the MLP searches here are classifiers\)"),
                           (["nosuch"], "--datasets: dataset 'nosuch' not found under")):
        monkeypatch.setattr(sys, "argv", ["nas_prior.py", "--skip", "lcbench", "epoch",
                                          "--datasets", *names, "--out", str(tmp_path / "o")])
        with pytest.raises(SystemExit, match=message):
            runpy.run_path(str(SCRIPTS / "nas_prior.py"), run_name="__main__")
    assert not (tmp_path / "o" / "nas_prior_pmlb_cv3.csv").exists()


def test_sampler_quality_refuses_a_dataset_of_the_other_task(pmlb_copy, tmp_path, monkeypatch):
    """--pmlb-task regression with a classification dataset of another directory tuned a
    regression on its class labels, silently; an unknown name ended in a traceback."""
    pmlb = pmlb_copy(tmp_path / "pmlb", ("wine_recognition",))
    monkeypatch.syspath_prepend(str(SCRIPTS))
    import sampler_quality

    argv = ["--parts", "pmlb", "--pmlb", str(pmlb), "--pmlb-space", "linear",
            "--methods", "random", "--budgets", "5", "--out", str(tmp_path / "out")]
    with pytest.raises(SystemExit, match=r"'wine_recognition' in .* is a classification "
                                         r"dataset, not regression \(--pmlb-task\)"):
        sampler_quality.main([*argv, "--pmlb-datasets", "wine_recognition",
                              "--pmlb-task", "regression"])
    with pytest.raises(SystemExit, match="--pmlb-datasets: dataset 'nosuch' not found"):
        sampler_quality.main([*argv, "--pmlb-datasets", "nosuch"])
    assert not (tmp_path / "out" / "sampler_quality.csv").exists()


def _tabrepo_copy(tabrepo_dir: Path, target: Path, n_tasks: int) -> Path:
    """A TabRepo-layout directory of the first ``n_tasks`` tasks (rows of the real files)."""
    import shutil

    target.mkdir()
    shutil.copy(tabrepo_dir / "configs.json", target / "configs.json")
    results = pd.read_csv(tabrepo_dir / "results.csv")
    meta = pd.read_csv(tabrepo_dir / "task_metadata.csv")
    tasks = sorted(results["dataset"].unique())[:n_tasks]
    results[results["dataset"].isin(tasks)].to_csv(target / "results.csv", index=False)
    meta[meta["tid"].isin(tasks)].to_csv(target / "task_metadata.csv", index=False)
    return target


def test_sampler_quality_says_in_one_line_what_is_wrong_with_a_tabrepo_directory(
        tabrepo_dir, tmp_path, monkeypatch):
    """A TabRepo-layout directory of one task (or --cv past its tasks) ended in a
    traceback whose last line was the error; it is now that line alone (SystemExit)."""
    one = _tabrepo_copy(tabrepo_dir, tmp_path / "one", 1)
    monkeypatch.syspath_prepend(str(SCRIPTS))
    import sampler_quality

    argv = ["--parts", "tabrepo", "--methods", "random", "--budgets", "1",
            "--out", str(tmp_path / "out")]
    for data, cv, message in ((one, "2", r"^--parts tabrepo: cv must split at least 2 tasks"),
                              (tabrepo_dir, "99", r"^--parts tabrepo: cv must be in \[2, 73\]")):
        with pytest.raises(SystemExit, match=message):
            sampler_quality.main([*argv, "--tabrepo", str(data), "--cv", cv])
    assert not (tmp_path / "out" / "sampler_quality.csv").exists()


def test_estimator_vs_peers_says_when_a_method_has_no_scored_fit(pmlb_copy, tmp_path, monkeypatch,
                                                                 capsys):
    """A method whose every fit failed printed 'Empty DataFrame' as the paired comparison
    (it had no score to pair); the comparison with FLAML raised a KeyError. Both now say
    that the method has no scored fit."""
    pmlb = pmlb_copy(tmp_path / "pmlb", ("wine_recognition",))
    failing = f"metaopt@{tmp_path / 'none'}"
    monkeypatch.syspath_prepend(str(SCRIPTS))
    for methods in (f"default,{failing}", f"{failing},default"):
        monkeypatch.setattr(sys, "argv", [
            "estimator_vs_peers.py", "--pmlb", str(pmlb), "--names", "wine_recognition",
            "--methods", methods, "--budgets", "1", "--out", str(tmp_path / "out")])
        runpy.run_path(str(SCRIPTS / "estimator_vs_peers.py"), run_name="__main__")
        out = capsys.readouterr().out
        assert "Empty DataFrame" not in out
        assert f"no paired comparison with {failing}: every fit of it failed" in out
    import estimator_vs_peers

    fits = pd.read_csv(tmp_path / "out" / "estimator_vs_peers_fits.csv")
    flaml = fits.assign(method="flaml", score=float("nan"))
    text = estimator_vs_peers._against_flaml(pd.concat([fits, flaml]), 1.0, 1.0)
    assert text == "no comparison with flaml at 1 s: every fit of it failed"


def test_estimator_vs_peers_picks_the_smallest_datasets_of_a_manifest_without_sizes(
        pmlb_copy, tmp_path, monkeypatch):
    """--datasets N on a directory whose manifest has no n_instances / n_features took
    the datasets in name order (german, 1000 x 20, before heart_h, 294 x 13); their
    sizes are now read from the tables."""
    pmlb = pmlb_copy(tmp_path / "pmlb", ("german", "heart_h"))
    pd.DataFrame({"name": ["german", "heart_h"], "task": "classification"}).to_csv(
        pmlb / "manifest.csv", index=False)
    monkeypatch.syspath_prepend(str(SCRIPTS))
    import estimator_vs_peers

    picked = estimator_vs_peers.held_out_datasets("classification", 1, 5000, 0, pmlb=pmlb)
    assert [d.name for d in picked] == ["heart_h"]


def test_estimator_vs_peers_says_when_no_dataset_is_left_to_run(pmlb_copy, tmp_path, monkeypatch):
    """--datasets N on a directory of fewer datasets than --after (default 50) picked
    none and ended in a traceback (FileNotFoundError: the fits file of no fit)."""
    pmlb = pmlb_copy(tmp_path / "pmlb", ("heart_h",))
    monkeypatch.syspath_prepend(str(SCRIPTS))
    monkeypatch.setattr(sys, "argv", [
        "estimator_vs_peers.py", "--pmlb", str(pmlb), "--datasets", "2", "--methods",
        "default", "--budgets", "1", "--out", str(tmp_path / "out")])
    with pytest.raises(SystemExit, match=r"no held-out classification dataset .* past the 50 "
                                         r"smallest \(--after\) and 0 more \(--offset\): 1 "
                                         r"classification dataset\(s\) in all"):
        runpy.run_path(str(SCRIPTS / "estimator_vs_peers.py"), run_name="__main__")


@pytest.mark.parametrize(("script", "args", "message"), [
    ("tabrepo_bounds.py", ["--data", "ONE", "--cv", "2"], "cv must split at least 2 tasks"),
    ("ranker_policy.py", ["--data", "ONE", "--cv", "2", "--out", "OUT"],
     "cv must split at least 2 tasks"),
    ("ranker_ablation.py", ["--data", "ONE", "--cv", "2", "--variants", "random", "--out",
                            "OUT"], "cv must split at least 2 tasks"),
    ("metafeatures.py", ["--root", "ONE", "--datasets", "nosuch"], "No such file"),
    ("metafeatures_row_order.py", ["--root", "ONE", "--datasets", "nosuch"],
     "dataset 'nosuch' not found under"),
    ("shipped_yahpo.py", ["--data", "ONE"], "has no YAHPO model.onnx"),
])
def test_benchmark_scripts_say_a_user_error_in_one_line(script, args, message, tabrepo_dir,
                                                        tmp_path, monkeypatch):
    """A TabRepo-layout directory of one task, a dataset or data folder that is not there
    ended these scripts in a traceback; it is now '<script>: error: <message>'."""
    one = _tabrepo_copy(tabrepo_dir, tmp_path / "one", 1)
    argv = [str(one) if a == "ONE" else str(tmp_path / "out.csv") if a == "OUT" else a
            for a in args]
    monkeypatch.syspath_prepend(str(SCRIPTS))
    monkeypatch.setattr(sys, "argv", [script, *argv])
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        # the metafeatures scripts set them for their own process: put them back after
        # (a later test's subprocess inherited MKL_NUM_THREADS=1 and torch one thread)
        monkeypatch.setenv(var, "1")
    # metafeatures.py pins its process to one CPU: put this process's CPUs back after (the
    # rest of the run, and every process it started, ran on one CPU)
    cpus = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else None
    try:
        with pytest.raises(SystemExit, match=f"^{script}: error: .*{message}") as exit_:
            runpy.run_path(str(SCRIPTS / script), run_name="__main__")
    finally:
        if cpus is not None:
            os.sched_setaffinity(0, cpus)
    assert exit_.value.__suppress_context__  # no traceback of the error under the line


def test_pmlb_datasets_are_drawn_from_a_manifest_without_sizes(pmlb_copy, tmp_path, monkeypatch):
    """sampler_user_objectives.py and sampler_quality.py --data-seed 1 chose datasets by
    the manifest's n_instances / n_features: a manifest without them raised KeyError
    'n_instances'. Their sizes are now read from the tables."""
    import argparse

    pmlb = pmlb_copy(tmp_path / "pmlb", ("german", "heart_h"))
    pd.DataFrame({"name": ["german", "heart_h"], "task": "classification"}).to_csv(
        pmlb / "manifest.csv", index=False)
    monkeypatch.syspath_prepend(str(SCRIPTS))
    import sampler_quality
    import sampler_user_objectives

    assert sampler_user_objectives.datasets(pmlb, 1) == ["heart_h"]  # 294 rows, then 1000
    args = argparse.Namespace(pmlb=str(pmlb), pmlb_task="classification", data_seed=1,
                              pmlb_offset=0, datasets=2, pmlb_datasets=None, max_rows=1000)
    assert sorted(sampler_quality.pmlb_datasets(args)) == ["german", "heart_h"]
    args.max_rows = 499  # at most 2 x 499 rows: not german (1000)
    assert sampler_quality.pmlb_datasets(args) == ["heart_h"]


def test_sampler_trace_refuses_a_regression_dataset(pmlb_copy, tmp_path, monkeypatch):
    """--dataset of a regression dataset was tuned for accuracy on its target read as
    classes, silently (an unknown name ended in a traceback)."""
    pmlb = pmlb_copy(tmp_path / "pmlb", ("1027_ESL",))
    monkeypatch.syspath_prepend(str(SCRIPTS))
    import sampler_trace

    for name, message in (("1027_ESL", r"--dataset: '1027_ESL' in .* is a regression dataset, "
                                       r"not classification \(the trace tunes accuracy\)"),
                          ("nosuch", "--dataset: dataset 'nosuch' not found under")):
        with pytest.raises(SystemExit, match=message):
            sampler_trace.main(["--dataset", name, "--pmlb", str(pmlb), "--trials", "1"])


@pytest.mark.parametrize(("script", "args", "option"), [
    ("estimator_vs_peers.py", ["--pmlb", "PMLB", "--names", "heart_h", "--methods", "default",
                               "--budgets", "1"], "--pmlb"),
    ("sampler_user_objectives.py", ["--pmlb", "PMLB", "--datasets", "1", "--trials", "1"],
     "--pmlb"),
    ("ranker_policy.py", ["--data", "TABREPO", "--cv", "2"], "--data"),
    ("ranker_ablation.py", ["--data", "TABREPO", "--cv", "2", "--variants", "random"], "--data"),
    ("sampler_quality.py", ["--parts", "tabrepo", "--tabrepo", "TABREPO", "--methods",
                            "random"], "--tabrepo"),
])
def test_a_run_on_other_data_does_not_write_into_the_published_results(
        script, args, option, tabrepo_dir, pmlb_copy, tmp_path, monkeypatch):
    """Without --out, these scripts wrote (estimator_vs_peers: appended, and resumed from
    the published fits of same-named datasets) a run on another directory into
    benchmarks/results; they now refuse before running."""
    paths = {"PMLB": str(pmlb_copy(tmp_path / "pmlb", ("heart_h",))),
             "TABREPO": str(_tabrepo_copy(tabrepo_dir, tmp_path / "tabrepo", 3))}
    published = {p: p.stat().st_mtime_ns for p in (SCRIPTS / "results").glob("*.*")}
    monkeypatch.syspath_prepend(str(SCRIPTS))
    monkeypatch.setattr(sys, "argv", [script, *[paths.get(a, a) for a in args]])
    with pytest.raises(SystemExit, match=f"^{option} name.* other data .* give --out outside "):
        runpy.run_path(str(SCRIPTS / script), run_name="__main__")
    assert {p: p.stat().st_mtime_ns
            for p in (SCRIPTS / "results").glob("*.*")} == published


def test_tabrepo_bounds_says_when_the_oracle_takes_every_training_task(tabrepo_dir, tmp_path,
                                                                      monkeypatch, capsys):
    """--neighbours k past a fold's training tasks silently meant all of them (the CV
    portfolio's column again): it warns as Portfolio(n_neighbors=) does; k=0 ended in a
    ZeroDivisionError and k=-1 meant all tasks but one."""
    six = _tabrepo_copy(tabrepo_dir, tmp_path / "six", 6)  # --cv 2: 3 training tasks a fold
    monkeypatch.syspath_prepend(str(SCRIPTS))
    import tabrepo_bounds

    argv = ["--data", str(six), "--cv", "2", "--budgets", "1,3"]
    with pytest.warns(UserWarning, match=r"^--neighbours=[34] is not less than the 3 training "
                      r"datasets: every one is a neighbour, as with the greedy portfolio's "
                      r"CV column") as said:
        tabrepo_bounds.main([*argv, "--neighbours", "2,3,4"])
    assert [str(w.message).split()[0] for w in said] == ["--neighbours=3", "--neighbours=4"]
    assert "k=4" in capsys.readouterr().out
    for k in ("0", "-1"):
        with pytest.raises(ValueError, match=rf"--neighbours must be an integer >= 1, got {k}"):
            tabrepo_bounds.main([*argv, "--neighbours", k])
