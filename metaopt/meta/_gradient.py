"""Gradient-based meta-learners on ``torch.func``: MAML, FOMAML, ANIL, Meta-SGD, MAML++, Reptile.

One inner loop serves every learner: parameters are a dict of tensors, the model is
run with :func:`torch.func.functional_call`, each inner step takes
:func:`torch.func.grad` of the support loss, and the per-task function is
:func:`torch.func.vmap`-ed over the task dimension of the meta-batch. Learners differ
only in *which* parameters adapt (ANIL), *the step size* of each step (Meta-SGD,
MAML++), *how query losses of the steps are weighted* (MAML++) and *the outer update*
(Reptile).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import torch
from torch import nn
from torch.func import functional_call, grad, vmap
from torch.nn.utils.spectral_norm import SpectralNorm

from metaopt._checks import check_int
from metaopt.meta._losses import (
    LossFn,
    check_rate,
    example_weights,
    loss_name,
    one_tensor,
    resolve_loss,
    seeded,
    weighted_cross_entropy,
)
from metaopt.meta._low_rank import low_rank_inner_loop, mlp_layers
from metaopt.meta.tasks import Episodes, _check_episodes

Params = dict[str, torch.Tensor]


def _lr_key(name: str) -> str:
    """Parameter names contain dots, which ``nn.ParameterDict`` keys cannot."""
    return name.replace(".", "-")


class GradientLearner(nn.Module):
    """Base of the gradient-based learners: wrap a model, adapt it on support sets.

    Parameters
    ----------
    model : nn.Module
        The learner network. Its parameters are the meta-learned initialisation.
    lr : float
        Inner-loop learning rate (the initial value where it is learned).
    steps : int
        Inner gradient steps during meta-training (``adapt`` can override).
    first_order : bool
        Drop second-order terms: the inner gradients are treated as constants.
    loss_fn : str or callable
        ``"mse"``, ``"cross_entropy"``, ``"pairwise_logistic"`` or a callable
        ``(pred, target, weight) -> scalar`` for one task.
    inner_params : sequence of str, optional
        Names (or module-name prefixes) of the parameters adapted in the inner loop;
        ``None`` adapts all of them.
    """

    def __init__(
        self,
        model: nn.Module,
        *,
        lr: float,
        steps: int,
        first_order: bool,
        loss_fn: str | LossFn,
        inner_params: Sequence[str] | None = None,
    ) -> None:
        super().__init__()
        if not isinstance(model, nn.Module):
            raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
        tracking = [name for name, m in model.named_modules()
                    if isinstance(m, nn.modules.batchnorm._BatchNorm) and m.track_running_stats]
        if tracking:
            raise ValueError(
                f"batch-norm layer(s) {tracking} track running statistics, which torch.func "
                "cannot update inside the inner loop; build them with "
                "track_running_stats=False (per-batch statistics, as in MAML's own code)")
        lr = check_rate(lr, "lr")
        steps = check_int(steps, "steps")
        self.module = model
        self.lr = lr
        self.steps = steps
        self.first_order = bool(first_order)
        self.loss_fn = loss_fn
        self._loss = resolve_loss(loss_fn)
        self.inner_names = self._select(inner_params)
        self._compile_options: dict | None = None  # set by compile_meta_loss()
        # compiled on first use; not pickled
        self._compiled_losses: Callable[..., tuple[torch.Tensor, ...]] | None = None
        self.iteration = 0

    @property
    def _dtype(self) -> torch.dtype:
        """The dtype of the model's parameters, which the data must share."""
        return next(self.module.parameters()).dtype

    @property
    def _mlp_layers(self):
        """The model's layers for the hand-written inner loop, or None; read at every call,
        so a layer swapped or a hook added after wrapping is seen (it was read once, and
        training then ran another model than ``adapt`` and ``predict``)."""
        return mlp_layers(self.module)

    def _select(self, prefixes: Sequence[str] | None) -> tuple[str, ...]:
        # frozen parameters (requires_grad=False) are left as they are, in both loops
        names = [n for n, p in self.module.named_parameters() if p.requires_grad]
        if not names:
            raise ValueError("model has no trainable parameters to meta-learn")
        if prefixes is None:
            return tuple(names)
        if isinstance(prefixes, str):
            prefixes = [prefixes]
        chosen = tuple(n for n in names if any(n == p or n.startswith(p + ".") for p in prefixes))
        if not chosen:
            raise ValueError(
                f"inner parameters {list(prefixes)} match none of the model's parameters {names}"
            )
        return chosen

    # ---- hooks the subclasses override -------------------------------------------------
    def _step_size(self, name: str, step: int) -> torch.Tensor | float:
        return self.lr

    def _use_first_order(self) -> bool:
        return self.first_order

    def _step_weights(self, steps: int) -> list[float] | None:
        """Weights of the query losses after each inner step; ``None``: only the last."""
        return None

    def get_config(self) -> dict:
        """JSON-friendly constructor settings, stored in checkpoints.

        Returns
        -------
        dict
            ``lr``, ``steps``, ``first_order``, ``loss_fn`` (its name), ``inner_params``
            (the adapted parameters' names), and a subclass's own settings.
        """
        return {
            "lr": self.lr,
            "steps": self.steps,
            "first_order": self.first_order,
            "loss_fn": loss_name(self.loss_fn),
            "inner_params": list(self.inner_names),
        }

    # ---- the functional core -------------------------------------------------------------
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The un-adapted model (the meta-learned initialisation).

        Parameters
        ----------
        x : Tensor
            A batch of inputs of the module.

        Returns
        -------
        Tensor
        """
        return one_tensor(self.module(x))

    def _call(self, params: Params, x: torch.Tensor) -> torch.Tensor:
        # one entry per attribute, tie_weights=False: torch's own weight tying gives a
        # module used twice two entries, and restores the second with the new tensor
        slots = {slot: params[name] for slot, name in _parameter_slots(self.module).items()}
        return one_tensor(functional_call(
            self.module, (slots, dict(self.module.named_buffers())), (x,), tie_weights=False))

    def _inner_loop(
        self,
        params: Params,
        x: torch.Tensor,
        y: torch.Tensor,
        weight: torch.Tensor,
        loss: LossFn,
        steps: int,
        first_order: bool,
    ) -> list[Params]:
        """Adapt ONE task; return the parameters after each step."""

        def support_loss(adapted: Params, frozen: Params) -> torch.Tensor:
            return loss(self._call({**frozen, **adapted}, x), y, weight)

        trajectory = []
        fast = params
        for step in range(steps):
            adapted = {n: fast[n] for n in self.inner_names}
            frozen = {n: p for n, p in fast.items() if n not in adapted}
            if first_order:  # gradients as constants: no graph back to the outer parameters
                adapted = {n: p.detach() for n, p in adapted.items()}
                frozen = {n: p.detach() for n, p in frozen.items()}
            grads = grad(support_loss)(adapted, frozen)
            fast = {**fast, **{n: fast[n] - self._step_size(n, step) * grads[n] for n in grads}}
            trajectory.append(fast)
        return trajectory

    def _task_losses(
        self,
        params: Params,
        support_x: torch.Tensor,
        support_y: torch.Tensor,
        support_weight: torch.Tensor,
        query_x: torch.Tensor,
        query_y: torch.Tensor,
        query_weight: torch.Tensor,
        *,
        loss: LossFn,
        steps: int,
        first_order: bool,
        step_weights: torch.Tensor | None,
        with_support: bool,
    ) -> tuple[torch.Tensor, ...]:
        """The meta-objective of one task and, when ``with_support``, its post-adaptation
        support and query losses. ``step_weights`` weights the query losses after each
        inner step in the objective; ``None`` takes the last step's alone."""
        if self._low_rank_applies(support_x, steps):
            models = low_rank_inner_loop(
                self._mlp_layers, params, self.inner_names, self._step_size,
                support_x, support_y, support_weight, loss, steps, first_order,
            )  # fmt: skip
            trajectory = models
        else:
            trajectory = [
                lambda x, p=p: self._call(p, x)
                for p in self._inner_loop(
                    params, support_x, support_y, support_weight, loss, steps, first_order
                )
            ]
        weighted = trajectory if step_weights is not None else trajectory[-1:]
        queries = [loss(model(query_x), query_y, query_weight) for model in weighted]
        if step_weights is None:
            objective = queries[-1]
        else:
            objective = sum(w * q for w, q in zip(step_weights, queries, strict=True))
        if not with_support:
            return (objective,)
        with torch.no_grad():
            support = loss(trajectory[-1](support_x), support_y, support_weight)
        return objective, support, queries[-1].detach()

    def _low_rank_applies(self, support_x: torch.Tensor, steps: int) -> bool:
        """Whether the low-rank inner loop (``_low_rank.py``) gives this task's result:
        an MLP on ``[shots, features]`` inputs with scalar step sizes."""
        return (
            self._mlp_layers is not None
            and support_x.ndim == 2
            and all(
                torch.as_tensor(self._step_size(n, s)).numel() == 1
                for n in self.inner_names
                for s in range(steps)
            )
        )

    def _batch_losses(
        self,
        support_x: torch.Tensor,
        support_y: torch.Tensor,
        query_x: torch.Tensor,
        query_y: torch.Tensor,
        *,
        support_weight: torch.Tensor | None,
        query_weight: torch.Tensor | None,
        loss_fn: str | LossFn | None,
        steps: int | None,
        vectorize: bool,
        with_support: bool,
    ) -> tuple[torch.Tensor, ...]:
        """Means over tasks of :meth:`_task_losses`."""
        support_weight = example_weights(support_x, support_weight, "support")
        query_weight = example_weights(query_x, query_weight, "query")
        loss, steps = self._resolve(loss_fn, steps)
        self._check_labels(loss, support_x, support_y, query_y)
        params: Params = dict(self.module.named_parameters())
        step_weights = self._step_weights(steps)
        if step_weights is not None:  # a tensor: annealed weights must not recompile the loss
            step_weights = next(iter(params.values())).new_tensor(step_weights)
        options: dict[str, Any] = {
            "loss": loss,
            "steps": steps,
            "first_order": self._use_first_order(),
            "step_weights": step_weights,
            "with_support": with_support,
        }
        tensors = (support_x, support_y, support_weight, query_x, query_y, query_weight)
        if vectorize and not options["first_order"] and _norm_weights(self.module) & set(
                self.inner_names):
            vectorize = False  # vmap gets their second-order meta-gradient wrong
        if vectorize:
            if self._compile_options is not None and self._compiled_losses is None:
                # unbound, so that a copy of the learner runs on its own state
                self._compiled_losses = torch.compile(
                    type(self)._vmapped_losses, **self._compile_options
                )
            losses = self._compiled_losses or type(self)._vmapped_losses
            with _unvmappable_layers_named(self.module):
                return losses(self, params, tensors, **options)
        per_task = [
            self._task_losses(params, *(t[i] for t in tensors), **options)
            for i in range(support_x.shape[0])
        ]
        return tuple(torch.stack(v).mean() for v in zip(*per_task, strict=True))

    def _check_labels(self, loss: LossFn, x: torch.Tensor, *labels: torch.Tensor) -> None:
        """ValueError for class labels outside ``0..n-1`` of the model's ``n`` outputs
        under the built-in cross-entropy, before ``vmap``, inside which torch's index error
        names neither: one reduction per label tensor and a forward pass of one task."""
        if (loss is not weighted_cross_entropy
                or any(y.is_floating_point() or not y.numel() for y in labels)):
            return  # the loss's own checks refuse floating labels
        low = min(int(y.min()) for y in labels)
        high = max(int(y.max()) for y in labels)
        with torch.no_grad(), seeded(None, x.device):  # its dropout draws are given back
            out = one_tensor(self.module(x[0]))
        n = out.shape[-1]  # other shapes (one logit) are the loss's own error
        if out.ndim == 2 and n >= 2 and (low < 0 or high >= n):
            raise ValueError(
                f"loss_fn='cross_entropy' needs class labels 0..{n - 1}, one per output of "
                f"the model ({n} outputs), got labels from {low} to {high}; "
                f"remap them to 0..{n - 1}, e.g. with sklearn's LabelEncoder, or sample "
                "episodes with ClassificationTasks, which labels each episode's classes "
                "0..n_way-1")

    def _vmapped_losses(
        self, params: Params, tensors: tuple, **options
    ) -> tuple[torch.Tensor, ...]:
        """Means over tasks of :meth:`_task_losses`, ``vmap``-ed over the task dimension
        (the function :meth:`compile_meta_loss` compiles)."""

        def task_fn(params, sx, sy, sw, qx, qy, qw):
            return self._task_losses(params, sx, sy, sw, qx, qy, qw, **options)

        losses = vmap(task_fn, in_dims=(None, 0, 0, 0, 0, 0, 0), randomness="different")(
            params, *tensors
        )
        return tuple(v.mean() for v in losses)

    def _resolve(self, loss_fn: str | LossFn | None, steps: int | None) -> tuple[LossFn, int]:
        loss = self._loss if loss_fn is None else resolve_loss(loss_fn)
        return loss, self.steps if steps is None else check_int(steps, "steps")

    # ---- public API ------------------------------------------------------------------------
    def meta_loss(
        self,
        support_x: torch.Tensor,
        support_y: torch.Tensor,
        query_x: torch.Tensor,
        query_y: torch.Tensor,
        *,
        support_weight: torch.Tensor | None = None,
        query_weight: torch.Tensor | None = None,
        loss_fn: str | LossFn | None = None,
        steps: int | None = None,
        vectorize: bool = True,
    ) -> torch.Tensor:
        """Mean over tasks of the post-adaptation query loss; call ``.backward()`` on it.

        Parameters
        ----------
        support_x, support_y, query_x, query_y : Tensor
            ``[tasks, shots, ...]``.
        support_weight, query_weight : Tensor, optional
            ``[tasks, shots]`` per-example weights, 0 for padding.
        loss_fn : str or callable, optional
            Overrides the learner's ``loss_fn``.
        steps : int, optional
            Overrides the learner's number of inner steps.
        vectorize : bool
            ``vmap`` over tasks (default); ``False`` loops over tasks in Python with the
            same per-task function (less memory, slower; and models with recurrent layers,
            ``nn.GRU`` / ``nn.LSTM`` / ``nn.RNN``, which ``vmap`` cannot run). A
            second-order loss that adapts the weight of a LayerNorm or batch/instance-norm
            layer always loops: ``vmap`` gets its meta-gradient wrong (a torch bug).

        Returns
        -------
        Tensor
            A scalar.
        """
        _check_batch(support_x, support_y, query_x, query_y, dtype=self._dtype,
                     module=self.module)
        (query,) = self._batch_losses(
            support_x, support_y, query_x, query_y, support_weight=support_weight,
            query_weight=query_weight, loss_fn=loss_fn, steps=steps, vectorize=vectorize,
            with_support=False,
        )  # fmt: skip
        return query

    def adapt(
        self,
        support_x: torch.Tensor,
        support_y: torch.Tensor,
        *,
        support_weight: torch.Tensor | None = None,
        loss_fn: str | LossFn | None = None,
        steps: int | None = None,
        vectorize: bool = True,
    ) -> Params:
        """Adapt to every task of a batch.

        Works under ``torch.no_grad()`` (the inner gradients are still computed). For a
        single task, pass ``x[None]``.

        Parameters
        ----------
        support_x, support_y : Tensor
            ``[tasks, shots, ...]``.
        support_weight : Tensor, optional
            ``[tasks, shots]`` per-example weights, 0 for padding.
        loss_fn : str or callable, optional
            Overrides the learner's ``loss_fn``.
        steps : int, optional
            Overrides the learner's number of inner steps.
        vectorize : bool, default=True
            ``False`` loops over tasks instead of ``vmap`` (as in :meth:`meta_loss`).

        Returns
        -------
        dict of str to Tensor
            ``{name: [tasks, *param.shape]}``.
        """
        _check_batch(support_x, support_y, dtype=self._dtype, module=self.module)
        support_weight = example_weights(support_x, support_weight, "support")
        loss, steps = self._resolve(loss_fn, steps)
        self._check_labels(loss, support_x, support_y)
        first_order = self._use_first_order()

        def task_fn(params, x, y, w):
            return self._inner_loop(params, x, y, w, loss, steps, first_order)[-1]

        params = dict(self.module.named_parameters())
        if not vectorize:
            adapted = [task_fn(params, x, y, w)
                       for x, y, w in zip(support_x, support_y, support_weight, strict=True)]
            return {n: torch.stack([a[n] for a in adapted]) for n in params}
        with _unvmappable_layers_named(self.module):
            return vmap(task_fn, in_dims=(None, 0, 0, 0), randomness="different")(
                params, support_x, support_y, support_weight
            )

    def predict(self, params: Params, x: torch.Tensor, *, vectorize: bool = True
                ) -> torch.Tensor:
        """Outputs of the adapted models.

        Parameters
        ----------
        params : dict of str to Tensor
            From :meth:`adapt`.
        x : Tensor
            ``[tasks, n, ...]``.
        vectorize : bool, default=True
            ``False`` loops over tasks instead of ``vmap``.

        Returns
        -------
        Tensor
            ``[tasks, n, ...]``.
        """
        _check_params(params, self.module)
        n_tasks = next(iter(params.values())).shape[0]
        if not isinstance(x, torch.Tensor) or x.ndim < 3 or x.shape[0] != n_tasks:
            shape = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
            raise ValueError(f"x must be [tasks, n, ...] with the {n_tasks} task(s) of params, "
                             f"got {shape}; one task's data needs a leading task "
                             "dimension (x[None])")
        _check_dtype("x", x, self._dtype, self.module)
        if not vectorize:
            return torch.stack([self._call({n: p[i] for n, p in params.items()}, x[i])
                                for i in range(n_tasks)])
        with _unvmappable_layers_named(self.module):
            return vmap(self._call, randomness="different")(params, x)

    def training_step(self, episodes: Episodes, *, vectorize: bool = True
                      ) -> tuple[float, float]:
        """Accumulate the meta-gradient of one meta-batch into ``.grad``.

        The caller zeroes gradients and steps the outer optimiser.

        Parameters
        ----------
        episodes : Episodes
        vectorize : bool, default=True
            As in :meth:`meta_loss`.

        Returns
        -------
        support_loss : float
            The post-adaptation support (inner) loss, after the last inner step (for
            MAML++ too, whose multi-step loss is what is differentiated).
        query_loss : float
            The post-adaptation query (outer) loss.
        """
        _check_episodes(episodes)
        _check_batch(episodes.support_x, episodes.support_y, episodes.query_x, episodes.query_y,
                     dtype=self._dtype, module=self.module)
        objective, support, query = self._batch_losses(
            episodes.support_x, episodes.support_y, episodes.query_x, episodes.query_y,
            support_weight=episodes.support_weight, query_weight=episodes.query_weight,
            loss_fn=None, steps=None, vectorize=vectorize, with_support=True,
        )  # fmt: skip
        objective.backward()
        self.iteration += 1
        return float(support), float(query)

    def compile_meta_loss(self, **options) -> GradientLearner:
        """Compile the meta-batch loss (inner loops, query losses, ``vmap``) with
        :func:`torch.compile`, for :meth:`meta_loss` and :meth:`training_step`.

        Fuses the many small operations of the inner loops. Measured on CPU
        (``benchmarks/meta_speed.py --compile``): 2-6x for the sinusoid MLP; for a
        width-256 MLP 1.5-1.6x with 5 inner steps (first or second order), 1.2-1.4x with
        one second-order step and slower with one first-order step (0.7-1.0x). The first
        call compiles (seconds to half a minute; a C++ compiler is needed on CPU); each
        new episode shape, loss or number of steps compiles again. Reptile's outer update
        does not use this loss.

        Parameters
        ----------
        **options
            Keyword arguments of :func:`torch.compile` (default ``dynamic=False``).

        Returns
        -------
        GradientLearner
            The learner itself.
        """
        self._compile_options = {"dynamic": False, **options}
        self._compiled_losses = None
        return self

    def __getstate__(self) -> dict:
        """Pickles and copies keep the compile options, not the compiled function."""
        return {**self.__dict__, "_compiled_losses": None}


