"""README.md's Python snippets: each runs on its own when copied (it leaves no name
undefined: the sampler snippet used X and y without defining them), and all of them run
as a reader would run them and give what the text around them says.

The run is tests/_snippets.py's, as for docs/*.md (test_docs_snippets.py): the blocks
in README order, in one namespace, in a fresh interpreter in an empty folder, each
followed by the checks of what the README says next to it. What cannot run offline is
replaced (each replaced text must still be in its block): the OpenML task 31 (credit-g)
of the datasets snippet by OpenML dataset 2 (anneal) from a writable copy of the real
OpenML cache in ../shared/data/openml-cache (a dataset: no splits to check), and
`path/to/pmlb` by the real pmlb directory. The fast test also cuts the budgets
(`BUDGETS`); the slow one runs them as written.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from _snippets import program, python_snippets, run

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCKS = [code for _, code in python_snippets(README)]

# the OpenML cache the datasets snippet reads, a copy with dataset 2 only (the reader's
# `OpenMLSource()` reads openml's cache directory: it is set here, not passed)
PRELUDES = {
    3: """
        import openml
        openml.config.set_root_cache_directory(OPENML_CACHE)
        openml.config.connection_n_retries = 1
        """,
}

# (old, new) in a block, in every run: offline data; `_openml` / `_pmlb` keep the
# datasets the snippet loads and then replaces, for the checks
OFFLINE = {
    3: [("ds = OpenMLSource().load_task(31)", "ds = _openml = OpenMLSource().load_dataset(2)"),
        ('ds = LocalSource("path/to/pmlb").load("adult")',
         'ds = _pmlb = LocalSource(PMLB).load("adult")')],
}

# ... in the fast run: budgets
BUDGETS = {
    0: [("n_trials=20", "n_trials=3")],
    2: [("n_trials=20", "n_trials=7")],   # 3 portfolio picks, 3 ranker picks, 1 random
    4: [("iterations=2000", "iterations=50")],
}

# what the README says, checked after the block, at any budget ...
CHECKS = {
    0: """
        import matplotlib.pyplot as plt
        from metaopt import MetaOptRegressor
        # "meta-learned warm start across model families, then the search"
        assert "\\nmeta-learned warm start:\\n" in model.summary()
        assert model.warm_start_["family"].nunique() > 1, model.warm_start_
        # "best CV score vs trial, by model family"
        ax = plt.gca()
        labels = ax.get_legend_handles_labels()[1]
        # "best complete so far" when the budget stopped a trial (a slow machine)
        stopped = "stopped by the time budget (mean of its finished folds)" in labels
        assert ("best complete so far" if stopped else "best so far") in labels, labels
        assert set(model.history_["family"]) <= set(labels), labels
        assert 0.9 < model.best_score_ <= 1   # breast cancer: a tuned model
        # recheck=True is the default; the classifier keeps the single best, the
        # regressor ensembles (ensemble_size="auto": 20 rounds)
        assert model.recheck is True and len(model.ensemble_) == 1
        assert MetaOptRegressor().ensemble_size == "auto"
        from metaopt.estimators._search import _AUTO_ENSEMBLE
        assert _AUTO_ENSEMBLE == {"classification": 1, "regression": 20}
        """,
    1: """
        import warnings
        import numpy as np
        import pytest
        from sklearn.datasets import load_iris
        assert len(picks) == 3
        # "the nearest known datasets, and whether they order the picks"
        assert "569 x 30; nearest: pmlb/" in picks.attrs["summary"]
        assert "the portfolio's order is the same for every dataset" in picks.attrs["summary"]
        # "the first picks are the same for every dataset"
        other = metaopt.suggest(*load_iris(return_X_y=True, as_frame=True),
                                space="hist_gradient_boosting", n=3)
        assert list(other["params"]) == list(picks["params"])
        # a row identifier: suggest warns about it and keeps it
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            kept = metaopt.suggest(X.assign(PassengerId=np.arange(1, len(X) + 1)), y,
                                   space="hist_gradient_boosting", n=1)
        assert any("PassengerId" in str(w.message) and "row identifier" in str(w.message)
                   for w in caught), [str(w.message) for w in caught]
        assert "569 x 31;" in kept.attrs["summary"]
        # a column of numbers but for "?": warned, naming the value
        marked = X.astype({"mean radius": object})
        marked.loc[:4, "mean radius"] = "?"
        with pytest.warns(UserWarning, match="'\\\\?'"):
            metaopt.suggest(marked, y, space="hist_gradient_boosting", n=1)
        """,
    2: """
        from optuna.samplers import TPESampler
        sources = [t.system_attrs["metaopt:source"] for t in study.trials]
        # the portfolio first, then the adapted ranker, every 4th after the portfolio random
        assert all(s.startswith("portfolio pick") for s in sources[:3]), sources
        assert all(s.startswith("ranker adapted on") for s in sources[3:6]), sources
        assert sources[6].startswith("random untried"), sources
        assert isinstance(study.sampler._fallback, TPESampler)   # "go to TPE"
        assert 0.9 < study.best_value <= 1
        """,
    3: """
        from metaopt.data import (TASK_TYPES, DatasetLoadError, DatasetRef, Suite,
                                  infer_task, list_suites, load_table, openml_suites,
                                  validate)
        assert _openml.name == "anneal" and _openml.X.shape == (898, 38)
        assert _pmlb.name == "adult" and _pmlb.task == "classification"
        assert ds.X.shape == (569, 30)
        # "a fixed, documented vector"
        values = metafeatures.compute(ds.X, ds.y, ds.task)
        assert list(values.index) == list(metafeatures.FEATURE_NAMES)
        assert isinstance(suite, Suite) and suite.name == "openml-cc18"
        assert all(isinstance(ref, DatasetRef) for ref in suite.refs)
        assert len(get_suite("pmlb-classification", root=PMLB).refs) > 100   # "with root="
        assert "openml-cc18" in list_suites() and "openml-cc18" in openml_suites()
        assert callable(load_table) and callable(validate) and callable(infer_task)
        assert issubclass(DatasetLoadError, Exception) and "regression" in TASK_TYPES
        """,
    4: """
        import torch
        rates = learner.learning_rates()["0.weight"]
        assert tuple(rates[:3].shape) == (3, 1)
        assert not torch.allclose(rates, torch.full_like(rates, 0.01))   # learned, from lr
        assert callable(learner.compile_meta_loss)
        """,
}
# ... and at the README's own budgets
FULL_CHECKS = {
    0: """
        # 20 trials, unless the 60 s budget ends the search first (a loaded machine)
        assert len(model.history_) == 20 or model.fit_time_ > 0.9 * 60, model.fit_time_
        """,
    2: """
        assert len(study.trials) == 20
        """,
}


def test_the_readme_has_python_snippets():
    assert len(BLOCKS) == 5
    assert all(index < len(BLOCKS)
               for index in [*PRELUDES, *OFFLINE, *BUDGETS, *CHECKS, *FULL_CHECKS])
    assert set(CHECKS) == set(range(len(BLOCKS)))   # every block is checked


@pytest.mark.parametrize("number", range(len(BLOCKS)))
def test_a_snippet_defines_every_name_it_uses(number):
    """A reader copies one section: the in-order run would not see a block that uses
    an earlier block's names."""
    checked = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--select", "F821", "--no-cache",
         "--stdin-filename", f"README_snippet_{number}.py", "-"],
        input=BLOCKS[number], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr


def _run(tmp_path: Path, openml_cache: Path, shared: Path, budgets: bool) -> None:
    replacements = {index: OFFLINE.get(index, []) + (BUDGETS.get(index, []) if budgets else [])
                    for index in range(len(BLOCKS))}
    checks = {index: CHECKS[index]
              + ("" if budgets else FULL_CHECKS.get(index, "")) for index in CHECKS}
    steps = program(README, "README.md", preludes=PRELUDES, replacements=replacements,
                    checks=checks, variables={"PMLB": str(shared / "pmlb"),
                                              "OPENML_CACHE": str(openml_cache)})
    reader = tmp_path / "reader"   # the reader's empty folder; the cache copy is beside it
    reader.mkdir()
    run(steps, reader, tmp_path / "program.json")


def test_the_readme_s_snippets_run(tmp_path, openml_cache, shared_data):
    _run(tmp_path, openml_cache, shared_data, budgets=True)


@pytest.mark.slow
def test_the_readme_s_snippets_run_at_their_budgets(tmp_path, openml_cache, shared_data):
    _run(tmp_path, openml_cache, shared_data, budgets=False)
