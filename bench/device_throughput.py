"""Training samples per second of lifelong's loop on a device (CUDA when present), fp32 and bf16.

Protocol: Permuted MNIST (domain-incremental), ``naive`` and ``er``, MLP 784-1000-1000-10 and the
reduced ResNet-18 (``--models``), Adam, batch 128, 2 tasks x ``--iterations`` iterations, no curve
evaluation. The scenario's tensors and the replay buffer live on the device; the timer stops after
``torch.cuda.synchronize()``. Each (model, strategy, precision) runs once untimed (warm-up: kernels,
allocator) and then ``--repeats`` times; the median is reported with the device's name.

Without a CUDA device the script says so, records that it skipped, and exits (``--device cpu``
measures the CPU instead, e.g. to check the script).

    python bench/device_throughput.py [--device cuda] [--iterations 300] [--repeats 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._docs import update_section  # noqa: E402
from lifelong import RunConfig  # noqa: E402
from lifelong.core.learner import Learner  # noqa: E402
from lifelong.core.runner import build_run_scenario, build_strategy, resolve  # noqa: E402

SECTION = "device-throughput"
MODELS = {"mlp": ("mlp", [1000, 1000]), "resnet18": ("resnet18", None)}


def samples_per_second(config: RunConfig, device: torch.device) -> float:
    """Training samples per second of one run (scenario build and evaluations excluded)."""
    scenario = build_run_scenario(config, device)
    strategy = build_strategy(config, scenario, device)
    learner = Learner.from_config(strategy, config)
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    learner.fit()
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    training, tasks = config.training, scenario.num_tasks
    assert training.iterations is not None
    return tasks * training.iterations * training.batch_size / learner.progress.train_seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--models", default="mlp,resnet18")
    parser.add_argument("--strategies", default="naive,er")
    parser.add_argument("--iterations", type=int, default=300)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--data-root", default=os.environ.get("LIFELONG_DATA", "/work/shared/data"))
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    device = torch.device(args.device)
    command = f"`python bench/device_throughput.py --device {args.device}`"
    if device.type == "cuda" and not torch.cuda.is_available():
        text = (
            "## Training throughput on a device\n\n"
            f"Skipped: no CUDA device on the machine that ran {command} (torch "
            f"{torch.__version__}, `torch.cuda.is_available()` is False). Run it where a GPU is "
            "present to fill this table (device name, samples/s in fp32 and bf16)."
        )
        print(text)
        if not args.no_write:
            update_section("docs/benchmarks.md", SECTION, text)
        return
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "CPU (1 thread)"
    if device.type == "cpu":
        torch.set_num_threads(1)
    rows = []
    for model in args.models.split(","):
        model_name, hidden = MODELS[model]
        for strategy in args.strategies.split(","):
            for precision in ("fp32", "bf16"):
                config = resolve(
                    RunConfig.of(
                        benchmark="permuted-mnist",
                        tasks=2,
                        strategy=strategy,
                        model=model_name,
                        hidden=hidden,
                        iterations=args.iterations,
                        batch_size=128,
                        eval_every=0,
                        precision=precision,
                        device=str(device),
                        data_root=args.data_root,
                    )
                )
                samples_per_second(config.replace(iterations=20), device)  # warm-up
                speeds = [samples_per_second(config, device) for _ in range(args.repeats)]
                rows.append((model, strategy, precision, statistics.median(speeds)))
                print(rows[-1], flush=True)
    lines = [
        "## Training throughput on a device",
        "",
        f"Device: **{name}**; torch {torch.__version__}; Permuted MNIST, 2 tasks x "
        f"{args.iterations} iterations, batch 128 (ER: +128 replayed), Adam, no curve evaluation; "
        f"median of {args.repeats} runs after a warm-up; measured {time.strftime('%Y-%m-%d')}.",
        "",
        "| model | strategy | precision | samples/s |",
        "|---|---|---|---|",
        *(f"| {m} | {s} | {p} | {v:,.0f} |" for m, s, p, v in rows),
        "",
        f"Command: {command}",
    ]
    text = "\n".join(lines)
    print(text)
    if not args.no_write:
        update_section("docs/benchmarks.md", SECTION, text)


if __name__ == "__main__":
    main()
