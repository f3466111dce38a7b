"""MetaTrainer: history, early stopping, checkpoints (safetensors + JSON), resume, plots."""

from __future__ import annotations

import base64
import json
import warnings

import numpy as np
import pytest
import torch
from matplotlib.figure import Figure
from torch import nn

from metaopt.meta import (
    MAML,
    ClassificationTasks,
    Episodes,
    MetaSGD,
    MetaTrainer,
    ProtoNet,
    RegressionTasks,
    SinusoidTasks,
    load_checkpoint,
    resolve_device,
    save_checkpoint,
)


def sine_net() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(1, 16), nn.ReLU(), nn.Linear(16, 1))


def test_fit_records_history_checkpoints_and_plots(tmp_path):
    learner = MetaSGD(sine_net(), lr=0.01)
    trainer = MetaTrainer(
        learner, iterations=30, meta_batch_size=8, eval_every=10, valid_tasks_count=20,
        checkpoint_dir=tmp_path, seed=0, progress=False,
    )  # fmt: skip
    trainer.fit(SinusoidTasks(k_shot=5, seed=0), SinusoidTasks(k_shot=5, seed=1))
    h = trainer.history_
    assert h["iteration"] == list(range(1, 31))
    assert len(h["inner_loss"]) == len(h["outer_loss"]) == 30
    assert h["valid_iteration"] == [10, 20, 30] and len(h["valid_loss"]) == 3
    assert trainer.best_valid_loss_ == min(h["valid_loss"])
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "best.json", "best.safetensors", "last.json", "last.safetensors",
    ]  # fmt: skip
    record = json.loads((tmp_path / "last.json").read_text())
    assert record["learner"] == "MetaSGD" and record["iteration"] == 30
    fig = trainer.plot_history()
    assert isinstance(fig, Figure) and len(fig.axes[0].lines) == 3
    assert [line.get_label() for line in fig.axes[0].lines] == [
        "inner (support, adapted)", "outer (query, adapted)", "meta-validation (query)"]


def test_plot_history_of_a_metric_learner_does_not_say_adapted():
    """A ProtoNet adapts nothing: its support loss classifies the support points against
    the support set. The legend said "(support, adapted)" / "(query, adapted)"."""
    trainer = MetaTrainer(ProtoNet(nn.Sequential(nn.Linear(64, 16), nn.ReLU())),
                          iterations=3, meta_batch_size=2, seed=0, progress=False)
    trainer.fit(ClassificationTasks(*_digits(), n_way=3, k_shot=2, seed=0))
    labels = [line.get_label() for line in trainer.plot_history().axes[0].lines]
    assert labels == ["inner (support)", "outer (query)"]


def test_checkpoint_round_trip_without_pickle(tmp_path):
    learner = MetaSGD(sine_net(), lr=0.03)
    with torch.no_grad():
        for p in learner.parameters():
            p.add_(torch.randn_like(p))
    learner.iteration = 7
    save_checkpoint(learner, tmp_path / "model", metadata={"note": "x"})
    assert (tmp_path / "model.safetensors").read_bytes()[:8] != b"\x80\x04\x95"  # not a pickle
    fresh = MetaSGD(sine_net(), lr=0.03)
    record = load_checkpoint(fresh, tmp_path / "model")
    assert record["metadata"] == {"note": "x"} and fresh.iteration == 7
    for (name, a), b in zip(learner.state_dict().items(), fresh.state_dict().values(), strict=True):
        assert torch.equal(a, b), name
    for name, lr in learner.learning_rates().items():
        assert torch.equal(lr, fresh.learning_rates()[name])
    with pytest.raises(ValueError, match="MetaSGD checkpoint"):
        load_checkpoint(MAML(sine_net()), tmp_path / "model")
    with pytest.raises(ValueError, match="does not exist"):
        load_checkpoint(fresh, tmp_path / "missing")


def test_a_checkpoint_of_another_architecture_leaves_the_learner_unchanged(tmp_path):
    """torch's load_state_dict copied the tensors that fit (here the output bias) before
    raising for the others: a failed load left the learner half overwritten. The error
    comes alone: a warning that the checkpoint was 'loading into' a learner built with
    other settings came first, for a load that did not happen."""
    save_checkpoint(MetaSGD(sine_net()), tmp_path / "narrow")
    torch.manual_seed(1)
    wide = MetaSGD(nn.Sequential(nn.Linear(1, 32), nn.ReLU(), nn.Linear(32, 1)))
    wide.iteration = 5
    before = {k: v.clone() for k, v in wide.state_dict().items()}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match=r"built differently.*module\.0\.weight \(16, 1\) "
                                             r"saved, \(32, 1\) here.*left unchanged"):
            load_checkpoint(wide, tmp_path / "narrow")
    assert wide.iteration == 5
    for name, value in wide.state_dict().items():
        assert torch.equal(value, before[name]), name
    deeper = MetaSGD(nn.Sequential(sine_net(), nn.Linear(1, 1)))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match="missing from the checkpoint: module.0.0.weight.*"
                                             "not in this learner: lrs.0-bias"):
            load_checkpoint(deeper, tmp_path / "narrow")


