"""Training throughput of lifelong's learner loop against a bare PyTorch loop (same process).

Protocol: Permuted MNIST (domain-incremental), the ``naive`` strategy, an MLP (784-H-H-10), Adam
(lr 1e-3, fresh per task as lifelong does by default), one torch thread. Both sides run the same
number of iterations (``--tasks`` tasks x ``--iterations`` per task) on the same data:

* lifelong: ``Learner.fit()`` with ``eval_every=0``; the time is ``Progress.train_seconds``, which
  excludes the evaluations before training and after each task. The evaluation set is a 1%
  validation split so the (untimed) evaluations cost little wall time.
* bare loop: the training images as one float tensor in [0, 1] in memory, each batch indexed from a
  per-epoch shuffle, the task's permutation applied by indexing, then forward / cross-entropy /
  zero_grad / backward / step. No ``.item()``, no logging.

The two sides alternate, ``--repeats`` times each; the table reports median samples/s and the ratio.

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
from lifelong.core.learner import Learner  # noqa: E402
from lifelong.core.runner import build_strategy, resolve  # noqa: E402
from lifelong.data.scenarios import Scenario, build_scenario  # noqa: E402

SECTION = "throughput"


def lifelong_config(hidden: tuple[int, ...], batch_size: int, args: argparse.Namespace) -> RunConfig:
    return resolve(RunConfig(
        benchmark="permuted-mnist", scenario="domain", strategy="naive", tasks=args.tasks,
        iterations=args.iterations, batch_size=batch_size, hidden=hidden, optimizer="adam", lr=1e-3,
        eval_every=0, seed=0, threads=args.threads, validation_fraction=0.01,
        evaluate_on="validation", device="cpu",
    ))


def time_lifelong(config: RunConfig, scenario: Scenario, profile: bool = False) -> float:
    """Samples/s of lifelong's loop (training time only)."""
    strategy = build_strategy(config, scenario, torch.device("cpu"))
    learner = Learner(strategy, config)
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
        n, b = len(task.train_indices), config.batch_size
        per_epoch = -(-n // b)
        samples += sum(min(b, n - (i % per_epoch) * b) for i in range(config.iterations))  # type: ignore[arg-type]
    return samples / progress.train_seconds


def time_bare(config: RunConfig, scenario: Scenario) -> float:
    """Samples/s of a bare PyTorch loop with the same model, optimizer, batches and iterations."""
    torch.manual_seed(config.seed)
    data = scenario.dataset.train_x.float().div(255.0).flatten(1)  # (N, 784) in memory
    labels = scenario.dataset.train_y
    perms = scenario.transform.permutations  # type: ignore[attr-defined]
    widths = [data.shape[1], *config.hidden]
    layers: list[nn.Module] = []
    for a, b in zip(widths, widths[1:]):
        layers += [nn.Linear(a, b), nn.ReLU()]
    model = nn.Sequential(*layers, nn.Linear(widths[-1], 10))
    batch, samples, seconds = config.batch_size, 0, 0.0
    for task in scenario:
        started = time.perf_counter()
        train = task.train_indices
        optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)
        perm = perms[task.index]
        order, position = torch.randperm(len(train)), 0
        for _ in range(config.iterations):  # type: ignore[arg-type]
            if position >= len(train):
                order, position = torch.randperm(len(train)), 0
            idx = train[order[position:position + batch]]
            position += batch
            x = data[idx][:, perm]
            loss = F.cross_entropy(model(x), labels[idx])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            samples += len(idx)
        seconds += time.perf_counter() - started
    return samples / seconds


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer iterations and repeats")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    parser.add_argument("--repeats", type=int, default=None, help="repetitions per side (default 5)")
    parser.add_argument("--profile", action="store_true", help="print a cProfile of lifelong's loop")
    parser.add_argument("--no-docs", action="store_true", help="do not write docs/benchmarks.md")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    args.tasks = 2
    args.iterations = 100 if args.quick else 300
    repeats = args.repeats or (2 if args.quick else 5)
    cases = [((400, 400), 128), ((1000, 1000), 128), ((400, 400), 10), ((1000, 1000), 10)]
    scenario = None
    rows = []
    for hidden, batch_size in cases:
        config = lifelong_config(hidden, batch_size, args)
        if batch_size == 10:  # short iterations: run more of them for a stable timing
            config = config.replace(iterations=args.iterations * 5)
        if scenario is None:
            scenario = build_scenario(
                config.benchmark, config.scenario, num_tasks=config.tasks,
                seed=config.resolved_scenario_seed, validation_fraction=config.validation_fraction,
                evaluate_on=config.evaluate_on,
            )
        if args.profile:
            time_lifelong(config, scenario, profile=True)
        ours, bare = [], []
        for _ in range(repeats):
            ours.append(time_lifelong(config, scenario))
            bare.append(time_bare(config, scenario))
        ours_m, bare_m = statistics.median(ours), statistics.median(bare)
        ratio = ours_m / bare_m
        label = "x".join(str(h) for h in hidden)
        print(f"MLP {label} batch {batch_size}: lifelong {ours_m:,.0f}/s  bare {bare_m:,.0f}/s  "
              f"ratio {ratio:.3f}  (ratios per repeat: "
              f"{', '.join(f'{a / b:.3f}' for a, b in zip(ours, bare))})", flush=True)
        rows.append(f"| MLP {label} | {batch_size} | {config.tasks} x {config.iterations} | "
                    f"{ours_m:,.0f} | {bare_m:,.0f} | {ratio:.2f} |")
    markdown = "\n".join([
        "## Training throughput: lifelong's loop vs a bare PyTorch loop",
        "",
        f"Permuted MNIST (domain-incremental), `naive`, Adam lr 1e-3, {args.threads} torch thread(s), "
        f"CPU, median of {repeats} alternating repetitions per side; evaluation excluded from both "
        "sides (`eval_every=0`; lifelong's time is `Progress.train_seconds`). The bare loop keeps the "
        "images as a float tensor in memory and applies the task's permutation by indexing. "
        "Target: ratio >= 0.9.",
        "",
        "| model | batch | tasks x iterations | lifelong samples/s | bare loop samples/s | ratio |",
        "|---|---|---|---|---|---|",
        *rows,
        "",
        f"Command: `OMP_NUM_THREADS={args.threads} python bench/throughput.py"
        f"{' --quick' if args.quick else ''} --threads {args.threads}`; torch {torch.__version__}.",
    ])
    if not args.no_docs:
        update_section("docs/benchmarks.md", SECTION, markdown, title="Benchmarks")


if __name__ == "__main__":
    main()
