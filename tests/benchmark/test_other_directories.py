"""The surrogate benchmarks on directories laid out like ours but holding other tasks
(as the hidden test tasks will be run): incomplete or damaged files, methods that run
out of configurations, YAHPO splits with integer ids, outputs in new folders."""

from __future__ import annotations

import json
import re
import shutil

import numpy as np
import pandas as pd
import pytest

from metaopt.benchmark import tabrepo_benchmark, yahpo_benchmark
from metaopt.benchmark._metrics import mean_ci, paired_difference
from metaopt.cli import main
from metaopt.kb import load_tabrepo


def _copy(tabrepo_dir, target, tasks):
    """A TabRepo directory of the given task ids (rows of the real files)."""
    target.mkdir()
    shutil.copy(tabrepo_dir / "configs.json", target / "configs.json")
    results = pd.read_csv(tabrepo_dir / "results.csv")
    meta = pd.read_csv(tabrepo_dir / "task_metadata.csv")
    results[results["dataset"].isin(tasks)].to_csv(target / "results.csv", index=False)
    meta[meta["tid"].isin(tasks)].to_csv(target / "task_metadata.csv", index=False)
    return target


@pytest.fixture(scope="module")
def task_ids(tabrepo_dir):
    return sorted(pd.read_csv(tabrepo_dir / "results.csv")["dataset"].unique())


def test_a_method_that_runs_out_keeps_its_best_so_far(tabrepo_dir, task_ids, tmp_path):
    """A method that proposes fewer configurations than the budget (FLAML's zero-shot list
    holds 2-8): its cells at larger budgets used to average only the tasks with enough
    picks (the 73-task table's flaml column at 5 covered 22 tasks), and its regret could
    rise with the budget."""
    from metaopt.benchmark import register_method

    class Short:  # two configurations on the first task, five on the others
        name = "short"

        def fit(self, train):
            pass

        def run(self, problem, budget, seed):
            for i in range(min(budget, 2 if problem.key.endswith(str(task_ids[-3])) else 5)):
                problem.evaluate(i)
            return problem.history

    register_method("short", Short)
    train = _copy(tabrepo_dir, tmp_path / "train", task_ids[:8])
    test = _copy(tabrepo_dir, tmp_path / "test", task_ids[-3:])
    result = tabrepo_benchmark(train, test, methods=["random", "short"], budgets=[1, 5, 25],
                               seeds=1, progress=False)
    short = result.curves[result.curves["method"] == "short"]
    assert short.groupby("budget")["task"].nunique().tolist() == [3, 3, 3]
    by_budget = short.groupby("budget")["regret"].mean()
    assert by_budget.is_monotonic_decreasing
    assert by_budget[25] == by_budget[5]  # nothing new after its last pick


def test_a_run_that_evaluates_nothing_has_the_worst_regret(tabrepo_dir, task_ids, tmp_path):
    """A method that evaluates nothing on a task (no portfolio for its type, say) has no
    incumbent there: regret 1. Its runs used to be dropped, so its mean averaged only the
    tasks it tried and it was ranked among fewer methods there."""
    from metaopt.benchmark import register_method

    class Picky:  # evaluates on the first test task only
        name = "picky"

        def fit(self, train):
            pass

        def run(self, problem, budget, seed):
            if problem.key.endswith(str(task_ids[-3])):
                for i in range(budget):
                    problem.evaluate(i)
            return problem.history

    register_method("picky", Picky)
    train = _copy(tabrepo_dir, tmp_path / "train", task_ids[:8])
    test = _copy(tabrepo_dir, tmp_path / "test", task_ids[-3:])
    result = tabrepo_benchmark(train, test, methods=["random", "picky"], budgets=[1, 3],
                               seeds=1, progress=False)
    picky = result.curves[result.curves["method"] == "picky"].set_index(["task", "budget"])
    assert len(picky) == 3 * 2
    others = picky.drop(f"openml-task/{task_ids[-3]}", level="task")
    assert (others["regret"] == 1).all() and (others["rank"] == 2).all()


