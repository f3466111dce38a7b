"""YAHPO Gym surrogates as an evaluation function: any configuration on any instance.

The ONNX surrogate is queried directly, in batches (one ``session.run`` per call),
with the scenario metadata of ``yahpo_gym``; nothing is written to
``~/.config/yahpo_gym``. Instances follow ``splits.json``: ``train`` and ``valid`` for
meta-training and selection; the rest are reserved and only reachable with an
explicit ``split="test"``.
"""

from __future__ import annotations

import difflib
import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

from metaopt.kb._design import plan_configs
from metaopt.kb._spaces import external_space
from metaopt.kb._store import KnowledgeBase
from metaopt.spaces import Param

SPLITS = ("train", "valid", "train+valid", "test")
#: Target stored as ``cv_score`` per scenario (higher is better).
SCORE_TARGETS = {"lcbench": "val_accuracy", "rbv2_xgboost": "acc", "rbv2_rpart": "acc",
                 "iaml_glmnet": "auc"}  # higher is better
_DATASET_KEYS = {"lcbench": "openml-task"}  # rbv2/iaml instances are OpenML dataset ids


def _scenario_config(scenario: str) -> dict[str, Any]:
    try:
        from yahpo_gym.configuration import config_dict
    except ImportError as exc:
        raise ValueError("YAHPO surrogates need yahpo-gym and onnxruntime: "
                         "pip install 'metaopt[surrogates]'") from exc
    if scenario not in config_dict.configs:
        close = difflib.get_close_matches(str(scenario).lower(), config_dict.configs, n=1)
        raise ValueError(f"unknown YAHPO scenario {scenario!r}; known: {sorted(config_dict.configs)}"
                         + (f"; did you mean {close[0]!r}?" if close else ""))
    return config_dict.configs[scenario]


def _param(spec: dict[str, Any], condition) -> Param:
    kind, name = spec["type"], spec["name"]
    if kind == "uniform_float":
        dist = FloatDistribution(spec["lower"], spec["upper"], log=spec["log"])
    elif kind == "uniform_int":
        dist = IntDistribution(spec["lower"], spec["upper"], log=spec["log"])
    elif kind == "categorical":
        dist = CategoricalDistribution(tuple(spec["choices"]))
    else:
        raise ValueError(f"unsupported YAHPO hyperparameter type {kind!r} for {name!r}")
    return Param(name, dist, spec["default"], condition=condition)


