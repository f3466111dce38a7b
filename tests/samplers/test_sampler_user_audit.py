"""What a new user runs into with MetaSampler (docs/sampler.md): documented behaviour
that did not hold, and mistakes refused with a message that says what to do."""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import optuna
import pytest

from metaopt.samplers import MetaSampler

optuna.logging.set_verbosity(optuna.logging.WARNING)


def _svm(trial: optuna.Trial) -> float:
    c = trial.suggest_float("C", 1e-3, 1e3, log=True)
    kernel = trial.suggest_categorical("kernel", ["rbf", "linear"])
    return math.log(c) + (kernel == "linear")


def _source_study(name: str = "past") -> optuna.Study:
    study = optuna.create_study(study_name=name, direction="maximize")
    study.enqueue_trial({"C": 5.0, "kernel": "linear"})
    study.optimize(_svm, n_trials=1)
    return study


def test_warm_start_lists_the_source_studies_best_first():
    """warm_start's docstring and the OptunaHub README said the source studies' best
    comes first, as the sampler tries it; warm_start listed the portfolio's picks alone."""
    sampler = MetaSampler(space="svm", task="classification", seed=0,
                          source_studies=[_source_study()])
    picks = sampler.warm_start(3)
    assert picks["params"][0] == {"C": 5.0, "kernel": "linear"}
    assert picks["reason"].tolist() == ["best trial of source study 'past'",
                                        "portfolio pick 1", "portfolio pick 2"]
    plain = MetaSampler(space="svm", task="classification", seed=0).warm_start(2)
    assert picks["params"][1:].tolist() == plain["params"].tolist()
    study = optuna.create_study(direction="maximize", sampler=sampler)
    study.optimize(_svm, n_trials=2)  # what the sampler then tries, in that order
    assert [t.params for t in study.trials] == [
        {k: p[k] for k in ("C", "kernel")} for p in picks["params"][:2]]


def test_one_source_study_is_taken_as_a_list_of_one():
    """source_studies=study (not [study]) failed with "'Study' object is not iterable"."""
    sampler = MetaSampler(space="svm", task="classification", seed=0,
                          source_studies=_source_study())
    assert sampler.warm_start(1)["params"][0] == {"C": 5.0, "kernel": "linear"}


@pytest.mark.parametrize("given", ["past", ["past"]])
def test_a_study_name_says_how_to_load_the_study(given):
    """A study's name was read letter by letter ("source_studies[0] must be an
    optuna.Study, got str" for 'p'), saying nothing of how to get the study."""
    with pytest.raises(TypeError, match=r"optuna\.load_study\(study_name=\.\.\., storage"):
        MetaSampler(space="svm", source_studies=given)


def _run_example(*args: str) -> subprocess.CompletedProcess:
    from _snippets import child_env

    script = Path(__file__).resolve().parents[2] / "examples" / "optuna_sampler.py"
    return subprocess.run([sys.executable, str(script), *args], capture_output=True,
                          text=True, timeout=120, env=child_env())


def test_optuna_sampler_example_on_a_regression_dataset(pmlb_root):
    """examples/optuna_sampler.py on a regression dataset failed in StratifiedKFold
    ("Supported target types are: ('binary', 'multiclass'). Got 'continuous'")."""
    done = _run_example("--root", str(pmlb_root), "--dataset", "560_bodyfat",
                        "--space", "knn", "--trials", "1")
    assert done.returncode == 0, done.stderr[-2000:]
    assert "best CV R² so far" in done.stdout


@pytest.mark.parametrize(("option", "value", "said"), [
    ("--dataset", "credit-g", "did you mean 'credit_g'?"),
    ("--space", "randomforest", "did you mean 'random_forest'?")])
def test_optuna_sampler_example_names_a_mistyped_name(pmlb_root, option, value, said):
    """A mistyped --dataset or --space ended in a traceback."""
    done = _run_example("--root", str(pmlb_root), option, value)
    assert done.returncode == 1 and said in done.stderr
    assert "Traceback" not in done.stderr


def test_meta_model_is_known_once_the_space_is():
    """MetaSampler(space="svm").meta_model was None until the first proposal (or
    warm_start), though its docstring said None only until the space is known."""
    sampler = MetaSampler(space="svm", task="classification")
    assert sampler.meta_model is not None and sampler.meta_model.space.name == "svm"
    assert MetaSampler().meta_model is None  # the space comes from the study


def test_another_spaces_parameters_are_named_with_that_space():
    """space="all" for an objective asking an SVM's C and kernel (the combined space names
    them 'svm__C', 'svm__kernel'): the warning listed the 61 names of 'all' without
    saying that space='svm' is the one the objective asks for."""
    sampler = MetaSampler(space="all", task="classification", seed=0)
    study = optuna.create_study(direction="maximize", sampler=sampler)
    with pytest.warns(UserWarning, match=r"\['C', 'kernel'\] \(those of space 'svm': pass "
                                         r"space='svm'\) are none of space 'all''s"):
        study.optimize(_svm, n_trials=2)


def test_meta_features_as_a_dict_are_read_as_the_series():
    """meta_features={...} (the dict the ranker and the prior take) was refused: "must be
    a pandas Series (the output of metaopt.metafeatures.compute), got dict"."""
    import pandas as pd
    from sklearn.datasets import load_breast_cancer

    from metaopt import metafeatures

    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    mf = metafeatures.compute(X.iloc[:150], y.iloc[:150])
    as_dict = MetaSampler(space="svm", meta_features=mf.to_dict(), seed=0)
    as_series = MetaSampler(space="svm", meta_features=mf, seed=0)
    pd.testing.assert_series_equal(as_dict._meta_features, as_series._meta_features,
                                   check_names=False)
    assert as_dict._task == "classification"  # read from its is_classification
    with pytest.raises(TypeError, match="a pandas Series .* or a dict of its names, got list"):
        MetaSampler(space="svm", meta_features=list(mf))