def test_incomplete_test_tasks_run_on_the_configurations_they_have(tabrepo_dir, task_ids,
                                                                   tmp_path):
    """A configuration missing on most test tasks used to be dropped from all of them,
    taking a task's true best with it; one missing on a few was a candidate scoring worst."""
    train = _copy(tabrepo_dir, tmp_path / "train", task_ids[:8])
    test = _copy(tabrepo_dir, tmp_path / "test", task_ids[-3:])
    results = pd.read_csv(test / "results.csv")
    first = task_ids[-3]
    best = results[results["dataset"] == first].sort_values("metric_error")["framework"].iloc[0]
    drop = (results["framework"] == best) & (results["dataset"] != first)
    results[~drop].to_csv(test / "results.csv", index=False)
    with pytest.warns(UserWarning, match="lack results for some of the 104 configurations"):
        result = tabrepo_benchmark(train, test, methods=["random"], budgets=[103], seeds=1,
                                   progress=False)
    # every configuration seen: the best of each task is found, at regret 0
    assert np.allclose(result.curves["regret"], 0.0)


@pytest.mark.filterwarnings("ignore:.*lack results for some:UserWarning")
def test_a_test_task_with_fewer_configurations_than_the_budget(tabrepo_dir, task_ids,
                                                               tmp_path):
    """A test task with results for 30 configurations and a largest budget of 50 stopped
    the whole benchmark ("budget 50 exceeds the 30 candidates"). Its runs now end once
    every configuration is evaluated (its best found: regret 0) and keep it at 50."""
    train = _copy(tabrepo_dir, tmp_path / "train", task_ids[:8])
    test = _copy(tabrepo_dir, tmp_path / "test", task_ids[-2:])
    results = pd.read_csv(test / "results.csv")
    short = task_ids[-2]
    keep = results["framework"].isin(results["framework"].unique()[:30])
    results[keep | (results["dataset"] != short)].to_csv(test / "results.csv", index=False)
    with pytest.warns(UserWarning, match=rf"1 test task\(s\) have fewer configurations "
                                         rf"than the largest budget 50 \(e.g. openml-task/{short}\)"):
        result = tabrepo_benchmark(train, test, methods=["random", "portfolio"],
                                   budgets=[5, 30, 50], seeds=1, progress=False)
    curves = result.curves.set_index(["method", "task", "budget"])["regret"]
    assert curves[("random", f"openml-task/{short}", 30)] == 0.0
    assert curves[("random", f"openml-task/{short}", 50)] == 0.0
    assert len(result.curves) == 2 * 2 * 3


@pytest.mark.filterwarnings("ignore:.*lack results for some:UserWarning")
def test_cv_test_tasks_keep_configurations_few_tasks_have(tabrepo_dir, task_ids, tmp_path):
    """In leave-tasks-out CV, a configuration with results on under half of the tasks was
    dropped from the test tasks too: a test task whose best it is could not evaluate it
    (a proposal of it snapped to another one), as before the same fix for --test DIR."""
    from metaopt.benchmark import register_method
    from metaopt.kb import tabrepo_configs

    data = _copy(tabrepo_dir, tmp_path / "data", task_ids[:6])
    results = pd.read_csv(data / "results.csv")
    first = task_ids[0]
    best = results[results["dataset"] == first].sort_values("metric_error")["framework"].iloc[0]
    drop = (results["framework"] == best) & (results["dataset"] != first)
    results[~drop].to_csv(data / "results.csv", index=False)
    params = tabrepo_configs(data)[best]

    class Best:  # proposes the first task's best configuration
        name = "best"

        def fit(self, train):
            pass

        def run(self, problem, budget, seed):
            problem.evaluate(params)
            return problem.history

    register_method("best", Best)
    result = tabrepo_benchmark(data, cv=2, methods=["best"], budgets=[1], seeds=1,
                               progress=False)
    curves = result.curves.set_index("task")["regret"]
    assert curves[f"openml-task/{first}"] == 0.0