class YahpoBenchmark:
    """A YAHPO Gym scenario restricted to one split of its instances.

    Parameters
    ----------
    scenario : str
        ``"lcbench"``, ``"rbv2_xgboost"``, ``"rbv2_rpart"``, ...
    data_path : path-like
        The YAHPO data directory (with ``<scenario>/model.onnx`` and ``splits.json``).
    split : {"train", "valid", "train+valid", "test"}, default "train+valid"
        Which instances this object exposes and accepts. ``"test"`` (the instances not
        listed in ``splits.json``) is for final benchmarks only.
    score_target : str, optional
        Surrogate output used as the (higher-is-better) score; required for scenarios
        other than those of ``SCORE_TARGETS``.

    Attributes
    ----------
    space : SearchSpace
        The tunable hyperparameters (instance and fidelity removed), with conditions.
    instances : list of str
    fidelity : dict
        Fidelity parameter -> value used by :meth:`evaluate` (the maximum by default).
    """

    def __init__(self, scenario: str, data_path: str | os.PathLike, *,
                 split: str = "train+valid", score_target: str | None = None) -> None:
        if split not in SPLITS:
            raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
        self.scenario, self.split = scenario, split
        self.data_path = Path(data_path)
        self._cfg = _scenario_config(scenario)
        folder = self.data_path / scenario
        if not (folder / "model.onnx").is_file():
            raise ValueError(f"{os.fspath(folder)!r} has no YAHPO model.onnx for {scenario!r}")
        splits_file = self.data_path / "splits.json"
        if not splits_file.is_file():
            raise ValueError(f"{os.fspath(splits_file)!r} not found: YAHPO instances need "
                             "their train/valid split")
        splits = json.loads(splits_file.read_text()).get(scenario)
        if splits is None:
            raise ValueError(f"splits.json has no entry for scenario {scenario!r}")
        cs = json.loads((folder / "config_space.json").read_text())
        self._encoding = json.loads((folder / "encoding.json").read_text())
        inst = self._cfg["instance_names"]
        fidelity = set(self._cfg["fidelity_params"])
        specs = {h["name"]: h for h in cs["hyperparameters"]}
        #: every instance of the scenario, whatever the split
        self.all_instances = [str(c) for c in specs[inst]["choices"]]
        # ids as strings: a splits.json with integer ids must not put train or valid
        # instances in the reserved split
        train, valid = (self._split_ids(splits, part, splits_file) for part in ("train", "valid"))
        strangers = sorted((train | valid) - set(self.all_instances))
        if strangers:
            raise ValueError(f"{os.fspath(splits_file)!r}: {scenario}'s train/valid splits "
                             f"name instances the scenario lacks: {strangers[:10]}")
        shared = sorted(train & valid)
        if shared:
            raise ValueError(f"{os.fspath(splits_file)!r}: {scenario}'s train and valid "
                             f"splits share instances {shared[:10]}")
        chosen = {"train": train, "valid": valid, "train+valid": train | valid}.get(
            split, set(self.all_instances) - train - valid)
        self.instances = [i for i in self.all_instances if i in chosen]
        conditions = {}
        for c in cs["conditions"]:
            if c["type"] not in ("IN", "EQ"):
                raise ValueError(f"unsupported YAHPO condition {c!r}")
            values = c["values"] if c["type"] == "IN" else [c["value"]]
            conditions[c["child"]] = (c["parent"], tuple(values))
        tunable = [n for n in specs if n != inst and n not in fidelity]
        parents_first = sorted(tunable, key=lambda n: (n in conditions, n))
        self.space = external_space(
            f"yahpo_{scenario}",
            tuple(_param(specs[n], conditions.get(n)) for n in parents_first),
            ("classification",),
            f"YAHPO Gym {scenario} surrogate",
        )
        self.fidelity = {n: specs[n]["upper"] for n in self._cfg["fidelity_params"]}
        self._fidelity_space = external_space(
            f"yahpo_{scenario} fidelity",
            tuple(_param(specs[n], None) for n in self._cfg["fidelity_params"]),
            ("classification",), f"YAHPO Gym {scenario} fidelity parameters")
        self.score_target = score_target or SCORE_TARGETS.get(scenario)
        if self.score_target not in self._cfg["y_names"]:
            raise ValueError(f"score_target must be one of {self._cfg['y_names']} for "
                             f"{scenario!r}, got {self.score_target!r}")
        self._session: Any = None  # an onnxruntime.InferenceSession, made on first use

    @staticmethod
    def _split_ids(splits: Any, part: str, file: Path) -> set[str]:
        """The instance ids of ``splits[part]`` as strings (none without the entry)."""
        if not isinstance(splits, dict):
            raise ValueError(f"{os.fspath(file)!r}: a scenario's entry must map 'train' and "
                             f"'valid' to lists of instance ids, got {type(splits).__name__}")
        ids = splits.get(part, [])
        if not isinstance(ids, list):
            raise ValueError(f"{os.fspath(file)!r}: {part!r} must be a list of instance ids, "
                             f"got {type(ids).__name__}")
        return {str(i) for i in ids}

    def __repr__(self) -> str:
        return (f"YahpoBenchmark({self.scenario!r}, split={self.split!r}, "
                f"{len(self.instances)} instances)")

    @property
    def targets(self) -> list[str]:
        """Names of the surrogate outputs (columns of :meth:`evaluate`)."""
        return list(self._cfg["y_names"])

    def _run(self, x_cat: np.ndarray, x_cont: np.ndarray) -> np.ndarray:
        if self._session is None:
            import onnxruntime as rt

            options = rt.SessionOptions()
            options.intra_op_num_threads = 1
            options.inter_op_num_threads = 1
            self._session = rt.InferenceSession(
                str(self.data_path / self.scenario / "model.onnx"), options,
                providers=["CPUExecutionProvider"])
        names = [i.name for i in self._session.get_inputs()]
        return self._session.run(None, {names[0]: x_cat, names[1]: x_cont})[0]

    def evaluate(
        self,
        configs: Mapping[str, Any] | Sequence[Mapping[str, Any]],
        instance: str,
        fidelity: Mapping[str, float] | None = None,
    ) -> pd.DataFrame:
        """Surrogate predictions for configurations on one instance, in one batch.

        Parameters
        ----------
        configs : dict or list of dicts
            Configurations of :attr:`space` (checked; inactive params may be omitted).
        instance : str
            One of :attr:`instances` (an instance outside this object's split raises).
        fidelity : dict, optional
            Overrides of :attr:`fidelity` (e.g. ``{"epoch": 10}``), within the
            scenario's range (the surrogate is not trained beyond it).

        Returns
        -------
        pandas.DataFrame
            One row per configuration, one column per target (:attr:`targets`).
        """
        instance = str(instance)
        if instance not in self.instances:
            raise ValueError(
                f"instance {instance!r} is not in the {self.split!r} split of "
                f"{self.scenario}; accepted: {self.instances}"
            )
        if isinstance(configs, Mapping):
            configs = [configs]
        fid = self._fidelity_space.check_params({**self.fidelity, **(fidelity or {})},
                                                "classification")
        rows = [{**self.space.check_params(c, "classification"), **fid,
                 self._cfg["instance_names"]: instance} for c in configs]
        drop = set(self._cfg.get("drop_predict", []))
        cats = [n for n in self._cfg["cat_names"] if n not in drop]
        x_cat = np.array([[self._encoding[n][str(r.get(n, "#na#"))] for n in cats] for r in rows],
                         dtype=np.int32).reshape(len(rows), len(cats))
        x_cont = np.array([[r.get(n, 0) for n in self._cfg["cont_names"]] for r in rows],
                          dtype=np.float32).reshape(len(rows), -1)
        return pd.DataFrame(self._run(x_cat, x_cont), columns=self.targets)

    def dataset_key(self, instance: str) -> str:
        """The knowledge base key of an instance (``openml-task/<id>`` or ``openml-dataset/<id>``).

        Parameters
        ----------
        instance : str
            One of :attr:`instances`.

        Returns
        -------
        str
        """
        return f"{_DATASET_KEYS.get(self.scenario, 'openml-dataset')}/{instance}"


