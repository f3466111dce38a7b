"""``metaopt build-kb`` and ``metaopt kb {info,export}``."""

from __future__ import annotations

import sys

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


def register(subparsers) -> None:
    """Add the ``build-kb`` and ``kb`` subcommands to an argparse subparsers object."""
    p = subparsers.add_parser(
        "build-kb", help="evaluate configurations of search spaces on a dataset suite",
        description="Fill a knowledge base: N configurations of each search space on each "
        "dataset of a suite, cross-validated. Interrupt it at any time; the same command "
        "resumes without losing or repeating a finished evaluation.",
    )
    add_suite_options(p)
    p.add_argument("--target", metavar="COL", help="name of the target column of a local "
                   "suite's tables (default: target, PMLB's)")
    add_cache_dir_option(p)
    add_spaces_option(p, "comma-separated space names")
    p.add_argument("--n-configs", metavar="N",
                   type=int, default=16, help="configurations per dataset x space (default 16)")
    p.add_argument("--n-design", metavar="N", type=int,
                   help="how many of them are shared by all datasets (default: half)")
    add_datasets_option(p, "e.g. to grow a knowledge base in depth on the datasets it "
                        "already has")
    p.add_argument("--limit", metavar="N", type=int, help="only the first N datasets of the suite")
    p.add_argument("--smallest-first", action="store_true",
                   help="order datasets by rows x columns (cheapest first) before --limit")
    p.add_argument("--store", metavar="FILE_OR_URL", default="metaopt-kb.sqlite",
                   help="SQLite file or SQLAlchemy URL (postgresql://...; default "
                   "metaopt-kb.sqlite)")
    p.add_argument("--cv-folds", metavar="K", type=int, default=5,
                   help="CV folds of each evaluation (default 5)")
    add_time_limit_option(p, "evaluation")
    add_max_rows_option(p, 5000)
    p.add_argument("--test-size", metavar="FRACTION",
                   type=float,
                   help="hold out this fraction for test_score (default: none held out)")
    add_parallel_options(p, work="evaluations", workers="workers", n_jobs=1,
                         n_jobs_help="-1: all; default 1",
                         sequential_note="; a crash of an evaluation then ends the build")
    p.add_argument("--seed", type=int, default=0,
                   help="seed of the design, the CV splits and the models (default 0)")
    p.add_argument("--retry-failed", action="store_true",
                   help="re-evaluate configurations stored as failed or timeout")
    p.add_argument("--shard", metavar="INDEX/COUNT",
                   help="this runner's share of the jobs (e.g. 0/4: the first of 4)")
    p.add_argument("--export", metavar="PARQUET", help="write the whole store to parquet after")
    add_progress_option(p)
    p.set_defaults(func=_cmd_build)

    p = subparsers.add_parser("kb", help="inspect or export a knowledge base")
    sub = p.add_subparsers(dest="kb_command", required=True, metavar="ACTION")
    store_help = "SQLite file, SQLAlchemy URL, parquet export or 'default' (the shipped one)"
    q = sub.add_parser("info", help="counts by space and status")
    q.add_argument("store", help=store_help)
    q.set_defaults(func=_cmd_info)
    q = sub.add_parser("export", help="write parquet (and optionally CARD.md)")
    q.add_argument("store", help=store_help)
    q.add_argument("parquet", help="file to write (ending in .parquet)")
    q.add_argument("--card", metavar="FILE", help="also write a card (Markdown) here")
    q.set_defaults(func=_cmd_export)


def _shard(text: str | None) -> tuple[int, int] | None:
    if text is None:
        return None
    try:
        index, count = (int(x) for x in text.split("/"))
    except ValueError:
        raise ValueError(f"--shard must be INDEX/COUNT like 0/4, got {text!r}") from None
    if not 0 <= index < count:
        raise ValueError(f"--shard {text}: INDEX/COUNT needs 0 <= INDEX < COUNT, like 0/4 "
                         "to 3/4")
    return index, count


def _check_export(text: str, what: str) -> None:
    """Check ``text`` as where to write a parquet export: ``.parquet`` is how
    ``kb info``, ``kb export`` and ``train-meta-model --kb`` tell one from a SQLite store."""
    from metaopt.kb._store import check_writable

    check_writable(text, what)
    if not text.endswith(".parquet"):
        raise ValueError(f"{what} {text!r} must end in .parquet (how `metaopt kb info` and "
                         "`--kb` tell a parquet export from a SQLite store)")


def _cmd_build(args) -> int:
    suite = suite_of(args)  # a typo refused before the imports of pandas and the build
    if args.export:  # before the build, not after it
        _check_export(args.export, "--export")
    suite = suite.select(limit=args.limit, smallest_first=args.smallest_first)
    # imported once the suite is known (a wrong name or --root refused in a second)
    from metaopt._markdown import counted
    from metaopt.kb import BuildInterrupted, KnowledgeBase, build

    try:
        report = build(
            suite, args.store, spaces=args.spaces, n_configs=args.n_configs,
            n_design=args.n_design, seed=args.seed, cv_folds=args.cv_folds,
            time_limit=args.time_limit, max_rows=args.max_rows, test_size=args.test_size,
            n_jobs=args.n_jobs, backend=args.backend, scheduler=args.scheduler,
            retry_failed=args.retry_failed, shard=_shard(args.shard),
            progress=not args.no_progress,
        )
    except BuildInterrupted as exc:
        print(f"metaopt build-kb: {exc}", file=sys.stderr)
        return interrupt_exit_code(exc.signum)
    print(f"metaopt build-kb: {report.summary()}")
    for key, error in report.dataset_errors.items():
        print(f"  dataset {key} failed to load: {error}", file=sys.stderr)
    if args.target is None and any("has no target column 'target'" in error
                                   for error in report.dataset_errors.values()):
        print("metaopt build-kb: the target column is 'target' (PMLB's): name your tables' "
              "with --target COL (the same in every table)", file=sys.stderr)
    if len(report.dataset_errors) == len(suite):  # nothing could be built: a failure
        print("metaopt build-kb: no dataset of the suite could be loaded", file=sys.stderr)
        return 1
    if args.export:
        with KnowledgeBase(args.store) as kb:
            print(f"exported {counted(len(kb), 'evaluation')} to {kb.to_parquet(args.export)}")
    return 0


def _cmd_info(args) -> int:
    from metaopt._markdown import counted
    from metaopt.kb import open_knowledge_base

    with open_knowledge_base(args.store) as kb:
        frame = kb.to_frame(metafeatures=False)
        datasets = kb.datasets()
        print(f"{args.store}: {counted(len(frame), 'evaluation')}, "
              f"{counted(len(datasets), 'dataset')} "
              f"({int((datasets['status'] != 'ok').sum())} failed to load)")
        if len(frame):
            print(frame.groupby(["space", "status"]).size().unstack(fill_value=0).to_string())
    return 0


def _cmd_export(args) -> int:
    from metaopt._markdown import counted
    from metaopt.kb import open_knowledge_base, write_card
    from metaopt.kb._store import check_writable

    _check_export(args.parquet, "the parquet export")
    if args.card:
        check_writable(args.card, "--card")
    with open_knowledge_base(args.store) as kb:
        path = kb.to_parquet(args.parquet)
        card = write_card(kb, args.card, parquet=path) if args.card else None
        print(f"exported {counted(len(kb), 'evaluation')} to {path}"
              + (f" and its card to {card}" if card else ""))
    return 0
