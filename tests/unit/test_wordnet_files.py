"""WordNet 3.0 files: verification, the accessor, and downloads of both archive layouts.

The download tests serve archives from 127.0.0.1: tiny synthetic WordNet files (with their digests
patched in) so they run anywhere, and one built from the real files when they are present.
"""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import io
import lzma
import os
import shutil
import stat
import tarfile
from pathlib import Path

import pytest

from lifelong.data import wordnet
from lifelong.data.wordnet import (
    FILES,
    LEXICOGRAPHER_FILES,
    download_wordnet,
    problems,
    read_lexnames,
    wordnet_files,
)
from lifelong.errors import DataError

LICENSE_TEXT = (
    b"WordNet Release 3.0\n\nThis software and database is being provided to you, the LICENSEE, by\n"
    b"Princeton University under the following license.\n"
)
LEXNAMES_TABLE = "".join(f"{i:02d}\t{name}\t1\n" for i, name in enumerate(LEXICOGRAPHER_FILES))


# ------------------------------------------------------------------------------ real files
def test_the_real_files_verify_and_hold_wordnet_3(wordnet_data):
    files = wordnet_files(wordnet_data)
    assert files.folder == wordnet_data / "wordnet" and set(files.data) == {
        "noun",
        "verb",
        "adj",
        "adv",
    }
    table = read_lexnames(files.lexnames)
    assert len(table) == 45 and table[5] == "noun.animal" and table[13] == "noun.food"
    with gzip.open(files.data["noun"], "rt", encoding="utf-8") as lines:
        synsets = sum(1 for line in lines if not line.startswith("  "))  # licence lines: indented
    assert synsets == 82115  # WordNet 3.0's noun synsets


def test_a_changed_byte_is_reported_and_the_accessor_refuses(tmp_path, wordnet_data):
    folder = tmp_path / "wordnet"
    shutil.copytree(wordnet_data / "wordnet", folder)
    content = bytearray(gzip.decompress((folder / "data.adv.gz").read_bytes()))
    content[-2] ^= 1
    (folder / "data.adv.gz").write_bytes(gzip.compress(bytes(content)))
    assert list(problems(folder)) == ["data.adv.gz"]
    assert "SHA-256 of content" in problems(folder)["data.adv.gz"]
    with pytest.raises(DataError, match=r"data\.adv\.gz.*expected"):
        wordnet_files(tmp_path)


def test_download_of_a_princeton_layout_archive_built_from_the_real_files(
    tmp_path, serve, wordnet_data
):
    real = wordnet_data / "wordnet"
    members = {f"WordNet-3.0/dict/data.{p}": gzip.decompress((real / f"data.{p}.gz").read_bytes())
               for p in wordnet.PARTS_OF_SPEECH}  # fmt: skip
    members["WordNet-3.0/dict/lexnames"] = LEXNAMES_TABLE.encode()
    members["WordNet-3.0/LICENSE"] = (real / "LICENSE").read_bytes()
    source = _tar_source(tmp_path / "mirror", members, serve)
    download_wordnet(tmp_path / "root" / "wordnet", sources=(source,))
    assert wordnet_files(tmp_path / "root").folder == tmp_path / "root" / "wordnet"


# ------------------------------------------------------------------------------ synthetic files
FAKE_DATA = {f"data.{p}.gz": f"00001740 03 n 01 {p} 0 000 | a {p}\n".encode() for p in
             wordnet.PARTS_OF_SPEECH}  # fmt: skip


@pytest.fixture
def fake_digests(monkeypatch):
    digests = {name: hashlib.sha256(content).hexdigest() for name, content in FAKE_DATA.items()}
    monkeypatch.setattr(wordnet, "CONTENT_SHA256", digests)


def _tar_source(folder: Path, members: dict[str, bytes], serve) -> wordnet.ArchiveSource:
    folder.mkdir(parents=True, exist_ok=True)
    archive = folder / wordnet.PRINCETON.archive
    with tarfile.open(archive, "w:gz", compresslevel=1) as tar:
        for name, content in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(content)
            tar.addfile(info, io.BytesIO(content))
    digest = hashlib.sha256(archive.read_bytes()).hexdigest()
    return dataclasses.replace(
        wordnet.PRINCETON, urls=(serve(folder) + archive.name,), sha256=digest
    )


def _ar(members: dict[str, bytes]) -> bytes:
    """A Unix ``ar`` archive (the container of a .deb)."""
    out = b"!<arch>\n"
    for name, body in members.items():
        out += f"{name:<16}{0:<12}{0:<6}{0:<6}{100644:<8}{len(body):<10}`\n".encode() + body
        out += b"\n" * (len(body) % 2)
    return out


