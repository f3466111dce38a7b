"""The tasks x configurations view of a knowledge base that meta-models learn from."""

from __future__ import annotations

import dataclasses
import difflib
import json
import numbers
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from metaopt._checks import repeated
from metaopt._warnings import warn

MF_PREFIX = "mf_"
# the columns of KnowledgeBase.to_frame() that from_frame reads
_FRAME_COLUMNS = ("space", "dataset_key", "task", "config_id", "design_id", "config",
                  "cv_score", "status")


def check_matrix(matrix: Any, who: str) -> None:
    """A ``TypeError`` saying how to build a :class:`PerformanceMatrix` when ``who``
    (e.g. ``"ConfigRanker.fit"``) got something else, such as a knowledge base or its
    ``to_frame()``."""
    if isinstance(matrix, PerformanceMatrix):
        return
    spaces = ""
    if isinstance(matrix, pd.DataFrame):
        source = "frame"
        if "space" in matrix.columns:
            spaces = f" (spaces in this frame: {sorted(map(str, matrix['space'].unique()))})"
    else:
        source = "kb.to_frame()" if hasattr(matrix, "to_frame") else "frame"
    raise TypeError(
        f"{who} takes a PerformanceMatrix (the tasks x configurations of one search space), "
        f"got {type(matrix).__name__}: build it with "
        f"PerformanceMatrix.from_frame({source}, space){spaces}")


