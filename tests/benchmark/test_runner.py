from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import pandas as pd
import pytest

import metaopt
from metaopt.benchmark import _runner, final_table, load_results, report, run

SMALL = dict(methods=["random", "tpe", "default"], budget_trials=3, seeds=1, folds=2,
             cv_folds=2, spaces="linear,knn", max_rows=100, time_limit=None, progress=False)


def _scores(out) -> pd.DataFrame:
    frame = load_results(out)
    cols = ["job", "trial", "space", "status", "cv_score", "incumbent_test_score"]
    return frame[cols].sort_values(["job", "trial"]).reset_index(drop=True)


def test_dask_and_loky_agree(pmlb_suite, tmp_path):
    distributed = pytest.importorskip("distributed")
    run(pmlb_suite, tmp_path / "loky", n_jobs=2, backend="loky", **SMALL)
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False,
                                  dashboard_address=None) as cluster:
        with distributed.Client(cluster) as client:
            run(pmlb_suite, tmp_path / "dask", n_jobs=2, backend="dask", scheduler=client,
                **SMALL)
    a, b = _scores(tmp_path / "loky"), _scores(tmp_path / "dask")
    assert len(a) == 2 * 2 * (3 + 3 + 1)
    pd.testing.assert_frame_equal(a, b)


def test_interrupt_then_resume_matches_and_skips_finished(pmlb_suite, tmp_path, monkeypatch):
    reference = run(pmlb_suite, tmp_path / "once", **SMALL)
    calls = []
    original = _runner.run_job

    def flaky(job, settings):
        if len(calls) == 5:
            raise KeyboardInterrupt
        calls.append(job.name)
        return original(job, settings)

    monkeypatch.setattr(_runner, "run_job", flaky)
    with pytest.raises(KeyboardInterrupt):
        run(pmlb_suite, tmp_path / "twice", **SMALL)
    assert len(list((tmp_path / "twice" / "jobs").glob("*.jsonl"))) == 5
    monkeypatch.setattr(_runner, "run_job", original)
    resumed = []
    monkeypatch.setattr(_runner, "run_job", lambda j, s: resumed.append(j.name) or original(j, s))
    run(pmlb_suite, tmp_path / "twice", **SMALL)
    assert len(resumed) == 12 - 5 and not set(resumed) & set(calls)
    pd.testing.assert_frame_equal(_scores(tmp_path / "once"), _scores(tmp_path / "twice"))
    pd.testing.assert_frame_equal(final_table(reference).drop(columns="seconds"),
                                  final_table(load_results(tmp_path / "twice"))
                                  .drop(columns="seconds"))
    # nothing left: a third run does no work
    resumed.clear()
    run(pmlb_suite, tmp_path / "twice", **SMALL)
    assert resumed == []

    path = report(tmp_path / "twice")
    text = path.read_text()
    assert "| budget | random | tpe | default |" in text
    # the spaces read as a Python list ("spaces: ['linear', 'knn']")
    assert "spaces: linear, knn; methods: random, tpe, default; 2 datasets, 12 jobs." in text
    assert "## default against each other method (paired regret)" in text
    assert "| budget | against | difference | 95% interval | won/tied/lost |" in text
    for name in ("regret.png", "rank.png"):
        assert (tmp_path / "twice" / name).stat().st_size > 1000
    assert "have no results" not in text
    # a report of an interrupted run said nothing of the jobs it lacks
    gone = next((tmp_path / "twice" / "jobs").glob("*.jsonl"))
    job = json.loads(gone.read_text().splitlines()[0])
    gone.unlink()
    text = report(tmp_path / "twice").read_text()
    assert "**1 of the run's 12 jobs (datasets x methods x seeds x folds) have no results**" in text
    # ... nor which: the report names the dataset, method, seed and fold
    assert text.endswith(f"## Unfinished jobs\n\nJobs of the run without results, per dataset "
                         f"(method, seed, outer folds):\n\n- {job['dataset_key']}: "
                         f"{job['method']} seed {job['seed']} fold {job['fold']}\n")


def test_an_interrupt_leaves_no_joblib_warning(pmlb_suite, tmp_path, monkeypatch):
    """Ctrl-C while jobs ran in parallel printed joblib's "UserWarning: 4 tasks which were
    still being processed by the workers have been cancelled. You could benefit from
    adjusting the input task iterator..." after the run's own message."""
    import gc
    import warnings

    original = _runner._write_atomic

    def interrupted(path, text):
        if path.parent.name == "jobs":
            raise KeyboardInterrupt
        original(path, text)

    monkeypatch.setattr(_runner, "_write_atomic", interrupted)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(KeyboardInterrupt):
            run(pmlb_suite, tmp_path, **{**SMALL, "n_jobs": 2})
        gc.collect()  # the run's generator of results, when nothing closed it
    assert not [str(w.message) for w in caught if "joblib" in w.filename], caught


def test_bad_input(pmlb_suite, tmp_path):
    from metaopt.data import get_suite

    # the list of accepted names left out 'default' and 'flaml', which run accepts
    with pytest.raises(ValueError, match=r"unknown optimizer 'nope'; accepted: random, tpe.* \(and the methods "
                       r"default, flaml\)$"):
        run(pmlb_suite, tmp_path, **{**SMALL, "methods": ["nope"]})
    # a misspelt or capitalised method named no close one
    for typo, meant in (("tpee", "tpe"), ("TPE", "tpe"), ("defualt", "default")):
        with pytest.raises(ValueError, match=f"did you mean '{meant}'"):
            run(pmlb_suite, tmp_path, **{**SMALL, "methods": f"random,{typo}"})
    with pytest.raises(ValueError, match="exactly one"):
        run(pmlb_suite, tmp_path, **{**SMALL, "budget_seconds": 3.0})
    with pytest.raises(ValueError, match="unknown search space"):
        run(pmlb_suite, tmp_path, **{**SMALL, "spaces": "nope"})
    suite = get_suite("openml-cc18", cache_dir=tmp_path / "empty-cache").select(limit=3)
    with pytest.raises(ValueError, match="3 OpenML task\\(s\\) are not in the cache"):
        run(suite, tmp_path / "o", **SMALL)
    listed = tmp_path / "training.txt"
    listed.write_text("\n".join(r.name for r in pmlb_suite) + "\n")
    with pytest.raises(ValueError, match="every dataset"):
        run(pmlb_suite, tmp_path / "x", exclude_training_data=True, training_datasets=listed,
            **SMALL)
    with pytest.raises(ValueError, match="not a `benchmark run` directory"):
        report(tmp_path / "nothing")


