"""`lifelong compare` and `lifelong report` through the command line: outputs, skipping finished
runs, failed runs, rebuilding from saved results, and bad input (exit 2, one line, no traceback)."""

from __future__ import annotations

import csv
import json
import shutil
from dataclasses import dataclass

import pytest

from lifelong.cli import main

TINY = [
    "--benchmark",
    "split-digits",
    "--iterations",
    "8",
    "--batch-size",
    "32",
    "--hidden",
    "16",
    "--eval-every",
    "4",
    "--threads",
    "1",
    "--jobs",
    "1",
]
OUTPUTS = [
    "leaderboard.csv",
    "leaderboard.md",
    "report.html",
    "curves.png",
    "heatmaps.png",
    "bars.png",
    "cost.png",
    "compare.yaml",
    "outcomes.json",
]


@pytest.fixture(scope="module")
def comparison(tmp_path_factory):
    """naive and cumulative x seeds 0, 1 (a module-wide comparison reused by several tests)."""
    out = tmp_path_factory.mktemp("compare") / "c"
    code = main(
        ["compare", *TINY, "--strategies", "naive,cumulative", "--seeds", "0,1", "--out", str(out)]
    )
    assert code == 0
    return out


def leaderboard(folder):
    return {row["strategy"]: row for row in csv.DictReader((folder / "leaderboard.csv").open())}


def test_compare_writes_leaderboard_plots_and_report(comparison):
    for name in OUTPUTS:
        assert (comparison / name).is_file(), name
    rows = leaderboard(comparison)
    assert set(rows) == {"naive", "cumulative"}
    for strategy, row in rows.items():
        finals = [
            json.loads((comparison / "runs" / f"{strategy}-s{s}" / "metrics.json").read_text())[
                "average_accuracy"
            ]
            for s in (0, 1)
        ]
        assert float(row["average_accuracy_mean"]) == pytest.approx(sum(finals) / 2)
        assert row["finished"] == "2" and row["status"] == "ok"
    # Replaying every task keeps what naive fine-tuning forgets (class-incremental).
    assert float(rows["cumulative"]["average_forgetting_mean"]) < float(
        rows["naive"]["average_forgetting_mean"]
    )
    html = (comparison / "report.html").read_text()
    assert html.count("data:image/png;base64,") == 4
    assert "http://" not in html and "https://" not in html and "<script" not in html
    assert "naive" in html and "python" in html and "torch" in html
    md = (comparison / "leaderboard.md").read_text()
    assert "| 1 | cumulative |" in md


def test_second_compare_skips_finished_runs(comparison, capsys):
    before = {p: p.stat().st_mtime_ns for p in (comparison / "runs").glob("*/metrics.json")}
    code = main(
        [
            "compare",
            *TINY,
            "--strategies",
            "naive,cumulative",
            "--seeds",
            "0,1",
            "--out",
            str(comparison),
        ]
    )
    assert code == 0
    assert capsys.readouterr().out.count("already finished (skipped)") == 4
    assert {p: p.stat().st_mtime_ns for p in before} == before
    statuses = [r["status"] for r in json.loads((comparison / "outcomes.json").read_text())["runs"]]
    assert statuses == ["cached"] * 4


def test_compare_config_file_is_equal_to_flags_and_flags_override(comparison, tmp_path, capsys):
    config = tmp_path / "compare.yaml"
    config.write_text(
        "benchmark: split-digits\nstrategies: [naive]\nseeds: [0]\niterations: 8\n"
        "batch_size: 32\nhidden: [16]\neval_every: 4\nthreads: 1\njobs: 1\n"
    )
    out = tmp_path / "from-file"
    assert main(["compare", "--config", str(config), "--seeds", "1", "--out", str(out)]) == 0
    saved = json.loads((out / "runs" / "naive-s1" / "metrics.json").read_text())
    reference = json.loads((comparison / "runs" / "naive-s1" / "metrics.json").read_text())
    assert saved["accuracy_matrix"] == reference["accuracy_matrix"]
    # The saved compare.yaml repeats the comparison: everything is skipped as finished.
    capsys.readouterr()
    assert main(["compare", "--config", str(out / "compare.yaml")]) == 0
    assert "already finished (skipped)" in capsys.readouterr().out


def test_report_rebuilds_from_saved_results(comparison, tmp_path, capsys):
    copy = tmp_path / "copy"
    shutil.copytree(comparison, copy)
    for name in ["leaderboard.csv", "report.html", "curves.png", "bars.png"]:
        (copy / name).unlink()
    for checkpoint in copy.glob("runs/*/checkpoint.pt"):
        checkpoint.unlink()  # nothing can be trained: the report reads results only
    assert main(["report", str(copy)]) == 0
    assert "cumulative" in capsys.readouterr().out
    assert leaderboard(copy) == leaderboard(comparison)
    assert (copy / "report.html").is_file() and (copy / "curves.png").is_file()
    # Several run folders form a comparison of their own.
    runs = [str(copy / "runs" / n) for n in ("naive-s0", "naive-s1", "cumulative-s0")]
    assert main(["report", *runs, "--out", str(tmp_path / "mixed")]) == 0
    rows = leaderboard(tmp_path / "mixed")
    assert rows["naive"]["finished"] == "2" and rows["cumulative"]["finished"] == "1"
    # A single run folder: its curves, heatmap and page.
    single = copy / "runs" / "naive-s0"
    (single / "curves.png").unlink()
    assert main(["report", str(single)]) == 0
    for name in ("curves.png", "heatmap.png", "report.html"):
        assert (single / name).is_file()


