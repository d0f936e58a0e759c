"""Diagnostic: does A-GEM's projected step keep the loss on its memory batch from rising?

A-GEM (lifelong/strategies/agem.py) projects the gradient so that, to first order, the average loss
on a memory batch does not increase. This script measures the loss on that same memory batch before
and after each optimizer step (Split MNIST class-incremental, first 3 tasks, 1 epoch, MLP 2x400,
1000 stored examples, 256 drawn per step) and prints how often it rose. Not a benchmark: used to
explain the agem-diagnosis table of docs/results.md.

    OMP_NUM_THREADS=1 python bench/agem_probe.py adam 0.001 128
    OMP_NUM_THREADS=1 python bench/agem_probe.py sgd 0.1 128
    OMP_NUM_THREADS=1 python bench/agem_probe.py sgd 0.01 128
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lifelong import RunConfig, build_scenario  # noqa: E402
from lifelong.core.fields import build_config  # noqa: E402
from lifelong.core.learner import Learner  # noqa: E402
from lifelong.core.runner import resolve  # noqa: E402
from lifelong.core.seeding import seed_everything  # noqa: E402
from lifelong.core.strategy import Batch, Context  # noqa: E402
from lifelong.models.build import ModelSpec, build_model  # noqa: E402
from lifelong.strategies.agem import AGEM  # noqa: E402


class ProbedAGEM(AGEM):
    """A-GEM that records the memory-batch loss before and after each step."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.records: list[tuple[bool, float, float]] = []  # (projected, before, after)
        self._pending: tuple[Batch, float, int] | None = None

    def after_backward(self, batch: Batch) -> None:
        current = self.context.tasks_seen - 1
        self._pending = None
        if current == 0 or len(self.buffer.indices(current)) == 0:
            return
        projections = int(self.projections)
        state = self.context.rng.get_state()
        memory = self.buffer.sample(self.config.replay_batch_size, self.context.rng, current)
        self.context.rng.set_state(state)  # the parent draws the same memory batch
        probe = Batch(memory.x, memory.y, memory.task_ids)
        with torch.no_grad():
            before = float(self.classification_loss(probe))
        super().after_backward(batch)
        self._pending = (probe, before, projections)

    def after_step(self, batch: Batch) -> None:
        if self._pending is not None:
            probe, before, projections = self._pending
            with torch.no_grad():
                after = float(self.classification_loss(probe))
            self.records.append((int(self.projections) > projections, before, after))
        super().after_step(batch)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("optimizer", choices=["adam", "sgd"])
    parser.add_argument("lr", type=float)
    parser.add_argument("batch_size", type=int)
    args = parser.parse_args()
    os.environ.setdefault(
        "LIFELONG_DATA", str(Path(__file__).resolve().parents[2] / "shared" / "data")
    )
    config = resolve(
        RunConfig.of(
            benchmark="split-mnist",
            setting="class",
            strategy="agem",
            first_tasks=3,
            epochs=1,
            batch_size=args.batch_size,
            optimizer=args.optimizer,
            lr=args.lr,
            hidden=(400, 400),
            eval_every=0,
        )
    )
    torch.set_num_threads(1)
    scenario = build_scenario("split-mnist", "class", seed=0).first(3)
    spec = ModelSpec("mlp", scenario.input_shape, scenario.num_outputs, (400, 400))
    seed_everything(0)
    context = Context(
        scenario=scenario,
        model_spec=spec,
        device=torch.device("cpu"),
        batch_size=args.batch_size,
        rng=torch.Generator().manual_seed(1),
    )
    params = build_config(AGEM.config_class, {"buffer_size": 1000, "replay_batch_size": 256})
    strategy = ProbedAGEM(build_model(spec), params, context)
    rows = Learner.from_config(strategy, config).fit().rows
    final = sum(rows[-1]) / len(rows[-1])
    records = torch.tensor([(float(p), b, a) for p, b, a in strategy.records], dtype=torch.float64)
    projected = records[:, 0] > 0
    rose = records[:, 2] > records[:, 1]
    print(
        f"{args.optimizer} lr {args.lr} batch {args.batch_size}: {len(records)} steps after task 1, "
        f"{float(projected.float().mean()):.0%} projected; the memory-batch loss rose after "
        f"{float(rose.float().mean()):.0%} of the steps ({float(rose[projected].float().mean()):.0%} "
        f"of the projected ones), by {float((records[:, 2] - records[:, 1]).mean()):+.4f} per step "
        f"on average; final average accuracy over 3 tasks {100 * final:.1f}%"
    )


if __name__ == "__main__":
    main()
