from __future__ import annotations

import sys

import numpy as np
import pandas as pd
import pytest

from metaopt import metafeatures
from metaopt.benchmark import (
    BudgetExhausted,
    Problem,
    make_method,
    min_max_regret,
    paired_difference,
    paired_differences,
    register_method,
    tabrepo_benchmark,
    yahpo_benchmark,
)
from metaopt.benchmark._surrogate import load_tabrepo_matrix, matrix_tasks, task_folds
from metaopt.kb import TABREPO_SPACE


@pytest.fixture(scope="module")
def matrix(tabrepo_dir):
    return load_tabrepo_matrix(tabrepo_dir)


def _problem(matrix, budget=3):
    params = list(matrix.configs["params"])
    mf = pd.Series(np.nan, index=list(metafeatures.FEATURE_NAMES))
    return Problem("t", TABREPO_SPACE, "classification", mf, budget,
                   candidates=params, scores=matrix.scores[0])


def test_problem_snaps_to_nearest_unevaluated_and_counts(matrix):
    problem = _problem(matrix)
    first = matrix.configs["params"].iloc[7]
    assert problem.evaluate(first) == matrix.scores[0, 7]
    problem.evaluate(first)  # same proposal again: snapped to another candidate
    assert problem.history[0] == 7 and problem.history[1] != 7
    problem.evaluate(0)
    with pytest.raises(BudgetExhausted):
        problem.evaluate(1)


def test_portfolio_beats_random_leave_one_task_out(tabrepo_dir, matrix):
    result = tabrepo_benchmark(tabrepo_dir, cv=matrix.n_tasks, methods=["random", "portfolio"],
                               budgets=[5], seeds=3, progress=False)
    regret = result.curves.groupby("method")["regret"].mean()
    assert regret["portfolio"] < regret["random"] < 0.25
    assert result.curves["task"].nunique() == matrix.n_tasks
    assert set(result.curves["rank"]) <= {1.0, 1.5, 2.0}
    paired = result.paired("portfolio").loc[(5, "random")]
    assert float(paired["difference"]) == pytest.approx(regret["portfolio"] - regret["random"],
                                                       abs=5e-5)
    low, high = (float(v) for v in paired["95% interval"].strip("[]").split(","))
    assert low < float(paired["difference"]) < high < 0  # lower regret, beyond the interval
    won, tied, lost = (int(v) for v in paired["won/tied/lost"].split("/"))
    assert won + tied + lost == 3 * matrix.n_tasks and won > lost


def test_paired_difference_averages_each_unit_first_and_orients_wins():
    index = pd.MultiIndex.from_tuples([("a", 0), ("a", 1), ("b", 0), ("c", 0)],
                                      names=["dataset", "seed"])
    ours = pd.Series([0.9, 0.7, 0.5, 0.6], index=index)
    peer = pd.Series([0.8, 0.8, 0.5, 0.4], index=index)
    row = paired_difference(ours, peer, unit="dataset", higher_is_better=True)
    # per dataset: a (0.1 - 0.1) / 2 = 0, b 0, c 0.2 -> mean 0.0667, t(2) interval
    half = 4.302653 * np.std([0, 0, 0.2], ddof=1) / np.sqrt(3)
    assert row["difference"] == "+0.0667"
    assert row["95% interval"] == f"[{0.2 / 3 - half:+.4f}, {0.2 / 3 + half:+.4f}]"
    assert row["won/tied/lost"] == "2/1/1"
    assert paired_difference(ours, peer, unit="dataset")["won/tied/lost"] == "1/1/2"
    alone = pd.DataFrame({"method": "m", "task": ["a", "b"], "seed": 0, "budget": 5,
                          "regret": [0.1, 0.2]})
    assert paired_differences(alone, "m").empty  # nothing to compare with


