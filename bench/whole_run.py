"""Whole-run wall time of ``lifelong run`` against a bare PyTorch script, and command start-up.

Protocol (issue 15): Permuted MNIST, 5 tasks (task 0 unpermuted), MLP 784-256-256-10, Adam lr 1e-3
(fresh per task), batch 128, 1 epoch per task, data read from the gzipped IDX files, one torch
thread on both sides (``OMP_NUM_THREADS=1``, ``--threads 1``).

* **bare**: a script a user would write: import torch, read the four IDX files with gzip + numpy,
  train task after task on shuffled batches of the permuted images, evaluate every task's full test
  set after each task (the same accuracy matrix lifelong fills). No logging, files or plots.
* **lifelong**: ``python -m lifelong run`` with the defaults for everything but the protocol's
  settings (``--quiet``: no progress bar), i.e. with its curves, checkpoints, ``log.csv``, plot and
  result files.
* **lifelong, itemized**: the same run in a process that times the runner's pieces (exclusive
  times: import, data load, evaluations, curve evaluation, checkpoints, log, plot, result files),
  so the difference to the bare script can be attributed.

Each repetition runs the three in turn (the order of bare and lifelong alternates); whole-process
wall times are measured from outside; the table reports medians and the per-repetition ratio.
Start-up: wall time of ``python -c "import torch"``, ``lifelong --help`` and ``lifelong list``,
interleaved, medians.

    OMP_NUM_THREADS=1 python bench/whole_run.py [--repeats 5] [--data-root /work/shared/data]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SECTION_RUN, SECTION_START = "whole-run", "startup"
PROTOCOL = [
    "--benchmark", "permuted-mnist", "--tasks", "5", "--hidden", "256,256", "--batch-size", "128",
    "--epochs", "1", "--threads", "1",
]  # fmt: skip


# ---------------------------------------------------------------------------------- bare script
def bare(data_root: Path, tasks: int = 5, seed: int = 0) -> None:
    """The bare PyTorch script: same model, optimizer, batches and evaluation as the protocol."""
    import gzip

    import numpy as np
    import torch
    import torch.nn.functional as F
    from torch import nn

    torch.set_num_threads(1)
    torch.manual_seed(seed)

    def idx(name: str) -> torch.Tensor:
        raw = gzip.decompress((data_root / "mnist" / name).read_bytes())
        dims = [int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(raw[3])]
        return torch.from_numpy(
            np.frombuffer(bytearray(raw), np.uint8, offset=4 + 4 * raw[3]).reshape(dims)
        )

    train_x = idx("train-images-idx3-ubyte.gz").reshape(-1, 784).float().div(255)
    train_y = idx("train-labels-idx1-ubyte.gz").long()
    test_x = idx("t10k-images-idx3-ubyte.gz").reshape(-1, 784).float().div(255)
    test_y = idx("t10k-labels-idx1-ubyte.gz").long()
    generator = torch.Generator().manual_seed(seed)
    perms = [torch.arange(784)] + [
        torch.randperm(784, generator=generator) for _ in range(tasks - 1)
    ]
    model = nn.Sequential(
        nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, 10)
    )
    matrix = []
    for task in range(tasks):
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
        model.train()
        for batch in torch.randperm(len(train_x), generator=generator).split(128):
            loss = F.cross_entropy(model(train_x[batch][:, perms[task]]), train_y[batch])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
        model.eval()
        with torch.no_grad():
            matrix.append(
                [
                    sum(
                        (model(x[:, perms[j]]).argmax(1) == y).sum().item()
                        for x, y in zip(test_x.split(1000), test_y.split(1000), strict=True)
                    )
                    / len(test_y)
                    for j in range(tasks)
                ]
            )
    print("average accuracy", sum(matrix[-1]) / tasks)


# ------------------------------------------------------------------------- itemized lifelong
class _Clock:
    """Exclusive time per category: a wrapped call's time minus the wrapped calls inside it."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self._stack: list[list[Any]] = []  # [category, start, time spent in nested wrapped calls]

    def wrap(self, owner: Any, name: str, category: str) -> None:
        original = getattr(owner, name)

        def timed(*args: Any, **kwargs: Any) -> Any:
            label = category
            if category == "evaluation" and self._stack and self._stack[-1][0] == "curve":
                label = "curve"  # an evaluation for the curves counts as curve evaluation
            frame = [label, time.perf_counter(), 0.0]
            self._stack.append(frame)
            try:
                return original(*args, **kwargs)
            finally:
                self._stack.pop()
                spent = time.perf_counter() - frame[1]
                self.seconds[label] = self.seconds.get(label, 0.0) + spent - frame[2]
                if self._stack:
                    self._stack[-1][2] += spent

        setattr(owner, name, timed)


