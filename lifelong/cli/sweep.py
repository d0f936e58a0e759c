"""``lifelong sweep``: tune strategies' hyperparameters without touching the reported test data."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from lifelong.cli._common import add_plugin_flag

NAME = "sweep"
HELP = "tune hyperparameters (grid or random search, validation or first-tasks selection)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("spec", metavar="SWEEP.yaml", help="sweep file (see examples/sweep-*.yaml)")
    parser.add_argument(
        "--backend",
        choices=("local", "ray"),
        default="local",
        help="local worker processes (default) or Ray tasks",
    )
    parser.add_argument(
        "--address", help="ray: join the cluster at ADDR (default: start a local Ray)"
    )
    parser.add_argument("--out", "-o", help="results folder (default: runs/sweeps/<name>)")
    parser.add_argument(
        "--jobs",
        "-j",
        type=int,
        help="trials at once (local; with ray: the CPUs of the local Ray instance "
        "are jobs x num-cpus); default: cores / num-cpus",
    )
    parser.add_argument(
        "--num-cpus", type=float, help="CPUs per trial (= torch threads), else YAML"
    )
    parser.add_argument("--num-gpus", type=float, help="GPUs per trial (ray), else YAML")
    parser.add_argument("--retry-failed", action="store_true", help="run failed trials again")
    parser.add_argument("--quiet", action="store_true", help="no per-trial progress lines")
    add_plugin_flag(parser)


def main(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from lifelong.core.registry import load_plugins
    from lifelong.errors import ConfigError
    from lifelong.experiments.sweep import (
        leaderboard_markdown,
        load_sweep,
        local_backend,
        run_sweep,
    )

    plugins = list(getattr(args, "plugins", ()))
    load_plugins(plugins)  # before the sweep file's strategies are validated
    spec = load_sweep(args.spec)
    if plugins:  # every trial (in its worker process) imports them too
        known = list(spec.run.get("plugins") or [])
        spec = replace(
            spec, run={**spec.run, "plugins": known + [p for p in plugins if p not in known]}
        )
    if args.num_cpus is not None or args.num_gpus is not None:
        spec = replace(
            spec,
            num_cpus=args.num_cpus if args.num_cpus is not None else spec.num_cpus,
            num_gpus=args.num_gpus if args.num_gpus is not None else spec.num_gpus,
        )
    if spec.num_cpus <= 0 or spec.num_gpus < 0:
        raise ConfigError("--num-cpus must be > 0 and --num-gpus >= 0")
    if args.jobs is not None and args.jobs < 1:
        raise ConfigError("--jobs must be >= 1")
    if args.address and args.backend != "ray":
        raise ConfigError("--address needs --backend ray")
    threads = max(1, int(spec.num_cpus))
    jobs = args.jobs or max(1, (os.cpu_count() or 1) // threads)
    out = Path(args.out or Path("runs") / "sweeps" / spec.name)
    progress = None if args.quiet else print
    started = False
    if args.backend == "ray":
        from lifelong.experiments.ray_backend import ensure_ray, import_ray, ray_backend

        started = ensure_ray(args.address, None if args.address else int(jobs * threads))
        backend = ray_backend(
            threads=threads,
            num_cpus=spec.num_cpus,
            num_gpus=spec.num_gpus,
            address=args.address,
            cluster_cpus=None,
        )
    else:
        backend = local_backend(jobs, threads)
    try:
        result = run_sweep(
            spec,
            out,
            backend=backend,
            threads=threads,
            retry_failed=args.retry_failed,
            progress=progress,
        )
    finally:
        if started:
            import_ray().shutdown()
        close = getattr(backend, "close", None)
        if close is not None:
            close()
    print(f"\nProtocol: {result.protocol.describe()}\n")
    print(leaderboard_markdown(result, spec))
    failed = sum(r["status"] != "ok" for r in result.rows)
    if failed:
        print(
            f"\n{failed} trial(s) failed; see trials.md (errors) and failure.json in their folders"
        )
    print(f"\nresults: {out}/leaderboard.md, results.json, trials.csv, trials.md")
    if result.rows and failed == len(result.rows):
        print("lifelong: every trial of the sweep failed", file=sys.stderr)
        return 1
    return 0
