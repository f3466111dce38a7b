"""The meta-training loop, checkpoints (safetensors + JSON) and the loss history."""

from __future__ import annotations

import base64
import copy
import json
import math
from contextlib import nullcontext
from dataclasses import fields
from itertools import zip_longest
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, overload

import numpy as np
import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save
from torch import nn

from metaopt._checks import check_int
from metaopt._model_files import dumps, file_pair, sha256, write_files
from metaopt._progress import progress_bar
from metaopt._warnings import warn
from metaopt.meta._gradient import GradientLearner
from metaopt.meta._losses import check_rate, resolve_device, seeded
from metaopt.meta._metric import MetricLearner
from metaopt.meta.tasks import Episodes

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure, SubFigure

_FORMAT = "metaopt.meta/1"
# key prefix of the outer optimiser's state that MetaTrainer stores beside a checkpoint's
# weights (no learner's own tensor name starts with it)
_OPTIMIZER = "outer_optimizer/"


# the learners of metaopt.meta (training_step, meta_loss, get_config, iteration)
Learner = GradientLearner | MetricLearner


class TaskSampler(Protocol):
    def sample(self, n_tasks: int) -> Episodes: ...


def _aliases(state: dict[str, torch.Tensor]) -> dict[str, str]:
    """``{name: earlier name}`` for the entries of a state dict that are an earlier
    entry's tensor (a layer used twice, a tied weight), which safetensors refuses to
    store twice."""
    first: dict[tuple, str] = {}
    aliases: dict[str, str] = {}
    for name, t in state.items():
        if t.numel() == 0:
            continue
        key = (t.device, t.data_ptr(), t.dtype, tuple(t.shape), t.stride())
        if key in first:
            aliases[name] = first[key]
        else:
            first[key] = name
    return aliases


def _architecture(learner: nn.Module) -> list[str]:
    """The learner's modules, one line each (name, class, settings): what tells apart two
    architectures whose parameters have the same names and shapes (a ReLU and a Tanh
    MLP). Parameter containers are left out: their text holds dtypes and devices."""
    return [f"{name or '.'}: {type(m).__name__}({m.extra_repr()})"
            for name, m in learner.named_modules()
            if not isinstance(m, nn.ParameterDict | nn.ParameterList)]


def save_checkpoint(learner: Learner, path: str | Path, *, metadata: dict | None = None) -> Path:
    """Write ``learner``'s tensors to ``<path>.safetensors`` and its settings to ``<path>.json``.

    The JSON records the SHA-256 of the weights and both files are replaced at once
    (:func:`~metaopt._model_files.write_files`): an interrupted save leaves the earlier
    checkpoint, or a pair :func:`load_checkpoint` refuses, never one it loads mixed.

    Parameters
    ----------
    learner : GradientLearner or MetricLearner
        The learner whose weights and settings are saved.
    path : str or Path
        File stem; the two files are written side by side (directories created). A
        ``.json`` or ``.safetensors`` ending is taken off; any other dot stays part of the
        name (``maml_lr0.01`` writes ``maml_lr0.01.json``).
    metadata : dict, optional
        Extra JSON-serialisable data (e.g. the training history).

    Returns
    -------
    Path
        The JSON file.
    """
    if not isinstance(learner, GradientLearner | MetricLearner):  # it failed on get_config
        raise TypeError(f"learner must be a metaopt.meta learner (MAML, MetaSGD, ProtoNet, "
                        f"...), got {type(learner).__name__}; save the learner that wraps "
                        "the model, or a plain module with safetensors.torch.save_file")
    return _write_checkpoint(learner, path, metadata, {})


def _write_checkpoint(learner: Learner, path: str | Path, metadata: dict | None,
                      extra: dict[str, torch.Tensor]) -> Path:
    """:func:`save_checkpoint`, with ``extra`` tensors (keys under ``_OPTIMIZER``) stored
    beside the weights, under the same SHA-256."""
    json_path, tensor_path = file_pair(path)
    state = learner.state_dict()
    aliases = _aliases(state)
    weights = save({k: v.detach().cpu().contiguous() for k, v in {**state, **extra}.items()
                    if k not in aliases})
    record = {
        "format": _FORMAT,
        "learner": type(learner).__name__,
        "architecture": _architecture(learner),
        "config": learner.get_config(),
        "iteration": learner.iteration,
        "metadata": metadata or {},
        "weights_sha256": sha256(weights),
    }
    write_files({tensor_path: weights, json_path: dumps(record, indent=2).encode()})
    return json_path


