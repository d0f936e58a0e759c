"""Where dataset files live, and how they are fetched and verified.

The data root is, in order: the ``data_root`` argument (``--data-root``), the ``LIFELONG_DATA``
environment variable, or a per-user cache folder (``$XDG_CACHE_HOME/lifelong`` or ``~/.cache/lifelong``).
Downloads (:mod:`lifelong.data.download`) go to a temporary file in the destination folder, are
verified, then renamed into place, so a failed, interrupted or killed download never leaves a
half-written file under the final name.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from lifelong.data.download import Deadline, DownloadPolicy, downloaded, publish
from lifelong.errors import DataError

ENV_VAR = "LIFELONG_DATA"


@dataclass(frozen=True)
class RemoteFile:
    """One file of a dataset: its name, where to fetch it, and how to verify it.

    Attributes:
        name: file name inside the dataset folder.
        urls: mirrors, tried in order.
        md5: digest of the file as published (verified after a download when ``sha256`` is unset).
        content_sha256: for gzipped files, the SHA-256 of the *decompressed* bytes; this identifies the
            content even when a mirror re-compressed the file.
    """

    name: str
    urls: tuple[str, ...]
    md5: str | None = None
    content_sha256: str | None = None


def data_root(explicit: str | os.PathLike[str] | None = None) -> Path:
    """Resolve the data root: argument, then ``$LIFELONG_DATA``, then the per-user cache."""
    if explicit:
        return Path(explicit).expanduser()
    if os.environ.get(ENV_VAR):
        return Path(os.environ[ENV_VAR]).expanduser()
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "lifelong"


def file_digest(path: Path, algorithm: str, *, gunzip: bool = False) -> str:
    """Hex digest of a file (of its decompressed content when ``gunzip``)."""
    import gzip

    digest = hashlib.new(algorithm)
    opener = gzip.open if gunzip else open
    try:
        with opener(path, "rb") as handle:  # type: ignore[operator]
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
    except (OSError, EOFError) as err:
        raise DataError(f"{path}: cannot read ({err}); delete it and download it again") from None
    return digest.hexdigest()


def verify(path: Path, remote: RemoteFile) -> None:
    """Check a file against its published digests; raise ``DataError`` naming it on mismatch.

    Whether the content is gunzipped follows ``remote.name`` (not ``path``), so a download's
    temporary file is checked like the final one.
    """
    if remote.content_sha256 is not None:
        actual = file_digest(path, "sha256", gunzip=remote.name.endswith(".gz"))
        expected = remote.content_sha256
        kind = "SHA-256 of content"
    elif remote.md5 is not None:
        actual, expected, kind = file_digest(path, "md5"), remote.md5, "MD5"
    else:
        return
    _check_digest(path, remote, kind, actual, expected)


def verify_content(path: Path, remote: RemoteFile, content: bytes) -> None:
    """:func:`verify` for a file whose (decompressed) ``content`` is already in memory: a loader
    that reads the file anyway hashes what it read instead of reading the file twice."""
    if remote.content_sha256 is None:
        verify(path, remote)
        return
    actual = hashlib.sha256(content).hexdigest()
    _check_digest(path, remote, "SHA-256 of content", actual, remote.content_sha256)


def _check_digest(path: Path, remote: RemoteFile, kind: str, actual: str, expected: str) -> None:
    if actual != expected:
        raise DataError(
            f"{remote.name} ({path}): {kind} is {actual}, expected {expected} (corrupt or wrong file); "
            "delete it and download it again"
        )


def download(
    remote: RemoteFile,
    folder: Path,
    *,
    policy: DownloadPolicy | None = None,
    deadline: Deadline | None = None,
) -> Path:
    """Fetch ``remote`` into ``folder``, verify it, and rename it into place.

    Mirrors are tried in turn (each with retries for transient errors); see :mod:`lifelong.data.download`.

    Raises:
        DataError: no mirror delivered a verified file, or the deadline passed.
    """
    policy = policy or DownloadPolicy()
    deadline = deadline or Deadline(policy.deadline)
    with downloaded(
        remote.urls,
        folder,
        remote.name,
        lambda tmp: verify(tmp, remote),
        policy=policy,
        deadline=deadline,
    ) as tmp:
        return publish(tmp, folder / remote.name)


def ensure_files(
    dataset: str,
    folder: Path,
    files: Sequence[RemoteFile],
    *,
    download_missing: bool,
    policy: DownloadPolicy | None = None,
) -> list[Path]:
    """Return the paths of ``files`` in ``folder``, downloading missing ones if allowed.

    All downloads of one call share one deadline (``policy.deadline``).

    Raises:
        DataError: listing the missing files and how to get them, when ``download_missing`` is false.
    """
    missing = [f for f in files if not (folder / f.name).is_file()]
    if missing and not download_missing:
        names = ", ".join(f.name for f in missing)
        raise DataError(
            f"{dataset}: missing {names} in {folder}; pass --download to fetch them, or run "
            f"`lifelong data download {dataset} --data-root {folder.parent}` (or point "
            f"--data-root / ${ENV_VAR} at a folder holding '{folder.name}/')"
        )
    policy = policy or DownloadPolicy()
    deadline = Deadline(policy.deadline)
    for remote in missing:
        download(remote, folder, policy=policy, deadline=deadline)
    return [folder / f.name for f in files]
