"""The shared data of tests/conftest.py (METAOPT_SHARED_DATA, else ../shared/data): a
missing folder fails the test, as there, rather than skipping it."""

from __future__ import annotations

from pathlib import Path

import pytest
from _stopping import StopsOnItsThirdRun


@pytest.fixture(autouse=True)
def _registries_restored():
    """Each test's register_method / register_sampler calls end with the test: a name a
    test registers is free for the next one (registering another factory under a
    registered name is an error)."""
    from metaopt.benchmark import _methods, _samplers

    methods, samplers = dict(_methods._METHODS), dict(_samplers._SAMPLERS)
    yield
    for registry, before in ((_methods._METHODS, methods), (_samplers._SAMPLERS, samplers)):
        registry.clear()
        registry.update(before)


@pytest.fixture(scope="session")
def tabrepo_dir(shared_data) -> Path:
    return shared_data / "tabrepo-lightgbm"


@pytest.fixture(scope="session")
def pmlb_suite(pmlb_root):
    from metaopt.data import get_suite

    return get_suite("pmlb-classification", root=pmlb_root).select(limit=2)


@pytest.fixture(scope="session")
def yahpo_dir(shared_data) -> Path:
    pytest.importorskip("yahpo_gym")
    pytest.importorskip("onnxruntime")
    return shared_data / "yahpo"


@pytest.fixture
def interrupted_method() -> str:
    """The name of a registered benchmark method that a Ctrl-C stops on its third run."""
    from metaopt.benchmark import register_method

    register_method("stops", StopsOnItsThirdRun)
    return "stops"