def _check_params(params, module: nn.Module) -> None:
    """``params`` must be what :meth:`GradientLearner.adapt` returns for ``module``: a dict
    of its parameters by name, each with a leading task dimension (a wrong one failed with
    "'NoneType' object has no attribute 'values'", a KeyError or torch's shape errors)."""
    if not isinstance(params, dict) or not params:
        raise TypeError("params must be the dict of adapted parameters that adapt() returns, "
                        f"got {params!r}"[:300])
    for name, p in module.named_parameters():
        if name not in params:
            raise ValueError(f"params has no {name!r}, a parameter of this learner's model: "
                             "pass the dict this learner's adapt() returned")
        if not isinstance(params[name], torch.Tensor) or params[name].shape[1:] != p.shape:
            got = (tuple(params[name].shape) if isinstance(params[name], torch.Tensor)
                   else type(params[name]).__name__)
            raise ValueError(f"params[{name!r}] is {got}, not [tasks, *{tuple(p.shape)}] as "
                             "the model's: pass the dict this learner's adapt() returned")


def _parameter_slots(module: nn.Module) -> dict[str, str]:
    """``{name: name in named_parameters()}`` for every module attribute holding a
    parameter, once each: a module used twice has one entry, a parameter tied to two
    modules has two (both naming the tensor ``named_parameters`` gives)."""
    first: dict[int, str] = {}  # id(parameter) -> its name in named_parameters()
    slots: dict[str, str] = {}
    seen: set[tuple[int, str]] = set()
    for name, p in module.named_parameters(remove_duplicate=False):
        owner, _, attribute = name.rpartition(".")
        slot = (id(module.get_submodule(owner)), attribute)
        if slot not in seen:
            seen.add(slot)
            slots[name] = first.setdefault(id(p), name)
    return slots