def test_run_refuses_openml_arguments_with_a_local_suite(pmlb_suite, tmp_path):
    """run(pmlb_suite, out, cache_dir=DIR) read the suite from its root and never looked at
    DIR, and download=True downloaded nothing, without a word (get_suite refuses cache_dir=
    for a local suite since 9283186)."""
    suite = pmlb_suite.select(limit=1)
    small = {**SMALL, "methods": ["default"], "budget_trials": 1}
    out, cache = tmp_path / "out", tmp_path / "cache"
    with pytest.raises(ValueError, match=r"^cache_dir: not used with suite 'pmlb-classific"
                       r"ation' \(a local directory suite, read from root; cache_dir is "
                       r"openml's cache, used by the OpenML suites only: amlb-classification"):
        run(suite, out, cache_dir=cache, **small)
    with pytest.raises(ValueError, match=r"^download: not used with suite 'pmlb-classifica"
                       r"tion' \(a local directory suite, read from root; download fetches "
                       r"the tasks missing from openml's cache, used by the OpenML suites "
                       r"only: amlb-classification, openml-cc18, openml-ctr23\)$"):
        run(suite, out, download=True, **small)
    assert not out.exists() and not cache.exists()  # refused before any work
    # an OpenML suite still takes both (here: refused later, for its uncached tasks)
    from metaopt.data import get_suite
    from metaopt.data.suites import _check_suite_arguments

    _check_suite_arguments("openml-cc18", None, None, download=True)

    with pytest.raises(ValueError, match=r"1 OpenML task\(s\) are not in the cache"):
        run(get_suite("openml-cc18", cache_dir=cache).select(limit=1), out, **small)


def test_hold_out_is_the_training_data_of_the_all_meta_model(tmp_path):
    """Tasks only the TabRepo LightGBM model was trained on were skipped by
    --exclude-training-data (49 of 71 AMLB tasks) and reported as seen, although the
    `metaopt` method uses the PMLB-trained `all` model."""
    from metaopt.data import get_suite

    suite = get_suite("openml-cc18", cache_dir=tmp_path / "empty-cache").select(
        names=["openml-task/146820", "openml-task/3"])
    with pytest.raises(ValueError, match="2 OpenML task\\(s\\) are not in the cache"):
        run(suite, tmp_path / "o", exclude_training_data=True, **SMALL)


def test_resume_refuses_other_settings(pmlb_suite, tmp_path):
    small = {**SMALL, "methods": ["default"]}
    run(pmlb_suite.select(limit=1), tmp_path, **small)
    # it read "(previous, now): {'cv_folds': (2, 3), 'spaces': (['linear', 'knn'], 'all')}"
    with pytest.raises(ValueError, match=r"other settings: cv_folds=2 \(now 3\); spaces="
                       r"linear,knn \(now all\); max_rows=100 \(now unset\); use another"):
        run(pmlb_suite.select(limit=1), tmp_path,
            **{**small, "cv_folds": 3, "spaces": "all", "max_rows": None})
    # a run refused before its first job (here n_jobs=0) bound the directory to its settings
    with pytest.raises(ValueError, match="n_jobs must be a nonzero integer"):
        run(pmlb_suite.select(limit=1), tmp_path / "n", **small, n_jobs=0)
    run(pmlb_suite.select(limit=1), tmp_path / "n", **{**small, "cv_folds": 3})
    # the same limit as a float (the CLI's --time-limit) was refused as another setting
    run(pmlb_suite.select(limit=1), tmp_path / "t", **{**small, "time_limit": 60})
    run(pmlb_suite.select(limit=1), tmp_path / "t", **{**small, "time_limit": 60.0})


def _jobs(no_model_fold: int | None) -> pd.DataFrame:
    """Two methods x two folds of two trials on one dataset; method A scores 0.9, B 0.7,
    and A's job on ``no_model_fold`` has no incumbent (every trial timed out)."""
    rows = []
    for method, score in (("A", 0.9), ("B", 0.7)):
        for fold in (0, 1):
            for trial in (1, 2):
                lost = method == "A" and fold == no_model_fold
                rows.append({"job": f"d__{method}__s0__f{fold}", "dataset_key": "d",
                             "method": method, "seed": 0, "fold": fold, "trial": trial,
                             "elapsed": trial, "status": "timeout" if lost else "ok",
                             "incumbent_test_score": None if lost else score})
    return pd.DataFrame(rows)


def test_a_job_without_a_model_counts_as_the_worst():
    """It was left out of the regret and rank (A came out best although one of its two
    jobs produced nothing) and counted as neither failed nor scored."""
    from metaopt.benchmark import curves

    settings = {"budget_trials": 2, "budget_seconds": None}
    final = curves(_jobs(no_model_fold=1), settings).query("budget == 2")
    means = final.groupby("method")[["regret", "rank"]].mean()
    assert means.loc["A", "regret"] == 0.5 and means.loc["B", "regret"] == 0.5
    table = final_table(_jobs(no_model_fold=1))
    assert table.loc["A", "no_model_jobs"] == 1 and table.loc["B", "no_model_jobs"] == 0
    everything_lost = _jobs(no_model_fold=None).assign(incumbent_test_score=None)
    with pytest.raises(ValueError, match="no job produced a model"):
        curves(everything_lost, settings)


