"""Options that more than one command takes, defined once, the checks of them that come
before the commands' imports (kept light: the parser of ``metaopt`` is built, and a wrong
option refused, without pandas), and the exit code of an interrupted command."""

from __future__ import annotations

import signal
from typing import TYPE_CHECKING

from metaopt._suite_names import LOCAL_SUITES, check_suite_name

if TYPE_CHECKING:
    from metaopt.data.suites import Suite

#: what a seed is for, in the message refusing one: ``metaopt demo --seed`` (and
#: ``run_demo``), ``metaopt metafeatures --seed``
DEMO_SEED_USE = "the seed of the demo's meta-features, sampler and models"
METAFEATURES_SEED_USE = "the seed of the meta-features' subsamples and landmarker folds"


def add_suite_options(parser) -> None:
    """Add ``--suite`` and ``--root``: the suite a command works on."""
    parser.add_argument("--suite", required=True, help="suite name (see `metaopt suites`)")
    parser.add_argument("--root", metavar="DIR",
                        help="directory of a local suite (e.g. a PMLB copy)")


def add_cache_dir_option(parser) -> None:
    """Add ``--cache-dir``: where an OpenML suite's tasks are cached."""
    parser.add_argument("--cache-dir", metavar="DIR", help="OpenML cache directory, for an "
                        "OpenML suite (default: openml's own; tasks cached there load without "
                        "network)")


def add_spaces_option(parser, names: str) -> None:
    """Add ``--spaces``, which takes ``'all'`` or the ``names`` (what the command takes,
    said in its help: ``"comma-separated space names"``)."""
    parser.add_argument("--spaces", default="all", help=f"'all' or {names} (default all)")


def add_datasets_option(parser, note: str) -> None:
    """Add ``--datasets``, its help ending with the parenthesised ``note``."""
    parser.add_argument("--datasets", metavar="NAMES",
                        help="only these datasets of the suite: comma-separated names or keys, "
                        f"or @FILE with one per line ({note})")


def add_time_limit_option(parser, per: str) -> None:
    """Add ``--time-limit``: seconds ``per`` evaluation, trial, ... (default 300)."""
    parser.add_argument("--time-limit", metavar="SECONDS", type=float, default=300.0,
                        help=f"seconds per {per} (default 300)")


def add_max_rows_option(parser, default: int | None) -> None:
    """Add ``--max-rows``, the rows a larger dataset is subsampled to (None: all kept)."""
    parser.add_argument("--max-rows", metavar="N", type=int, default=default,
                        help="subsample larger datasets to N rows (seeded; default "
                        f"{'all rows' if default is None else default})")


def add_progress_option(parser) -> None:
    """Add ``--no-progress``."""
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def add_parallel_options(parser, *, work: str, workers: str, n_jobs: int, n_jobs_help: str,
                         sequential_note: str = "") -> None:
    """Add ``--n-jobs``, ``--backend`` and ``--scheduler``: how the ``work`` runs, as
    ``build-kb`` and ``benchmark run`` take them.

    Parameters
    ----------
    parser : argparse.ArgumentParser
    work : str
        What runs, plural: ``"evaluations"``, ``"jobs"``.
    workers : str
        What ``--n-jobs`` counts, plural: ``"workers"``, ``"jobs"``.
    n_jobs : int
        The default of ``--n-jobs``.
    n_jobs_help : str
        The values of ``--n-jobs`` and its default, said in its help's parenthesis before
        what every command adds (``ignored with --backend sequential``):
        ``"-1: all; default 1"``.
    sequential_note : str, default=""
        What ``--backend sequential`` also means for this command, ending its
        parenthesis (``"; a crash of an evaluation then ends the build"``).
    """
    parser.add_argument("--n-jobs", metavar="N", type=int, default=n_jobs,
                        help=f"parallel {workers} ({n_jobs_help}; ignored with --backend sequential)")
    parser.add_argument("--backend", choices=["loky", "dask", "sequential"], default="loky",
                        help=f"run the {work} with joblib's loky processes, on a dask cluster, "
                        "or sequential: one at a time in this process, no worker process (to "
                        "debug with pdb, or where worker processes are not allowed"
                        f"{sequential_note}) (default loky)")
    parser.add_argument("--scheduler", metavar="ADDRESS",
                        help="dask scheduler address, e.g. tcp://HOST:8786 (with --backend "
                        "dask)")


def select_datasets(suite: Suite, text: str | None) -> Suite:
    """The datasets of ``suite`` that ``--datasets TEXT`` names (all for None): names or
    keys, comma-separated or one a line of ``@FILE``."""
    if text is None:
        return suite
    if text.startswith("@"):
        try:
            with open(text[1:], encoding="utf-8") as f:
                names = [line.strip() for line in f]
        except FileNotFoundError:
            raise ValueError(f"--datasets {text}: file {text[1:]} not found") from None
        except (OSError, UnicodeDecodeError) as error:  # a directory, no permission, binary
            reason = error.strerror if isinstance(error, OSError) else error
            raise ValueError(f"--datasets {text}: cannot read the list of datasets: "
                             f"{reason}") from None
    else:
        names = [name.strip() for name in text.split(",")]
    names = [n for n in names if n]
    if not names:
        raise ValueError(f"--datasets names no dataset: {text!r}")
    try:
        return suite.select(names=names)
    except ValueError as error:  # a name not in the suite
        raise ValueError(f"--datasets {text}: {error}") from None


def suite_of(args) -> Suite:
    """The suite of ``--suite``, ``--root``, ``--cache-dir`` (and ``--target``,
    ``--download`` where the command has them), restricted to ``--datasets``. An unknown
    suite is refused before the import of :mod:`metaopt.data` (pandas), an option the
    suite would not use, a ``--root`` without its datasets or a dataset name not in it
    before any work."""
    check_suite_name(args.suite)
    from metaopt.data import get_suite
    from metaopt.data.suites import _check_suite_arguments

    target, download = getattr(args, "target", None), getattr(args, "download", False)
    _check_suite_arguments(args.suite, args.root, args.cache_dir, download, target=target,
                           root_name="--root", cache_dir_name="--cache-dir",
                           download_name="--download", target_name="--target")
    # an OpenML suite keeps --cache-dir: its tasks load, and missing ones are looked for, there
    suite = get_suite(args.suite, root=args.root, cache_dir=args.cache_dir, target=target)
    if args.root and not len(suite):  # a typo, or the PMLB copy's parent
        raise ValueError(f"--root {args.root!r} holds no {LOCAL_SUITES[args.suite]} dataset "
                         f"of suite {args.suite!r}: give a PMLB-style directory (a folder "
                         "NAME/ with NAME.tsv.gz per dataset, or a manifest.csv with columns "
                         "name, task)")
    return select_datasets(suite, args.datasets)  # unknown names refused, with close ones


def interrupt_exit_code(signum: int | None = None) -> int:
    """The exit code of a command a signal stopped: 128 + its number, as a shell reports a
    process the signal killed (``signum`` None: SIGINT, Ctrl-C, 130)."""
    return 128 + int(signal.SIGINT if signum is None else signum)
