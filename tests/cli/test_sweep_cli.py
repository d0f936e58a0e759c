"""`lifelong sweep` through the command line: results files, protocol record, bad input."""

from __future__ import annotations

import json

import pytest
import yaml

from lifelong.cli import main

SWEEP = {
    "benchmark": "split-digits",
    "setting": "task",
    "run": {"iterations": 10, "batch_size": 32, "hidden": [32], "eval_every": 0},
    "seeds": {"tuning": [0], "evaluation": [7]},
    "protocol": {"name": "first-tasks", "tasks": 2},
    "strategies": {"naive": {"space": {"lr": [0.001, 0.01]}}},
}


def test_sweep_writes_leaderboard_trials_and_protocol(tmp_path, capsys):
    spec = tmp_path / "tiny.yaml"
    spec.write_text(yaml.safe_dump(SWEEP))
    out = tmp_path / "out"
    assert main(["sweep", str(spec), "--out", str(out), "--jobs", "1", "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert "first 2 task(s)" in printed and "| naive |" in printed
    for name in ("leaderboard.md", "trials.md", "trials.csv", "results.json"):
        assert (out / name).is_file()
    results = json.loads((out / "results.json").read_text())
    assert results["protocol"]["name"] == "first-tasks" and results["protocol"]["tuning_tasks"] == 2
    stages = [(r["stage"], r["evaluated_on"]) for r in results["trials"]]
    assert stages == [("tuning", "test (tasks 1-2)")] * 2 + [("evaluation", "test (tasks 3-5)")]
    final = json.loads((out / results["trials"][-1]["folder"] / "metrics.json").read_text())
    assert len(final["accuracy_matrix"]) == 5  # trained on the whole stream, reported on tasks 3-5
    assert "Protocol: first-tasks" in (out / "leaderboard.md").read_text()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["missing.yaml"], "missing.yaml: no such file"),
        (["{spec}", "--address", "auto"], "--address needs --backend ray"),
        (["{spec}", "--jobs", "0"], "--jobs must be >= 1"),
    ],
)
def test_bad_input_is_one_line(args, message, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    spec = tmp_path / "tiny.yaml"
    spec.write_text(yaml.safe_dump(SWEEP))
    assert main(["sweep", *[a.format(spec=spec) for a in args]]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1
