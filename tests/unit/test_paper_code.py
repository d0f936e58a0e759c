"""Running a paper's own code (bench/run_paper_code.py): its printed evaluation is parsed, records
are summarised over seeds, and the torchvision stand-in transforms MNIST as torchvision does."""

from __future__ import annotations

import json
import sys

import pytest
import torch

import bench.run_paper_code as P
from bench._docs import ROOT

OUTPUT = """
--> Evaluation (domain-incremental learning scenario):

 Precision on test-set (softmax classification):
 - Task 1: 0.5000
 - Task 2: 0.7500
=> average precision over all 2 tasks: 0.6250
"""


def test_the_final_evaluation_is_read_from_the_printed_output():
    assert P.parse(OUTPUT) == ([0.5, 0.75], 0.625)
    with pytest.raises(ValueError, match="no final evaluation"):
        P.parse("training was interrupted")


def test_records_are_summarised_over_their_seeds(tmp_path, monkeypatch):
    monkeypatch.setattr(P, "RESULTS", tmp_path)
    assert P.summary("vandeven-permMNIST-domain") is None
    folder = tmp_path / "vandeven-permMNIST-domain"
    folder.mkdir()
    (folder / "s0.json").write_text(json.dumps({"seed": 0, "average_accuracy": 0.79}))
    assert P.summary("vandeven-permMNIST-domain") == "79.00 (1 seed: 0)"
    (folder / "s1.json").write_text(json.dumps({"seed": 1, "average_accuracy": 0.80}))
    assert P.summary("vandeven-permMNIST-domain") == "79.50 ± 0.50 (2 seeds: 0, 1)"


@pytest.fixture
def stand_in(monkeypatch):
    """The stand-in torchvision first on the path, and gone from ``sys.modules`` afterwards."""
    monkeypatch.syspath_prepend(str(ROOT / "bench" / "paper_code"))
    before = {
        name: module for name, module in sys.modules.items() if name.startswith("torchvision")
    }
    for name in before:
        del sys.modules[name]
    yield
    for name in [m for m in sys.modules if m.startswith("torchvision")]:
        del sys.modules[name]
    sys.modules.update(before)


def test_the_stand_in_pads_and_scales_as_torchvision_on_a_grey_image(stand_in):
    from torchvision import transforms

    image = torch.arange(28 * 28, dtype=torch.int64).remainder(256).to(torch.uint8).view(28, 28)
    out = transforms.Compose([transforms.Pad(2), transforms.ToTensor()])(image)
    assert out.shape == (1, 32, 32) and out.dtype == torch.float32
    assert torch.equal(out[0, 2:30, 2:30], image.float() / 255)  # PIL 'L' -> [0, 1]
    assert out[0, :2].abs().sum() == 0 and out[0, :, :2].abs().sum() == 0  # zero border


def test_a_record_is_reused_only_under_its_commit_command_and_stand_in(tmp_path, monkeypatch):
    stand_in = tmp_path / "paper_code"
    (stand_in / "torchvision").mkdir(parents=True)
    (stand_in / "torchvision" / "__init__.py").write_text("VERSION = 1\n")
    monkeypatch.setattr(P, "STAND_IN", stand_in)
    command = ["python", "main.py", "--seed", "0"]
    record = {"commit": "abc", "command": command, "stand_in_digest": P.stand_in_digest()}
    assert P.reusable(record, "abc", command)
    assert not P.reusable(record, "abd", command)
    assert not P.reusable(record, "abc", [*command, "--no-gpus"])
    assert not P.reusable({**record, "stand_in_digest": None}, "abc", command)  # older record
    (stand_in / "torchvision" / "__init__.py").write_text("VERSION = 2\n")  # the stand-in edited
    assert not P.reusable(record, "abc", command)


def test_the_stored_records_are_runs_of_todays_stand_in():
    for path in sorted(P.RESULTS.glob("*/s*.json")):
        record = json.loads(path.read_text())
        assert record["stand_in_digest"] == P.stand_in_digest(), path