def _spectral_norm(module: nn.Module) -> bool:
    """Whether ``module``'s weight is spectral-normalised (either torch API)."""
    hooks = module._forward_pre_hooks.values()
    parametrized = getattr(module, "parametrizations", {})
    return (any(isinstance(h, SpectralNorm) for h in hooks)
            or any(type(f).__name__ == "_SpectralNorm"
                   for functions in parametrized.values() for f in functions))


@contextmanager
def _unvmappable_layers_named(module: nn.Module) -> Iterator[None]:
    """torch's ``vmap`` cannot run recurrent layers (``nn.GRU`` failed with "output with
    shape [shots, hidden] doesn't match the broadcast shape [tasks, shots, hidden]") nor
    a spectral norm's power iteration in training mode ("Batching rule not implemented
    for aten::div.out"): a RuntimeError under ``vmap`` of a model that has one is a
    ValueError naming the layers and the loop, which runs them."""
    try:
        yield
    except RuntimeError as err:
        layers = [f"{kind} layer(s) {names}" for kind, names in (
            ("recurrent", [n for n, m in module.named_modules() if isinstance(m, nn.RNNBase)]),
            ("spectral-norm", [n for n, m in module.named_modules() if _spectral_norm(m)]),
        ) if names]
        if not layers:
            raise
        raise ValueError(
            f"the model's {' and '.join(layers)} cannot run under vmap over tasks "
            f"({err}); loop over the tasks instead: vectorize=False in meta_loss, adapt, "
            "predict and training_step, or MetaTrainer(..., vectorize=False)") from err