def test_flaml_runs_on_a_task_whose_metadata_lacks_a_size(tabrepo_dir, task_ids, tmp_path):
    """A test task without NumberOfInstances made FLAML's nearest-neighbour search fail
    ('Input X contains NaN.', naming neither task nor method), ending the benchmark after
    the other methods ran. The unknown value now sits at FLAML's centre (no distance).
    Needs FLAML's zero-shot module, which imports xgboost (``pip install 'flaml[automl]'``,
    the ``peers`` extra); CI installs FLAML without it."""
    pytest.importorskip("flaml.default.suggest")
    train = _copy(tabrepo_dir, tmp_path / "train", task_ids[:8])
    test = _copy(tabrepo_dir, tmp_path / "test", task_ids[-2:])
    meta = pd.read_csv(test / "task_metadata.csv")
    meta.loc[0, "NumberOfInstances"] = np.nan
    meta.to_csv(test / "task_metadata.csv", index=False)
    result = tabrepo_benchmark(train, test, methods=["flaml"], budgets=[1, 2], seeds=1,
                               progress=False)
    assert result.curves["task"].nunique() == 2
    assert result.curves["regret"].between(0, 1).all()


def test_damaged_tabrepo_files_give_clear_errors(tabrepo_dir, task_ids, tmp_path):
    test = _copy(tabrepo_dir, tmp_path / "t", task_ids[:3])
    meta = pd.read_csv(test / "task_metadata.csv")
    meta.drop(columns=["NumberOfInstances"]).to_csv(test / "task_metadata.csv", index=False)
    with pytest.raises(ValueError, match=r"lacks the column\(s\) \['NumberOfInstances'\]"):
        load_tabrepo(test)
    meta.assign(NumberOfClasses=np.nan).to_csv(test / "task_metadata.csv", index=False)
    assert len(load_tabrepo(test).datasets()) == 3  # a missing quality is not fatal
    configs = json.loads((test / "configs.json").read_text())
    configs.pop("LightGBM_r5")
    (test / "configs.json").write_text(json.dumps(configs))
    with pytest.raises(ValueError, match=r"configuration\(s\) that configs.json lacks"):
        load_tabrepo(test)


def test_ambiguous_tabrepo_rows_are_refused(tabrepo_dir, task_ids, tmp_path):
    """A task's results given twice (other errors), a task id given twice in the metadata,
    task ids that are names, and a problem_type the metadata contradicts all loaded
    silently (one of the two rows was kept; "invalid literal for int()" naming no file);
    a task listed in the metadata without results vanished without a word."""
    data = _copy(tabrepo_dir, tmp_path / "t", task_ids[:3])
    results = pd.read_csv(data / "results.csv")
    meta = pd.read_csv(data / "task_metadata.csv")
    first = task_ids[0]

    def write(r=results, m=meta):
        r.to_csv(data / "results.csv", index=False)
        m.to_csv(data / "task_metadata.csv", index=False)

    again = results[results["dataset"] == first].assign(metric_error=lambda f: f.metric_error + 1)
    write(r=pd.concat([results, again]))
    with pytest.raises(ValueError, match=r"results.csv has 208 rows that repeat a dataset, "
                                         rf"framework \(dataset={first}, framework='LightGBM_"):
        load_tabrepo(data)
    write(m=pd.concat([meta, meta.iloc[:1].assign(NumberOfInstances=1)]))
    with pytest.raises(ValueError, match=r"task_metadata.csv has 2 rows that repeat a tid "
                                         rf"\(tid={first}, ...\) with other values: give "
                                         "one row each"):
        load_tabrepo(data)
    write(r=results.assign(dataset="t" + results["dataset"].astype(str)))
    with pytest.raises(ValueError, match=r"results.csv: column 'dataset' must hold OpenML "
                                         r"task ids \(integers\), got \['t\d+'"):
        load_tabrepo(data)
    kind = results["problem_type"].where(results["dataset"] != first, "regression")
    write(r=results.assign(problem_type=kind))
    with pytest.raises(ValueError, match=rf"task {first} has problem_type \['regression'\] "
                                         "but task_metadata.csv makes it a classification"):
        load_tabrepo(data)
    write(r=results[results["dataset"] != first])
    with pytest.warns(UserWarning, match=rf"lists 1 task\(s\) without results in "
                                         rf"results.csv, left out: \[{first}\]"):
        assert len(load_tabrepo(data).to_frame()["dataset_key"].unique()) == 2
    write()
    assert len(load_tabrepo(data).to_frame()) == 3 * 104


