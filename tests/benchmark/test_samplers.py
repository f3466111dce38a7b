from __future__ import annotations

import logging

import optuna
import pytest

from metaopt.benchmark._samplers import get_sampler_factory, quiet_optuna


@pytest.mark.parametrize("name", ["gp", "cmaes"])
def test_model_based_samplers_do_not_log_every_independent_parameter(name, caplog):
    """GP and CMA-ES model only the parameters of every trial; the others (conditional
    ones: YAHPO's rbv2 spaces, benchmark run's spaces) go to their random sampler by
    design. gp logged a warning per such parameter per trial, flooding the output."""
    with quiet_optuna():
        study = optuna.create_study(sampler=get_sampler_factory(name)(None, 0))

    def objective(trial):
        kind = trial.suggest_categorical("kind", ["a", "b"])
        return trial.suggest_float(f"x_{kind}", 0.0, 1.0)

    optuna.logging.enable_propagation()
    try:
        with caplog.at_level(logging.WARNING, logger="optuna"):
            study.optimize(objective, n_trials=13)
    finally:
        optuna.logging.disable_propagation()
    assert not [r for r in caplog.records if "sampled independently" in r.getMessage()]


def test_declared_optuna_takes_the_arguments_the_gp_method_passes():
    """The "gp" method builds GPSampler(warn_independent_sampling=False), an argument
    new in optuna 4.5: optuna 4.0-4.4, which pyproject.toml allowed, raised a TypeError
    when a benchmark started it."""
    import inspect
    import tomllib
    from pathlib import Path

    from packaging.requirements import Requirement

    root = Path(__file__).resolve().parents[2]
    dependencies = tomllib.loads((root / "pyproject.toml").read_text())["project"]["dependencies"]
    pin = next(Requirement(d) for d in dependencies if Requirement(d).name == "optuna")
    assert not pin.specifier.contains("4.4.0"), pin
    assert "warn_independent_sampling" in inspect.signature(optuna.samplers.GPSampler).parameters
    assert isinstance(get_sampler_factory("gp")(None, 0), optuna.samplers.GPSampler)


def test_a_benchmark_leaves_the_callers_optuna_settings_alone(shared_data):
    """quiet_optuna set Optuna's verbosity and a warnings filter for good: a benchmark
    run from Python left the caller's own studies at WARNING, experimental warnings
    hidden."""
    import warnings

    from metaopt.benchmark import tabrepo_benchmark

    optuna.logging.set_verbosity(optuna.logging.INFO)
    filters = list(warnings.filters)
    try:
        tabrepo_benchmark(shared_data / "tabrepo-lightgbm", cv=2, methods=["random"],
                          budgets=[1], seeds=1, progress=False)
        assert optuna.logging.get_verbosity() == optuna.logging.INFO
        assert warnings.filters == filters
    finally:
        optuna.logging.set_verbosity(optuna.logging.WARNING)


@pytest.mark.parametrize("space", ["knn", "svm"])
def test_metaopt_method_of_one_space_serves_that_spaces_meta_model(space, shared_data):
    """`benchmark run --methods metaopt --spaces knn`: suggest_config combined the one
    space behind a one-choice "space" parameter, which Optuna answers without asking
    the sampler, and named its parameters "knn__..."; MetaSampler never learnt the
    family, found none of the knn model's names and sent every trial to its fallback
    (the first trials were random search's)."""
    import warnings

    from metaopt.benchmark import suggest_config
    from metaopt.data import LocalSource
    from metaopt.spaces import get_space

    data = LocalSource(shared_data / "pmlb").load("breast_w", "classification")
    study = optuna.create_study(direction="maximize",
                                sampler=get_sampler_factory("metaopt")(data, 0))
    names = set()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the fallback's warning fails the test
        for _ in range(3):
            trial = study.ask()
            member, params = suggest_config(trial, [space], "classification")
            names |= set(trial.params)
            study.tell(trial, 0.5 + 0.1 * trial.number)
    assert member == space and params == trial.params
    assert names <= {p.name for p in get_space(space).params}
    sources = [t.system_attrs.get("metaopt:source", "") for t in study.trials]
    assert all(s.startswith("portfolio pick") for s in sources), sources
