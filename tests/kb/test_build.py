"""The runner: failures recorded, time limits, killed workers, resume, load errors."""

from __future__ import annotations

import json
import sys
import time
import warnings

import joblib
import numpy as np
import pytest
from _faulty import FaultySpace

from metaopt.data import DatasetLoadError, from_arrays
from metaopt.kb import KnowledgeBase, build, plan_configs


def _dataset(name="toy", n=60, seed=0, task="classification"):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    y = (X[:, 0] > 0).astype(int) if task == "classification" else X[:, 0] + 0.1
    ds = from_arrays(X, y, task=task, name=name)
    return ds


class _BrokenRef:
    key, name, task, source = "broken/missing", "missing", "classification", "test"

    def load(self):
        raise DatasetLoadError("file /nowhere/missing.tsv.gz not found")


FAST = {"cv_folds": 2, "time_limit": 4.0, "max_rows": 1000, "progress": False}
# for the tests of what a build stores or refuses, not of its worker processes (those
# of test_failures_timeouts_and_resume, test_killed_worker_is_recorded_and_others_finish):
# a build with n_jobs=1 on loky starts a worker, 1-4 s of imports, per call
IN_PROCESS = {**FAST, "backend": "sequential"}


def test_failures_timeouts_and_resume(tmp_path):
    space = FaultySpace("faulty", ("ok", "raise", "sleep"))
    store = tmp_path / "kb.sqlite"
    suite = [_dataset("a"), _BrokenRef(), _dataset("b", seed=1, task="regression")]
    # a limit of 1 s, not FAST's 4: three evaluations time out (the fits of the others
    # take milliseconds; the limit starts after a fresh worker's imports)
    fast = {**FAST, "time_limit": 1.0}
    report = build(suite, store, spaces=[space], n_configs=3, n_design=1, n_jobs=2, **fast)
    assert (report.n_ok, report.n_failed, report.n_timeout) == (2, 2, 2)
    assert report.dataset_errors == {"broken/missing": "DatasetLoadError: file "
                                     "/nowhere/missing.tsv.gz not found"}
    assert report.n_remaining == 3  # the broken dataset's jobs
    frame = KnowledgeBase(store).to_frame()
    by_mode = {json.loads(c)["mode"]: row for c, row in zip(frame["config"],
                                                           frame.itertuples(), strict=True)}
    assert by_mode["ok"].status == "ok" and np.isfinite(by_mode["ok"].cv_score)
    assert by_mode["raise"].status == "failed" and "boom" in by_mode["raise"].error
    assert "Traceback" in by_mode["raise"].error
    timeouts = frame[frame["status"] == "timeout"]
    assert (timeouts["eval_time"] < 8).all()  # SIGALRM stopped the 10 s sleep
    assert "time limit of 1 s" in timeouts["error"].iloc[0]
    datasets = KnowledgeBase(store).datasets().set_index("dataset_key")
    assert datasets.loc["broken/missing", "status"] == "failed"
    assert json.loads(datasets.loc["sklearn/a" if "sklearn/a" in datasets.index
                                   else "arrays/a", "metafeatures"])

    again = build(suite, store, spaces=[space], n_configs=3, n_design=1, n_jobs=2, **fast)
    assert again.n_new == 0 and again.n_already_done == 6
    retry = build(suite[:1], store, spaces=[space], n_configs=3, n_design=1,
                  retry_failed=True, n_jobs=1, **fast)
    assert retry.n_already_done == 1 and retry.n_new == 2
    assert len(KnowledgeBase(store)) == 6
    runs = KnowledgeBase(store).runs()
    assert list(runs["status"]) == ["finished"] * 3


@pytest.mark.parametrize("n_jobs", [2, 1])
def test_killed_worker_is_recorded_and_others_finish(tmp_path, n_jobs):
    """With n_jobs=1 (the default) evaluations ran in the build's own process: a
    configuration that killed it ended the build, and every resume evaluated it first
    again. They now run in one worker process."""
    space = FaultySpace("killer", ("ok", "kill"))
    store = tmp_path / "kb.sqlite"
    report = build([_dataset("a")], store, spaces=[space], n_configs=2, n_design=1,
                   n_jobs=n_jobs, **FAST)
    frame = KnowledgeBase(store).to_frame()
    modes = [json.loads(c)["mode"] for c in frame["config"]]
    assert len(frame) == 2 and report.worker_crashes == 2  # batch, then isolated
    killed = frame[[m == "kill" for m in modes]]
    assert (killed["status"] == "failed").all()
    assert killed["error"].str.contains("worker process died").all()
    assert (frame[[m == "ok" for m in modes]]["status"] == "ok").all()


