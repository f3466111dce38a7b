"""The names of the dataset suites metaopt knows, and the error for any other name, read
without importing :mod:`metaopt.data` (pandas): the command line refuses a typo in
``--suite`` before its imports. :mod:`metaopt.data.suites` builds the suites."""

from __future__ import annotations

import difflib
import json
from importlib import resources

# the local directory suites, by the task type of the datasets each takes
LOCAL_SUITES = {"pmlb-classification": "classification", "pmlb-regression": "regression"}


def openml_suites() -> dict[str, dict]:
    """The OpenML suites metaopt knows by name.

    Returns
    -------
    dict of str to dict
        ``{name: {"openml_suite_id": ..., "task_type": ..., "task_ids": [...]}}``.
    """
    text = resources.files("metaopt").joinpath("data", "suites.json").read_text()
    return {k: v for k, v in json.loads(text).items() if not k.startswith("_")}


def list_suites() -> list[str]:
    """The names :func:`~metaopt.data.get_suite` accepts, sorted: the OpenML suites and
    the local ones (``pmlb-classification``, ``pmlb-regression``, which need ``root=``).

    Returns
    -------
    list of str
    """
    return sorted([*openml_suites(), *LOCAL_SUITES])


def _meant_suites(name: str, suites: dict[str, dict]) -> list[str]:
    """The known suites an unknown ``name`` may mean: the same name in other case
    (OpenML's "OpenML-CC18"), the suite of that OpenML id ("99"), the names holding it
    ("cc18", "pmlb"), else the closest by spelling."""
    folded, known = str(name).strip().lower(), sorted([*suites, *LOCAL_SUITES])
    return ([n for n in known if n == folded]
            or [n for n, spec in suites.items() if str(spec["openml_suite_id"]) == folded]
            or [n for n in known if folded and folded in n]
            or difflib.get_close_matches(folded, known, n=1))


def check_suite_name(name: str) -> None:
    """Refuse a ``name`` that is no suite of :func:`list_suites`: a ``ValueError`` naming
    the known suites, and the ones it may mean."""
    suites = openml_suites()
    if name in suites or name in LOCAL_SUITES:
        return
    meant = _meant_suites(name, suites)
    raise ValueError(f"unknown suite {name!r}; known suites: {sorted([*suites, *LOCAL_SUITES])}"
                     + (f"; did you mean {' or '.join(map(repr, meant))}?" if meant else ""))
