"""Options that more than one command takes, defined once, and checks of them that come
before the commands' imports (kept light: the parser of ``metaopt`` is built, and a wrong
option refused, without pandas)."""

from __future__ import annotations

import difflib
import json
from importlib import resources

# metaopt.data.suites's local directory suites (it imports pandas)
_LOCAL_SUITES = ("pmlb-classification", "pmlb-regression")


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


def check_suite_name(name: str) -> None:
    """Refuse a ``--suite`` that names no suite :func:`metaopt.data.get_suite` knows,
    with its message, before the import of :mod:`metaopt.data` (pandas): ``build-kb`` and
    ``benchmark run`` refuse a typo at once."""
    text = resources.files("metaopt").joinpath("data", "suites.json").read_text()
    suites = {k: v for k, v in json.loads(text).items() if not k.startswith("_")}
    if name in suites or name in _LOCAL_SUITES:
        return
    # what the name may mean, as metaopt.data.suites._meant_suites finds it: the same name
    # in other case, the suite of that OpenML id, the names holding it, the closest
    known = sorted([*suites, *_LOCAL_SUITES])
    folded = str(name).strip().lower()
    meant = ([n for n in known if n == folded]
             or [n for n, spec in suites.items() if str(spec["openml_suite_id"]) == folded]
             or [n for n in known if folded and folded in n]
             or difflib.get_close_matches(folded, known, n=1))
    raise ValueError(f"unknown suite {name!r}; known suites: {known}"
                     + (f"; did you mean {' or '.join(map(repr, meant))}?" if meant else ""))