def _deb_source(folder: Path, members: dict[str, bytes], serve) -> wordnet.ArchiveSource:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:xz") as tar:
        for name, content in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(content)
            tar.addfile(info, io.BytesIO(content))
    folder.mkdir(parents=True, exist_ok=True)
    archive = folder / wordnet.DEBIAN.archive
    archive.write_bytes(
        _ar({"debian-binary": b"2.0\n", "control.tar.xz": lzma.compress(b""), "data.tar.xz": buffer.getvalue()})
    )  # fmt: skip
    digest = hashlib.sha256(archive.read_bytes()).hexdigest()
    return dataclasses.replace(wordnet.DEBIAN, urls=(serve(folder) + archive.name,), sha256=digest)


def _princeton_members(**changes: bytes) -> dict[str, bytes]:
    members = {f"WordNet-3.0/dict/{name[:-3]}": content for name, content in FAKE_DATA.items()}
    members["WordNet-3.0/dict/lexnames"] = LEXNAMES_TABLE.encode()
    members["WordNet-3.0/LICENSE"] = LICENSE_TEXT
    members.update({f"WordNet-3.0/dict/{k.replace('_', '.')}": v for k, v in changes.items()})
    return members


def _debian_members() -> dict[str, bytes]:
    members = {f"./usr/share/wordnet/{name[:-3]}": content for name, content in FAKE_DATA.items()}
    manual = ".TS\n" + LEXNAMES_TABLE.replace("\t1\n", "\tdescription\n") + ".TE\n"
    members["./usr/share/man/man5/lexnames.5WN.gz"] = gzip.compress(manual.encode())
    members["./usr/share/doc/wordnet-base/copyright"] = (
        b"Files: *\nLicense: WordNet\n " + LICENSE_TEXT
    )
    return members


def test_download_extracts_verifies_and_places_every_file(tmp_path, serve, fake_digests):
    source = _tar_source(tmp_path / "mirror", _princeton_members(), serve)
    folder = tmp_path / "root" / "wordnet"
    download_wordnet(folder, sources=(source,))
    assert sorted(os.listdir(folder)) == sorted(FILES)  # no temporary files, no archive
    assert problems(folder) == {}
    assert gzip.decompress((folder / "data.verb.gz").read_bytes()) == FAKE_DATA["data.verb.gz"]
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE((folder / "LICENSE").stat().st_mode) == 0o666 & ~umask


def test_a_source_with_wrong_content_is_refused_whole_and_the_next_source_used(
    tmp_path, serve, fake_digests
):
    wrong = _tar_source(tmp_path / "a", _princeton_members(data_adj=b"not WordNet\n"), serve)
    debian = _deb_source(tmp_path / "b", _debian_members(), serve)
    folder = tmp_path / "root" / "wordnet"
    with pytest.raises(DataError, match=r"WordNet-3\.0\.tar\.gz: data\.adj\.gz.*SHA-256"):
        download_wordnet(folder, sources=(wrong,))
    assert os.listdir(folder) == []  # nothing placed: the source delivered a wrong file
    download_wordnet(folder, sources=(wrong, debian))
    assert problems(folder) == {}
    assert read_lexnames(folder / "lexnames.txt") == dict(enumerate(LEXICOGRAPHER_FILES))


def test_an_archive_with_the_wrong_digest_is_not_extracted(tmp_path, serve, fake_digests):
    source = dataclasses.replace(
        _tar_source(tmp_path / "mirror", _princeton_members(), serve), sha256="0" * 64
    )
    with pytest.raises(DataError, match=r"could not download WordNet.*SHA-256 is .* expected 0+"):
        download_wordnet(tmp_path / "wordnet", sources=(source,))
    assert os.listdir(tmp_path / "wordnet") == []


def test_download_fills_in_only_the_named_files(tmp_path, serve, fake_digests):
    source = _tar_source(tmp_path / "mirror", _princeton_members(), serve)
    folder = tmp_path / "wordnet"
    download_wordnet(folder, ["lexnames.txt"], sources=(source,))
    assert os.listdir(folder) == ["lexnames.txt"]
    assert set(problems(folder)) == set(FILES) - {"lexnames.txt"}


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("lexnames.txt", "00\tadj.all\t3\n", "found 1 entries"),
        ("LICENSE", "MIT License\n", "not the WordNet 3.0 licence"),
        ("data.noun.gz", None, "cannot read"),
    ],
)
def test_each_kind_of_file_is_checked(tmp_path, serve, fake_digests, name, content, message):
    source = _tar_source(tmp_path / "mirror", _princeton_members(), serve)
    folder = tmp_path / "wordnet"
    download_wordnet(folder, sources=(source,))
    if content is None:
        (folder / name).write_bytes(b"truncated, not gzip")
    else:
        (folder / name).write_text(content)
    assert list(problems(folder)) == [name] and message in problems(folder)[name]


def test_missing_files_say_how_to_get_them(tmp_path):
    with pytest.raises(DataError) as err:
        wordnet_files(tmp_path)
    message = str(err.value)
    assert all(name in message for name in FILES)
    assert f"lifelong data download wordnet --data-root {tmp_path}" in message