def _norm_weights(module: nn.Module) -> set[str]:
    """Names of the weights of ``module``'s affine LayerNorm, batch-norm and
    instance-norm layers. torch's ``vmap`` rule for the backward of these layers gets the
    gradient of their input wrong when their weight differs per task
    (pytorch/functorch#534, open in torch 2.13): a second-order meta-gradient through an
    adapted one was off by up to a few percent (float64, against finite differences and
    the loop over tasks, which is right), so it runs in the loop."""
    return {f"{name}.weight" if name else "weight" for name, m in module.named_modules()
            if isinstance(m, nn.LayerNorm | nn.modules.batchnorm._NormBase)
            and getattr(m, "weight", None) is not None}


def _check_batch(*tensors: torch.Tensor, dtype: torch.dtype | None = None,
                 module: nn.Module | None = None, feature_dim: bool = True) -> None:
    """Types, ``[tasks, shots, ...]`` shapes (inputs with a feature dimension unless
    ``feature_dim`` is False), matching task / shot counts and feature shapes; with
    ``dtype`` (the model's), floating inputs of another dtype are refused, and integer ones
    for a ``module`` of Linear layers (see :func:`_check_dtype`)."""
    names = ("support_x", "support_y", "query_x", "query_y")
    for name, t in zip(names, tensors, strict=False):
        if not isinstance(t, torch.Tensor):
            raise TypeError(f"{name} must be a torch.Tensor, got {type(t).__name__}")
        needs_features = feature_dim and name.endswith("_x")
        if t.ndim < (3 if needs_features else 2):
            given = ", ".join(f"{n}[None]" for n in names[:len(tensors)])
            raise ValueError(
                f"{name} must be [tasks, shots, ...]"
                + (" with a feature dimension" if needs_features else "")
                + f", got shape {tuple(t.shape)}; one task's data needs a leading task "
                f"dimension ({given})")
        if t.shape[0] != tensors[0].shape[0]:
            raise ValueError(
                f"{name} has {t.shape[0]} tasks but support_x has {tensors[0].shape[0]}"
            )
    if tensors[0].shape[0] == 0:  # torch failed with "cannot reshape tensor of 0 elements"
        raise ValueError(f"support_x holds 0 tasks (shape {tuple(tensors[0].shape)}); a batch "
                         "needs at least one task")
    # (a support set of 0 shots is adaptation on nothing, as a padded one of weights 0:
    # the model's own parameters; the ranker trained without adaptation has such)
    if len(tensors) > 2 and tensors[2].shape[1] == 0:
        raise ValueError(f"query_x has 0 shots (shape {tuple(tensors[2].shape)}); every task "
                         "needs at least one query example")
    for x, y, which in ((0, 1, "support"), (2, 3, "query")):
        if len(tensors) > y and tensors[x].shape[1] != tensors[y].shape[1]:
            raise ValueError(
                f"{which}_x has {tensors[x].shape[1]} shots but {which}_y has {tensors[y].shape[1]}"
            )
    if len(tensors) > 2 and tensors[2].shape[2:] != tensors[0].shape[2:]:
        raise ValueError(f"query_x has features of shape {tuple(tensors[2].shape[2:])}, "
                         f"support_x {tuple(tensors[0].shape[2:])}")
    if dtype is not None:
        for name, t in zip(names[::2], tensors[::2], strict=False):
            _check_dtype(name, t, dtype, module)