def test_a_checkpoint_refuses_another_architecture_of_the_same_parameter_shapes(tmp_path):
    """A ReLU MLP's checkpoint loaded silently into a Tanh MLP (the same parameter names
    and shapes), and a ProtoNet's into one of another encoder: the JSON records the
    layers, and the load refuses, naming both, and leaves the learner unchanged."""
    def net(activation) -> nn.Module:
        torch.manual_seed(0)
        return nn.Sequential(nn.Linear(1, 16), activation(), nn.Linear(16, 1))

    save_checkpoint(MetaSGD(net(nn.ReLU)), tmp_path / "relu")
    tanh = MetaSGD(net(nn.Tanh))
    with torch.no_grad():
        tanh.module[0].bias.fill_(3.0)
    with pytest.raises(ValueError, match=r"holds a MetaSGD of another architecture than this "
                                         r"MetaSGD.*'module\.1: ReLU\(\)' there, "
                                         r"'module\.1: Tanh\(\)' here.*left unchanged"):
        load_checkpoint(tanh, tmp_path / "relu")
    assert torch.all(tanh.module[0].bias == 3.0)
    save_checkpoint(ProtoNet(nn.Sequential(nn.Linear(64, 8), nn.ReLU())), tmp_path / "proto")
    with pytest.raises(ValueError, match=r"'encoder\.1: ReLU\(\)' there, "
                                         r"'encoder\.1: ELU\(alpha=1\.0\)' here"):
        load_checkpoint(ProtoNet(nn.Sequential(nn.Linear(64, 8), nn.ELU())), tmp_path / "proto")
    # the same architecture in another dtype loads (the learning rates' text shows dtypes)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        load_checkpoint(MetaSGD(net(nn.ReLU).double()), tmp_path / "relu")
    # a checkpoint of a metaopt that recorded no architecture loads, with a warning
    record = json.loads((tmp_path / "relu.json").read_text())
    del record["architecture"]
    (tmp_path / "relu.json").write_text(json.dumps(record))
    with pytest.warns(UserWarning, match="did not record its architecture"):
        load_checkpoint(tanh, tmp_path / "relu")
    assert torch.equal(tanh.module[0].bias, net(nn.ReLU)[0].bias)


def test_checkpoint_names_with_dots_settings_and_damage(tmp_path):
    """`maml_lr0.01` and `maml_lr0.05` both wrote `maml_lr0.json` (the dot was taken for
    a suffix); a damaged file gave a raw JSONDecodeError or KeyError."""
    runs = {}
    for lr in (0.01, 0.05):
        learner = MAML(sine_net(), lr=lr)
        with torch.no_grad():
            learner.module[0].bias.fill_(lr)
        runs[lr] = save_checkpoint(learner, tmp_path / f"maml_lr{lr}")
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "maml_lr0.01.json", "maml_lr0.01.safetensors", "maml_lr0.05.json",
        "maml_lr0.05.safetensors"]
    fresh = MAML(sine_net(), lr=0.01)
    load_checkpoint(fresh, tmp_path / "maml_lr0.01")
    assert torch.all(fresh.module[0].bias == 0.01)
    load_checkpoint(fresh, runs[0.01])  # the .json path names the same checkpoint
    with pytest.warns(UserWarning, match="built with"):  # saved with lr 0.05
        load_checkpoint(fresh, tmp_path / "maml_lr0.05")
    runs[0.05].write_text("{not json")
    with pytest.raises(ValueError, match="not valid JSON"):
        load_checkpoint(fresh, tmp_path / "maml_lr0.05")
    runs[0.05].write_text('{"format": "metaopt.meta/1", "learner": "MAML"}')
    with pytest.raises(ValueError, match="damaged"):
        load_checkpoint(fresh, tmp_path / "maml_lr0.05")


