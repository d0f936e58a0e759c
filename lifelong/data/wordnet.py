"""WordNet 3.0 database files: where they are, how they are verified, and how they are fetched.

The folder ``<data root>/wordnet/`` holds (the layout of ``../shared/data/wordnet``):

* ``data.noun.gz``, ``data.verb.gz``, ``data.adj.gz``, ``data.adv.gz``: WordNet 3.0's ``dict/data.*``
  files, gzipped. One line per synset (format: ``wndb(5WN)``); the two-digit field after the offset is
  the lexicographer file (the supersense) of the synset.
* ``lexnames.txt``: a text holding the lexicographer-file table (``NN<whitespace>pos.name`` lines):
  WordNet's ``dict/lexnames``, or the ``lexnames(5WN)`` manual page.
* ``LICENSE``: the WordNet 3.0 licence (redistribution is allowed with this notice).

What is verified, and how:

* each ``data.*.gz``: the SHA-256 of its *decompressed* content equals the digest of the reference copy
  (Debian's ``wordnet-base`` 1:3.0-37, the files of WordNet 3.0's ``dict/`` folder, 82,115 noun and
  13,767 verb synsets);
* ``lexnames.txt``: it lists exactly the 45 lexicographer files of WordNet 3.0, numbered 00-44
  (:data:`LEXICOGRAPHER_FILES`), whatever its layout;
* ``LICENSE``: it contains the licence's opening sentence.

Downloads (``lifelong data download wordnet``) try two sources in turn, each an archive verified by its
SHA-256 before anything is extracted, then every extracted file is verified as above and all are
renamed into place together:

1. Princeton's ``WordNet-3.0.tar.gz`` (``dict/data.*``, ``dict/lexnames``, ``LICENSE``); its SHA-256 is
   the one package managers record for that tarball (Spack). Not checked here (no network): that the
   tarball's ``dict/data.*`` files are byte-identical to Debian's. Debian regenerates them with
   WordNet's own ``grind`` and one patch ("insert missing space in dictionary data", adj.all); if the
   content differs, this source is refused and the next one is used.
2. Debian's ``wordnet-base_3.0-37_all.deb`` (the origin of the reference copy; SHA-256 from Debian
   12's package index), from the Debian archive or, once superseded there, snapshot.debian.org.
"""

from __future__ import annotations

import gzip
import io
import re
import tarfile
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from lifelong.data.download import (
    Deadline,
    DeadlineExceeded,
    DownloadFailed,
    DownloadPolicy,
    downloaded,
    publish,
    temporary_file,
)
from lifelong.data.files import ENV_VAR, data_root, file_digest
from lifelong.errors import DataError

FOLDER = "wordnet"
PARTS_OF_SPEECH = ("noun", "verb", "adj", "adv")

# SHA-256 of the decompressed data.<pos> files of the reference copy (../shared/data/wordnet).
CONTENT_SHA256 = {
    "data.noun.gz": "fea17d2f9656611334eac790e5d69e47645fa180c4aa481fb4cd9b3520754ca2",
    "data.verb.gz": "adcf43e35b581e8036d8b5a52d63d9cd3d3b4870b2720d3c03c799df44777bc2",
    "data.adj.gz": "c89120dfc1f046ddff4a631bf9b7e9fa1a36b5e86565a23bf82dbe14f30b88a7",
    "data.adv.gz": "444a63bf3955080ab7524f5079cfc07ff9bc682cb98bdb1db73b0fb9829f1139",
}
LEXNAMES = "lexnames.txt"
LICENSE = "LICENSE"
FILES = (*CONTENT_SHA256, LEXNAMES, LICENSE)

# The lexicographer files of WordNet 3.0, by number (lexnames(5WN)); for nouns and verbs, the supersenses.
LEXICOGRAPHER_FILES = (
    "adj.all", "adj.pert", "adv.all", "noun.Tops", "noun.act", "noun.animal", "noun.artifact",
    "noun.attribute", "noun.body", "noun.cognition", "noun.communication", "noun.event",
    "noun.feeling", "noun.food", "noun.group", "noun.location", "noun.motive", "noun.object",
    "noun.person", "noun.phenomenon", "noun.plant", "noun.possession", "noun.process",
    "noun.quantity", "noun.relation", "noun.shape", "noun.state", "noun.substance", "noun.time",
    "verb.body", "verb.change", "verb.cognition", "verb.communication", "verb.competition",
    "verb.consumption", "verb.contact", "verb.creation", "verb.emotion", "verb.motion",
    "verb.perception", "verb.possession", "verb.social", "verb.stative", "verb.weather", "adj.ppl",
)  # fmt: skip
_LEXNAME_LINE = re.compile(
    r"^[ \t]*(\d{2})[ \t]+((?:adj|adv|noun|verb)\.[A-Za-z]+)\b", re.MULTILINE
)
_LICENSE_OPENING = (
    "This software and database is being provided to you, the LICENSEE, by Princeton University"
)


