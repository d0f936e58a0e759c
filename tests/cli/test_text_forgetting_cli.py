"""``lifelong text-forgetting`` on real Split WordNet with the bag-of-words model (tiny budget)."""

from __future__ import annotations

import csv
import json

from lifelong.cli import main
from lifelong.experiments.text_forgetting import COLUMNS


def args(root, out, *extra):
    return [
        "text-forgetting",
        "--model",
        "bow",
        "--first-tasks",
        "2",
        "--samples-per-class",
        "3",
        "--epochs",
        "1",
        "--seeds",
        "0",
        "--jobs",
        "1",
        "--threads",
        "1",
        "--set",
        "ewc.fisher_samples=4",
        "--data-root",
        str(root),
        "--out",
        str(out),
        *extra,
    ]


def test_text_forgetting_writes_table_figure_report_and_reuses_runs(wordnet_data, tmp_path, capsys):
    out = tmp_path / "tf"
    assert main(args(wordnet_data, out)) == 0
    saved = json.loads((out / "text_forgetting.json").read_text())
    rows = saved["rows"]
    assert [r["configuration"] for r in rows] == [
        "full",
        "lora",
        "lora-ewc",
        "lora-replay",
        "joint",
    ]
    with (out / "text_forgetting.csv").open() as f:
        reader = csv.DictReader(f)
        assert reader.fieldnames == COLUMNS
        assert len(list(reader)) == 5
    full, lora, lora_ewc, lora_replay, joint = rows
    # LoRA trains the adapter and the head only; the bounds train every parameter
    assert full["trainable_parameters"] == joint["trainable_parameters"]
    assert full["trainable_parameters"] > 10 * lora["trainable_parameters"]
    assert lora["trainable_parameters"] == lora_ewc["trainable_parameters"]
    assert saved["settings"]["configurations"]["lora-ewc"]["params"]["fisher_samples"] == 4
    for name in ("full", "lora-replay"):
        metrics = json.loads((out / "runs" / f"{name}-s0" / "metrics.json").read_text())
        R = metrics["accuracy_matrix"]
        row = next(r for r in rows if r["configuration"] == name)
        assert row["average_accuracy"] == sum(R[-1]) / 2
        assert row["learning_accuracy"] == (R[0][0] + R[1][1]) / 2
        assert metrics["config"]["lora_rank"] == (0 if name == "full" else 8)
        assert metrics["config"]["lr"] == (1e-4 if name == "full" else 1e-3)
    assert (out / "fine_tuning.png").stat().st_size > 1000
    page = (out / "report.html").read_text()
    assert "Fine-tuning configurations" in page and "LoRA + replay" in page
    printed = capsys.readouterr().out
    assert "learning accuracy (%)" in printed and "joint training (upper bound)" in printed
    # a second call reuses every finished run; another configuration in the folder is refused
    assert main(args(wordnet_data, out, "--configurations", "lora-ewc")) == 0
    assert "lora-ewc-s0 (already finished)" in capsys.readouterr().out
    assert main(args(wordnet_data, out, "--configurations", "lora-ewc", "--lr", "0.01")) == 2
    assert "another configuration (lr:" in capsys.readouterr().err
    only = ["--configurations", "lora-ewc", "--seeds", "0,1", "--only-finished"]
    assert main(args(wordnet_data, out, *only)) == 0
    assert "1 of 2 runs finished" in capsys.readouterr().out
    assert not (out / "runs" / "lora-ewc-s1").exists()  # nothing trained
    assert json.loads((out / "text_forgetting.json").read_text())["rows"][0]["seeds"] == 1
    assert main(args(wordnet_data, out, "--configurations", "lora")) == 2
    assert "no configuration runs 'ewc'" in capsys.readouterr().err


def test_text_forgetting_rejects_unknown_configuration(tmp_path, capsys):
    from lifelong.cli import text_forgetting
    from lifelong.experiments.text_forgetting import CONFIGURATIONS

    assert tuple(CONFIGURATIONS) == text_forgetting.CONFIGURATIONS  # --help's list, kept in step
    code = main(["text-forgetting", "--model", "bow", "--configurations", "lora,adam"])
    assert code == 2
    assert "unknown 'adam'" in capsys.readouterr().err
