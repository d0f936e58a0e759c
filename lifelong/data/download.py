"""HTTP downloads that finish or fail cleanly: a deadline, retries, a progress bar, no partial files.

* **Deadline.** One :class:`Deadline` covers everything a command downloads (``DownloadPolicy.deadline``
  seconds, ``--timeout`` on the command line). It is checked after every chunk received; a server that
  sends nothing is dropped after ``stall_timeout`` seconds (or sooner, when the deadline is nearer).
* **Retries.** Transient failures (refused or reset connections, timeouts, a transfer cut short, HTTP
  408/429/5xx) are retried ``retries`` times per mirror, waiting ``backoff`` seconds, then twice as long
  each time. Permanent ones (HTTP 404, an unknown host name) go straight to the next mirror.
* **No partial files.** Bytes go to a uniquely named temporary file in the destination folder,
  ``.<name>.<pid>.<random>.part``, which the caller verifies and then renames into place (an atomic
  step). The temporary file is removed on any error or interrupt; one left behind by a killed process
  is removed by the next download into that folder (its process id no longer runs).
* **Permissions.** Published files get the usual ``0o666`` minus the user's umask (``mkstemp`` would
  leave them readable by their owner only).
* **Progress.** A ``tqdm`` bar on stderr, shown only when stderr is a terminal unless asked for.
"""

from __future__ import annotations

import http.client
import os
import re
import socket
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from lifelong.errors import ConfigError, DataError

CHUNK = 1 << 16
TRANSIENT_HTTP = frozenset({408, 425, 429, 500, 502, 503, 504})
_TEMPORARY = re.compile(r"\.(?P<name>.+)\.(?P<pid>\d+)\.[A-Za-z0-9_]+\.part")


@dataclass(frozen=True)
class DownloadPolicy:
    """How long and how hard to try.

    Attributes:
        deadline: seconds for everything one command (or one ``ensure_files`` call) downloads.
        stall_timeout: seconds without a byte from the server before a try is abandoned.
        retries: extra tries per mirror after a transient failure.
        backoff: seconds before the first retry; doubled before each further one.
        progress: show a progress bar; ``None`` shows it when stderr is a terminal.
    """

    deadline: float = 1800.0
    stall_timeout: float = 60.0
    retries: int = 2
    backoff: float = 1.0
    progress: bool | None = None

    def __post_init__(self) -> None:
        for name in ("deadline", "stall_timeout"):
            if not getattr(self, name) > 0:
                raise ConfigError(f"download {name} must be > 0, got {getattr(self, name)}")
        if self.retries < 0 or self.backoff < 0:
            raise ConfigError("download retries and backoff must be >= 0")

    @property
    def show_progress(self) -> bool:
        return sys.stderr.isatty() if self.progress is None else self.progress


class DeadlineExceeded(DataError):
    """The overall download deadline passed; nothing more is tried."""


class DownloadFailed(DataError):
    """One mirror could not deliver the file (after its retries)."""


class _Transient(Exception):
    """A failure worth retrying on the same mirror."""


