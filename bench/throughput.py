"""Training throughput of lifelong's learner loop against a bare PyTorch loop (same process).

Protocol: Permuted MNIST (domain-incremental), the ``naive`` strategy, an MLP (784-H-H-10) with
2x400 and 2x1000 hidden units, Adam (lr 1e-3, fresh per task as lifelong does by default), batch
sizes 128 and 10 (A-GEM), one torch thread. Both sides run the same number of iterations (2 tasks x
N per task) on the same data, alternating, several repetitions:

* lifelong: ``Learner.fit()`` with ``eval_every=0``. CPU time is read by an observer from each
  task's start to its last training iteration; wall time is ``Progress.train_seconds``. Both exclude
  the evaluations before training and after each task (which use a 1% validation split, so they cost
  little wall time).
* bare loop: the training images as one float tensor in [0, 1] in memory, each batch indexed from a
  per-epoch shuffle, the task's permutation applied by indexing, then forward / cross-entropy /
  zero_grad / backward / step. No ``.item()``, no logging.

The reported ratio is lifelong's samples/s over the bare loop's in the same repetition (median).
Process CPU time is the headline because the machine is shared; wall-clock ratios are also shown.

    python bench/throughput.py [--quick] [--threads 1] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import statistics
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._docs import update_section  # noqa: E402
from lifelong import RunConfig  # noqa: E402
from lifelong.core.events import Observer  # noqa: E402
from lifelong.core.learner import Learner  # noqa: E402
from lifelong.core.runner import build_strategy, resolve  # noqa: E402
from lifelong.data.scenarios import Scenario, build_scenario  # noqa: E402

SECTION = "throughput"


def lifelong_config(
    hidden: tuple[int, ...], batch_size: int, iterations: int, args: argparse.Namespace
) -> RunConfig:
    return resolve(
        RunConfig.of(
            benchmark="permuted-mnist",
            setting="domain",
            strategy="naive",
            tasks=args.tasks,
            iterations=iterations,
            batch_size=batch_size,
            hidden=hidden,
            optimizer="adam",
            lr=1e-3,
            eval_every=0,
            seed=0,
            threads=args.threads,
            validation_fraction=0.01,
            evaluate_on="validation",
            device="cpu",
        )
    )


class _CpuClock(Observer):
    """Reads the process CPU time from each task's start to its last training iteration."""

    def __init__(self) -> None:
        self.seconds, self._start, self._last = 0.0, 0.0, 0.0

    def task_started(self, task: int, iterations: int) -> None:
        self._start = self._last = time.process_time()

    def iteration_done(self, task: int, iteration: int, global_iteration: int, loss: float) -> None:
        self._last = time.process_time()

    def task_done(self, task: int, accuracies) -> None:  # type: ignore[no-untyped-def]
        self.seconds += self._last - self._start


