from __future__ import annotations

import json
from functools import partial

import pandas as pd
import pytest
from _stopping import StopsOnItsThirdRun

from metaopt.cli import main


def test_tabrepo_cli_writes_json_and_plot(tabrepo_dir, tmp_path, capsys):
    """--plot r (no extension) writes r.png, and says so (it printed "plot: r")."""
    out = tmp_path / "r.json"
    code = main(["benchmark", "tabrepo", "--train", str(tabrepo_dir), "--cv", "5",
                 "--methods", "random,portfolio", "--budgets", "1,5", "--seeds", "1",
                 "--json", str(out), "--plot", str(tmp_path / "r"), "--no-progress"])
    assert code == 0
    printed = capsys.readouterr().out
    assert f"plot: {tmp_path / 'r.png'}\n" in printed
    assert "portfolio" in printed and "mean normalized regret" in printed
    assert "portfolio (the last method) against each other one" in printed
    saved = json.loads(out.read_text())
    assert set(saved["table"]) == {"1", "5"}
    assert set(saved["paired"]) == {"1 random", "5 random"}
    # each comparison's fields, not the text of a pandas Series ("Name: (1, random)...")
    assert set(saved["paired"]["5 random"]) == {"difference", "95% interval", "won/tied/lost"}
    assert saved["paired"]["5 random"]["difference"].startswith(("+", "-"))
    assert (tmp_path / "r.png").stat().st_size > 1000


def test_an_interrupted_run_writes_the_runs_it_finished(tabrepo_dir, tmp_path, capsys,
                                                        interrupted_method):
    """Ctrl-C in the last method of a long run lost every finished run. Now the curves
    hold them all, and the table compares the runs that every method finished."""
    out, curves = tmp_path / "r.json", tmp_path / "c.csv"
    code = main(["benchmark", "tabrepo", "--train", str(tabrepo_dir), "--cv", "5",
                 "--methods", "portfolio,stops", "--budgets", "1,2", "--seeds", "1",
                 "--json", str(out), "--curves", str(curves), "--no-progress"])
    assert code == 130
    printed = capsys.readouterr()
    assert "interrupted after 17 finished runs (of at most " in printed.err and "interrupted: 17 runs" in printed.out
    written = pd.read_csv(curves)
    runs = written.groupby("method")["task"].nunique()
    assert runs["stops"] == 2 and runs["portfolio"] > 10  # the first fold's test tasks
    saved = json.loads(out.read_text())
    assert saved["table"]["2"]["stops"].startswith("0.")
    assert len(saved["curves"]) == len(written)
    ranks = pd.DataFrame(saved["curves"])
    assert set(ranks.loc[ranks["method"] == "portfolio", "task"]) > set(
        ranks.loc[ranks["method"] == "stops", "task"])


def test_an_interrupt_within_a_tasks_seeds_says_how_many_runs_are_compared(
        tabrepo_dir, capsys, interrupted_method):
    """Ctrl-C in the last method after 2 of a task's 3 seeds: the table compares those 2
    runs, but its header said "over 1 tasks x 3 seeds"."""
    code = main(["benchmark", "tabrepo", "--train", str(tabrepo_dir), "--cv", "5",
                 "--methods", "portfolio,stops", "--budgets", "1,2", "--seeds", "3",
                 "--no-progress"])
    assert code == 130
    printed = capsys.readouterr().out
    assert "every method finished (2)" in printed
    assert "regret (mean rank) over 2 (task, seed) runs of 1 tasks;" in printed


def test_an_interrupt_before_the_last_method_ran_compares_nothing(tabrepo_dir, tmp_path,
                                                                   capsys, interrupted_method):
    """Ctrl-C in the first method, before 'portfolio' ran at all: the table ranked the
    first method alone (rank 1.00 on its 2 runs, 'portfolio' n/a as if it could not run)
    and said every method had finished those 2 runs."""
    out, curves = tmp_path / "r.json", tmp_path / "c.csv"
    code = main(["benchmark", "tabrepo", "--train", str(tabrepo_dir), "--cv", "5",
                 "--methods", "stops,portfolio", "--budgets", "1,2", "--seeds", "1",
                 "--json", str(out), "--curves", str(curves), "--no-progress"])
    assert code == 130
    printed = capsys.readouterr().out
    assert "interrupted: 2 runs finished" in printed and "every method finished (0)" in printed
    assert "mean normalized regret" not in printed
    assert json.loads(out.read_text())["table"] is None
    assert len(pd.read_csv(curves).groupby(["method", "task"])) == 2


# a benchmark method that evaluates the first configurations, and on its third run says
# so on stdout and waits for a signal
_WAITS_ON_ITS_THIRD_RUN = """
import sys, time
from metaopt.benchmark import register_method
from metaopt.cli import main

class Waits:
    def fit(self, train):
        self.runs = 0

    def run(self, problem, budget, seed):
        self.runs += 1
        if self.runs == 3:
            print("waiting for a signal", flush=True)
            time.sleep(60)
        for i in range(budget):
            problem.evaluate(i)

register_method("waits", Waits)
sys.exit(main(sys.argv[1:]))
"""


