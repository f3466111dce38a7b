"""Shared test fixtures: the read-only real data in ../shared/data."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("METAOPT_SHARED_DATA", REPO_ROOT.parent / "shared" / "data"))
PMLB_ROOT = SHARED_DATA / "pmlb"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.fail(f"shared data not found at {SHARED_DATA}; set METAOPT_SHARED_DATA")
    return SHARED_DATA


@pytest.fixture(scope="session")
def pmlb_root(shared_data: Path) -> Path:
    return shared_data / "pmlb"
