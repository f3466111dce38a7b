"""Gradient-based learners: exact meta-gradients, vmap == loop, learned learning rates."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call

from metaopt.meta import (
    ANIL,
    MAML,
    MAMLpp,
    MetaSGD,
    Reptile,
    SinusoidTasks,
    pairwise_logistic_loss,
)
from metaopt.meta._low_rank import _activation_and_slope, low_rank_inner_loop, mlp_layers
from metaopt.meta.tasks import Episodes


def tiny_net() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(1, 3), nn.Tanh(), nn.Linear(3, 1)).double()


@pytest.fixture
def batch() -> Episodes:
    ep = SinusoidTasks(k_shot=4, n_query=5, seed=0).sample(3)
    return Episodes(*(t.double() for t in (ep.support_x, ep.support_y, ep.query_x, ep.query_y)))


def meta_grads(learner, ep: Episodes, **kwargs) -> dict[str, torch.Tensor]:
    learner.zero_grad(set_to_none=True)
    learner.meta_loss(ep.support_x, ep.support_y, ep.query_x, ep.query_y, **kwargs).backward()
    return {n: p.grad.clone() for n, p in learner.named_parameters()}


def test_second_order_maml_matches_finite_differences(batch):
    maml = MAML(tiny_net(), lr=0.3, steps=2)
    grads = meta_grads(maml, batch)
    eps = 1e-6
    for name, p in maml.module.named_parameters():
        numeric = torch.zeros_like(p)
        for i in range(p.numel()):
            with torch.no_grad():
                p.view(-1)[i] += eps
                plus = maml.meta_loss(
                    batch.support_x, batch.support_y, batch.query_x, batch.query_y
                )
                p.view(-1)[i] -= 2 * eps
                minus = maml.meta_loss(
                    batch.support_x, batch.support_y, batch.query_x, batch.query_y
                )
                p.view(-1)[i] += eps
            numeric.view(-1)[i] = (plus - minus) / (2 * eps)
        torch.testing.assert_close(grads[f"module.{name}"], numeric, rtol=1e-5, atol=1e-7)


def test_first_order_is_the_query_gradient_at_the_adapted_weights(batch):
    second = meta_grads(MAML(tiny_net(), lr=0.3, steps=1), batch)
    fomaml = MAML(tiny_net(), lr=0.3, steps=1, first_order=True)
    first = meta_grads(fomaml, batch)
    assert any(not torch.allclose(first[n], second[n]) for n in first)
    # FOMAML: mean over tasks of grad_phi L_query(phi), phi the adapted weights
    adapted = fomaml.adapt(batch.support_x, batch.support_y)
    expected = {n: torch.zeros_like(p) for n, p in fomaml.module.named_parameters()}
    for t in range(batch.n_tasks):
        phi = {n: p[t].detach().requires_grad_() for n, p in adapted.items()}
        pred = functional_call(fomaml.module, phi, (batch.query_x[t],))
        loss = (pred - batch.query_y[t]).pow(2).mean() / batch.n_tasks
        for n, g in zip(phi, torch.autograd.grad(loss, list(phi.values())), strict=True):
            expected[n] += g
    for n, g in expected.items():
        torch.testing.assert_close(first[f"module.{n}"], g)


@pytest.mark.parametrize(
    "make",
    [
        lambda: MAML(tiny_net(), lr=0.1, steps=2),
        lambda: MAML(tiny_net(), lr=0.1, steps=2, first_order=True),
        lambda: ANIL(tiny_net(), lr=0.1, steps=2),
        lambda: MetaSGD(tiny_net(), lr=0.1, steps=2),
        lambda: MAMLpp(tiny_net(), lr=0.1, steps=3, first_order_iterations=0),
    ],
    ids=["maml", "fomaml", "anil", "metasgd", "mamlpp"],
)
def test_vmap_and_per_task_loop_give_the_same_meta_gradient(make, batch):
    learner = make()
    vmapped = meta_grads(learner, batch)
    looped = meta_grads(learner, batch, vectorize=False)
    assert vmapped.keys() == looped.keys()
    for name in vmapped:
        torch.testing.assert_close(vmapped[name], looped[name])


def test_meta_sgd_learning_rates_are_learned_and_inspectable(batch):
    msgd = MetaSGD(tiny_net(), lr=0.05)
    lrs = msgd.learning_rates()
    assert set(lrs) == {n for n, _ in msgd.module.named_parameters()}
    for name, p in msgd.module.named_parameters():
        assert lrs[name].shape == p.shape
        assert torch.all(lrs[name] == 0.05)
    grads = meta_grads(msgd, batch)
    lr_grads = [g for n, g in grads.items() if n.startswith("lrs.")]
    assert len(lr_grads) == 4 and all(g.abs().sum() > 0 for g in lr_grads)
    optimizer = torch.optim.SGD(msgd.parameters(), lr=0.1)
    optimizer.step()
    assert any(not torch.all(v == 0.05) for v in msgd.learning_rates().values())
    # first order still trains the learning rates (they scale the constant gradient)
    fo = MetaSGD(tiny_net(), lr=0.05, first_order=True)
    assert all(g.abs().sum() > 0 for n, g in meta_grads(fo, batch).items() if n.startswith("lrs."))


def test_maml_pp_per_step_learning_rates_and_annealing(batch):
    pp = MAMLpp(tiny_net(), lr=0.1, steps=3, msl_iterations=10, first_order_iterations=5)
    assert all(v.shape == (3,) for v in pp.learning_rates().values())
    assert pp.step_weights() == pytest.approx([1 / 3] * 3)
    assert pp._use_first_order()
    grads = meta_grads(pp, batch)
    assert all(grads[f"lrs.{k}"][:3].abs().sum() > 0 for k in pp.lrs)
    pp.iteration = 5
    assert not pp._use_first_order()
    middle = pp.step_weights()
    assert middle[0] < 1 / 3 < middle[-1] and sum(middle) == pytest.approx(1.0)
    pp.iteration = 10
    assert pp.step_weights() == pytest.approx([0.01, 0.01, 0.98])
    # derivative-order annealing changes the gradient of the init
    pp.iteration = 4
    first = meta_grads(pp, batch)
    pp.iteration = 5
    second = meta_grads(pp, batch)
    assert not torch.allclose(first["module.0.weight"], second["module.0.weight"])
    pp.training_step(batch)
    assert pp.iteration == 6


def test_anil_adapts_only_the_head(batch):
    anil = ANIL(tiny_net(), lr=0.5, steps=2)
    assert anil.inner_names == ("2.weight", "2.bias")
    adapted = anil.adapt(batch.support_x, batch.support_y)
    for name, p in anil.module.named_parameters():
        same = torch.equal(adapted[name], p.detach().expand_as(adapted[name]))
        assert same == (not name.startswith("2."))
    grads = meta_grads(anil, batch)
    assert grads["module.0.weight"].abs().sum() > 0  # the body is still meta-learned
    with pytest.raises(ValueError, match="match none"):
        ANIL(tiny_net(), head=["nope"])


@pytest.mark.parametrize("make", [lambda: MetaSGD(tiny_net(), lr=0.1, steps=2),
                                  lambda: Reptile(tiny_net(), lr=0.1, steps=3)],
                         ids=["metasgd", "reptile"])
def test_the_loop_over_tasks_adapts_predicts_and_trains_as_vmap(make, batch):
    """adapt, predict and training_step had no loop over tasks (MetaTrainer could not
    train a model vmap cannot run); vectorize=False gives vmap's results."""
    results = {}
    for vectorize in (True, False):
        learner = make()
        params = learner.adapt(batch.support_x, batch.support_y, vectorize=vectorize)
        pred = learner.predict(params, batch.query_x, vectorize=vectorize)
        losses = learner.training_step(batch, vectorize=vectorize)
        results[vectorize] = (params, pred, losses,
                              {n: p.grad for n, p in learner.named_parameters()})
    for vmapped, looped in zip(results[True], results[False], strict=True):
        torch.testing.assert_close(vmapped, looped)