def test_a_job_without_a_model_loses_its_dataset_in_win_tie_loss():
    """Its method's other folds were compared alone: A (0.9 on fold 0, no model on fold
    1) beat B (0.7 on both) on the dataset, while the regrets tied them."""
    from metaopt.benchmark import win_tie_loss

    table = win_tie_loss(_jobs(no_model_fold=1))
    assert table.loc["A", "B"] == "0/0/1" and table.loc["B", "A"] == "1/0/0"
    assert win_tie_loss(_jobs(no_model_fold=None)).loc["A", "B"] == "1/0/0"


def test_tables_take_the_methods_as_a_comma_separated_string_as_run_does():
    """final_table(frame, "tpe,random") and win_tie_loss ordered by the string's letters:
    the methods came alphabetically, random first."""
    from metaopt.benchmark import win_tie_loss

    jobs = _jobs(no_model_fold=None).replace({"method": {"A": "tpe", "B": "random"}})
    assert list(final_table(jobs, "tpe, random").index) == ["tpe", "random"]
    table = win_tie_loss(jobs, "tpe,random")
    assert list(table.index) == list(table.columns) == ["tpe", "random"]


def test_a_seed_only_some_methods_ran_is_not_ranked():
    """Adding a seed for one method to a run (a documented resume) ranked that method
    alone on the new seed, first: B's mean rank went from 2 to 1.5 with the same scores."""
    from metaopt.benchmark import curves

    jobs = _jobs(no_model_fold=None)
    extra = jobs[jobs["method"] == "B"].assign(
        seed=1, job=lambda f: f["job"].str.replace("s0", "s1"))
    final = curves(pd.concat([jobs, extra]), {"budget_trials": 2, "budget_seconds": None})
    final = final[final["budget"] == 2]
    assert final.groupby("method")["rank"].mean().to_dict() == {"A": 1.0, "B": 2.0}
    assert final.groupby("method")["regret"].mean().to_dict() == {"A": 0.0, "B": 1.0}


def test_a_trial_that_ends_after_budget_seconds_counts_at_the_full_budget():
    """With --budget-seconds the trial running when time ran out finishes, but the report
    dropped it: a job whose trials all ended after the budget vanished from the final
    regret and ranks (in a real run, a whole method's column read n/a)."""
    from metaopt.benchmark import curves

    late = _jobs(no_model_fold=None).assign(elapsed=lambda f: f["elapsed"] * 0.8)
    late = late[(late["method"] == "A") | (late["trial"] == 1)]
    late.loc[late["method"] == "B", "elapsed"] = 2.4  # B's one trial ended after 2 s
    final = curves(late, {"budget_trials": None, "budget_seconds": 2.0})
    final = final[final["budget"] == final["budget"].max()]
    assert final.groupby("method").size().to_dict() == {"A": 2, "B": 2}
    assert final.groupby("method")["rank"].mean().to_dict() == {"A": 1.0, "B": 2.0}


def test_retry_failed_runs_again_the_jobs_that_failed_as_a_whole(pmlb_root, tmp_path):
    """A job whose dataset could not be loaded stayed failed after the file was fixed:
    its result file counted as finished."""
    import shutil

    from metaopt.data import get_suite

    suite_dir = tmp_path / "suite"
    (suite_dir / "wine").mkdir(parents=True)
    table = pd.read_csv(pmlb_root / "wine_recognition" / "wine_recognition.tsv.gz", sep="\t")
    table.rename(columns={"target": "label"}).to_csv(suite_dir / "wine" / "wine.csv",
                                                     index=False)  # no target column
    pd.DataFrame({"name": ["wine"], "task": ["classification"]}).to_csv(
        suite_dir / "manifest.csv", index=False)
    settings = {**SMALL, "methods": ["default"]}
    suite = get_suite("pmlb-classification", root=suite_dir)
    first = run(suite, tmp_path / "out", **settings)
    assert set(first["status"]) == {"job_failed"}
    # the summary `benchmark run` prints was a KeyError when every job had failed
    summary = final_table(first).loc["default"]
    assert summary["failed_jobs"] == 2 and summary["jobs"] == 0
    assert pd.isna(summary["test_score"])
    table.to_csv(suite_dir / "wine" / "wine.csv", index=False)  # fixed
    assert set(run(suite, tmp_path / "out", **settings)["status"]) == {"job_failed"}
    retried = run(suite, tmp_path / "out", retry_failed=True, **settings)
    assert "job_failed" not in set(retried["status"])
    assert retried["incumbent_test_score"].notna().all()
    shutil.rmtree(suite_dir)


def test_report_leaves_out_the_jobs_of_datasets_excluded_later(pmlb_suite, tmp_path):
    """A rerun with --exclude-training-data into an existing directory listed a dataset
    as excluded while its earlier jobs were still in every table."""
    import json

    run(pmlb_suite, tmp_path, **{**SMALL, "methods": ["default"]})
    settings = json.loads((tmp_path / "run.json").read_text())
    first = next(iter(pmlb_suite)).key
    (tmp_path / "run.json").write_text(json.dumps({**settings, "excluded": [first]}))
    text = report(tmp_path).read_text()
    assert f"Excluded as training data: {first} (their 2 job(s) from an earlier run" in text
    assert "1 dataset, 2 jobs" in text


def test_report_pairs_the_last_method_that_has_results(pmlb_suite, tmp_path, monkeypatch):
    """When every job of the last method failed, its paired section was an empty table."""
    from metaopt.benchmark import _samplers

    def broken(dataset, seed):
        raise RuntimeError("this sampler is broken")

    monkeypatch.setitem(_samplers._SAMPLERS, "broken", broken)
    run(pmlb_suite.select(limit=1), tmp_path, **{**SMALL, "methods": ["random", "default",
                                                                      "broken"]})
    text = report(tmp_path).read_text()
    assert "## default against each other method (paired regret)" in text
    assert "| 3 | random |" in text
    # one dataset has no interval, said in the report's unit (it said "n/a (1 task)")
    assert "n/a (1 dataset)" in text and "task)" not in text
    assert "this sampler is broken" in text  # listed among the failed jobs