class Deadline:
    """A fixed point in time shared by every download of one command."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._end = time.monotonic() + seconds

    def remaining(self) -> float:
        return self._end - time.monotonic()

    def check(self, what: str) -> None:
        """Raise :class:`DeadlineExceeded` naming ``what`` when the deadline has passed."""
        if self.remaining() <= 0:
            raise DeadlineExceeded(
                f"{what}: not finished within the download deadline of {self.seconds:g} s "
                "(a slow or stalled server); try again later, or allow more time with "
                "`lifelong data download --timeout SECONDS`"
            )


# ------------------------------------------------------------------------------ temporary files
@contextmanager
def temporary_file(folder: Path, name: str) -> Iterator[Path]:
    """A new, empty, uniquely named temporary file for ``name`` in ``folder``; removed on exit.

    Publish it with :func:`publish` inside the ``with`` block; whatever is left is deleted, also on
    ``KeyboardInterrupt``.
    """
    handle, tmp_name = tempfile.mkstemp(
        prefix=f".{name}.{os.getpid()}.", suffix=".part", dir=folder
    )
    os.close(handle)
    tmp = Path(tmp_name)
    try:
        yield tmp
    finally:
        tmp.unlink(missing_ok=True)


def _process_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    if os.name != "posix":  # no safe liveness probe: os.kill(pid, 0) would end the process
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, owned by another user
        return True
    return True


def remove_stale_temporaries(folder: Path) -> list[Path]:
    """Delete temporary files in ``folder`` left by download processes that no longer run.

    Returns:
        The files removed.
    """
    removed: list[Path] = []
    if not folder.is_dir():
        return removed
    for path in folder.glob(".*.part"):
        match = _TEMPORARY.fullmatch(path.name)
        if match and not _process_alive(int(match["pid"])):
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed


def _umask() -> int:
    try:  # Linux: read it without changing it (os.umask is process-wide, so racy with threads)
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def publish(tmp: Path, target: Path) -> Path:
    """Flush ``tmp`` to disk, give it the permissions of a normally created file, rename it."""
    with open(tmp, "rb+") as handle:
        os.fsync(handle.fileno())
    os.chmod(tmp, 0o666 & ~_umask())
    os.replace(tmp, target)
    return target


# ------------------------------------------------------------------------------ fetching
def _stream(url: str, tmp: Path, label: str, policy: DownloadPolicy, deadline: Deadline) -> None:
    """One try: write the body of ``url`` to ``tmp``."""
    from tqdm import tqdm

    deadline.check(label)
    timeout = min(policy.stall_timeout, max(deadline.remaining(), 0.01))
    request = urllib.request.Request(url, headers={"User-Agent": "lifelong (python urllib)"})
    received = 0
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            length = response.headers.get("Content-Length")
            total = int(length) if length and length.isdigit() else None
            with (
                open(tmp, "wb") as out,
                tqdm(
                    total=total,
                    desc=label,
                    unit="B",
                    unit_scale=True,
                    unit_divisor=1024,
                    disable=not policy.show_progress,
                    file=sys.stderr,
                    leave=False,
                ) as bar,
            ):
                while chunk := response.read1(CHUNK):
                    out.write(chunk)
                    received += len(chunk)
                    bar.update(len(chunk))
                    deadline.check(label)
    except urllib.error.HTTPError as err:
        if err.code in TRANSIENT_HTTP:
            raise _Transient(f"HTTP Error {err.code}: {err.reason}") from None
        raise DownloadFailed(f"HTTP Error {err.code}: {err.reason}") from None
    except urllib.error.URLError as err:
        deadline.check(label)
        if isinstance(err.reason, socket.gaierror):  # unknown host: retrying will not help
            raise DownloadFailed(str(err)) from None
        raise _Transient(str(err.reason)) from None
    except (http.client.HTTPException, ConnectionError, TimeoutError) as err:
        deadline.check(label)
        raise _Transient(f"{type(err).__name__}: {err}") from None
    if total is not None and received != total:
        raise _Transient(f"connection closed after {received} of {total} bytes")


def fetch(url: str, tmp: Path, *, label: str, policy: DownloadPolicy, deadline: Deadline) -> None:
    """Write the body of ``url`` to ``tmp``, retrying transient failures with exponential backoff.

    Raises:
        DeadlineExceeded: the deadline passed (nothing further should be tried).
        DownloadFailed: a permanent failure, or transient ones that outlasted the retries.
    """
    for attempt in range(policy.retries + 1):
        try:
            _stream(url, tmp, label, policy, deadline)
            return
        except _Transient as err:
            if attempt == policy.retries:
                tries = "try" if attempt == 0 else "tries"
                raise DownloadFailed(f"{err} ({attempt + 1} {tries})") from None
            pause = policy.backoff * 2**attempt
            if pause >= deadline.remaining():
                deadline.check(label)
                raise DeadlineExceeded(
                    f"{label}: {err}; no time left for a retry within the download deadline of "
                    f"{deadline.seconds:g} s"
                ) from None
            time.sleep(pause)


@contextmanager
def downloaded(
    urls: Sequence[str],
    folder: Path,
    name: str,
    verify: Callable[[Path], None],
    *,
    policy: DownloadPolicy,
    deadline: Deadline,
) -> Iterator[Path]:
    """A verified temporary copy of ``name`` from the first mirror that delivers one.

    Each mirror's bytes go to a fresh temporary file in ``folder`` and are checked with ``verify``
    (which raises ``DataError``); the file is removed when the ``with`` block ends, so publish it
    (:func:`publish`) or read it inside the block.

    Raises:
        DeadlineExceeded: the deadline passed.
        DownloadFailed: no mirror delivered a file that passed ``verify``; lists every mirror's error.
    """
    folder.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(folder)
    errors = []
    for url in urls:
        with temporary_file(folder, name) as tmp:
            try:
                fetch(url, tmp, label=name, policy=policy, deadline=deadline)
                verify(tmp)
            except DeadlineExceeded:
                raise
            except DataError as err:
                errors.append(f"{url}: {err}")
                continue
            yield tmp
            return
    raise DownloadFailed(f"could not download {name}: " + "; ".join(errors))
