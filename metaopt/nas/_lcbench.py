"""The LCBench parameterisation of MLPs, its tasks, and its translation to the ``mlp`` space.

LCBench (Zimmer et al., 2021; YAHPO Gym scenario ``lcbench``) trained Auto-PyTorch
"shaped" MLPs with SGD + momentum on 35 OpenML tasks. Its seven hyperparameters are the
native space of :class:`~metaopt.nas.ArchitecturePrior`; :func:`to_mlp_params` maps a
configuration onto the ``mlp`` search space of :mod:`metaopt.spaces` (AdamW, constant
width), which the estimators of :mod:`metaopt.nas` build.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from importlib import resources
from typing import Any

import numpy as np
import pandas as pd
from optuna.distributions import FloatDistribution, IntDistribution

from metaopt.kb._spaces import external_space
from metaopt.spaces import Param, SearchSpace

#: Same name, ranges and defaults as ``YahpoBenchmark("lcbench", ...).space`` (the
#: instance id and the epoch fidelity removed), so no YAHPO install is needed to use it.
LCBENCH_SPACE: SearchSpace = external_space(
    "yahpo_lcbench",
    (
        Param("batch_size", IntDistribution(16, 512, log=True), 91),
        Param("learning_rate",
              FloatDistribution(0.00010000000000000009, 0.10000000000000002, log=True),
              0.0031622777),
        Param("max_dropout", FloatDistribution(0.0, 1.0), 0.5),
        Param("max_units", IntDistribution(64, 1024, log=True), 256),
        Param("momentum", FloatDistribution(0.1, 0.99), 0.545),
        Param("num_layers", IntDistribution(1, 5), 3),
        Param("weight_decay", FloatDistribution(1e-05, 0.1), 0.050005),
    ),
    ("classification",),
    "YAHPO Gym lcbench surrogate",
)

#: Meta-features the prior is conditioned on: the ones every LCBench task has.
PRIOR_FEATURES: tuple[str, ...] = ("n_instances", "n_features", "n_classes")

#: Epochs LCBench trained every configuration for (the surrogate's fidelity goes to 52).
LCBENCH_EPOCHS = 50

_LR_SCALE = 0.1  # AdamW lr = _LR_SCALE * SGD lr / (1 - momentum); see to_mlp_params


def _data_file(name: str) -> Any:
    return resources.files("metaopt").joinpath("_models", "nas_prior", name)


def lcbench_tasks(split: str | None = None) -> pd.DataFrame:
    """The LCBench train/valid tasks with their simple OpenML qualities and provenance.

    Parameters
    ----------
    split : {"train", "valid"}, optional
        Keep only the tasks of that split of ``splits.json``.

    Returns
    -------
    pandas.DataFrame
        Index: OpenML task id (str); columns ``split``, ``name``, ``did``, ``source``,
        ``NumberOfInstances``, ``NumberOfFeatures`` (target included), ``NumberOfClasses``.
    """
    if split not in (None, "train", "valid"):
        raise ValueError(f"split must be None, 'train' or 'valid', got {split!r}")
    data = json.loads(_data_file("lcbench_tasks.json").read_text())
    frame = pd.DataFrame.from_dict(data["tasks"], orient="index")
    frame.index.name = "task_id"
    return frame if split is None else frame[frame["split"] == split]


def task_metafeatures(task_id: str) -> pd.Series:
    """The :data:`PRIOR_FEATURES` of an LCBench task (named as in ``metaopt.metafeatures``).

    Parameters
    ----------
    task_id : str
        An LCBench train/valid task (:func:`lcbench_tasks`).

    Returns
    -------
    pandas.Series
    """
    tasks = lcbench_tasks()
    task_id = str(task_id)
    if task_id not in tasks.index:
        raise ValueError(f"task_id must be an LCBench train/valid task, got {task_id!r}; "
                         f"accepted: {list(tasks.index)}")
    row = tasks.loc[task_id]
    return pd.Series({"n_instances": float(row["NumberOfInstances"]),
                      "n_features": float(row["NumberOfFeatures"]) - 1.0,
                      "n_classes": float(row["NumberOfClasses"])}, name=task_id)


def prior_features(meta_features: Mapping[str, Any] | pd.Series) -> np.ndarray:
    """``log1p`` of the :data:`PRIOR_FEATURES` of one dataset, as a float vector.

    Accepts the Series of :func:`metaopt.metafeatures.compute` (or any mapping with
    those keys, optionally prefixed ``mf_``). A regression dataset (``n_classes`` 0)
    is read as having one output.
    """
    if not isinstance(meta_features, (Mapping, pd.Series)):
        raise TypeError("meta_features must be a pandas Series or a mapping of "
                        f"meta-feature name -> value, got {type(meta_features).__name__}")
    values = []
    for name in PRIOR_FEATURES:
        value = meta_features.get(name, meta_features.get(f"mf_{name}"))
        try:
            value = float(value)
        except (TypeError, ValueError):
            value = math.nan
        if not math.isfinite(value) or value < 0:
            raise ValueError(f"meta_features needs a finite value >= 0 for {name!r}, got "
                             f"{meta_features.get(name)!r}; accepted keys: {PRIOR_FEATURES} "
                             "(e.g. metaopt.metafeatures.compute(X, y, task))")
        values.append(value)
    values[2] = max(values[2], 1.0)
    return np.log1p(np.asarray(values))


def to_mlp_params(config: Mapping[str, Any], *, max_epochs: int = LCBENCH_EPOCHS
                  ) -> dict[str, Any]:
    """Translate an LCBench configuration into a configuration of the ``mlp`` space.

    ============  ==========================================  ============================
    mlp param     from LCBench                                 why
    ============  ==========================================  ============================
    n_layers      ``min(num_layers, 4)``                       the mlp space stops at 4
    width         ``max_units``                                LCBench's widest (first) layer
    dropout       ``max_dropout / 2``                          funnel dropout 0 -> max: mean
    learning_rate ``0.1 * lr / (1 - momentum)``, clipped       SGD's effective step
                  to [1e-4, 0.1]                               ``lr/(1-m)``, scaled to AdamW
    weight_decay  ``weight_decay``, clipped to [1e-6, 0.1]     same coefficient (decoupled)
    batch_size    ``batch_size``                               same range, 16..512
    activation    ``"relu"``, norm ``"none"``, skip ``False``  LCBench's MLPs
    max_epochs    ``max_epochs`` (LCBench: 50)                 early stopping picks less
    ============  ==========================================  ============================

    The learning-rate rule is a heuristic (an SGD learning rate is not an AdamW one).
    Its factor 0.1 was chosen among 0.01 / 0.03 / 0.1 on real training of the prior's
    draws on pmlb copies of four lcbench *train* datasets (vehicle, credit_g,
    australian, segmentation; <= 1000 rows, 20 epochs): mean hold-out accuracy of the
    draws 0.825 / 0.847 / 0.861 (``docs/nas.md``). The benchmark datasets were not used.

    Parameters
    ----------
    config : mapping
        An LCBench configuration (missing parameters: their defaults).
    max_epochs : int, default=50
        The ``max_epochs`` of the result (LCBench's epochs by default).

    Returns
    -------
    dict
    """
    c = LCBENCH_SPACE.check_params({**LCBENCH_SPACE.default("classification"), **config},
                                   "classification")
    n_layers = min(int(c["num_layers"]), 4)
    lr = _LR_SCALE * c["learning_rate"] / (1.0 - c["momentum"])
    params = {
        "n_layers": n_layers,
        "width": int(c["max_units"]),
        "activation": "relu",
        "dropout": float(min(c["max_dropout"] / 2.0, 0.5)),
        "norm": "none",
        "learning_rate": float(np.clip(lr, 1e-4, 1e-1)),
        "weight_decay": float(np.clip(c["weight_decay"], 1e-6, 1e-1)),
        "batch_size": int(c["batch_size"]),
        "max_epochs": int(max_epochs),
    }
    if n_layers >= 2:
        params["skip"] = False
    return params


def describe_mlp(params: Mapping[str, Any], rows: int | None = None) -> str:
    """One line for an ``mlp``-space configuration, e.g. ``3 x 256 relu, dropout 0.10, ...``.
    With ``rows``, the most rows it trained on (a refit's), a ``batch_size`` of at least
    that many reads as what trained: every minibatch all the rows (``batch 334 (all rows,
    120 in the refit)``)."""
    text = f"{params['n_layers']} x {params['width']} {params['activation']}"
    if params.get("norm", "none") != "none":
        text += f" {params['norm']}"
    if params.get("skip"):
        text += " residual"
    batch = f"batch {params['batch_size']}"
    if rows is not None and params["batch_size"] >= rows:
        batch += f" (all rows, {rows:,} in the refit)"
    return (f"{text}, dropout {params['dropout']:.2f}, AdamW lr {params['learning_rate']:.1e} "
            f"wd {params['weight_decay']:.1e}, {batch}")
