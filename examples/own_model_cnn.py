"""Your own network in lifelong: a small CNN class, trained with EWC and LwF on Split MNIST.

Uses only the public API. MNIST is read from ``--data-root`` (or $LIFELONG_DATA); without it the
example falls back to the offline 8x8 Digits split. About half a minute on one CPU thread::

    python examples/own_model_cnn.py --data-root DATA
"""

from __future__ import annotations

import argparse

import torch
from torch import nn

import lifelong
from lifelong import RunConfig, metrics


class SmallConvNet(nn.Module):
    """Two small conv blocks and a linear classifier; any input size (adaptive pooling)."""

    def __init__(self, channels: int = 1, classes: int = 10) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(channels, 8, 5, stride=2, padding=2),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(8, 16, 3, padding=1),
            nn.ReLU(),
            nn.AdaptiveAvgPool2d(2),
            nn.Flatten(),
        )
        self.classifier = nn.Linear(16 * 2 * 2, classes)  # the output layer: the last nn.Linear

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-root", help="folder with mnist/ (else $LIFELONG_DATA)")
    parser.add_argument("--iterations", type=int, default=100, help="iterations per task")
    args = parser.parse_args()

    base = RunConfig.of(
        benchmark="split-mnist",
        setting="task",
        iterations=args.iterations,
        batch_size=64,
        train_samples_per_task=1000,
        data_root=args.data_root,
        eval_every=0,
        threads=1,
    )
    try:  # MNIST if its files are there, else the offline Digits split
        lifelong.build_scenario("split-mnist", "task", data_root=args.data_root)
    except lifelong.LifelongError as err:
        print(f"MNIST not available ({err}); using split-digits")
        base = base.replace(benchmark="split-digits", train_samples_per_task=None)

    print(f"SmallConvNet on {base.data.benchmark}, task-incremental, {args.iterations} it/task\n")
    for strategy, params in [("naive", {}), ("ewc", {"strength": 1000.0}), ("lwf", {})]:
        config = base.replace(strategy=strategy, strategy_params=params)
        # model=: the class is a zero-argument factory, called after the run's seed is set
        result = lifelong.run(config, model=SmallConvNet, write=False)
        R = result.accuracy_matrix
        print(
            f"{strategy:>6}: average accuracy {metrics.average_accuracy(R):.3f}, "
            f"average forgetting {metrics.average_forgetting(R):.3f}, "
            f"final row {' '.join(f'{a:.3f}' for a in R[-1])}"
        )
    print(f"\nconfig recorded as model: {result.metrics['config']['model']}")


if __name__ == "__main__":
    main()