def test_a_task_with_fewer_splits_than_folds_uses_one_scheme(pmlb_root):
    """A dataset with one predefined split (an OpenML holdout task) run with 3 folds got
    that holdout as fold 0 and two folds of a K-fold as folds 1-2: overlapping test rows
    from two schemes. Now every fold comes from the K-fold; with enough predefined splits,
    every fold is one of them."""
    import numpy as np

    from metaopt.data.sources import LocalSource

    dataset = LocalSource(pmlb_root).load("breast_w")
    settings = _runner.Settings(suite="local", budget_trials=5, budget_seconds=None, folds=3,
                                cv_folds=3, spaces="all", max_rows=None, time_limit=None,
                                split_seed=0)
    rows = np.arange(dataset.n_samples)
    holdout = dataclasses.replace(dataset, splits=[(rows[100:], rows[:100])])
    tests = [_runner._outer_split(holdout, f, settings)[1] for f in range(3)]
    assert sum(len(t) for t in tests) == dataset.n_samples
    assert len(np.unique(np.concatenate(tests))) == dataset.n_samples  # a partition
    own = [(rows[rows % 4 != i], rows[rows % 4 == i]) for i in range(4)]
    fourfold = dataclasses.replace(dataset, splits=own)
    for f in range(3):
        assert np.array_equal(_runner._outer_split(fourfold, f, settings)[1], own[f][1])


def test_a_checkpoint_where_a_method_has_no_incumbent_yet_is_not_ranked():
    """FLAML reports its incumbent only at its end: at earlier checkpoints of a
    ``random,flaml`` run, random search was ranked alone, first."""
    from metaopt.benchmark import curves

    jobs = _jobs(no_model_fold=None)
    only_at_end = jobs[(jobs["method"] == "A") | (jobs["trial"] == jobs["trial"].max())]
    curve = curves(only_at_end, {"budget_trials": 2, "budget_seconds": None})
    first = curve[curve["budget"] == 1]
    assert set(first["method"]) == {"A"} and first["rank"].isna().all()
    final = curve[curve["budget"] == 2]
    assert final.groupby("method")["rank"].mean().to_dict() == {"A": 1.0, "B": 2.0}


@pytest.fixture(scope="module")
def tabrepo_curves(tabrepo_matrix, split):
    """Curves of three methods on six real TabRepo tasks (budgets 1 and 5)."""
    from metaopt.benchmark._surrogate import evaluate_methods, matrix_tasks
    from metaopt.kb import TABREPO_SPACE

    train, test = split[0][:-6], split[0][-6:]
    tasks = matrix_tasks(tabrepo_matrix.subset(test), TABREPO_SPACE)
    return evaluate_methods([(tabrepo_matrix.subset(train), tasks)],
                            ["random", "tpe", "portfolio"], [1, 5], 1, progress=False).curves


def _final_regret(curve: pd.DataFrame) -> pd.DataFrame:
    final = curve[curve["budget"] == curve["budget"].max()]
    return final.groupby(["task", "method"])["regret"].mean().unstack("method")


def test_plots_leave_the_callers_matplotlib_backend_and_figures_alone(tabrepo_curves,
                                                                      tmp_path, capsys):
    """The benchmark plots switched the process to the Agg backend (``matplotlib.use``):
    in a notebook, ``report()`` or ``plot_curves`` left pyplot unable to show figures."""
    import matplotlib
    import matplotlib.pyplot as plt

    from metaopt.benchmark._plots import plot_curves
    from metaopt.benchmark._report import _cd_diagram

    previous = matplotlib.get_backend()
    matplotlib.use("svg")  # stands for the user's (inline, Qt, ...) backend
    try:
        plt.figure()  # the caller's own figure, to be left open
        open_before = plt.get_fignums()
        plot_curves(tabrepo_curves, tmp_path / "regret.png")
        text = _cd_diagram(_final_regret(tabrepo_curves), tmp_path / "cd.png")
        assert matplotlib.get_backend() == "svg"
        assert plt.get_fignums() == open_before
    finally:
        plt.close("all")
        matplotlib.use(previous)
    assert (tmp_path / "regret.png").stat().st_size > 1000
    assert "![critical differences](cd.png)" in text and (tmp_path / "cd.png").is_file()
    # autorank's own printout (test choice, a truncated rank table) went to stdout
    assert capsys.readouterr().out == ""


def test_two_methods_get_the_wilcoxon_test_instead_of_a_diagram(tabrepo_curves, tmp_path):
    """With two methods on >= 5 datasets autorank runs a Wilcoxon test, for which
    plot_stats draws nothing and returns None: `benchmark report` crashed with
    AttributeError: 'NoneType' object has no attribute 'figure'."""
    from metaopt.benchmark._report import _cd_diagram

    pytest.importorskip("autorank")
    two = _final_regret(tabrepo_curves)[["random", "portfolio"]]
    text = _cd_diagram(two, tmp_path / "cd.png")
    assert text.startswith("Critical-difference diagram: none for two methods.")
    assert "wilcoxon signed-rank test" in text and "p = " in text
    assert not (tmp_path / "cd.png").exists()


def _half_saved(fig, path, *args, **kwargs):
    """A save that fails midway (a full disk, a SIGKILL): some bytes written, then an error."""
    with open(path, "wb") as file:
        file.write(b"\x89PNG half")
    raise OSError(28, "No space left on device")