def test_min_max_regret_as_documented_at_equal_and_swapped_bounds():
    scores = [0.5, 0.8, 0.9, np.nan, -np.inf]
    assert min_max_regret(scores, best=0.8, worst=0.6).tolist() == [1.0, 0.0, 0.0, 1.0, 1.0]
    # best == worst: every finite score 0 (a score below used to get best - score, 0.3)
    assert min_max_regret(scores, best=0.8, worst=0.8).tolist() == [0.0, 0.0, 0.0, 1.0, 1.0]
    with pytest.raises(ValueError, match="best must be >= worst"):
        min_max_regret(scores, best=0.6, worst=0.8)  # swapped: silently 0.1 and 0 before
    for best, worst in [(np.nan, 0.6), (0.8, np.nan), (0.8, -np.inf), (np.inf, 0.6)]:
        # a NaN bound gave every score regret 0, a perfect result, without a word
        with pytest.raises(ValueError, match="must be finite numbers"):
            min_max_regret(scores, best=best, worst=worst)


def test_paired_refuses_a_method_without_results():
    """A mistyped or not-applicable method gave an empty table, as if it had nothing to
    compare with."""
    from metaopt.benchmark import SurrogateResult

    curves = pd.DataFrame({"method": ["random", "metaopt"], "task": "a", "seed": 0,
                           "budget": 5, "regret": [0.3, 0.1], "rank": [2.0, 1.0]})
    result = SurrogateResult(curves, ["random", "metaopt", "flaml"],
                             {"flaml": "FLAML is not installed"})
    assert result.paired("metaopt").loc[(5, "random"), "won/tied/lost"] == "1/0/0"
    with pytest.raises(ValueError, match=r"'metaopt ' is not among .*: random, metaopt$"):
        result.paired("metaopt ")
    with pytest.raises(ValueError, match="could not run .FLAML is not installed"):
        result.paired("flaml")


def test_seeded_results_reproduce_and_table_shape(tabrepo_dir, matrix):
    keys = list(matrix.tasks.index[:12])
    kwargs = dict(cv=3, methods=["tpe", "knn", "rgpe", "flaml"], budgets=[1, 3, 8], seeds=2,
                  tasks=keys, progress=False)
    a, b = tabrepo_benchmark(tabrepo_dir, **kwargs), tabrepo_benchmark(tabrepo_dir, **kwargs)
    pd.testing.assert_frame_equal(a.curves, b.curves)
    table = a.table()
    assert list(table.columns) == ["tpe", "knn", "rgpe", "flaml"]
    assert list(table.index) == [1, 3, 8]
    assert table.loc[8, "flaml"] == "n/a" or "(" in table.loc[8, "flaml"]
    # best-so-far regret never increases with the budget
    wide = a.curves.pivot_table(index=["method", "task", "seed"], columns="budget",
                                values="regret")
    steps = wide.diff(axis=1).iloc[:, 1:]  # NaN where flaml has no value
    assert (steps.fillna(0) <= 1e-12).all().all()


def test_cmaes_without_its_package_is_not_applicable(tabrepo_dir, matrix, monkeypatch):
    """The default methods include cmaes, whose package only the peers and dev extras
    install: without it, Optuna's CmaEsSampler raised ModuleNotFoundError at its first
    suggestion, ending the whole benchmark with a traceback and the finished runs lost.
    It is now n/a, with what to install, and the other methods' results are kept."""
    monkeypatch.setitem(sys.modules, "cmaes", None)  # `import cmaes` raises ImportError
    result = tabrepo_benchmark(tabrepo_dir, cv=2, methods=["random", "cmaes"], budgets=[1, 3],
                               seeds=1, tasks=list(matrix.tasks.index[:6]), progress=False)
    assert "pip install cmaes" in result.not_applicable["cmaes"]
    assert set(result.curves["method"]) == {"random"} and len(result.curves) == 12


