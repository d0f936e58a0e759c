"""Dataset files: data root, downloads (from a local HTTP server), checksums, IDX and CIFAR.

Downloads: retries, the deadline, a stall timeout, killed downloads, stale temporary files, umask.

Nothing here reaches the internet: the mirror URLs are pointed at a server on 127.0.0.1.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import pickle
import signal
import stat
import struct
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from lifelong.data import datasets
from lifelong.data.datasets import load_dataset, read_idx
from lifelong.data.download import DeadlineExceeded, DownloadPolicy, remove_stale_temporaries
from lifelong.data.files import ENV_VAR, RemoteFile, data_root, download, ensure_files
from lifelong.data.scenarios import build_scenario
from lifelong.errors import ConfigError, DataError
from tests.conftest import PAYLOAD

MNIST_FILES = [
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
]


def _mirror_of_shared_mnist(
    tmp_path: Path, shared_data: Path, replace: dict[str, bytes | None] | None = None
) -> Path:
    """A folder mirroring the real MNIST files; ``replace`` swaps a file's bytes (None: drop it)."""
    folder = tmp_path / "mirror"
    folder.mkdir()
    for name in MNIST_FILES:
        if replace and name in replace:
            if replace[name] is not None:
                (folder / name).write_bytes(replace[name])  # type: ignore[arg-type]
        else:
            os.symlink(shared_data / "mnist" / name, folder / name)
    return folder


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


# ------------------------------------------------------------------------------ data root
def test_data_root_prefers_argument_then_environment_then_user_cache(monkeypatch, tmp_path):
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "env"))
    assert data_root(tmp_path / "arg") == tmp_path / "arg"
    assert data_root() == tmp_path / "env"
    monkeypatch.delenv(ENV_VAR)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert data_root() == tmp_path / "cache" / "lifelong"


def test_missing_files_error_names_them_and_how_to_get_them(tmp_path):
    with pytest.raises(DataError) as err:
        load_dataset("mnist", tmp_path)
    message = str(err.value)
    assert all(name in message for name in MNIST_FILES)
    assert "--download" in message and str(tmp_path / "mnist") in message


# ------------------------------------------------------------------------------ downloads
def test_download_from_mirror_verifies_and_loads(monkeypatch, tmp_path, serve, shared_data):
    base = serve(_mirror_of_shared_mnist(tmp_path, shared_data))
    monkeypatch.setitem(datasets.MIRRORS, "mnist", (base,))
    root = tmp_path / "root"
    data = load_dataset("mnist", root, download=True)
    assert _leftovers(root / "mnist") == sorted(MNIST_FILES)  # no temporary files left
    for name in MNIST_FILES:
        assert (root / "mnist" / name).read_bytes() == (shared_data / "mnist" / name).read_bytes()
    assert data.train_x.shape == (60000, 1, 28, 28) and data.test_y.shape == (10000,)


def test_corrupt_download_is_refused_naming_the_file_and_leaves_nothing(
    monkeypatch, tmp_path, serve, shared_data
):
    bad = gzip.compress(b"\x00\x00\x08\x01" + struct.pack(">I", 3) + b"\x01\x02\x03")
    base = serve(_mirror_of_shared_mnist(tmp_path, shared_data, {"t10k-labels-idx1-ubyte.gz": bad}))
    monkeypatch.setitem(datasets.MIRRORS, "mnist", (base,))
    root = tmp_path / "root"
    with pytest.raises(DataError, match=r"t10k-labels-idx1-ubyte\.gz.*SHA-256.*expected"):
        load_dataset("mnist", root, download=True)
    # The three good files were kept; the corrupt one and every temporary file are gone.
    assert _leftovers(root / "mnist") == sorted(MNIST_FILES[:3])