def _input_width(module: nn.Module) -> int | None:
    """The number of input features of ``module`` when its first layer is an ``nn.Linear``
    (itself, or first in nested ``nn.Sequential``s, with no pre-hook to change the input),
    else None (a model of other layers: its own errors). O(depth): it runs every call."""
    while type(module) is nn.Sequential and len(module) and not module._forward_pre_hooks:
        module = module[0]
    if type(module) is nn.Linear and not module._forward_pre_hooks:
        return module.in_features
    return None


def _check_dtype(name: str, t: torch.Tensor, dtype: torch.dtype,
                 module: nn.Module | None = None) -> None:
    """Refuse floating data ``t`` whose dtype is not the model's ``dtype``; for a
    ``module`` whose first layer is an ``nn.Linear`` (:func:`_input_width`), integer data
    (torch said "expected m1 and m2 to have the same dtype, but got: long int != float";
    other models may take integers, an ``nn.Embedding``) and data of another number of
    features."""
    width = None if module is None else _input_width(module)
    if width is not None and not t.is_floating_point():
        raise ValueError(f"{name} is {t.dtype}, and the model's Linear layers take "
                         f"floating inputs ({dtype}): convert it (e.g. x.to({dtype}))")
    if width is not None and t.shape[-1] != width:  # torch: "mat1 and mat2 shapes cannot
        # be multiplied (15x3 and 2x8)", a dozen frames deep
        raise ValueError(f"{name} has {t.shape[-1]} features (shape {tuple(t.shape)}), and "
                         f"the model's first Linear layer takes {width}")
    if t.is_floating_point() and t.dtype != dtype:
        raise ValueError(f"{name} is {t.dtype} but the model's parameters are {dtype}: "
                         f"convert one of them (e.g. x.to({dtype}))")


