"""``benchmark run``: tune real models on a suite, one resumable job per
(dataset, method, seed, fold)."""

from __future__ import annotations

import dataclasses
import difflib
import functools
import json
import os
import re
import socket
import tempfile
import time
import warnings
from collections.abc import Mapping, Sequence
from contextlib import closing, suppress
from importlib.metadata import PackageNotFoundError, packages_distributions, version
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import optuna
import pandas as pd
from joblib import Parallel, delayed
from sklearn.metrics import get_scorer

from metaopt._checks import check_int, check_n_jobs, check_seconds, repeated
from metaopt._isolated import callers_threads
from metaopt._progress import progress_bar
from metaopt._signals import pid_alive
from metaopt._suite_names import LOCAL_SUITES
from metaopt._version import __version__
from metaopt._warnings import warn
from metaopt.benchmark._samplers import (
    _BUILTIN,
    _SAMPLERS,
    SPECIAL_METHODS,
    SamplerFactory,
    _metaopt,
    get_sampler_factory,
    list_samplers,
    missing_package,
    quiet_optuna,
)
from metaopt.kb._build import _backend_context
from metaopt.kb._design import config_id
from metaopt.kb._evaluate import DEFAULT_SCORING, Job, _single_threaded, _splitter, evaluate

if TYPE_CHECKING:
    from metaopt.spaces import SearchSpace

#: Settings a resumed run must share with the run that made ``--out``.
_FIXED = ("suite", "budget_trials", "budget_seconds", "folds", "cv_folds", "spaces",
          "max_rows", "time_limit", "split_seed")
#: The name of :func:`_write_atomic`'s temporary file of run.json or a job's file.
_TEMP_NAME = re.compile(r".+\.jsonl?\.(?P<pid>\d+)\.(?P<host>.+)\.tmp")
#: The libraries a peer method's results depend on, whose versions its jobs record
#: (``peer_version``): FLAML and the learners it tunes, Optuna's built-in samplers (and
#: the packages CMA-ES and GP compute with). A sampler registered with
#: :func:`~metaopt.benchmark.register_sampler` records its class's package instead.
PEER_LIBRARIES = {"flaml": ("flaml", "lightgbm", "xgboost"), "random": ("optuna",),
                  "tpe": ("optuna",), "gp": ("optuna", "torch"), "cmaes": ("optuna", "cmaes")}
#: Columns of a trial record that the record of a failed job, of a job that never had an
#: incumbent, of a method other than ``metaopt`` (``meta_model``) or a peer
#: (``peer_version``), or of a job written before 2026-12-05 (``metaopt_version``,
#: ``meta_model``, ``peer_version``) lacks (NaN in :func:`load_results`).
_TRIAL_COLUMNS = ("task", "n_train", "n_test", "space", "params", "cv_score", "eval_time",
                  "elapsed", "error", "incumbent_test_score", "metaopt_version", "meta_model",
                  "peer_version")


@dataclasses.dataclass(frozen=True)
class Settings:
    """What every job of a run shares."""

    suite: str
    budget_trials: int | None
    budget_seconds: float | None
    folds: int
    cv_folds: int
    spaces: str | tuple[str, ...]
    max_rows: int | None
    time_limit: float | None
    split_seed: int


@dataclasses.dataclass(frozen=True)
class BenchmarkJob:
    """One (dataset, method, seed, fold) of a run."""

    ref: Any  # a metaopt.data.DatasetRef
    method: str
    seed: int
    fold: int

    @property
    def name(self) -> str:
        safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", self.ref.key)
        return f"{safe}__{self.method}__s{self.seed}__f{self.fold}"


# --------------------------------------------------------------------- one job
def suggest_config(trial: optuna.Trial, spaces: Sequence[str], task: str) -> tuple[str, dict]:
    """Sample a space and its configuration define-by-run, as every Optuna method does.

    Of several spaces, the space is the categorical parameter ``"space"`` and its
    parameters are named ``"<space>__<param>"`` (a :class:`~metaopt.spaces.CombinedSpace`);
    one space is sampled as itself, under its own parameter names.

    Parameters
    ----------
    trial : optuna.Trial
    spaces : sequence of str
        Names of the spaces to choose from.
    task : {"classification", "regression"}

    Returns
    -------
    space : str
        The space's name.
    params : dict
        Its parameters, without the prefix.
    """
    from metaopt.spaces import combine, get_space

    if len(spaces) == 1:
        # as itself: a combination of one asks for its one-choice "space" parameter,
        # which Optuna answers without the sampler, so MetaSampler never learnt the
        # family, and its "<space>__" names were none of the family model's: every
        # trial went to the fallback
        space = get_space(spaces[0])
        return space.name, space.sample(trial, task)
    combined = combine([get_space(n) for n in spaces])
    member, params = combined.member(combined.sample(trial, task))
    return member.name, params


