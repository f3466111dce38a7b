"""Shared by the benchmark scripts: pin thread pools for a whole run."""

from __future__ import annotations


def single_threaded(threads: int) -> None:
    """Limit BLAS/OpenMP (threadpoolctl) and torch to ``threads`` for the whole run: on
    a busy 2-core machine torch's default of one thread per core made the ranker ~6x
    slower."""
    import torch
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=threads)
    torch.set_num_threads(threads)
