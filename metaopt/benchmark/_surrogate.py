"""HPO-B-style benchmarks on precomputed (TabRepo) and surrogate (YAHPO) objectives.

Methods are meta-trained on the training tasks only, then each runs on every test
task for the largest budget; the best-so-far score after ``b`` evaluations gives the
curve at every budget ``b``.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.model_selection import KFold

from metaopt import metafeatures
from metaopt._checks import check_seed, repeated
from metaopt._progress import progress_bar
from metaopt._signals import hold_signals
from metaopt._warnings import warn
from metaopt.benchmark._defaults import DEFAULT_METHODS
from metaopt.benchmark._methods import NotApplicable, make_method
from metaopt.benchmark._metrics import (
    REGRET_RANGE,
    add_ranks,
    best_so_far,
    min_max_regret,
    paired_differences,
    summary_means,
    summary_table,
)
from metaopt.benchmark._problem import Problem
from metaopt.benchmark._samplers import quiet_optuna
from metaopt.kb._design import stable_seed
from metaopt.ranker._matrix import MF_PREFIX, PerformanceMatrix

DEFAULT_BUDGETS = (1, 3, 5, 10, 25, 50)


@dataclass
class TestTask:
    """How to build a fresh :class:`Problem` for one test task, and its score range."""

    key: str
    make: Callable[[int], Problem]  # budget -> Problem
    reference: np.ndarray  # scores that fix the task's best and worst (with all observed)


@dataclass
class SurrogateResult:
    """Curves of a surrogate benchmark.

    Each parameter is kept as the attribute of the same name.

    Parameters
    ----------
    curves : pandas.DataFrame
        Tidy: ``method, task, seed, budget, regret, rank`` (regret normalized per task,
        rank among the methods on the same task, seed and budget; 1 is best).
    methods : list of str
        Names of the methods compared (those in ``not_applicable`` included).
    not_applicable : dict of str to str, default={}
        ``method -> reason`` for the methods that could not run.
    interrupted : bool, default=False
        The run was stopped (Ctrl-C; under ``metaopt benchmark``, SIGTERM too) before
        its end: ``curves`` holds the runs that finished, and the table and paired
        comparisons only the (task, seed) runs that every method finished.
    """

    curves: pd.DataFrame
    methods: list[str]
    not_applicable: dict[str, str] = field(default_factory=dict)
    interrupted: bool = False

    def comparable(self) -> pd.DataFrame:
        """``curves`` restricted to the (task, seed) runs that every method that could run
        (not :attr:`not_applicable`) finished, ranks recomputed among them: all of
        ``curves`` unless interrupted (a method interrupted before its first run leaves
        none).

        Returns
        -------
        pandas.DataFrame
            The columns of ``curves``.
        """
        if not self.interrupted:
            return self.curves
        ran = set(self.methods) - set(self.not_applicable)
        runs = self.curves.groupby(["task", "seed"])["method"].transform("nunique")
        every = runs == len(ran)
        if every.all():
            return self.curves
        return add_ranks(self.curves[every].drop(columns="rank"), ["task", "seed", "budget"])

    def table(self) -> pd.DataFrame:
        """Budgets x methods, ``mean regret (mean rank)``; ``n/a`` for methods that can't run.

        Returns
        -------
        pandas.DataFrame
            Indexed by budget, one column per method of ``methods`` in their order, cells
            text (each task counts once: its seeds are averaged first); :meth:`means`
            gives the numbers.
        """
        table = summary_table(self.comparable(), methods=self.methods)
        for name in self.methods:
            if name not in table.columns:
                table[name] = "n/a"
        return table.reindex(columns=self.methods).fillna("n/a")

    def means(self) -> pd.DataFrame:
        """The numbers of :meth:`table`: each method's mean normalized regret and mean
        rank at each budget (each task counts once: its seeds are averaged first).

        Returns
        -------
        pandas.DataFrame
            Indexed by ``(budget, method)``, budgets ascending and methods in the order
            of ``methods`` (those in ``not_applicable`` have no rows); columns ``regret``
            and ``rank``. ``means().xs(10, level="budget")["regret"].idxmin()`` is the
            best method after 10 evaluations.
        """
        means = summary_means(self.comparable()).swaplevel()
        order = {name: i for i, name in enumerate(self.methods)}
        return means.sort_index(level=["budget", "method"], sort_remaining=False, key=lambda
                                level: level.map(order) if level.name == "method" else level)

    def paired(self, ours: str) -> pd.DataFrame:
        """``ours`` against every other method at each budget: mean regret difference
        (negative: ``ours`` is lower) with its 95 % interval over tasks (clipped to
        [-1, 1], the range of a regret difference), and the (task,
        seed) runs won / tied / lost (:func:`~metaopt.benchmark.paired_differences`).
        ``ValueError`` for a method without results (saying why when it could not run).

        Parameters
        ----------
        ours : str
            A method's name.

        Returns
        -------
        pandas.DataFrame
        """
        if ours in self.not_applicable:
            raise ValueError(f"{ours!r} has no results: it could not run "
                             f"({self.not_applicable[ours]})")
        return paired_differences(self.comparable(), ours, bounds=REGRET_RANGE)


def _check_request(methods: Sequence[str], budgets: Sequence[int], seeds: int) -> list[int]:
    """The sorted budgets; ``ValueError`` for no, a repeated or an unknown method, or
    budgets or seeds below 1 (checked before the data are read)."""
    budgets = sorted({int(b) for b in budgets})
    if not budgets or budgets[0] < 1:
        raise ValueError("budgets must be positive integers, got "
                         + (", ".join(map(str, budgets)) or "none"))
    if seeds < 1:
        raise ValueError(f"seeds must be >= 1, got {seeds}")
    if not methods:
        raise ValueError("methods must name at least one method (--methods: comma-separated, "
                         f"e.g. {','.join(DEFAULT_METHODS[:3])})")
    twice = repeated(methods)
    if twice:
        raise ValueError(f"methods name {', '.join(map(repr, twice))} more than once")
    for name in methods:  # an unknown name fails now, not after the others have run
        make_method(name)
    return budgets


@quiet_optuna()
def evaluate_methods(
    splits: Sequence[tuple[PerformanceMatrix, Sequence[TestTask]]],
    methods: Sequence[str],
    budgets: Sequence[int],
    seeds: int,
    *,
    progress: bool = True,
) -> SurrogateResult:
    """Meta-train each method on each split's training matrix and run it on its test tasks.

    Seeds are ``0 .. seeds-1``; a method's run on a task gets ``stable_seed(seed, task)``
    so that tasks do not share one random order. A method that raises
    :class:`NotApplicable` in ``fit`` is reported, not run. Ctrl-C (any
    KeyboardInterrupt: ``metaopt benchmark`` turns SIGTERM into one) stops the run and
    returns the runs finished so far (``interrupted``); the run in flight is lost. One
    that arrives once every run has finished loses none: the result is not interrupted.
    Under ``metaopt benchmark``, once the runs are finished or interrupted a signal is
    only recorded until the command has written them: a second signal loses nothing.
    """
    budgets = _check_request(methods, budgets, seeds)
    horizon = budgets[-1]
    traces: list[dict] = []
    references: dict[str, list[np.ndarray]] = {}
    not_applicable: dict[str, str] = {}
    n_runs = len(methods) * sum(len(tasks) for _, tasks in splits) * seeds
    n_skipped = 0  # the runs of n_runs that methods found not applicable do not have
    interrupted = False
    short: set[str] = set()  # test tasks with fewer configurations than the horizon
    with progress_bar(total=n_runs, disable=not progress, desc="surrogate benchmark") as bar:
        try:
            for train, tasks in splits:
                for name in methods:
                    method = make_method(name)
                    try:
                        method.fit(train)
                    except NotApplicable as exc:
                        not_applicable[name] = str(exc)
                        n_skipped += len(tasks) * seeds
                        bar.update(len(tasks) * seeds)
                        continue
                    for task in tasks:
                        references.setdefault(task.key, [task.reference])
                        for seed in range(seeds):
                            problem = task.make(horizon)
                            if problem.budget < horizon:
                                short.add(task.key)
                            # a seed per (seed, task): random orders are not shared by tasks
                            method.run(problem, problem.budget, stable_seed(seed, task.key))
                            # the task's bounds first: a signal between the two appends
                            # then keeps no run whose scores the bounds leave out
                            references[task.key].append(np.asarray(problem.trace))
                            traces.append({"method": name, "task": task.key, "seed": seed,
                                           "trace": problem.trace})
                            bar.update()
            hold_signals()  # the runs are over: a signal no longer loses them (see below)
        except KeyboardInterrupt:
            # under a command's StopGuard, a second signal is only recorded from now on:
            # the runs finished are kept, and the command writes them
            hold_signals()
            # a signal after the last run, before the hold above: no run is missing
            interrupted = len(traces) < n_runs - n_skipped
            if interrupted:
                # "of at most": the count includes the runs of methods that turn out not
                # applicable in a split not reached yet
                warn(f"interrupted after {len(traces)} finished runs (of at most "
                     f"{n_runs}): the result holds them", UserWarning)
    if short:
        warn(f"{len(short)} test task(s) have fewer configurations than the largest "
             f"budget {horizon} (e.g. {sorted(short)[0]}): their runs end once every "
             "configuration is evaluated, and keep their best at larger budgets",
             UserWarning)
    return SurrogateResult(_curves(traces, references, budgets), list(methods),
                           not_applicable, interrupted)


def _curves(traces: list[dict], references: dict[str, list[np.ndarray]],
            budgets: list[int]) -> pd.DataFrame:
    bounds = {}
    for key, arrays in references.items():
        values = np.concatenate(arrays)
        values = values[np.isfinite(values)]
        bounds[key] = (values.max(), values.min())
    rows = []
    for t in traces:
        regret = min_max_regret(best_so_far(t["trace"]), *bounds[t["task"]])
        if not len(regret):  # no evaluation, no incumbent: the worst regret (as a failure)
            regret = np.ones(1)
        # a method that ran out of configurations (FLAML's zero-shot list) keeps its best
        # so far: every cell of a method then covers every task
        rows += [{"method": t["method"], "task": t["task"], "seed": t["seed"], "budget": b,
                  "regret": float(regret[min(b, len(regret)) - 1])} for b in budgets]
    frame = pd.DataFrame(rows, columns=["method", "task", "seed", "budget", "regret"])
    return add_ranks(frame, ["task", "seed", "budget"])


# ------------------------------------------------------------------------ TabRepo
def _meta_features(row: pd.Series) -> pd.Series:
    values = {name: row.get(MF_PREFIX + name, np.nan) for name in metafeatures.FEATURE_NAMES}
    return pd.Series(values, dtype=float)


def matrix_tasks(matrix: PerformanceMatrix, space) -> list[TestTask]:
    """One test task per row of a matrix; its candidates are the configurations it has
    results for (a failed one, ``-inf``, is a candidate that scores worst)."""
    params = list(matrix.configs["params"])
    out, incomplete = [], []
    for i, (key, row) in enumerate(matrix.tasks.iterrows()):
        has = ~np.isnan(matrix.scores[i])
        if not has.all():
            incomplete.append(key)
        candidates = [p for p, keep in zip(params, has, strict=True) if keep]
        scores = matrix.scores[i][has]

        def make(budget: int, key=key, row=row, candidates=candidates,
                 scores=scores) -> Problem:
            # a task with fewer configurations than the budget: a run ends once it has
            # evaluated them all (its best is then the task's best)
            return Problem(key, space, row["task"], _meta_features(row),
                           min(budget, len(candidates)), candidates=candidates,
                           scores=scores)

        out.append(TestTask(key, make, scores))
    if incomplete:
        warn(f"{len(incomplete)} test task(s) lack results for some of the "
             f"{len(params)} configurations (e.g. {incomplete[0]}): each is run on "
             "the configurations it has")
    return out


def load_tabrepo_matrix(path: str | os.PathLike, *,
                        min_coverage: float = 0.5) -> PerformanceMatrix:
    """The TabRepo-layout directory ``path`` as a :class:`PerformanceMatrix` (the
    configurations with results on at least ``min_coverage`` of its tasks)."""
    from metaopt.kb import TABREPO_SPACE, load_tabrepo

    with load_tabrepo(path) as kb:
        try:
            return PerformanceMatrix.from_frame(kb.to_frame(), TABREPO_SPACE.name,
                                                min_coverage=min_coverage)
        except ValueError as exc:  # e.g. no task with a metric_error: which directory?
            raise ValueError(f"{os.fspath(path)}: {exc}") from None


def task_folds(keys: Sequence[str], cv: int, seed: int = 0) -> list[tuple[list, list]]:
    """Leave-tasks-out K-fold: ``(train_keys, test_keys)`` per fold, seeded."""
    if len(keys) < 2:
        raise ValueError(f"cv must split at least 2 tasks (one to hold out, one to train on), "
                         f"got {len(keys)}: {_first_ten(list(keys))}")
    if not 2 <= cv <= len(keys):
        raise ValueError(f"cv must be in [2, {len(keys)}] (the number of tasks), got {cv}")
    check_seed(seed, "cv_seed", "the assignment of tasks to folds")
    keys = list(keys)
    folds = KFold(n_splits=cv, shuffle=True, random_state=seed).split(keys)
    return [([keys[i] for i in tr], [keys[i] for i in te]) for tr, te in folds]


def tabrepo_benchmark(
    train: str | os.PathLike,
    test: str | os.PathLike | None = None,
    *,
    cv: int | None = None,
    methods: Sequence[str] = DEFAULT_METHODS,
    budgets: Sequence[int] = DEFAULT_BUDGETS,
    seeds: int = 5,
    cv_seed: int = 0,
    tasks: Sequence[str] | None = None,
    progress: bool = True,
) -> SurrogateResult:
    """Benchmark methods on TabRepo-layout directories.

    Parameters
    ----------
    train : path
        Directory (``results.csv``, ``configs.json``, ``task_metadata.csv``) to
        meta-train on.
    test : path, optional
        Directory of the test tasks (any directory of the same layout). Omit it, or
        give the same directory, together with ``cv`` for leave-tasks-out CV.
    cv : int, optional
        Number of folds of leave-tasks-out cross-validation over ``train``'s tasks.
    methods : list of str
        Names of :func:`metaopt.benchmark.list_methods` (default: random, tpe, gp, cmaes,
        portfolio, knn, rgpe, flaml, metaopt; one that cannot run here (FLAML not
        installed, no meta-features...) is listed in ``not_applicable`` of the result
        instead).
    budgets : list of int
        Evaluations after which each method's best is recorded; every run lasts
        ``max(budgets)`` evaluations.
    seeds : int
        Runs per (method, task), each seeded ``stable_seed(seed, task)``.
    cv_seed : int
        Seed of the assignment of tasks to the ``cv`` folds.
    tasks : list of str, optional
        Restrict the tasks used (keys ``openml-task/<tid>``), e.g. for quick runs. With a
        separate ``test``, keys of either directory restrict that directory's tasks; one
        whose tasks none of them names is used whole.
    progress : bool
        Show a progress bar.

    Returns
    -------
    SurrogateResult
    """
    from metaopt.kb import TABREPO_SPACE
    from metaopt.kb._tabrepo import check_tabrepo_dir

    _check_request(methods, budgets, seeds)
    # a typo is no reason to ask for --cv
    for directory in {d for d in (train, test) if d is not None}:
        check_tabrepo_dir(directory)
    same = test is None or os.path.realpath(test) == os.path.realpath(train)
    if same and cv is None:
        raise ValueError("train and test are the same directory: pass cv=K (--cv K on the "
                         "command line: leave-tasks-out K-fold) so that no method is tested "
                         "on a task it trained on")
    if not same and cv is not None:
        raise ValueError("cv (--cv) is only used when test is omitted or the same directory "
                         "as train")
    matrix = load_tabrepo_matrix(train)
    # every configuration of a test task counts, however few other tasks have it
    if same:
        if tasks is not None:
            matrix = matrix.subset(tasks)
        held_out = load_tabrepo_matrix(train, min_coverage=0.0)
        assert cv is not None  # refused above without it
        splits = [(matrix.subset(tr), matrix_tasks(held_out.subset(te), TABREPO_SPACE))
                  for tr, te in task_folds(list(matrix.tasks.index), cv, cv_seed)]
    else:
        assert test is not None  # (else same)
        held_out = load_tabrepo_matrix(test, min_coverage=0.0)
        if tasks is not None:
            matrix, held_out = _named_tasks(list(tasks), matrix, held_out)
        overlap = sorted(set(held_out.tasks.index) & set(matrix.tasks.index))
        if overlap:
            raise ValueError(f"test ({test}) has {len(overlap)} task(s) that are also in "
                             f"train ({train}): {_first_ten(overlap)}; a method meta-trained "
                             "on a task would be tested on it: remove them from one of the "
                             "two directories, or pass only train with cv=K (--cv K) for a "
                             "leave-tasks-out split")
        unseen = sorted(set(held_out.tasks["task"]) - set(matrix.tasks["task"]))
        if unseen:
            warn(f"test has {' and '.join(unseen)} tasks but train has none: the "
                 "methods meta-trained on train see a task type they never saw",
                 UserWarning)
        splits = [(matrix, matrix_tasks(held_out, TABREPO_SPACE))]
    return evaluate_methods(splits, methods, budgets, seeds, progress=progress)


def _first_ten(keys: list[str]) -> str:
    """Up to ten task keys, comma-separated, saying how many more there are."""
    more = f" and {len(keys) - 10} more" if len(keys) > 10 else ""
    return ", ".join(keys[:10]) + more


def _named_tasks(tasks: list[str], train: PerformanceMatrix, test: PerformanceMatrix
                 ) -> tuple[PerformanceMatrix, PerformanceMatrix]:
    """``train`` and ``test`` restricted to the keys of ``tasks`` each holds, a matrix
    holding none of them whole; ``ValueError`` for keys of neither."""
    unknown = [t for t in tasks if t not in train.tasks.index and t not in test.tasks.index]
    if unknown:
        raise ValueError("tasks names keys of neither train nor test: " + _first_ten(unknown))

    def named(matrix: PerformanceMatrix) -> PerformanceMatrix:
        keys = [t for t in tasks if t in matrix.tasks.index]
        return matrix.subset(keys) if keys else matrix

    return named(train), named(test)


# -------------------------------------------------------------------------- YAHPO
def _instances(text: Sequence[str] | None, name: str) -> list[str] | None:
    """Instance ids as strings; ``ValueError`` naming ``name`` when none is given."""
    if text is not None and not len(text):
        raise ValueError(f"{name} names no instance: give instance ids, or none for the "
                         "default split")
    return None if text is None else [str(i) for i in text]


def yahpo_benchmark(
    scenario: str,
    data: str | os.PathLike,
    *,
    train_instances: Sequence[str] | None = None,
    test_instances: Sequence[str] | None = None,
    methods: Sequence[str] = DEFAULT_METHODS,
    budgets: Sequence[int] = DEFAULT_BUDGETS,
    seeds: int = 5,
    n_train_configs: int = 256,
    n_reference: int = 10_000,
    cv: int | None = None,
    cv_seed: int = 0,
    progress: bool = True,
) -> SurrogateResult:
    """Benchmark methods on a YAHPO Gym scenario.

    Meta-training sees a shared Sobol design of ``n_train_configs`` configurations on
    each training instance (default: the ``train`` split). Test instances default to the
    ``valid`` split. A test instance's regret is normalized by the best and worst of a
    fixed Sobol sample of ``n_reference`` configurations together with everything any
    method evaluated on it. With ``cv=K`` (and no ``test_instances``) the test instances
    are the training instances themselves, by leave-instances-out K-fold
    (:func:`task_folds`, seeded by ``cv_seed``): settings can be chosen without looking
    at the valid split.

    Parameters
    ----------
    scenario : str
        ``lcbench``, ``rbv2_xgboost``, ``rbv2_rpart`` (a scenario of ``data``).
    data : path
        YAHPO Gym data directory (the scenario's ONNX surrogate, its ``splits.json``).
    train_instances, test_instances : list of str, optional
        Instances to meta-train on and to test on; the reserved ``test`` split is used
        only when named here.
    methods : list of str
        As in :func:`tabrepo_benchmark`.
    budgets : list of int
        As in :func:`tabrepo_benchmark`.
    seeds : int
        As in :func:`tabrepo_benchmark`.
    n_train_configs, n_reference : int
        Sizes of the training design and of the reference sample (above).
    cv : int, optional
        Leave-instances-out folds over the training instances (above).
    cv_seed : int
        Seed of the assignment of the training instances to the ``cv`` folds.
    progress : bool
        Show a progress bar.

    Returns
    -------
    SurrogateResult
    """
    from metaopt.kb import YahpoBenchmark

    _check_request(methods, budgets, seeds)
    train_instances = _instances(train_instances, "train_instances")
    test_instances = _instances(test_instances, "test_instances")
    if n_reference < 1 or n_train_configs < 2:
        raise ValueError(f"n_reference must be >= 1 and n_train_configs >= 2, got "
                         f"{n_reference} and {n_train_configs}")
    train_bench = YahpoBenchmark(scenario, data, split="train")
    if train_instances is not None:
        train_bench = YahpoBenchmark(scenario, data, split="train+valid")
        _restrict(train_bench, train_instances, "train_instances")
    elif not train_bench.instances:
        raise ValueError(f"{os.fspath(data)}/splits.json gives {scenario} no train "
                         "instances: list them there or give train_instances")
    if cv is not None:
        if test_instances is not None:
            raise ValueError("cv must not be given with test_instances: it tests on folds of "
                             "the training instances")
        splits = []
        for train_keys, test_keys in task_folds(train_bench.instances, cv, cv_seed):
            fold_train, fold_test = copy.copy(train_bench), copy.copy(train_bench)
            fold_train.instances, fold_test.instances = train_keys, test_keys
            splits.append((PerformanceMatrix.from_yahpo(fold_train, n_configs=n_train_configs),
                           yahpo_test_tasks(fold_test, n_reference)))
        return evaluate_methods(splits, methods, budgets, seeds, progress=progress)
    test_bench = YahpoBenchmark(scenario, data, split="valid")
    if test_instances is not None:  # any instances of the scenario, reserved ones included
        unknown = sorted(set(test_instances) - set(test_bench.all_instances))
        if unknown:
            raise ValueError(f"test_instances names no instance of {scenario}: "
                             f"{', '.join(unknown)}")
        test_bench.split = "test_instances"
        wanted = set(test_instances)
        test_bench.instances = [i for i in test_bench.all_instances if i in wanted]
    elif not test_bench.instances:
        raise ValueError(f"{os.fspath(data)}/splits.json gives {scenario} no valid "
                         "instances: list them there or give test_instances")
    overlap = sorted(set(train_bench.instances) & set(test_bench.instances))
    if overlap:
        raise ValueError(f"test_instances overlap train_instances: {', '.join(overlap)}")
    train = PerformanceMatrix.from_yahpo(train_bench, n_configs=n_train_configs)
    tasks = yahpo_test_tasks(test_bench, n_reference)
    return evaluate_methods([(train, tasks)], methods, budgets, seeds, progress=progress)


def yahpo_test_tasks(bench, n_reference: int = 10_000) -> list[TestTask]:
    """One task per instance of the YahpoBenchmark ``bench``: the surrogate's score as
    objective, a fixed Sobol sample of ``n_reference`` configurations as regret reference."""
    from metaopt.kb._design import design

    space, target = bench.space, bench.score_target
    reference = [c.params for c in design(space, "classification", n_reference, seed=0)]
    no_features = pd.Series(np.nan, index=list(metafeatures.FEATURE_NAMES))

    def objective(instance: str) -> Callable[[list[dict]], np.ndarray]:
        return lambda configs: bench.evaluate(configs, instance)[target].to_numpy()

    tasks = []
    for instance in bench.instances:
        key = f"{bench.scenario}/{instance}"

        def make(budget: int, key=key, instance=instance) -> Problem:
            return Problem(key, space, "classification", no_features, budget,
                           objective=objective(instance))

        tasks.append(TestTask(key, make, objective(instance)(reference)))
    return tasks


def _restrict(bench, instances: list[str], name: str) -> None:
    unknown = sorted(set(instances) - set(bench.instances))
    if unknown:
        raise ValueError(f"{name}: unknown or reserved instances {', '.join(unknown)} of "
                         f"{bench.scenario} (split {bench.split!r})")
    bench.instances = [i for i in bench.instances if i in set(instances)]