def test_a_diverging_run_stops_with_a_warning_before_its_nan_step(tmp_path):
    """An inner lr of 50 made the first losses inf: the NaN meta-gradient was stepped,
    every parameter became NaN and the run went on to its last iteration on NaN losses,
    without a word."""
    learner = MAML(sine_net(), lr=0.01, steps=3)
    trainer = MetaTrainer(learner, iterations=40, meta_batch_size=4, eval_every=5,
                          valid_tasks_count=4, checkpoint_dir=tmp_path, progress=False)
    trainer.fit(SinusoidTasks(seed=0), SinusoidTasks(seed=1))  # a sane run first
    before = {k: v.clone() for k, v in learner.state_dict().items()}
    learner.lr = 50.0
    with pytest.warns(RuntimeWarning, match=r"diverged at iteration 1: .* inf .*"
                                            r"lr=50\.0\) or the outer one"):
        trainer.fit(SinusoidTasks(seed=0), SinusoidTasks(seed=1))
    assert trainer.history_["iteration"] == []
    for name, value in learner.state_dict().items():
        assert torch.equal(value, before[name]), name
    assert json.loads((tmp_path / "last.json").read_text())["metadata"]["history"][
        "iteration"] == []


@pytest.mark.parametrize("lr", [-1.0, float("nan"), float("inf"), "1e-3"])
def test_the_outer_lr_is_checked_when_the_trainer_is_built(lr):
    """lr=-1 or nan failed only in fit, with torch's 'Invalid learning rate: -1'; inf
    was taken and made the parameters NaN at the first step."""
    with pytest.raises(ValueError, match=r"^lr must be a finite number >= 0, got "):
        MetaTrainer(MAML(sine_net()), lr=lr)
    # a callable builds its optimiser with its own rate: lr is not read
    MetaTrainer(MAML(sine_net()), lr=None, optimizer=lambda p: torch.optim.SGD(p, lr=0.1))


def test_plot_history_says_why_it_has_nothing_to_plot_and_checks_smooth():
    """After a fit that diverged at its first iteration it said 'call fit() first'; a
    smooth of 2.5 failed inside numpy, and -3 was taken."""
    trainer = MetaTrainer(MAML(sine_net(), lr=1e30), iterations=3, meta_batch_size=2,
                          progress=False)
    with pytest.raises(ValueError, match="call fit"):
        trainer.plot_history()
    with pytest.warns(RuntimeWarning, match="diverged at iteration 1"):
        trainer.fit(SinusoidTasks(seed=0))
    with pytest.raises(ValueError, match="fit\\(\\) stopped before its first iteration"):
        trainer.plot_history()
    trainer.learner.lr = 0.01
    trainer.fit(SinusoidTasks(seed=0))
    for smooth in (2.5, -3, 0):
        with pytest.raises(ValueError, match=f"smooth must be an integer >= 1, got {smooth}"):
            trainer.plot_history(smooth=smooth)
    assert isinstance(trainer.plot_history(smooth=1), Figure)


class _Pairs:
    """A sampler of (x, y) pairs, as learn2learn's TaskDataset gives, not Episodes."""

    def sample(self, n_tasks):
        episodes = SinusoidTasks(seed=0).sample(n_tasks)
        return episodes.support_x, episodes.support_y


@pytest.mark.parametrize("which", ["train_tasks", "valid_tasks"])
def test_a_sampler_must_give_episodes(which):
    """A sampler of tuples failed with "'tuple' object has no attribute 'to'", and a
    valid_tasks without a sample method with "'list' object has no attribute 'sample'"."""
    trainer = MetaTrainer(MAML(sine_net()), iterations=2, meta_batch_size=2, progress=False)
    samplers = {"train_tasks": SinusoidTasks(seed=0), "valid_tasks": SinusoidTasks(seed=1)}
    with pytest.raises(TypeError, match=rf"^{which}\.sample\(\d+\) returned a tuple; it must "
                                        r"return metaopt\.meta\.Episodes"):
        trainer.fit(**{**samplers, which: _Pairs()})
    with pytest.raises(TypeError, match=rf"^{which} must have a sample\(n_tasks\) method, got "
                                        "list"):
        trainer.fit(**{**samplers, which: [1, 2]})


class _WithNaN:
    """Episodes of ``tasks`` with one NaN in ``field``, as a sampler of one's own may draw."""

    def __init__(self, tasks, field):
        self.tasks, self.field = tasks, field

    def sample(self, n_tasks):
        episodes = self.tasks.sample(n_tasks)
        getattr(episodes, self.field)[0, 0] = float("nan")
        return episodes