def _build_here(store) -> int:
    return build([_dataset("a")], store, spaces="linear", n_configs=2, **FAST).n_ok


@pytest.mark.skipif(sys.platform == "win32", reason="a forked process")
def test_n_jobs_1_builds_in_a_daemonic_process(tmp_path):
    """With n_jobs=1 evaluating in a worker process, a build in a multiprocessing.Pool
    worker (daemonic: it may not start processes) failed at once with 'AssertionError:
    daemonic processes are not allowed to have children'. It evaluates in that process."""
    import multiprocessing

    with multiprocessing.get_context("fork").Pool(1) as pool:
        assert pool.apply(_build_here, (tmp_path / "kb.sqlite",)) == 2


def test_sequential_backend_and_real_space(tmp_path):
    kb = KnowledgeBase(tmp_path / "kb.sqlite")
    report = build([_dataset("a", n=80)], kb, spaces="knn", n_configs=3, n_design=2,
                   backend="sequential", test_size=0.25, **FAST)
    assert report.n_ok == 3
    frame = kb.to_frame()
    assert frame["test_score"].notna().all()
    assert list(frame["design_id"][:2]) == ["design-000", "design-001"]
    expected = plan_configs(__import__("metaopt.spaces", fromlist=["get_space"]).get_space("knn"),
                            "classification", "arrays/a", n_configs=3, n_design=2, seed=0)
    assert set(frame["config_id"]) == {c.config_id for c in expected}


def test_torch_first_imported_by_a_model_gets_its_threads_back(tmp_path):
    """A sequential build whose mlp model was the first to import torch left the caller's
    torch on one thread: the setting was restored only when torch was loaded before.
    (A fresh process: in this one torch is loaded, and threadpoolctl restores it.)"""
    import os
    import subprocess
    import sys

    script = f"""
import sys
import numpy as np
from metaopt.data import from_arrays
from metaopt.kb import build
assert "torch" not in sys.modules
rng = np.random.default_rng(0)
X = rng.normal(size=(40, 3))
build([from_arrays(X, (X[:, 0] > 0).astype(int), name="toy")], {str(tmp_path / "kb.sqlite")!r},
      spaces="mlp", n_configs=1, cv_folds=2, backend="sequential", progress=False)
import os, torch
print(torch.get_num_threads())
print(sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else "",
      {{k: v for k, v in os.environ.items() if "THREAD" in k}}, file=sys.stderr)
"""
    env = {**os.environ, "OMP_NUM_THREADS": "2"}
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split() == ["2"], out.stderr[-2000:]  # CPUs, thread settings


def test_a_time_limit_puts_back_the_callers_timer():
    """An evaluation's time limit (a sequential build's) cancelled the caller's real-time
    timer (signal.alarm, setitimer: a watchdog, pytest-timeout's): it never fired. It is
    put back with the time it had left, and one due meanwhile fires as the limit ends."""
    import signal
    import time

    from metaopt.kb._evaluate import _time_limit

    fired = []
    handler = signal.signal(signal.SIGALRM, lambda signum, frame: fired.append(signum))
    pytests = signal.setitimer(signal.ITIMER_REAL, 30.0)
    try:
        with _time_limit(5.0):
            time.sleep(0.2)
        left = signal.getitimer(signal.ITIMER_REAL)[0]
        signal.setitimer(signal.ITIMER_REAL, 0.1)  # due during the next limit
        with _time_limit(5.0):
            time.sleep(0.3)
        time.sleep(0.05)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, handler)
        if pytests[0]:
            signal.setitimer(signal.ITIMER_REAL, *pytests)
    assert 29 < left < 30
    assert fired == [signal.SIGALRM]