def test_missing_file_on_the_server_gives_a_clear_error(monkeypatch, tmp_path, serve, shared_data):
    base = serve(
        _mirror_of_shared_mnist(tmp_path, shared_data, {"t10k-images-idx3-ubyte.gz": None})
    )
    monkeypatch.setitem(datasets.MIRRORS, "mnist", (base,))
    root = tmp_path / "root"
    with pytest.raises(DataError, match=r"could not download t10k-images-idx3-ubyte\.gz.*404"):
        load_dataset("mnist", root, download=True)
    assert "t10k-images-idx3-ubyte.gz" not in _leftovers(root / "mnist")
    assert not any(name.startswith(".") for name in _leftovers(root / "mnist"))


def test_a_corrupt_file_in_the_data_root_is_reported(tmp_path, shared_data):
    folder = tmp_path / "mnist"
    folder.mkdir()
    for name in MNIST_FILES[:3]:
        os.symlink(shared_data / "mnist" / name, folder / name)
    (folder / MNIST_FILES[3]).write_bytes(b"not gzip at all")
    with pytest.raises(DataError, match=r"t10k-labels-idx1-ubyte\.gz"):
        load_dataset("mnist", tmp_path)


# ------------------------------------------------------------------------------ IDX format
def _idx(tmp_path: Path, raw: bytes, name: str = "x-idx1-ubyte.gz") -> Path:
    path = tmp_path / name
    path.write_bytes(gzip.compress(raw))
    return path


def test_read_idx_parses_a_valid_file(tmp_path):
    raw = b"\x00\x00\x08\x03" + struct.pack(">3I", 2, 2, 3) + bytes(range(12))
    array = read_idx(_idx(tmp_path, raw), 3)
    assert array.shape == (2, 2, 3) and array[1, 1, 2] == 11


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (
            b"\x00\x00\x08\x03" + struct.pack(">3I", 2, 2, 3) + bytes(12),
            "magic number",
        ),  # rank 3, want 1
        (b"\x00\x00\x0d\x01" + struct.pack(">I", 4) + bytes(16), "magic number"),  # float data
        (b"\x00\x00\x08\x01" + struct.pack(">I", 5) + bytes(4), "wrong size"),
        (b"\x00\x00", "truncated"),
    ],
)
def test_read_idx_rejects_bad_files_naming_them(tmp_path, raw, message):
    path = _idx(tmp_path, raw)
    with pytest.raises(DataError, match=message) as err:
        read_idx(path, 1)
    assert path.name in str(err.value)