def load_checkpoint(learner: Learner, path: str | Path) -> dict:
    """Load a checkpoint written by :func:`save_checkpoint` into an identically built ``learner``.

    Raises ValueError when the checkpoint belongs to another learner class or another
    architecture (other layers, even with parameters of the same names and shapes), is
    damaged, or its weights are not the ones its JSON was saved with (changed after
    saving, or a save interrupted between the two files); warns when it was saved from a
    learner built with other settings.

    Parameters
    ----------
    learner : GradientLearner or MetricLearner
        Receives the weights.
    path : str or Path
        The stem given to :func:`save_checkpoint` (or either of its two files).

    Returns
    -------
    dict
        The JSON record (``format``, ``learner``, ``architecture``, ``config``,
        ``iteration``, ``metadata``, ``weights_sha256``).
    """
    return _load_checkpoint(learner, path)[0]


def _load_checkpoint(learner: Learner, path: str | Path
                     ) -> tuple[dict, dict[str, torch.Tensor]]:
    """:func:`load_checkpoint`'s record, and the tensors stored under ``_OPTIMIZER``."""
    json_path, tensor_path = file_pair(path)
    for p in (json_path, tensor_path):
        if not p.is_file():
            raise ValueError(f"path={str(path)!r}: checkpoint file {p} does not exist")
    try:
        record = json.loads(json_path.read_text())
    except json.JSONDecodeError as exc:
        raise ValueError(f"path={str(path)!r}: {json_path} is not valid JSON ({exc})") from None
    if not isinstance(record, dict) or record.get("format") != _FORMAT:
        raise ValueError(
            f"path={str(path)!r} is not a {_FORMAT} checkpoint"
        )
    if (not isinstance(record.get("iteration"), int) or "learner" not in record
            or not isinstance(record.get("weights_sha256", ""), str)
            or not isinstance(record.get("architecture", []), list)):
        raise ValueError(f"path={str(path)!r}: {json_path} lacks a learner name or an "
                         "integer iteration, or its weights' SHA-256 is not a string, or "
                         "its architecture not a list; the file is damaged")
    if record["learner"] != type(learner).__name__:
        raise ValueError(
            f"path={str(path)!r} holds a {record['learner']} checkpoint, cannot load it into {type(learner).__name__}"
        )
    if "weights_sha256" not in record:  # saved before checkpoints recorded it
        warn(f"path={str(path)!r} was saved by a metaopt that did not record its "
             "weights' SHA-256: they are loaded unchecked (the next save records "
             "it)")
    elif record["weights_sha256"] != sha256(tensor_path.read_bytes()):
        raise ValueError(f"path={str(path)!r}: {tensor_path} is not the weights {json_path} "
                         "was saved with (SHA-256 mismatch: changed after saving, or a save "
                         "interrupted between the two files); refusing to load")
    state = learner.state_dict()
    try:
        tensors = load_file(str(tensor_path))
    except (SafetensorError, OSError) as exc:
        raise ValueError(f"path={str(path)!r}: cannot read {tensor_path}: {exc}") from exc
    extra = {k: tensors.pop(k) for k in list(tensors) if k.startswith(_OPTIMIZER)}
    for alias, name in _aliases(state).items():  # stored once, under the first name
        if name in tensors:
            tensors.setdefault(alias, tensors[name])
    # checked before loading: torch's load_state_dict copies the tensors that fit before it
    # raises for those that do not, which left a learner half overwritten
    _check_fits(tensors, state, path, record)
    _check_architecture(learner, path, record)
    # after the check: a learner that cannot take the weights gets the error alone
    saved, built = record.get("config"), json.loads(dumps(learner.get_config()))
    if saved != built:
        warn(f"path={str(path)!r} was saved from a {record['learner']} built with "
             f"{saved}; loading it into one built with {built}")
    learner.load_state_dict(tensors)
    learner.iteration = record["iteration"]
    return record, extra


