"""Every script in examples/ runs end to end on real data (small budgets) and prints
what its docstring promises."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from _snippets import child_env

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
OPTUNAHUB_EXAMPLE = EXAMPLES.parent / "docs" / "optunahub" / "metaopt_sampler" / "example.py"


def run_example(name: str, *args: str, cwd=None, data=None) -> str:
    env = child_env()
    if data is not None:
        env["METAOPT_SHARED_DATA"] = str(data)
    done = subprocess.run([sys.executable, str(EXAMPLES / name), *args], capture_output=True,
                          text=True, timeout=300, cwd=cwd, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def test_every_example_is_tested():
    tested = {"benchmark.py", "estimators.py", "few_shot.py", "meta_learning.py", "nas_prior.py",
              "optuna_sampler.py", "own_meta_model.py", "warm_start.py"}
    assert {p.name for p in EXAMPLES.glob("*.py")} == tested


def test_help_says_what_each_example_does():
    # --help shows the docstring's first line: a whole sentence, not one cut mid-phrase
    for path in EXAMPLES.glob("*.py"):
        assert ast.get_docstring(ast.parse(path.read_text())).splitlines()[0].endswith("."), path


def test_meta_learning(tmp_path):
    out = run_example("meta_learning.py", "--iterations", "60", "--out", str(tmp_path))
    assert "Meta-SGD  query MSE on 600 unseen tasks" in out
    assert "learned inner learning rates" in out and "4.bias" in out
    assert (tmp_path / "history.png").stat().st_size > 0
    assert (tmp_path / "adaptation.png").stat().st_size > 0
    assert f"checkpoints (best and last) in {tmp_path / 'MAML'} and {tmp_path / 'Meta-SGD'}" in out


def test_few_shot(tmp_path):
    # 40 test and 20 validation episodes (600 and 200 by default) and 6 meta-iterations:
    # every learner is trained, checkpointed, restored and tested all the same
    out = run_example("few_shot.py", "--shots", "1", "--iterations", "6", "--test-episodes",
                      "40", "--valid-episodes", "20", "--out", str(tmp_path))
    assert "5-way 1-shot" in out and "accuracy on 40 test episodes" in out
    assert "1-NN (raw pixels)" in out
    for name in ("ProtoNet", "MatchingNet", "RelationNet"):
        assert f"  {name}" in out and (tmp_path / name / "best.json").is_file()
    assert "ProtoNet reloaded from" in out and "queries of a new episode right" in out
    assert (tmp_path / "few_shot.png").stat().st_size > 0
    assert f"checkpoints (best and last) in {tmp_path / 'ProtoNet'}, " in out


def test_warm_start(shared_data):
    out = run_example("warm_start.py", "--dataset", "wine_recognition", "--space", "knn",
                      "--evaluations", "4", data=shared_data)
    assert "wine_recognition: classification, 178 x 13; nearest:" in out
    assert "portfolio pick 1" in out and "ranker adapted on 3 evaluation" in out


def test_optuna_sampler(shared_data):
    out = run_example("optuna_sampler.py", "--root", str(shared_data / "pmlb"),
                      "--dataset", "wine_recognition", "--trials", "4")
    assert "MetaSampler" in out and "TPE" in out
    # the best after every trial run: 4 is no checkpoint of the table's, but the last
    assert [line.split()[0] for line in out.splitlines()[2:-1]] == ["1", "3", "4"]
    assert out.splitlines()[-1].startswith("one dataset, one seed: an illustration")


def test_own_meta_model(tmp_path, shared_data):
    args = ("--datasets", "5", "--configs", "4", "--iterations", "30", "--trials", "3",
            "--out", str(tmp_path))
    out = run_example("own_meta_model.py", *args, data=shared_data)
    assert "20 new evaluations (20 ok" in out
    assert "performance matrix: 5 datasets x 4 configurations" in out
    assert "wine_recognition (not in the knowledge base)" in out
    assert "a toy meta-model (5 datasets x 4 configurations)" in out
    assert (tmp_path / "model" / "policy.json").is_file()
    # the first pick printed is the portfolio's (it printed the matrix's first column)
    from metaopt.ranker import MetaModel

    first = MetaModel.load(tmp_path / "model").portfolio.suggest(1, None)["params"].iloc[0]
    assert f"the portfolio's first pick: {first}" in out
    # a rerun resumes: everything is already stored
    assert "0 new evaluations (0 ok, 0 failed, 0 timeout)" in run_example(
        "own_meta_model.py", *args, data=shared_data)


def test_benchmark(tmp_path, shared_data):
    out = tmp_path / "bench"
    text = run_example("benchmark.py", "--cv", "2", "--budgets", "1,3", "--trials", "2",
                       "--out", str(out), data=shared_data)
    lines = text.splitlines()
    # the surrogate table: every method has results, ours registered beside the built-ins
    assert "TabRepo LightGBM, 2-fold leave-tasks-out CV, 73 tasks x 1 seed(s)" in text
    at = lines.index(next(line for line in lines if line.lstrip().startswith("random")))
    assert lines[at].split() == ["random", "tpe", "portfolio", "best-on-average", "metaopt-small"]
    rows = {line.split()[0]: line.split()[1:] for line in lines[at + 2:at + 4]}
    assert set(rows) == {"1", "3"} and all(len(r) == 10 and "n/a" not in r for r in rows.values())
    # metaopt's first picks are the greedy portfolio's, whose first is the best on average
    assert rows["1"][4:6] == rows["1"][6:8] == rows["1"][8:10]
    assert "metaopt-small against the best other method at 3 evaluations" in text
    paired = lines.index(next(line for line in lines if "95% interval" in line))
    assert lines[paired + 2].split()[:2] == ["1", "+0.0000"]
    assert lines[paired + 2].split()[-1] == "0/73/0"
    # the real fits: three datasets x three methods x two outer folds, one seed
    assert "real fits: analcatdata_happiness, analcatdata_aids, confidence; random, qmc, metaopt" in text
    assert f"18 jobs in {out}: 18 run now, 0 kept from an earlier run" in text
    assert f"report: {out / 'report.md'}; plots: {out / 'regret.png'}, {out / 'rank.png'}" in text
    assert all((out / name).stat().st_size > 0 for name in ("report.md", "regret.png", "rank.png"))
    assert len(list((out / "jobs").glob("*__qmc__s0__f*.jsonl"))) == 6  # the registered sampler's
    # its jobs record the library of its sampler class, as the built-in peers' do
    from importlib.metadata import version

    assert f"`qmc`: optuna {version('optuna')} (6 jobs)" in (out / "report.md").read_text()
    final = {line.split()[0]: line.split()[1:] for line in lines[-4:-1]}
    assert list(final) == ["random", "qmc", "metaopt"]
    assert lines[-1].startswith("test_score: mean final outer-test accuracy of the jobs")
    assert all(row[1] == "2.0" and row[3:] == ["6", "0", "0"] for row in final.values())
    # resumed: the jobs are kept, the report rewritten
    again = run_example("benchmark.py", "--part", "real", "--trials", "2", "--out", str(out),
                        data=shared_data)
    assert f"18 jobs in {out}: 0 run now, 18 kept from an earlier run" in again
    assert "TabRepo" not in again


@pytest.mark.parametrize(("name", "args", "expected"), [
    ("estimators.py", ("--trials", "3"), "held-out accuracy"),
    ("estimators.py", ("--task", "regression", "--trials", "4"), "held-out R^2"),
    ("nas_prior.py", ("--trials", "3", "--epochs", "5"), "test accuracy"),
])
def test_estimator_examples(tmp_path, shared_data, name, args, expected):
    out = run_example(name, *args, cwd=tmp_path, data=shared_data)
    assert expected in out
    if name == "estimators.py":  # the plot lands where the docstring says: the working dir
        assert (tmp_path / "metaopt_history.png").stat().st_size > 0
        assert "plot written to metaopt_history.png" in out
    else:  # the estimator's summary, one row per trial
        assert "MetaMLPClassifier: 3 trial(s)" in out and "trials: state, epochs" in out


NEED_DATA = ["estimators.py", "nas_prior.py", "warm_start.py", "own_meta_model.py",
             "optuna_sampler.py", "benchmark.py"]

# each script as `python script.py` runs it (runpy, as __main__, its own globals), one
# after the other in one interpreter: their imports (torch, sklearn, metaopt: 3-4 s of
# CPU a start) are paid once; its exit status and stderr as the interpreter would give
# them (sys.exit("text"): status 1 and the text; an exception: 1 and its traceback)
RUN_EACH = """
import contextlib, io, json, runpy, sys, traceback
results = {}
for path in sys.argv[1:]:
    sys.argv, err, status = [path], io.StringIO(), 0
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        try:
            runpy.run_path(path, run_name="__main__")
        except SystemExit as exit:
            if exit.code is None or isinstance(exit.code, int):
                status = exit.code or 0
            else:
                status = 1
                print(exit.code, file=sys.stderr)
        except BaseException:
            status = 1
            traceback.print_exc()
    results[path] = (status, err.getvalue())