def test_source_weighting_after_warm_start_starts_as_the_portfolio(matrix):
    train = matrix.subset(matrix.tasks.index[2:])
    params = list(matrix.configs["params"])
    mf = pd.Series(np.nan, index=list(metafeatures.FEATURE_NAMES))
    picks = {}
    for name in ("portfolio", "rgpe", "rgpe-warm"):
        method = make_method(name)
        method.fit(train)
        for task in (0, 1):  # two held-out tasks
            problem = Problem("t", TABREPO_SPACE, "classification", mf, 6,
                              candidates=params, scores=matrix.scores[task])
            method.run(problem, 6, seed=0)
            picks[name, task] = problem.history
    assert picks["rgpe-warm", 0][:3] == picks["portfolio", 0][:3] == picks["rgpe-warm", 1][:3]
    assert picks["rgpe", 0][1:3] != picks["portfolio", 0][1:3]  # weighting from the 2nd pick
    assert picks["rgpe-warm", 0][3:] != picks["rgpe-warm", 1][3:]  # then each task its own
    with pytest.raises(ValueError, match="n_warmup"):
        make_method("rgpe", n_warmup=-1)


def test_registered_method_is_used(tabrepo_dir, matrix):
    class First:
        name = "first"

        def fit(self, train):
            self.n_train = train.n_tasks

        def run(self, problem, budget, seed):
            for i in range(budget):
                problem.evaluate(i)
            return problem.history

    register_method("first", First)
    result = tabrepo_benchmark(tabrepo_dir, cv=2, methods=["first"], budgets=[2], seeds=1,
                               tasks=list(matrix.tasks.index[:4]), progress=False)
    assert len(result.curves) == 4


def test_bad_input(tabrepo_dir):
    with pytest.raises(ValueError, match="unknown method 'nope'"):
        make_method("nope")
    # a misspelt or capitalised method named no close one (benchmark run's methods did)
    for typo, meant in (("protfolio", "portfolio"), ("TPE", "tpe"), ("rgpe_warm", "rgpe-warm")):
        with pytest.raises(ValueError, match=f"; did you mean '{meant}'\\?$"):
            make_method(typo)
    assert make_method("metaopt").name == "metaopt"  # registered by metaopt.ranker
    with pytest.raises(ValueError, match="pass cv"):
        tabrepo_benchmark(tabrepo_dir, tabrepo_dir, methods=["random"], progress=False)
    with pytest.raises(ValueError, match="cv must be"):
        task_folds(["a", "b"], 3)
    with pytest.raises(ValueError, match="at least one method"):  # --methods ","
        tabrepo_benchmark(tabrepo_dir, cv=2, methods=[], tasks=["openml-task/2073",
                          "openml-task/3945"], progress=False)


def test_methods_budgets_and_seeds_are_checked_before_the_data_are_read(tmp_path):
    """A misspelt --methods, --budgets 0 or --seeds 0 was refused only once the
    directories were read (after their warnings) or YAHPO's training design evaluated."""
    missing = tmp_path / "missing"
    for options, message in (({"methods": ["protfolio"]}, "did you mean 'portfolio'"),
                             ({"methods": ["random"], "budgets": [0, 3]}, "budgets must"),
                             ({"methods": ["random"], "seeds": 0}, "seeds must")):
        with pytest.raises(ValueError, match=message):
            tabrepo_benchmark(missing, missing / "test", progress=False, **options)
        with pytest.raises(ValueError, match=message):
            yahpo_benchmark("lcbench", missing, progress=False, **options)


def test_yahpo_small(yahpo_dir):
    import json

    splits = json.loads((yahpo_dir / "splits.json").read_text())["rbv2_rpart"]
    result = yahpo_benchmark(
        "rbv2_rpart", yahpo_dir, train_instances=splits["train"][:4],
        test_instances=splits["valid"][:2], methods=["random", "portfolio", "rgpe", "flaml"],
        budgets=[1, 5], seeds=1, n_train_configs=32, n_reference=256, progress=False)
    assert set(result.curves["method"]) == {"random", "portfolio", "rgpe"}
    assert "flaml" in result.not_applicable
    assert result.curves["regret"].between(0, 1).all()
    with pytest.raises(ValueError, match="overlap"):
        yahpo_benchmark("rbv2_rpart", yahpo_dir, train_instances=splits["train"][:2],
                        test_instances=splits["train"][:1], methods=["random"], progress=False)


