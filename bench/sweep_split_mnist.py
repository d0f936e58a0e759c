"""Tune EWC's lambda and SI's c on Split MNIST (task-incremental) with ``lifelong sweep``'s
validation protocol, through the local and the Ray backend, and write the chosen values, their test
results and the backend comparison into docs/results.md (section ``sweep-ewc-si-split-mnist``).

    python bench/sweep_split_mnist.py [--quick] [--backend both|local|ray] [--jobs 2]

The sweep file is examples/sweep-ewc-si-split-mnist.yaml. ``--quick`` runs a 10-iteration version
into runs/sweeps/bench-quick-* and leaves the docs alone.
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("LIFELONG_DATA", str(ROOT.parent / "shared" / "data"))

from bench._docs import update_section  # noqa: E402
from lifelong.experiments.sweep import (  # noqa: E402
    leaderboard_markdown,
    load_sweep,
    local_backend,
    markdown_table,
    run_sweep,
)

SPEC = ROOT / "examples" / "sweep-ewc-si-split-mnist.yaml"


def trial_numbers(path: Path) -> list[dict[str, str]]:
    """The trial table without timings (the columns both backends must agree on)."""
    return [
        {k: v for k, v in row.items() if k != "train_seconds"}
        for row in csv.DictReader(path.open())
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny budget, docs untouched")
    parser.add_argument("--backend", choices=("both", "local", "ray"), default="both")
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()

    spec = load_sweep(SPEC)
    if args.quick:
        spec = replace(spec, run={**spec.run, "iterations": 10}, evaluation_seeds=(1,))
    prefix = "bench-quick" if args.quick else "bench"
    outs = {}
    backends = ["local", "ray"] if args.backend == "both" else [args.backend]
    for name in backends:
        out = ROOT / "runs" / "sweeps" / f"{prefix}-{spec.name}-{name}"
        start = time.time()
        if name == "local":
            result = run_sweep(
                spec, out, backend=local_backend(args.jobs, 1), threads=1, progress=print
            )
        else:
            import ray

            from lifelong.experiments.ray_backend import ensure_ray, ray_backend

            ensure_ray(num_cpus=args.jobs)
            backend = ray_backend(
                threads=1, num_cpus=1, num_gpus=0, address=None, cluster_cpus=None
            )
            try:
                result = run_sweep(spec, out, backend=backend, threads=1, progress=print)
            finally:
                ray.shutdown()
        print(f"{name}: {time.time() - start:.0f} s wall time")
        outs[name] = out
    identical = None
    if len(outs) == 2:
        identical = trial_numbers(outs["local"] / "trials.csv") == trial_numbers(
            outs["ray"] / "trials.csv"
        )
        print(f"local and ray trial tables identical: {identical}")

    rows = [r for r in result.rows if r["stage"] == "tuning"]
    tuning = markdown_table(
        ["strategy", "candidate", "validation accuracy", "validation forgetting"],
        [
            [r["strategy"], r["params"], r["average_accuracy"], r["average_forgetting"]]
            for r in rows
        ],
    )
    symbols = {"ewc": "EWC lambda", "si": "SI c"}
    grids = "; ".join(
        f"{symbols.get(s.strategy, s.strategy)} (`{key}`) in {{{', '.join(map(str, values))}}}"
        for s in spec.strategies
        for key, values in (s.space or {}).items()
    )
    train_minutes = sum(r["train_seconds"] or 0.0 for r in result.rows) / 60
    run_settings = ", ".join(f"{k}={v}" for k, v in spec.run.items())
    text = f"""### Sweep: EWC lambda and SI c on Split MNIST (task-incremental)

Command: `python bench/sweep_split_mnist.py --backend {args.backend} --jobs {args.jobs}` (sweep file
`examples/sweep-ewc-si-split-mnist.yaml`; equivalent to `lifelong sweep
examples/sweep-ewc-si-split-mnist.yaml --jobs {args.jobs}` and the same with `--backend ray`).

Protocol: **{spec.protocol.name}** — {spec.protocol.describe()} Candidates are trained with
tuning seed(s) {list(spec.tuning_seeds)} on 90% of each task's training data and scored on the
held-out 10%; the chosen value is retrained on the full training data with evaluation seeds
{list(spec.evaluation_seeds)} and tested on the MNIST test set.

Reduced budget (2 shared CPU cores), far below the published protocols: common settings
{run_settings}; Adam; a 784-100-100-10 MLP whose predictions are restricted to the task's 2
units (task-incremental). Grids: {grids}; naive fine-tuning as the reference.
{len(result.rows)} trials, {train_minutes:.1f} min of training in total (sum over trials, one
thread each, on a shared machine); {args.jobs} trials at once.

Chosen configuration and test results (mean ± standard error over the evaluation seeds):

{leaderboard_markdown(result, spec)}

Validation scores of every candidate (tuning seed {spec.tuning_seeds[0]}):

{tuning}
"""
    if identical is not None:
        text += (
            "\nThe same sweep through the Ray backend (a local 2-CPU Ray instance, one CPU per "
            "trial) produced "
            + (
                "an identical trial table (every score and metric equal; timings excluded)."
                if identical
                else "a DIFFERENT trial table — see runs/sweeps/bench-*/trials.csv."
            )
            + "\n"
        )
    print(text)
    if not args.quick:
        update_section("docs/results.md", "sweep-ewc-si-split-mnist", text, title="Results")


if __name__ == "__main__":
    main()
