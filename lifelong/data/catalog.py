"""The datasets ``lifelong data`` can download and check, each with its files and their verification.

======================  =====================================  ==========================================
name                    files (in ``<data root>/<name>/``)     verified by
======================  =====================================  ==========================================
``mnist``               4 gzipped IDX files                    SHA-256 of the decompressed content
``fashion-mnist``       4 gzipped IDX files                    SHA-256 of the decompressed content
``cifar10``             ``cifar-10-python.tar.gz``             published MD5
``cifar100``            ``cifar-100-python.tar.gz``            published MD5
``wordnet``             ``data.*.gz``, lexnames, licence       see :mod:`lifelong.data.wordnet`
======================  =====================================  ==========================================
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from lifelong.data import wordnet
from lifelong.data.download import Deadline, DownloadPolicy
from lifelong.data.files import RemoteFile, download, verify
from lifelong.errors import DataError, unknown_name

# The names in catalogue order, without building the catalogue: ``lifelong --help`` lists them
# without importing the dataset loaders (and torch).
NAMES = ("mnist", "fashion-mnist", "cifar10", "cifar100", "wordnet")


@dataclass(frozen=True)
class Catalogued:
    """A downloadable dataset.

    Attributes:
        name: its name, also the name of its folder under the data root.
        description: one line for listings.
        files: the file names its folder holds.
        problems: folder -> {file name: ``'missing'`` or what is wrong}; empty when all are valid.
        fetch: (folder, file names, policy, deadline) -> None; downloads and places verified files.
    """

    name: str
    description: str
    files: tuple[str, ...]
    problems: Callable[[Path], dict[str, str]]
    fetch: Callable[[Path, list[str], DownloadPolicy, Deadline], None]


def _remote_problems(remotes: list[RemoteFile]) -> Callable[[Path], dict[str, str]]:
    def problems(folder: Path) -> dict[str, str]:
        found = {}
        for remote in remotes:
            path = folder / remote.name
            if not path.is_file():
                found[remote.name] = "missing"
                continue
            try:
                verify(path, remote)
            except DataError as err:
                found[remote.name] = str(err)
        return found

    return problems


def _remote_fetch(
    remotes: list[RemoteFile],
) -> Callable[[Path, list[str], DownloadPolicy, Deadline], None]:
    def fetch(folder: Path, names: list[str], policy: DownloadPolicy, deadline: Deadline) -> None:
        for remote in remotes:
            if remote.name in names:
                download(remote, folder, policy=policy, deadline=deadline)

    return fetch


def _files_dataset(name: str, description: str, remotes: list[RemoteFile]) -> Catalogued:
    return Catalogued(
        name,
        description,
        tuple(r.name for r in remotes),
        _remote_problems(remotes),
        _remote_fetch(remotes),
    )


def catalog() -> dict[str, Catalogued]:
    """Every downloadable dataset by name (built on each call: mirrors can be redirected in tests)."""
    from lifelong.data.datasets import cifar_remote, idx_remote_files

    entries = [
        _files_dataset(
            "mnist", "MNIST digits, 60,000 + 10,000 (11.6 MB)", idx_remote_files("mnist")
        ),
        _files_dataset(
            "fashion-mnist",
            "Fashion-MNIST clothing, 60,000 + 10,000 (30.9 MB)",
            idx_remote_files("fashion-mnist"),
        ),
        _files_dataset(
            "cifar10", "CIFAR-10, 50,000 + 10,000 colour images (170 MB)", [cifar_remote("cifar10")]
        ),
        _files_dataset(
            "cifar100",
            "CIFAR-100, 50,000 + 10,000 colour images (169 MB)",
            [cifar_remote("cifar100")],
        ),
        Catalogued(
            "wordnet",
            "WordNet 3.0 synsets (nouns, verbs, adjectives, adverbs) and lexicographer files",
            wordnet.FILES,
            wordnet.problems,
            lambda folder, names, policy, deadline: wordnet.download_wordnet(
                folder, names, policy=policy, deadline=deadline
            ),
        ),
    ]
    assert tuple(entry.name for entry in entries) == NAMES
    return {entry.name: entry for entry in entries}


def lookup(names: list[str]) -> list[Catalogued]:
    """The catalogue entries of ``names`` (duplicates dropped), or an 'unknown dataset' error."""
    entries = catalog()
    for name in names:
        if name not in entries:
            raise unknown_name("dataset", name, entries)
    return [entries[name] for name in dict.fromkeys(names)]