@pytest.mark.parametrize(("learner", "tasks", "field"), [
    (MAML(sine_net()), SinusoidTasks(seed=0), "query_y"),
    (ProtoNet(sine_net()), ClassificationTasks(np.arange(40.0)[:, None], np.arange(40) % 4,
                                               n_way=2, k_shot=2, n_query=2, seed=0),
     "support_x"),
], ids=["MAML", "ProtoNet"])
def test_a_nan_in_the_episodes_is_named_as_the_cause_not_the_learning_rates(learner, tasks,
                                                                            field):
    """A NaN in the data made the warning say 'Lower the inner learning rate ... or the
    outer one', which cannot help."""
    with pytest.warns(RuntimeWarning, match=rf"diverged at iteration 1: .*hold NaN or "
                                            rf"infinite values \(in {field}\)") as record:
        MetaTrainer(learner, iterations=3, meta_batch_size=2,
                    progress=False).fit(_WithNaN(tasks, field))
    assert "Lower" not in str(record[0].message)


@pytest.mark.parametrize(("progress", "shown"), [(True, "MAML: 100%"),
                                                 ("member 2/3", "member 2/3: 100%"),
                                                 (False, None)])
def test_the_progress_bar_is_named_by_the_learner_or_the_given_string(capsys, progress, shown):
    MetaTrainer(MAML(sine_net()), iterations=3, meta_batch_size=2,
                progress=progress).fit(SinusoidTasks(k_shot=5, seed=0))
    err = capsys.readouterr().err
    assert (shown in err) if shown else err == ""


def test_numpy_integer_settings_are_accepted():
    trainer = MetaTrainer(MAML(sine_net()), iterations=np.int64(3), meta_batch_size=np.int32(2),
                          patience=np.int64(1), progress=False)
    assert (trainer.iterations, trainer.meta_batch_size, trainer.patience) == (3, 2, 1)
    with pytest.raises(ValueError, match="patience"):
        MetaTrainer(MAML(sine_net()), patience=0)


def test_early_stopping_and_resume(tmp_path):
    learner = MAML(sine_net(), lr=0.01)
    trainer = MetaTrainer(
        learner, iterations=40, meta_batch_size=4, optimizer="sgd", lr=0.0, eval_every=5, valid_tasks_count=10,
        patience=1, checkpoint_dir=tmp_path, progress=False,
    )  # fmt: skip
    trainer.fit(SinusoidTasks(seed=0), SinusoidTasks(seed=1))
    stopped = len(trainer.history_["iteration"])
    assert stopped == 10  # lr=0 never improves: patience=1 stops at the 2nd evaluation
    resumed = MetaTrainer(
        MAML(sine_net(), lr=0.01), iterations=stopped + 5, meta_batch_size=4, eval_every=100,
        checkpoint_dir=tmp_path, progress=False,
    )  # fmt: skip
    resumed.fit(SinusoidTasks(seed=0), resume=True)
    assert resumed.history_["iteration"] == list(range(1, stopped + 6))
    assert resumed.learner.iteration == stopped + 5


@pytest.mark.parametrize("make", [lambda: SinusoidTasks(seed=0),
                                  lambda: ClassificationTasks(*_digits(), n_way=2, seed=0)])
def test_a_resumed_fit_draws_the_episodes_an_unbroken_one_would(tmp_path, make):
    """The task stream restarted at a resume: the episodes after it repeated the first."""
    def trainer(iterations: int, directory) -> MetaTrainer:
        torch.manual_seed(0)  # the same initial weights (fit no longer re-seeds for them)
        learner = MAML(nn.Sequential(nn.Linear(64, 2)), loss_fn="cross_entropy") if isinstance(
            make(), ClassificationTasks) else MAML(sine_net())
        return MetaTrainer(learner, iterations=iterations, meta_batch_size=2, eval_every=2,
                           optimizer="sgd", lr=0.01, checkpoint_dir=directory,
                           progress=False, seed=0)

    unbroken = trainer(6, tmp_path / "a").fit(make())
    trainer(3, tmp_path / "b").fit(make())
    resumed = trainer(6, tmp_path / "b").fit(make(), resume=True)
    assert resumed.history_["outer_loss"][3:] == pytest.approx(unbroken.history_["outer_loss"][3:])


