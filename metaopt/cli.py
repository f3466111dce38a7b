"""The ``metaopt`` command. Each capability registers its own subcommand."""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import warnings
from collections.abc import Sequence
from contextlib import contextmanager
from functools import partial
from pathlib import Path

from metaopt._cli_options import DEMO_SEED_USE, METAFEATURES_SEED_USE, interrupt_exit_code
from metaopt._shipped_names import DEMO_SPACE, no_shipped_model, serves_no_task, shipped_spaces
from metaopt._version import __version__


def _register_datasets(subparsers) -> None:
    p = subparsers.add_parser(
        "suites", help="list the named dataset suites and their sizes",
        description="List the named suites: OpenML suites (task ids) and local directory suites.",
    )
    p.add_argument("--root", metavar="DIR",
                   help="directory of a local suite (e.g. a PMLB copy) to count it")
    p.set_defaults(func=_cmd_suites)

    p = subparsers.add_parser(
        "metafeatures", help="compute the meta-features of a CSV/TSV/parquet file",
        description="Compute metaopt's meta-features of one dataset file and print them.",
    )
    _add_data_options(p)
    p.add_argument("--seed", type=int, default=0,
                   help="seed of the meta-features' subsamples and landmarker folds (default 0)")
    p.set_defaults(func=_cmd_metafeatures)


def _add_data_options(p) -> None:
    """The options naming a table file's data, as each command that reads one takes them."""
    p.add_argument("--data", metavar="FILE",
                   required=True, help="CSV, TSV (optionally .gz) or parquet file")
    p.add_argument("--target", metavar="COL", required=True, help="name of the target column")
    p.add_argument("--task", choices=["classification", "regression"],
                   help="task type (inferred when omitted: a target of text, or of at most 20 "
                        "whole values and at most one per 5 rows, reads as classes)")
    p.add_argument("--drop", nargs="+", action="extend", metavar="COL",
                   help="columns that are no feature, such as a row id (a column that "
                   "looks like one is warned about, not dropped)")
    p.add_argument("--na-values", nargs="+", action="extend", metavar="TEXT",
                   help="text that marks a missing value, such as '?', besides pandas' own "
                   "('', 'NA', 'n/a', 'null', ...)")


@contextmanager
def _table(args):
    """The dataset of ``--data``/``--target``/``--task``, without the ``--drop`` columns;
    inside, the checks of the data word their messages for the table."""
    from metaopt.data import load_table
    from metaopt.data._terms import table_terms

    with table_terms(args.data, args.target):
        yield load_table(args.data, args.target, args.task, na_values=args.na_values,
                         drop=args.drop)


