"""Train the meta-models of a knowledge base, one directory per space, with a model card."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from metaopt._checks import check_int
from metaopt._mf_version import MF_VERSION_KEY
from metaopt._model_files import (
    describe_machine,
    read_metafeatures_version,
    training_machine,
    warn_metafeatures_version,
)
from metaopt._warnings import warn
from metaopt.kb import KnowledgeBase, library_versions
from metaopt.ranker._cost import CostModel
from metaopt.ranker._matrix import PerformanceMatrix, missing_families
from metaopt.ranker._metamodel import MetaModel
from metaopt.ranker._ranker import ConfigRanker
from metaopt.ranker._shipped import model_name
from metaopt.ranker._spaces import _known_spaces
from metaopt.spaces import list_spaces
from metaopt.spaces._registry import ALL


def train_meta_models(
    kb: KnowledgeBase,
    out: str | Path,
    *,
    spaces: list[str] | None = None,
    min_datasets: int = 5,
    source: str = "",
    ranker_options: dict | None = None,
    policy_options: dict | None = None,
    progress: bool = True,
    on_saved: Callable[[str, Path], object] | None = None,
) -> dict[str, Path]:
    """Fit a :class:`MetaModel` per space of ``kb`` and save it under ``out/<space>/``.

    ``spaces`` defaults to every space of ``kb`` plus, when it holds several registered
    ones, their combination (the model family is then a parameter): ``"all"`` when it
    holds every registered family, else e.g. ``"linear+knn"``.
    Spaces with fewer than ``min_datasets`` datasets are skipped, with a warning, as is a
    combination's task type that one of its families has no evaluations of. Each model gets a
    :class:`CostModel` of its families' fit times, and each directory a ``CARD.md`` and
    ``card.json``: training data, settings, time, versions. ``ranker_options`` go to
    :class:`ConfigRanker`, ``policy_options`` to :class:`MetaModel`. ``on_saved(name,
    directory)`` is called as each model is saved (the command line prints it).
    """
    min_datasets = check_int(min_datasets, "min_datasets", 2)  # a ranker needs 2 to train
    _check_options(ranker_options, policy_options)
    repeated = sorted({s for s in spaces or [] if list(spaces or []).count(s) > 1})
    if repeated:  # each would be trained and written again, over the first
        raise ValueError(f"spaces name {repeated[0]!r} more than once: a space's model is "
                         "trained and written once, give each space once")
    frame = kb.to_frame()
    present = sorted(frame["space"].unique())
    unknown = sorted(s for s in set(spaces or []) - set(present) if not _is_combination(s))
    if unknown:
        raise ValueError(f"spaces {unknown} have no evaluations in the knowledge base; "
                         f"present: {present} (or a combination: 'all', 'a+b')")
    if spaces is None:
        spaces = present + _combination_of(present)
    _check_described(frame, spaces)
    trainable = []
    # every matrix first: a space that cannot be trained stops the command before any training
    for space, task, matrix in _matrices(frame, spaces):
        if matrix.n_tasks < min_datasets:
            warn(f"{model_name(space, task)}: not trained, {matrix.n_tasks} dataset(s) with "
                 f"shared configurations, fewer than min_datasets={min_datasets}")
        else:
            trainable.append((space, task, matrix))
    written = {}
    for i, (space, task, matrix) in enumerate(trainable, 1):
        name = model_name(space, task)
        if progress:  # above its members' bars: which model of how many, on what
            tqdm.write(f"{name}: model {i}/{len(trainable)}, {matrix.n_tasks} datasets x "
                       f"{matrix.n_configs} configurations", file=sys.stderr)
        # external spaces (TabRepo's) and spaces of one's own have no model families to
        # time: no cost model
        cost = (_optional_cost_model(frame, space, task, name)
                if all(f.strip() in list_spaces() for f in _families(space)) else None)
        written[name] = _fit_and_save(matrix, Path(out) / name, source, ranker_options,
                                      policy_options, progress, cost=cost)
        if on_saved is not None:
            on_saved(name, written[name])
    return written


def _combination_of(present: list[str]) -> list[str]:
    """The combination of the registered families among ``present``, as a one-name list
    (``"all"`` when every family is there), or none for fewer than two."""
    families = [s for s in list_spaces() if s in present]
    if len(families) < 2:
        return []
    return [ALL if families == list_spaces() else "+".join(families)]


def add_cost_models(kb: KnowledgeBase, models: str | Path) -> dict[str, Path]:
    """Fit the :class:`CostModel` of every knowledge-base meta-model under ``models``
    (directories ``<space>`` or ``<space>@<task>`` of registered spaces) from ``kb``'s fit
    times and write it beside the model as ``cost.json``, leaving the portfolio and the
    ranker as they are; the cards say so. Warns ``MetaFeaturesVersionWarning`` when a
    model's card records meta-features of another version than ``kb``'s and this
    metaopt's (retrain it rather)."""
    frame = kb.to_frame()
    written = {}
    for directory in sorted(Path(models).iterdir()):
        space, _, task = directory.name.partition("@")
        if not (directory / "portfolio.json").is_file() or (
                space not in list_spaces() and not _is_combination(space)):
            continue
        cost = _cost_model(frame, space, task or None)
        cost.save(directory / "cost.json")
        _write_cost_card(directory, cost)
        written[directory.name] = directory
    return written


