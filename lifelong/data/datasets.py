"""Datasets as in-memory tensors: MNIST, Fashion-MNIST (IDX), CIFAR-10/100 (python pickle), Digits.

Every loader returns an :class:`ImageDataset` whose images are ``uint8`` tensors of shape (N, C, H, W)
and labels ``int64`` tensors. Loaded datasets are kept in a small per-process cache keyed by
(name, folder), so a scenario of 20 tasks reads its files once. Users' own data
(:mod:`lifelong.data.custom`) is held the same way, with inputs of any shape (e.g. (N, D) float
features).
"""

from __future__ import annotations

import functools
import gzip
import io
import pickle
import struct
import tarfile
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch

from lifelong.data.files import RemoteFile, data_root, ensure_files, verify, verify_content
from lifelong.errors import DataError, unknown_name


@dataclass(frozen=True)
class ImageDataset:
    """A labelled dataset held as tensors (images, or any fixed-shape inputs).

    Attributes:
        name: dataset name.
        train_x, test_x: uint8 images, shape (N, C, H, W), or float32 inputs of any shape (N, ...).
        train_y, test_y: int64 labels in ``[0, num_classes)``.
        num_classes: number of classes.
        scale: inputs are divided by this (uint8 images: to [0, 1]; 1 for float inputs).
        class_names: optional names of the classes (e.g. an image folder's subfolders).
    """

    name: str
    train_x: torch.Tensor
    train_y: torch.Tensor
    test_x: torch.Tensor
    test_y: torch.Tensor
    num_classes: int
    scale: float = 255.0
    class_names: tuple[str, ...] | None = None

    @property
    def image_shape(self) -> tuple[int, int, int]:
        c, h, w = self.train_x.shape[1:]
        return int(c), int(h), int(w)

    @property
    def sample_shape(self) -> tuple[int, ...]:
        """Shape of one stored input, e.g. (1, 28, 28) or (13,)."""
        return tuple(int(d) for d in self.train_x.shape[1:])

    @property
    def dtype(self) -> torch.dtype:
        """dtype of the stored inputs (uint8 images, else float32)."""
        return self.train_x.dtype

    def gather(self, split: str, indices: torch.Tensor) -> torch.Tensor:
        """Stored inputs ``indices`` of ``split`` ('train' or 'test')."""
        # index_select is several times faster than advanced indexing on (N, C, H, W) tensors.
        return (self.train_x if split == "train" else self.test_x).index_select(0, indices)

    def stream(self, split: str, index_batches: Iterable[torch.Tensor]) -> Iterator[torch.Tensor]:
        """Stored inputs of each index batch, in order."""
        for indices in index_batches:
            yield self.gather(split, indices)

    def to(self, device: torch.device) -> ImageDataset:
        """A copy whose tensors live on ``device``."""
        return replace(
            self,
            train_x=self.train_x.to(device),
            train_y=self.train_y.to(device),
            test_x=self.test_x.to(device),
            test_y=self.test_y.to(device),
        )


# ---------------------------------------------------------------- IDX (MNIST, Fashion-MNIST)
# Base URLs per dataset, tried in order (tests point them at a local server).
MIRRORS: dict[str, tuple[str, ...]] = {
    "mnist": (
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "http://yann.lecun.com/exdb/mnist/",
    ),
    "fashion-mnist": ("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",),
    "cifar10": ("https://www.cs.toronto.edu/~kriz/",),
    "cifar100": ("https://www.cs.toronto.edu/~kriz/",),
}

# (file, published MD5 of the .gz, SHA-256 of the decompressed IDX bytes)
_MNIST_FILES = {
    "mnist": [
        (
            "train-images-idx3-ubyte.gz",
            "f68b3c2dcbeaaa9fbdd348bbdeb94873",
            "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
        ),
        (
            "train-labels-idx1-ubyte.gz",
            "d53e105ee54ea40749a09fcbcd1e9432",
            "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
        ),
        (
            "t10k-images-idx3-ubyte.gz",
            "9fb629c4189551a2d022fa330f9573f3",
            "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
        ),
        (
            "t10k-labels-idx1-ubyte.gz",
            "ec29112dd5afa0611ce80d1b7f02629c",
            "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
        ),
    ],
    "fashion-mnist": [
        (
            "train-images-idx3-ubyte.gz",
            "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
            "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
        ),
        (
            "train-labels-idx1-ubyte.gz",
            "25c81989df183df01b3e8a0aad5dffbe",
            "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
        ),
        (
            "t10k-images-idx3-ubyte.gz",
            "bef4ecab320f06d8554ea6380940ec79",
            "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
        ),
        (
            "t10k-labels-idx1-ubyte.gz",
            "bb300cfdad3c16e7a12a480ee83cd310",
            "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
        ),
    ],
}