def test_read_idx_rejects_a_truncated_gzip(tmp_path):
    path = tmp_path / "cut-idx1-ubyte.gz"
    full = gzip.compress(b"\x00\x00\x08\x01" + struct.pack(">I", 1000) + bytes(range(250)) * 4)
    path.write_bytes(full[: len(full) // 2])
    with pytest.raises(DataError, match="cut-idx1-ubyte.gz"):
        read_idx(path, 1)


# ------------------------------------------------------------------------------ CIFAR
def _pickled(obj: object, protocol: int) -> bytes:
    return pickle.dumps(obj, protocol=protocol)


def _batch(labels: np.ndarray, key: bytes, protocol: int) -> bytes:
    # Every pixel of an image holds its label, so tests can check images and labels stay together.
    data = np.repeat(labels.astype(np.uint8)[:, None], 3072, axis=1)
    return _pickled({b"data": data, key: labels.tolist(), b"batch_label": b"fake"}, protocol)


def make_cifar_archive(
    folder: Path, name: str, *, protocol: int = 2, evil: bytes | None = None
) -> Path:
    """A tiny archive in the official layout (pickled dicts with b'data' N x 3072 uint8)."""
    folder.mkdir(parents=True, exist_ok=True)
    archive, _, inner, train_parts, test_parts, key, classes = datasets._CIFAR[name]
    members = {}
    for part in train_parts:  # cifar10: 5 batches of one image per class; cifar100: two per class
        members[part] = _batch(
            np.tile(np.arange(classes), 1 if classes == 10 else 2), key, protocol
        )
    for part in test_parts:
        members[part] = _batch(np.tile(np.arange(classes), 2), key, protocol)
    if evil is not None:
        members[train_parts[0]] = evil
    path = folder / archive
    with tarfile.open(path, "w:gz") as tar:
        for part, payload in members.items():
            info = tarfile.TarInfo(f"{inner}/{part}")
            info.size = len(payload)
            tar.addfile(info, io.BytesIO(payload))
    return path


def _expect_md5(monkeypatch, name: str, archive: Path) -> None:
    entry = datasets._CIFAR[name]
    digest = hashlib.md5(archive.read_bytes()).hexdigest()
    monkeypatch.setitem(datasets._CIFAR, name, (entry[0], digest, *entry[2:]))


@pytest.mark.parametrize("protocol", [2, 5])
def test_cifar10_archive_loads_with_labels_matching_images(monkeypatch, tmp_path, protocol):
    archive = make_cifar_archive(tmp_path / "cifar10", "cifar10", protocol=protocol)
    _expect_md5(monkeypatch, "cifar10", archive)
    data = load_dataset("cifar10", tmp_path)
    assert data.train_x.shape == (50, 3, 32, 32) and data.test_x.shape == (20, 3, 32, 32)
    assert data.train_x.dtype == torch.uint8 and data.train_y.dtype == torch.int64
    assert torch.equal(data.train_x[:, 0, 0, 0].long(), data.train_y)
    assert torch.equal(data.train_y.bincount(), torch.full((10,), 5))
    assert data.num_classes == 10


def test_cifar100_archive_uses_fine_labels(monkeypatch, tmp_path):
    archive = make_cifar_archive(tmp_path / "cifar100", "cifar100")
    _expect_md5(monkeypatch, "cifar100", archive)
    data = load_dataset("cifar100", tmp_path)
    assert data.num_classes == 100 and int(data.train_y.max()) == 99
    assert torch.equal(data.test_x[:, 2, 31, 31].long(), data.test_y)


def test_cifar_download_from_local_mirror(monkeypatch, tmp_path, serve):
    archive = make_cifar_archive(tmp_path / "mirror", "cifar10")
    _expect_md5(monkeypatch, "cifar10", archive)
    monkeypatch.setitem(datasets.MIRRORS, "cifar10", (serve(tmp_path / "mirror"),))
    root = tmp_path / "root"
    with pytest.raises(DataError, match="--download"):
        load_dataset("cifar10", root)
    data = load_dataset("cifar10", root, download=True)
    assert _leftovers(root / "cifar10") == [archive.name]
    assert len(data.train_y) == 50


def test_cifar_archive_with_wrong_checksum_is_refused(tmp_path):
    make_cifar_archive(tmp_path / "cifar10", "cifar10")  # the real md5 cannot match a fake archive
    with pytest.raises(DataError, match=r"cifar-10-python\.tar\.gz.*MD5.*expected"):
        load_dataset("cifar10", tmp_path)


class _Exploit:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


def test_crafted_pickle_in_cifar_archive_is_refused(monkeypatch, tmp_path):
    marker = tmp_path / "pwned"
    evil = pickle.dumps({b"data": _Exploit(marker), b"labels": [0]}, protocol=2)
    archive = make_cifar_archive(tmp_path / "cifar10", "cifar10", evil=evil)
    _expect_md5(monkeypatch, "cifar10", archive)
    with pytest.raises(DataError, match=r"cifar-10-python\.tar\.gz.*data_batch_1.*refusing"):
        load_dataset("cifar10", tmp_path)
    assert not marker.exists()


def test_cifar_archive_with_mismatched_labels_is_refused(monkeypatch, tmp_path):
    bad = _pickled({b"data": np.zeros((3, 3072), np.uint8), b"labels": [0, 1]}, 2)
    archive = make_cifar_archive(tmp_path / "cifar10", "cifar10", evil=bad)
    _expect_md5(monkeypatch, "cifar10", archive)
    with pytest.raises(DataError, match="3 images but 2 labels"):
        load_dataset("cifar10", tmp_path)


@pytest.mark.parametrize(
    ("name", "bench_name", "tasks"),
    [("cifar10", "split-cifar10", 5), ("cifar100", "split-cifar100", 10)],
)
def test_split_cifar_scenarios_on_a_fake_archive(monkeypatch, tmp_path, name, bench_name, tasks):
    archive = make_cifar_archive(tmp_path / name, name)
    _expect_md5(monkeypatch, name, archive)
    scenario = build_scenario(bench_name, "class", data_root=tmp_path, seed=3, shuffle_classes=True)
    per_task = (10 if name == "cifar10" else 100) // tasks
    assert scenario.num_tasks == tasks and scenario.input_shape == (3, 32, 32)
    seen: set[int] = set()
    for task in scenario:
        labels = scenario.dataset.train_y[task.train_indices]
        assert (
            set(labels.tolist()) == set(task.dataset_classes)
            and len(task.dataset_classes) == per_task
        )
        seen |= set(task.dataset_classes)
        ids = torch.full((len(labels),), task.index)
        x, y = scenario.train_batch(ids, task.train_indices)
        assert x.shape == (len(labels), 3, 32, 32) and x.dtype == torch.float32
        assert set(y.tolist()) == set(task.classes)
    assert seen == set(range(10 if name == "cifar10" else 100))
    assert [t.dataset_classes for t in scenario] != [
        tuple(range(t * per_task, (t + 1) * per_task)) for t in range(tasks)
    ]


# ------------------------------------------------------------------------------ robust downloads
def _payload_remote(base: str, name: str = "blob.bin") -> RemoteFile:
    return RemoteFile(name, (base + name,), md5=hashlib.md5(PAYLOAD).hexdigest())


FAST = DownloadPolicy(backoff=0.01, progress=False)


@pytest.mark.parametrize("failure", ["503", "cut"])
def test_a_transient_failure_is_retried(tmp_path, scripted, failure):
    base, requests = scripted([failure, "ok"])
    path = download(_payload_remote(base), tmp_path, policy=FAST)
    assert path.read_bytes() == PAYLOAD and len(requests) == 2
    assert _leftovers(tmp_path) == ["blob.bin"]


def test_retries_are_bounded_and_a_404_is_not_retried(tmp_path, scripted):
    base, requests = scripted(["503"])
    with pytest.raises(DataError, match=r"blob\.bin.*HTTP Error 503.*\(3 tries\)"):
        download(_payload_remote(base), tmp_path, policy=FAST)
    assert len(requests) == 3  # one try and FAST.retries == 2 retries
    base, requests = scripted(["404"])
    with pytest.raises(DataError, match="HTTP Error 404"):
        download(_payload_remote(base), tmp_path, policy=FAST)
    assert len(requests) == 1
    assert _leftovers(tmp_path) == []


def test_a_slow_server_hits_the_deadline_with_a_clear_error_and_no_partial_file(tmp_path, scripted):
    base, requests = scripted(["trickle"])
    policy = DownloadPolicy(deadline=0.5, backoff=0.01, progress=False)
    with pytest.raises(DeadlineExceeded, match=r"blob\.bin: not finished within .* 0\.5 s"):
        download(_payload_remote(base), tmp_path, policy=policy)
    assert len(requests) == 1  # the deadline ends everything: no retry, no next mirror
    assert _leftovers(tmp_path) == []


def test_a_stalled_server_is_dropped_after_the_stall_timeout(tmp_path, scripted):
    base, requests = scripted(["stall", "ok"])
    policy = DownloadPolicy(stall_timeout=0.3, backoff=0.01, progress=False)
    assert download(_payload_remote(base), tmp_path, policy=policy).read_bytes() == PAYLOAD
    assert len(requests) == 2 and _leftovers(tmp_path) == ["blob.bin"]


def test_one_deadline_covers_every_file_of_ensure_files(tmp_path, scripted):
    base, requests = scripted(["trickle"])
    remotes = [_payload_remote(base, "a.bin"), _payload_remote(base, "b.bin")]
    policy = DownloadPolicy(deadline=0.3, progress=False)
    with pytest.raises(DeadlineExceeded):
        ensure_files("blobs", tmp_path, remotes, download_missing=True, policy=policy)
    assert requests == ["/a.bin"] and _leftovers(tmp_path) == []


KILLED_DOWNLOAD = """
import sys
from pathlib import Path
from lifelong.data.download import DownloadPolicy
from lifelong.data.files import RemoteFile, download
download(RemoteFile("blob.bin", (sys.argv[1],)), Path(sys.argv[2]), policy=DownloadPolicy())
"""


def test_a_killed_download_leaves_no_file_and_the_next_run_cleans_up(tmp_path, scripted):
    base, requests = scripted(["stall"])
    folder = tmp_path / "data"
    child = subprocess.Popen(
        [sys.executable, "-c", KILLED_DOWNLOAD, base + "blob.bin", str(folder)],
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])},
    )
    try:  # wait until the transfer has started (the server then stalls)
        for _ in range(600):
            parts = list(folder.glob(".blob.bin.*.part")) if folder.exists() else []
            if (parts and requests) or child.poll() is not None:
                break
            time.sleep(0.1)
        assert child.poll() is None, "the download process ended before it was killed"
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    assert len(parts) == 1 and not (folder / "blob.bin").exists()
    assert _leftovers(folder) == [parts[0].name]  # the killed process could not clean up

    base, _ = scripted(["ok"])
    assert download(_payload_remote(base), folder, policy=FAST).read_bytes() == PAYLOAD
    assert _leftovers(folder) == ["blob.bin"]  # the stale temporary file was removed