def test_a_resumed_seeded_fit_draws_the_dropout_an_unbroken_one_would(tmp_path):
    """A resumed fit(seed=...) started torch's stream at the seed again: a dropout
    learner's masks after the resume repeated the first iterations', and its losses
    were not the unbroken run's."""
    def trainer(iterations: int, directory) -> MetaTrainer:
        torch.manual_seed(1)
        learner = ProtoNet(nn.Sequential(nn.Linear(64, 16), nn.Dropout(0.5)))
        return MetaTrainer(learner, iterations=iterations, meta_batch_size=2, eval_every=2,
                           optimizer="sgd", lr=0.01, checkpoint_dir=directory,
                           progress=False, seed=0)

    def tasks() -> ClassificationTasks:
        return ClassificationTasks(*_digits(), n_way=2, seed=0)

    unbroken = trainer(6, tmp_path / "a").fit(tasks())
    trainer(3, tmp_path / "b").fit(tasks())
    resumed = trainer(6, tmp_path / "b").fit(tasks(), resume=True)
    assert resumed.history_["outer_loss"][3:] == pytest.approx(unbroken.history_["outer_loss"][3:])


def test_a_checkpoint_of_a_cuda_run_resumes_on_the_cpu(tmp_path):
    """A seeded run's 'last' checkpoint of a CUDA machine holds the CUDA generator's
    state (16 bytes), which torch.set_rng_state of a machine without CUDA refused
    ("Expected a CPUGeneratorImplState of size 5056"): the resume failed. It goes on,
    its draws from the seed, with a warning."""
    def trainer(iterations: int) -> MetaTrainer:
        return MetaTrainer(MAML(sine_net()), iterations=iterations, meta_batch_size=2,
                           checkpoint_dir=tmp_path, progress=False, seed=0, device="cpu")

    trainer(2).fit(SinusoidTasks(seed=0))
    record = json.loads((tmp_path / "last.json").read_text())
    assert record["metadata"]["torch_generator"]["device"] == "cpu"
    cuda_state = torch.tensor([0, 4], dtype=torch.int64).view(torch.uint8)  # seed, offset
    record["metadata"]["torch_generator"] = {
        "device": "cuda", "state": base64.b64encode(cuda_state.numpy().tobytes()).decode()}
    (tmp_path / "last.json").write_text(json.dumps(record))
    with pytest.warns(UserWarning, match="generator of a run on 'cuda'.*restart from the seed"):
        resumed = trainer(4).fit(SinusoidTasks(seed=0), resume=True)
    assert resumed.history_["iteration"] == [1, 2, 3, 4]


def test_resume_from_a_bare_checkpoint_says_what_it_lacks(tmp_path):
    save_checkpoint(MAML(sine_net()), tmp_path / "last")  # not a trainer's: no history
    trainer = MetaTrainer(MAML(sine_net()), iterations=2, checkpoint_dir=tmp_path,
                          progress=False)
    with pytest.raises(ValueError, match="not written by a MetaTrainer"):
        trainer.fit(SinusoidTasks(seed=0), resume=True)


class _GRUNet(nn.Module):
    """A recurrent regressor: the last hidden state of a GRU, through a linear head."""

    def __init__(self) -> None:
        super().__init__()
        self.gru, self.head = nn.GRU(1, 8, batch_first=True), nn.Linear(8, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.gru(x)[0][:, -1])


class _SineSequences:
    """Sinusoid tasks, each x read as a sequence of 3 equal steps."""

    def __init__(self, seed: int) -> None:
        self.tasks = SinusoidTasks(k_shot=5, n_query=5, seed=seed)

    def sample(self, n_tasks: int) -> Episodes:
        ep = self.tasks.sample(n_tasks)
        return Episodes(ep.support_x[:, :, None].expand(-1, -1, 3, -1), ep.support_y,
                        ep.query_x[:, :, None].expand(-1, -1, 3, -1), ep.query_y)


def test_a_recurrent_learner_meta_trains_with_the_loop_over_tasks():
    """MetaTrainer always vmapped over tasks, which cannot run a GRU (torch's "output
    with shape [5, 8] doesn't match the broadcast shape [4, 5, 8]"): the error now names
    the layer and vectorize=False, with which it meta-trains."""
    def trainer(**kwargs) -> MetaTrainer:
        torch.manual_seed(0)
        return MetaTrainer(MAML(_GRUNet(), lr=0.05), iterations=30, meta_batch_size=4,
                           lr=0.01, eval_every=10, valid_tasks_count=8, seed=0,
                           progress=False, **kwargs)

    with pytest.raises(ValueError, match=r"recurrent layer\(s\) \['gru'\] cannot run under "
                                         r"vmap.*MetaTrainer\(\.\.\., vectorize=False\)"):
        trainer().fit(_SineSequences(0))
    looped = trainer(vectorize=False)
    before = {n: p.detach().clone() for n, p in looped.learner.named_parameters()}
    looped.fit(_SineSequences(0), _SineSequences(1))
    valid = looped.history_["valid_loss"]
    assert len(valid) == 3 and valid[-1] < 0.9 * valid[0]
    assert all(not torch.equal(p, before[n]) for n, p in looped.learner.named_parameters())
    # metric learners never vmap: the option changes nothing for them
    MetaTrainer(ProtoNet(nn.Sequential(nn.Linear(64, 8))), iterations=2, meta_batch_size=2,
                vectorize=False, progress=False).fit(
        ClassificationTasks(*_digits(), n_way=2, seed=0))


