"""``MNIST`` from the gzipped IDX files in ``$MNIST_IDX`` (the data root's ``mnist/`` folder), as
torchvision's class returns it: (transformed image, transformed label), the image a 28x28 uint8
tensor where torchvision gives a PIL image (the stand-in transforms accept it)."""

from __future__ import annotations

import gzip
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch


def _idx(path: Path) -> torch.Tensor:
    with gzip.open(path, "rb") as f:
        data = f.read()
    ndim = data[3]
    dims = [int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)]
    array = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)
    return torch.from_numpy(array.copy())


class MNIST(torch.utils.data.Dataset):
    def __init__(
        self,
        root: str,
        train: bool = True,
        download: bool = False,
        transform: Callable[[Any], Any] | None = None,
        target_transform: Callable[[int], Any] | None = None,
    ) -> None:
        folder = Path(os.environ["MNIST_IDX"])
        split = "train" if train else "t10k"
        self.data = _idx(folder / f"{split}-images-idx3-ubyte.gz")
        self.targets = _idx(folder / f"{split}-labels-idx1-ubyte.gz").long()
        self.transform, self.target_transform = transform, target_transform

    def __len__(self) -> int:
        return len(self.data)

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        image, target = self.data[index], int(self.targets[index])
        if self.transform is not None:
            image = self.transform(image)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return image, target