def test_an_interrupted_download_removes_its_temporary_file(monkeypatch, tmp_path, scripted):
    base, _ = scripted(["ok"])

    def interrupted(path, remote):
        assert path.read_bytes() == PAYLOAD  # the bytes arrived; Ctrl-C while verifying them
        raise KeyboardInterrupt

    monkeypatch.setattr("lifelong.data.files.verify", interrupted)
    with pytest.raises(KeyboardInterrupt):
        download(_payload_remote(base), tmp_path, policy=FAST)
    assert _leftovers(tmp_path) == []


def test_only_temporary_files_of_dead_processes_are_removed(tmp_path):
    dead = tmp_path / ".x.gz.999999999.abcd1234.part"  # above any pid_max: no such process
    alive = tmp_path / f".x.gz.{os.getpid()}.abcd1234.part"
    other = tmp_path / ".hidden.part"
    for path in (dead, alive, other):
        path.write_bytes(b"partial")
    assert remove_stale_temporaries(tmp_path) == [dead]
    assert _leftovers(tmp_path) == sorted([alive.name, other.name])


def test_downloaded_files_follow_the_umask(tmp_path, scripted):
    base, _ = scripted(["ok"])
    previous = os.umask(0o027)
    try:
        path = download(_payload_remote(base), tmp_path, policy=FAST)
    finally:
        os.umask(previous)
    assert stat.S_IMODE(path.stat().st_mode) == 0o640  # mkstemp alone would give 0o600


@pytest.mark.parametrize("progress", [True, False])
def test_progress_bar_only_when_asked(tmp_path, scripted, capsys, progress):
    base, _ = scripted(["ok"])
    policy = DownloadPolicy(progress=progress)
    download(_payload_remote(base), tmp_path, policy=policy)
    assert ("blob.bin" in capsys.readouterr().err) == progress


def test_progress_defaults_to_whether_stderr_is_a_terminal(capsys):
    assert DownloadPolicy().show_progress is False  # pytest captures stderr: not a terminal


@pytest.mark.parametrize(
    ("changes", "message"),
    [({"deadline": 0}, "deadline must be > 0"), ({"retries": -1}, "retries and backoff")],
)
def test_download_policy_validates(changes, message):
    with pytest.raises(ConfigError, match=message):
        DownloadPolicy(**changes)