def _optimizer_state(optimizer: torch.optim.Optimizer) -> tuple[dict[str, torch.Tensor],
                                                               dict | None]:
    """The optimiser's per-parameter state (Adam's moments and step counts) for a
    checkpoint: its tensors, keyed ``_OPTIMIZER<index>/<name>``, and a JSON record of the
    rest; ``({}, None)`` when a value is neither a tensor nor a JSON scalar."""
    state = optimizer.state_dict()
    tensors: dict[str, torch.Tensor] = {}
    values: dict[str, Any] = {}
    for index, entries in state["state"].items():
        for name, value in entries.items():
            if isinstance(value, torch.Tensor):
                tensors[f"{_OPTIMIZER}{index}/{name}"] = value
            elif value is None or isinstance(value, bool | int | float | str):
                values[f"{index}/{name}"] = value
            else:
                return {}, None
    return tensors, {"kind": _kind(optimizer), "parameters": _n_parameters(state),
                     "values": values}


def _n_parameters(state: dict) -> int:
    return sum(len(group["params"]) for group in state["param_groups"])


def _restore_optimizer(optimizer: torch.optim.Optimizer, saved: dict | None,
                       tensors: dict[str, torch.Tensor]) -> None:
    """Give ``optimizer`` the state :func:`_optimizer_state` saved, keeping its own
    settings (``lr``, ...). A checkpoint without it, or with another kind of optimiser's
    or another number of parameters', restarts it, with a warning."""
    state = optimizer.state_dict()
    if saved is None or saved["kind"] != _kind(optimizer) or saved["parameters"] != _n_parameters(
            state):
        warn(f"the checkpoint holds no state of this {_kind(optimizer)} over these "
             f"parameters (it saved {saved and saved['kind']!r}): the outer optimiser's "
             "state (Adam's moments) restarts, so the resumed run is not the unbroken one")
        return
    entries: dict[int, dict[str, Any]] = {}
    for key, value in [*((k.removeprefix(_OPTIMIZER), t) for k, t in tensors.items()),
                       *saved["values"].items()]:
        index, name = key.split("/", 1)
        entries.setdefault(int(index), {})[name] = value
    optimizer.load_state_dict({**state, "state": entries})


def _check_fits(tensors: dict[str, torch.Tensor], state: dict[str, torch.Tensor],
                path: str | Path, record: dict) -> None:
    """ValueError naming the tensors of a checkpoint that do not fit the learner's own
    (missing, extra, another shape), before any is copied into it."""
    missing = [k for k in state if k not in tensors]
    extra = [k for k in tensors if k not in state]
    shapes = [f"{k} {tuple(tensors[k].shape)} saved, {tuple(v.shape)} here"
              for k, v in state.items() if k in tensors and tensors[k].shape != v.shape]
    if not (missing or extra or shapes):
        return
    problems = [f"{what}: {', '.join(names[:5])}{', ...' if len(names) > 5 else ''}"
                for what, names in (("missing from the checkpoint", missing),
                                    ("not in this learner", extra),
                                    ("other shapes", shapes)) if names]
    raise ValueError(
        f"path={str(path)!r} holds the weights of a {record['learner']} whose model is built "
        f"differently from this one ({'; '.join(problems)}); the learner is left unchanged. "
        f"Build the model as the saved one was (settings saved: {record.get('config')})")


def _check_architecture(learner: nn.Module, path: str | Path, record: dict) -> None:
    """ValueError naming the first module where the checkpoint's architecture and the
    learner's differ; a warning for a checkpoint that recorded none."""
    if "architecture" not in record:
        warn(f"path={str(path)!r} was saved by a metaopt that did not record its "
             "architecture: it loads unchecked against this learner's layers (the next "
             "save records it)")
        return
    for saved, here in zip_longest(record["architecture"], _architecture(learner),
                                   fillvalue="nothing"):
        if saved != here:
            raise ValueError(
                f"path={str(path)!r} holds a {record['learner']} of another architecture "
                f"than this {type(learner).__name__}, with parameters of the same names and "
                f"shapes: {saved!r} there, {here!r} here; the learner is left unchanged. "
                "Build the model as the saved one was (its layers are the 'architecture' "
                "of the checkpoint's JSON)")


