"""`benchmark run`: each method does what it says, on one space and on several."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import optuna
import pytest

import metaopt
from metaopt.benchmark import _runner


def _job(pmlb_root, method: str, spaces, budget: int = 3, task: str = "classification"):
    """The rows of one job of `run`: the smallest dataset of the suite, outer fold 0."""
    from metaopt.data import get_suite

    suite = get_suite(f"pmlb-{task}", root=pmlb_root).select(limit=1, smallest_first=True)
    settings = _runner.Settings(suite.name, budget, None, 2, 2, _runner._check_spaces(spaces),
                                100, None, 0)
    return _runner.run_job(_runner.BenchmarkJob(next(iter(suite)), method, 0, 0), settings)


@pytest.fixture
def studies(monkeypatch):
    """The Optuna studies made while the test runs."""
    made = []
    create = optuna.create_study

    def recording(*args, **kwargs):
        made.append(create(*args, **kwargs))
        return made[-1]

    monkeypatch.setattr(optuna, "create_study", recording)
    return made


@pytest.mark.parametrize("space", ["random_forest", "hist_gradient_boosting"])
def test_metaopt_of_one_space_serves_that_spaces_model_from_the_first_trial(
        space, pmlb_root, studies):
    """`--methods metaopt --spaces random_forest` served extra_trees' meta-model (the
    same parameter names: MetaSampler inferred the space and took the first of a tie)
    while the job file said the `all` model; with `hist_gradient_boosting`, the first
    trial's `learning_rate` (a name other spaces share) came from the fallback sampler,
    the rest from portfolio pick 1, which the second trial then proposed again."""
    rows = _job(pmlb_root, "metaopt", space)
    assert [r["status"] for r in rows] == ["ok"] * 3, rows
    (study,) = studies
    sources = [t.system_attrs.get("metaopt:source", "") for t in study.trials]
    assert [s.split(":")[0] for s in sources] == [f"portfolio pick {i}" for i in (1, 2, 3)]
    model = study.sampler._model  # the meta-model that proposed them
    assert model.space.name == space
    card = json.loads((_models() / f"{space}@classification" / "card.json").read_text())
    assert {r["meta_model"] for r in rows} == {
        f"{space}@classification, trained {card['trained_at']}"}


def _models():
    return Path(metaopt.__file__).parent / "_models"



def test_cmaes_on_several_spaces_says_it_is_random_search(pmlb_suite, tmp_path):
    """CMA-ES models no categorical parameter: on several spaces, the choice of space is
    the only parameter of every trial, so `--methods cmaes --spaces all` gave random
    search's trials, labelled cmaes (with `--spaces all` on pmlb-regression, the very
    trials of `random` with the same seed)."""
    import warnings

    from metaopt.benchmark import run

    small = dict(budget_trials=2, folds=2, cv_folds=2, max_rows=60, time_limit=None,
                 progress=False, backend="sequential")
    suite = pmlb_suite.select(limit=1)
    with pytest.warns(UserWarning, match="'cmaes' on several spaces is random search"):
        frame = run(suite, tmp_path / "two", methods="cmaes,random", spaces="knn,linear",
                    **small)
    assert set(frame["space"]) <= {"knn", "linear"}
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # one space: CMA-ES models its numeric parameters
        run(suite, tmp_path / "one", methods="cmaes", spaces="knn", **small)


@pytest.mark.parametrize(("method", "trials"), [("gp", 11), ("metaopt", 4)])
def test_a_methods_one_time_imports_are_not_charged_to_its_first_job(method, trials,
                                                                     pmlb_root):
    """GP's first model-based suggestion in a process imports torch and Optuna's GP
    modules (2.1 s), the `metaopt` ranker's first adaptation torch._dynamo (1.3-2.6 s):
    within the clock of the first such job of each worker, which under budget_seconds
    ran fewer trials (4 in 3 s, against 29 for the next job on the same data). The
    time between trials, less their fits, is the sampler's own: a few tenths at most.
    (Run alone, in a process that has not yet run these methods, it shows the bug.)"""
    rows = _job(pmlb_root, method, "knn", budget=trials)
    assert len(rows) == trials and all(r["status"] == "ok" for r in rows), rows
    ends = [r["elapsed"] for r in rows]
    sampling = [b - a - r["eval_time"] for a, b, r in zip([0.0, *ends[:-1]], ends, rows,
                                                         strict=True)]
    assert max(sampling) < 1.0, sampling


def _automl():
    """FLAML's AutoML, or a skip: flaml without its automl extra (a dependency of another
    package) imports, with a warning, and has no AutoML."""
    flaml = pytest.importorskip("flaml")
    if not hasattr(flaml, "AutoML"):
        pytest.skip("flaml has no AutoML: pip install 'flaml[automl]'")
    return flaml.AutoML


def test_flaml_under_budget_seconds_counts_the_trials_it_ran(pmlb_root, monkeypatch):
    """FLAML's job ends at the iterations it ran: its last row's `trial` (the final
    table's "trials") was the iteration of its last incumbent, 81 where it ran 85."""
    AutoML = _automl()
    made = []

    class Recorded(AutoML):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            made.append(self)

    monkeypatch.setattr(sys.modules["flaml"], "AutoML", Recorded)
    from metaopt.data import get_suite

    suite = get_suite("pmlb-classification", root=pmlb_root).select(limit=1,
                                                                    smallest_first=True)
    settings = _runner.Settings(suite.name, None, 1.0, 2, 2, ("knn",), 100, None, 0)
    rows = _runner.run_job(_runner.BenchmarkJob(next(iter(suite)), "flaml", 0, 0), settings)
    (automl,) = made
    ran = sum(automl._iter_per_learner.values())
    assert ran > len(automl.config_history)  # some iterations found no better model
    assert rows[-1]["trial"] == ran and rows[-1]["incumbent_test_score"] is not None


@pytest.mark.parametrize(("method", "package"), [("flaml", "flaml"), ("cmaes", "cmaes")])
def test_a_method_whose_library_is_missing_is_refused_before_any_work(
        method, package, pmlb_suite, tmp_path, monkeypatch):
    """Each of its jobs failed as a whole once the run had started (FLAML's ImportError
    in every flaml job; cmaes at its second trial), the run going on with the others."""
    import sys

    from metaopt.benchmark import run

    for name in [m for m in sys.modules if m == package or m.startswith(f"{package}.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, package, None)  # import fails: not installed
    with pytest.raises(ValueError, match=f"method '{method}' needs .*pip install"):
        run(pmlb_suite.select(limit=1), tmp_path / "out", methods=["random", method],
            budget_trials=2, folds=2, cv_folds=2, spaces="knn", max_rows=60,
            backend="sequential", progress=False)
    assert not (tmp_path / "out").exists()


def test_flamls_seconds_leave_out_the_scoring_of_the_test_part(pmlb_root, monkeypatch):
    """The final table's seconds are of tuning; FLAML's job counted the scoring of its
    model on the outer-test part too (the other methods' refits and scoring are not)."""
    _automl()
    import time

    from sklearn.metrics import get_scorer

    def slow(name):
        scorer = get_scorer(name)

        def scoring(*args):
            time.sleep(2.0)
            return scorer(*args)
        return scoring

    monkeypatch.setattr(_runner, "get_scorer", slow)
    rows = _job(pmlb_root, "flaml", "knn", budget=2)
    assert rows[-1]["incumbent_test_score"] is not None
    assert rows[-1]["elapsed"] < 2.0, rows[-1]