@pytest.mark.parametrize("name", ["regret.png", "cd.png"])
def test_a_plot_that_fails_midway_keeps_the_earlier_one(name, tabrepo_curves, tmp_path,
                                                        monkeypatch):
    """regret.png, rank.png, --plot and cd.png were saved in place: a save that failed
    midway left a broken image in place of the earlier one (and cd.png was removed before
    autorank ran). Now each is saved to a temporary file beside it and renamed once whole."""
    from matplotlib.figure import Figure

    from metaopt.benchmark._plots import plot_curves
    from metaopt.benchmark._report import _cd_diagram

    if name == "cd.png":
        pytest.importorskip("autorank")
    earlier = b"an earlier report's image"
    (tmp_path / name).write_bytes(earlier)
    monkeypatch.setattr(Figure, "savefig", _half_saved)
    with pytest.raises(OSError, match="No space left on device"):
        if name == "cd.png":
            _cd_diagram(_final_regret(tabrepo_curves), tmp_path / name)
        else:
            plot_curves(tabrepo_curves, tmp_path / name)
    assert (tmp_path / name).read_bytes() == earlier
    assert [p.name for p in tmp_path.iterdir()] == [name]  # no temporary file left


def test_a_plot_is_saved_in_the_format_its_name_says(tabrepo_curves, tmp_path):
    """Saved through a temporary file named ``.tmp``: the format comes from the target."""
    from metaopt.benchmark._plots import plot_curves

    assert plot_curves(tabrepo_curves, tmp_path / "r.svg").read_bytes().startswith(b"<?xml")
    assert plot_curves(tabrepo_curves, tmp_path / "r.PDF").read_bytes().startswith(b"%PDF")
    assert plot_curves(tabrepo_curves, tmp_path / "r").read_bytes().startswith(b"\x89PNG")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.PDF", "r.png", "r.svg"]


def _cache_task(cache, task_id: int, dataset_id: int = 2) -> None:
    """Files of OpenML task ``task_id`` in ``cache`` for ``OpenMLSource.is_cached``: its
    task.xml (naming ``dataset_id``, anneal: the real cache copy holds that dataset) and
    its splits. No genuine task is cached for the tests: the task is not loadable."""
    folder = cache / "org" / "openml" / "www" / "tasks" / str(task_id)
    folder.mkdir(parents=True)
    (folder / "task.xml").write_text(
        f'<oml:task xmlns:oml="http://openml.org/openml"><oml:task_id>{task_id}'
        '</oml:task_id><oml:input name="source_data"><oml:data_set><oml:data_set_id>'
        f'{dataset_id}</oml:data_set_id><oml:target_feature>class</oml:target_feature>'
        '</oml:data_set></oml:input></oml:task>')
    (folder / "datasplits.arff").write_text("@relation splits\n")


def test_run_checks_the_cache_the_suite_loads_from(openml_cache, tmp_path, monkeypatch):
    """get_suite("openml-cc18", cache_dir=X) then run(suite, out) looked for the tasks in
    openml's own cache, not in X, and refused to start although X held them all; with
    run(..., cache_dir=Y) it checked Y and loaded from X. run now checks the suite's cache
    (Suite.cache_dir) and refuses another one."""
    import openml

    from metaopt.data import DatasetLoadError, OpenMLSource, get_suite

    # openml's own cache is elsewhere, and empty
    monkeypatch.setattr(openml.config, "_root_cache_directory", tmp_path / "openml-default")
    loaded = []

    def load_task(self, task_id):  # where the jobs load from (the task is not loadable)
        loaded.append((self.cache_dir, task_id))
        raise DatasetLoadError(f"task {task_id} loaded from {self.cache_dir}")

    monkeypatch.setattr(OpenMLSource, "load_task", load_task)
    _cache_task(openml_cache, 3)
    suite = get_suite("openml-cc18", cache_dir=openml_cache).select(names="openml-task/3")
    small = {**SMALL, "methods": ["default"], "budget_trials": 1}
    frame = run(suite, tmp_path / "out", **small)  # refused: "1 OpenML task(s) are not ..."
    assert loaded == [(openml_cache, 3)] * 2  # one job per fold, from the cache checked
    assert frame["status"].tolist() == ["job_failed"] * 2
    assert f"task 3 loaded from {openml_cache}" in frame["error"].iloc[0]

    # another cache than the suite's: refused before any work, naming both
    other, out = tmp_path / "other-cache", tmp_path / "out2"
    with pytest.raises(ValueError, match=rf"^cache_dir={re.escape(repr(str(other)))} is not "
                       "the OpenML cache of suite 'openml-cc18', which loads its tasks from "
                       rf"{re.escape(repr(str(openml_cache)))}"):
        run(suite, out, cache_dir=other, **small)
    with pytest.raises(ValueError, match=rf"^cache_dir={re.escape(repr(str(other)))} is not "
                       "the OpenML cache of suite 'openml-cc18', which loads its tasks from "
                       "openml's own cache"):
        run(get_suite("openml-cc18").select(limit=1), out, cache_dir=other, **small)
    assert not out.exists() and not other.exists() and len(loaded) == 2
    # the suite's own (however spelled): deprecated, as it is the suite's anyway
    loaded.clear()
    with pytest.warns(FutureWarning, match=r"run\(cache_dir=\) is deprecated") as record:
        run(suite, out, cache_dir=f"{openml_cache.parent}/../{openml_cache.parent.name}/"
            f"{openml_cache.name}", **small)
    assert record[0].filename == __file__  # the caller's line
    assert loaded == [(openml_cache, 3)] * 2


