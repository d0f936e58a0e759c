"""``lifelong lora-vs-full`` on permuted-digits (offline, fast)."""

from __future__ import annotations

import csv
import json

from lifelong.cli import main


def test_lora_vs_full_writes_table_plot_and_reports_forgetting(tmp_path, capsys):
    out = tmp_path / "lvf"
    code = main(
        [
            "lora-vs-full",
            "--ranks",
            "1,4",
            "--iterations",
            "40",
            "--hidden",
            "32,32",
            "--threads",
            "1",
            "--out",
            str(out),
        ]
    )
    assert code == 0
    rows = json.loads((out / "lora_vs_full.json").read_text())["rows"]
    assert [(r["method"], r["rank"]) for r in rows] == [("full", None), ("lora", 1), ("lora", 4)]
    assert len({r["task0_before"] for r in rows}) == 1  # one shared base
    for r in rows:
        assert abs(r["task0_forgetting"] - (r["task0_before"] - r["task0_after"])) < 1e-12
    assert (
        rows[0]["trainable_parameters"]
        > rows[2]["trainable_parameters"]
        > rows[1]["trainable_parameters"]
    )
    assert len(list(csv.DictReader((out / "lora_vs_full.csv").open()))) == 3
    assert (out / "forgetting_vs_rank.png").stat().st_size > 1000
    assert "task 0 forgetting" in capsys.readouterr().out


def test_lora_vs_full_rejects_bad_ranks(tmp_path, capsys):
    assert main(["lora-vs-full", "--ranks", "0", "--out", str(tmp_path)]) == 2
    assert "rank" in capsys.readouterr().err