def test_a_threading_build_leaves_the_callers_warnings_filters_as_they_were(tmp_path):
    """Each evaluation ignores warnings in warnings.catch_warnings(), and limits BLAS to
    one thread with threadpool_limits, which save and restore process-wide settings: on
    two threads at once they were restored out of order, and the build returned with an
    "ignore" filter in front of the caller's, so every later warning of the caller was
    hidden, and with the caller's BLAS on one thread."""
    from sklearn.datasets import load_breast_cancer, load_iris
    from threadpoolctl import threadpool_info, threadpool_limits

    suite = [from_arrays(*load(return_X_y=True, as_frame=True), name=load.__name__)
             for load in (load_breast_cancer, load_iris)]
    callers = threadpool_limits(limits=2)  # as set by a caller, not a context
    try:
        with warnings.catch_warnings():
            warnings.resetwarnings()
            before = list(warnings.filters)
            # 16 evaluations on two threads: without callers_threads() in build, 8 of 8
            # runs (5 beside a busy loop) left both the filters and the limits wrong
            report = build(suite, tmp_path / "kb.sqlite", spaces=["linear", "knn"],
                           n_configs=4, n_jobs=2, backend="threading", **FAST)
            assert report.n_ok == 16
            assert warnings.filters == before
            with pytest.warns(UserWarning, match="still shown"):
                warnings.warn("still shown", UserWarning, stacklevel=1)
        assert {lib["num_threads"] for lib in threadpool_info()} == {2}
    finally:
        callers.restore_original_limits()


def test_bad_arguments():
    with pytest.raises(ValueError, match="n_configs must be an integer >= 1"):
        build([], ":memory:", n_configs=0)
    # refused before any dataset is loaded (n_jobs=0 failed once evaluations began)
    with pytest.raises(ValueError, match="n_jobs must be a nonzero integer"):
        build([], ":memory:", n_jobs=0)
    with pytest.raises(ValueError, match="backend must be one of"):
        build([], ":memory:", backend="ray")
    with pytest.raises(ValueError, match="^scheduler must be given with the dask backend: "):
        build([], ":memory:", backend="dask")
    with pytest.raises(ValueError, match="shard must be"):
        build([], ":memory:", shard=(2, 2))
    # True was taken for a limit of 1 s
    with pytest.raises(ValueError, match=r"^time_limit must be a finite number of seconds > 0 "
                                         r"or None, got True$"):
        build([], ":memory:", time_limit=True)
    # passed check_seed, which takes None elsewhere: the first evaluation was then refused
    # by the store, "evaluation record is missing required field(s) ['seed']"
    with pytest.raises(ValueError, match=r"^seed must be an int in \[0, 2\*\*32 - 1\] "
                                         r"\(the design, the CV splits and the models\), "
                                         r"got None$"):
        build([], ":memory:", seed=None)



def test_a_scorer_that_does_not_exist_is_refused_before_the_store(tmp_path):
    """scoring={"classification": "acc"} was taken: every evaluation then failed ("'acc'
    is not a valid scoring value"), recorded as failed in the store, so a rerun with the
    right name skipped them unless given retry_failed. A task that is no task type was
    ignored."""
    store = tmp_path / "kb.sqlite"
    with pytest.raises(ValueError, match=r"^scoring\['classification'\]='acc' is no "
                       r"scikit-learn scorer \(did you mean 'accuracy'\?\): give a name of "
                       r"sklearn\.metrics\.get_scorer_names\(\), higher is better$"):
        build([_dataset()], store, scoring={"classification": "acc"}, **IN_PROCESS)
    with pytest.raises(ValueError, match=r"^scoring's keys are task types, "
                       r"'classification' or 'regression', got 'clasification'$"):
        build([_dataset()], store, scoring={"clasification": "accuracy"}, **IN_PROCESS)
    with pytest.raises(TypeError, match=r"^scoring must be a dict of task type -> scorer "
                       r"name, e.g. \{'classification': 'balanced_accuracy'\}, got str$"):
        build([_dataset()], store, scoring="accuracy", **IN_PROCESS)
    assert not store.exists()
    report = build([_dataset()], store, spaces="knn", n_configs=1,
                   scoring={"classification": "balanced_accuracy"}, **IN_PROCESS)
    assert report.n_ok == 1
    assert KnowledgeBase(store).to_frame()["metric"].tolist() == ["balanced_accuracy"]


def test_a_suite_of_other_things_than_datasets_is_refused(tmp_path):
    """build("pmlb-classification", ...) and build([(X, y)], ...) raised "AttributeError:
    'str' object has no attribute 'key'"; they now say what a suite is."""
    X, y = _dataset().X, _dataset().y
    for suite, got in [("pmlb-classification", "str 'pmlb-classification'"),
                       ([(X, y)], "tuple")]:
        with pytest.raises(TypeError, match=r"^suite must be a Suite \(metaopt\.data\."
                           r"get_suite\(name, root=\.\.\.\)\) or an iterable of metaopt"
                           r"\.data\.Dataset objects \(from_arrays\(X, y, name=\.\.\.\), "
                           r"load_table\(path, target\)\), got " + got.replace("(", r"\(")):
            build(suite, tmp_path / "kb.sqlite", **IN_PROCESS)
    assert not (tmp_path / "kb.sqlite").exists()