def test_reptile_pseudo_gradient_points_from_adapted_weights_to_init(batch):
    reptile = Reptile(tiny_net(), lr=0.1, steps=3)
    before = {n: p.detach().clone() for n, p in reptile.module.named_parameters()}
    adapted = reptile.adapt(batch.support_x, batch.support_y)
    inner, outer = reptile.training_step(batch)
    assert inner > 0 and outer > 0 and reptile.iteration == 1
    for name, p in reptile.module.named_parameters():
        torch.testing.assert_close(p.grad, before[name] - adapted[name].mean(0))
    torch.optim.SGD(reptile.parameters(), lr=1.0).step()  # epsilon = 1: jump to the mean
    for name, p in reptile.module.named_parameters():
        torch.testing.assert_close(p.detach(), adapted[name].mean(0))


def test_zero_weight_padding_equals_the_unpadded_task():
    torch.manual_seed(1)
    msgd = MetaSGD(nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 1)), lr=0.1, steps=2)
    x, y = torch.randn(1, 7, 2), torch.randn(1, 7)
    w = torch.tensor([[1.0] * 4 + [0.0] * 3])
    x_pad = torch.cat([x[:, :4], 100 * torch.randn(1, 3, 2)], dim=1)  # junk in the padding
    short = msgd.adapt(x[:, :4], y[:, :4])
    padded = msgd.adapt(x_pad, y, support_weight=w)
    for name in short:
        torch.testing.assert_close(short[name], padded[name])
    # a custom (pred, target, weight) loss in the same path
    ranked = msgd.adapt(x_pad, y, support_weight=w, loss_fn=pairwise_logistic_loss)
    assert ranked["2.bias"].shape == (1, 1)
    qx, qy = torch.randn(1, 5, 2), torch.randn(1, 5)
    loss = msgd.meta_loss(x_pad, y, qx, qy, support_weight=w, loss_fn="pairwise_logistic")
    loss.backward()
    assert all(p.grad is not None for p in msgd.lrs.values())


