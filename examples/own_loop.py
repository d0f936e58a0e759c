"""Your own training loop around lifelong's scenarios, evaluation and metrics.

A plain PyTorch loop fine-tunes a network task after task; after each task ``lifelong.evaluate``
measures every task's accuracy (with the setting's masking: in the class-incremental setting only
the classes seen so far may be predicted), which fills the accuracy matrix that
``lifelong.metrics`` summarises. A few seconds on one CPU thread::

    python examples/own_loop.py
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

import lifelong
from lifelong import metrics


def main() -> None:
    torch.manual_seed(0)
    scenario = lifelong.build_scenario("split-digits", "class", num_tasks=5, seed=0)
    c, h, w = scenario.input_shape
    model = nn.Sequential(
        nn.Flatten(), nn.Linear(c * h * w, 100), nn.ReLU(), nn.Linear(100, scenario.num_outputs)
    )
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    generator = torch.Generator().manual_seed(0)

    R = []  # R[i][j]: accuracy on task j after training tasks 0..i
    for task in scenario:
        model.train()
        for _ in range(100):
            pick = torch.randint(len(task.train_indices), (64,), generator=generator)
            indices = task.train_indices[pick]
            x, y = scenario.train_batch(torch.full_like(indices, task.index), indices)
            loss = F.cross_entropy(model(x), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        R.append(lifelong.evaluate(model, scenario, tasks_seen=task.index + 1))
        print(f"after task {task.index + 1}: " + " ".join(f"{a:.3f}" for a in R[-1]))

    summary = metrics.summarize(R)
    print(
        f"\naverage accuracy {summary['average_accuracy']:.3f}, average forgetting "
        f"{summary['average_forgetting']:.3f}, backward transfer {summary['backward_transfer']:.3f}"
    )


if __name__ == "__main__":
    main()