def _spaces_for(spaces: str | Sequence[str], task: str) -> list[str]:
    from metaopt.spaces import get_space, list_spaces

    if spaces == "all":
        return list_spaces(task)
    names = [spaces] if isinstance(spaces, str) else list(spaces)
    return [get_space(n).name for n in names if task in get_space(n).tasks]


def _check_spaces(spaces: str | Sequence[str]) -> str | tuple[str, ...]:
    """``"all"``, or the single spaces named (comma-separated or a list, each name a
    space or spaces joined by '+'), each once: a repeated one failed every job."""
    from metaopt.spaces import get_space
    from metaopt.spaces._combined import single_spaces

    if spaces == "all":
        return spaces
    members: list[SearchSpace] = []
    for name in spaces.split(",") if isinstance(spaces, str) else spaces:
        space = get_space(name)  # unknown names fail here
        members += single_spaces(space)
    names = tuple(m.name for m in members)
    twice = repeated(names)
    if twice:
        raise ValueError(f"spaces name {', '.join(map(repr, twice))} more than once "
                         f"(spaces={spaces!r})")
    return names


def _outer_split(dataset, fold: int, settings: Settings):
    """Fold ``fold`` of the dataset's own splits (an OpenML task's) when it has at least
    ``settings.folds`` of them, else of a stratified K-fold: one scheme per dataset."""
    if dataset.splits is not None and len(dataset.splits) >= settings.folds:
        return dataset.splits[fold]
    splits = _splitter(dataset.task, settings.folds, settings.split_seed).split(dataset.X, dataset.y)
    return list(splits)[fold]


