"""docs/estimators.md against the estimators: the layout of ``summary()``, and claims of
the page checked on real fits."""

from __future__ import annotations

import re

import pytest

# the fits of a hand-made study (a stopped trial that did better, a refit that failed its
# check), as tests/estimators/test_stopped_trials.py makes them
from test_stopped_trials import _complete, _fit_on, _stopped, data  # noqa: F401


def _joined(lines: list[str], first: str) -> str:
    """The item of ``summary()`` that starts with ``first``, its wrapped lines (indented
    under its text) joined."""
    at = next(i for i, line in enumerate(lines) if line.startswith(first))
    indent = " " * len(first)
    item = [lines[at]]
    for line in lines[at + 1:]:
        if not line.startswith(indent) or line[len(indent)] == " ":
            break
        item.append(line[len(indent):])
    return " ".join(item)


def test_summary_wraps_its_notes_within_100_characters(monkeypatch, data):  # noqa: F811
    """The "note:" lines of a stopped trial that did better and of a refit that failed
    its check ran to about 200 characters, where the rest of the screen keeps within 100:
    each is wrapped, its later lines indented under its text, so it reads as one item."""
    import metaopt.estimators._search as search

    monkeypatch.setattr(search, "refit_failed", lambda train, cv, constant: cv > 0.75)
    model, _ = _fit_on(monkeypatch, data, [
        _complete([0.80, 0.70, 0.90]),
        _complete([0.60, 0.70, 0.80]),
        _stopped([0.95, 0.85], [0, 1]),
    ])
    lines = model.summary().splitlines()
    assert max(map(len, lines)) <= 100, [line for line in lines if len(line) > 100]
    notes = [i for i, line in enumerate(lines) if line.startswith("note: ")]
    assert len(notes) == 2
    assert all(lines[i + 1].startswith("      ") for i in notes)  # wrapped under its text
    train = model._refit_checks[0]["train"]
    assert [_joined(lines[i:], "note: ") for i in notes] == [
        "note: trial 2 (linear), stopped by time_budget=30 s after 2 of 3 CV folds, scored "
        "0.9000 on them against 0.6500 on the same folds for the chosen trial 1 (linear)",
        "note: trial 0 (linear) scored higher (0.8000), but its refit on 90 rows scores far "
        f"below its CV score on its own training rows ({train:.4f}): the model is trial 1's"]


def test_summary_wraps_its_predicting_line_within_100_characters():
    """"predicting: trial 0 alone, no ensemble (ensemble_size='auto'): 2 complete trials:
    ..." gave why a regressor's ensemble rounds ended as one model on one line of 140
    characters."""
    from sklearn.datasets import make_regression

    from metaopt import MetaOptRegressor

    X, y = make_regression(120, 3, noise=0.0, random_state=0)
    model = MetaOptRegressor(n_trials=2, spaces="linear", cv=3, random_state=0).fit(X, y)
    lines = model.summary().splitlines()
    assert max(map(len, lines)) <= 100, [line for line in lines if len(line) > 100]
    at = next(i for i, line in enumerate(lines) if line.startswith("predicting: "))
    assert re.fullmatch(" {12}\\S.*", lines[at + 1])
    assert _joined(lines[at:], "predicting: ") == (
        "predicting: trial 0 alone, no ensemble (ensemble_size='auto'): 2 complete trials: "
        "ensemble selection picks from the better half, this one alone")



@pytest.mark.parametrize("estimator", ["MetaOptClassifier", "MetaOptRegressor"])
def test_the_signature_takes_the_documented_parameter_types(estimator):
    """The page and the docstrings take a ``SearchSpace`` in ``spaces`` (alone or in the
    list), a callable ``scoring`` and a storage object in ``storage``; the signature's
    hints took ``str`` there, so a user's type checker refused each (mypy: ``Argument
    "storage" to "MetaOptClassifier" has incompatible type "InMemoryStorage"; expected
    "str | None"``)."""
    import typing
    from collections.abc import Callable, Sequence

    import optuna

    import metaopt
    from metaopt.spaces import SearchSpace

    hints = typing.get_type_hints(getattr(metaopt, estimator).__init__)
    spaces = typing.get_args(hints["spaces"])
    assert SearchSpace in spaces
    listed = next(typing.get_args(a)[0] for a in spaces if typing.get_origin(a) is Sequence)
    assert set(typing.get_args(listed)) == {str, SearchSpace}
    assert any(typing.get_origin(a) is Callable for a in typing.get_args(hints["scoring"]))
    assert optuna.storages.BaseStorage in typing.get_args(hints["storage"])

def test_a_meta_model_beside_a_sampler_is_said_to_be_unused():
    """``meta_model`` serves the search's own MetaSampler; with ``sampler=`` it was
    silently unused (a model passed with ``sampler=RandomSampler()``, or beside a
    ``MetaSampler`` of its own, had no effect and nothing said so)."""
    import warnings

    import optuna
    from sklearn.datasets import make_classification

    from metaopt import MetaOptClassifier
    from metaopt.ranker import load_meta_model

    X, y = make_classification(60, n_features=4, random_state=0)
    model = MetaOptClassifier(spaces="linear", n_trials=1, cv=2, random_state=0,
                              meta_model=load_meta_model("linear", "classification"),
                              sampler=optuna.samplers.RandomSampler(seed=0))
    with pytest.warns(UserWarning, match=r"^meta_model is not used with sampler=RandomSampler: "
                      r"the search samples with that sampler \(a MetaSampler takes its own "
                      r"meta_model=\); pass one or the other$"):
        model.fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # either alone: nothing to say
        model.set_params(meta_model=None).fit(X, y)
