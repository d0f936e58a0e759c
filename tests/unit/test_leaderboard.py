"""Leaderboard aggregation: mean, sample std and standard error by hand; failures; CSV, markdown."""

from __future__ import annotations

import csv
import io
import math

import pytest

from lifelong.core.results import Stat
from lifelong.report.leaderboard import build_leaderboard, to_csv, to_markdown


def record(strategy, seed, accuracy=None, forgetting=0.1, error=None):
    metrics = None
    if accuracy is not None:
        metrics = {
            "average_accuracy": accuracy,
            "average_forgetting": forgetting,
            "max_forgetting": forgetting,
            "backward_transfer": -forgetting,
            "forward_transfer": 0.0,
            "train_seconds": 2.0,
            "parameters": {"total": 10},
            "strategy_memory_bytes": 2**20,
            "peak_memory_bytes": 3 * 2**20,
        }
    return {"strategy": strategy, "seed": seed, "metrics": metrics, "error": error}


def test_stat_is_mean_sample_std_and_sem():
    s = Stat.of([0.5, 0.7, 0.9])
    assert s.mean == pytest.approx(0.7)
    # sample variance: ((-0.2)^2 + 0 + 0.2^2) / (3 - 1) = 0.04
    assert s.std == pytest.approx(0.2)
    assert s.sem == pytest.approx(0.2 / math.sqrt(3))
    one = Stat.of([0.4])
    assert (one.mean, one.std, one.sem, one.n) == (0.4, None, None, 1)
    assert Stat.of([None, float("nan")]).n == 0


def test_sorted_by_accuracy_and_failures_reported_not_averaged():
    records = [
        record("naive", 0, 0.2),
        record("naive", 1, 0.4),
        record("er", 0, 0.9),
        record("er", 1, None, error="DivergenceError: boom"),
        record("bad", 0, None, error="RuntimeError: broken"),
    ]
    entries = build_leaderboard(records)
    assert [e.strategy for e in entries] == ["er", "naive", "bad"]
    er = entries[0]
    assert (er.runs, er.finished) == (2, 1)
    assert er.stats["average_accuracy"].mean == pytest.approx(0.9)  # the failed seed is not a 0
    assert er.errors == ["seed 1: DivergenceError: boom"]
    assert entries[1].stats["average_accuracy"].mean == pytest.approx(0.3)
    assert entries[2].failed and entries[2].stats["average_accuracy"].mean is None

    rows = list(csv.DictReader(io.StringIO(to_csv(entries))))
    assert [r["strategy"] for r in rows] == ["er", "naive", "bad"]
    assert float(rows[1]["average_accuracy_std"]) == pytest.approx(math.sqrt(0.02))
    assert float(rows[1]["average_accuracy_sem"]) == pytest.approx(0.1)
    assert float(rows[0]["strategy_memory_mb_mean"]) == pytest.approx(1.0)
    assert rows[0]["status"] == "partial" and "boom" in rows[0]["error"]
    assert rows[2]["status"] == "failed" and rows[2]["rank"] == ""

    md = to_markdown(entries)
    assert "| 2 | naive | 2/2 | 0.3000 ± 0.1414 |" in md
    assert "failed: seed 0: RuntimeError: broken" in md


def test_online_runs_add_class_forgetting_to_the_csv():
    runs = [record("er", s, 0.5) for s in (0, 1)]
    for run, value in zip(runs, (0.2, 0.4), strict=True):
        run["metrics"]["online"] = {
            "anytime_auc": 0.6,
            "average_class_forgetting": value,
            "online_accuracy": 0.7,
            "forward_per_sample": 2.0,
            "backward_per_sample": 2.0,
        }
    (entry,) = build_leaderboard(runs)
    assert entry.stats["class_forgetting"].mean == pytest.approx(0.3)
    rows = list(csv.DictReader(io.StringIO(to_csv([entry]))))
    assert float(rows[0]["class_forgetting_mean"]) == pytest.approx(0.3)