def load_yahpo(
    benchmark: YahpoBenchmark,
    *,
    n_configs: int = 64,
    n_design: int | None = None,
    seed: int = 0,
    kb: KnowledgeBase | None = None,
) -> KnowledgeBase:
    """Evaluate a seeded design on every instance of ``benchmark`` into a knowledge base.

    The shared part (``n_design``, default all ``n_configs``) is identical on every
    instance; the rest is random per instance, exactly as in :func:`build`. Scores are
    the surrogate's :attr:`~YahpoBenchmark.score_target` at full fidelity; every target is
    kept in ``extra``. Space name ``"yahpo_<scenario>"``, origin ``"yahpo"``.

    Parameters
    ----------
    benchmark : YahpoBenchmark
    n_configs : int, default=64
        Configurations per instance.
    n_design : int, optional
        How many of them are shared by every instance (default: all).
    seed : int, default=0
        Seeds the configurations; stored as the evaluations' ``seed``.
    kb : KnowledgeBase, optional
        Store to add to; a new in-memory one by default.

    Returns
    -------
    KnowledgeBase
    """
    kb = KnowledgeBase() if kb is None else kb
    n_design = n_configs if n_design is None else n_design
    runtime = benchmark._cfg["runtime_name"]
    for instance in benchmark.instances:
        key = benchmark.dataset_key(instance)
        kb.add_dataset({"dataset_key": key, "name": f"{benchmark.scenario}/{instance}",
                        "source": "yahpo", "source_id": instance, "task": "classification",
                        "status": "ok"})
        planned = plan_configs(benchmark.space, "classification", key, n_configs=n_configs,
                               n_design=n_design, seed=seed)
        out = benchmark.evaluate([p.params for p in planned], instance)
        kb.add_evaluations(
            {"dataset_key": key, "space": benchmark.space.name, "config_id": p.config_id,
             "seed": seed, "design_id": p.design_id, "config": p.params,
             "task": "classification", "metric": benchmark.score_target,
             "cv_score": float(row[benchmark.score_target]),
             "fit_time": float(row[runtime]) if runtime else None,
             "status": "ok", "origin": "yahpo",
             "extra": {"fidelity": benchmark.fidelity, **{k: float(v) for k, v in row.items()}}}
            for p, (_, row) in zip(planned, out.iterrows(), strict=True)
        )
    return kb
