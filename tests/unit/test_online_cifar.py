"""The online path on CIFAR-10 (issue 14), end to end: a tiny archive in the official layout is
built by the test, served from 127.0.0.1, downloaded by ``lifelong run --download``, and streamed
once as a task-free split-cifar10 (CIFAR is not in ../shared/data)."""

from __future__ import annotations

import json

from lifelong.cli import main
from lifelong.data import datasets
from tests.unit.test_data_files import _expect_md5, make_cifar_archive


def test_split_cifar10_online_run_end_to_end(monkeypatch, tmp_path, serve, capsys):
    archive = make_cifar_archive(tmp_path / "mirror", "cifar10")  # 5 train, 2 test images a class
    _expect_md5(monkeypatch, "cifar10", archive)
    monkeypatch.setitem(datasets.MIRRORS, "cifar10", (serve(tmp_path / "mirror"),))
    out = tmp_path / "run"
    args = [
        "run", "-b", "split-cifar10", "--online", "--boundaries", "hidden", "--batch-size", "4",
        "-s", "er", "--model", "cnn", "--set", "buffer_size=20", "--set", "replay_batch_size=4",
        "--anytime-every", "5", "--threads", "1", "--data-root", str(tmp_path / "root"),
        "--download", "--out", str(out),
    ]  # fmt: skip
    assert main(args) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["scenario"]["input_shape"] == [3, 32, 32]
    assert len(metrics["accuracy_matrix"]) == 5 and metrics["config"]["boundaries"] == "hidden"
    online = metrics["online"]
    # 5 tasks of 2 classes x 5 images, each seen once and tested before training on it
    assert online["samples"] == 50 and online["online_tested"] == 50
    assert online["anytime"]["samples"][-1] == 50 and online["anytime"]["tasks_appeared"][-1] == 5
    assert len(online["class_forgetting"]) == 10
    assert all(0 <= f <= 1 for f in online["class_forgetting"])
    assert 0 <= online["anytime_auc"] <= 1
    # the replay adds 4 examples per step once the memory holds some: more than one pass a sample
    assert online["forward_per_sample"] > 1.0
    assert "anytime accuracy AUC" in capsys.readouterr().out


def test_split_cifar10_online_without_files_is_a_one_line_error(tmp_path, capsys):
    assert main(["run", "-b", "split-cifar10", "--online", "--data-root", str(tmp_path)]) == 2
    assert "cifar10: missing cifar-10-python.tar.gz" in capsys.readouterr().err