def _smooth(values: list[float], window: int) -> np.ndarray:
    values = np.asarray(values, dtype=float)
    if window <= 1 or len(values) < window:
        return values
    kernel = np.ones(window) / window
    head = np.cumsum(values[: window - 1]) / np.arange(1, window)
    return np.concatenate([head, np.convolve(values, kernel, mode="valid")])


def _kind(sampler) -> str:  # a sampler or an optimiser
    return f"{type(sampler).__module__}.{type(sampler).__qualname__}"


def _continue_stream(sampler, state: dict, kind: str | None) -> None:
    """Give ``sampler`` the stream ``state`` a sampler of ``kind`` saved (``None``: a
    checkpoint older than the kind, taken as the same); one of another kind, whose
    ``set_state`` cannot read that state, starts from its own."""
    if kind is None or kind == _kind(sampler):
        sampler.set_state(state)
    else:
        warn(f"the checkpoint's training episodes came from a {kind}; this "
             f"{_kind(sampler)} starts from its own state")


def _sample(sampler: TaskSampler, n_tasks: int, name: str) -> Episodes:
    """``sampler.sample(n_tasks)``, which must be :class:`Episodes`: a learn2learn-style
    ``(x, y)`` tuple failed with "'tuple' object has no attribute 'to'"."""
    episodes = sampler.sample(n_tasks)
    if not isinstance(episodes, Episodes):
        raise TypeError(f"{name}.sample({n_tasks}) returned a {type(episodes).__name__}; it "
                        "must return metaopt.meta.Episodes(support_x, support_y, query_x, "
                        "query_y), each [tasks, shots, ...]")
    if isinstance(episodes.support_x, torch.Tensor) and episodes.support_x.shape[:1] == (0,):
        # a validation sampler's failed at the first evaluation, naming neither
        raise ValueError(f"{name}.sample({n_tasks}) returned 0 tasks; it must return at "
                         "least one (a split with no class or group?)")
    return episodes


def _generator_state(device: torch.device) -> dict[str, str]:
    """torch's generator state that draws on ``device`` (dropout, shuffles), as base64
    text for a checkpoint's JSON, with the kind of device it is of."""
    state = (torch.cuda.get_rng_state(device) if device.type == "cuda"
             else torch.get_rng_state())
    return {"device": device.type,
            "state": base64.b64encode(state.numpy().tobytes()).decode("ascii")}


def _set_generator_state(saved: dict[str, str], device: torch.device) -> None:
    """Set the generator of ``device`` to a :func:`_generator_state`; one of another kind
    of device (a run on CUDA resumed on a machine without) cannot be: its draws restart
    from the seed, with a warning."""
    if saved.get("device") != device.type:
        warn(f"the checkpoint holds the torch generator of a run on "
             f"{saved.get('device')!r}, and this one runs on {device.type!r}: its "
             "draws (dropout) restart from the seed", UserWarning)
        return
    state = torch.frombuffer(bytearray(base64.b64decode(saved["state"])), dtype=torch.uint8)
    if device.type == "cuda":
        torch.cuda.set_rng_state(state, device)
    else:
        torch.set_rng_state(state)