def test_budgets_and_counts_must_be_whole_or_finite(pmlb_suite, tmp_path):
    """budget_seconds=nan ran every Optuna job with no trial (an empty job file each) and
    inf never ended; budget_trials=1.5 ran 2 trials and True 1, budget_seconds=True and
    time_limit=True 1 s; seeds=1.5 failed in range()."""
    out = tmp_path / "out"
    for bad, message in (({"budget_trials": 1.5}, r"budget_trials must be an integer >= 1, "
                          r"got 1\.5"),
                         ({"budget_trials": True}, r"budget_trials must be an integer"),
                         ({"budget_trials": 0}, r"budget_trials must be an integer >= 1"),
                         *(({"budget_trials": None, "budget_seconds": s},
                            rf"budget_seconds must be a finite number of seconds > 0, got {s}")
                           for s in (float("nan"), float("inf"), 0.0, -1.0, True)),
                         ({"time_limit": True}, r"time_limit must be a finite number of "
                          r"seconds > 0 or None, got True"),
                         ({"seeds": 1.5}, r"seeds must be an integer >= 1, got 1\.5"),
                         ({"folds": 1}, r"folds must be an integer >= 2, got 1"),
                         ({"cv_folds": 2.0}, r"cv_folds must be an integer >= 2, got 2\.0")):
        with pytest.raises(ValueError, match=f"^{message}"):
            run(pmlb_suite, out, **{**SMALL, **bad})
    assert not out.exists()


def test_methods_as_one_string_and_repeated_methods(pmlb_suite, tmp_path):
    """methods="tpe" was read letter by letter ("unknown optimizer 't'"), and
    methods=["tpe", "tpe"] (--methods tpe,tpe) ran, listing tpe twice in run.json."""
    out = tmp_path / "out"
    with pytest.raises(ValueError, match=r"^methods name 'tpe' more than once"):
        run(pmlb_suite, out, **{**SMALL, "methods": ["tpe", "random", "tpe"]})
    assert not out.exists()
    small = {**SMALL, "budget_trials": 1}
    frame = run(pmlb_suite.select(limit=1), out, **{**small, "methods": "random, default"})
    assert set(frame["method"]) == {"random", "default"}


def test_spaces_joined_by_plus_run_and_repeated_spaces_are_refused(pmlb_suite, tmp_path):
    """spaces="linear+knn" (the '+' form get_space and its error message offer) and
    "svm,svm" or "all,svm" passed the check, then every Optuna job failed ("member spaces
    must be single spaces" / "... must be distinct")."""
    out = tmp_path / "out"
    for spaces in ("svm,svm", "all,svm", ["knn", "linear+knn"]):
        with pytest.raises(ValueError, match=r"^spaces name 'knn|svm' more than once"):
            run(pmlb_suite, out, **{**SMALL, "spaces": spaces})
    assert not out.exists()
    small = {**SMALL, "methods": ["random"], "budget_trials": 2}
    frame = run(pmlb_suite.select(limit=1), out, **{**small, "spaces": "linear + knn"})
    assert (frame["status"] == "ok").all() and set(frame["space"]) <= {"linear", "knn"}
    # the same spaces, however written, are the same setting on a resume
    run(pmlb_suite.select(limit=1), out, **{**small, "spaces": ["linear", "knn"]})


def test_an_output_that_is_no_writable_directory_is_refused_before_any_work(
        pmlb_suite, tmp_path, monkeypatch):
    """out=FILE failed with "[Errno 20] Not a directory: 'FILE/jobs'", out="" (an unset
    shell variable) wrote into the current directory, and a read-only out failed with
    "[Errno 30] Read-only file system: 'out/jobs'" or, on a resume, once the first job
    had run."""
    import tempfile

    small = {**SMALL, "methods": ["default"], "budget_trials": 1}
    (tmp_path / "file").write_text("x")
    for out, message in ((tmp_path / "file", r"out '.*file' is a file: give a directory"),
                         (tmp_path / "file" / "sub", r"out '.*sub': '.*file' is a file"),
                         ("", r"out must name a directory, got ''")):
        with pytest.raises(ValueError, match=f"^{message}"):
            run(pmlb_suite, out, **small)

    def read_only(*args, **kwargs):  # as a read-only file system says (root writes anyway)
        raise OSError(30, "Read-only file system")

    monkeypatch.setattr(tempfile, "TemporaryFile", read_only)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ValueError, match=r"^out='ro' is not writable \(Read-only file "
                       r"system\): give a directory you can write to$"):
        run(pmlb_suite, "ro", **small)
    assert not (tmp_path / "ro" / "run.json").exists()


def test_a_backend_it_cannot_use_is_refused_before_out_is_written(pmlb_suite, tmp_path):
    """backend="dask" without a scheduler (and a scheduler without it) was refused only
    after out/run.json and out/jobs/ were written: a mistyped command left a run
    directory behind; the caller's joblib settings are left as they were."""
    from joblib.parallel import get_active_backend

    before = get_active_backend()[0].__class__
    small = {**SMALL, "methods": ["default"], "budget_trials": 1}
    for backend, scheduler, message in (
            ("dask", None, "^scheduler must be given with the dask backend: "),
            ("loky", "tcp://127.0.0.1:1", "^scheduler must only be given with the dask "
                                          "backend, got 'tcp://127.0.0.1:1' with the loky")):
        with pytest.raises(ValueError, match=message):
            run(pmlb_suite, tmp_path / backend, backend=backend, scheduler=scheduler, **small)
        assert not (tmp_path / backend).exists()
    with pytest.raises(ValueError, match="is a file"):  # within the backend's context
        (tmp_path / "file").write_text("x")
        run(pmlb_suite, tmp_path / "file", **small)
    assert get_active_backend()[0].__class__ is before


def test_results_and_report_say_which_metaopt_and_meta_model_made_them(pmlb_suite, tmp_path):
    """Neither the job files nor the report said which metaopt version, nor which
    meta-model the `metaopt` method used, produced them: results of several versions
    mixed in one directory could not be told apart."""
    import json

    from metaopt import __version__

    out = tmp_path / "out"
    small = {**SMALL, "methods": ["random", "metaopt"], "budget_trials": 1}
    frame = run(pmlb_suite.select(limit=1), out, **small)
    assert (frame["metaopt_version"] == __version__).all()
    card = json.loads((Path(metaopt.__file__).parent / "_models" / "all@classification"
                       / "card.json").read_text())
    model = f"all@classification, trained {card['trained_at']}"
    assert (frame.loc[frame["method"] == "metaopt", "meta_model"] == model).all()
    assert frame.loc[frame["method"] == "random", "meta_model"].isna().all()
    # a job file of an older version, without the fields
    old = next((out / "jobs").glob("*random*f0.jsonl"))
    old.write_text("".join(json.dumps({k: v for k, v in json.loads(line).items()
                                       if k != "metaopt_version"}) + "\n"
                           for line in old.read_text().splitlines()))
    text = report(out).read_text()
    assert (f"Produced by metaopt {__version__} (3 jobs) and an unknown version (1 job). "
            "Jobs of different versions are compared. Job files without a version were "
            "written before 2026-12-05.") in text
    assert f"The `metaopt` method's meta-model: {model} (2 jobs)." in text


