"""Meta-gradient throughput: vmap-ed ``metaopt.meta.MAML`` vs a per-task Python loop.

One outer step = inner adaptation of every task of a meta-batch + the meta-gradient
(``backward`` of the mean query loss). Compared in the same environment:

* ``vmap``   -- ``MAML.meta_loss(...).backward()`` (torch.func: functional_call + grad + vmap);
* ``loop``   -- learn2learn style: for each task, ``torch.autograd.grad(create_graph=not
  first_order)`` inner steps on a parameter list, then ``backward`` of its query loss;
* ``compiled`` (``--compile``) -- ``vmap`` after ``MAML.compile_meta_loss()``
  (``torch.compile``); its peak memory includes the compiler's;
* ``higher`` -- the same loop with ``higher.innerloop_ctx`` (when ``higher`` is installed).

Each (implementation, configuration) runs in a fresh subprocess, so the peak memory
column (``ru_maxrss`` growth after a one-task warm-up that triggers lazy imports) is
not polluted by earlier runs.

    python benchmarks/meta_speed.py            # full table
    python benchmarks/meta_speed.py --quick    # sinusoid MLP only
    python benchmarks/meta_speed.py --compile --threads 2
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time

import torch
from torch import nn
from torch.func import functional_call

from metaopt.meta import MAML

SHOTS = 10


def build(model: str) -> tuple[nn.Module, int]:
    if model == "sinusoid":
        return nn.Sequential(
            nn.Linear(1, 40), nn.ReLU(), nn.Linear(40, 40), nn.ReLU(), nn.Linear(40, 1)
        ), 1
    width, d_in = 256, 32
    layers = [nn.Linear(d_in, width), nn.ReLU()]
    for _ in range(2):
        layers += [nn.Linear(width, width), nn.ReLU()]
    return nn.Sequential(*layers, nn.Linear(width, 1)), d_in  # 4 linear layers, width 256


def make_vmap(net, steps, first_order, lr, compile_loss=False):
    maml = MAML(net, lr=lr, steps=steps, first_order=first_order)
    if compile_loss:
        maml.compile_meta_loss()
    return lambda batch: maml.meta_loss(*batch).backward()


def make_loop(net, steps, first_order, lr):
    names = [n for n, _ in net.named_parameters()]

    def step(batch):
        sx, sy, qx, qy = batch
        for t in range(sx.shape[0]):
            params = [p for _, p in net.named_parameters()]
            for _ in range(steps):
                pred = functional_call(net, dict(zip(names, params, strict=True)), (sx[t],))
                grads = torch.autograd.grad(
                    nn.functional.mse_loss(pred, sy[t]), params, create_graph=not first_order
                )
                params = [p - lr * g for p, g in zip(params, grads, strict=True)]
            pred = functional_call(net, dict(zip(names, params, strict=True)), (qx[t],))
            (nn.functional.mse_loss(pred, qy[t]) / sx.shape[0]).backward()

    return step


def make_higher(net, steps, first_order, lr):
    import higher

    inner = torch.optim.SGD(net.parameters(), lr=lr)

    def step(batch):
        sx, sy, qx, qy = batch
        for t in range(sx.shape[0]):
            with higher.innerloop_ctx(
                net, inner, copy_initial_weights=False, track_higher_grads=not first_order
            ) as (fnet, diffopt):
                for _ in range(steps):
                    diffopt.step(nn.functional.mse_loss(fnet(sx[t]), sy[t]))
                (nn.functional.mse_loss(fnet(qx[t]), qy[t]) / sx.shape[0]).backward()

    return step


IMPLEMENTATIONS = {
    "vmap": make_vmap,
    "compiled": lambda *args: make_vmap(*args, compile_loss=True),
    "loop": make_loop,
    "higher": make_higher,
}


def worker(config: dict) -> dict:
    torch.set_num_threads(config["threads"])
    torch.manual_seed(0)
    net, d_in = build(config["model"])
    tasks = config["tasks"]
    batch = [torch.randn(tasks, SHOTS, d_in), torch.randn(tasks, SHOTS, 1)] * 2
    make = IMPLEMENTATIONS[config["impl"]]
    make(net, 1, config["first_order"], 0.01)([t[:1] for t in batch])  # lazy imports, one task
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    step = make(net, config["steps"], config["first_order"], 0.01)
    start = time.perf_counter()
    for _ in range(2):  # warm-up (and compilation)
        net.zero_grad()
        step(batch)
    warmup = time.perf_counter() - start
    times = []
    deadline = time.perf_counter() + config["seconds"]
    while len(times) < 3 or (time.perf_counter() < deadline and len(times) < 50):
        net.zero_grad()
        start = time.perf_counter()
        step(batch)
        times.append(time.perf_counter() - start)
    times.sort()
    median = times[len(times) // 2]
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base
    return {
        "tasks_per_s": tasks / median, "ms": 1000 * median, "peak_mb": peak / 1024,
        "warmup_s": warmup,
    }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=32, help="meta-batch size")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seconds", type=float, default=3.0, help="timing budget per cell")
    parser.add_argument("--quick", action="store_true", help="sinusoid MLP only")
    parser.add_argument(
        "--compile", action="store_true", help="also time MAML.compile_meta_loss() ('compiled')"
    )
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(json.loads(args.worker))))
        return
    impls = ["vmap", "compiled", "loop"] if args.compile else ["vmap", "loop"]
    try:
        import higher  # noqa: F401

        impls.append("higher")
    except ImportError:
        pass
    models = ["sinusoid"] if args.quick else ["sinusoid", "mlp256x4"]
    print(
        f"meta-batch {args.tasks} tasks, {SHOTS} support + {SHOTS} query points, "
        f"{args.threads} thread(s), median outer step; peak = ru_maxrss growth (MB)"
    )
    header = f"{'model':9s} {'steps':>5s} {'order':>6s}"
    for impl in impls:
        header += f" {impl + ' tasks/s':>15s} {'peak':>6s}"
    ratios = [impl for impl in impls if impl in ("vmap", "compiled")]
    print(header + "".join(f" {impl + '/loop':>13s}" for impl in ratios))
    for model in models:
        for steps in (1, 5):
            for first_order in (False, True):
                cells, results = "", {}
                for impl in impls:
                    config = {
                        "model": model, "steps": steps, "first_order": first_order, "impl": impl,
                        "tasks": args.tasks, "threads": args.threads, "seconds": args.seconds,
                    }  # fmt: skip
                    out = subprocess.run(
                        [sys.executable, __file__, "--worker", json.dumps(config)],
                        capture_output=True, text=True, check=True,
                    )  # fmt: skip
                    results[impl] = json.loads(out.stdout.strip().splitlines()[-1])
                    cells += (
                        f" {results[impl]['tasks_per_s']:15.0f} {results[impl]['peak_mb']:6.0f}"
                    )
                for impl in ratios:
                    speedup = results[impl]["tasks_per_s"] / results["loop"]["tasks_per_s"]
                    cells += f" {speedup:12.1f}x"
                if args.compile:
                    cells += f"  (compilation {results['compiled']['warmup_s']:.0f} s)"
                order = "first" if first_order else "second"
                print(f"{model:9s} {steps:5d} {order:>6s}{cells}", flush=True)


if __name__ == "__main__":
    main()
