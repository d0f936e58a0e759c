"""``lifelong data download`` and ``lifelong data check`` (downloads from a server on 127.0.0.1)."""

from __future__ import annotations

import gzip
import os

from lifelong.cli import main
from lifelong.data import datasets
from tests.unit.test_data_files import MNIST_FILES, make_cifar_archive


def _expect_md5(monkeypatch, archive) -> None:
    import hashlib

    entry = datasets._CIFAR["cifar10"]
    digest = hashlib.md5(archive.read_bytes()).hexdigest()
    monkeypatch.setitem(datasets._CIFAR, "cifar10", (entry[0], digest, *entry[2:]))


def _rows(out: str) -> dict[str, list[str]]:
    """``lifelong data check`` table rows by dataset name: [status, folder, detail...]."""
    rows = {}
    for line in out.splitlines():
        cells = line.split()
        if cells and cells[0] in ("mnist", "fashion-mnist", "cifar10", "cifar100", "wordnet"):
            rows[cells[0]] = cells[1:]
    return rows


def test_check_reports_the_real_data_valid(capsys, shared_data, wordnet_data):
    assert main(["data", "check", "mnist", "fashion-mnist", "--data-root", str(shared_data)]) == 0
    rows = _rows(capsys.readouterr().out)
    assert rows["mnist"][0] == rows["fashion-mnist"][0] == "valid"
    assert main(["data", "check", "wordnet", "--data-root", str(wordnet_data)]) == 0
    assert _rows(capsys.readouterr().out)["wordnet"][:1] == ["valid"]


def test_check_finds_corrupt_and_incomplete_datasets(capsys, tmp_path):
    (tmp_path / "mnist").mkdir()
    (tmp_path / "mnist" / MNIST_FILES[0]).write_bytes(gzip.compress(b"not MNIST"))
    (tmp_path / "wordnet").mkdir()
    (tmp_path / "wordnet" / "LICENSE").write_text("MIT License\n")
    (tmp_path / "wordnet" / "lexnames.txt").write_text("00\tadj.all\t3\n")
    code = main(["data", "check", "--data-root", str(tmp_path)])
    rows = _rows(capsys.readouterr().out)
    assert rows["mnist"][:1] == ["corrupt"] and "SHA-256" in " ".join(rows["mnist"])
    assert rows["wordnet"][0] == "corrupt" and "(and 1 more)" in " ".join(rows["wordnet"])
    assert rows["fashion-mnist"][0] == "missing"
    assert f"get it: lifelong data download fashion-mnist --data-root {tmp_path}" in " ".join(
        rows["fashion-mnist"]
    )
    assert code == 1
    # Missing files of a dataset otherwise valid: incomplete, not an error unless it was named.
    (tmp_path / "mnist" / MNIST_FILES[0]).unlink()
    archive = make_cifar_archive(tmp_path / "cifar10", "cifar10")
    assert main(["data", "check", "cifar10", "--data-root", str(tmp_path)]) == 1  # wrong MD5
    archive.unlink()
    assert main(["data", "check", "cifar10", "--data-root", str(tmp_path)]) == 1  # named, missing
    capsys.readouterr()


def test_download_and_check_a_dataset_end_to_end(capsys, monkeypatch, tmp_path, serve):
    archive = make_cifar_archive(tmp_path / "mirror", "cifar10")
    _expect_md5(monkeypatch, archive)
    monkeypatch.setitem(datasets.MIRRORS, "cifar10", (serve(tmp_path / "mirror"),))
    root = tmp_path / "root"
    assert main(["data", "download", "cifar10", "--data-root", str(root), "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "cifar10: 1 file(s) downloaded and verified" in out
    assert os.listdir(root / "cifar10") == [archive.name]
    assert main(["data", "check", "cifar10", "--data-root", str(root)]) == 0
    assert _rows(capsys.readouterr().out)["cifar10"][0] == "valid"
    # Present and valid: kept. Corrupt: replaced.
    assert main(["data", "download", "cifar10", "--data-root", str(root)]) == 0
    assert "already present and valid" in capsys.readouterr().out
    (root / "cifar10" / archive.name).write_bytes(b"garbage")
    assert main(["data", "download", "cifar10", "--data-root", str(root), "-q"]) == 0
    assert "replacing invalid cifar-10-python.tar.gz" in capsys.readouterr().out
    assert (root / "cifar10" / archive.name).read_bytes() == archive.read_bytes()


def test_download_mnist_from_a_mirror_of_the_real_files(
    capsys, monkeypatch, tmp_path, serve, shared_data
):
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    for name in MNIST_FILES:
        os.symlink(shared_data / "mnist" / name, mirror / name)
    monkeypatch.setitem(datasets.MIRRORS, "mnist", (serve(tmp_path / "nowhere"), serve(mirror)))
    root = tmp_path / "root"
    assert main(["data", "download", "mnist", "--data-root", str(root), "-q"]) == 0
    assert sorted(os.listdir(root / "mnist")) == sorted(MNIST_FILES)
    assert main(["data", "check", "mnist", "--data-root", str(root)]) == 0
    capsys.readouterr()


def test_unknown_dataset_is_one_line_listing_the_valid_ones(capsys, tmp_path):
    code = main(["data", "download", "mnist", "imagenet", "--data-root", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1
    assert (
        "unknown dataset 'imagenet'; valid: cifar10, cifar100, fashion-mnist, mnist, wordnet" in err
    )
    assert os.listdir(tmp_path) == []  # names are checked before anything is fetched


def test_a_download_past_its_deadline_is_one_clear_line(capsys, monkeypatch, tmp_path, scripted):
    base, _ = scripted(["trickle"])
    monkeypatch.setitem(datasets.MIRRORS, "mnist", (base,))
    root = tmp_path / "root"
    code = main(["data", "download", "mnist", "--data-root", str(root), "--timeout", "0.3"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1
    assert "download deadline of 0.3 s" in err and "--timeout" in err
    assert os.listdir(root / "mnist") == []
