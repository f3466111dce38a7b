"""Every ```python block of docs/*.md and of the OptunaHub page runs as a reader would
run it, and gives what the text around it says.

Each page runs in a fresh interpreter in an empty directory, its blocks in page order
in one namespace (a later block may use an earlier one's names: meta.md's hand-written
loop uses the quick start's learner). Blocks that stand for the reader's own data
(`X, y`, `dataset`, `trial`, a ranker's arrays) get it from a prelude run just before
them: real pmlb tables and TabRepo's OpenML qualities, random arrays for the ranker.
`optunahub.load_module("samplers/metaopt_sampler")` loads this repository's
docs/optunahub/metaopt_sampler package (the real one downloads it from GitHub).

The fast tests cut the budgets (`BUDGETS`, each replaced text must be in its block)
and check what holds at any budget; the slow ones run the pages as written and check
the numbers the text gives. A traceback names the page and the block's line.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from _snippets import program, python_snippets, run

ROOT = Path(__file__).resolve().parents[1]
PAGES = [*sorted((ROOT / "docs").glob("*.md")),
         *sorted((ROOT / "docs").glob("optunahub/*/README.md"))]


def _name(page: Path) -> str:
    return str(page.relative_to(ROOT))


# the reader's own data, defined before the block (page, index among its python blocks)
PRELUDES = {
    ("docs/meta.md", 3): """
        import numpy as np
        import torch
        rng = np.random.default_rng(0)
        n_inputs = 6
        X_seen_1, score_1 = rng.normal(size=(3, n_inputs)), rng.normal(size=3)
        X_seen_2, score_2 = rng.normal(size=(7, n_inputs)), rng.normal(size=7)
        X_heldout_1, s1 = rng.normal(size=(5, n_inputs)), rng.normal(size=5)
        X_heldout_2, s2 = rng.normal(size=(4, n_inputs)), rng.normal(size=4)
        x_obs, score_obs = torch.randn(4, n_inputs), torch.randn(4)
        candidates = torch.randn(50, n_inputs)
        """,
    ("docs/metafeatures.md", 0): """
        import pandas as pd
        from metaopt.data import LocalSource
        dataset = LocalSource(PMLB).load("wine_recognition")
        X, y = dataset.X, dataset.y
        qualities = pd.read_csv(TABREPO + "/task_metadata.csv").iloc[0].to_dict()
        """,
    ("docs/nas.md", 0): """
        from metaopt.data import LocalSource
        _data = LocalSource(PMLB).load("wine_recognition")
        X, y = _data.X, _data.y
        """,
    ("docs/spaces.md", 0): """
        import optuna
        from metaopt.data import LocalSource
        _data = LocalSource(PMLB).load("1027_ESL")
        X, y = _data.X, _data.y
        trial = optuna.create_study().ask()
        """,
    ("docs/optunahub/metaopt_sampler/README.md", 0): """
        import importlib.util
        import sys
        import types

        def _load_module(package):
            assert package == "samplers/metaopt_sampler", package
            spec = importlib.util.spec_from_file_location(
                "metaopt_sampler", DOCS + "/optunahub/metaopt_sampler/__init__.py")
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            return module

        sys.modules["optunahub"] = types.SimpleNamespace(load_module=_load_module)
        """,
}

# fast runs: (old, new) text replacements in a block
BUDGETS = {
    ("docs/estimators.md", 0): [("n_trials=30", "n_trials=3")],
    ("docs/meta.md", 0): [("iterations=3000", "iterations=20"), ("eval_every=300", "eval_every=10")],
    ("docs/meta.md", 1): [("range(1000)", "range(5)")],
    ("docs/meta.md", 2): [("iterations=300", "iterations=2"),
                          ("seed=1).sample(600)", "seed=1).sample(40)")],  # test episodes
    ("docs/nas.md", 0): [("n_trials=20", "n_trials=3")],
    ("docs/optunahub/metaopt_sampler/README.md", 0): [("n_trials=20", "n_trials=3")],
}

# what the text says, checked right after the block, at any budget ...
CHECKS = {
    ("docs/estimators.md", 0): """
        assert 0.9 < model.score(X_test, y_test) <= 1
        assert "meta-learned warm start" in model.summary()
        assert model.plot_history().get_figure() is not None
        """,
    ("docs/meta.md", 0): """
        from pathlib import Path
        assert tuple(pred.shape) == (600, 100, 1)
        assert tuple(learner.learning_rates()["0.weight"].shape) == (40, 1)
        assert Path("history.png").stat().st_size > 0
        assert Path("runs/sine/best.json").is_file()
        """,
    ("docs/meta.md", 2): """
        assert tuple(predicted.shape) == tuple(test.query_y.shape)
        assert predicted.shape[1] == 75   # 5 classes x 15 queries
        """,
    ("docs/meta.md", 3): """
        assert loss.ndim == 0 and torch.isfinite(loss)
        assert tuple(scores.shape) == (len(candidates), 1)
        """,
    ("docs/metafeatures.md", 0): """
        assert list(values.index) == list(metafeatures.FEATURE_NAMES)
        assert values.name == "wine_recognition" and values.notna().all()
        assert vector.shape == (30,)
        assert simple[list(metafeatures.SIMPLE_FEATURES)].notna().all()
        assert simple.drop(list(metafeatures.SIMPLE_FEATURES)).isna().all()
        """,
    ("docs/nas.md", 0): """
        assert len(configs) == 5 and all("n_layers" in c for c in configs)
        assert 0.8 < model.best_score_ <= 1 and model.best_params_
        """,
    ("docs/sampler.md", 0): """
        assert isinstance(study.sampler, MetaSampler)
        """,
    ("docs/spaces.md", 0): """
        assert list_spaces()[:2] == ["hist_gradient_boosting", "random_forest"]
        assert space.conditions["gamma"] == ("kernel", ("rbf", "poly", "sigmoid"))
        assert vector.dtype == "float32" and len(vector) == space.n_encoded
        """,
    ("docs/spaces.md", 1): """
        assert both.tasks == ("regression",)
        """,
    ("docs/optunahub/metaopt_sampler/README.md", 0): """
        assert study.best_value > 0.9
        """,
}
# ... and at the page's own budgets
FULL_CHECKS = {
    ("docs/meta.md", 2): """
        assert tuple(predicted.shape) == (600, 75)
        accuracy = (predicted == test.query_y).float().mean().item()
        assert 0.9 <= accuracy <= 0.96, accuracy   # "~0.93"
        """,
    ("docs/optunahub/metaopt_sampler/README.md", 0): """
        assert len(study.trials) == 20
        """,
}


def _program(page: Path, budgets: bool, shared: Path) -> list[tuple[str, str]]:
    """(name for tracebacks, code) to run in order for ``page``."""
    name = _name(page)

    def of_page(table):
        return {index: value for (where, index), value in table.items() if where == name}

    checks = {index: CHECKS.get((name, index), "")
              + ("" if budgets else FULL_CHECKS.get((name, index), ""))
              for index in range(len(python_snippets(page)))}
    return program(page, name, variables={"PMLB": str(shared / "pmlb"),
                                          "TABREPO": str(shared / "tabrepo-lightgbm"),
                                          "DOCS": str(ROOT / "docs")},
                   preludes=of_page(PRELUDES), replacements=of_page(BUDGETS) if budgets else {},
                   checks=checks)


def _run(page: Path, tmp_path: Path, budgets: bool, shared: Path) -> None:
    run(_program(page, budgets, shared), tmp_path,
        tmp_path.parent / f"{tmp_path.name}_program.json")  # not in the reader's folder


SLOW = {"docs/estimators.md", "docs/meta.md", "docs/nas.md",
        "docs/optunahub/metaopt_sampler/README.md"}


def test_every_page_with_python_is_run():
    blocks = {_name(page): len(python_snippets(page)) for page in PAGES}
    assert {page for page, _ in CHECKS} == {page for page, n in blocks.items() if n}
    assert all(index < blocks.get(page, 0)
               for page, index in [*PRELUDES, *BUDGETS, *CHECKS, *FULL_CHECKS])
    assert {page for page, _ in [*BUDGETS, *FULL_CHECKS]} <= SLOW


@pytest.mark.parametrize("page", [p for p in PAGES if python_snippets(p)], ids=_name)
def test_a_page_s_snippets_run(page, tmp_path, shared_data):
    _run(page, tmp_path, budgets=True, shared=shared_data)


@pytest.mark.slow
@pytest.mark.parametrize("page", [p for p in PAGES if _name(p) in SLOW], ids=_name)
def test_a_page_s_snippets_run_at_their_budgets(page, tmp_path, shared_data):
    _run(page, tmp_path, budgets=False, shared=shared_data)