class MetaTrainer:
    """Meta-train a learner on a stream of episodes, with early stopping on meta-validation.

    Parameters
    ----------
    learner : GradientLearner or MetricLearner
        Any learner of :mod:`metaopt.meta` (MAML, MetaSGD, ProtoNet, ...).
    iterations : int
        Outer (meta) iterations.
    meta_batch_size : int
        Tasks per outer iteration.
    optimizer : {"adam", "sgd"} or callable
        Outer optimiser, or ``callable(parameters) -> torch.optim.Optimizer``.
    lr : float
        Outer learning rate for the named optimisers.
    eval_every : int
        Outer iterations between meta-validation evaluations.
    valid_tasks_count : int
        Fixed number of meta-validation episodes, drawn once at the start of ``fit``.
    patience : int, optional
        Stop after this many evaluations without improvement on ``valid_tasks`` (``fit``
        warns when it has none); ``None`` never stops early.
    restore_best : bool
        At the end, reload the parameters with the best meta-validation loss.
    checkpoint_dir : str or Path, optional
        Where ``last`` and ``best`` checkpoints go (safetensors + JSON); ``fit(resume=True)``
        continues from ``last``.
    device : str
        ``"auto"`` (CUDA if available, else CPU), ``"cpu"``, ``"cuda"``...
    seed : int, optional
        Seeds torch's CPU generator and the training device's for the draws of ``fit``
        (initialisation-free randomness such as dropout), and restores them after
        (other GPUs' generators are left alone): the caller's torch stream
        goes on as if ``fit`` had not run.
        None: ``fit`` draws from the caller's stream. Episode streams carry their own
        seeds.
    progress : bool or str
        Show a tqdm progress bar, named by the learner's class, or by this string
        (e.g. ``"member 2/5"`` when several learners train one after another).
    vectorize : bool
        A gradient learner ``vmap``-s over the tasks of a meta-batch (default); ``False``
        loops over them in Python (less peak memory, slower), which models with
        recurrent layers (``nn.GRU``, ``nn.LSTM``) need: ``vmap`` cannot run those.
        Metric learners embed without ``vmap`` either way.

    Attributes
    ----------
    history_ : dict of lists
        ``iteration``, ``inner_loss`` (post-adaptation support loss) and ``outer_loss``
        (query loss) per outer iteration; ``valid_iteration``, ``valid_loss`` per evaluation.
    best_iteration_, best_valid_loss_ : int, float
        Best meta-validation point (``None``/``inf`` without validation tasks).
    device_ : torch.device
        ``device`` resolved; ``fit`` leaves the learner there, so episodes given to it
        afterwards (``adapt``, ``predict``) go there too: ``episodes.to(trainer.device_)``.
    """

    def __init__(
        self,
        learner: Learner,
        *,
        iterations: int = 1000,
        meta_batch_size: int = 32,
        optimizer="adam",
        lr: float = 1e-3,
        eval_every: int = 100,
        valid_tasks_count: int = 200,
        patience: int | None = None,
        restore_best: bool = True,
        checkpoint_dir: str | Path | None = None,
        device: str = "auto",
        seed: int | None = None,
        progress: bool | str = True,
        vectorize: bool = True,
    ) -> None:
        if not hasattr(learner, "training_step"):
            raise TypeError(f"learner must be a metaopt.meta learner, got {type(learner).__name__}")
        iterations, meta_batch_size, eval_every, valid_tasks_count = (
            check_int(value, name) for name, value in (
                ("iterations", iterations),
                ("meta_batch_size", meta_batch_size),
                ("eval_every", eval_every),
                ("valid_tasks_count", valid_tasks_count),
            ))
        if patience is not None:
            patience = check_int(patience, "patience")
        if not (optimizer in ("adam", "sgd") or callable(optimizer)):
            raise ValueError(f"optimizer must be 'adam', 'sgd' or a callable, got {optimizer!r}")
        if not callable(optimizer):  # a callable builds its optimiser with its own rate
            lr = check_rate(lr, "lr", zero=True)  # 0, as torch's: trains nothing (tests)
        self.learner = learner
        self.iterations = iterations
        self.meta_batch_size = meta_batch_size
        self.optimizer = optimizer
        self.lr = lr
        self.eval_every = eval_every
        self.valid_tasks_count = valid_tasks_count
        self.patience = patience
        self.restore_best = restore_best
        self.checkpoint_dir = None if checkpoint_dir is None else Path(checkpoint_dir)
        self.device = device
        self.seed = seed
        self.progress = progress
        self.vectorize = vectorize

    def _loop(self) -> dict:
        """``vectorize=False`` for a gradient learner's calls when asked (metric
        learners have no ``vmap`` to leave)."""
        if self.vectorize or not isinstance(self.learner, GradientLearner):
            return {}
        return {"vectorize": False}

    def _make_optimizer(self) -> torch.optim.Optimizer:
        params = [p for p in self.learner.parameters() if p.requires_grad]
        if self.optimizer == "adam":
            return torch.optim.Adam(params, lr=self.lr)
        if self.optimizer == "sgd":
            return torch.optim.SGD(params, lr=self.lr)
        return self.optimizer(params)

    def evaluate(self, episodes: Episodes) -> float:
        """Mean post-adaptation query loss of the learner (in eval mode; the learner's
        mode is restored after).

        Parameters
        ----------
        episodes : Episodes

        Returns
        -------
        float
        """
        was_training = self.learner.training
        self.learner.eval()
        episodes = episodes.to(next(self.learner.parameters()).device)
        kwargs: dict[str, Any] = {}
        if episodes.support_weight is not None or episodes.query_weight is not None:
            kwargs = {
                "support_weight": episodes.support_weight,
                "query_weight": episodes.query_weight,
            }
        with torch.no_grad():
            loss = self.learner.meta_loss(
                episodes.support_x, episodes.support_y, episodes.query_x, episodes.query_y,
                **kwargs, **self._loop())
        self.learner.train(was_training)
        return float(loss)

    def fit(
        self,
        train_tasks: TaskSampler,
        valid_tasks: TaskSampler | None = None,
        *,
        resume: bool = False,
    ) -> MetaTrainer:
        """Run the outer loop.

        Parameters
        ----------
        train_tasks, valid_tasks : sampler
            Objects with ``sample(n_tasks) -> Episodes`` (see :mod:`metaopt.meta.tasks`);
            they should draw from disjoint classes/groups.
        resume : bool
            Continue from ``checkpoint_dir/last`` when it exists.

        Returns
        -------
        self
        """
        for name, sampler in (("train_tasks", train_tasks), ("valid_tasks", valid_tasks)):
            if sampler is not None and not hasattr(sampler, "sample"):
                raise TypeError(f"{name} must have a sample(n_tasks) method, got "
                                f"{type(sampler).__name__}")
        if resume and self.checkpoint_dir is None:
            raise ValueError("resume=True needs checkpoint_dir")
        if self.patience is not None and valid_tasks is None:
            warn("patience stops on meta-validation losses, and fit got no "
                 "valid_tasks: the run goes on for every iteration", UserWarning)
        self.device_ = resolve_device(self.device)
        # a seed applies inside fit: the caller's torch stream is left as it was
        with nullcontext() if self.seed is None else seeded(self.seed, self.device_):
            return self._fit(train_tasks, valid_tasks, self.checkpoint_dir if resume else None)

    def _fit(self, train_tasks: TaskSampler, valid_tasks: TaskSampler | None,
             resume_from: Path | None) -> MetaTrainer:
        """:meth:`fit`'s outer loop, once its arguments are checked (``resume_from``: the
        checkpoint directory to resume from, None to start afresh)."""
        self.learner.to(self.device_).train()
        optimizer = self._make_optimizer()
        self.history_: dict[str, list] = {
            "iteration": [],
            "inner_loss": [],
            "outer_loss": [],
            "valid_iteration": [],
            "valid_loss": [],
        }
        self.best_iteration_, self.best_valid_loss_ = None, math.inf
        start = 0
        if resume_from is not None and (resume_from / "last.json").is_file():
            record, outer = _load_checkpoint(self.learner, resume_from / "last")
            if "history" not in record["metadata"]:
                raise ValueError(f"{resume_from / 'last'} was not written by a "
                                 "MetaTrainer (no history): load it with load_checkpoint "
                                 "and fit without resume")
            self.history_ = record["metadata"]["history"]
            # Adam's moments go on too: a resumed run is the unbroken one
            _restore_optimizer(optimizer, record["metadata"].get("optimizer"), outer)
            self.best_iteration_ = record["metadata"]["best_iteration"]
            saved_best = record["metadata"]["best_valid_loss"]  # None: no validation yet
            self.best_valid_loss_ = math.inf if saved_best is None else saved_best
            start = len(self.history_["iteration"])
            # the episodes go on where they stopped instead of repeating the first ones
            state = record["metadata"].get("train_tasks_state")
            if state and hasattr(train_tasks, "set_state"):  # a sampler with a stream state
                _continue_stream(train_tasks, state, record["metadata"].get("train_tasks_kind"))
            # and a seeded run's torch draws (dropout) too, instead of the seed's first ones
            generator = record["metadata"].get("torch_generator")
            if generator and self.seed is not None:
                _set_generator_state(generator, self.device_)
        best_state = copy.deepcopy(self.learner.state_dict())
        if resume_from is not None and self.best_iteration_ is not None:
            iteration = self.learner.iteration
            load_checkpoint(self.learner, resume_from / "best")
            best_state = copy.deepcopy(self.learner.state_dict())
            load_checkpoint(self.learner, resume_from / "last")
            self.learner.iteration = iteration
        self._train_tasks = train_tasks
        self._optimizer = optimizer
        valid = (None if valid_tasks is None
                 else _sample(valid_tasks, self.valid_tasks_count, "valid_tasks"))
        # evaluations without improvement so far (from the history when resuming): a
        # resumed run stops where an unbroken one would, and one that stopped stays stopped
        stale = sum(1 for i in self.history_["valid_iteration"]
                    if self.best_iteration_ is None or i > self.best_iteration_)
        stopped = self.patience is not None and stale >= self.patience
        bar = progress_bar(
            range(start, start if stopped else self.iterations),
            disable=not self.progress,
            desc=self.progress if isinstance(self.progress, str) else type(self.learner).__name__,
        )
        warned = False  # about a non-finite meta-validation loss
        for it in bar:
            optimizer.zero_grad(set_to_none=True)
            episodes = _sample(train_tasks, self.meta_batch_size, "train_tasks").to(self.device_)
            inner, outer = self.learner.training_step(episodes, **self._loop())
            if not (math.isfinite(inner) and math.isfinite(outer)):
                # its meta-gradient is not finite either: one step would make every
                # parameter NaN, and the run went on to its end on NaN losses
                warn(
                    f"meta-training diverged at iteration {it + 1}: the post-adaptation "
                    f"losses are {inner} (support) and {outer} (query); it stopped without "
                    f"taking that step, at the parameters of iteration {it}. "
                    f"{self._divergence_cause(episodes)}", RuntimeWarning)
                self._save("last")
                break
            optimizer.step()
            for key, value in (("iteration", it + 1), ("inner_loss", inner), ("outer_loss", outer)):
                self.history_[key].append(value)
            if (it + 1) % self.eval_every and it + 1 != self.iterations:
                continue
            # shown at the bar's next redraw: a redraw here showed the count of the last
            # one (0% all along in a log, redrawn every 30 s)
            bar.set_postfix(inner=f"{inner:.3g}", outer=f"{outer:.3g}", refresh=False)
            if valid is not None:
                loss = self.evaluate(valid)
                if not math.isfinite(loss) and not warned:
                    # it never counted as a best: patience ran out and the end restored
                    # nothing, without a word
                    warned = True
                    warn(f"the meta-validation loss at iteration {it + 1} is {loss}: no "
                         "evaluation that is not finite counts as the best, so early "
                         "stopping and restore_best ignore it. "
                         f"{self._divergence_cause(valid)}", RuntimeWarning)
                self.history_["valid_iteration"].append(it + 1)
                self.history_["valid_loss"].append(loss)
                bar.set_postfix(inner=f"{inner:.3g}", outer=f"{outer:.3g}", valid=f"{loss:.3g}",
                                refresh=False)
                if loss < self.best_valid_loss_:
                    self.best_iteration_, self.best_valid_loss_, stale = it + 1, loss, 0
                    best_state = copy.deepcopy(self.learner.state_dict())
                    self._save("best")
                else:
                    stale += 1
            self._save("last")
            if self.patience is not None and stale >= self.patience:
                break
        bar.close()
        if valid is not None and self.restore_best and self.best_iteration_ is not None:
            self.learner.load_state_dict(best_state)
        return self

    def _divergence_cause(self, episodes: Episodes) -> str:
        """What to change after a non-finite loss: the data when the episodes hold NaN
        or infinite values (a learning rate cannot fix those), else the learning rates."""
        bad = [f.name for f in fields(episodes)
               if isinstance(t := getattr(episodes, f.name), torch.Tensor)
               and t.is_floating_point() and not torch.isfinite(t).all()]
        if bad:
            return (f"The episodes hold NaN or infinite values (in {', '.join(bad)}): "
                    "remove them from the data the sampler draws from")
        inner_lr = getattr(self.learner, "lr", None)
        return "Lower " + ("the outer learning rate" if inner_lr is None else
                           f"the inner learning rate (the learner's lr={inner_lr}) or the "
                           "outer one")

    def _save(self, name: str) -> None:
        if self.checkpoint_dir is None:
            return
        metadata = {
            "history": self.history_,
            "best_iteration": self.best_iteration_,
            "best_valid_loss": self.best_valid_loss_
            if math.isfinite(self.best_valid_loss_)
            else None,
            "train_tasks_state": self._train_tasks.get_state()
            if hasattr(self._train_tasks, "get_state") else None,
            "train_tasks_kind": _kind(self._train_tasks),
            # a seeded run's torch stream is its own (the caller's is not saved)
            "torch_generator": None if self.seed is None else _generator_state(self.device_),
        }
        # the optimiser's state is for resuming, which starts from last
        tensors, metadata["optimizer"] = (_optimizer_state(self._optimizer) if name == "last"
                                          else ({}, None))
        _write_checkpoint(self.learner, self.checkpoint_dir / name, metadata, tensors)

    @overload
    def plot_history(self, *, smooth: int = 25, ax: None = None) -> Figure: ...

    @overload
    def plot_history(self, *, smooth: int = 25, ax: Axes) -> Figure | SubFigure: ...

    def plot_history(self, *, smooth: int = 25, ax: Axes | None = None
                     ) -> Figure | SubFigure:
        """Plot inner (support) and outer (query) losses per iteration, and meta-validation.

        A falling inner loss with a rising outer or validation loss is meta-overfitting.

        Parameters
        ----------
        smooth : int
            Moving-average window over iterations (1: none).
        ax : matplotlib Axes, optional
            Draw into this axes; default a new figure.

        Returns
        -------
        matplotlib.figure.Figure
            ``ax``'s (a SubFigure when ``ax`` is in one).
        """
        smooth = check_int(smooth, "smooth")
        if not hasattr(self, "history_"):
            raise ValueError("no history to plot; call fit() first")
        if not self.history_["iteration"]:  # it said "call fit() first" after a fit too
            raise ValueError("no history to plot: fit() stopped before its first iteration "
                             "(see its warning)")
        if ax is None:
            from matplotlib.figure import Figure

            fig: Figure | SubFigure = Figure(figsize=(7, 4))
            ax = fig.add_subplot()
        else:
            fig = ax.figure
        h = self.history_
        # metric learners do not adapt: their support loss classifies the support points
        # against the support set itself
        adapted = ", adapted" if isinstance(self.learner, GradientLearner) else ""
        ax.plot(h["iteration"], _smooth(h["inner_loss"], smooth),
                label=f"inner (support{adapted})")
        ax.plot(h["iteration"], _smooth(h["outer_loss"], smooth), label=f"outer (query{adapted})")
        if h["valid_loss"]:
            ax.plot(h["valid_iteration"], h["valid_loss"], "o-", label="meta-validation (query)")
        ax.set_xlabel("outer iteration")
        ax.set_ylabel("loss")
        ax.set_yscale("log" if min(h["inner_loss"] + h["outer_loss"]) > 0 else "linear")
        ax.legend()
        ax.set_title(f"{type(self.learner).__name__} meta-training")
        return fig
