"""The `metaopt` command: version, help, datasets commands, suggest and demo."""

from __future__ import annotations

import gzip
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from metaopt import __version__
from metaopt.cli import main


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "metaopt.cli", *args], capture_output=True,
                          text=True, timeout=600)


def test_version_and_help():
    out = run("--version")
    assert out.returncode == 0 and out.stdout.strip() == f"metaopt {__version__}"
    out = run("--help")
    assert out.returncode == 0
    for command in ("suites", "metafeatures", "suggest", "demo", "build-kb", "benchmark",
                    "train-meta-model"):
        assert command in out.stdout


def _value_options(parser, path=()):
    """(command, option, metavar shown in --help) of every option taking a value."""
    import argparse

    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _value_options(sub, (*path, name))
        elif action.option_strings and action.nargs != 0 and action.choices is None:
            yield " ".join(path), action.option_strings[-1], action.metavar or action.dest.upper()


def test_options_show_what_they_take():
    """`metaopt benchmark run --help` showed `--scheduler SCHEDULER`, `--out OUT`,
    `--limit LIMIT`: the option's name again. An option's metavar now says what it takes
    (ADDRESS, DIR, FILE, N, SECONDS, NAMES, ...), as the docs write them; only options whose
    name says it keep it."""
    from metaopt.cli import build_parser

    named = {"--seed", "--cv-seed", "--space", "--spaces", "--scenario", "--suite", "--kb",
             "--covariance-weight", "--min-distance", "-n"}
    echoed = [f"{command} {option} {shown}" for command, option, shown in
              _value_options(build_parser())
              if option not in named and shown == option.lstrip("-").replace("-", "_").upper()]
    assert echoed == []
    assert "--scheduler ADDRESS" in run("benchmark", "run", "--help").stdout


def test_every_option_says_what_it_does_and_its_default():
    """`metaopt build-kb --help` listed --cv-folds K, --seed SEED, --backend and
    --no-progress with no text, and --n-configs, --max-rows, --n-jobs, --store without the
    value used when they are left out (suggest -n, demo --trials, metafeatures --seed,
    `kb export`'s parquet too)."""
    import argparse

    from metaopt.cli import build_parser

    def actions(parser, path=()):
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    yield from actions(sub, (*path, name))
            elif not isinstance(action, (argparse._HelpAction, argparse._VersionAction)):
                yield " ".join(path), (action.option_strings or [action.dest])[-1], action

    silent = [f"{command} {option}" for command, option, action in actions(build_parser())
              if not action.help]
    assert silent == []
    undefaulted = [f"{command} {option}" for command, option, action in actions(build_parser())
                   if action.default not in (None, False) and "default" not in action.help]
    assert undefaulted == []
    assert "CV folds of each evaluation (default 5)" in run("build-kb", "--help").stdout



def test_demo_space_help_names_the_families_it_takes():
    """`metaopt demo --help` said "--space SPACE  search space", but the demo refuses
    'all', a combination and the TabRepo/YAHPO spaces: one model family only. Its help
    names them, as many as metaopt.spaces registers."""
    from metaopt.cli import build_parser
    from metaopt.spaces import list_spaces

    demo = build_parser()._subparsers._group_actions[0].choices["demo"]
    (space,) = [a for a in demo._actions if "--space" in a.option_strings]
    assert space.help == ("one model family to tune: " + ", ".join(list_spaces()[:-1])
                          + f" or {list_spaces()[-1]} (default: hist_gradient_boosting)")