def test_unreadable_tabrepo_files_are_named(tabrepo_dir, task_ids, tmp_path):
    """A configs.json that is no JSON failed with "Expecting property name enclosed in
    double quotes: line 1 column 2 (char 1)", an empty results.csv with "No columns to
    parse from file", one with a header only with "space 'tabrepo_lightgbm' has no
    evaluations": none named the file."""
    test = _copy(tabrepo_dir, tmp_path / "t", task_ids[:2])
    header = (test / "results.csv").read_text().splitlines()[0] + "\n"
    for name, text in (("configs.json", "{not json"), ("configs.json", "[]"),
                       ("results.csv", ""), ("results.csv", header)):
        original = (test / name).read_text()
        (test / name).write_text(text)
        with pytest.raises(ValueError, match=re.escape(str(test / name))):
            load_tabrepo(test)
        (test / name).write_text(original)


def test_a_missing_error_is_a_failed_evaluation(tabrepo_dir, task_ids, tmp_path):
    test = _copy(tabrepo_dir, tmp_path / "t", task_ids[:2])
    results = pd.read_csv(test / "results.csv")
    results.loc[0, "metric_error"] = np.nan
    results.to_csv(test / "results.csv", index=False)
    frame = load_tabrepo(test).to_frame()
    row = frame[(frame["design_id"] == results.loc[0, "framework"])
                & (frame["dataset_key"] == f"openml-task/{results.loc[0, 'dataset']}")]
    assert row["status"].tolist() == ["failed"]


def test_outputs_go_into_new_folders_and_bad_method_lists_fail_first(tabrepo_dir, task_ids,
                                                                    tmp_path, capsys):
    train = _copy(tabrepo_dir, tmp_path / "train", task_ids[:6])
    test = _copy(tabrepo_dir, tmp_path / "test", task_ids[-2:])
    out = tmp_path / "new" / "folder" / "r.json"
    code = main(["benchmark", "tabrepo", "--train", str(train), "--test", str(test),
                 "--methods", "random,portfolio", "--budgets", "1,3", "--seeds", "1",
                 "--json", str(out), "--no-progress"])
    assert code == 0 and set(json.loads(out.read_text())["table"]) == {"1", "3"}
    # the lists read as Python's: "accepted: ['random', ...]", "once: ['random']", "[0, 5]"
    for options, message in (
            (["--methods", "random,nosuch"], "unknown method 'nosuch'; accepted: random, "),
            (["--methods", "random,portfolio,random"], "name 'random' more than once"),
            (["--budgets", "0,5"], "--budgets must be positive integers, got 0, 5\n")):
        assert main(["benchmark", "tabrepo", "--train", str(train), "--test", str(test),
                     *options, "--no-progress"]) == 2
        assert message in capsys.readouterr().err


def test_one_task_has_no_interval():
    assert np.isnan(mean_ci([0.3])[1])
    ours = pd.Series([0.1], index=pd.Index(["a"], name="task"))
    peer = pd.Series([0.3], index=pd.Index(["a"], name="task"))
    assert paired_difference(ours, peer)["95% interval"] == "n/a (1 task)"