def test_yahpo_cv_tests_each_training_instance_once(yahpo_dir):
    import json

    train = json.loads((yahpo_dir / "splits.json").read_text())["rbv2_rpart"]["train"][:6]
    result = yahpo_benchmark(
        "rbv2_rpart", yahpo_dir, train_instances=train, cv=3, methods=["random", "portfolio"],
        budgets=[1, 3], seeds=1, n_train_configs=16, n_reference=64, progress=False)
    assert sorted(result.curves["task"].unique()) == sorted(f"rbv2_rpart/{i}" for i in train)
    assert len(result.curves) == 6 * 2 * 2  # each instance tested in one fold only
    assert result.curves["regret"].between(0, 1).all()
    with pytest.raises(ValueError, match="cv must not be given with test_instances"):
        yahpo_benchmark("rbv2_rpart", yahpo_dir, train_instances=train, test_instances=train[:1],
                        cv=2, methods=["random"], progress=False)


def test_yahpo_metaopt_ranker_trains_on_the_surrogate_space(yahpo_dir):
    """YAHPO spaces are not registered by name: the matrix carries its space object."""
    import json

    from metaopt.benchmark import register_method
    from metaopt.benchmark._methods import MetaOpt

    register_method("metaopt-tiny", lambda: MetaOpt(iterations=5, n_ensemble=1))
    splits = json.loads((yahpo_dir / "splits.json").read_text())["rbv2_rpart"]
    result = yahpo_benchmark(
        "rbv2_rpart", yahpo_dir, train_instances=splits["train"][:4],
        test_instances=splits["valid"][:1], methods=["metaopt-tiny"], budgets=[1, 5],
        seeds=1, n_train_configs=32, n_reference=128, progress=False)
    assert set(result.curves["method"]) == {"metaopt-tiny"}
    assert result.curves["regret"].between(0, 1).all()


def test_metaopt_method_trains_without_a_bar_of_its_own(tabrepo_matrix, split, capsys):
    """The runner's bar counts the jobs; the ranker's per-member bars (on by default)
    printed inside it, even with --no-progress."""
    from metaopt.benchmark._methods import MetaOpt

    MetaOpt(iterations=5, n_ensemble=1).fit(tabrepo_matrix.subset(split[0]))
    assert capsys.readouterr().err == ""


def test_metaopt_method_skips_failed_configurations_and_is_seeded(tabrepo_matrix, split):
    """A knowledge-base matrix marks failed fits -inf: metaopt must not learn from them
    (the ranker refuses non-finite scores) nor propose them again; runs are seeded."""
    from metaopt.benchmark._methods import MetaOpt

    method = MetaOpt(iterations=5, n_ensemble=1)
    method.fit(tabrepo_matrix.subset(split[0]))
    test = tabrepo_matrix.subset(split[1][:1])
    test.scores[0, ::2] = -np.inf  # every other configuration failed on this task
    histories = []
    for _ in range(2):
        problem = matrix_tasks(test, TABREPO_SPACE)[0].make(12)
        method.run(problem, 12, seed=3)
        histories.append(list(problem.history))
    assert len(histories[0]) == 12 == len(set(map(str, histories[0])))
    assert histories[0] == histories[1]


@pytest.mark.parametrize("name", ["portfolio", "knn", "rgpe", "rgpe-warm"])
def test_training_config_methods_stop_when_their_configurations_run_out(matrix, name):
    """YAHPO's training design (--n-train-configs) may hold fewer configurations than the
    budget: these methods propose each once and stop, as a method that runs out of
    configurations does (a ValueError ended the whole benchmark)."""
    import dataclasses

    train = matrix.subset(matrix.tasks.index[2:])
    train = dataclasses.replace(train, configs=train.configs.iloc[:6], scores=train.scores[:, :6])
    method = make_method(name)
    method.fit(train)
    problem = matrix_tasks(matrix.subset(matrix.tasks.index[:1]), TABREPO_SPACE)[0].make(10)
    method.run(problem, 10, seed=0)
    assert sorted(problem.history) == list(range(6))  # every training configuration, once