def _test_score(space: str, params: dict, task: str, seed: int, data: tuple, scoring: str):
    """Refit ``params`` on the outer-train part and score it on the outer-test part."""
    from metaopt.spaces import get_space

    X_tr, y_tr, X_te, y_te = data
    with _single_threaded(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = get_space(space).build(params, task, random_state=seed).fit(X_tr, y_tr)
        return float(get_scorer(scoring)(model, X_te, y_te))


#: The methods :func:`_warm_up` has prepared in this process.
_WARMED: set[str] = set()


def _warm_up(method: str) -> None:
    """Pay, before a job's clock starts, what a method's first model-based suggestion
    costs once per process: the lazy imports of GP (torch and Optuna's GP modules, 2.1 s)
    and of the ``metaopt`` ranker's first adaptation (``torch._dynamo``, 1.3-2.6 s). They
    were charged to the first such job of each worker: under ``budget_seconds`` it ran
    fewer trials (4 in 3 s against 29 for the next job on the same data)."""
    if method in _WARMED:
        return
    _WARMED.add(method)
    if method == "gp":
        sampler = optuna.samplers.GPSampler(seed=0, n_startup_trials=1,
                                            warn_independent_sampling=False)
        optuna.create_study(sampler=sampler).optimize(
            lambda trial: trial.suggest_float("x", 0.0, 1.0), n_trials=2)
    elif method == "metaopt":
        with suppress(ImportError):  # (a torch without it imports nothing more)
            import torch._dynamo  # noqa: F401


def _tune_optuna(job: BenchmarkJob, dataset, data, settings: Settings) -> list[dict]:
    X_tr, y_tr = data[0], data[1]
    spaces = _spaces_for(settings.spaces, dataset.task)
    scoring = DEFAULT_SCORING[dataset.task]
    train = dataclasses.replace(dataset, X=X_tr, y=y_tr, splits=None)
    library = None  # a registered sampler's (the built-in peers' are in PEER_LIBRARIES)
    if job.method == "default":
        spaces = ["hist_gradient_boosting"]
        sampler = optuna.samplers.RandomSampler(seed=job.seed)
    else:
        make_sampler = get_sampler_factory(job.method)
        sampler = (make_sampler(train, job.seed, space=_one_space(spaces))
                   if make_sampler is _metaopt else make_sampler(train, job.seed))
        if job.method not in PEER_LIBRARIES:
            library = _sampler_library(sampler)
    study = optuna.create_study(direction="maximize", sampler=sampler)
    if job.method == "default":
        from metaopt.spaces import get_space

        study.enqueue_trial(get_space(spaces[0]).default(dataset.task))  # one space: itself
    _warm_up(job.method)
    n_trials = 1 if job.method == "default" else settings.budget_trials
    seconds = 0.0 if n_trials else settings.budget_seconds
    assert seconds is not None  # run() refuses settings without a budget
    start = time.perf_counter()
    rows: list[dict] = []
    while (len(rows) < n_trials if n_trials else time.perf_counter() - start < seconds):
        trial = study.ask()
        space, params = suggest_config(trial, spaces, dataset.task)
        record = evaluate(Job(job.ref.key, space, dataset.task, config_id(params), None, params,
                              job.seed, settings.cv_folds, settings.time_limit, scoring),
                          X_tr, y_tr)
        ok = record["status"] == "ok"
        study.tell(trial, record["cv_score"] if ok else None,
                   state=None if ok else optuna.trial.TrialState.FAIL)
        rows.append({"space": space, "params": params, "status": record["status"],
                     "cv_score": record.get("cv_score"), "eval_time": record["eval_time"],
                     "elapsed": time.perf_counter() - start, "error": record.get("error"),
                     **({"peer_version": library} if library else {})})
    # refit each incumbent once; every trial row carries its incumbent's test score
    best, best_score, cache = None, -np.inf, {}
    for row in rows:
        if row["status"] == "ok" and row["cv_score"] > best_score:
            best, best_score = row, row["cv_score"]
        if best is not None:
            key = id(best)
            if key not in cache:
                cache[key] = _test_score(best["space"], best["params"], dataset.task,
                                         job.seed, data, scoring)
            row["incumbent_test_score"] = cache[key]
    return rows


def _flaml_automl() -> type:
    """FLAML's ``AutoML``; ``ValueError`` saying how to install it (flaml without its
    automl extra imports ``flaml.automl`` with a warning only, and has no ``AutoML``)."""
    try:
        from flaml import AutoML
    except ImportError as exc:
        raise ValueError("method 'flaml' needs FLAML: pip install 'flaml[automl]' "
                         "(or metaopt[peers])") from exc
    return AutoML


def _tune_flaml(job: BenchmarkJob, dataset, data, settings: Settings) -> list[dict]:
    AutoML = _flaml_automl()
    X_tr, y_tr, X_te, y_te = data
    scoring = DEFAULT_SCORING[dataset.task]
    automl = AutoML()
    budget = ({"max_iter": settings.budget_trials, "time_budget": -1}
              if settings.budget_trials else {"time_budget": settings.budget_seconds})
    start = time.perf_counter()
    with _single_threaded(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        automl.fit(X_tr, y_tr, task=dataset.task, metric=scoring, eval_method="cv",
                   n_splits=settings.cv_folds, seed=job.seed, n_jobs=1, verbose=0, **budget)
        tuned = time.perf_counter() - start  # the test part's scoring is no tuning
        test = float(get_scorer(scoring)(automl, X_te, y_te))
    # config_history: FLAML's successive incumbents, by iteration
    rows = [{"trial": it + 1, "space": f"flaml_{estimator}", "params": config, "status": "ok",
             "cv_score": None, "eval_time": None, "elapsed": float(t), "error": None}
            for it, (estimator, config, t) in automl.config_history.items()]
    # the last row is the job's end, at the iterations FLAML ran (its last incumbent's
    # iteration said fewer trials than it ran under budget_seconds: 81 of 85)
    per_learner = getattr(automl, "_iter_per_learner", None)  # (FLAML's, not public)
    ran = sum(per_learner.values()) if isinstance(per_learner, dict) else rows[-1]["trial"]
    rows[-1].update(cv_score=1 - float(automl.best_loss), elapsed=tuned,
                    incumbent_test_score=test, trial=settings.budget_trials or ran)
    return rows


def _one_space(spaces: Sequence[str]) -> str | None:
    """The space searched when it is one (its own meta-model serves the ``metaopt``
    method), else None (the ``all`` model, restricted to the families searched)."""
    return spaces[0] if len(spaces) == 1 else None


def _meta_model(task: str, spaces: Sequence[str]) -> str:
    """The shipped meta-model the ``metaopt`` method uses for ``task``: the one space's
    own, or the ``all`` one restricted to the spaces searched, named with its training
    time from its card."""
    from metaopt.ranker._shipped import _models_root, model_name
    from metaopt.spaces._registry import ALL

    name = model_name(_one_space(spaces) or ALL, task)
    card = json.loads((_models_root() / name / "card.json").read_text())
    return f"{name}, trained {card['trained_at']}"


def _peer_version(method: str) -> str | None:
    """The installed versions of peer ``method``'s libraries (``"optuna 4.1.0, cmaes
    0.11.1"``); None for metaopt's own methods."""
    found = []
    for package in PEER_LIBRARIES.get(method, ()):
        with suppress(PackageNotFoundError):  # e.g. FLAML without xgboost
            found.append(f"{package} {version(package)}")
    return ", ".join(found) or None


@functools.cache
def _distributions() -> Mapping[str, list[str]]:
    """Top-level module -> the installed distributions that provide it (0.3 s: once)."""
    return packages_distributions()


def _sampler_library(sampler: optuna.samplers.BaseSampler) -> str | None:
    """``"optuna 5.1.0"``: the installed distribution whose top-level module defines the
    sampler's class; None for metaopt's own class, or a class no (single) distribution
    provides (defined in a script, or in a namespace package several share)."""
    top = type(sampler).__module__.partition(".")[0]
    dists = set(_distributions().get(top, ()))
    if top == "metaopt" or len(dists) != 1:
        return None
    (dist,) = dists
    try:
        return f"{dist} {version(dist)}"
    except PackageNotFoundError:
        return None


@quiet_optuna()
def run_job(job: BenchmarkJob, settings: Settings) -> list[dict]:
    """Load, split, tune, refit and score one job; every trial as a record.

    A job that fails as a whole (e.g. its dataset cannot be loaded) returns one record
    with ``status="job_failed"``.
    """
    base = {"job": job.name, "dataset_key": job.ref.key, "dataset": job.ref.name,
            "method": job.method, "seed": job.seed, "fold": job.fold,
            "metaopt_version": __version__}
    if peer := _peer_version(job.method):
        base["peer_version"] = peer
    try:
        dataset = job.ref.load()
        if settings.max_rows is not None:
            dataset = dataset.subsample(settings.max_rows, random_state=settings.split_seed)
        tr, te = _outer_split(dataset, job.fold, settings)
        data = (dataset.X.iloc[tr], dataset.y.iloc[tr], dataset.X.iloc[te], dataset.y.iloc[te])
        tune = _tune_flaml if job.method == "flaml" else _tune_optuna
        rows = tune(job, dataset, data, settings)
        if job.method == "metaopt":
            base["meta_model"] = _meta_model(dataset.task,
                                             _spaces_for(settings.spaces, dataset.task))
    except Exception as exc:  # a broken job is reported, the others go on
        return [{**base, "trial": 0, "status": "job_failed",
                 "error": f"{type(exc).__name__}: {exc}"}]
    return [{**base, "trial": i + 1, "task": dataset.task, "n_train": len(tr),
             "n_test": len(te), **row} for i, row in enumerate(rows)]


# ------------------------------------------------------------------ the whole run
def _check_methods(methods: str | Sequence[str]) -> list[str]:
    """The method names (a list, or one comma-separated string), each known and once."""
    methods = ([m.strip() for m in methods.split(",") if m.strip()]
               if isinstance(methods, str) else list(methods))
    if not methods:
        raise ValueError("methods must name at least one method")
    twice = repeated(methods)
    if twice:
        raise ValueError(f"methods name {', '.join(map(repr, twice))} more than once")
    for name in methods:
        if name not in SPECIAL_METHODS:
            try:
                get_sampler_factory(name)
            except ValueError as exc:  # its list of samplers lacks the special methods
                known = [*list_samplers(), *SPECIAL_METHODS]
                close = difflib.get_close_matches(name.lower(), known, n=1)  # 'TPE', 'tpee'
                raise ValueError(f"{exc} (and the methods {', '.join(SPECIAL_METHODS)})"
                                 + (f"; did you mean {close[0]!r}?" if close else "")) from None
    return methods


def _check_installed(methods: Sequence[str]) -> None:
    """Refuse, before any work, the methods whose library is not installed: each of their
    jobs failed as a whole, after the run, with the others' results."""
    reasons = []
    for name in methods:
        if name == "flaml":
            try:
                _flaml_automl()
            except ValueError as exc:
                reasons.append(str(exc))
        elif name not in SPECIAL_METHODS and (reason := missing_package(name)):
            reasons.append(reason)
    if reasons:
        raise ValueError("; ".join(reasons))


def _training_set(path: str | os.PathLike | None) -> set[str]:
    """Dataset keys/names the meta-model was trained on: from ``path`` (one per line) or
    the card of the shipped ``all`` meta-model, which the ``metaopt`` method uses (the
    TabRepo and YAHPO models' tasks are no training data of it)."""
    if path is not None:
        if not Path(path).is_file():
            raise ValueError(f"training_datasets={os.fspath(path)!r} is no file: give a text "
                             "file of dataset keys or names, one a line")
        return {line.strip() for line in Path(path).read_text().splitlines() if line.strip()}
    from metaopt.ranker import training_datasets
    from metaopt.spaces._registry import ALL

    return set(training_datasets(ALL))


def _is_training(ref, training: set[str]) -> bool:
    """Whether the meta-model was trained on the dataset ``ref`` (by key or name)."""
    return bool({ref.key, ref.name} & training)


def _check_cache(refs, cache_dir, download: bool) -> None:
    from metaopt.data import OpenMLSource

    source = OpenMLSource(cache_dir)
    missing = [r.key.split("/")[-1] for r in refs
               if r.source == "openml" and not source.is_cached(task_id=int(r.key.split("/")[-1]))]
    if missing and not download:
        absent = ("" if cache_dir is None or Path(cache_dir).is_dir() else
                  ", a directory that does not exist")  # a misspelt --cache-dir
        raise ValueError(
            f"{len(missing)} OpenML task(s) are not in the cache ({source._cache_label()}"
            f"{absent}): "
            f"{', '.join(missing)}. Download them once with network access (download=True, "
            "CLI --download), or build the suite with the cache directory that holds them "
            "(get_suite(..., cache_dir=), CLI --cache-dir), or select fewer (--limit)")


def _prepare_out(out: str | os.PathLike) -> Path:
    """``out`` with its ``jobs`` folder made; ``ValueError`` naming it when it is empty,
    a file, or cannot be written (found before any job, not at the first job's end)."""
    from metaopt.kb._store import check_writable

    if not os.fspath(out):  # an unset shell variable: the current directory
        raise ValueError("out must name a directory, got ''")
    out = check_writable(out, "out", directory=True)
    try:
        (out / "jobs").mkdir(parents=True, exist_ok=True)
        for folder in (out, out / "jobs"):
            tempfile.TemporaryFile(dir=folder).close()
    except OSError as exc:
        raise ValueError(f"out={os.fspath(out)!r} is not writable ({exc.strerror}): give a "
                         "directory you can write to") from None
    return out


def _write_atomic(path: Path, text: str) -> None:
    """Write ``path`` whole or not at all, through a temporary file named after its
    writer, ``<name>.<pid>.<host>.tmp``: two runs on one directory never share one, and
    :func:`_remove_stale_temp` tells a killed writer's from a live one's."""
    tmp = path.with_name(f"{path.name}.{os.getpid()}.{socket.gethostname()}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def _remove_stale_temp(out: Path) -> None:
    """Delete the temporary files :func:`_write_atomic` left in ``out`` and ``out/jobs``
    when its process was killed (SIGKILL, a lost machine) between writing and renaming:
    those of a process of this machine that is gone. Another machine's (a shared
    directory) and a live process's, possibly a run writing now, are kept."""
    here = socket.gethostname()
    for folder in (out, out / "jobs"):
        for tmp in folder.glob("*.tmp"):
            owner = _TEMP_NAME.fullmatch(tmp.name)
            if owner and owner["host"] == here and not pid_alive(int(owner["pid"])):
                with suppress(FileNotFoundError):  # another run removed it first
                    tmp.unlink()


def read_settings(path: Path) -> dict:
    """The settings in a run's ``run.json``; ``ValueError`` naming the file when it does
    not hold them (json's own message named no file)."""
    try:
        settings = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path} is damaged ({exc}): restore it or use another "
                         "directory") from None
    read = {"suite", "methods", "seeds", "folds", "cv_folds", "spaces"}  # by a report
    if not isinstance(settings, dict) or not read <= set(settings):
        raise ValueError(f"{path} holds no `benchmark run` settings")
    return settings


def _setting(value: Any) -> str:
    """A setting of ``run.json`` as the command line writes it: names comma-separated,
    None (no limit, the other budget) as ``unset``."""
    if value is None:
        return "unset"
    return ",".join(value) if isinstance(value, list) else str(value)


def _settings_file(out: Path, settings: Settings, extra: dict) -> None:
    path = out / "run.json"
    # as read back from JSON: a tuple is a list, and 60 equals 60.0
    current = json.loads(json.dumps({**dataclasses.asdict(settings), "spaces": settings.spaces}))
    # a run that finished no job (refused option, killed early) binds no later run
    if path.is_file() and any((out / "jobs").glob("*.jsonl")):
        previous = read_settings(path)
        changed = [f"{k}={_setting(previous.get(k))} (now {_setting(current[k])})"
                   for k in _FIXED if previous.get(k) != current[k]]
        if changed:
            raise ValueError(f"out={os.fspath(out)!r} holds a run with other settings: "
                             f"{'; '.join(changed)}; use another directory")
        methods = previous["methods"] + [m for m in extra["methods"]
                                         if m not in previous["methods"]]
        extra = {"methods": methods,
                 "seeds": max(previous["seeds"], extra["seeds"]),
                 "unseen": {**previous.get("unseen", {}), **extra["unseen"]},
                 "excluded": sorted(set(previous.get("excluded", [])) | set(extra["excluded"]))}
    _write_atomic(path, json.dumps({**current, **extra}, indent=1))


@quiet_optuna()
def run(
    suite,
    out: str | os.PathLike,
    *,
    methods: Sequence[str] = ("tpe", "random", "default"),
    budget_trials: int | None = None,
    budget_seconds: float | None = None,
    seeds: int = 1,
    folds: int = 3,
    cv_folds: int = 3,
    spaces: str | Sequence[str] = "all",
    max_rows: int | None = None,
    time_limit: float | None = 300.0,
    split_seed: int = 0,
    n_jobs: int = 1,
    backend: str = "loky",
    scheduler: Any = None,
    exclude_training_data: bool = False,
    training_datasets: str | os.PathLike | None = None,
    cache_dir: str | os.PathLike | None = None,
    download: bool = False,
    retry_failed: bool = False,
    progress: bool = True,
) -> pd.DataFrame:
    """Run (or resume) a benchmark of optimizers with real fits on a suite.

    Each (dataset, method, seed, fold) is an independent job: outer split (fold ``f``
    of a stratified K-fold seeded by ``split_seed``, or the OpenML task's split ``f``),
    tuning on the outer-train part with inner ``cv_folds``-fold CV for the budget, then
    the incumbent refit on outer-train and scored on outer-test. Finished jobs are
    written to ``out/jobs/<job>.jsonl`` (one trial per line) and never rerun.

    Parameters
    ----------
    suite : metaopt.data.Suite
        From :func:`~metaopt.data.get_suite` (a name alone is refused with a
        ``TypeError``).
    out : path
        Results directory; an existing one is resumed (same settings required).
    methods : list of str, or str
        Comma-separated or a list, each once: Optuna samplers (``tpe``, ``random``,
        ``gp``, ``cmaes`` and registered ones such as ``metaopt``), ``default``
        (HistGradientBoosting defaults, one fit) and ``flaml``.
    budget_trials, budget_seconds : exactly one
        Trials per job, or seconds of tuning per job (no new trial starts after it).
    seeds : int
        Seeds ``0 .. seeds-1`` per method, dataset and fold.
    folds : int
        Outer folds per dataset (an OpenML task's own splits when it has as many).
    cv_folds : int
        Inner CV folds scoring each trial.
    spaces : "all" or list of str
        Model families every method searches (comma-separated or a list; names joined
        by '+' count as their members), each once.
    max_rows : int, optional
        Subsample larger datasets (seeded) to this many rows.
    time_limit : float, optional
        Seconds per trial; a trial past it is stopped and counts as failed.
    split_seed : int
        Seed of the outer K-fold splits.
    n_jobs : int
        Jobs run in parallel (each single-threaded); -1: one per core.
    backend : {"loky", "dask", "threading", "sequential"}
        joblib's ``"loky"`` processes, ``"dask"`` on the cluster at ``scheduler``,
        ``"threading"`` threads of this process, or ``"sequential"``: one job at a time
        in this process.
    scheduler : str or distributed.Client, optional
        The dask scheduler's address (with ``backend="dask"`` only).
    exclude_training_data : bool
        Skip the datasets the shipped ``all`` meta-model (the ``metaopt`` method) was
        trained on.
    training_datasets : path, optional
        Text file of training dataset keys or names (instead of
        ``metaopt.ranker.training_datasets("all")``); also marks unseen datasets in the report.
    cache_dir : path, optional
        Deprecated: the suite's OpenML cache directory (``suite.cache_dir``, the one
        given to :func:`~metaopt.data.get_suite`) is where its tasks load from, and where
        the run looks for the ones missing from the cache. Another directory (or any
        with a local suite, ``pmlb-*``) is refused before any work; the suite's own, however
        spelled, is accepted with a ``FutureWarning``.
    download : bool
        Allow downloading OpenML tasks missing from the cache; otherwise the run is
        refused before it starts, naming them. Only for an OpenML suite: ``True`` with a
        local one is refused before any work.
    retry_failed : bool
        Run again the jobs that failed as a whole (e.g. a dataset that could not be
        loaded, since fixed); otherwise every finished job is kept.
    progress : bool
        Show a progress bar over the jobs.

    Returns
    -------
    pandas.DataFrame
        Every trial of every finished job of ``out`` (see :func:`load_results`);
        ``attrs["jobs_run"]``: how many of them this call ran (the others were kept).
    """
    from metaopt.data.suites import Suite, _check_cache_dir, _check_suite_arguments

    if isinstance(suite, str):  # a name failed with "'str' object has no attribute"
        raise TypeError(f"suite must be a metaopt.data.Suite: get_suite({suite!r}"
                        f"{', root=...' if suite in LOCAL_SUITES else ''}) gives it, got the "
                        f"str {suite!r}")
    if not isinstance(suite, Suite):  # its entries unwritten: a Dataset's are whole frames
        kinds = sorted({type(x).__name__ for x in suite}) if isinstance(
            suite, (list, tuple)) else []
        raise TypeError(
            "suite must be a metaopt.data.Suite: a suite's datasets are "
            "suite.select(names=[...]), datasets of your own a local suite (a directory "
            "with a manifest.csv: docs/kb.md), DatasetRefs Suite(name, tuple(refs)); got a "
            + (f"{type(suite).__name__} of {len(suite)} {' and '.join(kinds) or 'items'}"
               if isinstance(suite, (list, tuple)) else type(suite).__name__))
    # cache_dir or download with a local suite, a cache_dir other than the suite's:
    # refused before any work
    _check_suite_arguments(suite.name, None, cache_dir, download)
    if cache_dir is not None:
        _check_cache_dir(suite, cache_dir)
        warn("run(cache_dir=) is deprecated: the suite's OpenML cache directory "
             "(get_suite(..., cache_dir=), suite.cache_dir) is used; leave it out",
             FutureWarning)
    cache_dir = getattr(suite, "cache_dir", None)  # where its tasks load from
    if (budget_trials is None) == (budget_seconds is None):
        raise ValueError("pass exactly one of budget_trials and budget_seconds")
    if budget_trials is not None:
        check_int(budget_trials, "budget_trials")
    else:  # nan ran no trial, inf never stopped
        check_seconds(budget_seconds, "budget_seconds", allow_none=False)
    for name, value, minimum in (("seeds", seeds, 1), ("folds", folds, 2),
                                 ("cv_folds", cv_folds, 2)):
        check_int(value, name, minimum)
    if max_rows is not None:
        check_int(max_rows, "max_rows", minimum=10)
    check_n_jobs(n_jobs)
    check_seconds(time_limit, "time_limit")
    methods = _check_methods(methods)
    _check_installed(methods)
    spaces = _check_spaces(spaces)
    if "cmaes" in methods and (spaces == "all" or len(spaces) > 1):
        warn("method 'cmaes' on several spaces is random search: CMA-ES models no "
             "categorical parameter, and once two spaces have been tried the space choice is "
             "the only parameter of every trial; give one space (--spaces) to benchmark it",
             UserWarning)
    training = _training_set(training_datasets)
    refs = list(suite)
    if not refs:
        raise ValueError(f"suite {suite.name!r} has no datasets: nothing to benchmark")
    excluded = ([r.key for r in refs if _is_training(r, training)]
                if exclude_training_data else [])
    refs = [r for r in refs if r.key not in excluded]
    if not refs:
        raise ValueError(f"every dataset of suite {suite.name!r} is training data of the "
                         "meta-model: nothing left to benchmark")
    _check_cache(refs, cache_dir, download)
    settings = Settings(suite.name, budget_trials, budget_seconds, folds, cv_folds, spaces,
                        max_rows, time_limit, split_seed)
    # a backend or scheduler it cannot use is refused (or not reached) before out is written
    with _backend_context(backend, scheduler), callers_threads(), warnings.catch_warnings():
        out = _prepare_out(out)
        _remove_stale_temp(out)
        unseen = {r.key: not _is_training(r, training) for r in refs}
        _settings_file(out, settings, {"methods": methods, "seeds": seeds, "unseen": unseen,
                                       "excluded": excluded})
        jobs = [BenchmarkJob(r, m, s, f) for r in refs for f in range(folds)
                for s in range(seeds) for m in methods]
        pending = [j for j in jobs
                   if not _finished(out / "jobs" / f"{j.name}.jsonl", retry_failed)]
        # loky restarts a worker whose memory grew by 300 MB after a job (torch and a
        # meta-model loaded), losing nothing, and warns of "a memory leak"
        warnings.filterwarnings("ignore", "A worker stopped while some jobs were given",
                                UserWarning)
        # on Ctrl-C, joblib warns of the jobs in flight it cancels, which the caller counts
        warnings.filterwarnings("ignore", ".* (cancelled|not used)\\. You could benefit",
                                UserWarning)
        # the registered samplers go with the jobs: a worker process has the built-ins only
        registered = {m: get_sampler_factory(m) for m in methods
                      if m not in _BUILTIN}
        parallel = Parallel(n_jobs=n_jobs, return_as="generator_unordered",
                            batch_size=1 if backend == "dask" else "auto")
        # closed here, within the filter, not when the interrupt's traceback is collected
        with progress_bar(total=len(jobs), initial=len(jobs) - len(pending), disable=not progress,
                  desc=f"benchmark {suite.name}", unit="job") as bar, \
                closing(parallel(delayed(_named)(j, settings, registered)
                                 for j in pending)) as results:
            for name, rows in results:
                _write_atomic(out / "jobs" / f"{name}.jsonl",
                              "".join(json.dumps(r, default=str) + "\n" for r in rows))
                bar.update()
    frame = load_results(out)
    frame.attrs["jobs_run"] = len(pending)
    return frame


def _finished(path: Path, retry_failed: bool) -> bool:
    """Whether a job's results are written (and, with ``retry_failed``, it did not fail
    as a whole, e.g. on a dataset that could not be loaded)."""
    if not path.is_file():
        return False
    if not retry_failed:
        return True
    with path.open() as lines:  # a failed job is one line; a finished one, one per trial
        return json.loads(lines.readline()).get("status") != "job_failed"


def _named(job: BenchmarkJob, settings: Settings,
           registered: dict[str, SamplerFactory]) -> tuple[str, list[dict]]:
    # a worker process (loky, dask) knows the samplers the caller registered from these
    _SAMPLERS.update(registered)
    return job.name, run_job(job, settings)


def load_results(out: str | os.PathLike) -> pd.DataFrame:
    """Every trial record of the finished jobs of a ``benchmark run`` directory.

    Parameters
    ----------
    out : str or path-like
        The directory (its ``jobs/*.jsonl``).

    Returns
    -------
    pandas.DataFrame
        One row per trial; a failed job's one record has NaN trial columns.
    """
    files = sorted((Path(out) / "jobs").glob("*.jsonl"))
    if not files:
        raise ValueError(f"no finished jobs in {os.fspath(out)!r}: run `benchmark run` first")
    rows = []
    for f in files:
        try:
            rows += [json.loads(line) for line in f.read_text().splitlines()]
        except json.JSONDecodeError as exc:
            raise ValueError(f"{f} is damaged ({exc}): delete it, and `benchmark run` "
                             "runs that job again") from None
    frame = pd.DataFrame(rows)
    return frame.reindex(columns=[*frame.columns,
                                  *(c for c in _TRIAL_COLUMNS if c not in frame)])
