"""``metaopt benchmark {tabrepo,yahpo,run,report}``."""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import time
from pathlib import Path

from metaopt._cli_options import (
    add_cache_dir_option,
    add_datasets_option,
    add_max_rows_option,
    add_parallel_options,
    add_progress_option,
    add_spaces_option,
    add_suite_options,
    add_time_limit_option,
    interrupt_exit_code,
    suite_of,
)
from metaopt._files import write_whole
from metaopt._signals import StopGuard


def _ints(text: str) -> list[int]:
    """An option's comma-separated integers (an argparse ``type``: errors name the option)."""
    try:
        return [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated integers, got {text!r}") from None


def _list(text: str) -> list[str]:
    return [x.strip() for x in text.split(",") if x.strip()]


def _names(text: str | None) -> list[str] | None:
    return None if text is None else _list(text)


def register(subparsers) -> None:
    """Add the ``benchmark`` subcommand to an argparse subparsers object."""
    from metaopt.benchmark._defaults import DEFAULT_METHODS

    p = subparsers.add_parser(
        "benchmark", help="compare optimizers: surrogate benchmarks and real fits on suites",
        description="Benchmark hyperparameter optimizers. `tabrepo` and `yahpo` replay "
        "precomputed or surrogate objectives without fitting a model (metaopt's own method "
        "meta-trains per fold: minutes); `run` tunes real models "
        "on a dataset suite (resumable), and `report` turns its results into Markdown + PNGs.",
    )
    sub = p.add_subparsers(dest="benchmark_command", required=True, metavar="ACTION")
    methods = ",".join(DEFAULT_METHODS)

    q = sub.add_parser(
        "tabrepo", help="TabRepo LightGBM matrix (HPO-B protocol)",
        description="Each method meta-trains on the training tasks (--train, or the other "
        "folds of --cv) and runs on each test task for the largest budget, choosing among "
        "the task's evaluated configurations; prints the mean normalized regret (mean "
        "rank) after each budget, then the last method against each other one.")
    q.add_argument("--train", metavar="DIR",
                   required=True, help="TabRepo-layout directory to meta-train on")
    q.add_argument("--test", metavar="DIR",
                   help="TabRepo-layout directory of test tasks (default: --train)")
    _cv_options(q, "leave-tasks-out K-fold when test is train")
    _surrogate_options(q, methods)
    q.set_defaults(func=_cmd_tabrepo)

    q = sub.add_parser(
        "yahpo", help="YAHPO Gym surrogate scenario",
        description="Each method meta-trains on the training instances (a shared Sobol "
        "design of --n-train-configs each) and runs on each test instance for the largest "
        "budget, queried through the surrogate; prints the mean normalized regret (mean "
        "rank) after each budget, then the last method against each other one.")
    q.add_argument("--scenario", required=True,
                   help="lcbench, rbv2_xgboost, rbv2_rpart, iaml_glmnet")
    q.add_argument("--data", metavar="DIR",
                   required=True, help="YAHPO data directory (with splits.json)")
    q.add_argument("--train-instances", metavar="IDS",
                   help="comma-separated (default: the train split)")
    q.add_argument("--test-instances", metavar="IDS",
                   help="comma-separated (default: the valid split)")
    q.add_argument("--n-train-configs", metavar="N", type=int, default=256,
                   help="shared design evaluated on each training instance (default 256)")
    q.add_argument("--n-reference", metavar="N", type=int, default=10_000,
                   help="fixed sample that sets each test instance's best and worst "
                        "(default 10000)")
    _cv_options(q, "leave-instances-out K-fold over the training instances instead of "
                "testing on --test-instances")
    _surrogate_options(q, methods)
    q.set_defaults(func=_cmd_yahpo)

    q = sub.add_parser(
        "run", help="tune real models on a suite, one job per (dataset, method, seed, fold); "
        "resumable",
        description="Tune real models on a dataset suite: each (dataset, method, seed, outer "
        "fold) is a job that tunes on the outer-train part, scoring trials by inner CV, and "
        "scores each incumbent on the outer-test part. Finished jobs are kept in --out: the "
        "same command resumes an interrupted run, and more methods or seeds can be added. "
        "Then `metaopt benchmark report --out DIR`.")
    add_suite_options(q)
    add_cache_dir_option(q)
    q.add_argument("--download", action="store_true",
                   help="allow downloading OpenML tasks missing from the cache, for an "
                   "OpenML suite")
    q.add_argument("--methods", metavar="NAMES", default="tpe,random,default",
                   help="comma-separated: tpe,random,gp,cmaes,flaml,default,metaopt "
                   "(default: tpe,random,default)")
    budget = q.add_mutually_exclusive_group(required=True)
    budget.add_argument("--budget-trials", metavar="N", type=int, help="trials per job")
    budget.add_argument("--budget-seconds", metavar="SECONDS",
                        type=float, help="seconds of tuning per job")
    q.add_argument("--seeds", metavar="N", type=int, default=1,
                   help="seeds 0..N-1 per (dataset, method, fold) (default 1)")
    q.add_argument("--folds", metavar="N",
                   type=int, default=3, help="outer folds per dataset (default 3)")
    q.add_argument("--cv-folds", metavar="K", type=int, default=3,
                   help="inner CV folds scoring each trial (default 3)")
    add_spaces_option(q, "space names, comma-separated (or joined by '+'), each once")
    add_max_rows_option(q, None)
    add_time_limit_option(q, "trial")
    add_datasets_option(q, "before --limit")
    q.add_argument("--limit", metavar="N", type=int,
                   help="only the N smallest datasets of the suite (rows x columns, where "
                        "known; suite order otherwise): a quick run")
    q.add_argument("--out", metavar="DIR",
                   required=True, help="results directory (resumed if it exists)")
    q.add_argument("--retry-failed", action="store_true",
                   help="run again the jobs that failed as a whole (e.g. a dataset that "
                        "could not be loaded); finished jobs are kept otherwise")
    add_parallel_options(q, work="jobs", workers="jobs", n_jobs=-1,
                         n_jobs_help="default -1: one per core; each job is single-threaded")
    q.add_argument("--exclude-training-data", action="store_true",
                   help="skip the datasets the shipped meta-model was trained on")
    q.add_argument("--training-datasets", metavar="FILE",
                   help="text file of training dataset keys/names (default: the meta-model's)")
    add_progress_option(q)
    q.set_defaults(func=_cmd_run)

    q = sub.add_parser(
        "report", help="Markdown report and PNG plots of a `run` directory",
        description="Write report.md, regret.png, rank.png and cd.png (the critical "
        "differences: 5 datasets or more, 3 methods or more) into the directory of "
        "`benchmark run --out`, from the jobs finished so far.")
    q.add_argument("--out", metavar="DIR", required=True, help="the directory of `benchmark run`")
    q.set_defaults(func=_cmd_report)


def _surrogate_options(q, methods: str) -> None:
    q.add_argument("--methods", metavar="NAMES",
                   default=methods, help=f"comma-separated (default {methods})")
    q.add_argument("--budgets", metavar="COUNTS", type=_ints, default="1,3,5,10,25,50",
                   help="comma-separated budgets: evaluations after which each method's best "
                        "is recorded (default 1,3,5,10,25,50)")
    q.add_argument("--seeds", metavar="N", type=int, default=5,
                   help="seeds 0..N-1 per method and task (default 5)")
    q.add_argument("--json", metavar="FILE", help="write the table and curves as JSON")
    q.add_argument("--curves", metavar="FILE",
                   help="write the tidy curves as CSV (.csv; .csv.gz etc.: compressed)")
    q.add_argument("--plot", metavar="PNG", help="write regret vs budget")
    add_progress_option(q)


def _cv_options(q, cv_help: str) -> None:
    """Add ``--cv`` (``cv_help``: what its folds leave out) and ``--cv-seed``."""
    q.add_argument("--cv", metavar="K", type=int, help=cv_help)
    q.add_argument("--cv-seed", type=int, help="seed of --cv's fold assignment (default 0)")


def _prepare_outputs(args) -> None:
    """Check ``--json``, ``--curves`` and ``--plot`` (its format too) and create their
    folders before the run (a missing folder, or a directory given as the file, used to
    fail after the whole benchmark, saving nothing; one file given twice kept only the
    last output)."""
    from metaopt._checks import repeated  # (pandas: not imported to build the parser)
    from metaopt.benchmark._plots import plot_path
    from metaopt.kb._store import check_writable

    # the files written: --plot r is written as r.png
    targets = {option: target for option, target in (
        ("--json", args.json), ("--curves", args.curves),
        ("--plot", args.plot and plot_path(args.plot))) if target}
    twice = repeated(Path(t).resolve() for t in targets.values())
    if twice:
        options = [o for o, t in targets.items() if Path(t).resolve() in twice]
        raise ValueError(f"{' and '.join(options)} name the same file {str(twice[0])!r}: "
                         "each output needs a file of its own")
    if args.plot:
        _check_plot_format(args.plot)
    if args.curves:
        _check_curves_format(args.curves)
    for option, target in targets.items():
        check_writable(target, option).parent.mkdir(parents=True, exist_ok=True)


def _check_plot_format(path: str) -> None:
    """Refuse a ``--plot`` file whose extension matplotlib cannot write (none: PNG)."""
    from matplotlib.backend_bases import FigureCanvasBase

    formats = FigureCanvasBase.get_supported_filetypes()
    suffix = Path(path).suffix.lstrip(".").lower()
    if suffix and suffix not in formats:
        common = ["png", "pdf", "svg"]
        others = ", ".join(f".{f}" for f in sorted(formats) if f not in common)
        raise ValueError(f"--plot {path!r} must end in a format matplotlib writes: "
                         f"{', '.join(f'.{f}' for f in common)} (also {others})")


# what pandas' to_csv compresses, by the extension after .csv
_COMPRESSED = (".gz", ".bz2", ".zip", ".xz", ".zst")


def _check_curves_format(path: str) -> None:
    """Refuse a ``--curves`` file whose extension is not the CSV written (a name without
    one is written as given)."""
    name = Path(path).name.lower()
    if Path(path).suffix and not name.endswith(tuple(f".csv{c}" for c in ("", *_COMPRESSED))):
        raise ValueError(f"--curves {path!r} must end in .csv: the curves are written as a "
                         f"CSV table ({', '.join(f'.csv{c}' for c in _COMPRESSED[:-1])} or "
                         f".csv{_COMPRESSED[-1]}: compressed)")


def _curves_compression(path: str) -> str | dict | None:
    """How pandas would compress the ``--curves`` file ``path`` by its name (its
    temporary file's name says nothing); a zip archive holds ``path``'s name less .zip."""
    name = Path(path).name
    method = {".gz": "gzip", ".bz2": "bz2", ".zip": "zip", ".xz": "xz",
              ".zst": "zstd"}.get(Path(path).suffix.lower())
    return {"method": "zip", "archive_name": name[:-4]} if method == "zip" else method


def _finish_surrogate(result, args, title: str, signum: int | None) -> int:
    from metaopt.benchmark._plots import plot_curves

    if result.curves.empty and not result.interrupted:
        raise ValueError("no method could run on these tasks: "
                         + "; ".join(f"{m}: {r}" for m, r in result.not_applicable.items()))
    compared = result.comparable()
    n_compared, n_tasks = len(compared.groupby(["task", "seed"])), compared["task"].nunique()
    if result.interrupted:
        n_runs = len(result.curves.groupby(["method", "task", "seed"]))
        print(f"interrupted: {n_runs} runs finished; the table compares the (task, seed) "
              f"runs that every method finished ({n_compared}); "
              "the curves written hold all finished runs")
    table = paired = None
    if not compared.empty:
        table = result.table()
        # an interrupt may leave a task with some of its seeds only
        over = (f"{n_tasks} tasks x {args.seeds} seeds" if n_compared == n_tasks * args.seeds
                else f"{n_compared} (task, seed) runs of {n_tasks} tasks")
        print(f"mean normalized regret (mean rank) over {over}; 0 = best configuration of "
              "the task, rank 1 = best method")
        print(table.to_string())
        ran = [m for m in result.methods if m in set(compared["method"])]
        paired = result.paired(ran[-1]) if len(ran) > 1 else None
    for name, reason in result.not_applicable.items():
        print(f"  {name}: n/a - {reason}")
    if paired is not None:
        print(f"{ran[-1]} (the last method) against each other one: mean regret difference "
              f"(negative: {ran[-1]} lower), 95 % t-interval over tasks (clipped to "
              "[-1, 1], the range of a regret difference); (task, seed) runs won/tied/lost")
        print(paired.to_string())
    # each written whole or not at all: a failed write (a full disk) keeps the earlier file
    if args.json:
        text = json.dumps({
            "command": shlex.join(sys.argv), "table": None if table is None else table.to_dict(orient="index"),
            "paired": None if paired is None else
            {f"{budget} {peer}": row.to_dict() for (budget, peer), row in paired.iterrows()},
            "not_applicable": result.not_applicable,
            "curves": result.curves.to_dict(orient="records"),
        }, indent=1, default=str)
        write_whole(args.json, lambda tmp: Path(tmp).write_text(text))
    if args.curves:
        compression = _curves_compression(args.curves)
        write_whole(args.curves, lambda tmp: result.curves.to_csv(
            tmp, index=False, compression=compression))
    if args.plot and not result.curves.empty:
        print(f"plot: {plot_curves(result.curves, args.plot, methods=result.methods, title=title)}")
    return interrupt_exit_code(signum) if result.interrupted else 0


def _cv_seed(args) -> int:
    """``--cv-seed`` (default 0), refused without ``--cv``, whose folds it sets."""
    if args.cv_seed is None:
        return 0
    if args.cv is None:
        raise ValueError("--cv-seed sets the fold assignment of --cv: give --cv K too "
                         "(without it there are no folds)")
    return args.cv_seed


def _run_surrogate(args, benchmark, title: str, *positional, **options) -> int:
    """Run ``benchmark`` (``tabrepo_benchmark``, ``yahpo_benchmark``) with the options
    the two share, and report it. SIGTERM (a scheduler's stop, ``kill``) stops it as
    Ctrl-C does: the finished runs are kept, and the exit code names the signal. Once
    the runs are finished or interrupted (the benchmark holds the guard then), a signal
    is only recorded: the outputs are written whole, and the exit code stays the first
    signal's (0 for a benchmark that had finished)."""
    _prepare_outputs(args)
    with StopGuard() as guard:
        try:
            result = benchmark(*positional, methods=_list(args.methods), budgets=args.budgets,
                               seeds=args.seeds, progress=not args.no_progress, **options)
        except KeyboardInterrupt:  # the data being read: no result to keep
            guard.hold()  # (a second signal: the same message and exit code)
            print(f"metaopt benchmark {args.benchmark_command}: interrupted", file=sys.stderr)
            return interrupt_exit_code(guard.signum)
        return _finish_surrogate(result, args, title, guard.signum)


def _cmd_tabrepo(args) -> int:
    from metaopt.benchmark._surrogate import tabrepo_benchmark

    where = f"{args.cv}-fold leave-tasks-out CV" if args.cv else f"test {args.test}"
    return _run_surrogate(args, tabrepo_benchmark, f"TabRepo LightGBM, {where}", args.train,
                          args.test, cv=args.cv, cv_seed=_cv_seed(args))


def _cmd_yahpo(args) -> int:
    from metaopt.benchmark._surrogate import yahpo_benchmark

    where = f", {args.cv}-fold leave-instances-out CV over the training instances" if args.cv else ""
    return _run_surrogate(
        args, yahpo_benchmark, f"YAHPO {args.scenario}{where}", args.scenario,
        args.data, train_instances=_names(args.train_instances),
        test_instances=_names(args.test_instances), n_train_configs=args.n_train_configs,
        n_reference=args.n_reference, cv=args.cv, cv_seed=_cv_seed(args),
    )


def _cmd_run(args) -> int:
    suite = suite_of(args)  # a typo refused before the imports of pandas and the run
    # imported once the suite is known (scikit-learn, optuna: seconds)
    from metaopt.benchmark._report import final_table, final_table_legend
    from metaopt.benchmark._runner import _is_training, _training_set, read_settings, run

    if args.exclude_training_data and args.limit is not None:
        # --limit counts the datasets left once the training data is excluded
        training = _training_set(args.training_datasets)
        unseen = [r.key for r in suite.refs if not _is_training(r, training)]
        if unseen:  # none: run() says every dataset is training data
            suite = suite.select(names=unseen)
    suite = suite.select(limit=args.limit, smallest_first=args.limit is not None)
    start = time.perf_counter()
    # SIGTERM too (a scheduler's stop): a job's results are written whole or not at all
    with StopGuard() as guard:
        try:
            frame = run(
                suite, args.out, methods=_list(args.methods), budget_trials=args.budget_trials,
                budget_seconds=args.budget_seconds, seeds=args.seeds, folds=args.folds,
                cv_folds=args.cv_folds, spaces=args.spaces, max_rows=args.max_rows,
                time_limit=args.time_limit, n_jobs=args.n_jobs, backend=args.backend,
                scheduler=args.scheduler, exclude_training_data=args.exclude_training_data,
                training_datasets=args.training_datasets, download=args.download,
                retry_failed=args.retry_failed,
                progress=not args.no_progress,
            )
        except KeyboardInterrupt:
            guard.hold()  # a second signal neither replaces this one's exit code nor message
            n = len(list((Path(args.out) / "jobs").glob("*.jsonl")))
            print(f"metaopt benchmark run: interrupted: {n} finished job(s) kept in "
                  f"{args.out}; run the same command again to resume", file=sys.stderr)
            return interrupt_exit_code(guard.signum)
    n_jobs, ran = frame["job"].nunique(), frame.attrs["jobs_run"]
    print(f"{n_jobs} jobs in {args.out}: {ran} run now, {n_jobs - ran} kept from an earlier "
          f"run ({time.perf_counter() - start:.0f} s)")
    print(final_table(frame, read_settings(Path(args.out) / "run.json")["methods"]).to_string())
    print(final_table_legend(frame))
    failed = frame.loc[frame["status"] == "job_failed", ["job", "error"]]
    if len(failed):
        print(f"{len(failed)} job{'s' * (len(failed) > 1)} failed as a whole, such as "
              f"{failed['job'].iloc[0]}: {failed['error'].iloc[0]}; `metaopt benchmark "
              "report` lists them, and --retry-failed runs them again once the cause is fixed")
    print(f"next: metaopt benchmark report --out {args.out}")
    return 0


def _cmd_report(args) -> int:
    from metaopt.benchmark._defaults import run_settings_file

    run_settings_file(args.out)  # a directory that is no run's: before the report's imports
    from metaopt.benchmark._report import report

    print(f"wrote {report(args.out)}")
    return 0