def idx_remote_files(name: str, mirrors: tuple[str, ...] | None = None) -> list[RemoteFile]:
    """The four IDX files of ``name`` ('mnist' or 'fashion-mnist'), verified by content SHA-256."""
    bases = mirrors or MIRRORS[name]
    return [
        RemoteFile(fname, tuple(base + fname for base in bases), md5=md5, content_sha256=sha)
        for fname, md5, sha in _MNIST_FILES[name]
    ]


def read_idx(path: Path, expected_dims: int) -> np.ndarray:
    """Parse a (gzipped) IDX file of unsigned bytes; check magic number, rank and size."""
    return parse_idx(path, idx_bytes(path), expected_dims)


def idx_bytes(path: Path) -> bytes:
    """The content of an IDX file, decompressed when gzipped (in one call: several times faster
    than reading a ``gzip.open`` stream)."""
    try:
        raw = path.read_bytes()
        return gzip.decompress(raw) if path.suffix == ".gz" else raw
    except (OSError, EOFError, zlib.error) as err:
        raise DataError(f"{path}: not a readable gzip file ({err})") from None


def parse_idx(path: Path, raw: bytes, expected_dims: int) -> np.ndarray:
    """The array in IDX content ``raw`` (read from ``path``, named in errors)."""
    if len(raw) < 4:
        raise DataError(f"{path}: truncated (only {len(raw)} bytes)")
    zero, dtype_code, ndim = struct.unpack(">HBB", raw[:4])
    if zero != 0 or dtype_code != 0x08 or ndim != expected_dims:
        raise DataError(
            f"{path}: wrong magic number 0x{raw[:4].hex()} (expected an IDX file of unsigned bytes "
            f"with {expected_dims} dimensions)"
        )
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DataError(f"{path}: truncated header")
    dims = struct.unpack(f">{ndim}I", raw[4:header])
    expected_size = header + int(np.prod(dims))
    if len(raw) != expected_size:
        raise DataError(
            f"{path}: wrong size {len(raw)} bytes, expected {expected_size} for shape {dims}"
        )
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(dims)


def load_idx_dataset(
    name: str, root: Path, *, download: bool = False, check: bool = True
) -> ImageDataset:
    """Load MNIST or Fashion-MNIST from ``root/name/`` (downloading when allowed)."""
    remotes = idx_remote_files(name)
    paths = ensure_files(name, root / name, remotes, download_missing=download)
    contents = [idx_bytes(path) for path in paths]  # each file read and decompressed once
    if check:
        for path, remote, content in zip(paths, remotes, contents, strict=False):
            verify_content(path, remote, content)
    train_x, train_y, test_x, test_y = (
        parse_idx(p, raw, 3 if "images" in p.name else 1)
        for p, raw in zip(paths, contents, strict=True)
    )
    if len(train_x) != len(train_y) or len(test_x) != len(test_y):
        raise DataError(f"{root / name}: image and label counts differ")
    return ImageDataset(
        name=name,
        train_x=torch.from_numpy(train_x.copy()).unsqueeze(1),
        train_y=torch.from_numpy(train_y.astype(np.int64)),
        test_x=torch.from_numpy(test_x.copy()).unsqueeze(1),
        test_y=torch.from_numpy(test_y.astype(np.int64)),
        num_classes=10,
    )


# ---------------------------------------------------------------- CIFAR (python pickle archives)
_CIFAR = {
    "cifar10": (
        "cifar-10-python.tar.gz",
        "c58f30108f718f92721af3b95e74349a",
        "cifar-10-batches-py",
        ["data_batch_1", "data_batch_2", "data_batch_3", "data_batch_4", "data_batch_5"],
        ["test_batch"],
        b"labels",
        10,
    ),
    "cifar100": (
        "cifar-100-python.tar.gz",
        "eb9058c3a382ffc7106e4002c42a8d85",
        "cifar-100-python",
        ["train"],
        ["test"],
        b"fine_labels",
        100,
    ),
}


class _SafeUnpickler(pickle.Unpickler):
    """Unpickler that only rebuilds numpy arrays and builtin containers: a crafted archive cannot
    run code."""

    _allowed = {
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
        ("numpy.core.multiarray", "scalar"),
        ("numpy._core.multiarray", "scalar"),
        ("numpy.core.numeric", "_frombuffer"),  # arrays pickled with protocol 5
        ("numpy._core.numeric", "_frombuffer"),
        ("_codecs", "encode"),
    }

    def find_class(self, module: str, name: str):  # type: ignore[no-untyped-def]
        if (module, name) in self._allowed:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"refusing to load {module}.{name}")