def test_two_datasets_under_one_key_are_refused(tmp_path):
    """Two in-memory datasets with the default name shared the key arrays/user-data: the
    second one's evaluations were taken as done and silently skipped."""
    from sklearn.datasets import load_iris, load_wine

    iris = from_arrays(*load_iris(return_X_y=True, as_frame=True))
    wine = from_arrays(*load_wine(return_X_y=True, as_frame=True))
    with pytest.raises(ValueError, match="appear more than once"):
        build([iris, wine], ":memory:", spaces="knn", n_configs=1, **IN_PROCESS)
    # the refused build left joblib's backend as it was (it stayed sequential for the
    # rest of the process: a later MetaOptClassifier(n_jobs=2) got one worker)
    assert joblib.effective_n_jobs(2) == 2
    kb = KnowledgeBase(tmp_path / "kb.sqlite")
    assert build([iris], kb, spaces="knn", n_configs=1, **IN_PROCESS).n_ok == 1
    with pytest.raises(ValueError, match="stored with 150 x 4 .* this one has 178 x 13"):
        build([wine], kb, spaces="knn", n_configs=1, **IN_PROCESS)
    named = from_arrays(*load_wine(return_X_y=True, as_frame=True), name="wine")
    assert build([named], kb, spaces="knn", n_configs=1, **IN_PROCESS).n_ok == 1


def test_a_run_with_other_measuring_settings_warns(tmp_path):
    """Rerunning with another cv_folds reported "0 new, 3 already stored" and nothing
    else: the stored evaluations are kept as they were measured."""
    kb = KnowledgeBase(tmp_path / "kb.sqlite")
    settings = {**IN_PROCESS, "spaces": "knn", "n_configs": 2}
    build([_dataset("a")], kb, **settings)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert build([_dataset("a")], kb, **settings).n_already_done == 2  # same: silent
    with pytest.warns(UserWarning, match=r"cv_folds 2 -> 3; evaluations already stored") \
            as caught:
        build([_dataset("a")], kb, **{**settings, "cv_folds": 3})
    assert "retry_failed" not in str(caught[0].message)
    # a new seed adds evaluations of its own (the seed is part of their key): no warning
    # that stored ones are kept (it said so, and the run then added 2 new ones)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert build([_dataset("a")], kb, **{**settings, "cv_folds": 3, "seed": 1}).n_new == 2
    # with retry_failed the failed and timed-out ones are redone: it said they were not
    with pytest.warns(UserWarning, match=r"not redone with them, except the failed and "
                      r"timed-out ones, which retry_failed redoes \(use a new store"):
        build([_dataset("a")], kb, **settings, retry_failed=True)


def test_a_constant_regression_target_is_a_dataset_error(tmp_path):
    """Every configuration scored R² = 1 on it and went into the knowledge base."""
    X = np.random.default_rng(0).normal(size=(40, 3))
    flat = from_arrays(X, np.full(40, 2.5), task="regression", name="flat")
    report = build([flat], ":memory:", spaces="knn", n_configs=2, **IN_PROCESS)
    assert report.n_ok == 0
    assert "regression target is constant" in report.dataset_errors["arrays/flat"]


def test_a_space_given_twice_is_refused(tmp_path):
    """`--spaces knn,knn` evaluated every configuration twice and reported the second
    copies as "stored meanwhile by another runner"."""
    from metaopt.spaces import get_space

    for spaces in ("knn,knn", ["knn", get_space("knn")]):
        with pytest.raises(ValueError, match=r"spaces \['knn'\] are given more than once"):
            build([_dataset("a")], tmp_path / "kb.sqlite", spaces=spaces, n_configs=2, **FAST)
    # refused before the store is created (an empty store file was left behind)
    with pytest.raises(ValueError, match="nope"):
        build([_dataset("a")], tmp_path / "new.sqlite", spaces="knn,nope", **FAST)
    assert not (tmp_path / "kb.sqlite").exists() and not (tmp_path / "new.sqlite").exists()


