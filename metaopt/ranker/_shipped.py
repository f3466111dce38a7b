"""The meta-models shipped with metaopt (``metaopt/_models/<space>/``), read as data."""

from __future__ import annotations

import difflib
import os

from metaopt._model_files import read_body, read_json
from metaopt._shipped_names import models_root as _models_root
from metaopt._shipped_names import no_shipped_model, shipped_spaces
from metaopt._shipped_names import shipped_models as _shipped_models
from metaopt.ranker._metamodel import MetaModel
from metaopt.ranker._spaces import in_trained_order, resolve_space
from metaopt.spaces import CombinedSpace, SearchSpace, get_space, list_spaces
from metaopt.spaces._combined import single_spaces
from metaopt.spaces._registry import ALL


def model_name(space: str, task: str | None = None) -> str:
    """Directory name of a meta-model: ``<space>``, or ``<space>@<task>`` for one task type."""
    return space if task is None else f"{space}@{task}"


def shipped_space(space: str) -> SearchSpace:
    """The search space of a shipped meta-model: a registered space, or the description
    saved with the model (e.g. a YAHPO scenario's), read as data."""
    try:
        return resolve_space(space)
    except ValueError:
        _check_joinable(space)
        names = [n for n in _shipped_models() if n.split("@")[0] == space]
        if not names:
            spaces = shipped_spaces()  # a typo ('knnn'), or the start of one ('tabrepo')
            close = ([s for s in spaces if space and s.startswith(str(space).lower())][:1]
                     or difflib.get_close_matches(str(space).lower(), spaces, n=1))
            raise ValueError(f"unknown search space {space!r}; "
                             + (f"did you mean {close[0]!r}? " if close else "")
                             + f"spaces with a shipped meta-model: {spaces}, or registered "
                             "names joined by '+'") from None
        body = read_body(_models_root() / names[0] / "ranker.json", "ranker")
        return in_trained_order(resolve_space(space, body["space"]), body.get("param_order"))


def load_meta_model(space: str, task: str | None = None) -> MetaModel:
    """The shipped :class:`MetaModel` of a space; ``ValueError`` lists what exists.

    Parameters
    ----------
    space : str
        One of :func:`shipped_spaces`, or the name of a model's folder,
        ``"<space>@<task>"`` (``"knn@classification"``).
    task : {"classification", "regression"}, optional
        The task's model when models are per task (None: the classification one, or the
        task a folder's name gives).

    Returns
    -------
    MetaModel
    """
    if task is not None and task not in ("classification", "regression"):
        raise ValueError(f"task must be 'classification', 'regression' or None, got {task!r}")
    available = _shipped_models()
    family, _, named = str(space).partition("@")
    if named and space in available:  # a folder's name: knn@classification
        if task is not None and task != named:
            raise ValueError(f"{space!r} is the {named} model: ask for task={named!r}, or "
                             f"load_meta_model({family!r}, {task!r})")
        space, task = family, named
    names = [] if "@" in space else [space, model_name(space, "classification")]
    for name in ([model_name(space, task)] if task else []) + names:
        if name in available:
            model = MetaModel.load(_models_root() / name)
            # a model of one name for every task may know one only: yahpo_lcbench's was
            # returned for task="regression", and every proposal of it then failed
            if task is not None:
                model.check_task(task, f"the shipped {space} meta-model")
            return model
    raise no_shipped_model(space, "" if task is None else f" (task {task!r})")


def as_meta_model(meta_model: MetaModel | str | os.PathLike) -> MetaModel:
    """``meta_model`` as the ``meta_model=`` of :func:`metaopt.suggest` and
    :class:`~metaopt.samplers.MetaSampler` takes it: a :class:`MetaModel`, or the
    directory of a saved one (loaded); ``TypeError`` for anything else."""
    if isinstance(meta_model, MetaModel):
        return meta_model
    if isinstance(meta_model, (str, os.PathLike)):
        return MetaModel.load(meta_model)
    raise TypeError("meta_model must be a MetaModel or the directory of a saved one, "
                    f"got {type(meta_model).__name__}")


def _check_joinable(space: str) -> None:
    """Refuse a combination (``"tabrepo_lightgbm+knn"``) that joins the space of a shipped
    benchmark model, which no metaopt model builds, with others, saying why."""
    parts = [part.strip() for part in space.split("+")]
    benchmark = [p for p in parts if p in shipped_spaces() and p not in (*list_spaces(), ALL)]
    if len(parts) > 1 and benchmark:
        raise ValueError(
            f"{space!r}: {benchmark[0]!r} is the space of a shipped meta-model trained on a "
            "benchmark's configurations (TabRepo, YAHPO Gym), with no model metaopt fits: "
            f"only metaopt's own spaces join with '+' ({', '.join(list_spaces())}); use "
            f"{benchmark[0]!r} alone")


