"""``benchmark report``: curves, ranks, critical differences and a Markdown summary."""

from __future__ import annotations

import contextlib
import io
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from metaopt._files import write_whole
from metaopt._markdown import counted, markdown_table
from metaopt.benchmark._defaults import run_settings_file
from metaopt.benchmark._metrics import (
    REGRET_RANGE,
    add_ranks,
    min_max_regret,
    paired_differences,
    summary_table,
)
from metaopt.benchmark._plots import plot_curves, save_whole
from metaopt.benchmark._runner import PEER_LIBRARIES, load_results, read_settings
from metaopt.kb._evaluate import DEFAULT_SCORING

_TIE = 1e-6  # test scores closer than this are a tie


def _checkpoints(limit: float, integer: bool) -> np.ndarray:
    if integer:
        grid = [b for b in (1, 2, 3, 5, 10, 20, 30, 50, 100, 200, 500, 1000) if b < limit]
        return np.asarray([*grid, int(limit)])
    return np.unique(np.geomspace(limit / 100, limit, 12).round(3))


def curves(frame: pd.DataFrame, settings: dict) -> pd.DataFrame:
    """Incumbent test regret of every job at each budget checkpoint.

    Regret is min-max normalized per (dataset, fold) over the test scores of every
    incumbent of every method and seed; ranks compare methods on the same dataset,
    fold, seed and budget, where every method has a value (NaN elsewhere). A job
    contributes at a checkpoint once its incumbent's test score is known (FLAML's only at
    its end); at the last one, the whole budget, every job has its final incumbent, also
    from a trial still running when ``budget_seconds`` ran out. A job that produced no
    model at all (every trial failed or ran out of time) has the worst regret, 1, at every
    checkpoint: left out, it made its method look better.

    Parameters
    ----------
    frame : pandas.DataFrame
        Trial records, as :func:`load_results` returns.
    settings : dict
        The run's settings (its ``run.json``): the budget gives the checkpoints.

    Returns
    -------
    pandas.DataFrame
        Columns ``method, task, fold, seed, budget, test_score, regret, rank``.
    """
    _check_some_model(frame)
    trials = frame[frame["status"] != "job_failed"].dropna(subset=["incumbent_test_score"])
    by_trials = settings.get("budget_trials") is not None
    x = "trial" if by_trials else "elapsed"
    grid = _checkpoints(settings["budget_trials"] or settings["budget_seconds"], by_trials)
    rows = []
    for (task, method, seed, fold), job in trials.groupby(
            ["dataset_key", "method", "seed", "fold"], sort=False):
        job = job.sort_values(x)
        position = np.searchsorted(job[x].to_numpy(), grid, side="right") - 1
        # the last checkpoint is the whole budget, so the job's last trial: with
        # budget_seconds, the trial running when time ran out finishes after it
        position[-1] = len(job) - 1
        for budget, pos in zip(grid, position, strict=True):
            if pos >= 0:
                rows.append({"method": method, "task": task, "fold": fold, "seed": seed,
                             "budget": budget,
                             "test_score": float(job["incumbent_test_score"].iloc[pos])})
    out = pd.DataFrame(rows)
    bounds = out.groupby(["task", "fold"])["test_score"].agg(["max", "min"])
    out["regret"] = [
        float(min_max_regret(score, *bounds.loc[(task, fold)]))
        for task, fold, score in out[["task", "fold", "test_score"]].itertuples(index=False)
    ]
    empty = _no_model(frame).groupby("job")[["dataset_key", "method", "seed", "fold"]].first()
    worst = [{"method": method, "task": task, "fold": fold, "seed": seed, "budget": budget,
              "test_score": np.nan, "regret": 1.0}
             for task, method, seed, fold in empty.itertuples(index=False) for budget in grid]
    out = add_ranks(pd.concat([out, pd.DataFrame(worst, columns=out.columns)])
                    if worst else out, ["task", "fold", "seed", "budget"])
    return _rank_complete_only(out)


def _rank_complete_only(curve: pd.DataFrame) -> pd.DataFrame:
    """Rank NaN on the (dataset, fold, seed, budget) where not every method has a value
    (a seed or method added to part of a run, an unfinished run, FLAML before its end):
    ranked alone, a method came first."""
    ran = curve.groupby(["task", "fold", "seed", "budget"])["method"].transform("nunique")
    return curve.assign(rank=curve["rank"].where(ran == curve["method"].nunique()))


