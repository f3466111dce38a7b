"""pyproject.toml: what an installed (not editable) metaopt declares."""

from __future__ import annotations

import tomllib
from pathlib import Path

from packaging.specifiers import SpecifierSet

ROOT = Path(__file__).resolve().parents[1]


def _pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_requires_python_is_the_oldest_the_dependencies_support():
    """scikit-learn >= 1.8 needs Python 3.11: with requires-python >= 3.10, pip on Python
    3.10 installed nothing and said "No matching distribution found for scikit-learn>=1.8"
    instead of that metaopt needs a newer Python. ruff checks the same oldest Python."""
    pyproject = _pyproject()
    assert "scikit-learn>=1.8" in pyproject["project"]["dependencies"]
    python = SpecifierSet(pyproject["project"]["requires-python"])
    assert not python.contains("3.10.14") and python.contains("3.11.0")
    assert pyproject["tool"]["ruff"]["target-version"] == "py311"