class MAML(GradientLearner):
    """Model-Agnostic Meta-Learning (Finn et al., 2017); ``first_order=True`` is FOMAML.

    Parameters
    ----------
    model : nn.Module
        The network whose initialisation is meta-learned.
    lr : float
        Inner-loop learning rate.
    steps : int
        Inner gradient steps.
    first_order : bool
        First-order approximation (FOMAML).
    loss_fn : str or callable
        ``"mse"``, ``"cross_entropy"``, ``"pairwise_logistic"`` or ``(pred, target, weight) -> scalar``.

    Examples
    --------
    >>> maml = MAML(net, lr=0.01, steps=1)
    >>> loss = maml.meta_loss(sx, sy, qx, qy)   # [tasks, shots, ...] tensors
    >>> loss.backward(); optimizer.step()
    >>> params = maml.adapt(sx, sy); pred = maml.predict(params, qx)
    """

    def __init__(
        self,
        model: nn.Module,
        *,
        lr: float = 0.01,
        steps: int = 1,
        first_order: bool = False,
        loss_fn: str | LossFn = "mse",
    ) -> None:
        super().__init__(model, lr=lr, steps=steps, first_order=first_order, loss_fn=loss_fn)


def _last_linear(model: nn.Module) -> str:
    linears = [name for name, m in model.named_modules() if isinstance(m, nn.Linear)]
    if not linears:
        raise ValueError(
            "head=None needs an nn.Linear in model to use as the head; pass head=[...] names"
        )
    return linears[-1]


