"""Device and dtype handling that a CPU-only machine can check: which generators a seed
touches, where and in which dtype learners build their own tensors."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from metaopt.meta import MAMLpp, MetaSGD, SinusoidTasks, load_checkpoint, save_checkpoint
from metaopt.meta._losses import seeded
from metaopt.meta.networks import mlp


def test_a_seed_leaves_the_gpu_generators_alone(monkeypatch):
    # torch.manual_seed re-seeded every GPU's generator (lazily, on a machine whose CUDA
    # was not initialised yet), and only the CPU's (and the training device's) was
    # restored: a CPU run with a seed changed the caller's CUDA stream
    torch.manual_seed(5)
    expected = torch.rand(3)
    calls = []
    for name in ("manual_seed", "manual_seed_all"):
        monkeypatch.setattr(torch.cuda, name, lambda seed, name=name: calls.append(name))
    before = torch.get_rng_state()
    with seeded(5, torch.device("cpu")):
        drawn = torch.rand(3)
    assert torch.equal(drawn, expected)  # the CPU draws are the seed's
    assert torch.equal(torch.get_rng_state(), before)  # and the caller's stream restored
    assert calls == []


def test_maml_pp_learning_rates_are_built_beside_the_model():
    # they were built on the CPU whatever the model's device: MAMLpp(net.cuda()) held
    # its learned rates on the CPU (Meta-SGD's were on the GPU)
    net = mlp(2, [4]).to("meta")
    for learner in (MAMLpp(net, steps=2), MetaSGD(net)):
        assert {p.device.type for p in learner.parameters()} == {"meta"}


def test_maml_pp_step_weights_keep_a_float64_models_precision():
    # the multi-step loss weights went through float32 (torch.tensor's default dtype)
    # before the model's: 1/3 lost its digits past the 8th in a float64 model
    ep = SinusoidTasks(k_shot=4, n_query=5, seed=0, dtype=torch.float64).sample(3)
    torch.manual_seed(0)
    learner = MAMLpp(mlp(1, [3], activation=nn.Tanh).double(), lr=0.1, steps=3)
    data = (ep.support_x, ep.support_y, ep.query_x, ep.query_y)
    weights = learner.step_weights()
    assert weights == pytest.approx([1 / 3] * 3)
    combined = learner.meta_loss(*data)
    learner.eval()  # no multi-step loss: the query loss after the last of `steps` steps
    alone = [learner.meta_loss(*data, steps=s) for s in (1, 2, 3)]
    torch.testing.assert_close(combined, sum(w * q for w, q in zip(weights, alone, strict=True)),
                               rtol=1e-14, atol=0)


def test_a_checkpoint_loads_into_a_learner_on_another_device(tmp_path):
    # the weights were read onto the learner's device, as safetensors names it: one it does
    # not name (the meta device) refused the checkpoint, and on CUDA a resumed run's Adam
    # step counts went to the GPU, where torch's own loading keeps them on the CPU
    save_checkpoint(MetaSGD(mlp(1, [4])), tmp_path / "saved")
    learner = MetaSGD(mlp(1, [4])).to("meta")
    load_checkpoint(learner, tmp_path / "saved")
    assert {p.device.type for p in learner.parameters()} == {"meta"}
