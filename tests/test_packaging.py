"""pyproject.toml: what an installed (not editable) metaopt declares."""

from __future__ import annotations

import ast
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

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


def _module_level_imports() -> set[str]:
    """Top-level names of the packages metaopt's modules import when they are imported."""
    names = set()
    for path in (ROOT / "metaopt").rglob("*.py"):
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names.add(node.module.split(".")[0])
    return names - set(sys.stdlib_module_names) - {"__future__", "metaopt"}


def test_every_package_imported_at_module_level_is_a_required_dependency():
    """metaopt.kb imported sqlalchemy, and the evaluation workers threadpoolctl, which no
    dependency declared: they came with optuna and scikit-learn, and optuna allows
    SQLAlchemy 1.4, with which ``load_default().to_frame()`` raised "TypeError: Query must
    be a string unless using sqlalchemy" (pandas >= 2.2 reads through SQLAlchemy 2)."""
    declared = {canonicalize_name(Requirement(d).name)
                for d in _pyproject()["project"]["dependencies"]}
    providers = packages_distributions()
    missing = {module: providers.get(module) for module in _module_level_imports()
               if not {canonicalize_name(d) for d in providers.get(module, [])} & declared}
    assert not missing, missing
    sqlalchemy = next(Requirement(d) for d in _pyproject()["project"]["dependencies"]
                      if Requirement(d).name == "sqlalchemy")
    assert not sqlalchemy.specifier.contains("1.4.54")