class ANIL(GradientLearner):
    """Almost No Inner Loop (Raghu et al., 2020): adapt only the head, meta-learn everything.

    Parameters
    ----------
    model : nn.Module
        The network.
    head : sequence of str, optional
        Parameter names or module names whose parameters adapt in the inner loop.
        Default: the last ``nn.Linear`` module.
    lr : float
        Inner-loop learning rate.
    steps : int
        Inner gradient steps.
    first_order : bool
        First-order approximation (no second-order terms).
    loss_fn : str or callable
        As in :class:`MAML`.
    """

    def __init__(
        self,
        model: nn.Module,
        *,
        head: Sequence[str] | None = None,
        lr: float = 0.01,
        steps: int = 1,
        first_order: bool = False,
        loss_fn: str | LossFn = "mse",
    ) -> None:
        if isinstance(model, nn.Module) and head is None:
            head = [_last_linear(model)]
        super().__init__(
            model, lr=lr, steps=steps, first_order=first_order, loss_fn=loss_fn, inner_params=head
        )


class MetaSGD(GradientLearner):
    """Meta-SGD (Li et al., 2017): learned per-parameter inner learning rates.

    Each adapted parameter has a learning-rate tensor of its own shape in ``lrs``
    (an ``nn.ParameterDict``), initialised to ``lr`` and trained jointly with the
    initialisation by the outer optimiser. :meth:`learning_rates` returns them.

    Parameters
    ----------
    model : nn.Module
        The network.
    lr : float
        Initial value of every learned learning rate.
    steps : int
        Inner gradient steps.
    first_order : bool
        First-order approximation (no second-order terms).
    loss_fn : str or callable
        As in :class:`MAML`.
    inner_params : sequence of str, optional
        Parameters adapted (and given learning rates); default all.
    """

    def __init__(
        self,
        model: nn.Module,
        *,
        lr: float = 0.01,
        steps: int = 1,
        first_order: bool = False,
        loss_fn: str | LossFn = "mse",
        inner_params: Sequence[str] | None = None,
    ) -> None:
        super().__init__(
            model,
            lr=lr,
            steps=steps,
            first_order=first_order,
            loss_fn=loss_fn,
            inner_params=inner_params,
        )
        params = dict(model.named_parameters())
        self.lrs = nn.ParameterDict(
            {
                _lr_key(n): nn.Parameter(torch.full_like(params[n].detach(), self.lr))
                for n in self.inner_names
            }
        )

    def _step_size(self, name: str, step: int) -> torch.Tensor:
        return self.lrs[_lr_key(name)]

    def learning_rates(self) -> dict[str, torch.Tensor]:
        """The learned inner learning rates (detached copies).

        Returns
        -------
        dict of str to Tensor
            ``{parameter name: tensor of the parameter's shape}``, one per adapted parameter.
        """
        return {n: self.lrs[_lr_key(n)].detach().clone() for n in self.inner_names}