def itemized(argv: list[str], report: Path) -> None:
    """Run ``lifelong`` with ``argv`` in this process, timing its pieces into ``report`` (JSON)."""
    start = time.perf_counter()
    import torch  # noqa: F401

    torch_done = time.perf_counter()
    from lifelong.cli import main

    clock = _Clock()
    clock.seconds["lifelong import (command line)"] = time.perf_counter() - torch_done
    # The modules a run imports when it starts (lazily, inside the command): timed as import.
    before = time.perf_counter()
    import lifelong.cli.run as run_cli
    import lifelong.core.curves as curves
    import lifelong.core.learner as learner
    import lifelong.core.logs as logs
    import lifelong.core.runner as runner
    import lifelong.report.logs as report_logs

    clock.seconds["lifelong import (run modules)"] = time.perf_counter() - before
    clock.wrap(runner, "build_run_scenario", "data load")
    clock.wrap(runner, "build_strategy", "model + strategy")
    clock.wrap(runner, "prepare_run_folder", "run folder")
    clock.wrap(learner.Learner, "fit", "training loop")
    clock.wrap(learner.Learner, "evaluate", "evaluation")
    curve = (
        "_evaluate_curve"
        if hasattr(learner.Learner, "_evaluate_curve")
        else "_maybe_evaluate_curve"
    )
    clock.wrap(learner.Learner, curve, "curve")
    clock.wrap(learner.Learner, "_save_checkpoint", "checkpoints")
    for method in ("iteration_done", "evaluated", "task_done", "close"):
        clock.wrap(logs.CsvLog, method, "log.csv")
        clock.wrap(report_logs.ProgressBar, method, "progress bar")
    clock.wrap(curves, "plot_curves", "plot (curves.png)")
    for name in ("save_yaml", "atomic_write_text", "atomic_write_json", "collect_metrics"):
        clock.wrap(runner, name, "result files")
    clock.wrap(run_cli, "print_summary", "printing")
    status = main(argv)
    clock.seconds["torch import"] = torch_done - start
    clock.seconds["in process"] = time.perf_counter() - start
    report.write_text(json.dumps({"status": status, "seconds": clock.seconds}))


