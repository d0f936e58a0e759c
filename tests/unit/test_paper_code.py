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
