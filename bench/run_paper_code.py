"""Run a paper's own code on this machine and keep what it measures, to tell a published number's
gap from lifelong's code.

``vandeven``: van de Ven & Tolias' code (github.com/GMvandeVen/continual-learning) at the commit of
the 2019 paper's hyperparameters, f0b1461, ``main.py`` with its defaults for the experiment and
scenario (no method flag: fine-tuning, the "None" baseline), ``--no-gpus``, one seed per run. Its
two imports lifelong does not install are stood in for by ``bench/paper_code/`` (torchvision's MNIST
read from the data root's IDX files and four tensor transforms; visdom unused). The checkout is
yours: clone the repository and check out f0b1461 (``--repo``). Each run's record, its command and
the accuracy per task the code prints on the full test sets, goes to
``bench/results/paper-code/vandeven-<experiment>-<scenario>/s<seed>.json``; a run whose record
exists for the same commit, command and stand-in is not run again. ``bench/reproduce.py report`` cites these
records in its causes (``{paper:vandeven-permMNIST-domain}``). A record is reused only under the
same commit, command and stand-in (the digest of ``bench/paper_code/``): an edit to the stand-in runs
the code again.

    OMP_NUM_THREADS=1 python bench/run_paper_code.py vandeven --repo PATH --seeds 0 1
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench._records import write_record  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "paper-code"
STAND_IN = ROOT / "bench" / "paper_code"
VANDEVEN_COMMIT = "f0b1461e666fa2842283de288c6b328234a1d5c2"
_TASK = re.compile(r"^ - Task (\d+): ([0-9.]+)$", re.M)
_AVERAGE = re.compile(r"=> average precision over all (\d+) tasks: ([0-9.]+)")


def stand_in_digest() -> str:
    """SHA-256 of the stand-in's files (their paths and contents): part of a record's identity."""
    digest = hashlib.sha256()
    for path in sorted(STAND_IN.rglob("*.py")):
        digest.update(path.relative_to(STAND_IN).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def reusable(record: dict[str, Any], commit: str, command: list[str]) -> bool:
    """Whether a stored record is a run of this commit, command and stand-in."""
    return (
        record.get("commit") == commit
        and record.get("command") == command
        and record.get("stand_in_digest") == stand_in_digest()
    )


def _commit(repo: Path) -> str:
    done = subprocess.run(
        ["git", "-C", str(repo), "rev-parse", "HEAD"], capture_output=True, text=True
    )
    if done.returncode != 0:
        raise SystemExit(f"{repo} is not a git checkout: {done.stderr.strip()}")
    return done.stdout.strip()


def _mnist_folder(data_root: str | None) -> Path:
    from lifelong.data.files import data_root as resolve_root

    folder = resolve_root(data_root) / "mnist"
    names = [
        f"{s}-{k}-idx{n}-ubyte.gz"
        for s in ("train", "t10k")
        for k, n in (("images", 3), ("labels", 1))
    ]
    missing = [n for n in names if not (folder / n).is_file()]
    if missing:
        raise SystemExit(
            f"MNIST is missing from {folder} ({', '.join(missing)}): `lifelong data download "
            "mnist`, or give --data-root / LIFELONG_DATA"
        )
    return folder


def parse(output: str) -> tuple[list[float], float]:
    """Per-task accuracies and their average, as the paper code prints them."""
    per_task = [float(value) for _, value in _TASK.findall(output)]
    average = _AVERAGE.search(output)
    if average is None or not per_task:
        raise ValueError("the paper code's output has no final evaluation")
    return per_task, float(average[2])


def run_vandeven(args: argparse.Namespace, seed: int) -> dict[str, Any]:
    commit = _commit(args.repo)
    if commit != VANDEVEN_COMMIT:
        raise SystemExit(f"{args.repo} is at {commit[:7]}; check out {VANDEVEN_COMMIT[:7]}")
    flags = ["--experiment", args.experiment, "--scenario", args.scenario, "--seed", str(seed)]
    path = RESULTS / f"vandeven-{args.experiment}-{args.scenario}" / f"s{seed}.json"
    command = ["python", "main.py", *flags, "--no-gpus"]
    if path.is_file():
        record = json.loads(path.read_text())
        if reusable(record, commit, command):
            return record
    env = {
        **os.environ,
        "PYTHONPATH": str(STAND_IN),
        "MNIST_IDX": str(_mnist_folder(args.data_root)),
        "OMP_NUM_THREADS": str(args.threads),
    }
    print(f"run {' '.join(command)} (in {args.repo})", flush=True)
    started = time.time()
    with tempfile.TemporaryDirectory() as scratch:  # the code's results, plots and data dirs
        dirs = ["--data-dir", scratch, "--results-dir", f"{scratch}/results", "--plot-dir", scratch]
        done = subprocess.run(
            [sys.executable, "main.py", *flags, "--no-gpus", *dirs],
            cwd=args.repo,
            env=env,
            capture_output=True,
            text=True,
        )
    if done.returncode != 0:
        raise SystemExit(f"the paper code failed (exit {done.returncode}):\n{done.stderr[-2000:]}")
    per_task, average = parse(done.stdout)
    record = {
        "repository": "github.com/GMvandeVen/continual-learning",
        "commit": commit,
        "command": command,
        "seed": seed,
        "stand_in": "bench/paper_code (torchvision MNIST from IDX files; visdom unused)",
        "stand_in_digest": stand_in_digest(),
        "per_task_accuracy": per_task,
        "average_accuracy": average,
        "wall_seconds": round(time.time() - started, 1),
    }
    write_record(path, record)
    print(f"  {100 * average:.2f}%", flush=True)
    return record


def summary(name: str) -> str | None:
    """``"79.56 (1 seed: 0)"`` or ``"79.10 ± 0.46 (2 seeds: 0, 1)"`` over a paper-code result's
    records (None when it has none)."""
    records = [json.loads(p.read_text()) for p in sorted((RESULTS / name).glob("s*.json"))]
    if not records:
        return None
    values = [100 * r["average_accuracy"] for r in records]
    seeds = ", ".join(str(r["seed"]) for r in records)
    if len(values) == 1:
        return f"{values[0]:.2f} (1 seed: {seeds})"
    sem = statistics.stdev(values) / len(values) ** 0.5
    return f"{statistics.fmean(values):.2f} ± {sem:.2f} ({len(values)} seeds: {seeds})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="code", required=True)
    vandeven = sub.add_parser("vandeven", help="van de Ven & Tolias (f0b1461)")
    vandeven.add_argument("--repo", type=Path, required=True, help="a checkout at f0b1461")
    vandeven.add_argument("--experiment", choices=("permMNIST", "splitMNIST"), default="permMNIST")
    vandeven.add_argument("--scenario", choices=("task", "domain", "class"), default="domain")
    vandeven.add_argument("--seeds", type=int, nargs="+", default=[0])
    vandeven.add_argument("--data-root", help="folder holding mnist/ (else $LIFELONG_DATA)")
    vandeven.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    for seed in args.seeds:
        run_vandeven(args, seed)


if __name__ == "__main__":
    main()