def _optional_cost_model(frame, space: str, task: str | None, name: str) -> CostModel | None:
    """:func:`_cost_model`, or None with a warning when the knowledge base has too few
    timed evaluations for one (the meta-model then cannot skip slow configurations)."""
    try:
        return _cost_model(frame, space, task)
    except ValueError as exc:
        warn(f"{name}: no cost model ({exc}); the meta-model is saved without "
             "one, so time_fraction has no effect")
        return None


def _cost_model(frame, space: str, task: str | None) -> CostModel:
    """The cost model of ``space``'s model families, from ``frame``'s rows of ``task``."""
    rows = frame[frame["space"].isin(_families(space))]
    return CostModel.fit(rows if task is None else rows[rows["task"] == task])


def _families(space: str) -> list[str]:
    """The model families (the knowledge base's spaces) of ``space``, a combination or not."""
    return list_spaces() if space == ALL else space.split("+")


def train_yahpo_meta_model(
    scenario: str,
    data: str | Path,
    out: str | Path,
    *,
    n_configs: int = 256,
    ranker_options: dict | None = None,
    policy_options: dict | None = None,
    progress: bool = True,
) -> Path:
    """Fit a :class:`MetaModel` on the ``train`` instances of a YAHPO Gym scenario (a
    shared Sobol design of ``n_configs`` configurations on each) and save it under
    ``out/yahpo_<scenario>/`` with its card. The ``valid`` instances stay unseen, for
    validation (``metaopt benchmark yahpo``); the reserved test instances are never read.
    """
    from metaopt.kb import YahpoBenchmark

    _check_options(ranker_options, policy_options)
    bench = YahpoBenchmark(scenario, data, split="train")
    matrix = PerformanceMatrix.from_yahpo(bench, n_configs=n_configs)
    source = (f"YAHPO Gym {scenario} surrogate ({data}), train split, {n_configs} Sobol "
              f"configurations per instance, target {bench.score_target}")
    return _fit_and_save(matrix, Path(out) / bench.space.name, source, ranker_options,
                         policy_options, progress)


def _check_options(ranker_options: dict | None, policy_options: dict | None) -> None:
    """Refuse bad ranker or policy settings before the matrices are built (seconds per
    space) and any ranker is trained."""
    ConfigRanker(**(ranker_options or {}))._check_settings()
    MetaModel._check_policy(**(policy_options or {}))


def _fit_and_save(matrix: PerformanceMatrix, directory: Path, source: str,
                  ranker_options: dict | None, policy_options: dict | None,
                  progress: bool, cost: CostModel | None = None) -> Path:
    start = time.perf_counter()
    ranker = ConfigRanker(**{"progress": progress, **(ranker_options or {})})
    model = MetaModel.fit(matrix, ranker=ranker, cost=cost, **(policy_options or {}))
    seconds = time.perf_counter() - start
    directory = model.save(directory)
    _write_card(directory, matrix, model, seconds, source)
    if cost is not None:
        _write_cost_card(directory, cost)
    return directory


