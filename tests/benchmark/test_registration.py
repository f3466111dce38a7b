"""register_method and register_sampler: built-in names are refused, and a registered
name is replaced only when asked (a silent replacement made every results table name
something else after the name)."""

from __future__ import annotations

import optuna
import pytest

from metaopt.benchmark import (
    list_methods,
    list_samplers,
    make_method,
    register_method,
    register_sampler,
)
from metaopt.benchmark._samplers import get_sampler_factory


class Mine:
    def fit(self, train):
        pass

    def run(self, problem, budget, seed):
        return problem.history


class Other(Mine):
    pass


def qmc(dataset, seed):
    return optuna.samplers.QMCSampler(seed=seed)


def qmc_unscrambled(dataset, seed):
    return optuna.samplers.QMCSampler(scramble=False, seed=seed)


@pytest.mark.parametrize("name", ["metaopt", "random", "portfolio", "metaopt-maml"])
def test_a_built_in_method_name_is_refused(name):
    builtin = type(make_method(name))
    for replace in (False, True):
        with pytest.raises(ValueError, match=rf"^'{name}' is a built-in method of the "
                           "surrogate benchmarks: register your method under another name$"):
            register_method(name, Mine, replace=replace)
    assert type(make_method(name)) is builtin


@pytest.mark.parametrize("name", ["metaopt", "random", "tpe", "default", "flaml"])
def test_a_built_in_sampler_name_is_refused(name):
    for replace in (False, True):
        with pytest.raises(ValueError, match=rf"^'{name}' is a built-in method of "
                           r"metaopt.benchmark.run: register your sampler under another name$"):
            register_sampler(name, qmc, replace=replace)
    assert name in ("default", "flaml") or get_sampler_factory(name) is not qmc


def test_a_registered_method_is_replaced_only_when_asked():
    register_method("mine", Mine)
    register_method("mine", Mine)  # the same factory again: nothing changes
    with pytest.raises(ValueError, match="^a method is already registered as 'mine': pass "
                       "replace=True to replace it, or register yours under another name$"):
        register_method("mine", Other)
    assert type(make_method("mine")) is Mine
    register_method("mine", Other, replace=True)
    assert type(make_method("mine")) is Other
    assert list_methods().count("mine") == 1


def test_a_registered_sampler_is_replaced_only_when_asked():
    register_sampler("qmc", qmc)
    register_sampler("qmc", qmc)
    with pytest.raises(ValueError, match="^a sampler is already registered as 'qmc': pass "
                       "replace=True to replace it, or register yours under another name$"):
        register_sampler("qmc", qmc_unscrambled)
    assert get_sampler_factory("qmc") is qmc
    register_sampler("qmc", qmc_unscrambled, replace=True)
    assert get_sampler_factory("qmc") is qmc_unscrambled
    assert list_samplers().count("qmc") == 1


class ScriptSampler(optuna.samplers.RandomSampler):
    """A sampler class of no installed package (as one defined in a script)."""


def test_a_registered_samplers_jobs_record_the_library_of_its_class(pmlb_suite, tmp_path):
    """Jobs of a registered sampler recorded no peer_version (only the built-in peers'
    were known), so the report's "Peer methods' libraries" line left them out."""
    from importlib.metadata import version

    from metaopt.benchmark import report, run

    register_sampler("qmc", qmc)
    register_sampler("script", lambda dataset, seed: ScriptSampler(seed=seed))
    out = tmp_path / "out"
    frame = run(pmlb_suite.select(limit=1), out, methods=["qmc", "script", "default"],
                budget_trials=1, seeds=1, folds=2, cv_folds=2, spaces="knn", max_rows=100,
                progress=False)
    assert (frame["status"] == "ok").all()
    optuna_version = f"optuna {version('optuna')}"
    assert (frame.loc[frame["method"] == "qmc", "peer_version"] == optuna_version).all()
    assert frame.loc[frame["method"] != "qmc", "peer_version"].isna().all()
    assert (f"Peer methods' libraries: `qmc`: {optuna_version} (2 jobs).") in \
        report(out).read_text()


def test_a_registered_sampler_runs_in_worker_processes(pmlb_suite, tmp_path):
    """With n_jobs > 1 its jobs run in loky workers, whose registry has the built-ins
    only: every job failed with "unknown optimizer 'qmc'"."""
    from metaopt.benchmark import run

    # a local function: pickled by value, as one of a script (__main__) is
    register_sampler("qmc", lambda dataset, seed: optuna.samplers.QMCSampler(seed=seed))
    frame = run(pmlb_suite.select(limit=1), tmp_path / "out", methods=["qmc"],
                budget_trials=1, seeds=1, folds=2, cv_folds=2, spaces="knn", max_rows=100,
                n_jobs=2, backend="loky", progress=False)
    assert frame["error"].isna().all() and (frame["status"] == "ok").all()
    assert len(frame) == 2


@pytest.mark.parametrize("name", ["a,b", "runs/qmc", "", " qmc", "-qmc", "q mc", 3])
def test_a_name_the_results_cannot_carry_is_refused(name):
    """A method's name is one item of the command line's comma-separated ``--methods``
    and part of each job's file name (``jobs/<dataset>__<method>__s0__f0.jsonl``): a
    comma made it unselectable, a slash a job file in a missing folder."""
    with pytest.raises(ValueError, match=r"letters, digits and _ \. \+ @ # - only"):
        register_sampler(name, qmc)
    with pytest.raises(ValueError, match=r"letters, digits and _ \. \+ @ # - only"):
        register_method(name, Mine)
    assert name not in list_samplers() and name not in list_methods()


def test_names_like_the_benchmarks_own_are_accepted():
    register_sampler("qmc-v2.1+scrambled@s0", qmc)
    register_method("mine#2", Mine)
    assert "qmc-v2.1+scrambled@s0" in list_samplers() and "mine#2" in list_methods()
