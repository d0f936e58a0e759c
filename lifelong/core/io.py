"""Atomic writes: a result file is either absent or complete, never half-written.

Each write goes to a uniquely named temporary file beside the target (``.NAME.XXXX.tmp``), which is
flushed, given the permissions the user's umask allows, and renamed over the target. A temporary
left by a killed process is removed by :func:`remove_stale_temporaries` when the folder is next
written under its lock.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

import torch

TEMPORARY_SUFFIX = ".tmp"


def user_file_mode() -> int:
    """The mode a new file gets from ``open()`` under the current umask (e.g. 0o644)."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def temporary_beside(path: Path) -> tuple[int, Path]:
    """A new uniquely named temporary file next to ``path`` (handle, path), with the user's mode."""
    handle, tmp = tempfile.mkstemp(
        prefix=f".{path.name}.", suffix=TEMPORARY_SUFFIX, dir=path.parent
    )
    os.fchmod(handle, user_file_mode())  # mkstemp creates 0600 files
    return handle, Path(tmp)


def remove_stale_temporaries(folder: Path) -> list[Path]:
    """Delete temporaries left in ``folder`` by interrupted writes; returns what was removed.

    Call only while holding the folder's lock (no other writer can be mid-write)."""
    removed = []
    for tmp in Path(folder).glob(f".*{TEMPORARY_SUFFIX}*"):
        if tmp.is_file():
            tmp.unlink(missing_ok=True)
            removed.append(tmp)
    return removed


def _atomic(path: Path, write) -> None:  # type: ignore[no-untyped-def]
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = temporary_beside(path)
    try:
        with os.fdopen(handle, "wb") as out:
            write(out)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_bytes(path: Path, data: bytes) -> None:
    _atomic(path, lambda out: out.write(data))


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode())


def atomic_write_json(path: Path, data: Any) -> None:
    atomic_write_text(path, json.dumps(data, indent=2, default=_jsonable) + "\n")


def atomic_torch_save(path: Path, obj: Any) -> None:
    _atomic(path, lambda out: torch.save(obj, out))


def _jsonable(value: Any) -> Any:
    if isinstance(value, torch.Tensor):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    if hasattr(value, "item"):
        return value.item()
    raise TypeError(f"cannot write {type(value).__name__} as JSON")
