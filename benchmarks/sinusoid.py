"""Sinusoid regression as in the MAML and Meta-SGD papers.

Tasks: ``y = A sin(x - phase)``, A in [0.1, 5], phase in [0, pi], x in [-5, 5];
learner: MLP 1-40-40-1 with ReLU; one inner step at test time; K = 5, 10, 20 shots
(one model trained per K, as in the Meta-SGD paper). Prints the post-adaptation MSE
on 600 test tasks (100 query points each) with 95% intervals, next to the published
numbers.

    python benchmarks/sinusoid.py --quick            # about 15 s
    python benchmarks/sinusoid.py --iterations 5000  # longer, closer to the papers
"""

from __future__ import annotations

import argparse
import math
import time

import torch
from torch import nn

from metaopt.meta import ANIL, MAML, MAMLpp, MetaSGD, MetaTrainer, Reptile, SinusoidTasks

# Meta-SGD paper (Li et al., 2017), Table 1: mean MSE with 95% confidence intervals.
PAPER = {
    "MAML": {5: "1.13 ± 0.18", 10: "0.77 ± 0.11", 20: "0.48 ± 0.08"},
    "Meta-SGD": {5: "0.90 ± 0.16", 10: "0.53 ± 0.09", 20: "0.31 ± 0.05"},
}
TEST_TASKS = 600
QUERY_POINTS = 100
META_BATCH = 25
INNER_LR = 0.01


def mlp() -> nn.Module:
    return nn.Sequential(
        nn.Linear(1, 40), nn.ReLU(), nn.Linear(40, 40), nn.ReLU(), nn.Linear(40, 1)
    )


def learners(iterations: int) -> dict[str, nn.Module]:
    return {
        "MAML": MAML(mlp(), lr=INNER_LR, steps=1),
        "FOMAML": MAML(mlp(), lr=INNER_LR, steps=1, first_order=True),
        # Reptile trains with several SGD steps; tested with one step at its inner lr.
        "Reptile": Reptile(mlp(), lr=0.02, steps=5),
        "ANIL": ANIL(mlp(), lr=INNER_LR, steps=1),
        # one inner step (as at test): LSLR + derivative-order annealing; MSL needs > 1 step.
        "MAML++": MAMLpp(mlp(), lr=INNER_LR, steps=1, first_order_iterations=iterations // 5),
        "Meta-SGD": MetaSGD(mlp(), lr=INNER_LR, steps=1),
    }


def evaluate(learner, episodes) -> tuple[float, float]:
    """Mean and 95% half-width of the per-task query MSE after one inner step."""
    with torch.no_grad():
        params = learner.adapt(episodes.support_x, episodes.support_y, steps=1)
        pred = learner.predict(params, episodes.query_x)
    mse = (pred - episodes.query_y).pow(2).mean(dim=(1, 2))
    return float(mse.mean()), 1.96 * float(mse.std()) / math.sqrt(len(mse))


def pretrain_baseline(k_shot: int, iterations: int, test, seed: int) -> tuple[float, float]:
    """Regress on all training tasks pooled, then fine-tune one SGD step (lr 0.01) per test task."""
    torch.manual_seed(seed)
    net = mlp()
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-3)
    stream = SinusoidTasks(k_shot=k_shot, n_query=10, seed=seed)
    for _ in range(iterations):
        ep = stream.sample(META_BATCH)
        x = torch.cat([ep.support_x, ep.query_x], dim=1)
        y = torch.cat([ep.support_y, ep.query_y], dim=1)
        optimizer.zero_grad()
        nn.functional.mse_loss(net(x), y).backward()
        optimizer.step()
    # fine-tuning one plain SGD step is exactly MAML's adaptation with the pretrained weights
    return evaluate(MAML(net, lr=INNER_LR, steps=1), test)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=5000, help="outer iterations per model")
    parser.add_argument("--shots", type=int, nargs="+", default=[5, 10, 20])
    parser.add_argument("--quick", action="store_true", help="600 iterations, K=10 only")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    if args.quick:
        args.iterations, args.shots = 600, [10]
    torch.set_num_threads(args.threads)

    rows = []
    for k in args.shots:
        test = SinusoidTasks(k_shot=k, n_query=QUERY_POINTS, seed=10_000 + k).sample(TEST_TASKS)
        torch.manual_seed(args.seed)
        for name, learner in learners(args.iterations).items():
            start = time.perf_counter()
            trainer = MetaTrainer(
                learner,
                iterations=args.iterations,
                meta_batch_size=META_BATCH,
                lr=1e-3,
                eval_every=max(args.iterations // 10, 1),
                valid_tasks_count=200,
                seed=args.seed,
                progress=False,
            )
            trainer.fit(
                SinusoidTasks(k_shot=k, n_query=10, seed=args.seed + k),
                SinusoidTasks(k_shot=k, n_query=QUERY_POINTS, seed=5_000 + k),
            )
            mean, half = evaluate(learner, test)
            rows.append((k, name, mean, half, time.perf_counter() - start))
            print(f"K={k:2d} {name:9s} {mean:.3f} ± {half:.3f}  ({rows[-1][-1]:.0f}s)", flush=True)
        start = time.perf_counter()
        mean, half = pretrain_baseline(k, args.iterations, test, args.seed)
        rows.append((k, "pretrain", mean, half, time.perf_counter() - start))
        print(f"K={k:2d} pretrain  {mean:.3f} ± {half:.3f}  ({rows[-1][-1]:.0f}s)", flush=True)

    print(f"\nSinusoid regression, post-adaptation MSE (1 inner step), {TEST_TASKS} test tasks, "
          f"{args.iterations} outer iterations x {META_BATCH} tasks, 95% intervals")  # fmt: skip
    print(
        f"{'method':10s}"
        + "".join(f"{f'K={k} (ours)':>18s}{f'K={k} (paper)':>15s}" for k in args.shots)
    )
    for name in [*learners(1), "pretrain"]:
        cells = ""
        for k in args.shots:
            mean, half = next((m, h) for kk, n, m, h, _ in rows if kk == k and n == name)
            cells += f"{f'{mean:.3f} ± {half:.3f}':>18s}{PAPER.get(name, {}).get(k, '-'):>15s}"
        print(f"{name:10s}{cells}")


if __name__ == "__main__":
    main()