def _combination(space: str) -> SearchSpace | None:
    """The combined space ``space`` names (``"all"``, ``"svm+knn"``), else None."""
    if space != ALL and "+" not in space:
        return None
    _check_joinable(space)
    return get_space(space)


def shipped_model_for(space: str, task: str | None) -> MetaModel:
    """The shipped model of ``space``, or for a combination of model families without its
    own, the ``"all"`` model restricted to them."""
    try:
        return load_meta_model(space, task)
    except ValueError:
        combined = _combination(space)
        if not isinstance(combined, CombinedSpace):
            raise
        return load_meta_model(ALL, task).restrict(combined)


def _restricted(model: MetaModel, asked: SearchSpace | None) -> MetaModel | None:
    """``model`` restricted to the model families of the combination ``asked`` (as the
    shipped ``"all"`` model is) when it was trained on a combination holding each of them;
    None otherwise."""
    own = model.space
    if not (isinstance(asked, CombinedSpace) and isinstance(own, CombinedSpace)):
        return None
    members = {m.name for m in asked.members}
    if members and members <= {m.name for m in own.members}:
        return model.restrict(asked)
    return None


def model_for_space(space: str | SearchSpace, model: MetaModel) -> MetaModel:
    """``model`` checked to serve ``space``: a model of that space, or of a combination of
    model families holding each of ``space``'s, restricted to them. A ValueError otherwise.
    A space object (one of the user's own) must also be the space the model serves: each
    of its families as the model was trained on it (a combination in any order)."""
    if isinstance(space, SearchSpace):
        served = _model_of(space.name, model, space)
        trained = {m.name: m for m in single_spaces(served.space)}
        other = [m.name for m in single_spaces(space)
                 if trained[m.name].to_json_dict() != m.to_json_dict()]
        if other:
            raise ValueError(
                f"meta_model was trained on another space {other[0]!r} than the one given "
                "(their parameters, ranges, conditions or defaults differ): give the space "
                "it was trained on, or retrain it on this one")
        return served
    return _model_of(space, model, None)


def _model_of(space: str, model: MetaModel, given: SearchSpace | None) -> MetaModel:
    """:func:`model_for_space` of the space named ``space``; ``given``, its object, if
    any: a combination with a space of one's own, which no registered name resolves."""
    if model.space.name == space:
        return model
    asked = given if isinstance(given, CombinedSpace) else _combination(space)
    restricted = _restricted(model, asked)
    if restricted is None:
        own = {m.name for m in getattr(model.space, "members", ())}
        if own and isinstance(asked, CombinedSpace):
            missing = [m.name for m in asked.members if m.name not in own]
            raise ValueError(
                f"meta_model was trained on the combination {model.space.name!r}, which "
                f"lacks {missing} of {space!r}: leave them out of the space, or give a model "
                "trained on them (metaopt train-meta-model on a knowledge base that has them)")
        if isinstance(model.space, CombinedSpace) and space in own:
            raise ValueError(  # e.g. MetaOptClassifier(spaces="knn", meta_model=<all>)
                f"meta_model was trained on the combination {model.space.name!r}: it serves "
                f"combinations of its families, not {space!r} alone; give a model of "
                + (f"{space!r} (metaopt.ranker.load_meta_model({space!r}, task) is the "
                   "shipped one) or none (the shipped one is the default)"
                   if space in list_spaces() else
                   f"{space!r} alone (docs/spaces.md, 'Your own space')"))
        known = [*list_spaces(), model.space.name]
        close = difflib.get_close_matches(space, known, n=1)
        unknown = ("" if given is not None or asked is not None or space in known
                   else " (no space of metaopt has that name"
                   + (f"; did you mean {close[0]!r}?)" if close else ")"))
        raise ValueError(f"meta_model was trained on space {model.space.name!r}, not "
                         f"{space!r}{unknown}: search {model.space.name!r} with it or give a "
                         f"model of {space!r}")
    return restricted


def training_datasets(space: str | None = None) -> set[str]:
    """Dataset keys the shipped meta-models were trained on (for hold-out checks).

    Parameters
    ----------
    space : str, optional
        Only the models of this space (None: all). A combination of model families
        without its own model (``"svm+knn"``) is served by the ``"all"`` one
        (:func:`shipped_model_for`), so has its keys; ``ValueError`` for a space without a
        shipped meta-model.

    Returns
    -------
    set of str
    """
    if space is not None and space not in shipped_spaces():
        if _combination(space) is None:
            raise no_shipped_model(space)
        space = ALL
    keys: set[str] = set()
    for name in _shipped_models():
        if space is None or name.split("@")[0] == space:
            data = read_json(_models_root() / name / "portfolio.json", "portfolio")
            keys.update(data["task_keys"])
    return keys