def test_a_suite_name_instead_of_a_suite_says_how_to_get_one(tmp_path):
    """run("pmlb-classification", out) failed with "AttributeError: 'str' object has no
    attribute 'name'"."""
    with pytest.raises(TypeError, match=r"^suite must be a metaopt\.data\.Suite: "
                       r"get_suite\('pmlb-classification', root=\.\.\.\) gives it, got the "
                       r"str 'pmlb-classification'$"):
        run("pmlb-classification", tmp_path / "out", **SMALL)
    assert not (tmp_path / "out").exists()



def test_a_list_of_datasets_instead_of_a_suite_says_how_to_make_one(pmlb_suite, tmp_path):
    """run([ref, ...], out) said "got the list [DatasetRef(...), ...]", every dataset
    written out (a Dataset's whole frames), and not how to make a Suite of them; what it
    says now works."""
    from metaopt.data import Suite, from_arrays

    refs = list(pmlb_suite.select(limit=1, smallest_first=True))
    data = from_arrays([[0.0], [1.0]] * 10, [0, 1] * 10, name="mine")
    for given, what in [(refs, "list of 1 DatasetRef"), ((data,), "tuple of 1 Dataset")]:
        with pytest.raises(TypeError, match=r"^suite must be a metaopt\.data\.Suite: "
                           r"a suite's datasets are suite\.select\(names=\[\.\.\.\]\), "
                           r"datasets of your own a local suite \(a directory with a "
                           r"manifest\.csv: docs/kb\.md\), DatasetRefs Suite\(name, "
                           rf"tuple\(refs\)\); got a {what}$"):
            run(given, tmp_path / "out", **SMALL)
    assert not (tmp_path / "out").exists()
    frame = run(Suite(pmlb_suite.name, tuple(refs)), tmp_path / "out",
                **{**SMALL, "methods": ["default"], "budget_trials": 1})
    assert set(frame["dataset"]) == {refs[0].name}

def test_the_final_table_says_what_its_columns_are(pmlb_suite, tmp_path):
    """Neither the report nor `benchmark run` said that test_score is accuracy (R² for
    regression) nor what seconds measure, and the job counts read 0.0 (floats)."""
    from metaopt.benchmark._report import final_table_legend

    frame = run(pmlb_suite.select(limit=1), tmp_path,
                **{**SMALL, "methods": ["default"], "budget_trials": 1})
    table = final_table(frame)
    for column in ("jobs", "failed_jobs", "no_model_jobs"):
        assert pd.api.types.is_integer_dtype(table[column]), column
    legend = final_table_legend(frame)
    assert legend.startswith("test_score: mean final outer-test accuracy of the jobs "
                             "with a model;")
    assert final_table_legend(frame.assign(task="regression")).startswith(
        "test_score: mean final outer-test R² of")
    text = report(tmp_path).read_text()
    assert f"{legend}\n\n| method | test_score |" in text
    assert "| default | " in text and " | 2 | 0 | 0 |" in text


def test_report_plots_name_the_budgets_unit(pmlb_suite, tmp_path, monkeypatch):
    """regret.png and rank.png labelled their x axis "budget", not trials or seconds."""
    from matplotlib.figure import Figure

    labels, spans = {}, {}
    save = Figure.savefig

    def savefig(fig, path, *args, **kwargs):
        name = re.sub(r"^\.|\.[0-9a-f]{8}\.tmp$", "", Path(path).name)  # saved whole
        labels[name] = fig.axes[0].get_xlabel()
        spans[name] = fig.axes[0].get_ylim()
        return save(fig, path, *args, **kwargs)

    monkeypatch.setattr(Figure, "savefig", savefig)
    small = {**SMALL, "methods": ["random", "default"], "budget_trials": 2}
    run(pmlb_suite.select(limit=1), tmp_path, **small)
    report(tmp_path)
    assert labels == {"regret.png": "trials", "rank.png": "trials"}
    # the rank axis spans first to last (it zoomed to the data, so a small gap looked large)
    low, high = spans["rank.png"]
    assert 0.9 < low <= 1.0 and 2.0 <= high < 2.1, spans["rank.png"]


def test_a_restarted_worker_is_not_reported_as_a_memory_leak(pmlb_suite, tmp_path,
                                                             monkeypatch, recwarn):
    """loky restarts a worker whose memory grew by 300 MB after a job (a `metaopt` job
    imports torch and loads the meta-model), losing nothing, and warned "A worker stopped
    while some jobs were given to the executor. This can be caused by a too short worker
    timeout or by a memory leak." in the middle of `benchmark run`."""
    import warnings

    original = _runner.run_job

    def restarts(job, settings):  # what loky's executor warns in the parent process
        warnings.warn("A worker stopped while some jobs were given to the executor. This "
                      "can be caused by a too short worker timeout or by a memory leak.",
                      UserWarning, stacklevel=1)
        return original(job, settings)

    monkeypatch.setattr(_runner, "run_job", restarts)
    run(pmlb_suite.select(limit=1), tmp_path, n_jobs=1,
        **{**SMALL, "methods": ["default"], "budget_trials": 1})
    assert not [w for w in recwarn if "A worker stopped" in str(w.message)]


