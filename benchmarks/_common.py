"""Shared by the benchmark scripts: where the shared data is, and thread pinning."""

from __future__ import annotations

import os
from pathlib import Path

# the read-only data (pmlb, TabRepo, YAHPO), beside the repository unless set otherwise
SHARED_DATA = Path(os.environ.get("METAOPT_SHARED_DATA",
                                  Path(__file__).resolve().parents[2] / "shared" / "data"))


def single_threaded(threads: int) -> None:
    """Limit BLAS/OpenMP (threadpoolctl) and torch to ``threads`` for the whole run: on
    a busy 2-core machine torch's default of one thread per core made the ranker ~6x
    slower."""
    import torch
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=threads)
    torch.set_num_threads(threads)