def test_a_combination_of_families_is_refused(tmp_path):
    """`build-kb --spaces linear+knn` stored its evaluations under 'linear+knn', which no
    model trains on: train-meta-model then said "space 'linear+knn' has no evaluations;
    spaces present: 'linear+knn'"."""
    from metaopt.spaces import get_space

    for spaces in ("linear+knn", ["knn", get_space("linear+knn")]):
        with pytest.raises(ValueError, match=r"spaces \['linear\+knn'\] combine model "
                                             r"families.*--spaces linear,knn\).*"
                                             r"train-meta-model --spaces linear\+knn"):
            build([_dataset("a")], tmp_path / "kb.sqlite", spaces=spaces, **FAST)
    assert not (tmp_path / "kb.sqlite").exists()


def test_resuming_on_subsampled_in_memory_data_is_not_refused(tmp_path):
    """The stratified subsample of 100 rows to max_rows=50 keeps 49 (22 + 16 + 11): the
    identical rerun was refused as another dataset ("stored with 49 x 3 ... this one has
    50 x 3"), and so was a rerun with a larger max_rows."""
    X = np.random.default_rng(0).normal(size=(100, 3))
    ds = from_arrays(X, np.repeat([0, 1, 2], [45, 33, 22]), task="classification", name="a")
    kb = KnowledgeBase(tmp_path / "kb.sqlite")
    settings = {**IN_PROCESS, "spaces": "knn", "n_configs": 2, "max_rows": 50}
    assert build([ds], kb, **settings).n_ok == 2
    assert kb.datasets()["n_samples"].tolist() == [49]
    assert build([ds], kb, **settings).n_already_done == 2
    with pytest.warns(UserWarning, match="max_rows 50 -> 1000"):
        assert build([ds], kb, **{**settings, "max_rows": 1000}).n_already_done == 2
    other = from_arrays(X[:60], np.repeat([0, 1], 30), task="classification", name="a")
    with pytest.raises(ValueError, match=r"stored with 49 x 3 .* this one has 60 x 3"):
        build([other], kb, **settings)


def test_building_on_a_dataset_of_an_imported_study_is_not_refused():
    """A dataset first stored by from_optuna_study has no shape: building on its data
    was refused as another dataset ("stored with <NA> x <NA> rows x features")."""
    import optuna

    from metaopt.kb import from_optuna_study

    ds = _dataset("a")
    study = optuna.create_study(direction="maximize")
    study.add_trial(optuna.trial.create_trial(params={"n_neighbors": 5}, value=0.9, distributions={
        "n_neighbors": optuna.distributions.IntDistribution(1, 50)}))
    kb = from_optuna_study(study, dataset_key=f"{ds.source}/{ds.name}", space="study-space",
                           task=ds.task)
    assert build([ds], kb, spaces="knn", n_configs=2, **IN_PROCESS).n_ok == 2
    assert kb.datasets()[["n_samples", "n_features"]].values.tolist() == [
        [ds.n_samples, ds.n_features]]


def test_declared_joblib_has_the_unordered_generator():
    """build, the benchmark runner and the NAS real runs use
    ``Parallel(return_as="generator_unordered")``, new in joblib 1.4: joblib 1.3, which
    pyproject.toml allowed, raises a ValueError at the first parallel build."""
    import tomllib
    from pathlib import Path

    from packaging.requirements import Requirement

    root = Path(__file__).resolve().parents[2]
    dependencies = tomllib.loads((root / "pyproject.toml").read_text())["project"]["dependencies"]
    joblib = next(Requirement(d) for d in dependencies if Requirement(d).name == "joblib")
    assert not joblib.specifier.contains("1.3.2"), joblib
    assert "generator_unordered" in (root / "metaopt" / "kb" / "_build.py").read_text()


def test_a_result_written_as_a_signal_arrives_is_counted():
    """A SIGINT during a result's write stopped the build after the write but before the
    count: "39 new evaluations ..., 1 not run" with 40 stored."""
    import signal

    from tqdm import tqdm

    from metaopt._signals import StopGuard
    from metaopt.kb._build import BuildReport, _Runner

    kb = KnowledgeBase()
    report = BuildReport(run_id="r", n_planned=1)
    guard = StopGuard()
    guard.signum = signal.SIGINT  # arrived while the write was protected
    runner = _Runner(kb, report, guard, tqdm(disable=True), 1, False, "r", "sequential")
    with pytest.raises(KeyboardInterrupt):
        runner._write({"dataset_key": "d", "space": "knn", "config_id": "c", "seed": 0,
                       "config": {}, "status": "ok", "origin": "metaopt"})
    assert len(kb) == 1 and report.n_ok == 1 and report.n_remaining == 0


