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