def test_adapt_under_no_grad_and_predict_shapes(batch):
    maml = MAML(tiny_net(), lr=0.1)
    with torch.no_grad():
        params = maml.adapt(batch.support_x, batch.support_y, steps=3)
        pred = maml.predict(params, batch.query_x)
    assert pred.shape == batch.query_y.shape
    assert params["0.weight"].shape == (batch.n_tasks, 3, 1)


def test_numpy_integers_are_integers_and_bools_are_not(batch):
    learner = MAMLpp(tiny_net(), steps=np.int64(2), msl_iterations=np.int32(0))
    assert learner.steps == 2 and learner.msl_iterations == 0
    assert learner.adapt(batch.support_x, batch.support_y, steps=np.int64(1))
    with pytest.raises(ValueError, match="first_order_iterations"):
        MAMLpp(tiny_net(), first_order_iterations=True)
    with pytest.raises(ValueError, match="steps"):
        MAML(tiny_net(), steps=1.0)


def test_bad_arguments_name_the_argument(batch):
    with pytest.raises(TypeError, match="model"):
        MAML("not a module")
    with pytest.raises(ValueError, match="lr"):
        MAML(tiny_net(), lr=0)
    with pytest.raises(ValueError, match="steps"):
        MAML(tiny_net(), steps=0)
    with pytest.raises(ValueError, match="loss_fn"):
        MAML(tiny_net(), loss_fn="hinge")
    with pytest.raises(TypeError, match="loss_fn"):
        MAML(tiny_net(), loss_fn=lambda pred, target: (pred - target).pow(2).mean())
    maml = MAML(tiny_net())
    with pytest.raises(ValueError, match="support_weight"):
        maml.adapt(batch.support_x, batch.support_y, support_weight=torch.ones(2, 2))
    with pytest.raises(ValueError, match="query_x"):
        maml.meta_loss(batch.support_x, batch.support_y, batch.query_x[:2], batch.query_y[:2])
    with pytest.raises(ValueError, match="support_x"):
        maml.adapt(batch.support_x[0, :, 0], batch.support_y[0, :, 0])
    # one task's [shots, features] without the task dimension was read as shots tasks
    with pytest.raises(ValueError, match=r"support_x must be \[tasks, shots, ...\] with a feature"):
        maml.meta_loss(batch.support_x[0], batch.support_y[0], batch.query_x[0], batch.query_y[0])


@pytest.mark.parametrize("lr", [float("inf"), "0.1", True, None])
@pytest.mark.parametrize("make", [MAML, MetaSGD, MAMLpp, Reptile])
def test_an_inner_lr_must_be_a_finite_positive_number(make, lr):
    """lr=inf was taken (the first step made every loss NaN), lr='0.1' failed with
    "'>' not supported between instances of 'str' and 'int'"."""
    with pytest.raises(ValueError, match=r"^lr must be a finite number > 0, got "):
        make(tiny_net(), lr=lr)
    assert make(tiny_net(), lr=torch.tensor(0.05)).lr == pytest.approx(0.05)