# ------------------------------------------------------------------------------------ driver
def _timed(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds: user + system) of a child process."""
    before, start = resource.getrusage(resource.RUSAGE_CHILDREN), time.perf_counter()
    subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL, cwd=ROOT)
    wall, after = time.perf_counter() - start, resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)


def _load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} / {five:.2f} / {fifteen:.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    if sys.argv[1:2] == ["itemized"]:  # itemized REPORT.json LIFELONG-ARGS...
        itemized(sys.argv[3:], Path(sys.argv[2]))
        return
    parser.add_argument("mode", nargs="?", default="bench", choices=["bench", "bare"])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--startup-repeats", type=int, default=7)
    parser.add_argument("--data-root", default=os.environ.get("LIFELONG_DATA", "/work/shared/data"))
    parser.add_argument("--no-write", action="store_true", help="print, do not update the docs")
    args = parser.parse_args()
    if args.mode == "bare":
        bare(Path(args.data_root))
        return
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    py = sys.executable
    startup = startup_bench(py, env, args.startup_repeats)
    rows, items, loads = [], [], [_load()]
    with tempfile.TemporaryDirectory() as tmp:
        lifelong_argv = [*PROTOCOL, "--data-root", args.data_root, "--quiet", "--overwrite"]
        for rep in range(args.repeats):
            out = str(Path(tmp) / f"run{rep}")
            sides = {
                "bare": [py, __file__, "bare", "--data-root", args.data_root],
                "lifelong": [py, "-m", "lifelong", "run", *lifelong_argv, "--out", out],
            }
            order = ["bare", "lifelong"] if rep % 2 == 0 else ["lifelong", "bare"]
            times = {side: _timed(sides[side], env) for side in order}
            report = Path(tmp) / f"items{rep}.json"
            command = [py, __file__, "itemized", str(report)]
            command += ["run", *lifelong_argv, "--out", out + "-itemized"]
            times["itemized"] = _timed(command, env)
            seconds = json.loads(report.read_text())["seconds"]
            items.append({**seconds, "process": times["itemized"][0]})
            rows.append(times)
            loads.append(_load())
            print(
                f"repetition {rep}: "
                + ", ".join(f"{k} {v[0]:.2f}s wall {v[1]:.2f}s CPU" for k, v in times.items()),
                flush=True,
            )
    write(rows, items, startup, loads, args)


def startup_bench(py: str, env: dict[str, str], repeats: int) -> dict[str, list[float]]:
    commands = {
        "python -c 'import torch'": [py, "-c", "import torch"],
        "lifelong --help": [py, "-m", "lifelong", "--help"],
        "lifelong run --help": [py, "-m", "lifelong", "run", "--help"],
        "lifelong list": [py, "-m", "lifelong", "list"],
    }
    times: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(repeats):
        for name, command in commands.items():
            times[name].append(_timed(command, env)[0])
    return times


def write(
    rows: list[dict[str, tuple[float, float]]],
    items: list[dict[str, float]],
    startup: dict[str, list[float]],
    loads: list[str],
    args: argparse.Namespace,
) -> None:
    import torch

    med = statistics.median
    ratios = [r["lifelong"][0] / r["bare"][0] for r in rows]
    cpu_ratios = [r["lifelong"][1] / r["bare"][1] for r in rows]
    lines = [
        "## Whole run: `lifelong run` against a bare PyTorch script",
        "",
        "Permuted MNIST, 5 tasks, MLP 784-256-256-10, Adam lr 1e-3 (fresh per task), batch 128, "
        "1 epoch per task, one torch thread on both sides, whole process wall time (interpreter "
        "start to exit) measured from outside. The bare script reads the IDX files with gzip + "
        "numpy, trains on shuffled batches and evaluates every task's full test set after each task "
        "(no files written). `lifelong run` uses its defaults otherwise. "
        f"{len(rows)} paired repetitions, the order of the two alternating; medians. "
        f"torch {torch.__version__}, CPU, shared 2-core machine; load average (1/5/15 min) "
        f"before and after each repetition: {', '.join(loads)}.",
        "",
        "Wall time is what a user waits; process CPU time (user + system) is robust to the other "
        "processes on the machine.",
        "",
        "| | bare script wall (s) | `lifelong run` wall (s) | ratio (wall) "
        "| bare CPU (s) | `lifelong run` CPU (s) | ratio (CPU) |",
        "|---|---|---|---|---|---|---|",
    ]
    for i, r in enumerate(rows):
        lines.append(
            f"| repetition {i} | {r['bare'][0]:.2f} | {r['lifelong'][0]:.2f} | {ratios[i]:.3f} "
            f"| {r['bare'][1]:.2f} | {r['lifelong'][1]:.2f} | {cpu_ratios[i]:.3f} |"
        )
    lines.append(
        f"| **median** | {med(r['bare'][0] for r in rows):.2f} | "
        f"{med(r['lifelong'][0] for r in rows):.2f} | **{med(ratios):.3f}** | "
        f"{med(r['bare'][1] for r in rows):.2f} | {med(r['lifelong'][1] for r in rows):.2f} | "
        f"**{med(cpu_ratios):.3f}** |"
    )
    lines += [
        "",
        "Where `lifelong run`'s time goes (the same run in a process that times its pieces; "
        'exclusive seconds, medians over repetitions; "training loop" is `Learner.fit` minus the '
        'other items inside it; "interpreter start and exit" is the outside wall time minus the '
        "in-process time):",
        "",
        "| item | seconds (median) | share of the run |",
        "|---|---|---|",
    ]
    for row in items:
        row["interpreter start and exit"] = row["process"] - row["in process"]
        accounted = sum(v for k, v in row.items() if k not in ("process", "in process"))
        row["other (argument parsing, metrics, lock, ...)"] = row["process"] - accounted
    total = med(row["process"] for row in items)
    keys = [k for k in items[0] if k not in ("process", "in process")]
    for key in sorted(keys, key=lambda k: -med(row.get(k, 0.0) for row in items)):
        value = med(row.get(key, 0.0) for row in items)
        lines.append(f"| {key} | {value:.3f} | {value / total:.1%} |")
    lines.append(f"| **whole process** | **{total:.2f}** | 100% |")

    def share(key: str) -> str:
        return f"{med(row.get(key, 0.0) for row in items) / total:.1%}"

    lines += [
        "",
        "Costs the bare script does not pay, each optional: the learning curve "
        f"({share('curve')} of the run; `--eval-every 0` removes it), the figure "
        f"({share('plot (curves.png)')}; `--no-plot`) and the checkpoints at task ends that "
        f"let an interrupted run resume ({share('checkpoints')}); the evaluation of every task before training (for forward "
        'transfer) is part of "evaluation".',
        "",
        "Command: `OMP_NUM_THREADS=1 python bench/whole_run.py"
        + (f" --repeats {args.repeats}" if args.repeats != 5 else "")
        + "`",
    ]
    start = [
        "## Start-up",
        "",
        "Wall time of a whole process (interpreter start to exit), "
        f"{len(next(iter(startup.values())))} interleaved repetitions, medians (min - max); "
        "shared 2-core machine. `import torch` alone is the floor every command pays.",
        "",
        "| command | median (s) | min - max (s) | above `import torch` (s) |",
        "|---|---|---|---|",
    ]
    floor = med(next(iter(startup.values())))
    for name, values in startup.items():
        start.append(
            f"| `{name}` | {med(values):.2f} | {min(values):.2f} - {max(values):.2f} | "
            f"{med(values) - floor:+.2f} |"
        )
    start += ["", "Command: `OMP_NUM_THREADS=1 python bench/whole_run.py` (same script)"]
    text_run, text_start = "\n".join(lines), "\n".join(start)
    print(text_start + "\n\n" + text_run)
    if not args.no_write:
        sys.path.insert(0, str(ROOT))
        from bench._docs import update_section

        update_section("docs/benchmarks.md", SECTION_START, text_start)
        update_section("docs/benchmarks.md", SECTION_RUN, text_run)


if __name__ == "__main__":
    main()