@dataclass(frozen=True)
class PerformanceMatrix:
    """Scores of shared configurations on many tasks of one search space.

    Usually built by :meth:`from_frame`; each parameter is kept as the attribute of the
    same name.

    Parameters
    ----------
    space : str
        Search-space name.
    tasks : pandas.DataFrame
        One row per task (index ``dataset_key``): ``task`` type and ``mf_*`` meta-features.
    configs : pandas.DataFrame
        One row per configuration (index ``config_id``): ``design_id`` and ``params`` (dict).
    scores : ndarray of shape (n_tasks, n_configs)
        Higher is better. NaN where the configuration was not evaluated on the task;
        ``-inf`` where it was evaluated and failed or timed out.
    search_space : SearchSpace or None, default=None
        The space object, for spaces that cannot be found by name (YAHPO's, built from
        the surrogate's files; a space of your own, from the description or the
        distributions the frame carries); ``None`` resolves ``space`` by name.
    """

    space: str
    tasks: pd.DataFrame
    configs: pd.DataFrame
    scores: np.ndarray
    search_space: Any = None

    @classmethod
    def from_frame(
        cls, frame: pd.DataFrame, space: Any = None, *, task: str | None = None,
        min_coverage: float = 0.5,
    ) -> PerformanceMatrix:
        """Build from :meth:`metaopt.kb.KnowledgeBase.to_frame` rows of one space.

        Seeds are averaged. An R^2 below 0 (no better than predicting the mean; a diverging SVR scores
        -1e29) counts as 0: R^2 is unbounded below, and one such score would squeeze
        every other configuration of the task to a min-max regret of about 0.

        Parameters
        ----------
        frame : pandas.DataFrame
        space : str or SearchSpace, optional
            The space's name (None: the frame's only one), or the space itself. A space
            of your own that ``metaopt.kb.build(..., spaces=[space])`` evaluated is
            rebuilt from the description the store keeps (``attrs["space_descriptions"]``).
        task : {"classification", "regression"}, optional
            Keep only datasets of that task type.
        min_coverage : float, default=0.5
            Only configurations evaluated on at least this fraction of the tasks are kept
            (the shared design part of a knowledge-base build, or a complete external
            matrix); a number in [0, 1].

        Returns
        -------
        PerformanceMatrix
        """
        from metaopt.spaces import SearchSpace

        if not isinstance(frame, pd.DataFrame):
            raise TypeError("PerformanceMatrix.from_frame takes a DataFrame of knowledge-base "
                            f"rows (kb.to_frame()), got {type(frame).__name__}")
        lacking = [c for c in _FRAME_COLUMNS if c not in frame.columns]
        if lacking:
            raise ValueError(f"the frame lacks column(s) {lacking} of knowledge-base rows "
                             "(kb.to_frame())")
        if (isinstance(min_coverage, bool) or not isinstance(min_coverage, numbers.Real)
                or not 0 <= min_coverage <= 1):
            raise ValueError("min_coverage must be a fraction of the datasets in [0, 1], got "
                             f"{min_coverage!r}")
        if not (space is None or isinstance(space, (str, SearchSpace))):
            raise TypeError(f"space must be a space's name, a SearchSpace or None, got "
                            f"{type(space).__name__}")
        given = space if isinstance(space, SearchSpace) else None
        if isinstance(space, SearchSpace):
            space = space.name
        elif space is None:
            spaces = sorted(frame["space"].unique()) if "space" in frame else []
            if len(spaces) != 1:
                raise ValueError(f"the frame holds {len(spaces)} spaces {spaces}: name one "
                                 "(space=...)")
            space = spaces[0]
        given = given or _own_combination(frame, space)
        rows = _rows_of(frame, given or space)
        if rows.empty:
            spaces = sorted(frame["space"].unique())
            raise ValueError(f"space {space!r} has no evaluations; spaces present: {spaces}")
        search_space = given or _custom_space(frame, rows, space)
        if task is not None:
            tasks = sorted(rows["task"].unique())
            rows = rows[rows["task"] == task]
            if rows.empty:
                raise ValueError(f"space {space!r} has no evaluations of task {task!r}; "
                                 f"its tasks: {tasks}")
        score = rows["cv_score"].where(rows["status"] == "ok", -np.inf)
        if "metric" in rows:
            score = score.mask((rows["metric"] == "r2") & np.isfinite(score) & (score < 0), 0.0)
        table = (
            rows.assign(_score=score)
            .groupby(["dataset_key", "config_id"])["_score"].mean()
            .unstack("config_id")
        )
        coverage = table.notna().mean(axis=0)
        table = table.loc[:, coverage >= min_coverage]
        if table.shape[1] == 0:
            raise ValueError(
                f"no configuration of space {space!r} was evaluated on {min_coverage:.0%} "
                f"of its {table.shape[0]} datasets: a meta-model learns from configurations "
                "shared across datasets; evaluate the same ones on every dataset (the shared "
                "design: kb.build(..., n_design=...), metaopt build-kb --n-design; for Optuna "
                "studies, the same seeded start-up or study.enqueue_trial)")
        _check_families(table.columns, given or space, task, min_coverage)
        values = table.to_numpy(dtype=float)
        informative = np.isfinite(values).any(axis=1)
        if not informative.all():  # every configuration failed or none was evaluated
            unshared = list(table.index[np.isnan(values).all(axis=1)])
            failed = [k for k in table.index[~informative] if k not in unshared]
            if failed:
                warn(f"{len(failed)} dataset(s) of space {space!r} without a "
                     f"successful evaluation left out: {', '.join(failed[:5])}")
            if unshared:
                warn(
                    f"{len(unshared)} dataset(s) of space {space!r} left out: they evaluated "
                    f"none of the {table.shape[1]} configuration(s) evaluated on "
                    f"{min_coverage:.0%}+ of the datasets, e.g. {', '.join(unshared[:5])}; "
                    "evaluate the same configurations on every dataset (metaopt build-kb "
                    "--n-design: a design shared by all datasets)")
            table = table.loc[informative]
            if table.empty:
                raise ValueError(f"no dataset of space {space!r} has a successful evaluation")
        firsts = rows.drop_duplicates("config_id").set_index("config_id")
        configs = pd.DataFrame({
            "design_id": firsts.loc[table.columns, "design_id"],
            "params": [json.loads(c) if isinstance(c, str) else c
                       for c in firsts.loc[table.columns, "config"]],
        })
        from metaopt import metafeatures

        # every meta-feature column, NaN (the scaler's training mean) where a source lacks it
        mf_cols = [MF_PREFIX + name for name in metafeatures.FEATURE_NAMES]
        tasks = rows.drop_duplicates("dataset_key").set_index("dataset_key")
        tasks = tasks.reindex(columns=["task", *mf_cols]).loc[table.index]
        return cls(space, tasks, configs, table.to_numpy(dtype=float), search_space)

    @classmethod
    def from_yahpo(cls, benchmark, *, n_configs: int = 256, seed: int = 0) -> PerformanceMatrix:
        """Evaluate a shared Sobol design on every instance of a YAHPO benchmark.

        YAHPO instances come without meta-features: every ``mf_*`` column is NaN.

        Parameters
        ----------
        benchmark : metaopt.kb.YahpoBenchmark
            Its split decides which instances.
        n_configs : int, default=256
            Size of the design.
        seed : int, default=0
            Seeds the design (see :func:`metaopt.kb.load_yahpo`).

        Returns
        -------
        PerformanceMatrix
        """
        from metaopt.kb import load_yahpo

        with load_yahpo(benchmark, n_configs=n_configs, seed=seed) as kb:
            matrix = cls.from_frame(kb.to_frame(), benchmark.space.name)
        return dataclasses.replace(matrix, search_space=benchmark.space)

    @property
    def n_tasks(self) -> int:
        """Number of tasks (rows of ``scores``)."""
        return self.scores.shape[0]

    @property
    def n_configs(self) -> int:
        """Number of configurations (columns of ``scores``)."""
        return self.scores.shape[1]

    @property
    def metafeatures(self) -> pd.DataFrame:
        """The ``mf_*`` columns of ``tasks``."""
        return self.tasks[[c for c in self.tasks.columns if c.startswith(MF_PREFIX)]]

    def regret(self) -> np.ndarray:
        """Per-task normalized regret in [0, 1]: 0 the task's best, 1 its worst or failed.

        NaN stays NaN (not evaluated).

        Returns
        -------
        ndarray of shape (n_tasks, n_configs)
        """
        return normalized_regret(self.scores)

    def subset(self, tasks) -> PerformanceMatrix:
        """The matrix restricted to some tasks.

        Parameters
        ----------
        tasks : iterable of str
            Task keys, each once; the rows come in that order.

        Returns
        -------
        PerformanceMatrix
        """
        if isinstance(tasks, str):
            raise TypeError(f"tasks must be a list of task keys, got str: pass [{tasks!r}]")
        tasks = list(tasks)
        twice = repeated(tasks)
        if twice:
            raise ValueError(f"task keys given more than once: {twice[:10]}")
        idx = self.tasks.index.get_indexer(tasks)
        if (idx < 0).any():
            unknown = [t for t, i in zip(tasks, idx, strict=True) if i < 0]
            keys = [str(k) for k in self.tasks.index]
            meant = []  # a key's last part ('2073' for 'openml-task/2073'), or a near typo
            for key in map(str, unknown):
                meant += ([k for k in keys if k.rsplit("/", 1)[-1] == key][:1]
                          or difflib.get_close_matches(key, keys, n=1, cutoff=0.9))
            raise ValueError(
                f"unknown task keys: {unknown}"
                + (f" (did you mean {', '.join(map(repr, meant))}?)" if meant else "")
                + f"; the matrix's {len(keys)} tasks are keys such as "
                + ", ".join(map(repr, keys[:3])))
        return dataclasses.replace(self, tasks=self.tasks.iloc[idx], scores=self.scores[idx])