def time_lifelong(
    config: RunConfig, scenario: Scenario, profile: bool = False
) -> tuple[float, float]:
    """Samples per second of lifelong's loop: (wall clock, CPU time), training only."""
    strategy = build_strategy(config, scenario, torch.device("cpu"))
    clock = _CpuClock()
    learner = Learner.from_config(strategy, config, observers=[clock])
    profiler = cProfile.Profile() if profile else None
    if profiler:
        profiler.enable()
    progress = learner.fit()
    if profiler:
        profiler.disable()
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(25)
        print(out.getvalue())
    samples = 0
    for task in scenario:  # the last batch of an epoch may be smaller
        n, b = len(task.train_indices), config.training.batch_size
        per_epoch = -(-n // b)
        samples += sum(min(b, n - (i % per_epoch) * b) for i in range(config.training.iterations))  # type: ignore[arg-type]
    return samples / progress.train_seconds, samples / clock.seconds


def time_bare(config: RunConfig, scenario: Scenario) -> tuple[float, float]:
    """Samples per second of a bare PyTorch loop with the same model, optimizer, batches and
    iterations: (wall clock, CPU time)."""
    torch.manual_seed(config.seed)
    data = scenario.dataset.train_x.float().div(255.0).flatten(1)  # (N, 784) in memory
    labels = scenario.dataset.train_y
    perms = scenario.transform.permutations  # type: ignore[attr-defined]
    widths = [data.shape[1], *config.model.hidden]
    layers: list[nn.Module] = []
    for a, b in zip(widths, widths[1:], strict=False):
        layers += [nn.Linear(a, b), nn.ReLU()]
    model = nn.Sequential(*layers, nn.Linear(widths[-1], 10))
    batch, samples, seconds, cpu_seconds = config.training.batch_size, 0, 0.0, 0.0
    for task in scenario:
        started, cpu_started = time.perf_counter(), time.process_time()
        train = task.train_indices
        optimizer = torch.optim.Adam(model.parameters(), lr=config.training.lr)
        perm = perms[task.index]
        order, position = torch.randperm(len(train)), 0
        for _ in range(config.training.iterations):  # type: ignore[arg-type]
            if position >= len(train):
                order, position = torch.randperm(len(train)), 0
            idx = train[order[position : position + batch]]
            position += batch
            x = data[idx][:, perm]
            loss = F.cross_entropy(model(x), labels[idx])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            samples += len(idx)
        seconds += time.perf_counter() - started
        cpu_seconds += time.process_time() - cpu_started
    return samples / seconds, samples / cpu_seconds


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer iterations and repeats")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    parser.add_argument(
        "--repeats", type=int, default=None, help="repetitions per side (default 5)"
    )
    parser.add_argument(
        "--profile", action="store_true", help="print a cProfile of lifelong's loop"
    )
    parser.add_argument("--no-docs", action="store_true", help="do not write docs/benchmarks.md")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    args.tasks = 2
    scale = 0.25 if args.quick else 1.0
    repeats = args.repeats or (2 if args.quick else 5)
    # (hidden sizes, batch size, iterations per task): about 2-10 s per side and repetition.
    cases = [
        ((400, 400), 128, 300),
        ((1000, 1000), 128, 150),
        ((400, 400), 10, 1500),
        ((1000, 1000), 10, 600),
    ]
    scenario = None
    rows = []
    for hidden, batch_size, iterations in cases:
        config = lifelong_config(hidden, batch_size, max(10, int(iterations * scale)), args)
        if scenario is None:
            scenario = build_scenario(
                config.data.benchmark,
                config.data.setting,
                num_tasks=config.data.tasks,
                seed=config.resolved_scenario_seed,
                validation_fraction=config.data.validation_fraction,
                evaluate_on=config.data.evaluate_on,
            )
        # Warm-up (untimed): first-call costs (optimizer imports, allocator) must not count.
        time_lifelong(config.replace(iterations=10), scenario, profile=args.profile)
        time_bare(config.replace(iterations=10), scenario)
        ours, bare = [], []
        for _ in range(repeats):
            ours.append(time_lifelong(config, scenario))
            bare.append(time_bare(config, scenario))
        cpu = statistics.median(a[1] / b[1] for a, b in zip(ours, bare, strict=True))
        wall = statistics.median(a[0] / b[0] for a, b in zip(ours, bare, strict=True))
        ours_cpu, bare_cpu = (statistics.median(r[1] for r in side) for side in (ours, bare))
        label = "x".join(str(h) for h in hidden)
        print(
            f"MLP {label} batch {batch_size}: CPU-time samples/s lifelong {ours_cpu:,.0f} "
            f"bare {bare_cpu:,.0f}; paired ratio CPU {cpu:.3f} wall {wall:.3f} (CPU ratios: "
            f"{', '.join(f'{a[1] / b[1]:.3f}' for a, b in zip(ours, bare, strict=True))})",
            flush=True,
        )
        rows.append(
            f"| MLP {label} | {batch_size} | {config.data.tasks} x {config.training.iterations} | "
            f"{ours_cpu:,.0f} | {bare_cpu:,.0f} | **{cpu:.2f}** | {wall:.2f} |"
        )
    protocol = (
        "Permuted MNIST (domain-incremental), `naive` strategy, MLP 784-H-H-10, Adam lr 1e-3 "
        f"(fresh per task on both sides), {args.threads} torch thread(s), CPU, {repeats} "
        "repetitions, the two sides alternating. Evaluation is excluded from both sides "
        "(`eval_every=0`; lifelong is timed from each task's start to its last training "
        "iteration). The bare loop keeps the images as a float tensor in memory, indexes each "
        "batch from a per-epoch shuffle, applies the task's permutation by indexing, then "
        "forward / cross-entropy / zero_grad / backward / step. Ratio = lifelong samples/s "
        "divided by bare-loop samples/s in the same repetition, median over repetitions; target "
        ">= 0.9. The machine is shared, so the main column uses process CPU time (robust to "
        "other processes); the wall-clock ratio is shown for reference."
    )
    header = (
        "| model | batch | tasks x iterations | lifelong samples/s (CPU time) "
        "| bare loop samples/s (CPU time) | ratio (CPU time) | ratio (wall clock) |"
    )
    command = (
        f"Command: `OMP_NUM_THREADS={args.threads} python bench/throughput.py"
        f"{' --quick' if args.quick else ''} --threads {args.threads}`; torch {torch.__version__}."
    )
    title = "## Training throughput: lifelong's loop vs a bare PyTorch loop"
    table = [header, "|---|---|---|---|---|---|---|", *rows]
    markdown = "\n".join([title, "", protocol, "", *table, "", command])
    if not args.no_docs:
        update_section("docs/benchmarks.md", SECTION, markdown, title="Benchmarks")


if __name__ == "__main__":
    main()