class MAMLpp(GradientLearner):
    """MAML++ (Antoniou et al., 2019): the training fixes that apply to any network.

    * **LSLR** -- learned per-layer (per parameter tensor), per-step inner learning rates,
      ``learning_rates()[name]`` of shape ``[steps]`` (stored in ``lrs`` under the
      name with ``-`` for ``.``).
    * **MSL** -- multi-step loss: the query loss after *every* inner step, weighted;
      weights start uniform and anneal linearly toward the last step over
      ``msl_iterations`` outer iterations (non-final weights floor at ``0.03 / steps``).
    * **DA** -- derivative-order annealing: first-order for the first
      ``first_order_iterations`` outer iterations, second-order afterwards.

    Both schedules follow ``iteration``, which :meth:`training_step` (and so
    :class:`MetaTrainer`) advances; a loop of your own over :meth:`meta_loss` must add 1
    to it per outer step.

    Per-step batch-norm statistics and the cosine outer schedule of the paper are not
    included (use a scheduler on the outer optimiser for the latter).

    Parameters
    ----------
    model : nn.Module
        The network.
    lr : float
        Initial value of every learned learning rate.
    steps : int
        Inner steps; evaluation with more steps reuses the last step's learning rate.
    first_order : bool
        Stay first-order throughout.
    loss_fn : str or callable
        As in :class:`MAML`.
    msl_iterations : int
        Outer iterations over which the multi-step weights anneal; 0 disables MSL.
    first_order_iterations : int
        Outer iterations run first-order before switching to second order.
    """

    def __init__(
        self,
        model: nn.Module,
        *,
        lr: float = 0.01,
        steps: int = 5,
        first_order: bool = False,
        loss_fn: str | LossFn = "mse",
        msl_iterations: int = 1000,
        first_order_iterations: int = 1000,
    ) -> None:
        super().__init__(model, lr=lr, steps=steps, first_order=first_order, loss_fn=loss_fn)
        self.msl_iterations = check_int(msl_iterations, "msl_iterations", minimum=0)
        self.first_order_iterations = check_int(first_order_iterations,
                                                "first_order_iterations", minimum=0)
        params = dict(self.module.named_parameters())
        self.lrs = nn.ParameterDict({  # each parameter's dtype and device (as Meta-SGD's)
            _lr_key(n): nn.Parameter(params[n].new_full((steps,), self.lr))
            for n in self.inner_names
        })

    def _step_size(self, name: str, step: int) -> torch.Tensor:
        return self.lrs[_lr_key(name)][min(step, self.steps - 1)]

    def _use_first_order(self) -> bool:
        return self.first_order or self.iteration < self.first_order_iterations

    def _step_weights(self, steps: int) -> list[float] | None:
        if self.msl_iterations == 0 or steps == 1 or not self.training:
            return None
        progress = min(self.iteration / self.msl_iterations, 1.0)
        early = max((1.0 - progress) / steps, 0.03 / steps)
        return [early] * (steps - 1) + [1.0 - early * (steps - 1)]

    def step_weights(self) -> list[float]:
        """Current multi-step loss weights, one per inner step (last one last).

        Returns
        -------
        list of float
            ``steps`` weights summing to 1.
        """
        return self._step_weights(self.steps) or [0.0] * (self.steps - 1) + [1.0]

    def learning_rates(self) -> dict[str, torch.Tensor]:
        """Learned per-step learning rates (detached copies).

        Returns
        -------
        dict of str to Tensor
            ``{parameter name: tensor of shape [steps]}``, one per adapted parameter.
        """
        return {n: self.lrs[_lr_key(n)].detach().clone() for n in self.inner_names}

    def get_config(self) -> dict:
        """JSON-friendly constructor settings, stored in checkpoints.

        Returns
        -------
        dict
            :meth:`GradientLearner.get_config`'s, ``msl_iterations`` and
            ``first_order_iterations``.
        """
        return {
            **super().get_config(),
            "msl_iterations": self.msl_iterations,
            "first_order_iterations": self.first_order_iterations,
        }


class Reptile(GradientLearner):
    """Reptile (Nichol et al., 2018): move the initialisation toward adapted weights.

    :meth:`training_step` runs ``steps`` plain SGD steps on each task's support set
    (first-order, ``vmap``-ed over tasks) and writes the *pseudo-gradient*
    ``theta - mean_t(phi_t)`` into ``.grad``. Stepping the outer optimiser then gives
    Reptile's own outer update: with ``torch.optim.SGD(lr=epsilon)`` it is exactly
    ``theta <- theta + epsilon * mean_t(phi_t - theta)``; with Adam it is the Adam
    variant used in the paper. :meth:`meta_loss` is still the post-adaptation query
    loss, useful for evaluation (its gradient would be FOMAML's, not Reptile's).

    Parameters
    ----------
    model : nn.Module
        The network.
    lr : float
        Inner SGD learning rate.
    steps : int
        Inner SGD steps per task (Reptile needs > 1 to differ from joint training).
    loss_fn : str or callable
        As in :class:`MAML`.
    """

    def __init__(
        self, model: nn.Module, *, lr: float = 0.01, steps: int = 5, loss_fn: str | LossFn = "mse"
    ) -> None:
        super().__init__(model, lr=lr, steps=steps, first_order=True, loss_fn=loss_fn)

    def training_step(self, episodes: Episodes, *, vectorize: bool = True
                      ) -> tuple[float, float]:
        """Write the Reptile pseudo-gradient into ``.grad``.

        Parameters
        ----------
        episodes : Episodes
        vectorize : bool, default=True
            As in :meth:`meta_loss`.

        Returns
        -------
        support_loss : float
        query_loss : float
        """
        _check_episodes(episodes)
        _check_batch(episodes.support_x, episodes.support_y, episodes.query_x, episodes.query_y,
                     dtype=self._dtype, module=self.module)
        self._check_labels(self._loss, episodes.support_x, episodes.query_y)
        with torch.no_grad():
            adapted = self.adapt(episodes.support_x, episodes.support_y,
                                 support_weight=episodes.support_weight, vectorize=vectorize)
            support_weight = example_weights(episodes.support_x, episodes.support_weight, "support")
            query_weight = example_weights(episodes.query_x, episodes.query_weight, "query")
            losses = [
                vmap(self._loss)(self.predict(adapted, x, vectorize=vectorize), y, w).mean()
                for x, y, w in (
                    (episodes.support_x, episodes.support_y, support_weight),
                    (episodes.query_x, episodes.query_y, query_weight),
                )
            ]
            for name, p in self.module.named_parameters():
                if not p.requires_grad:  # frozen: no pseudo-gradient either
                    continue
                delta = p - adapted[name].mean(dim=0)
                p.grad = delta if p.grad is None else p.grad + delta
        self.iteration += 1
        return float(losses[0]), float(losses[1])