def _digits():
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    return (X / 16.0).astype("float32"), y


def test_trainer_validates_arguments():
    with pytest.raises(TypeError, match="learner"):
        MetaTrainer(nn.Linear(1, 1))
    with pytest.raises(ValueError, match="meta_batch_size"):
        MetaTrainer(ProtoNet(nn.Identity()), meta_batch_size=0)
    with pytest.raises(ValueError, match="optimizer"):
        MetaTrainer(ProtoNet(nn.Identity()), optimizer="lbfgs")
    with pytest.raises(ValueError, match="resume"):
        MetaTrainer(ProtoNet(nn.Identity()), progress=False).fit(SinusoidTasks(), resume=True)
    with pytest.raises(ValueError, match="fit"):
        MetaTrainer(ProtoNet(nn.Identity())).plot_history()
    with pytest.raises(ValueError, match="device"):
        resolve_device("tpu:x")
    assert resolve_device("auto").type in ("cpu", "cuda")
    if not torch.cuda.is_available():  # a clear error, not torch's bare AssertionError later
        with pytest.raises(ValueError, match="no CUDA GPU is available"):
            resolve_device("cuda")
    if not torch.backends.mps.is_available():  # was accepted, and failed at the first tensor
        with pytest.raises(ValueError, match="'mps' is not available"):
            resolve_device("mps")
    with pytest.raises(ValueError, match="holds no data"):  # failed at the first .item()
        resolve_device("meta")
    if not hasattr(torch, "hpu"):  # was "ModuleNotFoundError: No module named 'torch.hpu'"
        with pytest.raises(ValueError, match="'hpu' is not available"):
            resolve_device("hpu")


def test_a_resumed_fit_stops_early_where_an_unbroken_one_would(tmp_path):
    """The count of evaluations without improvement restarted at 0 on a resume: a
    resumed run trained past the point where an unbroken one stopped."""
    def trainer(iterations: int, directory) -> MetaTrainer:
        return MetaTrainer(MAML(sine_net(), lr=0.01), iterations=iterations, meta_batch_size=4,
                           optimizer="sgd", lr=0.0, eval_every=1, valid_tasks_count=5,
                           patience=3, checkpoint_dir=directory, progress=False)

    unbroken = trainer(10, tmp_path / "a").fit(SinusoidTasks(seed=0), SinusoidTasks(seed=1))
    assert len(unbroken.history_["iteration"]) == 4  # lr=0: no improvement after the 1st
    trainer(3, tmp_path / "b").fit(SinusoidTasks(seed=0), SinusoidTasks(seed=1))
    resumed = trainer(10, tmp_path / "b").fit(SinusoidTasks(seed=0), SinusoidTasks(seed=1),
                                              resume=True)
    assert len(resumed.history_["iteration"]) == 4
    again = trainer(10, tmp_path / "a").fit(SinusoidTasks(seed=0), SinusoidTasks(seed=1),
                                            resume=True)
    assert len(again.history_["iteration"]) == 4  # a run that stopped stays stopped


def shared_layer_net() -> nn.Module:
    """A layer used twice and a weight tied to another layer's."""
    torch.manual_seed(0)
    shared, tied = nn.Linear(16, 16), nn.Linear(16, 16)
    tied.weight = shared.weight
    return nn.Sequential(nn.Linear(1, 16), nn.Tanh(), shared, nn.Tanh(), shared, nn.Tanh(),
                         tied, nn.Tanh(), nn.Linear(16, 1))


def test_checkpoints_of_a_model_with_shared_and_tied_layers(tmp_path):
    # safetensors refused the state dict's second name of one tensor: fit crashed
    # at the first checkpoint
    trainer = MetaTrainer(
        MAML(shared_layer_net(), lr=0.01), iterations=4, meta_batch_size=4, eval_every=2,
        valid_tasks_count=5, checkpoint_dir=tmp_path, progress=False,
    )  # fmt: skip
    trainer.fit(SinusoidTasks(seed=0), SinusoidTasks(seed=1))
    fresh = shared_layer_net()
    load_checkpoint(MAML(fresh, lr=0.01), tmp_path / "last")
    for (name, a), b in zip(trainer.learner.module.state_dict().items(),
                            fresh.state_dict().values(), strict=True):
        assert torch.equal(a, b), name
    assert fresh[2] is fresh[4] and fresh[6].weight is fresh[2].weight
    trainer.iterations = 6
    trainer.fit(SinusoidTasks(seed=0), SinusoidTasks(seed=1), resume=True)
    assert trainer.history_["iteration"] == list(range(1, 7))


