"""The transforms van de Ven & Tolias' MNIST code composes, on a 28x28 uint8 tensor: ``Pad``
(zeros, as PIL's constant fill) and ``ToTensor`` (float in [0, 1] with a channel axis, as
torchvision converts a mode-L image)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F


class Compose:
    def __init__(self, transforms: list[Callable[[Any], Any]]) -> None:
        self.transforms = transforms

    def __call__(self, x: Any) -> Any:
        for transform in self.transforms:
            x = transform(x)
        return x


class Lambda:
    def __init__(self, function: Callable[[Any], Any]) -> None:
        self.function = function

    def __call__(self, x: Any) -> Any:
        return self.function(x)


class Pad:
    def __init__(self, padding: int) -> None:
        self.padding = padding

    def __call__(self, image: torch.Tensor) -> torch.Tensor:
        return F.pad(image, (self.padding,) * 4)


class ToTensor:
    def __call__(self, image: torch.Tensor) -> torch.Tensor:
        return image.float().div(255).unsqueeze(0)