@pytest.mark.parametrize("make", [MAML, MetaSGD, Reptile])
def test_frozen_parameters_stay_as_they_are(make, batch):
    """A parameter with requires_grad=False was adapted in the inner loop, given a
    learned learning rate (Meta-SGD) and a pseudo-gradient (Reptile)."""
    net = tiny_net()
    net[0].weight.requires_grad_(False)
    learner = make(net, lr=0.1)
    assert "0.weight" not in learner.inner_names
    adapted = learner.adapt(batch.support_x, batch.support_y)
    assert torch.equal(adapted["0.weight"], net[0].weight.expand_as(adapted["0.weight"]))
    assert not torch.equal(adapted["2.weight"], net[2].weight.expand_as(adapted["2.weight"]))
    if make is MetaSGD:
        assert set(learner.learning_rates()) == set(learner.inner_names)
    learner.training_step(batch)
    assert net[0].weight.grad is None


def wide_net() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(
        nn.Linear(1, 32), nn.ReLU(), nn.Sequential(nn.Linear(32, 32), nn.Tanh()), nn.Linear(32, 1)
    ).double()  # fmt: skip


@pytest.mark.parametrize(
    "make",
    [
        lambda: MAML(wide_net(), lr=0.1, steps=2),
        lambda: MAML(wide_net(), lr=0.1, steps=2, first_order=True),
        lambda: ANIL(wide_net(), lr=0.1, steps=2),
        lambda: MAMLpp(wide_net(), lr=0.1, steps=3, first_order_iterations=0),
    ],
    ids=["maml", "fomaml", "anil", "mamlpp"],
)
def test_low_rank_inner_loop_gives_the_dense_meta_gradient(make, batch):
    learner = make()
    assert learner._low_rank_applies(batch.support_x[0], learner.steps)
    low_rank = meta_grads(learner, batch)
    # a hook (doing nothing) added after wrapping: the generic path, dense per-task weights
    learner.module.register_forward_hook(lambda module, inputs, output: None)
    assert not learner._low_rank_applies(batch.support_x[0], learner.steps)
    dense = meta_grads(learner, batch)
    for name in dense:
        torch.testing.assert_close(low_rank[name], dense[name])


def test_low_rank_inner_loop_keeps_factors_not_weight_copies(batch):
    maml = MAML(wide_net(), lr=0.1, steps=2)
    models = low_rank_inner_loop(
        maml._mlp_layers, dict(maml.module.named_parameters()), maml.inner_names,
        maml._step_size, batch.support_x[0], batch.support_y[0], torch.ones(4).double(),
        maml._loss, 2, False,
    )  # fmt: skip
    # the 32 x 32 layer: two rank-4 steps, stacked; the 1 -> 32 and 32 -> 1 layers: dense
    H, D = models[-1].factors["2.0"]
    assert H.shape == D.shape == (8, 32)
    assert models[0].factors["2.0"][0].shape == (4, 32)
    assert set(models[-1].factors) == {"2.0"}
    assert not MetaSGD(wide_net(), lr=0.1, steps=2)._low_rank_applies(batch.support_x[0], 2)


@pytest.mark.parametrize("activation", [nn.ReLU(), nn.GELU(), nn.Softplus(), nn.LeakyReLU(0.1)])
def test_activation_slope_is_the_derivative(activation):
    z = torch.linspace(-3, 3, 13, dtype=torch.float64).requires_grad_()
    h, slope = _activation_and_slope(activation, z)
    (expected,) = torch.autograd.grad(activation(z).sum(), z, create_graph=True)
    torch.testing.assert_close(h, activation(z))
    torch.testing.assert_close(slope, expected)
    if not isinstance(activation, nn.ReLU):  # second order: the slope's own derivative
        torch.testing.assert_close(torch.autograd.grad(slope.sum(), z)[0],
                                   torch.autograd.grad(expected.sum(), z)[0])


def test_dropout_slope_uses_the_forward_mask():
    torch.manual_seed(0)
    z = torch.randn(200, dtype=torch.float64) + 5  # no zeros of its own
    h, slope = _activation_and_slope(nn.Dropout(0.5).train(), z)
    assert 0 < int((h == 0).sum()) < 200
    torch.testing.assert_close(slope, (h != 0).double() * 2.0)