def test_yahpo_splits_with_integer_ids_and_any_test_instances(yahpo_dir, tmp_path):
    splits = json.loads((yahpo_dir / "splits.json").read_text())
    for scenario in ("rbv2_rpart",):
        (tmp_path / scenario).symlink_to(yahpo_dir / scenario)
    as_ints = {"rbv2_rpart": {**splits["rbv2_rpart"],
                              **{part: [int(i) for i in splits["rbv2_rpart"][part]]
                                 for part in ("train", "valid")}}}
    (tmp_path / "splits.json").write_text(json.dumps(as_ints))
    from metaopt.kb import YahpoBenchmark

    reserved = YahpoBenchmark("rbv2_rpart", tmp_path, split="test").instances
    listed = {str(i) for part in ("train", "valid") for i in splits["rbv2_rpart"][part]}
    assert reserved and not set(reserved) & listed  # train and valid are never reserved
    train, valid = splits["rbv2_rpart"]["train"][:3], splits["rbv2_rpart"]["valid"][:2]
    result = yahpo_benchmark("rbv2_rpart", tmp_path, train_instances=train,
                             test_instances=valid[:2],
                             methods=["random"], budgets=[1], seeds=1, n_train_configs=16,
                             n_reference=32, progress=False)
    assert result.curves["task"].nunique() == 2
    with pytest.raises(ValueError, match=r"test_instances names no instance of rbv2_rpart: nosuch$"):
        yahpo_benchmark("rbv2_rpart", tmp_path, train_instances=train,
                        test_instances=[valid[0], "nosuch"], methods=["random"],
                        progress=False)


def test_yahpo_splits_that_do_not_fit_the_scenario_are_refused(yahpo_dir, tmp_path):
    """A splits.json naming an instance the scenario lacks dropped it silently; one whose
    train and valid splits share an instance failed with "test_instances overlap
    train_instances" though none was given; an empty valid split failed with "no method
    could run on these tasks: ", and a missing train split with "space 'yahpo_lcbench'
    has no evaluations"; a comma-separated string was read character by character."""
    splits = json.loads((yahpo_dir / "splits.json").read_text())["rbv2_rpart"]
    (tmp_path / "rbv2_rpart").symlink_to(yahpo_dir / "rbv2_rpart")
    options = dict(methods=["random"], budgets=[1], seeds=1, n_train_configs=16,
                   n_reference=32, progress=False)

    def run(**entry):
        (tmp_path / "splits.json").write_text(json.dumps({"rbv2_rpart": {**splits, **entry}}))
        return yahpo_benchmark("rbv2_rpart", tmp_path, **options)

    with pytest.raises(ValueError, match=r"rbv2_rpart's train/valid splits name instances "
                                         r"the scenario lacks: \['424242'\]"):
        run(valid=[*splits["valid"], "424242"])
    with pytest.raises(ValueError, match=r"rbv2_rpart's train and valid splits share "
                                         rf"instances \['{splits['train'][0]}'\]"):
        run(valid=[*splits["valid"], splits["train"][0]])
    with pytest.raises(ValueError, match="gives rbv2_rpart no valid instances: list them "
                                         "there or give test_instances$"):
        run(valid=[])
    with pytest.raises(ValueError, match="gives rbv2_rpart no train instances"):
        run(train=[])
    with pytest.raises(ValueError, match="'train' must be a list of instance ids, got str"):
        run(train=",".join(splits["train"]))
    # an empty valid split is no obstacle when the test instances are named
    (tmp_path / "splits.json").write_text(json.dumps({"rbv2_rpart": {**splits, "valid": []}}))
    result = yahpo_benchmark("rbv2_rpart", tmp_path, test_instances=splits["valid"][:1],
                             **options)
    assert result.curves["task"].nunique() == 1


def test_tasks_restrict_the_test_directory_too(tabrepo_dir, task_ids, tmp_path):
    """``tasks`` with a separate test directory used to restrict the training tasks only:
    every test task ran (no quick run), and a test task's key was 'unknown'."""
    train = _copy(tabrepo_dir, tmp_path / "train", task_ids[:8])
    test = _copy(tabrepo_dir, tmp_path / "test", task_ids[-4:])
    keys = [f"openml-task/{t}" for t in (task_ids[0], task_ids[1], task_ids[-1])]
    options = {"methods": ["random"], "budgets": [1, 3], "seeds": 1, "progress": False}
    result = tabrepo_benchmark(train, test, tasks=keys, **options)
    assert sorted(result.curves["task"].unique()) == [keys[-1]]
    # keys of the training directory only: every test task, as before
    result = tabrepo_benchmark(train, test, tasks=keys[:2], **options)
    assert result.curves["task"].nunique() == 4
    with pytest.raises(ValueError, match="keys of neither train nor test"):
        tabrepo_benchmark(train, test, tasks=["openml-task/1"], **options)