def test_a_run_resumed_with_another_kind_of_sampler_starts_its_stream(tmp_path):
    # the SinusoidTasks state went to RegressionTasks.set_state: KeyError: 'numpy'
    def trainer(iterations):
        return MetaTrainer(MAML(sine_net()), iterations=iterations, meta_batch_size=4,
                           eval_every=2, checkpoint_dir=tmp_path, progress=False)

    trainer(2).fit(SinusoidTasks(seed=0))
    rng = np.random.default_rng(0)
    X, groups = rng.uniform(-5, 5, (200, 1)), np.repeat(np.arange(10), 20)
    tasks = RegressionTasks(X, np.sin(X[:, 0] + groups), groups, seed=0)
    fresh = RegressionTasks(X, np.sin(X[:, 0] + groups), groups, seed=0)
    with pytest.warns(UserWarning, match="came from a metaopt.meta.tasks.SinusoidTasks"):
        resumed = trainer(4).fit(tasks, resume=True)
    assert resumed.history_["iteration"] == [1, 2, 3, 4]
    fresh.sample(4), fresh.sample(4)  # the two resumed iterations' episodes
    assert tasks.get_state() == fresh.get_state()


def test_patience_without_validation_warns_and_evaluate_keeps_the_mode():
    """patience without valid_tasks did nothing, silently (30 of 30 iterations ran with
    patience=1); evaluate() left a learner the user had put in eval mode in train mode."""
    trainer = MetaTrainer(MAML(sine_net(), lr=0.01), iterations=4, meta_batch_size=2,
                          eval_every=2, patience=1, progress=False)
    with pytest.warns(UserWarning, match="no valid_tasks"):
        trainer.fit(SinusoidTasks(seed=0))
    assert len(trainer.history_["iteration"]) == 4
    episodes = SinusoidTasks(seed=1).sample(3)
    for training in (False, True):
        trainer.learner.train(training)
        loss = trainer.evaluate(episodes)
        assert np.isfinite(loss) and trainer.learner.training is training


def test_checkpoints_of_a_learner_built_with_numpy_settings(tmp_path):
    """RelationNet(embedding_dim=np.int64(8)) (a sweep over np.arange): its settings went
    into the checkpoint's JSON as they were, and MetaTrainer(checkpoint_dir=...) failed at
    its first evaluation with 'Object of type int64 is not JSON serializable'."""
    from sklearn.datasets import load_digits

    from metaopt.meta import RelationNet

    X, y = load_digits(return_X_y=True)

    def build():
        torch.manual_seed(0)
        return RelationNet(nn.Linear(64, 8), embedding_dim=np.int64(8), hidden=np.int64(16))

    learner = build()
    MetaTrainer(learner, iterations=4, meta_batch_size=2, eval_every=2, progress=False,
                checkpoint_dir=tmp_path).fit(
        ClassificationTasks(X, y, n_way=3, k_shot=2, n_query=2, seed=0),
        ClassificationTasks(X, y, n_way=3, k_shot=2, n_query=2, seed=1))
    fresh = build()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the same settings: no "built with other settings"
        record = load_checkpoint(fresh, tmp_path / "last")
    assert record["config"] == {"embedding_dim": 8, "hidden": 16}
    for a, b in zip(fresh.state_dict().values(), learner.state_dict().values(), strict=True):
        torch.testing.assert_close(a, b)