def _check_some_model(frame: pd.DataFrame) -> None:
    """ValueError, with the first job errors, when no job produced a model."""
    if "incumbent_test_score" in frame and frame["incumbent_test_score"].notna().any():
        return
    errors = frame.loc[frame["status"] == "job_failed"].reindex(columns=["job", "error"])
    errors = errors.drop_duplicates("job")
    detail = "; ".join(f"{job}: {error}" for job, error in errors.head(3).itertuples(index=False))
    raise ValueError("no job produced a model (every job failed, or every trial of every "
                     "job failed or ran out of time): nothing to report"
                     + (f". Failed jobs: {detail}" if detail else ""))


def _no_model(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows of the jobs that ran but never had an incumbent (no model to test)."""
    ran = frame[frame["status"] != "job_failed"]
    has_model = ran["incumbent_test_score"].notna().groupby(ran["job"]).transform("any")
    return ran[~has_model]


def _final(frame: pd.DataFrame) -> pd.DataFrame:
    ok = frame[frame["status"] != "job_failed"]
    return ok.sort_values("trial").groupby("job").tail(1)


def _in_order(present, methods: str | Sequence[str] | None) -> list[str]:
    """The ``present`` methods, those in ``methods`` (a run's order: a list or, as
    :func:`run` takes it, a comma-separated string) first."""
    if isinstance(methods, str):  # not its letters
        methods = [m.strip() for m in methods.split(",")]
    present, methods = list(present), list(methods or ())
    return [m for m in methods if m in present] + [m for m in present if m not in methods]


def final_table(frame: pd.DataFrame, methods: str | Sequence[str] | None = None
                ) -> pd.DataFrame:
    """Per method: mean final test score, trials and time per job, failed jobs and jobs
    without a model (the test score averages the jobs that have one).

    Parameters
    ----------
    frame : pandas.DataFrame
        Trial records, as :func:`load_results` returns.
    methods : list of str, or str, optional
        The order of the rows (the run's; a list or a comma-separated string), then any
        other method.

    Returns
    -------
    pandas.DataFrame
    """
    last = _final(frame)
    jobs = frame.groupby("job").first()
    table = last.groupby("method").agg(
        test_score=("incumbent_test_score", "mean"), trials=("trial", "mean"),
        seconds=("elapsed", "mean"), jobs=("job", "nunique"))
    # methods whose every job failed too
    table = table.reindex(_in_order(jobs["method"].unique(), methods))
    table["failed_jobs"] = (jobs["status"] == "job_failed").groupby(jobs["method"]).sum()
    table["no_model_jobs"] = _no_model(frame).groupby("method")["job"].nunique()
    counts = {"jobs": int, "failed_jobs": int, "no_model_jobs": int}
    return table.fillna(dict.fromkeys(counts, 0)).astype(counts).round(4)


_METRIC_NAMES = {"accuracy": "accuracy", "r2": "R²"}


def final_table_legend(frame: pd.DataFrame) -> str:
    """What the columns of :func:`final_table` are, as the report and ``metaopt benchmark
    run`` print under it (the test metric named from the tasks).

    Parameters
    ----------
    frame : pandas.DataFrame
        Trial records, as :func:`load_results` returns.

    Returns
    -------
    str
    """
    tasks = sorted(frame["task"].dropna().unique())
    names = [_METRIC_NAMES.get(DEFAULT_SCORING[t], DEFAULT_SCORING[t]) for t in tasks]
    if len(tasks) > 1:
        names = [f"{name} ({task})" for name, task in zip(names, tasks, strict=True)]
    metric = " / ".join(names)
    return (f"test_score: mean final outer-test {metric or 'score'} of the jobs with a "
            "model; trials and seconds (of tuning, refits not counted): mean per job; jobs: "
            "jobs that ran; failed_jobs: jobs that failed as a whole; no_model_jobs: jobs "
            "that ran but where no trial gave a model.")


def win_tie_loss(frame: pd.DataFrame, methods: str | Sequence[str] | None = None
                 ) -> pd.DataFrame:
    """Per-dataset win/tie/loss of each method (rows) against each peer (columns).

    Compares the mean final test score over folds and seeds. A job that produced no
    model scores worst (``-inf``), as it has the worst regret in :func:`curves`: its
    method loses the dataset to a peer with a model in every job (two methods that
    both lack one there are not compared on it).

    Parameters
    ----------
    frame : pandas.DataFrame
        Trial records, as :func:`load_results` returns.
    methods : list of str, or str, optional
        The order of the rows and columns (the run's; a list or a comma-separated
        string), then any other method.

    Returns
    -------
    pandas.DataFrame
    """
    final = _final(frame)
    scores = final["incumbent_test_score"].astype(float).fillna(-np.inf)
    scores = scores.groupby([final["dataset_key"], final["method"]]).mean()
    scores = scores.unstack("method")
    order = _in_order(scores.columns, methods)
    table = pd.DataFrame("", index=pd.Index(order, name="method"), columns=order)
    for a in order:
        for b in order:
            if a != b:
                diff = (scores[a] - scores[b]).dropna()
                table.loc[a, b] = (f"{(diff > _TIE).sum()}/{(diff.abs() <= _TIE).sum()}/"
                                   f"{(diff < -_TIE).sum()}")
    return table


def _cd_diagram(final_regret: pd.DataFrame, path: Path) -> str:
    """Critical-difference diagram (autorank); returns a Markdown line about it (for two
    methods, autorank's Wilcoxon test has no diagram: the line gives its p-value). Without
    a diagram, an earlier report's ``path`` is removed; the diagram is written whole or not
    at all, so a save that fails midway leaves the earlier one as it was."""
    text, drawn = _draw_cd(final_regret, path)
    if not drawn:
        path.unlink(missing_ok=True)
    return text


def _draw_cd(final_regret: pd.DataFrame, path: Path) -> tuple[str, bool]:
    """:func:`_cd_diagram`'s line, and whether it wrote the diagram to ``path``."""
    try:
        from autorank import autorank, plot_stats
    except ImportError:
        return ("Critical-difference diagram: autorank is not installed "
                "(`pip install autorank`).", False)
    data = final_regret.dropna()
    if data.shape[0] < 5 or data.shape[1] < 2:
        return (f"Critical-difference diagram: needs >= 5 datasets and >= 2 methods with "
                f"results on all of them (have {data.shape[0]} x {data.shape[1]})."), False
    import warnings

    import matplotlib.pyplot as plt  # autorank draws with it; the backend stays the caller's

    # autorank prints its test choice and rank table whatever its verbose says
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        result = autorank(data, alpha=0.05, order="ascending", force_mode="nonparametric")
        ax = plot_stats(result, allow_insignificant=True)
    if ax is None:  # two methods: a Wilcoxon signed-rank test, which autorank does not draw
        verdict = "significant" if result.pvalue < result.alpha else "not significant"
        return (f"Critical-difference diagram: none for two methods. autorank "
                f"({result.omnibus} signed-rank test, alpha 0.05) on per-dataset mean final "
                f"regret: p = {result.pvalue:.3g}, the difference is {verdict}."), False
    try:
        save_whole(ax.figure, path, bbox_inches="tight", dpi=120)
    finally:
        plt.close(ax.figure)
    return (f"![critical differences]({path.name})\n\nautorank ({result.omnibus} test, "
            f"p = {result.pvalue:.3g}; {result.posthoc} post-hoc, alpha 0.05) on per-dataset "
            "mean final regret; methods joined by a bar are not significantly different."), True


def _missing(frame: pd.DataFrame, settings: dict) -> pd.DataFrame:
    """The (dataset_key, method, seed, fold) of the run's jobs without results yet."""
    datasets = sorted(set(settings.get("unseen", {})) - set(settings.get("excluded", [])))
    expected = pd.MultiIndex.from_product(
        [datasets, settings["methods"], range(settings["seeds"]), range(settings["folds"])],
        names=["dataset_key", "method", "seed", "fold"])
    return expected.difference(pd.MultiIndex.from_frame(frame[list(expected.names)]),
                               sort=False).to_frame(index=False)


def _unfinished(missing: pd.DataFrame, settings: dict) -> str:
    """A sentence on the jobs of the run not finished yet (empty when there are none)."""
    if missing.empty:
        return ""
    datasets = set(settings.get("unseen", {})) - set(settings.get("excluded", []))
    expected = len(datasets) * len(settings["methods"]) * settings["seeds"] * settings["folds"]
    return (f" **{len(missing)} of the run's {expected} jobs (datasets x methods x seeds x "
            "folds) have no results** (listed under Unfinished jobs): a run interrupted or "
            "still running (the files do not tell which), or a method or seed added to part "
            "of it; `benchmark run` with every method and seed finishes them. Until then the "
            "methods are not compared on the same jobs.")


def _unfinished_list(missing: pd.DataFrame) -> list[str]:
    """Markdown lines naming, per dataset, the method, seed and folds of each job
    without results."""
    lines = []
    for dataset, jobs in missing.groupby("dataset_key", sort=False):
        runs = [f"{method} seed {seed} fold{'s' * (len(f) > 1)} {', '.join(map(str, f['fold']))}"
                for (method, seed), f in jobs.groupby(["method", "seed"], sort=False)]
        lines.append(f"- {dataset}: {'; '.join(runs)}")
    return lines


def _jobs_by(values: pd.Series, jobs: pd.Series) -> str:
    """"A (n jobs), B (m jobs)": the jobs per value, most first."""
    counts = jobs.groupby(values).nunique().sort_values(ascending=False)
    return " and ".join(f"{value} ({n} job{'s' * (n > 1)})" for value, n in counts.items())


def _provenance(frame: pd.DataFrame, methods: list[str]) -> str:
    """Which metaopt versions, which meta-model for the ``metaopt`` method and which
    library versions for the peer ``methods`` made the results (job files of before
    2026-12-05 do not say)."""
    versions = frame["metaopt_version"].map("metaopt {}".format, na_action="ignore")
    # as objects: a column of job files that all lack it is float NaN, which pandas 4
    # refuses to fill with text
    versions = versions.astype(object)
    text = f"Produced by {_jobs_by(versions.fillna('an unknown version'), frame['job'])}."
    if versions.nunique(dropna=False) > 1:
        text += " Jobs of different versions are compared."
    if versions.isna().any():
        text += " Job files without a version were written before 2026-12-05."
    models = frame.loc[frame["method"] == "metaopt"]
    if not models.empty:
        text += (" The `metaopt` method's meta-model: "
                 + _jobs_by(models["meta_model"].astype(object).fillna("unknown"), models["job"]) + ".")
    peers = []
    for method in methods:
        jobs = frame.loc[frame["method"] == method]
        # a built-in peer, or a registered sampler whose jobs name its library
        if not jobs.empty and (method in PEER_LIBRARIES or jobs["peer_version"].notna().any()):
            peers.append(f"`{method}`: "
                         + _jobs_by(jobs["peer_version"].astype(object).fillna("unknown"),
                                    jobs["job"]))
    if peers:
        text += " Peer methods' libraries: " + "; ".join(peers) + "."
    return text


def _datasets_table(frame: pd.DataFrame, settings: dict) -> str:
    """The datasets of the jobs with results: name, task and rows benchmarked (train plus
    test rows of an outer fold; "?" for a dataset whose every job failed), by name. The
    job records hold no column count."""
    ok = frame[frame["status"] != "job_failed"]
    sizes = ok.groupby("dataset_key").agg(task=("task", "first"),
                                          rows=("n_train", "first"))
    sizes["rows"] += ok.groupby("dataset_key")["n_test"].first()
    names = frame.groupby("dataset_key")["dataset"].first()
    table = pd.DataFrame({"dataset": names}).join(sizes).sort_values("dataset", kind="stable")
    table["task"] = table["task"].fillna("?")
    table["rows"] = [("?" if pd.isna(n) else str(int(n))) for n in table["rows"]]
    text = markdown_table(table, index=False)
    if settings.get("max_rows"):
        text += f"\n\nRows as benchmarked: subsampled to at most {settings['max_rows']}."
    return text


def report(out: str | os.PathLike) -> Path:
    """Write ``report.md`` and its PNG plots into a ``benchmark run`` directory.

    Parameters
    ----------
    out : str or path-like
        The directory (holding ``run.json`` and ``jobs/``).

    Returns
    -------
    Path
        ``report.md``.
    """
    out = Path(out)
    settings = read_settings(run_settings_file(out))
    frame = load_results(out)
    # jobs an earlier run made before --exclude-training-data named their datasets
    stale = frame["dataset_key"].isin(settings.get("excluded", []))
    n_stale = frame.loc[stale, "job"].nunique()
    frame = frame[~stale]
    curve = curves(frame, settings)
    missing = _missing(frame, settings)
    # a method whose every job failed has no curve (its jobs are listed as failed)
    methods = [m for m in settings["methods"] if m in set(curve["method"])]
    # in the run's order, as the paired differences list the other methods
    curve = curve.sort_values("method", key=lambda m: m.map(methods.index), kind="stable")
    unit = "trials" if settings.get("budget_trials") else "seconds"
    plot_curves(curve, out / "regret.png", methods=methods, x="budget", xlabel=unit,
                title=f"{settings['suite']}: incumbent test regret", ylabel="normalized regret",
                over="datasets")
    plot_curves(curve, out / "rank.png", value="rank", methods=methods, xlabel=unit,
                title=f"{settings['suite']}: mean rank (1 = best)", ylabel="mean rank",
                limits=(1.0, float(len(methods))), full_axis=True, over="datasets")
    final = curve[curve["budget"] == curve["budget"].max()]
    final_regret = final.groupby(["task", "method"])["regret"].mean().unstack("method")
    cd_text = _cd_diagram(final_regret[[m for m in methods if m in final_regret]],
                          out / "cd.png")
    unseen = settings.get("unseen", {})
    known = {k: v for k, v in unseen.items() if v is not None}
    failed = frame[frame["status"] == "job_failed"]
    # "all", or the names (a list in run.json, once printed as "['linear', 'knn']")
    spaces = settings["spaces"] if isinstance(settings["spaces"], str) else ", ".join(
        settings["spaces"])
    n_datasets = frame["dataset_key"].nunique()
    lines = [
        f"# Benchmark: {settings['suite']}", "",
        f"Budget: {settings.get('budget_trials') or settings.get('budget_seconds')} {unit} per "
        f"job; {settings['folds']} outer folds, {settings['cv_folds']}-fold inner CV, "
        f"spaces: {spaces}; methods: {', '.join(methods)}; "
        f"{counted(n_datasets, 'dataset')}, {frame['job'].nunique()} jobs."
        + _unfinished(missing, settings), "",
        _provenance(frame, settings["methods"]), "",
        "Regret: incumbent's outer-test score, min-max normalized per (dataset, fold) over all "
        "methods (0 = best seen, 1 = worst); ranks among methods per (dataset, fold, seed, "
        "budget) where every method has an incumbent (FLAML: only at the end). Each "
        "dataset counts once.", "",
        f"## Regret and rank vs {unit}", "",
        "mean normalized regret (mean rank)", "",
        markdown_table(summary_table(curve, methods=methods)), "",
        "![regret](regret.png)", "", "![rank](rank.png)", "",
        "## Critical differences (final budget)", "", cd_text, "",
        f"## {methods[-1]} against each other method (paired regret)", "",
        f"Mean of {methods[-1]}'s regret minus the other's (negative: {methods[-1]} lower), "
        "95 % Student-t interval over datasets (folds and seeds of a dataset averaged "
        "first; clipped to [-1, 1], the range of a regret difference, where it is wider), "
        "and the (dataset, fold, seed) runs won / tied / lost.", "",
        markdown_table(paired_differences(curve.rename(columns={"task": "dataset"}),
                                          methods[-1], unit="dataset",
                                          within=("fold", "seed"), bounds=REGRET_RANGE))
        if len(methods) > 1 else "(one method)", "",
        "## Win / tie / loss per dataset (row vs column, final test score)", "",
        markdown_table(win_tie_loss(frame, settings["methods"])), "",
        "## Final test score, trials and time per job", "", final_table_legend(frame), "",
        markdown_table(final_table(frame, settings["methods"])), "",
        "## Datasets", "", _datasets_table(frame, settings), "",
        (f"Unseen by the meta-model: {sum(known.values())} of {len(known)} "
         f"({', '.join(k for k, v in known.items() if v) or 'none'})."
         if known else "Unseen by the meta-model: unknown (no list of training datasets)."),
    ]
    if settings.get("excluded"):
        lines.append(f"Excluded as training data: {', '.join(settings['excluded'])}"
                     + (f" (their {n_stale} job(s) from an earlier run are left out of "
                        "the tables)." if n_stale else "."))
    if len(missing):
        lines += ["", "## Unfinished jobs", "",
                  "Jobs of the run without results, per dataset (method, seed, outer folds):",
                  "", *_unfinished_list(missing)]
    if len(failed):
        lines += ["", "## Failed jobs", ""]
        lines += [f"- {r.job}: {r.error}" for r in failed.itertuples()]
    path = out / "report.md"
    # whole or not at all: a write that fails midway (a full disk) keeps the earlier report
    write_whole(path, lambda tmp: Path(tmp).write_text("\n".join(lines) + "\n"))
    return path
