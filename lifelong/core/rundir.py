"""Run folders: one configuration's results, written by one process at a time.

* **One writer.** :func:`locked` takes an advisory ``fcntl`` lock on ``FOLDER/.lock`` for the whole
  run (or comparison, or sweep); a second writer stops at once with a message naming the holder.
* **One configuration.** :func:`prepare_run_folder` compares the fingerprint of the run about to
  start with whatever the folder holds (a finished run's ``metrics.json``, an interrupted run's
  ``checkpoint.pt``) and refuses to mix them: a finished run is replaced only with ``overwrite``, an
  interrupted one is continued only with ``resume`` and only by the same configuration.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from lifelong.core.identity import HYPERPARAMETERS, describe_difference, identity, same_identity
from lifelong.core.io import remove_stale_temporaries
from lifelong.errors import LifelongError

LOCK_FILE = ".lock"
CHECKPOINT = "checkpoint.pt"
METRICS = "metrics.json"
# Files a run writes; --overwrite removes exactly these (and TensorBoard's folder), nothing else.
RUN_FILES = (
    METRICS,
    "accuracy_matrix.csv",
    "config.yaml",
    "log.csv",
    "curves.png",
    CHECKPOINT,
    "error.txt",
)
RUN_FOLDERS = ("tensorboard",)


class FolderBusyError(LifelongError):
    """Another process is writing to the same output folder."""


class RunFolderError(LifelongError):
    """The output folder holds results that this run must not reuse, resume or replace."""


@contextmanager
def locked(folder: str | Path, purpose: str) -> Iterator[Path]:
    """Hold the folder's writer lock for the ``with`` block; stale temporaries are removed on entry.

    Args:
        folder: the output folder (created if needed).
        purpose: what the holder does, shown to a process that finds the folder busy.

    Raises:
        FolderBusyError: another process holds the lock.
    """
    folder = Path(folder)
    try:
        import fcntl
    except ImportError:  # no advisory locks on this platform (Windows): writers are not serialized
        folder.mkdir(parents=True, exist_ok=True)
        yield folder
        return
    folder.mkdir(parents=True, exist_ok=True)
    handle = open(folder / LOCK_FILE, "a+")  # noqa: SIM115 - held for the whole block
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            raise FolderBusyError(
                f"{folder} is in use by {holder}; wait for it to finish or choose another --out"
            ) from None
        handle.seek(0)
        handle.truncate()
        command = " ".join(Path(sys.argv[0]).name.split() + sys.argv[1:])[:120]
        handle.write(f"pid {os.getpid()} ({purpose}: {command}, since {time.strftime('%H:%M:%S')})")
        handle.flush()
        remove_stale_temporaries(folder)
        yield folder
    finally:
        handle.close()  # closing releases the lock


def saved_identity(folder: Path) -> tuple[str, dict[str, Any]] | None:
    """What the folder holds and the identity of its configuration: ("finished run", ...) from
    metrics.json, or ("interrupted run", ...) from checkpoint.pt; None if neither."""
    metrics = folder / METRICS
    if metrics.is_file():
        try:
            data = json.loads(metrics.read_text())
            return "finished run", recorded_identity(data)
        except (OSError, ValueError, KeyError, TypeError) as err:
            raise RunFolderError(f"{metrics}: unreadable ({err}); use --overwrite") from None
    checkpoint = folder / CHECKPOINT
    if checkpoint.is_file():
        from lifelong.core.checkpoint import load_checkpoint

        return "interrupted run", recorded_identity(load_checkpoint(checkpoint))
    return None


def recorded_identity(saved: Mapping[str, Any]) -> dict[str, Any]:
    """The identity a metrics.json or checkpoint records, with its hyperparameters if it has them."""
    values = identity(saved["config"], saved.get("inputs"))
    if saved.get(HYPERPARAMETERS) is not None:
        values[HYPERPARAMETERS] = saved[HYPERPARAMETERS]
    return values


def clear_run_files(folder: Path) -> None:
    """Remove the files a run writes (``--overwrite``); other files in the folder are kept."""
    for name in RUN_FILES:
        (folder / name).unlink(missing_ok=True)
    for name in RUN_FOLDERS:
        shutil.rmtree(folder / name, ignore_errors=True)


def prepare_run_folder(
    folder: Path, wanted: Mapping[str, Any], *, resume: bool, overwrite: bool
) -> bool:
    """Check (and with ``overwrite`` clear) a run folder before a run writes to it.

    Args:
        folder: the run's output folder, locked by the caller.
        wanted: :func:`~lifelong.core.identity.run_identity` of the run about to start.
        resume: continue an interrupted (or return a finished) run of the same configuration.
        overwrite: discard whatever run the folder holds.

    Returns:
        Whether the folder holds a checkpoint of this very configuration to resume from.

    Raises:
        RunFolderError: the folder holds a run of another configuration, or a run of this one
            that would be replaced without ``overwrite``.
    """
    if overwrite:
        clear_run_files(folder)
        return False
    found = saved_identity(folder)
    if found is None:
        clear_run_files(folder)  # a run killed before its first checkpoint: logs of no known run
        return False
    kind, saved = found
    if not same_identity(saved, wanted):
        raise RunFolderError(
            f"{folder} holds a {kind} of another configuration "
            f"({describe_difference(saved, wanted)}); use another --out, or --overwrite to replace it"
        )
    if not resume:
        hint = "--resume to continue it" if kind == "interrupted run" else "nothing to do"
        raise RunFolderError(
            f"{folder} holds a {kind} of this configuration ({hint}); "
            "use --overwrite to run it again, or another --out"
        )
    return (folder / CHECKPOINT).is_file()