@dataclass(frozen=True)
class _NoConfig:
    pass


def test_failed_run_is_reported_and_the_others_finish(tmp_path, monkeypatch, capsys):
    from lifelong.core import registry
    from lifelong.core.strategy import StrategyConfig
    from lifelong.strategies.naive import Naive

    @dataclass(frozen=True)
    class BrokenConfig(StrategyConfig):
        pass

    class Broken(Naive):
        name = "broken"
        config_class = BrokenConfig

        def loss(self, batch):
            raise RuntimeError("deliberate failure in the loss")

    registry.list_strategies()
    monkeypatch.setitem(registry._STRATEGIES, "broken", Broken)
    out = tmp_path / "c"
    code = main(
        [
            "compare",
            *TINY,
            "--iterations",
            "3",
            "--strategies",
            "broken,naive",
            "--seeds",
            "0",
            "--out",
            str(out),
        ]
    )
    captured = capsys.readouterr()
    assert code == 1
    assert "1 of 2 runs failed" in captured.err
    rows = leaderboard(out)
    assert rows["naive"]["status"] == "ok" and rows["naive"]["rank"] == "1"
    assert rows["broken"]["status"] == "failed"
    assert "RuntimeError: deliberate failure in the loss" in rows["broken"]["error"]
    assert "deliberate failure" in (out / "leaderboard.md").read_text()
    assert "deliberate failure" in (out / "report.html").read_text()
    assert "deliberate failure" in (out / "runs" / "broken-s0" / "error.txt").read_text()


def one_line_error(argv, capsys):
    code = main(argv)
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.startswith("lifelong: error: ") and err.count("\n") == 1 and "Traceback" not in err
    return err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--strategies", "naive,nope"], "unknown strategy 'nope'; valid: "),
        (["-s", "naive,nope"], "unknown strategy 'nope'; valid: "),  # -s as in lifelong run
        (["--strategies", "naive", "--set", "naive.x=1"], "strategy 'naive': unknown key 'x'"),
        (["--strategies", "naive", "--set", "x=1"], "expected STRATEGY.NAME=VALUE, got 'x'"),
        (["--strategies", "naive", "--seeds", "0,a"], "seeds: expected an integer, got 'a'"),
        (["--strategies", "naive", "--seed", "3"], "use --seeds"),
        (
            ["--strategies", "naive", "--setting", "nope"],
            "setting: 'nope' is not one of task, domain, class",
        ),
    ],
)
def test_compare_bad_input(args, message, tmp_path, capsys):
    err = one_line_error(["compare", *TINY, "--out", str(tmp_path / "c"), *args], capsys)
    assert message in err
    assert not (tmp_path / "c" / "runs").exists()  # nothing ran


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("strategies: [naive]\nepochz: 3\n", "unknown key 'epochz'"),
        ("strategies: [naive]\nlr: fast\n", "lr: expected a number, got 'fast'"),
        ("strategies: [naive, ewwc]\n", "unknown strategy 'ewwc'"),
        ("strategies: naive: ewc\n", "not valid YAML"),
    ],
)
def test_compare_config_file_errors_name_the_key(text, message, tmp_path, capsys):
    config = tmp_path / "c.yaml"
    config.write_text(text)
    assert message in one_line_error(["compare", "--config", str(config)], capsys)


def test_report_bad_folders(comparison, tmp_path, capsys):
    assert "no such folder" in one_line_error(["report", str(tmp_path / "missing")], capsys)
    (tmp_path / "empty").mkdir()
    assert "not a run or comparison folder" in one_line_error(
        ["report", str(tmp_path / "empty")], capsys
    )
    corrupt = tmp_path / "corrupt"
    shutil.copytree(comparison / "runs" / "naive-s0", corrupt)
    (corrupt / "metrics.json").write_text('{"accuracy_matrix": [[0.5]')
    assert "corrupt results file" in one_line_error(["report", str(corrupt)], capsys)
    (corrupt / "metrics.json").write_text('{"config": {}}')
    assert "missing 'accuracy_matrix'" in one_line_error(["report", str(corrupt)], capsys)
    # Runs on different scenarios cannot be compared.
    other = tmp_path / "other"
    shutil.copytree(comparison / "runs" / "naive-s1", other)
    metrics = json.loads((other / "metrics.json").read_text())
    metrics["config"]["setting"] = "task"
    (other / "metrics.json").write_text(json.dumps(metrics))
    err = one_line_error(["report", str(comparison / "runs" / "naive-s0"), str(other)], capsys)
    assert "disagree on setting" in err
