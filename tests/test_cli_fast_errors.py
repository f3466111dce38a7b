"""A usage error of `metaopt suggest` (a space no shipped meta-model serves too),
`metaopt metafeatures`, `metaopt benchmark report`, `metaopt build-kb` or `metaopt
benchmark run` (an unknown suite), and a bad number given to `suggest`, `metafeatures` or
`demo`, comes before the imports of the work (the ranker and torch, scikit-learn, the
report's and the build's modules): in about a second, not 2-14."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

# runs the command in a fresh interpreter, then prints its exit code and which of the
# heavy modules it imported
_WRAPPER = """
import json, sys
from metaopt.cli import main
code = main(sys.argv[1:])
print(json.dumps([code, 'torch' in sys.modules, 'sklearn' in sys.modules]))
"""


def _run(tmp_path, *args: str) -> tuple[int, bool, bool, str]:
    done = subprocess.run([sys.executable, "-c", _WRAPPER, *args], capture_output=True,
                          text=True, cwd=tmp_path, timeout=60, check=False)
    code, torch, sklearn = json.loads(done.stdout.strip().splitlines()[-1])
    return code, torch, sklearn, done.stderr


@pytest.mark.parametrize(("args", "error"), [
    (["--data", "nosuch.csv", "--target", "churn", "--space", "linear"],
     "metaopt suggest: error: data file 'nosuch.csv' does not exist\n"),
    (["--data", "churn.csv", "--target", "churn"],
     "metaopt suggest: error: give --space, one of 'all', "),
    (["--data", "churn.csv", "--target", "nosuch", "--space", "linear"],
     "metaopt suggest: error: churn.csv has no target column 'nosuch'"),
    (["--data", "churn.csv", "--target", "churn", "--meta-model", "nosuch"],
     "metaopt suggest: error: meta-model directory 'nosuch' does not exist\n"),
    (["--data", "churn.csv", "--target", "churn", "--space", "nosuch"],
     "metaopt suggest: error: no shipped meta-model for space 'nosuch'; spaces with one: "
     "'all', "),
    # refused before the file is read: it need not exist
    (["--data", "nosuch.csv", "--target", "churn", "--space", "SVM", "--task", "regression"],
     "metaopt suggest: error: no shipped meta-model for space 'SVM' (task 'regression'); "
     "did you mean 'svm'? spaces with one: 'all', "),
], ids=["missing file", "no space", "no such target", "missing meta-model", "no such space",
        "no such space for a task"])
def test_suggest_refuses_its_arguments_without_importing_torch(tmp_path, args, error):
    (tmp_path / "churn.csv").write_text("a,churn\n1,0\n2,1\n3,0\n")
    code, torch, sklearn, err = _run(tmp_path, "suggest", *args)
    assert code == 2
    assert err.startswith(error), err
    assert not torch and not sklearn


def test_suggest_refuses_early_only_a_space_no_shipped_model_serves():
    from metaopt._shipped_names import serves_no_task

    assert all(map(serves_no_task, ["nosuch", "SVM", " svm", "svm@classification", "nas_prior",
                                    "random-forest"]))
    assert not any(map(serves_no_task, ["svm", "all", "yahpo_lcbench", "svm+knn", "svm+nosuch"]))


def test_metafeatures_refuses_a_missing_file_without_importing_scikit_learn(tmp_path):
    code, torch, sklearn, err = _run(tmp_path, "metafeatures", "--data", "nosuch.csv",
                                     "--target", "y")
    assert code == 2
    assert err == "metaopt metafeatures: error: data file 'nosuch.csv' does not exist\n"
    assert not torch and not sklearn


@pytest.mark.parametrize("out", ["nosuchdir", "nosuchdir/", "empty"])
def test_benchmark_report_refuses_a_directory_of_no_run_without_its_imports(tmp_path, out):
    (tmp_path / "empty").mkdir()
    code, torch, sklearn, err = _run(tmp_path, "benchmark", "report", "--out", out)
    assert code == 2
    assert err == (f"metaopt benchmark report: error: {out.rstrip('/')!r} is not a "
                   "`benchmark run` directory (no run.json)\n")
    assert not torch and not sklearn


def test_benchmark_report_refuses_a_directory_of_no_run_without_importing_pandas(tmp_path):
    # nor does building the parser of `metaopt` import it (0.5 s)
    code = ("import sys; from metaopt.cli import main; "
            "main(['benchmark', 'report', '--out', 'nosuchdir']); print('pandas' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=tmp_path, timeout=60, check=False)
    assert done.stdout == "False\n", done.stderr
    assert "is not a `benchmark run` directory" in done.stderr


def test_build_kb_refuses_an_unknown_suite_without_the_builds_imports(tmp_path):
    code, torch, sklearn, err = _run(tmp_path, "build-kb", "--suite", "nosuch")
    assert code == 2
    assert err == ("metaopt build-kb: error: unknown suite 'nosuch'; known suites: "
                   "'amlb-classification', 'openml-cc18', 'openml-ctr23', "
                   "'pmlb-classification', 'pmlb-regression'\n")
    assert not torch and not sklearn


def test_build_kb_refuses_a_local_suite_without_root_without_the_builds_imports(tmp_path):
    code, torch, sklearn, err = _run(tmp_path, "build-kb", "--suite", "pmlb-classification")
    assert code == 2
    assert err == ("metaopt build-kb: error: --suite 'pmlb-classification' is a local "
                   "directory suite: pass its directory (root=, or --root on the command "
                   "line)\n")
    assert not torch and not sklearn


@pytest.mark.parametrize("command", [["build-kb"],
                                     ["benchmark", "run", "--budget-trials", "1", "--out", "o"]])
def test_an_unknown_suite_is_refused_without_importing_pandas(tmp_path, command):
    code = ("import sys; from metaopt.cli import main; "
            f"main({[*command, '--suite', 'CC18']!r}); "
            "print([m for m in ('pandas', 'sklearn', 'torch') if m in sys.modules])")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=tmp_path, timeout=60, check=False)
    assert done.stdout == "[]\n", done.stderr
    assert done.stderr.endswith("error: unknown suite 'CC18'; known suites: "
                                "'amlb-classification', 'openml-cc18', 'openml-ctr23', "
                                "'pmlb-classification', 'pmlb-regression'; did you mean "
                                "'openml-cc18'?\n"), done.stderr
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("name", ["openml-cc18", "pmlb-regression"])
def test_a_known_suite_passes_the_early_check(name):
    from metaopt._suite_names import check_suite_name

    check_suite_name(name)


@pytest.mark.parametrize(("args", "error"), [
    (["suggest", "--data", "t.csv", "--target", "y", "--space", "knn", "-n", "0"],
     "metaopt suggest: error: -n must be an integer >= 1, got 0\n"),
    (["metafeatures", "--data", "t.csv", "--target", "y", "--seed", "-1"],
     "metaopt metafeatures: error: --seed must be an integer in [0, 4294967295] (the seed of "
     "the meta-features' subsamples and landmarker folds), got -1\n"),
    (["demo", "--trials", "0"], "metaopt demo: error: --trials must be an integer >= 1, got 0\n"),
    (["demo", "--seed", "-1"], "metaopt demo: error: --seed must be an integer >= 0, got -1\n"),
    (["demo", "--seed", str(2**32)],
     "metaopt demo: error: --seed must be an integer in [0, 4294967295] (the seed of the "
     "demo's meta-features, sampler and models), got 4294967296\n"),
], ids=["suggest -n 0", "metafeatures --seed -1", "demo --trials 0", "demo --seed -1",
        "demo --seed 2**32"])
def test_a_bad_number_is_refused_before_the_table_and_the_imports(tmp_path, args, error):
    # a table with a row id: read, it would be warned about before the error
    (tmp_path / "t.csv").write_text("id,a,y\n" + "".join(f"{i},{i % 3},{i % 2}\n"
                                                          for i in range(1, 31)))
    code, torch, sklearn, err = _run(tmp_path, *args)
    assert (code, err) == (2, error)
    assert not torch and not sklearn