def _check_described(frame, spaces: list[str]) -> None:
    """A ValueError, before any training, naming the spaces of ``frame`` that are no
    registered space and that it neither describes nor carries distributions of (a
    SearchSpace of the user's own that an earlier metaopt's ``kb.build`` evaluated,
    recording its evaluations only)."""
    stored = frame.attrs.get("distributions", {}) | frame.attrs.get("space_descriptions", {})
    unknown = [s for s in spaces
               if not (s in _known_spaces() or _is_combination(s) or s in stored)]
    if unknown:
        others = [s for s in spaces if s not in unknown]
        raise ValueError(
            f"the knowledge base's spaces {unknown} are no metaopt space and it holds only "
            "their evaluations (a SearchSpace of your own that an earlier metaopt's kb.build "
            "evaluated): record the space in the store, KnowledgeBase(store)"
            ".add_space_description(space.to_json_dict()), or train its meta-model in "
            "Python with the space object, MetaModel.fit("
            "PerformanceMatrix.from_frame(kb.to_frame(), space)) (docs/spaces.md, 'Your own "
            "space')" + (f"; train the others with --spaces (spaces=): {','.join(others)}"
                         if others else ""))


def _is_combination(space: str) -> bool:
    return space == ALL or "+" in space


def _matrices(frame, spaces):
    """One matrix per space, or one per task type where :func:`_task_types_apart`."""
    for space in spaces:
        rows = frame[frame["space"].isin(_families(space))]
        if not _task_types_apart(rows):
            yield space, None, PerformanceMatrix.from_frame(frame, space)
            continue
        for task in sorted(rows["task"].unique()):
            missing = missing_families(space, set(frame.loc[frame["task"] == task, "space"]))
            if missing:  # e.g. linear evaluated on classification datasets only
                warn(f"{model_name(space, task)}: not trained, model families "
                     f"{missing} have no evaluations of task {task!r}")
                continue
            yield space, task, PerformanceMatrix.from_frame(frame, space, task=task)


def _task_types_apart(rows) -> bool:
    """Whether the task types of ``rows`` need a model each: scored on different
    metrics (accuracy, R^2), or evaluated on different configurations (a knowledge-base
    build designs each task type's apart). TabRepo's tasks share both, and one model
    serves them all."""
    if rows["task"].nunique() <= 1:
        return False
    by_task = rows.groupby("task")
    if "metric" in rows and by_task["metric"].agg(frozenset).nunique() > 1:
        return True
    configs = list(by_task["config_id"].agg(frozenset))
    return len(frozenset.intersection(*configs)) < 0.5 * min(map(len, configs))