def test_mlp_layers_reads_only_plain_sequential_mlps():
    net = wide_net()
    assert [x if isinstance(x, str) else type(x).__name__ for x in mlp_layers(net)] == [
        "0", "ReLU", "2.0", "Tanh", "3",
    ]  # fmt: skip
    assert mlp_layers(nn.Linear(2, 2)) is None
    assert mlp_layers(nn.Sequential(nn.Linear(2, 4), nn.LayerNorm(4), nn.Linear(4, 1))) is None
    net[1].register_forward_hook(lambda *args: None)
    assert mlp_layers(net) is None
    shared_linear, shared_act = nn.Linear(4, 4), nn.ReLU()
    assert mlp_layers(nn.Sequential(shared_linear, nn.ReLU(), shared_linear)) is None
    twice = nn.Sequential(nn.Linear(1, 4), shared_act, nn.Linear(4, 4), shared_act, nn.Linear(4, 1))
    assert [x if isinstance(x, str) else "act" for x in mlp_layers(twice)] == [
        "0", "act", "2", "act", "4",
    ]  # fmt: skip


def test_compiled_meta_loss_gives_the_same_meta_gradient_and_annealing_does_not_recompile(batch):
    from torch._dynamo.utils import counters

    torch._dynamo.reset()
    counters.clear()
    eager = MAMLpp(tiny_net(), lr=0.3, steps=2, msl_iterations=10)
    compiled = MAMLpp(tiny_net(), lr=0.3, steps=2, msl_iterations=10).compile_meta_loss()
    for iteration in range(3):  # the multi-step loss weights change every iteration
        eager.iteration = compiled.iteration = iteration
        expected, got = meta_grads(eager, batch), meta_grads(compiled, batch)
        for name in expected:
            torch.testing.assert_close(got[name], expected[name], rtol=1e-10, atol=1e-12)
    assert counters["stats"]["unique_graphs"] == 1


@pytest.mark.parametrize("how", ["deepcopy", "pickle"])
def test_a_copy_of_a_compiled_learner_runs_on_its_own_parameters(batch, how):
    import copy
    import pickle

    learner = MetaSGD(tiny_net(), lr=0.3, steps=1).compile_meta_loss()
    meta_grads(learner, batch)  # compiled
    clone = copy.deepcopy(learner) if how == "deepcopy" else pickle.loads(pickle.dumps(learner))
    assert clone._compile_options == {"dynamic": False}
    with torch.no_grad():
        for p in clone.parameters():
            p.mul_(0.5)  # weights and learned learning rates
    expected = MetaSGD(tiny_net(), lr=0.3, steps=1)
    expected.load_state_dict(clone.state_dict())
    got, want = meta_grads(clone, batch), meta_grads(expected, batch)
    for name in want:
        torch.testing.assert_close(got[name], want[name], rtol=1e-10, atol=1e-12)


def test_a_loss_that_does_not_fit_the_labels_says_which_to_use():
    """Class labels under the default mse failed deep in torch with a reshape error,
    float labels under cross-entropy with a gather() dtype error, a one-output network
    under cross-entropy gave a loss of exactly 0, and nn.MSELoss() passed the
    signature check."""
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 5))
    x, y = torch.randn(2, 10, 4), torch.randint(0, 5, (2, 10))
    with pytest.raises(ValueError, match="class labels need loss_fn='cross_entropy'"):
        MAML(net).meta_loss(x, y, x, y)
    with pytest.raises(ValueError, match="needs integer class labels"):
        MAML(net, loss_fn="cross_entropy").meta_loss(x, y.float(), x, y.float())
    with pytest.raises(ValueError, match="one logit per class"):
        MAML(nn.Linear(4, 1), loss_fn="cross_entropy").meta_loss(x, y, x, y)
    with pytest.raises(TypeError, match="three positional arguments"):
        MAML(net, loss_fn=nn.MSELoss())
    assert MAML(net, loss_fn="cross_entropy").meta_loss(x, y, x, y) > 0


