"""One intra-op thread: the meta-learning tests are many small ops, for which extra
threads only add contention on shared CI machines."""

from __future__ import annotations

import pytest
import torch


@pytest.fixture(autouse=True, scope="session")
def _single_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