def _write_card(directory: Path, matrix: PerformanceMatrix, model: MetaModel, seconds: float,
                source: str) -> None:
    ranker = model.ranker
    assert ranker is not None  # MetaModel.fit fits one
    regret = matrix.regret()
    card = {
        "space": matrix.space, "source": source, "n_datasets": matrix.n_tasks,
        "n_configs": matrix.n_configs, "datasets": list(matrix.tasks.index),
        "task_types": matrix.tasks["task"].value_counts().to_dict(),
        "missing_fraction": float(np.isnan(regret).mean()),
        "ranker": {k: getattr(ranker, k) for k in (
            "algorithm", "hidden", "inner_lr", "inner_steps", "n_ensemble", "iterations",
            "meta_batch_size", "lr", "max_support", "n_query", "use_metafeatures",
            "random_state")},
        "policy": model.policy,
        "training_seconds": round(seconds, 1),
        "machine": training_machine(),
        "versions": library_versions(),
        MF_VERSION_KEY: model.metafeatures_version,
        "trained_at": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
    }
    (directory / "card.json").write_text(json.dumps(card, indent=1, default=str))
    portfolio = model.portfolio.suggest(min(5, matrix.n_configs))
    lines = [
        f"# Meta-model card: `{matrix.space}`", "",
        f"- Trained on **{matrix.n_tasks} datasets** x {matrix.n_configs} shared configurations "
        f"({card['task_types']}) from {source or 'a knowledge base'}; "
        f"{card['missing_fraction']:.1%} of the matrix missing.",
        f"- Ranker: {ranker.algorithm}, MLP {list(ranker.hidden)}, {ranker.n_ensemble} members x "
        f"{ranker.iterations} meta-iterations (batch {ranker.meta_batch_size}, {ranker.inner_steps} "
        f"inner steps, inner lr init {ranker.inner_lr}); pairwise ranking loss.",
        f"- Policy: {model.n_warmup} portfolio warm starts, then the adapted ranker "
        f"(exploration {model.exploration}; every {model.random_every}th proposal after the "
        f"warm start random"
        + (f"; blended with the portfolio's configuration covariance, weight "
           f"{model.covariance_weight}" if model.covariance_weight else "")
        + (f"; a model family is set aside after {model.family_patience} evaluations "
           f"without improvement" if model.family_patience and _is_combination(matrix.space)
           else "")
        + (f"; after the warm start, candidates within {model.min_distance} of an evaluated "
           f"configuration are left out" if model.min_distance else "")
        + (f"; with a time budget, configurations predicted to take more than "
           f"{model.time_fraction:g} of the time left are skipped" if model.time_fraction
           else "") + ").",
        f"- Training took {seconds:.0f} s on {describe_machine(card['machine'])}, "
        f"{card['trained_at']}.",
        f"- Versions: {', '.join(f'{k} {v}' for k, v in card['versions'].items())}; "
        f"meta-features version {model.metafeatures_version} (`METAFEATURES_VERSION`).",
        "", "## First portfolio configurations", "",
        "| # | expected regret | params |", "|---|---|---|",
        *[f"| {i + 1} | {r.expected_regret:.3f} | `{json.dumps(r.params)}` |"
          for i, r in enumerate(portfolio.itertuples())],
        "", "## Training datasets", "", ", ".join(matrix.tasks.index), "",
        "Not validated here: metaopt's `docs/ranker.md` has leave-datasets-out figures of "
        "the shipped models only.", "",
    ]
    (directory / "CARD.md").write_text("\n".join(lines))


def _write_cost_card(directory: Path, cost: CostModel) -> None:
    """The cost model's section of ``CARD.md`` and entry of ``card.json`` (replacing any
    earlier one); warns when ``cost``'s meta-features version is not the model's and the
    model's is not this metaopt's (a card that does not say is of version 1)."""
    fitted = time.strftime("%Y-%m-%d %H:%M:%S %Z")
    card = json.loads((directory / "card.json").read_text())
    version = read_metafeatures_version(card, directory / "card.json", "meta-model card")
    if cost.metafeatures_version != version:  # a cost model added to an older model
        warn_metafeatures_version(version, directory, "meta-model")
    card["cost"] = {
        "fitted_at": fitted, MF_VERSION_KEY: cost.metafeatures_version, "families": {
            name: {k: spec[k] for k in ("n_rows", "n_datasets", "alpha", "residual_std")}
            for name, spec in cost.families.items()}}
    (directory / "card.json").write_text(json.dumps(card, indent=1, default=str))
    text = (directory / "CARD.md").read_text().split("\n## Cost model\n")[0].rstrip("\n")
    lines = [
        "", "## Cost model", "",
        f"`cost.json`, fitted {fitted} on the knowledge base's fit times (mean seconds per "
        f"fold) and sizes (meta-features version {cost.metafeatures_version}): per family, "
        "a ridge regression of the log fit time on the encoded configuration, log rows, "
        "features and classes, and configuration x log rows. "
        "Residual standard deviation in log seconds (in-sample):", "",
        "| family | evaluations | datasets | residual std |", "|---|---|---|---|",
        *[f"| {name} | {spec['n_rows']} | {spec['n_datasets']} | {spec['residual_std']:.2f} |"
          for name, spec in cost.families.items()], "",
    ]
    (directory / "CARD.md").write_text(text + "\n" + "\n".join(lines))
