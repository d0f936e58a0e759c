"""Speed of the regularization strategies: Fisher computation and per-iteration overhead over naive.

1. Diagonal Fisher of an MLP 2x400 (784 inputs, 10 outputs) on the same N samples, three ways: a
   per-sample loop (one backward per sample and label), ``vmap`` (torch.func.vmap over
   torch.func.grad) and ``factored`` (per-sample outer products of Linear layers, never
   materialized);
   all three must agree (max relative difference reported).
2. Time of one training iteration (loss + backward + Adam step + hooks) on Split MNIST Task-IL,
   MLP 2x400, batch 128, while learning the second task (penalties / teacher active), relative to
   naive. Methods are interleaved round-robin and the median per method is reported, so load from
   other processes affects all alike.

Usage: ``python bench/regularization_speed.py [--quick]`` (writes the ``regularization-speed``
section of docs/benchmarks.md).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._docs import update_section  # noqa: E402
from lifelong import RunConfig  # noqa: E402
from lifelong.components.fisher import diagonal_fisher  # noqa: E402
from lifelong.core.learner import Learner  # noqa: E402
from lifelong.core.runner import build_strategy, resolve  # noqa: E402
from lifelong.core.strategy import Batch  # noqa: E402
from lifelong.data.scenarios import build_scenario  # noqa: E402
from lifelong.models.networks import MLP  # noqa: E402

METHODS = ["naive", "ewc", "online-ewc", "si", "mas", "lwf"]


def loop_fisher(model, x, y, mask, mode):
    total = {n: torch.zeros_like(p) for n, p in model.named_parameters()}
    params = list(model.parameters())
    for i in range(len(x)):
        log_p = F.log_softmax(model(x[i : i + 1]).masked_fill(~mask[i : i + 1], -1e9), 1)[0]
        labels = mask[i].nonzero().flatten().tolist() if mode == "exact" else [int(y[i])]
        for c in labels:
            w = log_p[c].exp().detach() if mode == "exact" else 1.0
            grads = torch.autograd.grad(log_p[c], params, retain_graph=True)
            for (n, _), g in zip(model.named_parameters(), grads, strict=True):
                total[n] += w * g * g
    return {n: t / len(x) for n, t in total.items()}


def timed(fn, repeats: int):
    best, out = float("inf"), None
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - start)
    return best, out


def fisher_table(samples: int, repeats: int) -> str:
    torch.manual_seed(0)
    model = MLP(784, (400, 400), 10)
    x = torch.rand(samples, 1, 28, 28)
    y = torch.randint(0, 10, (samples,))
    mask = torch.ones(samples, 10, dtype=torch.bool)
    rows = [
        "| mode | samples | per-sample loop (s) | vmap (s) | factored (s) | speed-up vmap | "
        "speed-up factored | max rel. difference |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for mode in ("empirical", "exact"):
        t_loop, ref = timed(lambda mode=mode: loop_fisher(model, x, y, mask, mode), 1)
        t_vmap, vm = timed(
            lambda mode=mode: diagonal_fisher(
                model, x, y, mask, mode, method="vmap", chunk_size=32
            ),
            repeats,
        )
        t_fact, fa = timed(
            lambda mode=mode: diagonal_fisher(model, x, y, mask, mode, method="factored"), repeats
        )
        diff = max(
            float((r[n] - ref[n]).abs().max() / ref[n].abs().max()) for r in (vm, fa) for n in ref
        )
        rows.append(
            f"| {mode} | {samples} | {t_loop:.2f} | {t_vmap:.2f} | {t_fact:.3f} | "
            f"{t_loop / t_vmap:.1f}x | {t_loop / t_fact:.0f}x | {diff:.1e} |"
        )
    return "\n".join(rows)


def overhead_table(rounds: int, steps: int) -> str:
    os.environ.setdefault(
        "LIFELONG_DATA", str(Path(__file__).resolve().parents[2] / "shared" / "data")
    )
    scenario = build_scenario("split-mnist", "task", num_tasks=5, seed=0)
    learners = {}
    for name in METHODS:
        config = resolve(
            RunConfig.of(
                benchmark="split-mnist",
                setting="task",
                strategy=name,
                iterations=10,
                hidden=(400, 400),
                batch_size=128,
                threads=1,
            )
        )
        strategy = build_strategy(config, scenario, torch.device("cpu"))
        strategy.context.tasks_seen = 1
        strategy.after_task(scenario[0])  # as after the first task: penalty / teacher active
        strategy.context.tasks_seen = 2
        strategy.before_task(scenario[1])
        learner = Learner.from_config(strategy, config)
        learner._ensure_optimizer(fresh=True)
        learners[name] = learner
    task = scenario[1]
    generator = torch.Generator().manual_seed(0)
    batches = []
    for _ in range(steps):
        idx = task.train_indices[
            torch.randint(len(task.train_indices), (128,), generator=generator)
        ]
        ids = torch.ones(128, dtype=torch.long)
        batches.append(Batch(*scenario.train_batch(ids, idx), ids))
    times: dict[str, list[float]] = {name: [] for name in METHODS}
    for _ in range(rounds):
        for name, learner in learners.items():
            start = time.perf_counter()
            for batch in batches:
                learner._train_step(batch)
            times[name].append((time.perf_counter() - start) / steps)
    base = statistics.median(times["naive"])
    target = {"ewc": 25, "online-ewc": 25, "mas": 25, "si": 40}
    rows = [
        "| strategy | ms / iteration (median) | overhead vs naive | target | met |",
        "|---|---|---|---|---|",
    ]
    for name in METHODS:
        t = statistics.median(times[name])
        overhead = 100 * (t / base - 1)
        goal, met = "", ""
        if name in target:
            goal, met = f"< {target[name]}%", "yes" if overhead < target[name] else "**no**"
        rows.append(f"| {name} | {1e3 * t:.2f} | {overhead:+.1f}% | {goal} | {met} |")
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    samples, repeats, rounds, steps = (32, 1, 2, 5) if args.quick else (256, 3, 7, 20)
    load_before = os.getloadavg()[0]
    fisher = fisher_table(samples, repeats)
    print(fisher, flush=True)
    overhead = overhead_table(rounds, steps)
    print(overhead, flush=True)
    load_after = os.getloadavg()[0]
    text = (
        f"Measured with `python bench/regularization_speed.py` ({args.threads} thread, "
        f"torch {torch.__version__}, a {os.cpu_count()}-core machine; load average over the last "
        f"minute {load_before:.1f} at the start, {load_after:.1f} at the end).\n\n"
        f"**Diagonal Fisher, MLP 2x400 (784-400-400-10), same samples** (best of {repeats}; "
        "the loop "
        f"runs once):\n\n{fisher}\n\n**Per-iteration time, Split MNIST Task-IL, MLP 2x400, "
        "batch 128, "
        f"second task** (median of {rounds} interleaved rounds of {steps} iterations):"
        f"\n\n{overhead}\n"
    )
    update_section("docs/benchmarks.md", "regularization-speed", text)


if __name__ == "__main__":
    main()
