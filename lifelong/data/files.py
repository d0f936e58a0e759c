"""Where dataset files live, and how they are fetched and verified.

The data root is, in order: the ``data_root`` argument (``--data-root``), the ``LIFELONG_DATA``
environment variable, or a per-user cache folder (``$XDG_CACHE_HOME/lifelong`` or ``~/.cache/lifelong``).
Downloads go to a temporary file in the destination folder, are verified, then renamed into place, so a
failed or interrupted download never leaves a half-written file behind.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from lifelong.core.errors import DataError

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
    if actual != expected:
        raise DataError(
            f"{remote.name} ({path}): {kind} is {actual}, expected {expected} (corrupt or wrong file); "
            "delete it and download it again"
        )


def download(remote: RemoteFile, folder: Path, *, timeout: float = 60.0) -> Path:
    """Fetch ``remote`` into ``folder`` atomically and verify it.

    Tries each mirror in turn. The bytes go to a temporary file in ``folder`` that is verified and then
    renamed; on any failure the temporary file is removed.
    """
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / remote.name
    errors = []
    for url in remote.urls:
        handle, tmp_name = tempfile.mkstemp(prefix=f".{remote.name}.", dir=folder)
        tmp = Path(tmp_name)
        try:
            with (
                os.fdopen(handle, "wb") as out,
                urllib.request.urlopen(url, timeout=timeout) as resp,
            ):
                for chunk in iter(lambda: resp.read(1 << 20), b""):
                    out.write(chunk)
            verify(tmp, remote)
            os.replace(tmp, target)
            return target
        except (urllib.error.URLError, OSError, ValueError, DataError) as err:
            errors.append(f"{url}: {err}")
        finally:
            tmp.unlink(missing_ok=True)
    raise DataError(f"could not download {remote.name}: " + "; ".join(errors))


def ensure_files(
    dataset: str, folder: Path, files: Sequence[RemoteFile], *, download_missing: bool
) -> list[Path]:
    """Return the paths of ``files`` in ``folder``, downloading missing ones if allowed.

    Raises:
        DataError: listing the missing files and how to get them, when ``download_missing`` is false.
    """
    missing = [f for f in files if not (folder / f.name).is_file()]
    if missing and not download_missing:
        names = ", ".join(f.name for f in missing)
        raise DataError(
            f"{dataset}: missing {names} in {folder}; pass --download to fetch them "
            f"(or put the files there, or point --data-root / ${ENV_VAR} at a folder holding "
            f"'{folder.name}/')"
        )
    for remote in missing:
        download(remote, folder)
    return [folder / f.name for f in files]