def test_a_missing_training_datasets_file_is_named(pmlb_suite, tmp_path):
    """It failed with "[Errno 2] No such file or directory: '...'", not naming the option."""
    missing = tmp_path / "training.txt"
    with pytest.raises(ValueError, match=rf"^training_datasets={re.escape(repr(str(missing)))}"
                       r" is no file: give a text file of dataset keys or names, one a line"):
        run(pmlb_suite, tmp_path / "out", training_datasets=missing, **SMALL)
    assert not (tmp_path / "out").exists()


def test_an_openml_cache_that_does_not_exist_is_said_to_be_missing(tmp_path):
    """A misspelt --cache-dir listed every task of the suite as missing from it, without
    saying the directory itself does not exist."""
    from metaopt.data import get_suite

    cache = tmp_path / "openml-cahce"
    suite = get_suite("openml-cc18", cache_dir=cache).select(limit=2)
    with pytest.raises(ValueError, match=rf"^2 OpenML task\(s\) are not in the cache "
                       rf"\({re.escape(str(cache))}, a directory that does not exist\): 3, 6\."):
        run(suite, tmp_path / "out", **SMALL)


def test_a_report_without_a_diagram_removes_an_earlier_one(pmlb_suite, tmp_path):
    """cd.png of an earlier report stayed beside a report that draws none (fewer than 5
    datasets, or two methods), looking like the current diagram."""
    run(pmlb_suite, tmp_path, **{**SMALL, "methods": ["random", "default"],
                                 "budget_trials": 1})
    (tmp_path / "cd.png").write_bytes(b"an earlier report's diagram")
    assert "![critical differences]" not in report(tmp_path).read_text()
    assert not (tmp_path / "cd.png").exists()


def test_peer_jobs_and_the_report_say_which_library_versions_made_them(pmlb_suite, tmp_path):
    """A peer method's job files and the report said nothing of the library that ran
    it: results of two FLAML or Optuna versions could not be told apart."""
    from importlib.metadata import version

    out = tmp_path / "out"
    small = {**SMALL, "methods": ["tpe", "default", "random"], "budget_trials": 1}
    frame = run(pmlb_suite.select(limit=1), out, **small)
    optuna = f"optuna {version('optuna')}"
    assert (frame.loc[frame["method"] != "default", "peer_version"] == optuna).all()
    assert frame.loc[frame["method"] == "default", "peer_version"].isna().all()
    # run order, and a job file of before the field
    old = next((out / "jobs").glob("*random*f0.jsonl"))
    old.write_text(old.read_text().replace(f', "peer_version": "{optuna}"', ""))
    assert (f"Peer methods' libraries: `tpe`: {optuna} (2 jobs); `random`: {optuna} "
            "(1 job) and unknown (1 job).") in report(out).read_text()


@pytest.mark.parametrize("method, libraries", [("flaml", ("flaml", "lightgbm", "xgboost")),
                                               ("cmaes", ("optuna", "cmaes"))])
def test_a_peer_from_an_optional_library_records_its_version(pmlb_suite, tmp_path, method,
                                                              libraries):
    from importlib.metadata import version

    pytest.importorskip(libraries[0])
    pytest.importorskip(libraries[1])
    small = {**SMALL, "methods": [method], "budget_trials": 2, "folds": 2}
    frame = run(pmlb_suite.select(limit=1), tmp_path / "out", **small)
    assert (frame["status"] != "job_failed").all()
    assert frame["peer_version"].str.startswith(
        f"{libraries[0]} {version(libraries[0])}, {libraries[1]} {version(libraries[1])}").all()


def test_every_table_of_the_report_lists_the_methods_in_run_order(pmlb_suite, tmp_path):
    """The final table, the win/tie/loss table and the paired differences listed them
    alphabetically, the regret table in the run's order."""
    from metaopt.benchmark import win_tie_loss

    order = ["tpe", "default", "random"]
    small = {**SMALL, "methods": order, "budget_trials": 1}
    frame = run(pmlb_suite.select(limit=1), tmp_path, **small)
    assert list(final_table(frame, order).index) == order
    assert list(win_tie_loss(frame, order).index) == order
    assert list(win_tie_loss(frame, order).columns) == order
    sections = report(tmp_path).read_text().split("\n## ")
    regret = next(s for s in sections if s.startswith("Regret and rank"))
    assert "| budget | tpe | default | random |" in regret
    paired = next(s for s in sections if s.startswith("random against"))
    assert re.findall(r"^\| 1 \| (\w+) ", paired, flags=re.MULTILINE) == ["tpe", "default"]
    for title in ("Win / tie / loss", "Final test score"):
        text = next(s for s in sections if s.startswith(title))
        assert re.findall(r"^\| (\w+) ", text, flags=re.MULTILINE) == ["method", *order]


def test_plot_legend_says_what_the_shading_is(tmp_path, monkeypatch):
    """The shaded band of regret.png and rank.png was in no legend or caption: a reader
    could not tell it is a 95 % interval, nor over what."""
    from matplotlib.figure import Figure

    from metaopt.benchmark._plots import plot_curves

    saved = []
    monkeypatch.setattr(Figure, "savefig", lambda fig, path, **kw: saved.append(fig))
    curves = pd.DataFrame([{"method": m, "task": t, "budget": b, "regret": r}
                           for m, r in (("tpe", 0.2), ("default", 0.6))
                           for t, shift in (("a", 0.0), ("b", 0.1), ("c", 0.3))
                           for b in (1, 3)
                           for r in [r + shift]])
    methods = ["tpe", "default"]
    plot_curves(curves, tmp_path / "regret.png", methods=methods, over="datasets")
    plot_curves(curves[curves["task"] == "a"], tmp_path / "one.png", methods=methods)  # no band
    legends = [[t.get_text() for t in fig.axes[0].get_legend().get_texts()] for fig in saved]
    assert legends == [["tpe", "default", "shaded: 95 % interval over datasets"],
                       ["tpe", "default"]]
