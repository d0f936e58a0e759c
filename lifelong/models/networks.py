"""Backbones with a linear head.

Every model maps a batch (B, C, H, W) to logits over all output units of the scenario and exposes
``features(x)`` (the penultimate representation, used by iCaRL's nearest-mean classifier and DER) and
``head`` (the final ``nn.Linear``). Task-incremental "multi-head" behaviour is obtained by restricting
the logits to the task's units (see ``Scenario.output_mask``), which is equivalent to one head per task.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import torch
import torch.nn.functional as F
from torch import nn


class FeatureModel(Protocol):
    """What every model here exposes besides ``forward``: the penultimate representation."""

    feature_dim: int
    head: nn.Linear

    def features(self, x: torch.Tensor) -> torch.Tensor: ...


class MLP(nn.Module):
    """Fully connected ReLU network (e.g. 2x400 or 2x1000 hidden units, van de Ven & Tolias 2019)."""

    def __init__(self, in_features: int, hidden: Sequence[int], num_outputs: int) -> None:
        super().__init__()
        layers: list[nn.Module] = [nn.Flatten()]
        width = in_features
        for size in hidden:
            layers += [nn.Linear(width, size), nn.ReLU()]
            width = size
        self.body = nn.Sequential(*layers)
        self.feature_dim = width
        self.head = nn.Linear(width, num_outputs)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(x))


class SmallCNN(nn.Module):
    """Two 3x3 conv blocks (conv-ReLU-maxpool) and a fully connected layer."""

    def __init__(
        self,
        in_channels: int,
        image_size: int,
        num_outputs: int,
        channels: Sequence[int] = (32, 64),
        hidden: int = 256,
    ) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        c, size = in_channels, image_size
        for out in channels:
            layers += [nn.Conv2d(c, out, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2)]
            c, size = out, size // 2
        layers += [nn.Flatten(), nn.Linear(c * size * size, hidden), nn.ReLU()]
        self.body = nn.Sequential(*layers)
        self.feature_dim = hidden
        self.head = nn.Linear(hidden, num_outputs)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(x))


class _BasicBlock(nn.Module):
    def __init__(self, in_planes: int, planes: int, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_planes, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.shortcut: nn.Module = nn.Identity()
        if stride != 1 or in_planes != planes:
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_planes, planes, 1, stride, bias=False), nn.BatchNorm2d(planes)
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + self.shortcut(x))


class ReducedResNet18(nn.Module):
    """ResNet-18 with ``width`` base filters (20 in GEM/A-GEM, Lopez-Paz & Ranzato 2017)."""

    def __init__(self, in_channels: int, num_outputs: int, width: int = 20) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, width, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        blocks: list[nn.Module] = []
        in_planes = width
        for mult, stride in [(1, 1), (2, 2), (4, 2), (8, 2)]:
            for s in (stride, 1):
                blocks.append(_BasicBlock(in_planes, width * mult, s))
                in_planes = width * mult
        self.blocks = nn.Sequential(*blocks)
        self.feature_dim = in_planes
        self.head = nn.Linear(in_planes, num_outputs)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        out = self.blocks(F.relu(self.bn1(self.conv1(x))))
        return F.adaptive_avg_pool2d(out, 1).flatten(1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))
