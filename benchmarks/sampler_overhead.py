"""Wall time per suggestion: MetaSampler vs multivariate TPE, at 10/100/1000 trials.

One *suggestion* is ``study.ask()`` plus the define-by-run sampling of a real metaopt
space (``get_space(space).sample(trial, task)``), i.e. everything the sampler does
before the objective runs. Each study is prefilled with ``n`` completed trials
(``optuna.trial.create_trial`` + ``study.add_trials``: seeded random configurations of the
space, scored by a cheap synthetic objective), so no real trial has to run. One untimed
ask/tell per study first loads the meta-model and builds caches; then ``--repeats``
suggestions are timed, alternating the samplers so that both see the same machine
load. Every timed trial is told its synthetic value, so the study grows from ``n`` to
``n + repeats`` during the measurement (as in a real run).

Goal of issue #6: MetaSampler no slower than ``TPESampler(multivariate=True)`` at 1000.

    python benchmarks/sampler_overhead.py                     # 10, 100, 1000 trials
    python benchmarks/sampler_overhead.py --profile           # + cProfile of MetaSampler
    python benchmarks/sampler_overhead.py --profile 10,1000   # ... at 10 and 1000 trials
    python benchmarks/sampler_overhead.py --sizes 10,100 --repeats 10

Writes ``benchmarks/results/sampler_overhead.csv`` (one row per timed suggestion) and
``sampler_overhead.png``; ``--profile`` also writes ``sampler_overhead_profile.txt``.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import time
import warnings
from pathlib import Path

import numpy as np
import optuna
import pandas as pd
from _common import single_threaded  # benchmarks/_common.py, beside this script
from optuna.distributions import CategoricalDistribution, IntDistribution

from metaopt._files import write_whole
from metaopt._markdown import markdown_table
from metaopt.samplers import MetaSampler
from metaopt.spaces import get_space

RESULTS = Path(__file__).resolve().parent / "results"


class _RecordingTrial:
    """Seeded uniform draws through ``suggest_*`` that record the distributions used, so
    that ``space.sample`` yields a configuration ready for ``optuna.trial.create_trial``."""

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng
        self.distributions: dict = {}

    def suggest_categorical(self, name, choices):
        self.distributions[name] = CategoricalDistribution(choices)
        return choices[int(self.rng.integers(len(choices)))]

    def suggest_int(self, name, low, high, *, step=1, log=False):  # (no registered space steps)
        self.distributions[name] = IntDistribution(low, high, log=log, step=step)
        if log:
            value = int(np.floor(np.exp(self.rng.uniform(np.log(low), np.log(high + 1)))))
            return min(max(value, low), high)
        return int(self.rng.integers(low, high + 1))

    def suggest_float(self, name, low, high, *, step=None, log=False):
        self.distributions[name] = optuna.distributions.FloatDistribution(low, high, log=log,
                                                                          step=step)
        if log:
            return float(np.exp(self.rng.uniform(np.log(low), np.log(high))))
        return float(self.rng.uniform(low, high))


class SyntheticObjective:
    """Cheap deterministic score of a configuration: minus the squared distance of its
    encoding to a fixed random optimum (higher is better)."""

    def __init__(self, space, seed: int = 0) -> None:
        self.space = space
        self.optimum = np.random.default_rng(seed).uniform(size=space.n_encoded)

    def __call__(self, params: dict) -> float:
        return -float(np.sum((self.space.encode(params) - self.optimum) ** 2))


def prefill(study: optuna.Study, space, task: str, objective, n: int, seed: int) -> None:
    # a stream of its own: metaopt draws its random ranker candidates with
    # default_rng(seed) the same way, and prefilled trials must not *be* those candidates
    rng = np.random.default_rng([seed, 0xF111])
    trials = []
    for _ in range(n):
        recorder = _RecordingTrial(rng)
        params = space.sample(recorder, task)
        trials.append(optuna.trial.create_trial(params=params,
                                                distributions=recorder.distributions,
                                                value=objective(params)))
    study.add_trials(trials)


def make_sampler(name: str, space: str, task: str, seed: int) -> optuna.samplers.BaseSampler:
    if name == "metasampler":
        return MetaSampler(space=space, task=task, seed=seed)
    if name == "tpe_multivariate":
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            return optuna.samplers.TPESampler(multivariate=True, seed=seed)
    raise ValueError(f"unknown sampler {name!r}")


def suggest(study: optuna.Study, space, task: str) -> tuple[optuna.Trial, dict, float]:
    start = time.perf_counter()
    trial = study.ask()
    params = space.sample(trial, task)
    return trial, params, time.perf_counter() - start


def measure(space_name: str, task: str, sizes: list[int], repeats: int, seed: int,
            samplers: list[str]) -> tuple[pd.DataFrame, dict]:
    space = get_space(space_name)
    objective = SyntheticObjective(space, seed)
    rows, studies = [], {}
    for n in sizes:
        for name in samplers:
            study = optuna.create_study(direction="maximize",
                                        sampler=make_sampler(name, space_name, task, seed))
            prefill(study, space, task, objective, max(n - 1, 0), seed)  # same trials for all
            trial, params, _ = suggest(study, space, task)  # untimed: loads the model
            study.tell(trial, objective(params))
            studies[(name, n)] = study
        for r in range(repeats):
            for name in samplers if r % 2 == 0 else samplers[::-1]:
                study = studies[(name, n)]
                n_complete = len(study.trials)
                trial, params, seconds = suggest(study, space, task)
                study.tell(trial, objective(params))
                rows.append({"sampler": name, "n_trials": n, "n_complete": n_complete,
                             "repeat": r, "seconds": seconds})
        print(f"  measured n={n}", flush=True)
    return pd.DataFrame(rows), studies


def summarize(frame: pd.DataFrame, samplers: list[str]) -> pd.DataFrame:
    stats = frame.groupby(["n_trials", "sampler"])["seconds"].agg(["median", "mean"])
    table = pd.DataFrame(index=sorted(frame["n_trials"].unique()))
    table.index.name = "n_trials"
    for name in samplers:
        table[f"{name} median ms"] = stats.xs(name, level="sampler")["median"] * 1e3
        table[f"{name} mean ms"] = stats.xs(name, level="sampler")["mean"] * 1e3
    if {"metasampler", "tpe_multivariate"} <= set(samplers):
        table["ratio meta/tpe (median)"] = (table["metasampler median ms"]
                                            / table["tpe_multivariate median ms"])
    return table


def plot(frame: pd.DataFrame, samplers: list[str], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4), dpi=120)
    for name in samplers:
        rows = frame[frame["sampler"] == name].groupby("n_trials")["seconds"]
        med = rows.median() * 1e3
        low, high = rows.quantile(0.25) * 1e3, rows.quantile(0.75) * 1e3
        ax.plot(med.index, med.values, marker="o", label=name)
        ax.fill_between(med.index, low.values, high.values, alpha=0.2)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("completed trials in the study")
    ax.set_ylabel("ms per suggestion (median, IQR band)")
    ax.set_title("Sampler overhead per suggestion")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    # whole or not at all: a crash or Ctrl-C mid-save keeps the published PNG
    write_whole(path, lambda tmp: fig.savefig(tmp, format="png"))
    plt.close(fig)


def profile(study: optuna.Study, space_name: str, task: str, repeats: int,
            top: int = 30) -> str:
    """cProfile of ``repeats`` MetaSampler suggestions on ``study`` (cumulative and tottime)."""
    space = get_space(space_name)
    objective = SyntheticObjective(space)
    profiler = cProfile.Profile()
    for _ in range(repeats):
        profiler.enable()
        trial, params, _ = suggest(study, space, task)
        profiler.disable()
        study.tell(trial, objective(params))
    out = io.StringIO()
    out.write(f"cProfile of {repeats} MetaSampler suggestions at {len(study.trials)} trials\n")
    for key in ("cumulative", "tottime"):
        out.write(f"\n=== sorted by {key} ===\n")
        pstats.Stats(profiler, stream=out).strip_dirs().sort_stats(key).print_stats(top)
    return out.getvalue()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--space", default="hist_gradient_boosting",
                        help="metaopt space with a shipped meta-model")
    parser.add_argument("--task", default="classification")
    parser.add_argument("--sizes", default="10,100,1000",
                        help="completed trials in the study before timing")
    parser.add_argument("--repeats", type=int, default=20, help="timed suggestions per size")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--profile", nargs="?", const="largest", default=None,
                        help="cProfile MetaSampler after the timing, at these sizes (comma "
                             "list; the bare flag: the largest)")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--threads", type=int, default=1,
                        help="BLAS and torch threads (default 1)")
    args = parser.parse_args(argv)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    single_threaded(args.threads)
    sizes = sorted(int(s) for s in args.sizes.split(","))
    samplers = ["metasampler", "tpe_multivariate"]
    args.out.mkdir(parents=True, exist_ok=True)

    print(f"space={args.space} task={args.task} sizes={sizes} repeats={args.repeats} "
          f"optuna={optuna.__version__}", flush=True)
    frame, studies = measure(args.space, args.task, sizes, args.repeats, args.seed, samplers)
    frame.to_csv(args.out / "sampler_overhead.csv", index=False)
    plot(frame, samplers, args.out / "sampler_overhead.png")
    table = summarize(frame, samplers)
    print()
    print(markdown_table(table, ".1f"))
    largest = sizes[-1]
    ratio = table.loc[largest, "ratio meta/tpe (median)"]
    verdict = "MET" if ratio <= 1.0 else "NOT MET"
    print(f"\nGoal (MetaSampler no slower than multivariate TPE at {largest} trials): "
          f"{verdict} (median ratio {ratio:.2f})")
    if args.profile:
        at = [largest] if args.profile == "largest" else [int(n) for n in args.profile.split(",")]
        texts = []
        for n in at:
            if ("metasampler", n) not in studies:
                parser.error(f"--profile {n}: not one of the measured sizes {sizes}")
            texts.append(profile(studies[("metasampler", n)], args.space, args.task,
                                 max(5, args.repeats // 2)))
            print("\n" + "\n".join(texts[-1].splitlines()[:45]))
        (args.out / "sampler_overhead_profile.txt").write_text("\n\n".join(texts))
    print(f"\nwrote {args.out / 'sampler_overhead.csv'} and {args.out / 'sampler_overhead.png'}")


if __name__ == "__main__":
    main()
