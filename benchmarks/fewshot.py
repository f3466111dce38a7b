"""Few-shot classification on real data: 5-way 1-shot and 5-shot episodes.

Classes of each dataset are split into meta-train and meta-test classes (disjoint);
every learner is meta-trained on meta-train episodes and evaluated on the SAME 600
meta-test episodes (15 queries per class) as a 1-nearest-neighbour baseline on the
globally rescaled raw features. Accuracy with 95% intervals.

Class augmentation (default; ``--no-augment`` turns it off): each meta-train class
becomes 8 classes, its images under the 8 symmetries of the square (4 rotations by
90 degrees, each with and without a mirror image). This is the Omniglot protocol of the
MAML, Matching and Prototypical network papers (rotations by multiples of 90 degrees as
new classes), with mirror images added; digit tables otherwise leave only 5 meta-train
classes, and every training episode would hold the same 5. It applies where the
features have that geometry: 8x8 images (``digits``, ``optdigits``) and 8 pen positions
``(x, y)`` on a 0-100 grid (``pendigits``). Test episodes are never augmented.

Datasets: scikit-learn's bundled ``load_digits`` and pmlb tables from
``$METAOPT_SHARED_DATA/pmlb`` (``<name>/<name>.tsv.gz``, ``target`` column).
8x8 digit images get a small conv encoder, other tables an MLP.

    python benchmarks/fewshot.py --quick                     # digits, 5-shot, short
    python benchmarks/fewshot.py --datasets digits optdigits pendigits
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np
import pandas as pd
import torch
from _common import SHARED_DATA  # benchmarks/_common.py, beside this script
from sklearn.datasets import load_digits
from torch import nn

from metaopt.meta import (
    MAML,
    ClassificationTasks,
    MatchingNet,
    MetaSGD,
    MetaTrainer,
    ProtoNet,
    RelationNet,
    split_labels,
)

PMLB = SHARED_DATA / "pmlb"
N_WAY, N_QUERY, TEST_EPISODES = 5, 15, 600
# MAML / Meta-SGD: 5 inner steps in meta-training, 10 at test, as in the MAML paper's
# miniImagenet protocol. 2 steps of lr 0.4 did not even fit the support set (86% support
# accuracy at 5 shots), which is why they used to gain nothing from 5 shots over 1.
TEST_STEPS = 10


def load(name: str) -> tuple[np.ndarray, np.ndarray]:
    if name == "digits":
        return load_digits(return_X_y=True)
    table = pd.read_csv(PMLB / name / f"{name}.tsv.gz", sep="\t")
    return table.drop(columns="target").to_numpy(float), table["target"].to_numpy()


def square_symmetries(X: np.ndarray, name: str) -> list[np.ndarray] | None:
    """``X`` under the 8 symmetries of the square, identity first; ``None`` when the
    features are neither 8x8 images nor pendigits' pen positions."""
    if X.shape[1] == 64:
        images = X.reshape(-1, 8, 8)
        views = [
            np.rot90(m, r, axes=(1, 2)) for m in (images, images[:, :, ::-1]) for r in range(4)
        ]
        return [v.reshape(len(X), 64) for v in views]
    if name != "pendigits":
        return None
    views = []
    for x, y in ((X[:, 0::2], X[:, 1::2]), (100 - X[:, 0::2], X[:, 1::2])):
        for _ in range(4):
            views.append(np.stack([x, y], axis=-1).reshape(len(X), 16))
            x, y = y, 100 - x  # a quarter turn of the 0-100 square
    return views


def augment_classes(X: np.ndarray, y: np.ndarray, name: str) -> tuple[np.ndarray, np.ndarray]:
    """Each class under each symmetry becomes a class of its own (labels ``8 * c + g``)."""
    views = square_symmetries(X, name)
    if views is None:
        return X, y
    codes = np.unique(y, return_inverse=True)[1]
    return np.concatenate(views), np.concatenate([8 * codes + g for g in range(len(views))])


class ConvEncoder(nn.Module):
    """Two 3x3 conv layers on 8x8 images, max-pooled to 4x4, flattened (512 features)."""

    def __init__(self, channels: int = 32) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(1, channels, 3, padding=1), nn.ReLU(),
            nn.Conv2d(channels, channels, 3, padding=1), nn.ReLU(),
            nn.MaxPool2d(2), nn.Flatten(),
        )  # fmt: skip

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x.reshape(-1, 1, 8, 8))


class SkipEncoder(nn.Module):
    """``[x, body(x)]``: learned features next to the raw ones, so an embedding fitted to
    the few meta-train classes cannot discard what separates unseen classes."""

    def __init__(self, body: nn.Module) -> None:
        super().__init__()
        self.body = body

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([x.flatten(1), self.body(x)], dim=1)


def encoder(n_features: int) -> nn.Module:
    if n_features == 64:
        return SkipEncoder(ConvEncoder())
    return SkipEncoder(nn.Sequential(nn.Linear(n_features, 256), nn.ReLU(), nn.Linear(256, 128)))


def embedding_dim(module: nn.Module, n_features: int) -> int:
    with torch.no_grad():
        return module(torch.zeros(2, n_features)).shape[-1]