@pytest.mark.filterwarnings("ignore:.*lack results for some:UserWarning")
def test_metaopt_method_learns_the_candidate_evaluated_not_the_pick_it_snapped(
        tabrepo_matrix, split):
    """A test task lacking a portfolio pick evaluates another candidate in its place: the
    meta-model was told the pick scored that candidate's score (2 of 9 observations on a
    task lacking the first two picks), and could propose the evaluated one again."""
    from metaopt.benchmark._methods import MetaOpt
    from metaopt.ranker._metamodel import config_key

    method = MetaOpt(iterations=5, n_ensemble=1)
    method.fit(tabrepo_matrix.subset(split[0]))
    picks = {config_key(p) for p in method.model_.portfolio.suggest(2)["params"]}
    test = tabrepo_matrix.subset(split[1][:1])
    lacks = [config_key(p) in picks for p in test.configs["params"]]
    assert sum(lacks) == 2
    test.scores[0, lacks] = np.nan  # the task has no result for them
    problem = matrix_tasks(test, TABREPO_SPACE)[0].make(6)
    told = []
    propose = method.model_.propose

    def spy(meta_features, observed, **kwargs):  # what the model adapts on
        told[:] = observed
        return propose(meta_features, observed, **kwargs)

    method.model_.propose = spy
    method.run(problem, 6, seed=0)
    evaluated = [config_key(problem.candidates[i]) for i in problem.history]
    assert [config_key(p) for p, _ in told] == evaluated[:len(told)]
    assert [s for _, s in told] == problem.trace[:len(told)]


def test_cv_over_fewer_than_two_tasks_says_so():
    """Leave-tasks-out CV of a directory with one task said 'cv must be in [2, 1]', an
    empty range; it now says that it must split at least 2 tasks."""
    with pytest.raises(ValueError, match=r"^cv must split at least 2 tasks \(one to hold out, one "
                                         r"to train on\), got 1: openml-task/1$"):
        task_folds(["openml-task/1"], 2)


@pytest.mark.filterwarnings("ignore:.*lack results for some:UserWarning")
def test_metaopt_warm_start_moves_past_a_pick_the_task_lacks(tabrepo_matrix, split):
    """On a test task lacking the first portfolio pick, the pick was snapped to its
    nearest candidate and proposed again at every step: the whole warm start went to
    the pick's neighbours and never reached picks 2 and 3. It is now proposed once."""
    from metaopt.benchmark._methods import GreedyPortfolio, MetaOpt
    from metaopt.ranker._metamodel import config_key

    method, portfolio = MetaOpt(iterations=5, n_ensemble=1), GreedyPortfolio()
    method.fit(tabrepo_matrix.subset(split[0]))
    portfolio.fit(tabrepo_matrix.subset(split[0]))
    first = config_key(method.model_.portfolio.suggest(1)["params"][0])
    test = tabrepo_matrix.subset(split[1][:1])
    test.scores[0, [config_key(p) == first for p in test.configs["params"]]] = np.nan
    ours, theirs = (matrix_tasks(test, TABREPO_SPACE)[0].make(3) for _ in range(2))
    method.run(ours, 3, seed=0)
    portfolio.run(theirs, 3, seed=0)
    assert ours.history[:2] == theirs.history[:2]  # the snapped pick 1, then pick 2


def test_a_progress_bar_written_to_a_log_is_redrawn_every_30_seconds(tabrepo_dir, capsys,
                                                                     monkeypatch):
    """A bar on a stderr that is not a terminal (a log file, CI) was redrawn every 0.1 s,
    filling the log with carriage-return updates; now every 30 s (a clock here that moves
    a second per reading: one redraw per run before)."""
    import tqdm.std

    clock = iter(range(10**6))
    monkeypatch.setattr(tqdm.std, "time", lambda: float(next(clock)))
    monkeypatch.delenv("TQDM_MININTERVAL", raising=False)
    monkeypatch.delenv("TQDM_MAXINTERVAL", raising=False)
    result = tabrepo_benchmark(tabrepo_dir, cv=2, methods=["random"], budgets=[1], seeds=2,
                               progress=True)
    n_runs = len(result.curves.groupby(["task", "seed"]))
    redraws = capsys.readouterr().err.count("\r")
    assert n_runs > 100 and redraws <= n_runs / 10, redraws