def _terminated():
    """What SIGTERM does under the build's StopGuard, without sending it."""
    import signal

    handler = signal.getsignal(signal.SIGTERM)
    assert callable(handler), "no handler of SIGTERM: the process would be killed"
    handler(signal.SIGTERM, None)


class _TerminatedWhileLoading(_BrokenRef):
    def load(self):
        _terminated()


@pytest.mark.parametrize("ref", [_BrokenRef(), _TerminatedWhileLoading()],
                         ids=["finished", "interrupted"])
def test_a_sigterm_while_the_build_ends_neither_replaces_its_outcome_nor_loses_its_record(
        ref, monkeypatch):
    """A SIGTERM while the build closed and recorded its run (its `finally`), the guard
    still installed, raised a plain KeyboardInterrupt: it replaced the BuildInterrupted of
    a first signal (`metaopt build-kb` exited 130, not 143) or the report of a finished
    build, and the run's status was never written."""
    import signal

    from metaopt.kb import BuildInterrupted

    kb = KnowledgeBase()
    finish_run = kb.finish_run

    def terminated_while_recording(*args):
        _terminated()
        finish_run(*args)

    monkeypatch.setattr(kb, "finish_run", terminated_while_recording)
    try:
        outcome = build([ref], kb, **IN_PROCESS)
    except BuildInterrupted as exc:
        outcome = exc
    except KeyboardInterrupt as exc:  # (let through, it would stop the whole session)
        pytest.fail(f"a plain {exc!r} replaced the build's outcome")
    if isinstance(ref, _TerminatedWhileLoading):
        assert isinstance(outcome, BuildInterrupted) and outcome.signum == signal.SIGTERM
        assert list(kb.runs()["status"]) == ["interrupted"]
    else:
        assert outcome.dataset_errors == {ref.key: "DatasetLoadError: file "
                                          "/nowhere/missing.tsv.gz not found"}
        assert list(kb.runs()["status"]) == ["finished"]
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL  # given back


def test_the_summary_counts_one_in_the_singular():
    """build-kb's summary said "1 new evaluations", "1 worker crash(es)", "1 dataset(s)
    failed to load", as kb info said "1 evaluations" before."""
    from metaopt.kb._build import BuildReport

    one = BuildReport(run_id="r", n_planned=2, n_ok=1, worker_crashes=1,
                      dataset_errors={"test/missing": "file not found"})
    assert one.summary() == ("1 new evaluation (1 ok, 0 failed, 0 timeout) in 0.0 s, 0 already "
                             "stored, 1 not run, 1 worker crash, 1 dataset failed to load: "
                             "test/missing")
    two = BuildReport(run_id="r", n_planned=2, n_ok=2, worker_crashes=2,
                      dataset_errors={"a": "x", "b": "y"})
    assert two.summary().startswith("2 new evaluations (2 ok, ")
    assert ", 2 worker crashes, 2 datasets failed to load: a, b" in two.summary()


