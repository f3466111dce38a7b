"""Torch MLP tests run on one thread: on a busy 2-core machine thread pools fight."""

import pytest


@pytest.fixture(autouse=True, scope="module")
def _one_thread(one_thread):
    yield
