"""metaopt is a typed package (PEP 561): a user's type checker reads its hints."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
import textwrap
import tomllib
from dataclasses import fields
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# The README's snippets, with the types a user's checker should see (not Any); checked by
# mypy, never run.
USER_SCRIPT = """
from pathlib import Path
from typing import Any, Literal, assert_type

import numpy as np
import optuna
import pandas as pd
import torch.nn as nn

import metaopt
from metaopt import ArchitecturePrior, MetaMLPClassifier, MetaOptClassifier, MetaOptRegressor
from metaopt.data import Dataset, from_arrays
from metaopt.meta import MetaSGD, MetaTrainer, SinusoidTasks
from metaopt.metafeatures import compute
from metaopt.nas import MLPClassifier
from metaopt.samplers import MetaSampler
from metaopt.spaces import SearchSpace, get_space

X = pd.DataFrame({"a": [0.0, 1.0, 2.0, 3.0], "b": [1.0, 0.0, 1.0, 0.0]})
y = pd.Series([0, 1, 0, 1])

model = MetaOptClassifier(n_trials=20, time_budget=60, random_state=0).fit(X, y)
assert_type(model, MetaOptClassifier)
labels: np.ndarray = model.predict(X)
print(model.summary(), labels)
model.plot_history()
assert_type(MetaOptRegressor(n_trials=5).fit(X, y.astype(float)), MetaOptRegressor)

picks = metaopt.suggest(X, y, space="hist_gradient_boosting", n=3)
assert_type(picks, pd.DataFrame)

space = get_space("hist_gradient_boosting")
assert_type(space, SearchSpace)


def objective(trial: optuna.Trial) -> float:
    params = space.sample(trial, "classification")
    assert_type(params, dict[str, Any])
    estimator = space.build(params, "classification")
    return float(np.mean(estimator.fit(X, y).predict(X) == y))


study = optuna.create_study(direction="maximize",
                            sampler=MetaSampler(space=space.name, dataset=(X, y), seed=0))
study.optimize(objective, n_trials=20)
MetaSampler(space=space, meta_model=Path("my-models"))  # a model trained on a space object

ds = from_arrays(X, y)
assert_type(ds, Dataset)
assert_type(Dataset(X.to_numpy(), [0, 1, 0, 1], None, "mine").task,
            Literal["classification", "regression"])
mf = compute(ds.X, ds.y, ds.task)

net = nn.Sequential(nn.Linear(1, 40), nn.ReLU(), nn.Linear(40, 1))
learner = MetaSGD(net, lr=0.01)
trainer = MetaTrainer(learner, iterations=2000, meta_batch_size=25)
trainer.fit(SinusoidTasks(k_shot=10, seed=0))
trainer.plot_history().savefig("history.png")
print(learner.learning_rates()["0.weight"][:3])

prior = ArchitecturePrior.default()
assert_type(prior, ArchitecturePrior)
print(prior.sample(mf, n=5, seed=0), prior.describe(mf, n=5))

mlp = MetaMLPClassifier(n_trials=5, cv=3, random_state=0).fit(X, y)
assert_type(mlp, MetaMLPClassifier)
assert_type(MLPClassifier().fit(X, y), MLPClassifier)
print(mlp.predict_proba(X), mlp.summary())
"""

# metaopt, optuna and numpy are analysed (errors inside them are not reported, as for any
# installed package); the other libraries are skipped (Any): with all of them analysed
# (torch, SQLAlchemy, matplotlib...) the check took 11.5 s instead of 3.
MYPY_CONFIG = """
[mypy]
ignore_missing_imports = True
follow_imports = skip
cache_dir = {cache}
"""


def test_the_wheel_ships_the_py_typed_marker():
    assert (ROOT / "metaopt" / "py.typed").is_file()
    package_data = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "py.typed" in package_data["tool"]["setuptools"]["package-data"]["metaopt"]


@pytest.mark.parametrize("package", ["metaopt", "metaopt.ranker", "metaopt.kb",
                                     "metaopt.benchmark"])
def test_lazy_exports_are_imported_for_type_checkers(package):
    """A name loaded on first use (``_EXPORTS``) is Any to a type checker unless the
    ``if TYPE_CHECKING:`` block imports it from the same module."""
    path = ROOT / Path(*package.split(".")) / "__init__.py"
    body = ast.parse(path.read_text()).body
    exports = next(ast.literal_eval(node.value) for node in body
                   if isinstance(node, ast.Assign) and node.targets[0].id == "_EXPORTS")
    block = next(node for node in body if isinstance(node, ast.If)
                 and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING")
    imported = {alias.asname: node.module for node in block.body for alias in node.names}
    assert imported == {name: package + module for name, module in exports.items()}


def test_the_dataset_init_for_type_checkers_takes_the_fields():
    """Dataset's ``__init__`` under TYPE_CHECKING (which takes ``task=None`` and array-likes,
    as the generated one does) lists the dataclass's fields, in order."""
    from metaopt.data import Dataset

    source = (ROOT / "metaopt" / "data" / "_dataset.py").read_text()
    cls = next(node for node in ast.parse(source).body
               if isinstance(node, ast.ClassDef) and node.name == "Dataset")
    init = next(node for block in cls.body if isinstance(block, ast.If)
                for node in block.body if isinstance(node, ast.FunctionDef))
    assert [a.arg for a in init.args.args[1:]] == [f.name for f in fields(Dataset)]


def test_a_user_script_type_checks(tmp_path):
    pytest.importorskip("mypy", reason="mypy is not installed (pip install -e '.[dev]')")
    script = tmp_path / "user.py"
    script.write_text(textwrap.dedent(USER_SCRIPT))
    config = tmp_path / "mypy.ini"
    config.write_text(MYPY_CONFIG.format(cache=tmp_path / "cache") + "".join(
        f"[mypy-{module}]\nfollow_imports = silent\n"
        for name in ("metaopt", "optuna", "numpy") for module in (name, name + ".*")))
    # mypy does not see through the editable install's import hook: point it at the source
    env = {**os.environ, "MYPYPATH": str(ROOT)}
    result = subprocess.run([sys.executable, "-m", "mypy", "--config-file", str(config),
                             str(script)], cwd=tmp_path, env=env, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