def _six_tasks(tabrepo_dir, target):
    """A TabRepo directory of 6 of its tasks: a quicker start than all 73."""
    import shutil

    target.mkdir()
    shutil.copy(tabrepo_dir / "configs.json", target / "configs.json")
    results = pd.read_csv(tabrepo_dir / "results.csv")
    tasks = sorted(results["dataset"].unique())[:6]
    results[results["dataset"].isin(tasks)].to_csv(target / "results.csv", index=False)
    meta = pd.read_csv(tabrepo_dir / "task_metadata.csv")
    meta[meta["tid"].isin(tasks)].to_csv(target / "task_metadata.csv", index=False)
    return target


def test_sigterm_keeps_the_finished_runs_as_ctrl_c_does(tabrepo_dir, tmp_path):
    """SIGTERM (a batch scheduler's timeout, kill) killed `benchmark tabrepo` and `yahpo`,
    losing every finished run: only Ctrl-C wrote them. Now SIGTERM stops them as Ctrl-C
    does, and the exit code says which signal (143 = 128 + 15)."""
    import signal
    import subprocess
    import sys

    data, out = _six_tasks(tabrepo_dir, tmp_path / "tabrepo"), tmp_path / "r.json"
    proc = subprocess.Popen(
        [sys.executable, "-c", _WAITS_ON_ITS_THIRD_RUN, "benchmark", "tabrepo",
         "--train", str(data), "--cv", "2", "--methods", "random,waits",
         "--budgets", "1,2", "--seeds", "1", "--json", str(out), "--no-progress"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:  # the random runs of the first fold's 3 test tasks, and 2 of waits'
        assert proc.stdout.readline() == "waiting for a signal\n", proc.stderr.read()
        proc.send_signal(signal.SIGTERM)
        printed, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 128 + signal.SIGTERM, err
    assert "interrupted after 5 finished runs (of at most 12)" in err
    assert "interrupted: 5 runs finished" in printed and "mean normalized regret" in printed
    runs = pd.DataFrame(json.loads(out.read_text())["curves"]).groupby("method")["task"]
    assert runs.nunique().to_dict() == {"random": 3, "waits": 2}


def test_sigterm_before_the_first_run_exits_143(tmp_path, capsys, monkeypatch):
    """SIGTERM while the data are read (no run started) exits 143, as the others: the
    CLI's catch-all for KeyboardInterrupt said 130 (SIGINT)."""
    import signal

    from metaopt.benchmark import _surrogate

    def terminated_while_reading(*args, **kwargs):
        handler = signal.getsignal(signal.SIGTERM)
        assert callable(handler), "no handler of SIGTERM: the process would be killed"
        handler(signal.SIGTERM, None)  # as the signal would, without sending it

    monkeypatch.setattr(_surrogate, "tabrepo_benchmark", terminated_while_reading)
    assert main(["benchmark", "tabrepo", "--train", str(tmp_path), "--no-progress"]) == 143
    assert "metaopt benchmark tabrepo: interrupted" in capsys.readouterr().err
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL  # given back


def _signal(signum):
    """What a signal does under the command's StopGuard, without sending it."""
    import signal

    handler = signal.getsignal(signum)
    assert callable(handler), "no handler of the signal: the process would be killed"
    handler(signum, None)


class _SignalledWhileSaying:
    """stderr, on which a SIGINT arrives as the first text is written (under the
    command's StopGuard: as the command says it was interrupted)."""

    def __init__(self, stream):
        self.stream, self.said = stream, []

    def write(self, text):
        import signal

        self.said.append(text)
        if len(self.said) == 1:
            _signal(signal.SIGINT)
        return self.stream.write(text)

    def flush(self):
        self.stream.flush()


def test_a_second_signal_while_a_stop_before_the_runs_is_said_keeps_143(
        tmp_path, capsys, monkeypatch):
    """A SIGINT while `benchmark tabrepo` said a SIGTERM had stopped it as it read the
    data (its `except`, the guard still installed) raised again: exit 130, not 143."""
    import signal
    import sys

    from metaopt.benchmark import _surrogate

    def terminated_while_reading(*args, **kwargs):
        _signal(signal.SIGTERM)

    monkeypatch.setattr(_surrogate, "tabrepo_benchmark", terminated_while_reading)
    monkeypatch.setattr(sys, "stderr", _SignalledWhileSaying(sys.stderr))
    assert main(["benchmark", "tabrepo", "--train", str(tmp_path), "--no-progress"]) == 143
    assert "".join(sys.stderr.said) == "metaopt benchmark tabrepo: interrupted\n"


@pytest.mark.parametrize("second", ["curves", "writing", "finished"])
def test_a_signal_after_the_runs_neither_loses_them_nor_replaces_the_exit_code(
        second, tabrepo_dir, tmp_path, capsys, monkeypatch):
    """Once a SIGTERM had interrupted the runs, a second signal while the curves were
    computed raised again: the finished runs were lost (no --json, no --curves) and the
    exit code was the second signal's (130 for a SIGINT). And the outputs were written
    after the StopGuard was left: a SIGTERM while writing them killed the process
    mid-write ('finished': a benchmark that had run all its runs). Now, once the runs are
    over, a signal is only recorded: every output is written, the exit code is the first
    signal's (0 for a finished benchmark)."""
    import signal

    from metaopt.benchmark import _surrogate, register_method

    register_method("terminated", partial(StopsOnItsThirdRun, partial(_signal, signal.SIGTERM)))
    curves_of = _surrogate._curves

    def signalled_while_computing_curves(*args):
        _signal(signal.SIGINT)
        return curves_of(*args)

    to_csv = pd.DataFrame.to_csv

    def signalled_while_writing(frame, *args, **kwargs):
        _signal(signal.SIGTERM if second == "finished" else signal.SIGINT)
        return to_csv(frame, *args, **kwargs)

    data = _six_tasks(tabrepo_dir, tmp_path / "tabrepo")
    if second == "curves":
        monkeypatch.setattr(_surrogate, "_curves", signalled_while_computing_curves)
    else:
        monkeypatch.setattr(pd.DataFrame, "to_csv", signalled_while_writing)
    out, curves = tmp_path / "r.json", tmp_path / "c.csv"
    methods = "random,portfolio" if second == "finished" else "random,terminated"
    code = main(["benchmark", "tabrepo", "--train", str(data), "--cv", "2", "--methods",
                 methods, "--budgets", "1,2", "--seeds", "1", "--json", str(out),
                 "--curves", str(curves), "--no-progress"])
    printed = capsys.readouterr().out
    monkeypatch.undo()  # (pandas' to_csv back before the files are read)
    n_runs = 12 if second == "finished" else 5
    assert code == (0 if second == "finished" else 128 + signal.SIGTERM)
    assert len(pd.read_csv(curves).groupby(["method", "task"])) == n_runs
    assert len(pd.DataFrame(json.loads(out.read_text())["curves"])) == n_runs * 2  # budgets
    assert "mean normalized regret" in printed
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL  # given back


def _small_result():
    from metaopt.benchmark._surrogate import SurrogateResult

    curves = pd.DataFrame({"method": "random", "task": [f"t{i}" for i in range(20)],
                           "seed": 0, "budget": 1, "regret": 0.5, "rank": 1.0})
    return SurrogateResult(curves, ["random"])


@pytest.mark.parametrize("name", ["c.csv.gz", "c.csv.zip", "c.csv.bz2", "c"])
def test_curves_are_compressed_as_their_name_says(name, tmp_path, monkeypatch):
    """The curves are written to a temporary file (whose name ends in .tmp) and renamed:
    compressed as --curves's name says all the same, a zip holding c.csv."""
    import zipfile

    from metaopt.benchmark import _surrogate

    monkeypatch.setattr(_surrogate, "tabrepo_benchmark", lambda *a, **k: _small_result())
    target = tmp_path / name
    assert main(["benchmark", "tabrepo", "--train", str(tmp_path), "--cv", "2",
                 "--curves", str(target), "--no-progress"]) == 0
    magic = {".gz": b"\x1f\x8b", ".zip": b"PK", ".bz2": b"BZh", "": b"method,"}
    assert target.read_bytes().startswith(magic[target.suffix])
    if name.endswith(".zip"):
        assert zipfile.ZipFile(target).namelist() == ["c.csv"]
    pd.testing.assert_frame_equal(pd.read_csv(target), _small_result().curves)


def _half_written_text(path, data, *args, **kwargs):
    """Path.write_text on a full disk: half the text written, then ENOSPC."""
    import errno

    with open(path, "w") as file:
        file.write(data[:len(data) // 2])
    raise OSError(errno.ENOSPC, "No space left on device")


_TO_CSV = pd.DataFrame.to_csv


def _half_written_csv(frame, path, *args, **kwargs):
    """DataFrame.to_csv failing midway (a full disk): its first rows written."""
    import errno

    _TO_CSV(frame.head(2), path, *args, **kwargs)
    raise OSError(errno.ENOSPC, "No space left on device")


@pytest.mark.parametrize("option", ["--json", "--curves"])
def test_a_write_that_fails_midway_keeps_the_earlier_file(option, tmp_path, capsys,
                                                          monkeypatch):
    """--json and --curves were written in place: a write that failed midway (a full
    disk, a SIGKILL) left a half-written file, the earlier results gone and the file
    unreadable (a truncated JSON, a CSV of a few rows). Now each is written to a
    temporary file beside it, renamed once whole: the earlier file stays as it was, and
    the temporary file is removed."""
    import pathlib

    from metaopt.benchmark import _surrogate

    monkeypatch.setattr(_surrogate, "tabrepo_benchmark", lambda *a, **k: _small_result())
    target = tmp_path / ("r.json" if option == "--json" else "c.csv")
    earlier = '{"earlier": "results"}' if option == "--json" else "method,task\nrandom,t\n"
    target.write_text(earlier)
    if option == "--json":
        monkeypatch.setattr(pathlib.Path, "write_text", _half_written_text)
    else:
        monkeypatch.setattr(pd.DataFrame, "to_csv", _half_written_csv)
    code = main(["benchmark", "tabrepo", "--train", str(tmp_path), "--cv", "2",
                 option, str(target), "--no-progress"])
    assert code == 2 and "No space left on device" in capsys.readouterr().err
    monkeypatch.undo()
    assert target.read_text() == earlier
    assert [p.name for p in tmp_path.iterdir()] == [target.name]  # no temporary file left


def test_an_output_that_is_a_directory_is_refused_before_the_run(tmp_path, capsys):
    """--json DIR ran the whole benchmark, then failed ('Is a directory'), saving nothing
    (--curves, written after it, neither)."""
    curves = tmp_path / "c.csv"
    code = main(["benchmark", "tabrepo", "--train", str(tmp_path / "absent"), "--cv", "2",
                 "--json", str(tmp_path), "--curves", str(curves), "--no-progress"])
    assert code == 2
    err = capsys.readouterr().err
    assert "--json" in err and "is a directory" in err and not curves.exists()


def test_outputs_naming_one_file_are_refused_before_the_run(tmp_path, capsys, monkeypatch):
    """--json r.json --curves ./r.json ran the benchmark, wrote the JSON and then
    silently replaced it by the curves' CSV."""
    monkeypatch.chdir(tmp_path)
    code = main(["benchmark", "tabrepo", "--train", str(tmp_path / "absent"), "--cv", "2",
                 "--json", "r.json", "--curves", str(tmp_path / "r.json"), "--no-progress"])
    assert code == 2
    err = capsys.readouterr().err
    assert "--json and --curves name the same file" in err and not (tmp_path / "r.json").exists()


def test_a_plot_named_without_extension_is_compared_as_the_png_written(tmp_path, capsys):
    """--json r.png --plot r: the plot, written as r.png, silently replaced the JSON."""
    code = main(["benchmark", "tabrepo", "--train", str(tmp_path / "absent"), "--cv", "2",
                 "--json", str(tmp_path / "r.png"), "--plot", str(tmp_path / "r"),
                 "--no-progress"])
    assert code == 2
    err = capsys.readouterr().err
    assert f"--json and --plot name the same file {str(tmp_path / 'r.png')!r}" in err


def test_a_plot_format_matplotlib_cannot_write_is_refused_before_the_run(tabrepo_dir, tmp_path,
                                                                          capsys):
    """--plot regret.txt ran the whole benchmark, printed its table, then failed with
    matplotlib's "Format 'txt' is not supported", naming no option, after --json was
    written."""
    code = main(["benchmark", "tabrepo", "--train", str(tabrepo_dir), "--cv", "2",
                 "--methods", "random", "--budgets", "1", "--seeds", "1", "--no-progress",
                 "--json", str(tmp_path / "r.json"), "--plot", str(tmp_path / "regret.txt")])
    assert code == 2
    captured = capsys.readouterr()
    assert not captured.out and not (tmp_path / "r.json").exists()
    assert ("--plot 'regret.txt' must end in a format matplotlib writes: .png, .pdf, .svg"
            in captured.err.replace(str(tmp_path) + "/", ""))


def test_a_curves_file_named_as_no_csv_is_refused_before_the_run(tabrepo_dir, tmp_path,
                                                                 capsys):
    """--curves curves.json ran the benchmark and wrote a CSV into curves.json, without a
    word."""
    for name in ("curves.json", "curves.tsv", "curves.csv.txt"):
        code = main(["benchmark", "tabrepo", "--train", str(tabrepo_dir), "--cv", "2",
                     "--methods", "random", "--budgets", "1", "--seeds", "1", "--no-progress",
                     "--curves", str(tmp_path / name)])
        assert code == 2, name
        captured = capsys.readouterr()
        assert not captured.out and not (tmp_path / name).exists()
        assert captured.err.endswith(
            f"error: --curves {str(tmp_path / name)!r} must end in .csv: the curves are "
            "written as a CSV table (.csv.gz, .csv.bz2, .csv.zip, .csv.xz or .csv.zst: "
            "compressed)\n"), name


def test_a_missing_tabrepo_directory_is_named_before_cv_is_asked_for(tmp_path, capsys):
    """--train with a typo and no --cv said "train and test are the same directory: pass
    cv=K"; with --cv given, the next run said the directory was missing."""
    assert main(["benchmark", "tabrepo", "--train", str(tmp_path / "tabrepo-lgbm")]) == 2
    assert "tabrepo-lgbm' is not a TabRepo directory" in capsys.readouterr().err


def test_cli_errors_are_one_line(tmp_path, capsys):
    code = main(["benchmark", "run", "--suite", "nope", "--budget-trials", "2",
                 "--out", str(tmp_path)])
    assert code == 2
    assert "unknown suite 'nope'" in capsys.readouterr().err


def test_limit_counts_the_datasets_left_after_the_exclusion(pmlb_root, tmp_path, capsys):
    """--limit was applied before --exclude-training-data, so small limits left nothing
    ("every dataset ... is training data") although most datasets are unseen."""
    from metaopt.benchmark import load_results
    from metaopt.data import get_suite

    smallest = get_suite("pmlb-classification", root=pmlb_root).select(limit=2,
                                                                       smallest_first=True)
    listed = tmp_path / "training.txt"
    listed.write_text("\n".join(r.name for r in smallest) + "\n")
    code = main(["benchmark", "run", "--suite", "pmlb-classification", "--root", str(pmlb_root),
                 "--limit", "1", "--exclude-training-data", "--training-datasets", str(listed),
                 "--methods", "default", "--budget-trials", "1", "--seeds", "1", "--folds", "2",
                 # in this process: the default -1 starts a loky worker per core (1-4 s each)
                 "--cv-folds", "2", "--n-jobs", "1", "--out", str(tmp_path / "out"),
                 "--no-progress"])
    assert code == 0, capsys.readouterr().err
    keys = set(load_results(tmp_path / "out")["dataset_key"])
    assert len(keys) == 1 and not keys & {r.key for r in smallest}


def test_run_refuses_the_other_kind_of_suites_option(pmlb_root, tmp_path, capsys):
    """`benchmark run --cache-dir DIR` with a local (PMLB) suite ran from --root and never
    looked at DIR, without a word; --root with an OpenML suite was as silently unused."""
    out = tmp_path / "out"
    common = ["--limit", "1", "--methods", "default", "--budget-trials", "1", "--folds", "2",
              "--cv-folds", "2", "--n-jobs", "1", "--out", str(out), "--no-progress"]
    assert main(["benchmark", "run", "--suite", "pmlb-classification", "--root",
                 str(pmlb_root), "--cache-dir", str(tmp_path / "cache"), *common]) == 2
    captured = capsys.readouterr()
    assert ("metaopt benchmark run: error: --cache-dir: not used with suite "
            "'pmlb-classification' (a local directory suite, read from --root; --cache-dir "
            "is openml's cache, used by the OpenML suites only") in captured.err
    assert not captured.out
    assert main(["benchmark", "run", "--suite", "openml-cc18", "--root", str(pmlb_root),
                 *common]) == 2
    assert ("--root: not used with suite 'openml-cc18' (an OpenML suite, loaded through "
            "openml's cache: --cache-dir sets it; --root is the directory of a local suite"
            ) in capsys.readouterr().err
    assert not out.exists() and not (tmp_path / "cache").exists()


def test_run_refuses_download_with_a_local_suite(pmlb_root, tmp_path, capsys):
    """`benchmark run --download` with a local (PMLB) suite ran from --root and downloaded
    nothing, without a word: only OpenML tasks are downloaded."""
    out = tmp_path / "out"
    assert main(["benchmark", "run", "--suite", "pmlb-classification", "--root",
                 str(pmlb_root), "--download", "--limit", "1", "--methods", "default",
                 "--budget-trials", "1", "--folds", "2", "--cv-folds", "2", "--n-jobs", "1",
                 "--out", str(out), "--no-progress"]) == 2
    captured = capsys.readouterr()
    assert ("metaopt benchmark run: error: --download: not used with suite "
            "'pmlb-classification' (a local directory suite, read from --root; --download "
            "fetches the tasks missing from openml's cache, used by the OpenML suites only: "
            "amlb-classification, openml-cc18, openml-ctr23)") in captured.err
    assert not captured.out and not out.exists()


def _run_args(pmlb_root, out) -> list[str]:
    return ["benchmark", "run", "--suite", "pmlb-classification", "--root", str(pmlb_root),
            "--limit", "1", "--methods", "default", "--folds", "2", "--cv-folds", "2",
            "--n-jobs", "1", "--out", str(out), "--no-progress"]


def test_run_refuses_bad_budgets_and_limits_before_it_starts(pmlb_root, tmp_path, capsys):
    """--budget-trials 0 passed the check: the run went through the whole suite, every
    job failing with "TypeError: '<' not supported between instances of 'float' and
    'NoneType'"; --max-rows 0 failed every job, --time-limit 0 timed out every trial, and
    --n-jobs 0 failed in joblib ("n_jobs == 0 in Parallel has no meaning") after --out
    was made; --time-limit nan and inf were accepted."""
    out = tmp_path / "out"
    time_limit = "--time-limit must be a finite number of seconds > 0, got "
    for options, message in ((["--budget-trials", "0"], "--budget-trials must be an integer >= 1"),
                             (["--max-rows", "0"], "--max-rows must be an integer >= 10"),
                             *((["--time-limit", t], f"{time_limit}{float(t)!r}")
                               for t in ("0", "-1", "nan", "inf")),
                             (["--n-jobs", "0"], "--n-jobs must be a nonzero integer")):
        assert main([*_run_args(pmlb_root, out), "--budget-trials", "1", *options]) == 2
        assert message in capsys.readouterr().err, options
        assert not out.exists()


def test_a_resume_with_other_settings_names_the_options(pmlb_root, tmp_path, capsys):
    """A resume with other settings said "--budget-trials 2 (now 1); folds 2 (now 3)":
    an option beside a parameter name; now every setting is an option."""
    out = tmp_path / "out"
    assert main([*_run_args(pmlb_root, out), "--budget-trials", "2", "--spaces", "knn"]) == 0
    capsys.readouterr()
    assert main([*_run_args(pmlb_root, out), "--folds", "3", "--cv-folds", "3",
                 "--budget-trials", "1", "--spaces", "knn"]) == 2  # the last option counts
    assert capsys.readouterr().err.endswith(
        f"--out={str(out)!r} holds a run with other settings: --budget-trials=2 (now 1); "
        "--folds=2 (now 3); --cv-folds=2 (now 3); use another directory\n")


def test_a_backend_without_its_scheduler_names_the_options(pmlb_root, tmp_path, capsys):
    """The command said "--backend='dask' needs scheduler=<address or
    distributed.Client>" and "scheduler is only used with backend='dask'": Python's words."""
    out = tmp_path / "out"
    for options, message in (
            (["--backend", "dask"], "error: --scheduler must be given with the dask backend: "
                                    "a dask scheduler's address, e.g. 'tcp://127.0.0.1:8786'"),
            (["--scheduler", "tcp://h:1"], "error: --scheduler must only be given with the dask "
                                           "backend, got 'tcp://h:1' with the loky backend\n")):
        assert main([*_run_args(pmlb_root, out), "--budget-trials", "1", *options]) == 2
        assert message in capsys.readouterr().err, options
        assert not out.exists()


def test_backend_sequential_runs_the_jobs_in_this_process(pmlb_root, tmp_path, capsys,
                                                         monkeypatch):
    """`--backend` took loky and dask only, though run(backend="sequential") runs each
    job in the caller's process (to debug with pdb, or where worker processes are not
    allowed). Now the command takes it too, --n-jobs ignored (2 here, which with loky
    runs the jobs in worker processes) and --scheduler refused."""
    import os

    from metaopt.benchmark import _runner

    original = _runner.run_job
    pids = []

    def run_job(job, settings):
        pids.append(os.getpid())  # in a worker, this list would be the worker's copy
        return original(job, settings)

    monkeypatch.setattr(_runner, "run_job", run_job)
    out = tmp_path / "out"
    args = [*_run_args(pmlb_root, out), "--budget-trials", "1", "--backend", "sequential",
            "--n-jobs", "2"]  # the last --n-jobs counts
    assert main([*args, "--scheduler", "tcp://h:1"]) == 2
    assert ("error: --scheduler must only be given with the dask backend, got 'tcp://h:1' "
            "with the sequential backend") in capsys.readouterr().err
    assert not out.exists()
    assert main(args) == 0, capsys.readouterr().err
    assert pids == [os.getpid()] * 2  # one job per outer fold
    assert "2 jobs in" in capsys.readouterr().out


def test_an_interrupted_run_says_how_to_resume(pmlb_root, tmp_path, capsys, monkeypatch):
    """Ctrl-C printed only "metaopt benchmark: interrupted", not that the finished jobs
    are kept nor how to go on."""
    from metaopt.benchmark import _runner

    original = _runner.run_job
    calls = []

    def stops_on_the_second(job, settings):
        if calls:
            raise KeyboardInterrupt
        calls.append(job)
        return original(job, settings)

    monkeypatch.setattr(_runner, "run_job", stops_on_the_second)
    out = tmp_path / "out"
    assert main([*_run_args(pmlb_root, out), "--budget-trials", "1"]) == 130
    err = capsys.readouterr().err
    assert f"interrupted: 1 finished job(s) kept in {out}" in err
    assert "run the same command again to resume" in err


def test_a_run_stopped_by_sigterm_keeps_its_jobs_and_says_so(pmlb_root, tmp_path, capsys,
                                                            monkeypatch):
    """SIGTERM (a job scheduler's stop) killed the run without a word."""
    import os
    import signal

    from metaopt.benchmark import _runner

    original = _runner.run_job
    calls = []

    def terminated_on_the_second(job, settings):
        if calls:
            os.kill(os.getpid(), signal.SIGTERM)
        calls.append(job)
        return original(job, settings)

    monkeypatch.setattr(_runner, "run_job", terminated_on_the_second)
    out = tmp_path / "out"
    assert main([*_run_args(pmlb_root, out), "--budget-trials", "1"]) == 128 + signal.SIGTERM
    assert f"interrupted: 1 finished job(s) kept in {out}" in capsys.readouterr().err
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL  # given back


def test_a_second_signal_while_a_run_stops_keeps_the_first_ones_exit_code(
        pmlb_root, tmp_path, capsys, monkeypatch):
    """A SIGINT while `benchmark run` said it was interrupted by SIGTERM (its `except`,
    the guard still installed) raised a plain KeyboardInterrupt: the message was cut and
    the command exited 130, not 143."""
    import signal
    import sys

    from metaopt.benchmark import _runner

    def terminated(job, settings):
        _signal(signal.SIGTERM)

    monkeypatch.setattr(_runner, "run_job", terminated)
    monkeypatch.setattr(sys, "stderr", _SignalledWhileSaying(sys.stderr))
    out = tmp_path / "out"
    assert main([*_run_args(pmlb_root, out), "--budget-trials", "1"]) == 128 + signal.SIGTERM
    assert (f"interrupted: 0 finished job(s) kept in {out}; run the same command again to "
            "resume") in "".join(sys.stderr.said)
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL  # given back


def test_output_paths_under_a_file_are_refused_before_the_run(tmp_path, capsys):
    """--json FILE/r.json ran the whole benchmark, then failed ("[Errno 17] File exists")."""
    (tmp_path / "file").write_text("x")
    code = main(["benchmark", "tabrepo", "--train", str(tmp_path / "absent"), "--cv", "2",
                 "--json", str(tmp_path / "file" / "r.json"), "--no-progress"])
    assert code == 2
    err = capsys.readouterr().err
    assert err.startswith("metaopt benchmark tabrepo: error: --json ")
    assert "is a file, not a folder" in err


def test_budgets_that_are_no_integers_name_the_option(tmp_path, capsys):
    """`--budgets 1,x` said "error: expected comma-separated integers, got '1,x'",
    naming no option."""
    for command in (["tabrepo", "--train", str(tmp_path)],
                    ["yahpo", "--scenario", "lcbench", "--data", str(tmp_path)]):
        with pytest.raises(SystemExit) as exit_:
            main(["benchmark", *command, "--budgets", "1,x"])
        assert exit_.value.code == 2
        assert (f"metaopt benchmark {command[0]}: error: argument --budgets: expected "
                "comma-separated integers, got '1,x'") in capsys.readouterr().err


def test_empty_instance_lists_and_a_negative_cv_seed_are_named(tabrepo_dir, tmp_path, capsys):
    """--test-instances ',' ended with "no method could run on these tasks: ", an empty
    --train-instances with "space 'yahpo_lcbench' has no evaluations"; --cv-seed -1 with
    numpy's "Seed must be between 0 and 2**32 - 1"."""
    for option in ("--train-instances", "--test-instances"):
        assert main(["benchmark", "yahpo", "--scenario", "lcbench", "--data", str(tmp_path),
                     option, ",", "--no-progress"]) == 2
        assert f"{option} names no instance" in capsys.readouterr().err
    assert main(["benchmark", "tabrepo", "--train", str(tabrepo_dir), "--cv", "2",
                 "--cv-seed", "-1", "--methods", "random", "--no-progress"]) == 2
    assert "--cv-seed must be an integer in [0, 4294967295]" in capsys.readouterr().err
    # without --cv there are no folds to seed: it was accepted and ignored
    assert main(["benchmark", "tabrepo", "--train", str(tabrepo_dir), "--cv-seed", "3",
                 "--methods", "random", "--no-progress"]) == 2
    assert ("metaopt benchmark tabrepo: error: --cv-seed sets the fold assignment of --cv: "
            "give --cv K too") in capsys.readouterr().err


def test_damaged_run_files_are_named(pmlb_root, tmp_path, capsys):
    """A damaged run.json or job file made `benchmark report` fail with json's bare
    "Expecting value: line 1 column 1 (char 0)", naming no file; a run.json holding a
    list, with a traceback."""
    out = tmp_path / "out"
    assert main([*_run_args(pmlb_root, out), "--budget-trials", "1"]) == 0
    job = next((out / "jobs").glob("*.jsonl"))
    settings = (out / "run.json").read_text()
    for path, text in ((out / "run.json", "garbage"), (out / "run.json", "[]"),
                       (job, '{"job": tru')):
        original = path.read_text()
        path.write_text(text)
        assert main(["benchmark", "report", "--out", str(out)]) == 2
        assert str(path) in capsys.readouterr().err
        path.write_text(original)
    assert (out / "run.json").read_text() == settings
    assert main(["benchmark", "report", "--out", str(out)]) == 0


def test_a_report_that_fails_midway_keeps_the_earlier_one(pmlb_root, tmp_path, capsys,
                                                          monkeypatch):
    """report.md was written in place: a write that failed midway (a full disk, a
    SIGKILL) left half a report in place of the earlier one. Now it is written to a
    temporary file beside it and renamed once whole."""
    import pathlib

    from metaopt.benchmark import _report

    out = tmp_path / "out"
    assert main([*_run_args(pmlb_root, out), "--budget-trials", "1"]) == 0
    earlier = "# Benchmark: the earlier report\n"
    (out / "report.md").write_text(earlier)
    # (no plots: a quicker test)
    monkeypatch.setattr(_report, "plot_curves", lambda *a, **k: None)
    monkeypatch.setattr(_report, "_cd_diagram", lambda *a, **k: "")
    monkeypatch.setattr(pathlib.Path, "write_text", _half_written_text)
    assert main(["benchmark", "report", "--out", str(out)]) == 2
    assert "No space left on device" in capsys.readouterr().err
    monkeypatch.undo()
    assert (out / "report.md").read_text() == earlier
    assert not list(out.glob(".*.tmp"))  # no temporary file left


def test_run_help_describes_every_option_and_its_default(capsys):
    """`benchmark run --help` had no description, --seeds and --no-progress no help, and
    left out the defaults of --seeds, --folds, --cv-folds and --time-limit."""
    import pytest

    with pytest.raises(SystemExit):
        main(["benchmark", "run", "--help"])
    text = " ".join(capsys.readouterr().out.split())  # argparse wraps lines
    assert "Tune real models on a dataset suite" in text
    for expected in ("--seeds N seeds 0..N-1 per (dataset, method, fold) (default 1)",
                     "--folds N outer folds per dataset (default 3)",
                     "--cv-folds K inner CV folds scoring each trial (default 3)",
                     "--time-limit SECONDS seconds per trial (default 300)",
                     "--no-progress no progress bar",
                     # --backend had no help, --spaces no default
                     "dask cluster, or sequential: one at a time in this process",
                     "ignored with --backend sequential", "each once (default all)"):
        assert expected in text, expected


def test_surrogate_help_gives_every_default(capsys):
    """`benchmark tabrepo/yahpo --help` left out the defaults of --budgets, --seeds,
    --n-train-configs and --n-reference, and --no-progress had no help."""
    import pytest

    for command, expected in (
            ("tabrepo", ["(default 1,3,5,10,25,50)", "per method and task (default 5)",
                         "--no-progress no progress bar"]),
            ("yahpo", ["instance (default 256)", "best and worst (default 10000)",
                       "(default 1,3,5,10,25,50)"])):
        with pytest.raises(SystemExit):
            main(["benchmark", command, "--help"])
        text = " ".join(capsys.readouterr().out.split())  # argparse wraps lines
        for part in expected:
            assert part in text, (command, part)


def test_run_says_how_many_jobs_ran_now_and_why_jobs_failed(pmlb_root, tmp_path, capsys,
                                                             monkeypatch):
    """The closing line counted every job of --out ("2 jobs in out"), also those kept
    from an earlier run, and jobs that failed as a whole showed only as a count."""
    from metaopt.benchmark import _runner

    split = _runner._outer_split

    def fold_1_fails(dataset, fold, settings):
        if fold == 1:
            raise ValueError("n_splits=2 cannot be greater than the number of members")
        return split(dataset, fold, settings)

    monkeypatch.setattr(_runner, "_outer_split", fold_1_fails)
    out = tmp_path / "out"
    assert main([*_run_args(pmlb_root, out), "--budget-trials", "1"]) == 0
    printed = capsys.readouterr().out
    assert f"2 jobs in {out}: 2 run now, 0 kept from an earlier run" in printed
    job = "pmlb_analcatdata_happiness__default__s0__f1"
    assert (f"1 job failed as a whole, such as {job}: ValueError: n_splits=2 cannot be "
            "greater than the number of members; `metaopt benchmark report` lists them, and "
            "--retry-failed runs them again once the cause is fixed") in printed
    assert main([*_run_args(pmlb_root, out), "--budget-trials", "1"]) == 0
    assert f"2 jobs in {out}: 0 run now, 2 kept from an earlier run" in capsys.readouterr().out


def test_a_root_without_datasets_is_named(tmp_path, capsys):
    """--root of a directory holding no dataset of the suite (a typo, the parent of the
    PMLB copy) said only "suite 'pmlb-classification' has no datasets"."""
    out = tmp_path / "out"
    assert main([*_run_args(tmp_path, out), "--budget-trials", "1"]) == 2
    err = capsys.readouterr().err
    assert (f"--root {str(tmp_path)!r} holds no classification dataset of suite "
            "'pmlb-classification': give a PMLB-style directory (a folder NAME/ with "
            "NAME.tsv.gz per dataset, or a manifest.csv with columns name, task)") in err
    assert not out.exists()


def test_run_takes_named_datasets(pmlb_root, tmp_path, capsys):
    """`benchmark run` had no --datasets (build-kb has it): only the --limit smallest
    datasets of a suite could be chosen."""
    from metaopt.benchmark import load_results

    out = tmp_path / "out"
    args = ["benchmark", "run", "--suite", "pmlb-classification", "--root", str(pmlb_root),
            "--methods", "default", "--budget-trials", "1", "--folds", "2", "--cv-folds", "2",
            "--n-jobs", "1", "--out", str(out), "--no-progress"]
    assert main([*args, "--datasets", "lupus,irsh"]) == 2
    # it did not name --datasets: "names not in suite 'pmlb-classification': 'irsh' (...)"
    assert capsys.readouterr().err.endswith(
        "error: --datasets lupus,irsh: suite 'pmlb-classification' has no dataset named "
        "'irsh' (did you mean 'irish'?)\n")
    assert not out.exists()
    listed = tmp_path / "names.txt"
    listed.write_text("lupus\npmlb/analcatdata_aids\n")
    assert main([*args, "--datasets", f"@{listed}", "--limit", "1"]) == 0
    assert set(load_results(out)["dataset_key"]) == {"pmlb/analcatdata_aids"}  # the smaller


def test_a_limit_after_excluding_every_dataset_says_why_nothing_is_left(pmlb_root, tmp_path,
                                                                        capsys):
    """With --limit, --exclude-training-data leaving no dataset said "suite ... has no
    datasets: nothing to benchmark", not that they are all training data."""
    listed = tmp_path / "training.txt"
    listed.write_text("lupus\nanalcatdata_aids\n")
    out = tmp_path / "out"
    assert main(["benchmark", "run", "--suite", "pmlb-classification", "--root",
                 str(pmlb_root), "--datasets", "lupus,analcatdata_aids", "--limit", "1",
                 "--exclude-training-data", "--training-datasets", str(listed),
                 "--methods", "default", "--budget-trials", "1", "--out", str(out),
                 "--no-progress"]) == 2
    assert ("every dataset of suite 'pmlb-classification' is training data of the "
            "meta-model: nothing left to benchmark") in capsys.readouterr().err
    assert not out.exists()


def test_cv_with_test_instances_names_both_options(yahpo_dir, capsys):
    """--cv with --test-instances said "cv tests on the training instances: give no
    --test-instances": the parameter's name beside an option."""
    code = main(["benchmark", "yahpo", "--scenario", "lcbench", "--data", str(yahpo_dir),
                 "--cv", "2", "--test-instances", "3945", "--no-progress"])
    assert code == 2
    assert capsys.readouterr().err.endswith(
        "error: --cv must not be given with --test-instances: it tests on folds of the "
        "training instances\n")


def test_an_empty_split_names_its_option_once(yahpo_dir, tmp_path, capsys):
    """An empty valid split said 'give --test-instances (--test-instances)': the
    parameter named in the message became the option, beside the option itself."""
    (tmp_path / "lcbench").symlink_to(yahpo_dir / "lcbench")
    splits = json.loads((yahpo_dir / "splits.json").read_text())["lcbench"]
    for empty, option in (("valid", "--test-instances"), ("train", "--train-instances")):
        (tmp_path / "splits.json").write_text(json.dumps({"lcbench": {**splits, empty: []}}))
        code = main(["benchmark", "yahpo", "--scenario", "lcbench", "--data", str(tmp_path),
                     "--methods", "random", "--budgets", "1", "--seeds", "1", "--no-progress"])
        err = capsys.readouterr().err
        assert code == 2 and err.rstrip().endswith(f"list them there or give {option}"), err


def test_every_benchmark_action_says_what_it_does():
    """`metaopt benchmark tabrepo --help`, `yahpo --help` and `report --help` showed only
    the usage and the options: not what the command runs or, for report, which files it
    writes."""
    from metaopt.cli import build_parser

    benchmark = build_parser()._subparsers._group_actions[0].choices["benchmark"]
    actions = benchmark._subparsers._group_actions[0].choices
    assert all(actions[name].description for name in ("tabrepo", "yahpo", "run", "report"))
    assert all(name in actions["report"].description
               for name in ("report.md", "regret.png", "rank.png", "cd.png"))
