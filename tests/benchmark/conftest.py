from __future__ import annotations

from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parents[3] / "shared" / "data"
if not DATA.is_dir():
    DATA = Path("/work/shared/data")


@pytest.fixture(scope="session")
def tabrepo_dir() -> Path:
    path = DATA / "tabrepo-lightgbm"
    if not (path / "results.csv").is_file():
        pytest.skip("TabRepo data not available")
    return path


@pytest.fixture(scope="session")
def pmlb_suite():
    from metaopt.data import get_suite

    root = DATA / "pmlb"
    if not root.is_dir():
        pytest.skip("PMLB data not available")
    return get_suite("pmlb-classification", root=root).select(limit=2)


@pytest.fixture(scope="session")
def yahpo_dir() -> Path:
    pytest.importorskip("yahpo_gym")
    pytest.importorskip("onnxruntime")
    path = DATA / "yahpo"
    if not (path / "splits.json").is_file():
        pytest.skip("YAHPO data not available")
    return path


class _StopsOnItsThirdRun:
    """Evaluates the first configurations, and is interrupted (Ctrl-C) on its third run."""

    def fit(self, train):
        self.runs = 0

    def run(self, problem, budget, seed):
        self.runs += 1
        if self.runs == 3:
            raise KeyboardInterrupt
        for i in range(budget):
            problem.evaluate(i)


@pytest.fixture
def interrupted_method() -> str:
    """The name of a registered benchmark method that a Ctrl-C stops on its third run."""
    from metaopt.benchmark import register_method

    register_method("stops", _StopsOnItsThirdRun)
    return "stops"
