"""Learning curve area (``--lca-batches``) on the A-GEM paper's Permuted MNIST, next to the values
the paper published, into docs/results.md (section ``lca-agem-permuted``)::

    OMP_NUM_THREADS=1 python bench/lca.py --data-root ../shared/data --seeds 0 1 2

Each row is a run of the full-budget ``agem-permuted`` reproduction's row of the same name (its
protocol, hyperparameters and seeds, ``bench/protocols.py``) with LCA_10 measured on each task's
whole test set, as the paper's code does. Finished runs are kept in ``bench/results/lca/`` and reused
only under their own fingerprint; ``--only-finished`` tabulates them without training.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._docs import update_section  # noqa: E402
from bench._records import current_record, stored_run  # noqa: E402
from bench.protocols import PROTOCOLS  # noqa: E402
from bench.reproduce import Job  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results" / "lca"
SECTION = "lca-agem-permuted"
BETA = 10
TEST_IMAGES = 10_000  # MNIST's test split: every test image of each task at every point
# The paper's LCA_10 on Permuted MNIST, mean and standard deviation over its 5 runs, as printed
# by its plotting notebook (`plotting_code/agem_plots.ipynb`, facebookresearch/agem 32d1144; the
# paper's table rounds them): VAN and A-GEM.
PUBLISHED = {"naive-paper-init": (0.2616, 0.0067), "agem-paper-args": (0.2911, 0.0046)}
PAPER_NAMES = {"naive-paper-init": "VAN", "agem-paper-args": "A-GEM"}
KEEP = ("learning_curve", "learning_curve_area", "learning_curve_points")


def reproduction_job(label: str, seed: int) -> Job:
    """The full-budget reproduction's run of the row ``label`` with ``seed``."""
    protocol = PROTOCOLS["agem-permuted"]
    return Job(protocol, "domain", protocol.method(label), (), seed, "test")


def config_of(label: str, seed: int) -> Any:
    """The reproduction row's run with every test image evaluated at b = 0..BETA of each task."""
    return (
        reproduction_job(label, seed)
        .config()
        .replace(lca_batches=BETA, curve_samples=TEST_IMAGES, out=None, checkpoint_every=0)
    )


def path_of(label: str, seed: int) -> Path:
    return RESULTS / label / f"s{seed}.json"


def same_as_reproduction(label: str, record: dict[str, Any]) -> bool | None:
    """Whether the run ended with the accuracy matrix of the reproduction's run of the same row and
    seed (measuring LCA must not change training), or None if that run is not stored."""
    path = reproduction_job(label, record["config"]["seed"]).path
    if not path.is_file():
        return None
    return bool(
        json.loads(path.read_text())["metrics"]["accuracy_matrix"] == record["accuracy_matrix"]
    )


def mean_sd(values: list[float]) -> str:
    if len(values) == 1:
        return f"{values[0]:.4f}"
    return f"{statistics.mean(values):.4f} ± {statistics.stdev(values):.4f}"


def markdown(records: dict[str, list[dict[str, Any]]], seeds: list[int], argv: list[str]) -> str:
    lines = [
        "### Learning curve area on the A-GEM paper's Permuted MNIST",
        "",
        "LCA_10 (Chaudhry et al. 2019; `--lca-batches 10`, README's metrics table): the area "
        "under Z_b, the accuracy on a new task after its first b = 0..10 mini-batches averaged "
        "over the 17 tasks, by the trapezoidal rule over the area of a perfect learner, as the "
        "paper's notebook computes it. Runs of the full-budget `agem-permuted` rows of the same "
        "name (same protocol, hyperparameters and seeds), every test image of the task at every "
        "point. Mean ± standard deviation over seeds, as the paper gives it (its 5 runs).",
        "",
        f"Command: `python bench/lca.py {' '.join(argv)}`; per-run records in "
        "`bench/results/lca/`.",
        "",
        "| row | paper's method | seeds | LCA_10 | published LCA_10 | Z_0 | Z_10 | "
        "final accuracy (%) | accuracy matrix = reproduction run's |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for label, (value, sd) in PUBLISHED.items():
        done = records.get(label, [])
        if not done:
            lines.append(
                f"| {label} | {PAPER_NAMES[label]} | 0/{len(seeds)} | pending | "
                f"{value:.4f} ± {sd:.4f} | | | | |"
            )
            continue
        lca = [r["learning_curve_area"] for r in done]
        first = [r["learning_curve"][0] for r in done]
        last = [r["learning_curve"][-1] for r in done]
        accuracy = [100 * r["average_accuracy"] for r in done]
        same = [same_as_reproduction(label, r) for r in done]
        checked = [s for s in same if s is not None]
        identical = f"{sum(checked)} of {len(checked)} seeds" if checked else "not stored"
        lines.append(
            f"| {label} | {PAPER_NAMES[label]} | {len(done)}/{len(seeds)} | {mean_sd(lca)} | "
            f"{value:.4f} ± {sd:.4f} | {statistics.mean(first):.3f} | "
            f"{statistics.mean(last):.3f} | {statistics.mean(accuracy):.2f} | {identical} |"
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-root", help="folder holding mnist/ (else $LIFELONG_DATA)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument(
        "--rows", nargs="+", default=list(PUBLISHED), choices=list(PUBLISHED), help="rows to run"
    )
    parser.add_argument(
        "--only-finished", action="store_true", help="tabulate the stored runs only (train none)"
    )
    parser.add_argument("--no-docs", action="store_true", help="do not write docs/results.md")
    argv = sys.argv[1:]
    args = parser.parse_args(argv)
    if args.data_root:
        os.environ["LIFELONG_DATA"] = args.data_root
    records: dict[str, list[dict[str, Any]]] = {}
    for label in args.rows:
        for seed in args.seeds:
            config, path = config_of(label, seed), path_of(label, seed)
            record = (
                current_record(config, path)
                if args.only_finished
                else stored_run(config, path, ROOT, keep=KEEP)
            )
            if record is not None:
                records.setdefault(label, []).append(record)
    shown = [a for a in argv if a not in ("--no-docs", "--only-finished")]
    if args.data_root:
        shown = [a if a != args.data_root else "DATA" for a in shown]
    text = markdown(records, args.seeds, shown)
    print(text)
    if records and not args.no_docs:
        update_section("docs/results.md", SECTION, text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
