"""Options that more than one command takes, defined once (kept light: the parser of
``metaopt`` is built without the commands' imports)."""

from __future__ import annotations


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