def test_help_imports_no_heavy_library():
    """`metaopt --help` took 3 s importing the knowledge base, the benchmarks and torch
    to list the commands; the packages now import their public names on first use."""
    script = ("import sys\nfrom metaopt.cli import build_parser\nbuild_parser()\n"
              "print(sorted(m for m in ('torch', 'optuna', 'sklearn', 'sqlalchemy')\n"
              "             if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_suites_and_metafeatures(pmlb_root, tmp_path, capsys):
    assert main(["suites", "--root", str(pmlb_root)]) == 0
    assert "openml-cc18" in capsys.readouterr().out
    data = tmp_path / "wine.csv"
    with gzip.open(pmlb_root / "wine_recognition" / "wine_recognition.tsv.gz", "rt") as src:
        data.write_text(src.read().replace("\t", ","))
    assert main(["metafeatures", "--data", str(data), "--target", "target"]) == 0
    out = capsys.readouterr().out
    assert "178 rows x 13 features" in out and "landmark_1nn" in out


def test_user_errors_are_one_line(tmp_path, capsys):
    assert main(["metafeatures", "--data", str(tmp_path / "none.csv"), "--target", "y"]) == 2
    err = capsys.readouterr().err
    assert "does not exist" in err and "Traceback" not in err
    assert main(["suites", "--root", str(tmp_path / "none")]) == 2
    captured = capsys.readouterr()
    assert "--root must be an existing directory" in captured.err and not captured.out
    assert main(["demo", "--space", "tabrepo_lightgbm"]) == 2
    captured = capsys.readouterr()
    assert ("--space must be one model family (hist_gradient_boosting, random_forest, "
            in captured.err and not captured.out)


def test_a_closed_output_pipe_is_no_error():
    """`metaopt suites | head -1`: the reader leaving early printed "error: [Errno 32]
    Broken pipe" and exited 2; now the command stops quietly, as a shell tool does. With
    stdout buffered (no PYTHONUNBUFFERED, as in a user's shell) the pipe broke only at the
    interpreter's final flush: "Exception ignored ... BrokenPipeError" and exit code 120."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    proc = subprocess.Popen([sys.executable, "-m", "metaopt.cli", "suites"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    proc.stdout.close()  # before the command writes anything
    err = proc.stderr.read()
    assert proc.wait(timeout=120) == 141
    assert err == ""


def test_suggest_with_a_saved_model(small_meta_model, tmp_path, capsys, shared_data):
    model_dir = small_meta_model.save(tmp_path / "model")
    data = tmp_path / "wine.csv"
    with gzip.open(shared_data / "pmlb" / "wine_recognition" / "wine_recognition.tsv.gz", "rt") as src:
        data.write_text(src.read().replace("\t", ","))
    code = main(["suggest", "--data", str(data), "--target", "target",
                 "--space", "tabrepo_lightgbm", "-n", "3", "--meta-model", str(model_dir)])
    out = capsys.readouterr().out
    assert code == 0
    assert out.count("expected regret") == 3 and "nearest:" in out
    assert "task classification inferred from the target column" in out
    assert main(["suggest", "--data", str(data), "--target", "target", "--space", "knn",
                 "--meta-model", str(model_dir)]) == 2  # the model is not knn's
    assert "trained on space 'tabrepo_lightgbm', not 'knn'" in capsys.readouterr().err
    size = len(small_meta_model.portfolio.params_)
    assert main(["suggest", "--data", str(data), "--target", "target", "--task",
                 "classification", "--space", "tabrepo_lightgbm", "-n", str(size + 5),
                 "--meta-model", str(model_dir)]) == 0
    captured = capsys.readouterr()
    assert captured.out.count("expected regret") == size
    assert f"warning: n={size + 5}: the tabrepo_lightgbm portfolio holds {size}" in captured.err
    assert "inferred" not in captured.out
    # without --space: the model's (it was required, also with --meta-model)
    assert main(["suggest", "--data", str(data), "--target", "target", "-n", "2",
                 "--meta-model", str(model_dir)]) == 0
    assert capsys.readouterr().out.count("expected regret") == 2
    assert main(["suggest", "--data", str(data), "--target", "target"]) == 2
    assert "give --space, one of 'all', " in capsys.readouterr().err


def test_suggest_json_is_one_document_of_the_same_picks(small_meta_model, tmp_path, capsys,
                                                        shared_data):
    """`--json`: the configurations, reasons and regrets as JSON (parsable by other tools),
    the same as the text output lists."""
    model_dir = small_meta_model.save(tmp_path / "model")
    data = tmp_path / "wine.csv"
    with gzip.open(shared_data / "pmlb" / "wine_recognition" / "wine_recognition.tsv.gz", "rt") as src:
        data.write_text(src.read().replace("\t", ","))
    command = ["suggest", "--data", str(data), "--target", "target", "-n", "3",
               "--meta-model", str(model_dir)]
    assert main(command) == 0
    text = capsys.readouterr().out
    assert main([*command, "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["task"] == "classification" and document["task_inferred"]
    assert document["summary"] in text
    picks = document["configurations"]
    assert len(picks) == 3
    for i, pick in enumerate(picks, start=1):
        assert f"{i}. {pick['params']}" in text and pick["reason"] in text
        assert 0 <= pick["expected_regret"] <= pick["mean_regret"] + 1e-12
        assert all(isinstance(key, str) for key in pick["best_on"])


def test_python_m_metaopt_runs_the_command():
    """`python -m metaopt` failed: "No module named metaopt.__main__"."""
    out = subprocess.run([sys.executable, "-m", "metaopt", "--version"], capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0 and __version__ in out.stdout, out.stderr


def test_console_script_installed():
    script = Path(sys.executable).parent / "metaopt"  # where pip puts entry points
    assert script.is_file(), f"the metaopt entry point is not installed at {script}"
    out = subprocess.run([str(script), "--version"], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and __version__ in out.stdout



def test_demo_leaves_optunas_verbosity_as_it_was(capsys):
    """main(["demo"]) set Optuna's verbosity to WARNING for the rest of the process (also
    when it then refused its arguments): a notebook's or test session's later studies
    lost their per-trial log."""
    import optuna

    before = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.INFO)
    try:
        assert main(["demo", "--space", "linear", "--trials", "1"]) == 0
        assert "trial 0:" in capsys.readouterr().out
        assert optuna.logging.get_verbosity() == optuna.logging.INFO
        assert main(["demo", "--trials", "0"]) == 2
        assert optuna.logging.get_verbosity() == optuna.logging.INFO
    finally:
        optuna.logging.set_verbosity(before)

def test_demo_explains_its_choices(capsys):
    from metaopt._suggest import run_demo

    study = run_demo(n_trials=4, cv=2)
    out = capsys.readouterr().out
    assert "nearest:" in out and "default configuration" in out
    assert "the portfolio's order is the same for every dataset" in out
    assert "portfolio pick 1" in out and "ranker adapted on" in out
    assert len(study.trials) == 4
    assert main(["demo", "--trials", "0"]) == 2
    assert "error: --trials must be an integer >= 1, got 0" in capsys.readouterr().err
    assert main(["demo", "--seed", "-1"]) == 2  # numpy's message did not name the seed
    assert "error: --seed must be an integer >= 0, got -1" in capsys.readouterr().err


def test_demo_fits_on_one_thread(monkeypatch, capsys):
    """The demo's cross-validation ran HistGradientBoosting on every OpenMP thread: with
    a core busy elsewhere the threads waited on each other, and `metaopt demo --trials 4`
    took 84-111 s on the 2-core VM instead of 4 s. Its fits now run on one thread."""
    from threadpoolctl import threadpool_info, threadpool_limits

    import metaopt._suggest as demo

    threads = []

    def recording(*args, **kwargs):
        threads.append({pool["user_api"]: pool["num_threads"] for pool in threadpool_info()})
        return [0.5, 0.5]

    monkeypatch.setattr(demo, "cross_val_score", recording)
    with threadpool_limits(limits=2):  # as on a 2-core machine, whatever runs the tests
        demo.run_demo(n_trials=2, cv=2)
    assert len(threads) == 3  # the default configuration and 2 trials
    assert all(set(pools.values()) == {1} for pools in threads)


def test_train_meta_model_checks_its_arguments_before_training(tmp_path, capsys):
    """--out naming a file trained every model, then failed with "[Errno 20] Not a
    directory: 'FILE/knn'"; --min-datasets 1 let a space of one dataset into training
    ("need at least 2 training datasets, got 1"); --cost-only with a missing --out said
    "[Errno 2] No such file or directory"."""
    from metaopt.kb import KnowledgeBase, load_default

    frame = load_default().to_frame()
    frame = frame[(frame["space"] == "knn") & (frame["task"] == "classification")]
    store = tmp_path / "kb.sqlite"
    with KnowledgeBase(store) as kb:
        kb.add_frame(frame[frame["dataset_key"].isin(frame["dataset_key"].unique()[:3])])
    (tmp_path / "file").write_text("x")
    base = ["train-meta-model", "--kb", str(store), "--iterations", "2", "--n-ensemble", "1",
            "--min-datasets", "2", "--no-progress"]
    for options, message in (
            (["--out", str(tmp_path / "file")], "is a file: give a directory"),
            (["--out", str(tmp_path / "file" / "models")], "is a file, not a folder"),
            (["--out", str(tmp_path / "m"), "--min-datasets", "1"],
             "--min-datasets must be an integer >= 2, got 1")):
        assert main([*base, *options]) == 2, options
        err = capsys.readouterr().err
        assert message in err and "Errno" not in err, options
    # --cost-only takes no training option
    assert main(["train-meta-model", "--kb", str(store), "--out", str(tmp_path / "none"),
                 "--cost-only"]) == 2
    err = capsys.readouterr().err
    assert "holds no knowledge-base meta-model" in err and "Errno" not in err
    assert not (tmp_path / "m").exists()


def test_train_meta_model_refuses_bad_ranker_and_policy_options_before_any_model(
        tmp_path, capsys):
    """--seed -1, --n-ensemble 0, --covariance-weight -1 or --min-distance 2 read the
    knowledge base and built every space's matrix (16 s with the shipped one, as long
    with --yahpo), announced "knn: model 1/1" and only then were refused."""
    from metaopt.kb import KnowledgeBase, load_default

    frame = load_default().to_frame()
    frame = frame[(frame["space"] == "knn") & (frame["task"] == "classification")]
    store = tmp_path / "kb.sqlite"
    with KnowledgeBase(store) as kb:
        kb.add_frame(frame[frame["dataset_key"].isin(frame["dataset_key"].unique()[:3])])
    base = ["train-meta-model", "--kb", str(store), "--out", str(tmp_path / "m"),
            "--min-datasets", "2", "--iterations", "2"]
    for option, value, message in (
            ("--seed", "-1", "--seed must be an integer >= 0, got -1"),
            ("--n-ensemble", "0", "--n-ensemble must be an integer >= 1, got 0"),
            ("--covariance-weight", "-1", "--covariance-weight must be >= 0"),
            ("--min-distance", "2", "--min-distance must be in [0, 1]")):
        assert main([*base, option, value]) == 2
        err = capsys.readouterr().err
        assert message in err and "model 1/" not in err, option
    assert not (tmp_path / "m").exists()


def test_drop_a_row_id_column(pmlb_root, tmp_path, capsys):
    """`metaopt suggest` and `metaopt metafeatures` counted backache's 'id' column (1 to
    180, one per row) as a feature, with no warning and no way to leave it out."""
    data = tmp_path / "backache.csv"
    with gzip.open(pmlb_root / "backache" / "backache.tsv.gz", "rt") as src:
        data.write_text(src.read().replace("\t", ","))
    base = ["--data", str(data), "--target", "target"]
    assert main(["suggest", *base, "--space", "knn", "-n", "1"]) == 0
    captured = capsys.readouterr()
    assert "180 x 32" in captured.out
    assert ("metaopt suggest: warning: backache: column 'id' (180 distinct whole numbers "
            "from 1 to 180, named like an id) looks like a row identifier") in captured.err
    # the command line's advice only, not Python's
    assert captured.err.endswith("if it is one, drop it with --drop id\n")
    assert main(["suggest", *base, "--space", "knn", "-n", "1", "--drop", "id"]) == 0
    captured = capsys.readouterr()
    assert "180 x 31" in captured.out and "row identifier" not in captured.err
    assert main(["metafeatures", *base]) == 0
    assert "looks like a row identifier" in capsys.readouterr().err
    assert main(["metafeatures", *base, "--drop", "id", "col_2"]) == 0
    captured = capsys.readouterr()
    assert "180 rows x 30 features" in captured.out and not captured.err
    for drop, message in (
            (["idd"], f"--drop names 'idd', not a column of {data}; did you mean 'id'?"),
            (["target"], "--drop names the target column 'target': it is no feature"),
            (["id", *(f"col_{i}" for i in range(2, 33))],
             f"--drop names every feature column of {data}: leave at least one")):
        assert main(["metafeatures", *base, "--drop", *drop]) == 2
        captured = capsys.readouterr()
        assert captured.err.endswith(f"error: {message}\n") and not captured.out


def test_checks_of_the_features_speak_of_the_file_and_drop_works_before_them(
        pmlb_root, tmp_path, capsys):
    """Three of the library's checks of X read as Python in the command ("X column(s)
    'big' ... rescale, e.g. X['big'] / 1e301", "column(s) ['copy'] of X hold the target
    column 'target' itself ... X.drop(columns=['copy'])", "X contains infinite values in
    column(s) ['3', '9']") and ran before --drop, so dropping the column did not help; the
    warnings came twice, the second in Python's words (the meta-features checked X again),
    and are given once."""
    import pandas as pd

    table = pd.read_csv(pmlb_root / "wine_recognition" / "wine_recognition.tsv.gz", sep="\t")
    cases = (
        ("big", {"big": table["1"] * 1e300},
         "warning: {data}: column 'big' (up to 1.48e+301) holds finite values too large for "
         "float32 (beyond 3.4e+38: tree models cast the features to it and see inf), and to "
         "standardise in float64 (squared and summed, they overflow to inf: standardising "
         "leaves them unscaled or NaN); rescale them in {data}, e.g. divide column 'big' by "
         "1e301\n", ["big"]),
        ("copy", {"copy of target": table["target"]},
         "warning: {data}: column 'copy of target' holds the target column 'target' itself: a "
         "model fitted with it predicts from the answer (cross-validated scores near perfect); "
         "drop it with --drop 'copy of target'\n", ["copy of target"]),
        ("inf", {"3": table["3"].where(table.index != 3, float("inf")),
                 "9": table["9"].where(table.index != 5, float("-inf"))},
         "error: {data}: columns '3', '9' hold infinite values; replace them in {data} with "
         "finite values or empty cells (empty cells are imputed), or drop them with --drop 3 9\n",
         ["3", "9"]))
    for name, columns, message, drop in cases:
        data = tmp_path / f"{name}.csv"
        table.assign(**columns).to_csv(data, index=False)
        base = ["metafeatures", "--data", str(data), "--target", "target"]
        assert main(base) == (2 if message.startswith("error") else 0)
        assert capsys.readouterr().err == f"metaopt metafeatures: {message.format(data=data)}"
        if name == "copy":  # suggest's meta-features do not check the table again either
            assert main(["suggest", *base[1:], "--space", "knn", "-n", "1"]) == 0
            assert capsys.readouterr().err == f"metaopt suggest: {message.format(data=data)}"
        assert main([*base, "--drop", *drop]) == 0
        assert not capsys.readouterr().err


def test_build_kb_refuses_the_other_kind_of_suites_option(pmlb_root, tmp_path, capsys):
    """`build-kb --cache-dir DIR` with a local (PMLB) suite built from --root and never
    looked at DIR, without a word; --root with an OpenML suite was as silently unused."""
    store = tmp_path / "kb.sqlite"
    quick = ["--limit", "1", "--spaces", "knn", "--n-configs", "1", "--cv-folds", "2",
             "--max-rows", "100", "--no-progress", "--store", str(store)]
    assert main(["build-kb", "--suite", "pmlb-classification", "--root", str(pmlb_root),
                 "--cache-dir", str(tmp_path / "cache"), *quick]) == 2
    captured = capsys.readouterr()
    assert ("--cache-dir: not used with suite 'pmlb-classification' (a local directory "
            "suite, read from --root") in captured.err and not captured.out
    assert main(["build-kb", "--suite", "openml-cc18", "--root", str(pmlb_root), *quick]) == 2
    assert "--root: not used with suite 'openml-cc18' (an OpenML suite" in capsys.readouterr().err
    assert not store.exists()


def test_na_values_makes_a_missing_value_marker_missing(pmlb_root, tmp_path, capsys):
    """A CSV writing its missing values as '?' had its numeric columns read as text
    categories by `metaopt suggest` / `metaopt metafeatures`, without a word and with no
    way to say what '?' is: they warn now, naming --na-values, which reads them missing."""
    data = tmp_path / "credit_g.csv"
    with gzip.open(pmlb_root / "credit_g" / "credit_g.tsv.gz", "rt") as src:
        rows = [line.split("\t") for line in src.read().splitlines()]
    age = rows[0].index("age")
    for row in rows[1::9]:
        row[age] = "?"
    data.write_text("\n".join(",".join(row) for row in rows))
    base = ["metafeatures", "--data", str(data), "--target", "target"]
    assert main(base) == 0
    captured = capsys.readouterr()
    # it said "X column 'age' ...: X.replace(['?'], np.nan) in Python (or pd.read_csv(...,
    # na_values=['?'])), --na-values '?' on the command line": the file has columns, not X
    assert captured.err.startswith(
        f"metaopt metafeatures: warning: {data}: column 'age' ('?' in 112 of 1000 rows) "
        "holds numbers but for a few text values, so it is read as text")
    assert captured.err.endswith(
        "If those values mark missing values, make them missing with --na-values '?'\n")
    assert main([*base, "--na-values", "?"]) == 0
    assert not capsys.readouterr().err
    # a column 'y' and a marker y are no target column (y is the Python target)
    rows[0][age] = "y"
    for row in rows[1::9]:
        row[age] = "y"
    data.write_text("\n".join(",".join(row) for row in rows))
    assert main(base) == 0
    err = capsys.readouterr().err
    assert f"{data}: column 'y' ('y' in 112 of 1000 rows)" in err
    assert err.endswith("make them missing with --na-values y\n")


def test_errors_name_the_flag_not_the_python_parameter(pmlb_root, shared_data, tmp_path,
                                                       capsys):
    """`benchmark run --budget-trials 0` said "budget_trials must be ...", `--seeds -1`
    "seeds must be ...", `demo --trials 0` "n_trials must be ...": the library's
    parameter names, not the options typed."""
    data = str(pmlb_root / "wine_recognition" / "wine_recognition.tsv.gz")
    run_ = ["benchmark", "run", "--suite", "pmlb-classification", "--root", str(pmlb_root),
            "--limit", "1", "--out", str(tmp_path / "out"), "--no-progress"]
    missing = str(tmp_path / "none.txt")
    for args, message in (
            ([*run_, "--budget-trials", "0"],
             "metaopt benchmark run: error: --budget-trials must be an integer >= 1, got 0\n"),
            ([*run_, "--budget-trials", "1", "--seeds", "-1"],
             "error: --seeds must be an integer >= 1, got -1\n"),
            ([*run_, "--budget-trials", "1", "--exclude-training-data",
              "--training-datasets", missing], f"error: --training-datasets={missing!r} is no"),
            # a parameter inside the message
            (["benchmark", "yahpo", "--scenario", "lcbench", "--data", str(tmp_path),
              "--n-train-configs", "1"],
             "error: --n-reference must be >= 1 and --n-train-configs >= 2, got 10000 and 1"),
            (["suggest", "--data", data, "--target", "target", "--space", "linear", "-n", "0"],
             "error: -n must be an integer >= 1, got 0"),
            # parameters that an option of another name sets
            (["demo", "--trials", "0"], "error: --trials must be an integer >= 1, got 0"),
            (["metafeatures", "--data", data, "--target", "target", "--seed", "-1"],
             "error: --seed must be an integer in [0, 4294967295]"),
            # prose that starts with an option's name is left alone
            (["metafeatures", "--data", missing, "--target", "y"], "error: data file "),
            (["benchmark", "tabrepo", "--train", str(shared_data / "tabrepo-lightgbm")],
             "error: train and test are the same directory: pass cv=K (--cv K on")):
        assert main(args) == 2, args
        assert message in capsys.readouterr().err, args


def test_store_errors_name_the_kb_option_of_train_meta_model():
    from metaopt.cli import _in_flags, _subcommand, build_parser

    parser = build_parser()
    args = parser.parse_args(["train-meta-model", "--kb", "x", "--out", "m"])
    message = "store 'x' needs the Python package 'psycopg'"
    assert _in_flags(message, _subcommand(parser, args)) == (
        "--kb 'x' needs the Python package 'psycopg'")
    args = parser.parse_args(["kb", "info", "x"])  # a positional keeps its name
    assert _in_flags(message, _subcommand(parser, args)) == message


def test_a_python_call_in_a_message_keeps_its_keywords():
    """A message that gives the Python call and the option ("get_suite(..., cache_dir=),
    CLI --cache-dir") read "get_suite(..., --cache-dir=)" on the command line."""
    from metaopt.cli import _in_flags, _subcommand, build_parser

    parser = build_parser()
    args = parser.parse_args(["benchmark", "run", "--suite", "s", "--out", "o",
                              "--budget-trials", "3"])
    message = ("build the suite with the cache directory that holds them "
               "(get_suite(..., cache_dir=), CLI --cache-dir); or pass cache_dir='x' "
               "in [0, cache_dir=2]")
    assert _in_flags(message, _subcommand(parser, args)) == (
        "build the suite with the cache directory that holds them "
        "(get_suite(..., cache_dir=), CLI --cache-dir); or pass --cache-dir='x' "
        "in [0, --cache-dir=2]")


def test_library_errors_name_the_command_path_typed(pmlb_root, tmp_path, capsys):
    """`benchmark run --budget-trials 0` said "metaopt benchmark: error: ..." and `kb info`
    "metaopt kb: error: ...", while argparse's own errors name "metaopt benchmark run"."""
    data = str(pmlb_root / "wine_recognition" / "wine_recognition.tsv.gz")
    typo = tmp_path / "typo.sqlite"
    for args, prefix in (
            (["benchmark", "run", "--suite", "pmlb-classification", "--root", str(pmlb_root),
              "--limit", "1", "--out", str(tmp_path / "out"), "--budget-trials", "0"],
             "metaopt benchmark run: error: --budget-trials must be"),
            (["kb", "info", str(typo)], "metaopt kb info: error: no knowledge base at"),
            (["suggest", "--data", data, "--target", "target", "--space", "linear", "-n", "0"],
             "metaopt suggest: error: -n must be")):
        assert main(args) == 2, args
        assert capsys.readouterr().err.startswith(prefix), args


def test_table_errors_name_the_file_and_target_column(pmlb_root, tmp_path, capsys):
    """The checks of a --data table spoke of the Python arguments X and y ("X is empty:
    it has 0 rows", "y contains only missing values (NaN, None or pd.NA)", "pass
    task='regression' (MetaOptRegressor for an estimator) ... (y.astype(str))", "meta-features
    need at least 2 rows, X has 1")."""
    with gzip.open(pmlb_root / "wine_recognition" / "wine_recognition.tsv.gz", "rt") as src:
        lines = src.read().replace("\t", ",").splitlines()
    header = lines[0]
    tables = {"header.csv": [header],
              "target_only.csv": ["target"] + [line.split(",")[0] for line in lines[1:]],
              "no_target.csv": [header] + [",".join([""] + line.split(",")[1:])
                                           for line in lines[1:]],
              "one_row.csv": lines[:2],
              "wine.csv": lines}
    for name, rows in tables.items():
        (tmp_path / name).write_text("\n".join(rows) + "\n")
    for name, options, message in (
            ("header.csv", [], "header.csv has no data rows\n"),
            ("target_only.csv", [], "target_only.csv has no column besides the target column "
             "'target': it needs at least one feature column\n"),
            ("no_target.csv", [], "error: the target column 'target' contains only missing "
             "values (empty cells or NA)\n"),
            ("one_row.csv", ["--task", "regression"],
             "one_row.csv has 1\n"),  # meta-features need at least 2 rows, FILE has 1
            ("wine.csv", ["--target", "1", "--task", "classification"],
             "error: the target column '1' looks like a regression target (126 distinct "
             "non-integer values in 178 rows) but --task classification; pass --task "
             "regression\n")):
        data = str(tmp_path / name)
        assert main(["metafeatures", "--data", data, "--target", "target", *options]) == 2
        err = capsys.readouterr().err
        assert err.endswith(message), err


def test_a_text_target_for_regression_says_what_it_holds(pmlb_root, tmp_path, capsys):
    """--task regression of a target of words said "needs a numeric target, got dtype str
    (e.g. 'yes')": a pandas dtype, not what the column holds."""
    with gzip.open(pmlb_root / "wine_recognition" / "wine_recognition.tsv.gz", "rt") as src:
        rows = [line.split("\t") for line in src.read().splitlines()]
    target = rows[0].index("target")
    for row in rows[1:]:
        row[target] = {"1": "yes", "2": "no", "3": "maybe"}[row[target]]
    data = tmp_path / "wine.csv"
    data.write_text("\n".join(",".join(row) for row in rows))
    assert main(["metafeatures", "--data", str(data), "--target", "target",
                 "--task", "regression"]) == 2
    assert capsys.readouterr().err.endswith(
        "error: --task regression needs a numeric target, but the target column 'target' "
        "holds text values such as 'yes', 'no', 'maybe'; use --task classification for "
        "labels\n")


def test_a_large_csv_is_read_with_one_type_per_column(pmlb_root, tmp_path, capsys):
    """pandas read a CSV of over 262,144 rows in chunks, each column's type inferred per
    chunk: a target of numbers but for text in the last rows was read as ints, then
    strings (1 and '1'), with pandas' "Columns (13: target) have mixed types. Specify
    dtype option on import or set low_memory=False." and the error "Mix of label input
    types ... e.g. the target column 'target'.astype(str)", Python no option fixes. A
    column is read with one type, as a smaller file's is."""
    import pandas as pd

    wine = pd.read_csv(pmlb_root / "wine_recognition" / "wine_recognition.tsv.gz", sep="\t")
    table = pd.concat([wine] * 1500, ignore_index=True)  # 267,000 rows
    table["target"] = table["target"].astype(str).where(table.index < len(table) - 100,
                                                        "unknown")
    data = tmp_path / "wine.csv"
    table.to_csv(data, index=False)
    assert main(["metafeatures", "--data", str(data), "--target", "target"]) == 0
    captured = capsys.readouterr()
    assert captured.out.startswith("wine: classification, 267000 rows x 13 features\n")
    assert not captured.err


def test_messages_have_no_python_lists_none_or_warning_classes(pmlb_root, tmp_path, capsys):
    """Errors and warnings showed Python: "known suites: ['amlb-classification', ...]",
    "--time-limit must be ... > 0 or None" (an option is never None), "metaopt suites:
    UserWarning: ..."."""
    assert main(["build-kb", "--suite", "pmlb", "--store", str(tmp_path / "kb.sqlite")]) == 2
    assert capsys.readouterr().err.endswith(
        "error: unknown suite 'pmlb'; known suites: 'amlb-classification', 'openml-cc18', "
        "'openml-ctr23', 'pmlb-classification', 'pmlb-regression'; did you mean "
        "'pmlb-classification' or 'pmlb-regression'?\n")
    assert main(["build-kb", "--suite", "pmlb-classification", "--root", str(pmlb_root),
                 "--time-limit", "-1", "--store", str(tmp_path / "kb.sqlite")]) == 2
    assert capsys.readouterr().err.endswith(
        "error: --time-limit must be a finite number of seconds > 0, got -1.0\n")
    (tmp_path / "a.csv").write_text("x,target\n1,0\n")  # a table of no known task
    assert main(["suites", "--root", str(tmp_path)]) == 0
    err = capsys.readouterr().err
    assert (f"metaopt suites: warning: 1 dataset(s) in {tmp_path} have no known task and are "
            "left out of suite 'pmlb-classification', e.g. 'a': give") in err
    assert "UserWarning" not in err and "[" not in err


def test_damaged_inputs_are_named_without_python_reprs(pmlb_root, tmp_path, capsys):
    """A file of no table suffix, an unknown demo space or an alias, and a meta-model's
    damaged files said "one of ('.tsv.gz', ...)", "of ['hist_gradient_boosting', ...], got
    space='foo'", "(aliases: {'logistic_regression': 'linear'})", "KeyError('n_neighbors')",
    "MetaModel.__init__() got an unexpected keyword argument", "(format None, version
    None)", and "n_warmup must be ..." without the file."""
    import metaopt

    data = str(pmlb_root / "wine_recognition" / "wine_recognition.tsv.gz")
    model = tmp_path / "model"
    shutil.copytree(Path(metaopt.__file__).parent / "_models" / "knn@classification", model)
    portfolio = json.loads((model / "portfolio.json").read_text())
    damages = (("portfolio.json", {k: v for k, v in portfolio.items() if k != "n_neighbors"},
                "portfolio.json is not a readable metaopt portfolio: no field 'n_neighbors'"),
               ("policy.json", {"n_warmup": 3, "warmup": 1},
                "policy.json is not a policy this metaopt version knows: unknown setting "
                "'warmup'"),
               ("policy.json", {"n_warmup": -1},
                "policy.json: n_warmup must be an integer >= 0, got -1"),
               ("cost.json", {"families": {}},
                "cost.json is not a metaopt cost model of version 1 (it names no format or "
                "version)"))
    for name, content, message in damages:
        saved = (model / name).read_text()
        (model / name).write_text(json.dumps(content))
        assert main(["suggest", "--data", data, "--target", "target", "--meta-model",
                     str(model)]) == 2
        assert capsys.readouterr().err.endswith(f"{model / message}\n"), name
        (model / name).write_text(saved)
    script = tmp_path / "wine.txt"
    script.write_text("x")
    for args, message in (
            (["metafeatures", "--data", str(script), "--target", "target"],
             f"error: data file {str(script)!r} must end in .tsv.gz, .tsv, .csv.gz, .csv or "
             ".parquet\n"),
            (["demo", "--space", "hgb"], "error: --space must be one model family ("
             "hist_gradient_boosting, random_forest, extra_trees, linear, svm, knn, mlp) for "
             "the demo, got 'hgb'\n"),
            (["build-kb", "--suite", "pmlb-classification", "--root", str(pmlb_root), "--store",
              str(tmp_path / "kb.sqlite"), "--spaces", "hgb"],
             "error: unknown search space 'hgb'; accepted: 'hist_gradient_boosting', "
             "'random_forest', 'extra_trees', 'linear', 'svm', 'knn', 'mlp', 'all' or names "
             "joined by '+' (also 'logistic_regression' for 'linear')\n")):
        assert main(args) == 2, args
        assert capsys.readouterr().err.endswith(message), args


def test_a_misspelt_space_or_scenario_names_the_closest(pmlb_root, tmp_path, capsys):
    """build-kb --spaces knnn (or KNN) and benchmark yahpo --scenario lcbnech listed every
    accepted name, but not the one meant, as suggest --space and --methods do."""
    base = ["build-kb", "--suite", "pmlb-classification", "--root", str(pmlb_root),
            "--store", str(tmp_path / "kb.sqlite"), "--spaces"]
    for spaces, meant in (("knnn", "knn"), ("KNN", "knn"), ("linear+Random_Forest",
                                                          "random_forest")):
        assert main([*base, spaces]) == 2
        assert capsys.readouterr().err.endswith(f"; did you mean {meant!r}?\n"), spaces
    assert main(["benchmark", "yahpo", "--scenario", "lcbnech", "--data", str(tmp_path)]) == 2
    assert capsys.readouterr().err.endswith("; did you mean 'lcbench'?\n")
    assert not (tmp_path / "kb.sqlite").exists()


def test_demo_names_the_closest_space_before_its_imports():
    """demo --space knnn said only "--space must be one model family (...), got 'knnn'",
    where other commands say "did you mean 'knn'?", and took 7 s to say it (torch and the
    shipped models loaded first); an alias names its space."""
    script = ("import sys\nfrom metaopt.cli import main\n"
              "for space in ('knnn', 'logistic_regression'):\n"
              "    assert main(['demo', '--space', space]) == 2\n"
              "print('torch' in sys.modules, file=sys.stderr)")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    knnn, alias, torch = out.stderr.splitlines()
    assert knnn.endswith("for the demo, got 'knnn'; did you mean 'knn'?")
    assert alias.endswith("for the demo, got 'logistic_regression'; did you mean 'linear'?")
    assert torch == "False"


def test_an_empty_table_file_is_called_empty(tmp_path, capsys):
    """A CSV of 0 bytes (or of blank lines, or an empty .tsv.gz) said pandas' "could not
    read FILE: EmptyDataError: No columns to parse from file"; a .parquet file of 0 bytes
    pyarrow's "could not read FILE: ArrowInvalid: ... Parquet file size is 0 bytes"."""
    (tmp_path / "empty.csv").write_bytes(b"")
    (tmp_path / "blank.csv").write_text("\n\n")
    with gzip.open(tmp_path / "empty.tsv.gz", "wb"):
        pass
    for name in ("empty.csv", "blank.csv", "empty.tsv.gz"):
        data = tmp_path / name
        assert main(["metafeatures", "--data", str(data), "--target", "target"]) == 2
        assert capsys.readouterr().err == (f"metaopt metafeatures: error: {data} is empty: it "
                                           "has no header row and no data rows\n")
    data = tmp_path / "empty.parquet"
    data.write_bytes(b"")
    assert main(["metafeatures", "--data", str(data), "--target", "target"]) == 2
    assert capsys.readouterr().err == (f"metaopt metafeatures: error: {data} is empty: a "
                                       "parquet file of 0 bytes holds no table\n")


def test_a_damaged_parquet_file_is_called_damaged(pmlb_root, tmp_path, capsys):
    """One with its footer intact but damaged data pages said "could not read FILE:
    OSError: Corrupt snappy compressed data."."""
    import pandas as pd

    data = tmp_path / "credit.parquet"
    pd.read_csv(pmlb_root / "credit_g" / "credit_g.tsv.gz", sep="\t").to_parquet(data)
    content = data.read_bytes()
    start = len(content) // 10
    data.write_bytes(content[:start] + b"\xff" * 64 + content[start + 64:])
    for command, *more in (["metafeatures"], ["suggest", "--space", "knn"]):
        assert main([command, "--data", str(data), "--target", "target", *more]) == 2
        err = capsys.readouterr().err
        assert err.startswith(f"metaopt {command}: error: {data} is not a readable parquet "
                              "file (truncated or damaged): "), err
        assert "OSError" not in err


def test_a_parquet_file_with_repeated_column_names_says_so(pmlb_root, tmp_path, capsys):
    """pyarrow writes a table whose columns share a name, and reads it back only by
    position: pandas' read said "Multiple matches for FieldRef.Name(status) in status: string ...",
    called "not a readable parquet file (truncated or damaged)"."""
    import pandas as pd
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pd.read_csv(pmlb_root / "credit_g" / "credit_g.tsv.gz", sep="\t")
    data = tmp_path / "credit.parquet"
    pq.write_table(pa.Table.from_pandas(table, preserve_index=False)
                   .rename_columns(["status", "duration", "status", *table.columns[3:]]), data)
    assert main(["metafeatures", "--data", str(data), "--target", "target"]) == 2
    assert capsys.readouterr().err == (f"metaopt metafeatures: error: {data} has repeated "
                                       "column names 'status': give every column a name of "
                                       "its own\n")


def test_an_interrupted_command_exits_128_plus_the_signal(monkeypatch, capsys):
    """Every command that a signal stops exits as a shell reports a process the signal
    killed: 128 + its number (Ctrl-C: 130, SIGTERM: 143)."""
    import signal

    import metaopt.cli
    from metaopt._cli_options import interrupt_exit_code

    assert interrupt_exit_code() == interrupt_exit_code(signal.SIGINT) == 130
    assert interrupt_exit_code(signal.SIGTERM) == 143

    def stopped(args):
        raise KeyboardInterrupt

    monkeypatch.setattr(metaopt.cli, "_cmd_suites", stopped)
    assert main(["suites"]) == 130
    assert capsys.readouterr().err == "metaopt suites: interrupted\n"
