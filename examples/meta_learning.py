"""Meta-SGD vs MAML on sinusoid regression, the classic meta-learning problem.

    python examples/meta_learning.py                 # 2000 meta-iterations, ~20 s
    python examples/meta_learning.py --iterations 200 --out runs/sine

Meta-trains both learners on 10-shot sine tasks (amplitude in [0.1, 5], phase in
[0, pi]), with early stopping on meta-validation tasks and checkpoints. Then, on 600
unseen tasks: the query MSE before and after one inner step (at 2000 iterations Meta-SGD
adapts to about a third of MAML's error, ~0.33 against ~1.0), and what Meta-SGD learned
as inner learning rates, per layer. No data needed: the tasks are generated.

Writes, under ``--out`` (``runs/meta_learning/`` in the current directory by default):
``history.png`` (inner vs outer loss per step: the gap is how you spot
meta-overfitting), ``adaptation.png`` (one unseen task, both learners adapted from its
10 points) and each learner's checkpoints (``MAML/``, ``Meta-SGD/``: ``best`` and
``last``, JSON + safetensors).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402

from metaopt.meta import MAML, MetaSGD, MetaTrainer, SinusoidTasks  # noqa: E402


def sine_net() -> nn.Module:
    return nn.Sequential(nn.Linear(1, 40), nn.ReLU(), nn.Linear(40, 40), nn.ReLU(),
                         nn.Linear(40, 1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=2000)
    parser.add_argument("--out", default="runs/meta_learning")
    args = parser.parse_args()
    out = Path(args.out)
    torch.manual_seed(0)
    test = SinusoidTasks(k_shot=10, n_query=100, seed=2).sample(600)

    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    learners = {"MAML": MAML(sine_net(), lr=0.01, steps=1),
                "Meta-SGD": MetaSGD(sine_net(), lr=0.01, steps=1)}
    for ax, (name, learner) in zip(axes, learners.items(), strict=True):
        trainer = MetaTrainer(learner, iterations=args.iterations, meta_batch_size=25,
                              lr=1e-3, eval_every=max(args.iterations // 10, 1), patience=5,
                              checkpoint_dir=out / name, seed=0, progress=False)
        trainer.fit(SinusoidTasks(k_shot=10, seed=0), SinusoidTasks(k_shot=10, seed=1))
        trainer.plot_history(ax=ax)
        ax.set_title(f"{name}: inner (support) vs outer (query) loss")
        test = test.to(trainer.device_)  # where fit left the learner (a GPU when present)
        with torch.no_grad():  # adapt still computes the inner gradients
            before = learner.module(test.query_x)  # the meta-learned initialisation
            after = learner.predict(learner.adapt(test.support_x, test.support_y),
                                    test.query_x)
        mse = [float(((p - test.query_y) ** 2).mean()) for p in (before, after)]
        print(f"{name:9s} query MSE on 600 unseen tasks: {mse[0]:.3f} before adaptation, "
              f"{mse[1]:.3f} after one inner step (best meta-validation at iteration "
              f"{trainer.best_iteration_})")
    fig.tight_layout()
    fig.savefig(out / "history.png", dpi=110)

    print("\nMeta-SGD's learned inner learning rates (initialised to 0.01), per layer:")
    for layer, lrs in learners["Meta-SGD"].learning_rates().items():
        print(f"  {layer:9s} mean {lrs.mean():+.4f}  min {lrs.min():+.4f}  max {lrs.max():+.4f}")

    # one unseen task: the meta-learned initialisation and its adaptation from 10 points
    x = torch.linspace(-5, 5, 200).reshape(1, -1, 1)
    task = SinusoidTasks(k_shot=10, n_query=200, seed=3).sample(1)
    on_device = task.to(trainer.device_)
    order = task.query_x[0, :, 0].argsort()
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(task.query_x[0, order, 0], task.query_y[0, order, 0], "k-", label="true")
    ax.plot(task.support_x[0, :, 0], task.support_y[0, :, 0], "k^", label="10 shots")
    for name, learner in learners.items():
        with torch.no_grad():
            pred = learner.predict(learner.adapt(on_device.support_x, on_device.support_y),
                                   x.to(trainer.device_)).cpu()
        ax.plot(x[0, :, 0], pred[0, :, 0], label=name)
    ax.set(title="one unseen task: one inner step from 10 shots", xlabel="x", ylabel="y")
    ax.legend()
    fig.tight_layout()
    fig.savefig(out / "adaptation.png", dpi=110)
    print(f"\nwrote {out / 'history.png'}, {out / 'adaptation.png'} and the checkpoints "
          f"(best and last) in {out / 'MAML'} and {out / 'Meta-SGD'}")


if __name__ == "__main__":
    main()