def test_class_labels_beyond_the_outputs_are_named_before_vmap():
    """Digit rows labelled 5..9 for a 5-output network (raw labels, not the episode's
    0..n-1), labels 1..5 or a negative one failed inside vmap with torch's "index 5 is
    out of bounds for dimension 2 with size 5"; now a ValueError names the labels, the
    outputs and the remap, in every entry point."""
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    upper = y >= 5
    x = torch.tensor(X[upper][:40] / 16.0, dtype=torch.float32).reshape(4, 10, 64)
    raw = torch.tensor(y[upper][:40]).reshape(4, 10)
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(64, 8), nn.ReLU(), nn.Linear(8, 5))
    for labels, shown in ((raw, "from 5 to 9"), (raw - 4, "from 1 to 5"),
                          (raw - 6, "from -1 to 3")):
        message = rf"class labels 0\.\.4, one per output of the model \(5 outputs\), got " \
                  rf"labels {shown}; remap them.*LabelEncoder"
        for make in (MAML, MetaSGD, ANIL):
            learner = make(net, loss_fn="cross_entropy")
            with pytest.raises(ValueError, match=message):
                learner.meta_loss(x, labels, x, labels)
            with pytest.raises(ValueError, match=message):
                learner.training_step(Episodes(x, labels, x, labels))
            with pytest.raises(ValueError, match=message):
                learner.adapt(x, labels)
            with pytest.raises(ValueError, match="class labels 0..4"):  # the query's alone
                learner.meta_loss(x, labels.clamp(0, 4), x, labels)
        for support, query in ((labels, labels.clamp(0, 4)), (labels.clamp(0, 4), labels)):
            with pytest.raises(ValueError, match="class labels 0..4"):
                Reptile(net, loss_fn="cross_entropy").training_step(
                    Episodes(x, support, x, query))
    assert MAML(net, loss_fn="cross_entropy").meta_loss(x, raw - 5, x, raw - 5) > 0


def test_torch_losses_of_learn2learn_code_say_which_loss_to_use():
    """learn2learn's F.cross_entropy / nn.CrossEntropyLoss(): the function passed the
    signature check and failed at the first call with torch's error about class weights
    (it took the per-example weights for them; F.mse_loss for size_average), the module
    with "too many positional arguments"."""
    net = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 5))
    for loss, builtin in ((F.cross_entropy, "cross_entropy"),
                          (nn.CrossEntropyLoss(), "cross_entropy"),
                          (F.mse_loss, "mse"), (nn.MSELoss(), "mse")):
        with pytest.raises(TypeError, match=f"torch's loss.*use loss_fn='{builtin}'"):
            MAML(net, loss_fn=loss)
    with pytest.raises(TypeError, match="torch's loss.*lambda pred, target, weight"):
        MAML(net, loss_fn=F.l1_loss)
    with pytest.raises(TypeError, match="three positional.*lambda pred, target, weight"):
        MAML(net, loss_fn=lambda pred, target: F.l1_loss(pred, target))
    # the wrapped form the message gives runs and takes the weights
    def wrapped(pred, target, weight):
        per_example = F.l1_loss(pred, target, reduction="none").reshape(len(weight), -1).mean(1)
        return (per_example * weight).sum() / weight.sum()

    x, y = torch.randn(2, 6, 4), torch.randn(2, 6, 5)
    assert MAML(net, loss_fn=wrapped).meta_loss(x, y, x, y) > 0

    # a user's subclass of a torch loss that takes the weights is the user's own loss
    class WeightedMSE(nn.MSELoss):
        def forward(self, pred, target, weight):
            per_example = super().forward(pred, target).reshape(len(weight), -1).mean(1)
            return (per_example * weight).sum() / weight.sum()

    assert MAML(net, loss_fn=WeightedMSE(reduction="none")).meta_loss(x, y, x, y) > 0


def test_batch_norm_must_use_batch_statistics(batch):
    """Running statistics failed inside torch.func with "mutate a captured Tensor"."""
    def net(track: bool) -> nn.Module:
        return nn.Sequential(nn.Linear(1, 8), nn.BatchNorm1d(8, track_running_stats=track),
                             nn.ReLU(), nn.Linear(8, 1)).double()

    with pytest.raises(ValueError, match="track_running_stats=False"):
        MAML(net(True))
    maml = MAML(net(False))
    assert torch.isfinite(maml.meta_loss(batch.support_x, batch.support_y, batch.query_x,
                                         batch.query_y))


def test_negative_weights_are_refused_and_mamlpp_rates_follow_the_model_dtype(batch):
    """A negative weight gave a loss of -1.3e13; MAML++'s rates stayed float32 on a
    float64 model."""
    maml = MAML(tiny_net())
    weight = torch.ones(batch.support_x.shape[:2], dtype=torch.float64)
    weight[0, 0] = -1.0
    with pytest.raises(ValueError, match="support_weight must be >= 0"):
        maml.adapt(batch.support_x, batch.support_y, support_weight=weight)
    rates = MAMLpp(tiny_net(), steps=2).learning_rates()
    assert {r.dtype for r in rates.values()} == {torch.float64}


