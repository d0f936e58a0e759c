"""Per-iteration cost of the replay and gradient-episodic methods, and the buffers' memory.

Protocol: Permuted MNIST in the class-incremental setting (20 tasks, 200 output units, so every
method including iCaRL applies), MLP 784-400-400-200, Adam, batch 128, one torch thread. Each
strategy is put in the state it has while learning the 20th task: its memory filled with examples of
the 19 earlier tasks (GEM and A-GEM: 250 per task, 5000 in total; ER, iCaRL, DER, DER++: a
5120-example reservoir), its frozen copies marked ready. Then ``--steps`` training steps (loss,
backward, after_backward, optimizer step, after_step) on task 20 batches are timed in CPU time
(``time.process_time``, robust to other processes sharing the machine), after 3 warm-up steps.
The sampling cost is ``ReplayBuffer.sample(128)`` from the full 5120-example buffer, against one
naive training step.

    python bench/replay_speed.py [--steps 20] [--threads 1]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._docs import ROOT, update_section  # noqa: E402
from lifelong import RunConfig  # noqa: E402
from lifelong.core.runner import build_strategy, resolve  # noqa: E402
from lifelong.core.strategy import Batch, Strategy  # noqa: E402
from lifelong.data.scenarios import Scenario, build_scenario  # noqa: E402

os.environ.setdefault("LIFELONG_DATA", str(ROOT.parent / "shared" / "data"))
TASKS = 20
METHODS = {
    "naive": {},
    "er": {"buffer_size": 5120, "replay_batch_size": 128},
    "agem": {"buffer_size": 250 * TASKS, "replay_batch_size": 256},
    "gem": {"buffer_size": 250 * TASKS},
    "icarl": {"buffer_size": 5120, "replay_batch_size": 128},
    "der": {"buffer_size": 5120, "replay_batch_size": 128},
    "derpp": {"buffer_size": 5120, "replay_batch_size": 128},
    "generative-replay": {"replay_batch_size": 128},
    "pseudo-rehearsal": {"replay_batch_size": 128},
}


def prepared(name: str, scenario: Scenario, threads: int) -> Strategy:
    """The strategy as it is while learning the last task (memory of the earlier tasks filled)."""
    config = resolve(
        RunConfig.of(
            benchmark="permuted-mnist",
            setting="class",
            tasks=TASKS,
            strategy=name,
            strategy_params=METHODS[name],
            hidden=(400, 400),
            batch_size=128,
            iterations=1,
            threads=threads,
            train_samples_per_task=300,
        )
    )
    strategy = build_strategy(config, scenario, torch.device("cpu"))
    buffer = getattr(strategy, "buffer", None)
    generator = torch.Generator().manual_seed(0)
    for task in scenario[: TASKS - 1]:
        ids = torch.full_like(task.train_indices, task.index)
        x, y = scenario.train_batch(ids, task.train_indices)
        if buffer is None:
            break
        if name in ("gem", "agem"):
            buffer.add_balanced(x, y, ids, by="task_ids", quota=250, generator=generator)
        else:
            logits = (
                torch.randn(len(y), scenario.num_outputs) if buffer.logits is not None else None
            )
            buffer.add_reservoir(x, y, ids, generator, logits=logits)
    if hasattr(strategy, "has_teacher"):
        strategy.has_teacher.fill_(True)
    strategy.context.tasks_seen = TASKS
    return strategy


def step_seconds(strategy: Strategy, scenario: Scenario, steps: int) -> float:
    """Median-free mean CPU seconds of one full training step on the last task."""
    optimizer = torch.optim.Adam(strategy.trainable_parameters(), lr=1e-3)
    task = scenario[TASKS - 1]
    generator = torch.Generator().manual_seed(1)
    strategy.train()

    def step() -> None:
        idx = task.train_indices[
            torch.randint(len(task.train_indices), (128,), generator=generator)
        ]
        ids = torch.full_like(idx, task.index)
        x, y = scenario.train_batch(ids, idx)
        batch = Batch(x, y, ids)
        loss = strategy.loss(batch)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        strategy.after_backward(batch)
        optimizer.step()
        strategy.after_step(batch)

    for _ in range(3):
        step()
    started = time.process_time()
    for _ in range(steps):
        step()
    return (time.process_time() - started) / steps


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    scenario = build_scenario(
        "permuted-mnist", "class", num_tasks=TASKS, train_samples_per_task=300
    )
    rows = [
        "| strategy | memory (examples) | buffer bytes | strategy memory bytes | CPU ms / step "
        "| x naive |",
        "|---|---|---|---|---|---|",
    ]
    costs: dict[str, float] = {}
    strategies: dict[str, Strategy] = {}
    for name in METHODS:
        strategy = prepared(name, scenario, args.threads)
        strategies[name] = strategy
        costs[name] = step_seconds(
            strategy, scenario, args.steps if name != "gem" else max(5, args.steps // 4)
        )
        buffer = getattr(strategy, "buffer", None)
        rows.append(
            f"| {name} | {len(buffer) if buffer is not None else 0} "
            f"| {buffer.nbytes() if buffer is not None else 0:,} | {strategy.memory_bytes():,} "
            f"| {1000 * costs[name]:.1f} | {costs[name] / costs['naive']:.2f} |"
        )
        print(rows[-1], flush=True)
    buffer = strategies["er"].buffer
    generator = torch.Generator().manual_seed(2)
    for _ in range(10):
        buffer.sample(128, generator)
    started, calls = time.process_time(), 500
    for _ in range(calls):
        buffer.sample(128, generator)
    sample = (time.process_time() - started) / calls
    ratio = costs["gem"] / costs["agem"]
    md = "\n".join(
        [
            "### Replay: per-iteration cost and memory",
            "",
            "Permuted MNIST, class-incremental, 20 tasks, MLP 784-400-400-200, Adam, batch 128 "
            "(+128 replayed where the method replays), one thread; each strategy in its state "
            "during task 20 (memory of the "
            f"19 earlier tasks filled). CPU time per step over {args.steps} steps (GEM: "
            f"{max(5, args.steps // 4)}). Buffers store uint8 images, int16 labels and task ids "
            "(DER: + float32 logits).",
            "",
            *rows,
            "",
            f"* GEM / A-GEM cost per step with 19 tasks of memory: **{ratio:.1f}x** "
            "(target: >= 5x).",
            "* Sampling 128 examples from the full 5120-example buffer (uint8): "
            f"**{1e6 * sample:.0f} us** = "
            f"**{100 * sample / costs['naive']:.2f}%** of a naive training step of the MLP 2x400 "
            f"({1000 * costs['naive']:.1f} ms) (target: < 5%).",
            "",
            f"Command: `python bench/replay_speed.py --steps {args.steps} "
            f"--threads {args.threads}`",
        ]
    )
    print(md)
    update_section("docs/benchmarks.md", "replay-speed", md, title="Benchmarks")


if __name__ == "__main__":
    main()