def test_meta_features_of_another_version_are_refused_and_read_with_a_warning(
        pmlb_root, tmp_path, monkeypatch):
    """The store did not record METAFEATURES_VERSION: after a bump, a build added datasets
    described by the new definitions beside the old ones, and the ranker, the portfolio and
    MetaSampler compared a user's dataset (new definitions) with them, silently."""
    import sqlite3

    from metaopt import metafeatures
    from metaopt.data import get_suite
    from metaopt.kb import MetaFeaturesVersionWarning

    suite = get_suite("pmlb-classification", root=pmlb_root).select(smallest_first=True)
    two, third = suite.select(limit=2), suite.refs[2:3]
    path = tmp_path / "kb.sqlite"
    kb = KnowledgeBase(path)
    settings = {**IN_PROCESS, "spaces": "knn"}
    assert build(two, kb, n_configs=1, **settings).n_ok == 2
    assert kb.metafeatures_version() == metafeatures.METAFEATURES_VERSION
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert kb.to_frame().attrs["metafeatures_version"] == metafeatures.METAFEATURES_VERSION

    monkeypatch.setattr(metafeatures, "METAFEATURES_VERSION",
                        metafeatures.METAFEATURES_VERSION + 1)  # the definitions change
    with pytest.warns(MetaFeaturesVersionWarning, match="meta-features are of version 1, "
                      "this metaopt computes version 2"):
        kb.to_frame()
    n_runs = len(kb.runs())
    with pytest.raises(ValueError, match=r"1 dataset\(s\) of this build need meta-features "
                       r"\(pmlb/.*holds meta-features of version 1 .* of version 2"):
        build(third, kb, n_configs=1, **settings)
    assert len(kb) == 2 and len(kb.runs()) == n_runs  # refused before the run
    # growing the stored datasets in depth computes no meta-features: allowed
    assert build(two, kb, n_configs=2, **settings).n_ok == 2
    with pytest.raises(ValueError, match="holds meta-features of version 1"):
        kb.add_dataset({"dataset_key": "x/y", "status": "ok", "metafeatures": {"a": 1.0}})
    kb.close()

    # a store written before the version was recorded holds version 1 (never bumped)
    with sqlite3.connect(path) as conn:
        conn.execute("DELETE FROM kb_meta WHERE key = 'metafeatures_version'")
    assert KnowledgeBase(path).metafeatures_version() == 1
    assert KnowledgeBase().metafeatures_version() is None  # none stored: none to mix


class _SlowToLoad(FaultySpace):
    """Its first build takes 1 s, as the imports of a fresh worker's first evaluation do."""

    loaded = False

    def build(self, params, task, random_state=None):
        if not _SlowToLoad.loaded:
            _SlowToLoad.loaded = True
            time.sleep(1.0)
        return super().build(params, task, random_state)


def test_a_time_limit_does_not_count_a_fresh_workers_imports(pmlb_root):
    """The limit started before the space, the scorer and the model's modules were
    loaded: a fresh worker's first evaluation paid 0.35 s of imports (more on a busy
    machine) within it, and one stopped inside an import was recorded 'failed'."""
    from metaopt.data import LocalSource
    from metaopt.kb._evaluate import Job, evaluate

    ds = LocalSource(pmlb_root).load("lupus")
    job = Job("pmlb/lupus", _SlowToLoad("slow", ("ok",)), "classification", "c0", None,
              {"mode": "ok"}, 0, 2, 0.5, "accuracy")
    record = evaluate(job, ds.X, ds.y)
    assert record["status"] == "ok", record.get("error")


def test_a_dataset_already_stored_under_another_key_is_warned_about(pmlb_root, tmp_path):
    """One dataset under two keys (as pmlb/197_cpu_act and pmlb/573_cpu_act are) entered
    a knowledge base twice without a word: counted twice in meta-training."""
    import pandas as pd

    from metaopt.data import get_suite

    root = tmp_path / "tables"
    root.mkdir()
    table = pd.read_csv(pmlb_root / "analcatdata_aids" / "analcatdata_aids.tsv.gz", sep="\t")
    table.to_csv(root / "aids.csv", index=False)
    # the same data: rows shuffled, features renamed
    table.sample(frac=1, random_state=0).rename(columns=lambda c: c if c == "target"
                                                else f"x_{c}").to_csv(root / "copy.csv",
                                                                      index=False)
    pd.read_csv(pmlb_root / "haberman" / "haberman.tsv.gz", sep="\t").to_csv(
        root / "other.csv", index=False)
    pd.DataFrame({"name": ["aids", "copy", "other"], "task": ["classification"] * 3}).to_csv(
        root / "manifest.csv", index=False)
    suite = get_suite("pmlb-classification", root)
    store = tmp_path / "kb.sqlite"
    settings = {"spaces": "knn", "n_configs": 1, "backend": "sequential", **FAST}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        build(suite.select(names=["aids", "other"]), store, **settings)
        assert not caught
        build(suite, store, **settings)  # a later build adds the copy
    assert [str(w.message)[:60] for w in caught] == [
        "dataset 'pmlb/copy' holds the same data as 'pmlb/aids', stor"]
    hashes = KnowledgeBase(store).datasets().set_index("dataset_key")["content_hash"]
    assert hashes["pmlb/copy"] == hashes["pmlb/aids"] != hashes["pmlb/other"]
    back = KnowledgeBase.from_parquet(KnowledgeBase(store).to_parquet(tmp_path / "kb.parquet"))
    assert back.datasets().set_index("dataset_key")["content_hash"].equals(hashes)