def test_wrong_shapes_and_dtypes_are_named():
    """float64 data for a float32 model, query features of another shape, per-task labels
    with a trailing dimension and predict without a task dimension used to fail deep
    inside torch (or, for predict, silently treat rows as tasks)."""
    torch.manual_seed(0)
    learner = MAML(nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 3)), lr=0.1,
                   loss_fn="cross_entropy")
    sx, qx = torch.randn(3, 4, 2), torch.randn(3, 5, 2)
    sy, qy = torch.randint(0, 3, (3, 4)), torch.randint(0, 3, (3, 5))
    with pytest.raises(ValueError, match="support_x is torch.float64 but the model's"):
        learner.meta_loss(sx.double(), sy, qx.double(), qy)
    with pytest.raises(ValueError, match=r"query_x has features of shape \(1,\)"):
        learner.meta_loss(sx, sy, qx[..., :1], qy)
    with pytest.raises(ValueError, match="one class index per example"):
        learner.meta_loss(sx, sy[..., None], qx, qy[..., None])
    with torch.no_grad():
        params = learner.adapt(sx, sy)
    assert learner.predict(params, qx).shape == (3, 5, 3)
    with pytest.raises(ValueError, match=r"x must be \[tasks, n, \.\.\.\] with the 3 task"):
        learner.predict(params, qx[0, :3])


def hand_meta_loss(forward, params: list[torch.Tensor], ep: Episodes, lr: float, steps: int):
    """Second-order MAML written out with ``autograd.grad``, one task at a time."""
    total = 0.0
    for t in range(ep.n_tasks):
        fast = params
        for _ in range(steps):
            support = (forward(fast, ep.support_x[t]) - ep.support_y[t]).pow(2).mean()
            grads = torch.autograd.grad(support, fast, create_graph=True)
            fast = [p - lr * g for p, g in zip(fast, grads, strict=True)]
        total = total + (forward(fast, ep.query_x[t]) - ep.query_y[t]).pow(2).mean()
    return total / ep.n_tasks


def test_a_module_used_twice_keeps_its_parameters_and_gets_the_meta_gradient(batch):
    torch.manual_seed(0)
    first, shared, head = nn.Linear(1, 3), nn.Linear(3, 3), nn.Linear(3, 1)
    net = nn.Sequential(first, nn.Tanh(), shared, nn.Tanh(), shared, nn.Tanh(), head).double()
    maml = MAML(net, lr=0.3, steps=2)
    for _ in range(2):  # the second call crashed: the first left a tensor from inside grad
        grads = meta_grads(maml, batch)
    assert all(type(p) is nn.Parameter for p in net.parameters())

    def forward(p, x):
        h = torch.tanh(nn.functional.linear(x, p[0], p[1]))
        for _ in range(2):
            h = torch.tanh(nn.functional.linear(h, p[2], p[3]))
        return nn.functional.linear(h, p[4], p[5])

    params = [first.weight, first.bias, shared.weight, shared.bias, head.weight, head.bias]
    expected = torch.autograd.grad(hand_meta_loss(forward, params, batch, 0.3, 2), params)
    for (name, got), want in zip(grads.items(), expected, strict=True):
        torch.testing.assert_close(got, want, msg=name)
    adapted = maml.adapt(batch.support_x, batch.support_y)
    maml.predict(adapted, batch.query_x)
    assert all(type(p) is nn.Parameter for p in net.parameters())


def test_a_parameter_tied_to_two_layers_gets_the_meta_gradient(batch):
    torch.manual_seed(0)
    first, a, b, head = nn.Linear(1, 3), nn.Linear(3, 3), nn.Linear(3, 3), nn.Linear(3, 1)
    b.weight = a.weight  # tied weight, own bias
    net = nn.Sequential(first, nn.Tanh(), a, nn.Tanh(), b, nn.Tanh(), head).double()
    assert mlp_layers(net) is None  # the low-rank loop keeps one factor list per layer
    grads = meta_grads(MAML(net, lr=0.3, steps=2), batch)

    def forward(p, x):
        h = torch.tanh(nn.functional.linear(x, p[0], p[1]))
        h = torch.tanh(nn.functional.linear(h, p[2], p[3]))
        h = torch.tanh(nn.functional.linear(h, p[2], p[4]))
        return nn.functional.linear(h, p[5], p[6])

    params = [first.weight, first.bias, a.weight, a.bias, b.bias, head.weight, head.bias]
    expected = torch.autograd.grad(hand_meta_loss(forward, params, batch, 0.3, 2), params)
    for (name, got), want in zip(grads.items(), expected, strict=True):
        torch.testing.assert_close(got, want, msg=name)