@dataclass(frozen=True)
class ArchiveSource:
    """An archive holding the WordNet files.

    Attributes:
        archive: file name of the archive.
        urls: mirrors, tried in order.
        sha256: digest of the archive, checked before anything is extracted.
        members: target file name -> member path(s) in the archive (first present wins); a member
            ending in ``.gz`` is decompressed.
    """

    archive: str
    urls: tuple[str, ...]
    sha256: str
    members: dict[str, tuple[str, ...]]


PRINCETON = ArchiveSource(
    "WordNet-3.0.tar.gz",
    ("https://wordnetcode.princeton.edu/3.0/WordNet-3.0.tar.gz",),
    "640db279c949a88f61f851dd54ebbb22d003f8b90b85267042ef85a3781d3a52",
    {
        **{f"data.{p}.gz": (f"WordNet-3.0/dict/data.{p}",) for p in PARTS_OF_SPEECH},
        LEXNAMES: ("WordNet-3.0/dict/lexnames",),
        LICENSE: ("WordNet-3.0/LICENSE", "WordNet-3.0/COPYING"),
    },
)
DEBIAN = ArchiveSource(
    "wordnet-base_3.0-37_all.deb",
    (
        "https://deb.debian.org/debian/pool/main/w/wordnet/wordnet-base_3.0-37_all.deb",
        "https://snapshot.debian.org/file/78cc404951819f319f979e9b5d08db8304ce49b9",
    ),
    "61060d960f9ada8fa120872312eccd3ecebfbab8c4579e4f5a74e1cf67620752",
    {
        **{f"data.{p}.gz": (f"./usr/share/wordnet/data.{p}",) for p in PARTS_OF_SPEECH},
        LEXNAMES: ("./usr/share/man/man5/lexnames.5WN.gz",),
        LICENSE: ("./usr/share/doc/wordnet-base/copyright",),
    },
)
SOURCES = (PRINCETON, DEBIAN)


@dataclass(frozen=True)
class WordNetFiles:
    """The paths of a verified WordNet 3.0 folder.

    Attributes:
        folder: the ``wordnet`` folder.
        data: part of speech (``noun``, ``verb``, ``adj``, ``adv``) -> its gzipped ``data.*`` file.
        lexnames: the lexicographer-file table (see :func:`read_lexnames`).
        license: the WordNet 3.0 licence.
    """

    folder: Path
    data: dict[str, Path]
    lexnames: Path
    license: Path