def _register_suggest(subparsers) -> None:
    p = subparsers.add_parser(
        "suggest", help="print warm-start configurations for a dataset, without fitting",
        description="Warm-start configurations of a search space for a dataset file, with the "
        "reason for each (nearest known datasets, expected regret). No model is fitted.",
    )
    _add_data_options(p)
    p.add_argument("--space", help="search space with a shipped meta-model, or one --meta-model "
                   "serves (default with --meta-model: the model's)")
    p.add_argument("-n", type=int, default=5, help="number of configurations (default 5)")
    p.add_argument("--meta-model", metavar="DIR",
                   help="directory of a saved MetaModel (default: shipped)")
    p.add_argument("--json", action="store_true",
                   help="print one JSON document (the configurations, each with its reason "
                   "and expected regret) instead of text")
    p.set_defaults(func=_cmd_suggest)

    p = subparsers.add_parser(
        "demo", help="tune a model on a bundled dataset and explain the meta-learner's choices",
        description="Tune on scikit-learn's bundled breast-cancer data with MetaSampler: "
        "prints the nearest known datasets (by meta-features), each trial's source "
        "(portfolio, adapted ranker, or a random pick that explores) and the result against "
        "the default configuration.",
    )
    # the registry's names, written out: importing metaopt.spaces would load scikit-learn
    p.add_argument("--space", help="one model family to tune: hist_gradient_boosting, "
                   "random_forest, extra_trees, linear, svm, knn or mlp "
                   f"(default: {DEMO_SPACE})")
    p.add_argument("--trials", metavar="N", type=int, default=8,
                   help="trials of the search (default 8)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.set_defaults(func=_cmd_demo)


def _cmd_suggest(args) -> int:
    # the options are checked and the table read before suggest's imports (the ranker,
    # torch: seconds), so that a usage error comes in about a second
    space, model = args.space, args.meta_model
    if space is None and model is None:
        raise ValueError(f"give --space, one of {shipped_spaces()} (spaces with a shipped "
                         "meta-model), or --meta-model DIR to use that model's space")
    if model is not None and not Path(model).is_dir():
        raise ValueError(f"meta-model directory {str(Path(model))!r} "
                         + ("is a file" if Path(model).exists() else "does not exist"))
    if model is None and serves_no_task(space):  # before the data (seconds) is read
        raise no_shipped_model(space, "" if args.task is None else f" (task {args.task!r})")
    from metaopt._checks import check_int

    check_int(args.n, "n")
    with _table(args) as ds:  # suggest warns about a column that looks like a row id
        from metaopt._suggest import suggest
        from metaopt.ranker import MetaModel

        if space is None:
            model = MetaModel.load(model)
            space = model.space.name
        picks = suggest(ds, space=space, n=args.n, meta_model=model)
    if args.json:
        from metaopt._checks import python_value

        columns = ["params", "reason", "expected_regret", "mean_regret", "best_on"]
        print(json.dumps({"summary": picks.attrs["summary"], "task": ds.task,
                          "task_inferred": args.task is None,
                          "configurations": picks[columns].to_dict("records")},
                         indent=1, default=python_value))
        return 0
    print(picks.attrs["summary"])
    if args.task is None:
        print(f"(task {ds.task} inferred from the target column; --task to override)")
    for i, row in enumerate(picks.itertuples(), start=1):
        print(f"{i}. {row.params}\n   {row.reason}")
    return 0


def _cmd_demo(args) -> int:
    # refused in a second, not after the demo's imports (torch)
    from metaopt._checks import check_int, check_seed

    check_int(args.trials, "n_trials")
    check_seed(check_int(args.seed, "seed", minimum=0), "seed", DEMO_SEED_USE, allow_none=False)
    if args.space is not None:
        from metaopt.spaces._registry import check_family

        check_family(args.space, "for the demo")
    from metaopt._suggest import run_demo
    from metaopt.benchmark._samplers import quiet_optuna

    with quiet_optuna():  # the demo's lines without Optuna's per-trial log, restored after
        run_demo(space=args.space, n_trials=args.trials, seed=args.seed)
    return 0


def _cmd_suites(args) -> int:
    from metaopt.data import get_suite, list_suites, openml_suites

    if args.root and not Path(args.root).is_dir():
        raise ValueError(f"--root must be an existing directory, got {args.root!r}")
    oml = openml_suites()
    for name in list_suites():
        if name in oml:
            print(f"{name:22s} OpenML suite {oml[name]['openml_suite_id']:>4}: "
                  f"{len(oml[name]['task_ids'])} {oml[name]['task_type']} tasks")
        elif args.root:
            print(f"{name:22s} local: {len(get_suite(name, args.root))} datasets in {args.root}")
        else:
            print(f"{name:22s} local directory suite (pass --root DIR)")
    return 0


def _cmd_metafeatures(args) -> int:
    from metaopt._checks import check_seed

    # before the table is read and its warnings shown
    check_seed(args.seed, "seed", METAFEATURES_SEED_USE, allow_none=False)
    with _table(args) as ds:  # read before the imports of the meta-features (scikit-learn)
        from metaopt import metafeatures
        from metaopt.data._ids import warn_id_columns

        warn_id_columns(ds)
        values = metafeatures.compute_dataset(ds, random_state=args.seed)
    print(f"{ds.name}: {ds.task}, {ds.n_samples} rows x {ds.n_features} features")
    print(values.to_string())
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="metaopt",
        description="Hyperparameter optimization that learns from experience: meta-learned "
        "warm starts, adapted configuration rankers and architecture priors.",
    )
    parser.add_argument("--version", action="version", version=f"metaopt {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    _register_datasets(subparsers)
    _register_suggest(subparsers)
    from metaopt.kb._cli import register as register_kb

    register_kb(subparsers)
    from metaopt.benchmark._cli import register as register_benchmark

    register_benchmark(subparsers)
    from metaopt.ranker._cli import register as register_ranker

    register_ranker(subparsers)
    return parser


# library parameters that an option of another name sets: parameter -> the option's dest
_PARAMETER_DESTS = {"random_state": "seed", "n_trials": "trials", "store": "kb"}


def _subcommand(parser: argparse.ArgumentParser, args) -> argparse.ArgumentParser:
    """The (sub)subparser that parsed ``args``, e.g. that of ``benchmark run``."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            name = getattr(args, action.dest, None)
            if name in action.choices:
                return _subcommand(action.choices[name], args)
    return parser


def _open_bracket(text: str) -> str | None:
    """The innermost bracket, ``(`` or ``[``, still open at the end of ``text``."""
    depth = 0
    for char in reversed(text):
        if char in ")]":
            depth += 1
        elif char in "([":
            if depth == 0:
                return char
            depth -= 1
    return None


def _in_flags(message: str, parser: argparse.ArgumentParser) -> str:
    """``message`` with the Python parameter names it leads with (``budget_trials must
    ...``, ``out='x' ...``), a clause of it leads with as a keyword (``...: folds=2``) or
    it holds (``n_train_configs``) replaced by the options of ``parser`` that set them:
    the library speaks Python, the command its flags."""
    flags = {action.dest: max(action.option_strings, key=len)
             for action in parser._actions if action.option_strings}
    flags |= {name: flags[dest] for name, dest in _PARAMETER_DESTS.items()
              if dest in flags and name not in flags}
    leading = "|".join(map(re.escape, flags))
    message = re.sub(rf"^({leading})(?= must | names? |=|: | '| \[)|(?<=[:;] )({leading})(?==)",
                     lambda m: flags[m[1] or m[2]], message)
    # elsewhere only snake_case names, which prose does not use, but for a keyword of a
    # Python call the message also gives (``get_suite(..., cache_dir=)``)
    inner = "|".join(re.escape(name) for name in flags if "_" in name)
    if not inner:
        return message

    def flag(m: re.Match) -> str:
        before = message[:m.start()]
        in_call = m[2] and before.endswith(("(", ", ")) and _open_bracket(before) == "("
        return m[0] if in_call else flags[m[1]] + m[2]
    return re.sub(rf"(?<![\w'\"./-])({inner})(?![\w'\"])(=?)", flag, message)


# Python in the library's messages, in a command's words: a list of names, an option
# that cannot be None, numpy's seed range
_PYTHON_WORDING = (
    (re.compile(r"\[('[^'\n]*'(?:, '[^'\n]*')*)\]"), r"\1"),
    (re.compile(r"(?<=must be )None or |,? or None(?=, got )"), ""),
    (re.compile(r"\ban int\b"), "an integer"),
    (re.compile(r"2\*\*32 - 1"), str(2**32 - 1)),
)


def _plain(message: str) -> str:
    """``message`` without the Python wording of :data:`_PYTHON_WORDING`."""
    for pattern, replacement in _PYTHON_WORDING:
        message = pattern.sub(replacement, message)
    return message


def _show_warning(prog: str, message, *_args, **_kwargs) -> None:
    print(f"{prog}: warning: {_plain(str(message))}", file=sys.stderr)


def _stdout_closed() -> int:
    """Exit quietly when our output's reader went away (``metaopt ... | head``): later
    writes, the interpreter's final flush included, go to the null device."""
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 141  # 128 + SIGPIPE, what a shell reports for `yes | head`


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    command = _subcommand(parser, args)  # its prog is the path typed, as in argparse's errors
    try:
        with warnings.catch_warnings():
            # a warning meant for the user reads like the errors: one line, no source
            warnings.showwarning = partial(_show_warning, command.prog)
            code = args.func(args)
        sys.stdout.flush()  # a buffered stdout's reader gone: the error comes here, not at exit
        return code
    except BrokenPipeError:
        return _stdout_closed()
    except (ValueError, OSError, RuntimeError) as exc:
        # user errors (bad file, bad option, missing data) get one clear line, not a traceback
        print(f"{command.prog}: error: {_plain(_in_flags(str(exc), command))}",
              file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{command.prog}: interrupted", file=sys.stderr)
        return interrupt_exit_code()  # Python's SIGINT handler: Ctrl-C


if __name__ == "__main__":
    sys.exit(main())