def _rows_of(frame: pd.DataFrame, space: Any) -> pd.DataFrame:
    """Rows of ``space`` (a name or a space object); for a combined space (``"all"``,
    ``"a+b"``) the rows of its members, with configurations rewritten as combined ones."""
    combined = _combined(space)
    if combined is None:
        return frame[frame["space"] == getattr(space, "name", space)]
    space = combined.name
    members = {m.name for m in combined.members}
    rows = frame[frame["space"].isin(members)]
    configs = [combined.join(member, json.loads(c) if isinstance(c, str) else c)
               for member, c in zip(rows["space"], rows["config"], strict=True)]
    return rows.assign(space=space, config=configs,
                       config_id=rows["space"] + "/" + rows["config_id"].astype(str))


def _custom_space(frame: pd.DataFrame, rows: pd.DataFrame, space: str):
    """The space of the user's own that ``frame`` describes (one ``kb.build`` evaluated)
    or whose distributions it carries (an imported Optuna study's; both kept by
    :meth:`KnowledgeBase.to_frame`), else None."""
    from metaopt.kb._spaces import custom_space
    from metaopt.ranker._spaces import space_from_json

    described = frame.attrs.get("space_descriptions", {}).get(space)
    if described is not None:
        return space_from_json(described, "restored from a knowledge base")
    stored = frame.attrs.get("distributions", {}).get(space)
    if stored is None:
        return None
    ok = rows.loc[rows["status"] == "ok", "config"]
    return custom_space(space, stored, [json.loads(c) if isinstance(c, str) else c for c in ok])