def learners(n_features: int) -> dict[str, nn.Module]:
    def classifier() -> nn.Module:
        enc = encoder(n_features)
        return nn.Sequential(enc, nn.Linear(embedding_dim(enc, n_features), N_WAY))

    rel = encoder(n_features)
    return {
        "ProtoNet": ProtoNet(encoder(n_features)),
        "MatchingNet": MatchingNet(encoder(n_features)),
        "RelationNet": RelationNet(rel, embedding_dim=embedding_dim(rel, n_features)),
        "MAML": MAML(classifier(), lr=0.1, steps=5, loss_fn="cross_entropy"),
        "Meta-SGD": MetaSGD(classifier(), lr=0.1, steps=5, loss_fn="cross_entropy"),
    }


def raw_baselines(ep) -> dict[str, torch.Tensor]:
    """Predictions without learning, on the rescaled raw features: ``1-NN`` (the bar every
    learner must clear) and the nearest class mean (``centroid``: a ProtoNet whose
    encoder is the identity, the prototype bias alone)."""
    nearest = torch.cdist(ep.query_x, ep.support_x).argmin(-1)
    one_hot = nn.functional.one_hot(ep.support_y, N_WAY).float()
    means = one_hot.transpose(1, 2) @ ep.support_x / one_hot.sum(1)[..., None]
    return {
        "1-NN": ep.support_y.gather(1, nearest),
        "centroid": torch.cdist(ep.query_x, means).argmin(-1),
    }


def accuracy(correct: torch.Tensor) -> tuple[float, float]:
    per_episode = correct.float().mean(dim=1)
    return float(per_episode.mean()), 1.96 * float(per_episode.std()) / math.sqrt(len(per_episode))


def predict(learner: nn.Module, ep) -> torch.Tensor:
    with torch.no_grad():
        if isinstance(learner, MAML | MetaSGD):
            params = learner.adapt(ep.support_x, ep.support_y, steps=TEST_STEPS)
            return learner.predict(params, ep.query_x).argmax(-1)
        return learner.predict(ep.support_x, ep.support_y, ep.query_x)


def run(name: str, shots: list[int], iterations: int, seed: int, augment: bool) -> list[tuple]:
    X, y = load(name)
    train_classes, test_classes = split_labels(y, fractions=(0.5, 0.5), seed=seed)
    train_rows = np.isin(y, train_classes)
    train_X, train_y = X[train_rows], y[train_rows]
    if augment:
        train_X, train_y = augment_classes(train_X, train_y, name)
    # one global scale from meta-train rows: per-feature standardisation would blow up the
    # near-constant border pixels of the digit images
    mean, std = X[train_rows].mean(), X[train_rows].std()
    X = ((X - mean) / std).astype(np.float32)
    train_X = ((train_X - mean) / std).astype(np.float32)
    rows = []
    for k in shots:
        test = ClassificationTasks(
            X, y, n_way=N_WAY, k_shot=k, n_query=N_QUERY, classes=test_classes, seed=seed + 1
        ).sample(TEST_EPISODES)
        for method, predicted in raw_baselines(test).items():
            rows.append((name, k, method, *accuracy(predicted == test.query_y), 0.0))
            print(f"{name} {k}-shot {method:12s} {rows[-1][3]:.3f} ± {rows[-1][4]:.3f}", flush=True)
        torch.manual_seed(seed)
        for method, learner in learners(X.shape[1]).items():
            start = time.perf_counter()
            train = ClassificationTasks(
                train_X, train_y, n_way=N_WAY, k_shot=k, n_query=N_QUERY, seed=seed
            )
            MetaTrainer(
                learner,
                iterations=iterations,
                meta_batch_size=16,
                lr=1e-3,
                seed=seed,
                progress=False,
            ).fit(train)
            learner.eval()
            acc = accuracy(predict(learner, test) == test.query_y)
            rows.append((name, k, method, *acc, time.perf_counter() - start))
            print(
                f"{name} {k}-shot {method:12s} {acc[0]:.3f} ± {acc[1]:.3f} ({rows[-1][-1]:.0f}s)",
                flush=True,
            )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=["digits", "optdigits", "pendigits"])
    parser.add_argument("--shots", type=int, nargs="+", default=[1, 5])
    parser.add_argument("--iterations", type=int, default=600)
    parser.add_argument(
        "--no-augment", dest="augment", action="store_false", help="meta-train classes as they are"
    )
    parser.add_argument("--quick", action="store_true", help="digits, 5-shot, 50 iterations")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    if args.quick:
        args.datasets, args.shots, args.iterations = ["digits"], [5], 50
    torch.set_num_threads(args.threads)
    rows = [
        row
        for name in args.datasets
        for row in run(name, args.shots, args.iterations, args.seed, args.augment)
    ]
    print(
        f"\n{N_WAY}-way accuracy on {TEST_EPISODES} meta-test episodes ({N_QUERY} queries/class), "
        f"held-out classes, {args.iterations} meta-iterations x 16 episodes, 95% intervals, "
        f"meta-train classes {'augmented by the square symmetries' if args.augment else 'as they are'}"
    )
    methods = list(dict.fromkeys(r[2] for r in rows))
    settings = list(dict.fromkeys((r[0], r[1]) for r in rows))
    print(f"{'method':12s}" + "".join(f"{f'{d} {k}-shot':>20s}" for d, k in settings))
    for method in methods:
        cells = ""
        for d, k in settings:
            mean, half = next((r[3], r[4]) for r in rows if r[:3] == (d, k, method))
            cells += f"{f'{mean:.3f} ± {half:.3f}':>20s}"
        print(f"{method:12s}{cells}")


if __name__ == "__main__":
    main()
