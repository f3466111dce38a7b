"""docs/meta.md's signatures of the learners, task samplers and MetaTrainer name every
argument of the code with its default (a changed default or a new argument shows here)."""

import inspect
import math
import re
from pathlib import Path

import pytest
import torch

import metaopt.meta as meta

PAGE = (Path(__file__).resolve().parents[2] / "docs" / "meta.md").read_text()
NAMES = ["MAML", "ANIL", "MetaSGD", "MAMLpp", "Reptile", "ProtoNet", "MatchingNet",
         "RelationNet", "MetaTrainer", "ClassificationTasks", "RegressionTasks",
         "SinusoidTasks"]


def _documented(name: str) -> dict[str, str]:
    """The arguments of ``name(...)`` as the page writes them: name -> default text
    ('' for one without a default)."""
    calls = re.findall(rf"`{name}\(([^`]*)\)`", PAGE)  # the longest: its signature
    assert calls, f"{name}(...) is not on the page"
    args = {}
    for part in re.split(r",\s*(?![^()]*\))", " ".join(max(calls, key=len).split())):
        key, _, default = part.partition("=")
        args[key.strip()] = default.strip()
    return args


def _same(text: str, value) -> bool:
    if isinstance(value, torch.dtype):
        return text == str(value)
    if isinstance(value, tuple):
        parts = [p.strip() for p in text.strip("()").split(",")]
        return len(parts) == len(value) and all(
            (p == "pi" and math.isclose(v, math.pi)) or (p != "pi" and float(p) == v)
            for p, v in zip(parts, value, strict=True))
    try:
        return eval(text, {}) == value  # noqa: S307  # a literal of the page
    except (NameError, SyntaxError):
        return False


@pytest.mark.parametrize("name", NAMES)
def test_the_page_gives_every_argument_and_default(name):
    documented = _documented(name)
    parameters = list(inspect.signature(getattr(meta, name).__init__).parameters.values())[1:]
    assert list(documented) == [p.name for p in parameters]
    wrong = [(p.name, documented[p.name], p.default) for p in parameters
             if p.default is not inspect.Parameter.empty
             and not _same(documented[p.name], p.default)]
    assert not wrong, wrong
