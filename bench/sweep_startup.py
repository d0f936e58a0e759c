"""Many small trials: warm worker processes against a fresh process per trial (issue 15).

Protocol: 10 tiny trials (Split Digits, class-incremental, strategies naive and er x seeds 0-4,
MLP 64-32-10, 20 iterations per task, batch 32, no curves, no plot), each writing
its run folder, run through :class:`lifelong.experiments.executor.WorkerPool` with ``--jobs``
workers and one torch thread per trial:

* **fresh**: a new process for every trial (``max_tasks_per_child=1``): each trial pays the
  interpreter's start, ``import torch`` and lifelong's imports, as a loop of ``lifelong run`` does;
* **warm**: the pool ``lifelong compare`` and ``lifelong sweep`` use: workers start once and run
  trial after trial.

Wall time of the whole batch (pool start to last result) from the parent, the two arms alternating
within each repetition (the first arm alternates too), so the machine's load affects both alike.
Every repetition also checks that both arms give identical accuracy matrices.

    OMP_NUM_THREADS=1 python bench/sweep_startup.py [--repeats 3] [--jobs 2]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._docs import update_section  # noqa: E402

SECTION = "warm-workers"
STRATEGIES = ("naive", "er")
SEEDS = (0, 1, 2, 3, 4)


def trials(root: Path) -> list:
    from lifelong import RunConfig

    return [
        (
            f"{strategy}-s{seed}",
            RunConfig.of(
                benchmark="split-digits",
                setting="class",
                strategy=strategy,
                seed=seed,
                iterations=20,
                batch_size=32,
                hidden=[32],
                eval_every=0,
                plot=False,
                threads=1,
                out=str(root / f"{strategy}-s{seed}"),
            ),
        )
        for strategy in STRATEGIES
        for seed in SEEDS
    ]


def batch(fresh: bool, jobs: int) -> tuple[float, dict[str, list]]:
    """Wall seconds of the whole batch, and every trial's accuracy matrix."""
    from lifelong.experiments.executor import WorkerPool

    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        with WorkerPool(jobs, 1, fresh=fresh) as pool:
            outcomes = pool.run(trials(Path(folder)))
        seconds = time.perf_counter() - started
    failed = [o.error for o in outcomes if not o.ok]
    assert not failed, failed
    return seconds, {o.key: o.metrics["accuracy_matrix"] for o in outcomes}  # type: ignore[index]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument("--from-log", help="write the table from an interrupted run's output")
    parser.add_argument("--load", help="with --from-log: the load averages to state")
    args = parser.parse_args()
    import torch

    times: dict[str, list[float]] = {"fresh": [], "warm": []}
    loads = []
    identical: bool | None = True
    if args.from_log:
        # An interrupted measurement: the per-arm lines it printed (accuracies not compared).
        for line in Path(args.from_log).read_text().splitlines():
            match = re.fullmatch(r"repetition (\d+) (fresh|warm): ([\d.]+) s", line.strip())
            if match:
                times[match[2]].append(float(match[3]))
        count = min(len(times["fresh"]), len(times["warm"]))
        times = {arm: values[:count] for arm, values in times.items()}
        args.repeats, identical, loads = count, None, [args.load or "not recorded"]
    for repeat in range(0 if args.from_log else args.repeats):
        order = ("fresh", "warm") if repeat % 2 == 0 else ("warm", "fresh")
        matrices = {}
        loads.append("/".join(f"{x:.1f}" for x in os.getloadavg()))
        for arm in order:
            seconds, matrices[arm] = batch(arm == "fresh", args.jobs)
            times[arm].append(seconds)
            print(f"repetition {repeat} {arm}: {seconds:.1f} s", flush=True)
        identical = identical and matrices["fresh"] == matrices["warm"]
        print(f"repetition {repeat} identical: {matrices['fresh'] == matrices['warm']}")
    if not args.from_log:
        loads.append("/".join(f"{x:.1f}" for x in os.getloadavg()))
    count = len(STRATEGIES) * len(SEEDS)
    fresh, warm = statistics.median(times["fresh"]), statistics.median(times["warm"])
    ratios = [f / w for f, w in zip(times["fresh"], times["warm"], strict=True)]
    lines = [
        "## Many small trials: warm workers against a process per trial",
        "",
        f"{count} tiny trials (Split Digits, class-incremental, {', '.join(STRATEGIES)} x seeds "
        f"0-{len(SEEDS) - 1}, MLP 64-32-10, 20 iterations per task, batch 32, no curves or plot, each writing its "
        f"run folder), {args.jobs} worker process(es), one torch thread per trial. **fresh**: a "
        "new process per trial (interpreter start, `import torch`, lifelong's imports each time, "
        "as a loop of `lifelong run` pays); **warm**: the pool `lifelong compare` and `lifelong "
        "sweep` use (`lifelong.experiments.executor.WorkerPool`: workers start once, a sweep's "
        "tuning and evaluation stages share them). Wall time of the whole batch from the parent; "
        f"{args.repeats} repetitions, the two arms alternating (and which goes first), so the "
        "load of the shared 2-core machine falls on both alike; load average (1/5/15 min) "
        + ("" if args.from_log else "at each repetition's start and at the end")
        + f": {', '.join(loads)}.",
        "",
        "| arm | wall per repetition (s) | median (s) | per trial (s) |",
        "|---|---|---|---|",
        f"| fresh | {', '.join(f'{t:.1f}' for t in times['fresh'])} | {fresh:.1f} | "
        f"{fresh / count:.2f} |",
        f"| warm | {', '.join(f'{t:.1f}' for t in times['warm'])} | {warm:.1f} | "
        f"{warm / count:.2f} |",
        "",
        f"Fresh / warm, per repetition: {', '.join(f'{r:.2f}' for r in ratios)} (median "
        f"**{statistics.median(ratios):.2f}x**). Accuracy matrices of the two arms "
        + (
            "bit-identical in every repetition "
            if identical
            else "not compared in this measurement "
            if identical is None
            else "DIFFERED "
        )
        + "(`tests/unit/test_warm_workers.py` checks the same: warm equals fresh, and a trial run "
        "after another in one worker equals the trial alone).",
        "",
        f"Command: `OMP_NUM_THREADS=1 python bench/sweep_startup.py --repeats {args.repeats} "
        f"--jobs {args.jobs}`; torch {torch.__version__}, CPU.",
    ]
    text = "\n".join(lines)
    print(text)
    if not args.no_write:
        update_section("docs/benchmarks.md", SECTION, text)
    print(json.dumps(times))


if __name__ == "__main__":
    main()