def cifar_remote(name: str, mirrors: tuple[str, ...] | None = None) -> RemoteFile:
    """The python-pickle archive of ``name`` ('cifar10' or 'cifar100'), verified by MD5."""
    archive, md5, *_ = _CIFAR[name]
    return RemoteFile(archive, tuple(base + archive for base in mirrors or MIRRORS[name]), md5=md5)


def _read_cifar_member(tar: tarfile.TarFile, member: str, label_key: bytes, archive: Path) -> tuple:
    try:
        handle = tar.extractfile(member)
        if handle is None:
            raise KeyError(member)
        batch = _SafeUnpickler(io.BytesIO(handle.read()), encoding="bytes").load()
        data = np.asarray(batch[b"data"], dtype=np.uint8).reshape(-1, 3, 32, 32)
        labels = np.asarray(batch[label_key], dtype=np.int64)
        if len(labels) != len(data):
            raise ValueError(f"{len(data)} images but {len(labels)} labels")
    except KeyError as err:
        raise DataError(f"{archive}: missing {err} (not a CIFAR python archive?)") from None
    except (pickle.UnpicklingError, ValueError, TypeError, EOFError) as err:
        raise DataError(f"{archive}: corrupt batch '{member}' ({err})") from None
    return data, labels


def load_cifar(
    name: str, root: Path, *, download: bool = False, check: bool = True
) -> ImageDataset:
    """Load CIFAR-10 or CIFAR-100 from the official python archive in ``root/name/``."""
    archive_name, _, inner, train_parts, test_parts, label_key, num_classes = _CIFAR[name]
    remote = cifar_remote(name)
    (archive,) = ensure_files(name, root / name, [remote], download_missing=download)
    if check:
        verify(archive, remote)
    try:
        with tarfile.open(archive, "r:gz") as tar:
            train = [
                _read_cifar_member(tar, f"{inner}/{p}", label_key, archive) for p in train_parts
            ]
            test = [_read_cifar_member(tar, f"{inner}/{p}", label_key, archive) for p in test_parts]
    except (tarfile.TarError, OSError, EOFError) as err:
        raise DataError(f"{archive}: not a readable tar.gz archive ({err})") from None
    tx, ty = (np.concatenate(parts) for parts in zip(*train, strict=False))
    sx, sy = (np.concatenate(parts) for parts in zip(*test, strict=False))
    return ImageDataset(
        name,
        torch.from_numpy(tx),
        torch.from_numpy(ty),
        torch.from_numpy(sx),
        torch.from_numpy(sy),
        num_classes,
    )


# ---------------------------------------------------------------- Digits (ships in scikit-learn)
def load_digits_dataset(test_fraction: float = 0.3, seed: int = 0) -> ImageDataset:
    """scikit-learn's 1,797 8x8 digits (values 0..16), split stratified into train/test by ``seed``."""
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        raise DataError(
            "the digits dataset needs scikit-learn: pip install 'lifelong[digits]'"
        ) from None
    bunch = load_digits()
    images = torch.from_numpy(bunch.images.astype(np.uint8)).unsqueeze(1)
    labels = torch.from_numpy(bunch.target.astype(np.int64))
    generator = torch.Generator().manual_seed(seed)
    test_mask = torch.zeros(len(labels), dtype=torch.bool)
    for c in range(10):
        idx = torch.nonzero(labels == c).flatten()
        idx = idx[torch.randperm(len(idx), generator=generator)]
        test_mask[idx[: round(len(idx) * test_fraction)]] = True
    return ImageDataset(
        "digits",
        images[~test_mask],
        labels[~test_mask],
        images[test_mask],
        labels[test_mask],
        10,
        scale=16.0,
    )


_LOADERS: dict[str, Callable[..., ImageDataset]] = {
    "mnist": functools.partial(load_idx_dataset, "mnist"),
    "fashion-mnist": functools.partial(load_idx_dataset, "fashion-mnist"),
    "cifar10": functools.partial(load_cifar, "cifar10"),
    "cifar100": functools.partial(load_cifar, "cifar100"),
}


@functools.lru_cache(maxsize=4)
def _cached(name: str, root: str, download: bool) -> ImageDataset:
    if name == "digits":
        return load_digits_dataset()
    return _LOADERS[name](Path(root), download=download)


def load_dataset(
    name: str, root: str | Path | None = None, *, download: bool = False
) -> ImageDataset:
    """Load a dataset by name (cached per process). Tensors must be treated as read-only."""
    if name != "digits" and name not in _LOADERS:
        raise unknown_name("dataset", name, [*_LOADERS, "digits"])
    return _cached(name, str(data_root(root)), download)