def test_mamlpp_training_step_reports_the_post_adaptation_losses(batch):
    # the outer loss was the multi-step loss (here the mean of the 3 steps' query
    # losses), not the query loss after the last step that validation reports
    learner = MAMLpp(tiny_net(), lr=0.3, steps=3, msl_iterations=10)
    args = (batch.support_x, batch.support_y, batch.query_x, batch.query_y)
    objective = learner.meta_loss(*args)  # train mode: the multi-step loss
    expected_grads = torch.autograd.grad(objective, list(learner.parameters()))
    learner.eval()
    with torch.no_grad():
        query = learner.meta_loss(*args)
        adapted = learner.adapt(batch.support_x, batch.support_y)
        support = (learner.predict(adapted, batch.support_x) - batch.support_y).pow(2).mean()
    learner.train()
    inner, outer = learner.training_step(batch)
    assert outer == pytest.approx(float(query), rel=1e-12)
    assert outer != pytest.approx(float(objective), rel=1e-3)
    assert inner == pytest.approx(float(support), rel=1e-12)
    for p, want in zip(learner.parameters(), expected_grads, strict=True):
        torch.testing.assert_close(p.grad, want)


@pytest.mark.parametrize("norm", [lambda: nn.LayerNorm(6),
                                  lambda: nn.BatchNorm1d(6, track_running_stats=False)],
                         ids=["LayerNorm", "BatchNorm"])
@pytest.mark.parametrize("make", [
    lambda net: MAML(net, lr=0.5, steps=2),
    lambda net: MetaSGD(net, lr=0.5),
    lambda net: MAMLpp(net, lr=0.5, steps=2, first_order_iterations=0),
], ids=["MAML", "MetaSGD", "MAMLpp"])
def test_second_order_meta_gradients_through_an_adapted_norm_weight_are_exact(norm, make,
                                                                               batch):
    """torch's vmap rule for the backward of layer / batch norm gets the gradient of the
    layer's input wrong when the norm's weight differs per task (pytorch/functorch#534):
    the vmapped meta-gradient of the first Linear layer was off by 4-21 % with the
    LayerNorm, and far from its exact value (about 0) with the BatchNorm, while the loop
    over tasks matched finite differences."""
    torch.manual_seed(0)
    learner = make(nn.Sequential(nn.Linear(1, 6), norm(), nn.Tanh(), nn.Linear(6, 1)).double())
    looped = meta_grads(learner, batch, vectorize=False)
    weight, eps = learner.module[0].weight, 1e-6  # the loop is the right one
    with torch.no_grad():
        losses = []
        for sign in (1, -1):
            weight[0, 0] += sign * eps
            losses.append(learner.meta_loss(batch.support_x, batch.support_y, batch.query_x,
                                             batch.query_y))
            weight[0, 0] -= sign * eps
    assert float(looped["module.0.weight"][0, 0]) == pytest.approx(
        float(losses[0] - losses[1]) / (2 * eps), rel=1e-6)
    learner.zero_grad(set_to_none=True)
    learner.training_step(batch)  # vmap's path
    for name, p in learner.named_parameters():
        torch.testing.assert_close(p.grad, looped[name], rtol=1e-9, atol=1e-12, msg=name)


@pytest.mark.parametrize("spectral_norm", [nn.utils.parametrizations.spectral_norm,
                                           nn.utils.spectral_norm])
def test_a_spectral_norm_layer_is_named_with_the_loop_that_runs_it(batch, spectral_norm):
    """vmap cannot run a spectral norm's power iteration in training mode: it failed with
    torch's "Batching rule not implemented for aten::div.out", naming neither the layer
    nor vectorize=False, with which it trains."""
    torch.manual_seed(0)
    learner = MAML(nn.Sequential(spectral_norm(nn.Linear(1, 8)), nn.ReLU(),
                                 nn.Linear(8, 1)).double())
    tensors = (batch.support_x, batch.support_y, batch.query_x, batch.query_y)
    with pytest.raises(ValueError, match=r"spectral-norm layer\(s\) \['0'\] cannot run under "
                                         r"vmap.*vectorize=False"):
        learner.meta_loss(*tensors)
    learner.meta_loss(*tensors, vectorize=False).backward()
    assert learner.module[2].weight.grad is not None