print(json.dumps(results))
"""


@pytest.fixture(scope="module")
def without_data(tmp_path_factory) -> dict[str, tuple[int, str]]:
    """``{script: (exit status, stderr)}`` of each of NEED_DATA started with
    METAOPT_SHARED_DATA naming no folder."""
    folder = tmp_path_factory.mktemp("without_data")
    done = subprocess.run([sys.executable, "-c", RUN_EACH, *(str(EXAMPLES / n) for n in NEED_DATA)],
                          text=True, capture_output=True, timeout=120, cwd=folder,
                          env={**os.environ, "METAOPT_SHARED_DATA": str(folder / "none")})
    assert done.returncode == 0, done.stderr[-3000:]
    return {Path(path).name: result for path, result in json.loads(done.stdout).items()}


@pytest.mark.parametrize("name", NEED_DATA)
def test_missing_data_is_named(without_data, name):
    status, stderr = without_data[name]
    assert status == 1 and "set METAOPT_SHARED_DATA" in stderr, stderr


# optunahub.load_module as OptunaHub runs it on the package it downloaded (here: this
# repository's folder), so that example.py runs offline and without optunahub installed
OPTUNAHUB_STUB = f"""
import importlib.util, os, sys

def load_module(package):
    assert package == "samplers/metaopt_sampler", package
    name = os.path.basename(package)
    init = os.path.join({str(OPTUNAHUB_EXAMPLE.parent)!r}, "__init__.py")
    spec = importlib.util.spec_from_file_location(name, init)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module
"""


def test_optunahub_example(tmp_path_factory, monkeypatch):
    # the OptunaHub package's example.py (no data needed), run from another directory
    stub, tmp_path = tmp_path_factory.mktemp("stub"), tmp_path_factory.mktemp("cwd")
    (stub / "optunahub.py").write_text(OPTUNAHUB_STUB)
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(stub), os.environ.get("PYTHONPATH", "")]))
    out = run_example(str(OPTUNAHUB_EXAMPLE), cwd=tmp_path)
    assert "first warm-start configurations:" in out
    assert "#3: ranker adapted on 3 evaluation(s)" in out
    assert [line.split()[0] for line in out.splitlines()[-5:]] == ["1", "3", "5", "10", "20"]
    assert not any(tmp_path.iterdir())  # it writes nothing