def _own_combination(frame: pd.DataFrame, name: str):
    """The combination ``name`` (``"my_gb+knn"``) of registered spaces and spaces of the
    user's own that ``frame`` describes, else None (a registered or unknown name)."""
    from metaopt.spaces import combine, get_space, list_spaces

    if "+" not in name:
        return None
    members = []
    for part in (p.strip() for p in name.split("+")):
        try:
            members.append(get_space(part))
        except ValueError:
            members.append(_custom_space(frame, frame[frame["space"] == part], part))
    if any(m is None for m in members) or all(m.name in list_spaces() for m in members):
        return None
    return combine(members, name=name)


def _check_families(config_ids: pd.Index, space: Any, task: str | None,
                    min_coverage: float) -> None:
    """A ValueError when a model family of the combined ``space`` has none of the kept
    ``config_ids``: a model of the combination would rank its configurations blind."""
    from metaopt.spaces import list_spaces

    present = {str(c).partition("/")[0] for c in config_ids}
    missing = missing_families(space, present)
    if missing:
        have = "+".join(f for f in list_spaces() if f in present)  # train-meta-model's name
        of_task = f" of task {task!r}" if task else ""
        raise ValueError(f"combination {getattr(space, 'name', space)!r}: model families {missing} have no "
                         f"configuration evaluated on {min_coverage:.0%} of the datasets"
                         f"{of_task} (or none at all); evaluate them (metaopt build-kb "
                         f"--spaces) or train on the families present ({have!r})")


def _combined(space: Any):
    """The :class:`~metaopt.spaces.CombinedSpace` that ``space`` (a name or a space
    object) is, else None (a single space; an external one such as TabRepo's)."""
    from metaopt.spaces import CombinedSpace, get_space

    if isinstance(space, str):
        try:
            space = get_space(space)
        except ValueError:  # an external space (TabRepo, YAHPO): rows carry its name
            return None
    return space if isinstance(space, CombinedSpace) else None


def missing_families(space: Any, present: set[str]) -> list[str]:
    """The model families of the combined ``space`` (a name or a space object) not in
    ``present`` (none for a single space)."""
    combined = _combined(space)
    return [] if combined is None else [m.name for m in combined.members
                                        if m.name not in present]


def normalized_regret(scores: np.ndarray) -> np.ndarray:
    """Row-wise min-max regret of higher-is-better scores.

    Parameters
    ----------
    scores : array-like of shape (n_tasks, n_configs)
        NaN: not evaluated; ``-inf``: a failure, regret 1.

    Returns
    -------
    ndarray of shape (n_tasks, n_configs)
        In [0, 1], NaN where ``scores`` is NaN.
    """
    scores = np.asarray(scores, dtype=float)
    if scores.ndim != 2:
        raise ValueError(f"scores must be 2-d (tasks x configurations), got shape "
                         f"{scores.shape}: for one task pass [scores]")
    finite = np.where(np.isfinite(scores), scores, np.nan)
    with np.errstate(all="ignore"):
        best = np.nanmax(finite, axis=1, keepdims=True)
        worst = np.nanmin(finite, axis=1, keepdims=True)
        span = np.where(best > worst, best - worst, 1.0)
        regret = (best - finite) / span
    regret[np.isneginf(scores)] = 1.0
    return np.clip(regret, 0.0, 1.0)