def test_an_interrupted_checkpoint_save_leaves_a_pair_that_belongs_together(tmp_path,
                                                                             monkeypatch):
    """A Ctrl-C after the weights of `last` were written but before its JSON left the
    new weights with the old history, which a resume loaded silently; weights changed
    after saving or cut short loaded too (or raised a raw SafetensorError)."""
    import metaopt.meta._trainer as trainer_module

    def trainer(iterations, directory):
        return MetaTrainer(MAML(sine_net()), iterations=iterations, meta_batch_size=2,
                           eval_every=2, optimizer="sgd", lr=0.01, checkpoint_dir=directory,
                           progress=False, seed=0)

    unbroken = trainer(2, tmp_path / "a").fit(SinusoidTasks(seed=0))
    real, calls = trainer_module.dumps, []

    def interrupted(*args, **kwargs):  # Ctrl-C while the 2nd checkpoint is saved
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(trainer_module, "dumps", interrupted)
    with pytest.raises(KeyboardInterrupt):
        trainer(4, tmp_path / "b").fit(SinusoidTasks(seed=0))
    monkeypatch.undo()
    fresh = MAML(sine_net())
    assert load_checkpoint(fresh, tmp_path / "b" / "last")["iteration"] == 2
    for name, value in unbroken.learner.state_dict().items():
        assert torch.equal(fresh.state_dict()[name], value), name
    assert sorted(p.name for p in (tmp_path / "b").iterdir()) == [
        "last.json", "last.safetensors"]  # no temporary file left behind
    weights = tmp_path / "b" / "last.safetensors"
    weights.write_bytes((tmp_path / "a" / "last.safetensors").read_bytes()[:-8])
    with pytest.raises(ValueError, match="SHA-256 mismatch"):
        load_checkpoint(fresh, tmp_path / "b" / "last")
    # a checkpoint of a metaopt that recorded no SHA-256 still resumes, with a warning
    record = json.loads((tmp_path / "a" / "last.json").read_text())
    del record["weights_sha256"]
    (tmp_path / "a" / "last.json").write_text(json.dumps(record))
    with pytest.warns(UserWarning, match="did not record its weights' SHA-256"):
        assert load_checkpoint(MAML(sine_net()), tmp_path / "a" / "last")["iteration"] == 2


def test_seeded_fit_leaves_the_callers_torch_stream():
    """fit(seed=...) re-seeded torch's global generator and left it so: the caller's
    draws after it were the trainer seed's. The seed holds inside fit only (its dropout
    draws repeat), and the caller's stream goes on as if fit had not run."""
    def fitted() -> dict[str, torch.Tensor]:
        torch.manual_seed(1)
        learner = ProtoNet(nn.Sequential(nn.Linear(64, 16), nn.Dropout(0.5)))
        MetaTrainer(learner, iterations=3, meta_batch_size=2, seed=0, progress=False).fit(
            ClassificationTasks(*_digits(), n_way=2, seed=0))
        return {k: v.clone() for k, v in learner.state_dict().items()}

    torch.manual_seed(123)
    expected = torch.rand(3)
    first = fitted()
    torch.manual_seed(123)
    trainer = MetaTrainer(MetaSGD(sine_net(), lr=0.01), iterations=2, meta_batch_size=2,
                          seed=0, progress=False)
    torch.manual_seed(123)
    trainer.fit(SinusoidTasks(k_shot=5, seed=0))
    assert torch.equal(torch.rand(3), expected)
    second = fitted()
    assert all(torch.equal(first[k], second[k]) for k in first)


class _StopsAt(SinusoidTasks):
    """Sinusoid episodes whose ``at``-th draw is a Ctrl-C (None: never)."""

    def __init__(self, at: int | None) -> None:
        super().__init__(seed=0)
        self.at, self.draws = at, 0

    def sample(self, n_tasks: int) -> Episodes:
        self.draws += 1
        if self.draws == self.at:
            raise KeyboardInterrupt
        return super().sample(n_tasks)


def test_a_fit_resumed_after_ctrl_c_with_adam_is_the_unbroken_one(tmp_path):
    """A resume restarted Adam's moments: after a Ctrl-C the resumed run's parameters
    and losses were not those of the unbroken run of the same seed."""
    def trainer(directory, optimizer="adam") -> MetaTrainer:
        return MetaTrainer(MetaSGD(sine_net()), iterations=8, meta_batch_size=2,
                           eval_every=2, optimizer=optimizer, lr=0.01,
                           checkpoint_dir=directory, progress=False, seed=0)

    unbroken = trainer(tmp_path / "a").fit(_StopsAt(None))
    with pytest.raises(KeyboardInterrupt):
        trainer(tmp_path / "b").fit(_StopsAt(6))  # `last` holds iteration 4
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        resumed = trainer(tmp_path / "b").fit(_StopsAt(None), resume=True)
    assert resumed.history_ == unbroken.history_
    for name, value in unbroken.learner.state_dict().items():
        assert torch.equal(resumed.learner.state_dict()[name], value), name
    with pytest.warns(UserWarning, match="outer optimiser's state .* restarts"):
        trainer(tmp_path / "b", optimizer="sgd").fit(_StopsAt(None), resume=True)
