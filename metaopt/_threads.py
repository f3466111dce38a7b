"""threadpoolctl's controller of the loaded thread pools (BLAS, OpenMP), found once per
set of imported modules."""

from __future__ import annotations

import functools
import sys

from threadpoolctl import ThreadpoolController


def thread_pools() -> ThreadpoolController:
    """The thread pools of the libraries loaded so far, to ``limit`` as
    ``threadpool_limits`` does. Finding them scans every loaded library (about 7 ms with
    torch loaded), which ``threadpool_limits`` did on every call: once per CV fold, 8 % of
    a small search's time. The scan is redone only after an import, which may load a
    library with a pool of its own (torch's OpenMP, LightGBM's)."""
    return _controller(len(sys.modules))


@functools.lru_cache(maxsize=1)
def _controller(modules_loaded: int) -> ThreadpoolController:
    return ThreadpoolController()