# ------------------------------------------------------------------------------ checks
def read_lexnames(path: Path) -> dict[int, str]:
    """The lexicographer-file table in ``path``: number -> name (``5 -> 'noun.animal'``)."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as err:
        raise DataError(f"{path}: cannot read ({err})") from None
    return {int(number): name for number, name in _LEXNAME_LINE.findall(text)}


def verify_file(name: str, path: Path) -> None:
    """Check one WordNet file (named as in the folder) at ``path``; raise ``DataError`` if invalid."""
    if name in CONTENT_SHA256:
        actual = file_digest(path, "sha256", gunzip=True)
        if actual != CONTENT_SHA256[name]:
            raise DataError(
                f"{name} ({path}): SHA-256 of content is {actual}, expected {CONTENT_SHA256[name]} "
                "(corrupt, or not WordNet 3.0)"
            )
    elif name == LEXNAMES:
        table = read_lexnames(path)
        if table != dict(enumerate(LEXICOGRAPHER_FILES)):
            raise DataError(
                f"{name} ({path}): does not list the 45 lexicographer files of WordNet 3.0 "
                f"(found {len(table)} entries)"
            )
    elif name == LICENSE:
        try:
            text = " ".join(path.read_text(encoding="utf-8", errors="replace").split())
        except OSError as err:
            raise DataError(f"{path}: cannot read ({err})") from None
        if _LICENSE_OPENING not in text:
            raise DataError(f"{name} ({path}): not the WordNet 3.0 licence")
    else:
        raise ValueError(f"not a WordNet file: {name}")


def problems(folder: Path) -> dict[str, str]:
    """File name -> what is wrong with it (``'missing'`` or the verification error); empty if valid."""
    found = {}
    for name in FILES:
        path = folder / name
        if not path.is_file():
            found[name] = "missing"
            continue
        try:
            verify_file(name, path)
        except DataError as err:
            found[name] = str(err)
    return found


def wordnet_files(root: str | Path | None = None, *, check: bool = True) -> WordNetFiles:
    """The WordNet 3.0 files under ``<root>/wordnet`` (root: argument, ``$LIFELONG_DATA``, user cache).

    Args:
        root: data root; see :func:`lifelong.data.files.data_root`.
        check: verify every file (about half a second); otherwise only check that they exist.

    Raises:
        DataError: naming the missing or invalid files and how to get them.
    """
    folder = data_root(root) / FOLDER
    if check:
        found = problems(folder)
    else:
        found = {name: "missing" for name in FILES if not (folder / name).is_file()}
    missing = [name for name, problem in found.items() if problem == "missing"]
    if missing:
        raise DataError(
            f"wordnet: missing {', '.join(missing)} in {folder}; run "
            f"`lifelong data download wordnet --data-root {folder.parent}` (or point --data-root / "
            f"${ENV_VAR} at a folder holding 'wordnet/')"
        )
    if found:
        raise DataError(next(iter(found.values())))
    return WordNetFiles(
        folder=folder,
        data={pos: folder / f"data.{pos}.gz" for pos in PARTS_OF_SPEECH},
        lexnames=folder / LEXNAMES,
        license=folder / LICENSE,
    )


# ------------------------------------------------------------------------------ download
def _deb_data_tar(archive: Path) -> tarfile.TarFile:
    """The ``data.tar.*`` member of a Debian package (an ``ar`` archive) as an open tar file."""
    raw = archive.read_bytes()
    if not raw.startswith(b"!<arch>\n"):
        raise DataError(f"{archive.name}: not a Debian package")
    offset = 8
    while offset + 60 <= len(raw):
        header = raw[offset : offset + 60]
        name, size = header[:16].decode().strip().rstrip("/"), int(header[48:58])
        body = raw[offset + 60 : offset + 60 + size]
        if name.startswith("data.tar"):
            return tarfile.open(fileobj=io.BytesIO(body), mode="r:*")
        offset += 60 + size + size % 2
    raise DataError(f"{archive.name}: no data.tar member")


def _read_members(source: ArchiveSource, archive: Path, names: list[str]) -> dict[str, bytes]:
    """The (decompressed) content of the members holding ``names``."""
    contents = {}
    with (
        _deb_data_tar(archive) if source.archive.endswith(".deb") else tarfile.open(archive) as tar
    ):
        for name in names:
            for member in source.members[name]:
                try:
                    handle = tar.extractfile(member)
                except KeyError:
                    continue
                if handle is not None:
                    data = handle.read()
                    contents[name] = gzip.decompress(data) if member.endswith(".gz") else data
                    break
            else:
                raise DataError(f"{source.archive}: no {' or '.join(source.members[name])}")
    return contents


def _install_from(source: ArchiveSource, archive: Path, folder: Path, names: list[str]) -> None:
    """Extract ``names`` from a verified ``archive``, verify each, then rename them all into place."""
    try:
        contents = _read_members(source, archive, names)
    except (tarfile.TarError, OSError, EOFError, ValueError) as err:
        raise DataError(f"{source.archive}: cannot extract ({err})") from None
    with ExitStack() as stack:
        staged = []
        for name, content in contents.items():
            tmp = stack.enter_context(temporary_file(folder, name))
            with open(tmp, "wb") as out:
                if name.endswith(".gz"):
                    with gzip.GzipFile(filename="", mode="wb", fileobj=out, mtime=0) as packed:
                        packed.write(content)
                else:
                    out.write(content)
            verify_file(name, tmp)
            staged.append((tmp, folder / name))
        for tmp, target in staged:
            publish(tmp, target)


def download_wordnet(
    folder: Path,
    names: list[str] | None = None,
    *,
    policy: DownloadPolicy | None = None,
    deadline: Deadline | None = None,
    sources: tuple[ArchiveSource, ...] | None = None,
) -> None:
    """Fetch WordNet 3.0 and place the verified files ``names`` (default: all) in ``folder``.

    Raises:
        DataError: no source delivered verified files, or the deadline passed.
    """
    policy = policy or DownloadPolicy()
    deadline = deadline or Deadline(policy.deadline)
    names = list(FILES) if names is None else names
    errors = []
    for source in sources or SOURCES:

        def check_archive(tmp: Path, source: ArchiveSource = source) -> None:
            actual = file_digest(tmp, "sha256")
            if actual != source.sha256:
                raise DataError(f"SHA-256 is {actual}, expected {source.sha256}")

        try:
            with downloaded(
                source.urls, folder, source.archive, check_archive, policy=policy, deadline=deadline
            ) as archive:
                _install_from(source, archive, folder, names)
            return
        except DeadlineExceeded:
            raise
        except DownloadFailed as err:
            errors.append(str(err))
        except DataError as err:  # a verified archive whose files are not the reference content
            errors.append(f"{source.archive}: {err}")
    raise DataError("could not download WordNet 3.0: " + "; ".join(errors))
