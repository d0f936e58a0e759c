"""Image folders laid out one subfolder per class (``root/<class name>/<image files>``), read with
Pillow (the ``images`` extra).

Classes are the subfolders in sorted order (label 0 is the first name), images every file below a
class folder, in sorted path order; files and folders whose name starts with a dot are skipped, as
are plain files directly in ``root``. Images are converted to one mode (grayscale "L" or "RGB"),
resized to one size when asked, and returned as uint8 tensors (C, H, W), like the built-in datasets.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset

from lifelong.errors import DataError


def _pil() -> Any:
    try:
        from PIL import Image
    except ImportError:
        raise DataError(
            "reading image folders needs Pillow: pip install 'lifelong[images]'"
        ) from None
    return Image


@dataclass(frozen=True)
class ImageFolder:
    """The files and labels of an image folder (nothing decoded yet)."""

    root: Path
    class_names: tuple[str, ...]
    files: tuple[Path, ...]
    labels: torch.Tensor


def list_image_folder(root: str | Path) -> ImageFolder:
    """Class folders and image files of ``root``; errors name an empty class folder."""
    root = Path(root)
    if not root.is_dir():
        raise DataError(f"{root}: no such folder")
    folders = sorted(
        (d for d in root.iterdir() if d.is_dir() and not d.name.startswith(".")),
        key=lambda d: d.name,
    )
    if not folders:
        raise DataError(f"{root}: no class folders (expected one subfolder of images per class)")
    files: list[Path] = []
    labels: list[int] = []
    for label, folder in enumerate(folders):
        members = sorted(
            f
            for f in folder.rglob("*")
            if f.is_file() and not any(p.startswith(".") for p in f.relative_to(folder).parts)
        )
        if not members:
            raise DataError(f"{folder}: class folder '{folder.name}' has no images")
        files += members
        labels += [label] * len(members)
    return ImageFolder(
        root, tuple(d.name for d in folders), tuple(files), torch.tensor(labels, dtype=torch.long)
    )


def probe_images(files: tuple[Path, ...]) -> tuple[list[str], list[tuple[int, int]]]:
    """Mode and (width, height) of every file, read from the headers only (no decoding)."""
    image = _pil()
    modes, sizes = [], []
    for path in files:
        try:
            with image.open(path) as img:
                modes.append(img.mode)
                sizes.append(img.size)
        except OSError as err:  # PIL.UnidentifiedImageError is an OSError
            raise DataError(f"{path}: not an image file Pillow can read ({err})") from None
    return modes, sizes


def load_image(path: Path, mode: str, size: tuple[int, int] | None) -> torch.Tensor:
    """One image as a uint8 tensor (C, H, W) in ``mode``, resized (bilinear) to ``size`` = (H, W)."""
    image = _pil()
    try:
        with image.open(path) as img:
            img = img.convert(mode)
            if size is not None and img.size != (size[1], size[0]):
                img = img.resize((size[1], size[0]), image.Resampling.BILINEAR)
            array = np.array(img)
    except OSError as err:
        raise DataError(f"{path}: not an image file Pillow can read ({err})") from None
    pixels = torch.from_numpy(array)
    return pixels.permute(2, 0, 1).contiguous() if pixels.ndim == 3 else pixels.unsqueeze(0)


class ImageFiles(Dataset):
    """A map-style Dataset over image files: item ``i`` is (uint8 image (C, H, W), label).

    Args:
        files: image paths.
        labels: one class label per file.
        mode: Pillow mode every image is converted to ("L" or "RGB").
        size: (H, W) every image is resized to (``None``: keep, all must already agree).
    """

    def __init__(
        self,
        files: tuple[Path, ...],
        labels: torch.Tensor,
        mode: str,
        size: tuple[int, int] | None,
    ) -> None:
        self.files, self.labels, self.mode, self.size = files, labels, mode, size

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        return load_image(self.files[index], self.mode, self.size), int(self.labels[index])

    @property
    def targets(self) -> torch.Tensor:
        """Labels of every item (torchvision's attribute name), known without reading images."""
        return self.labels
