"""The defaults harness (bench/defaults.py): a stored check run is reported only while it is a run
of today's defaults; after a default is re-selected it is listed as stale, never shown as current."""

from __future__ import annotations

import argparse
import json

import pytest

import bench.defaults as D
from lifelong.core import tuned_defaults


def _table(path, strength: float) -> None:
    entry = {"params": {"strength": strength}, "inherit": False, "reason": "test", "provenance": {}}
    path.write_text(json.dumps({"ewc": {"digits/class": entry}}))
    tuned_defaults._load.cache_clear()


@pytest.fixture
def harness(tmp_path, monkeypatch):
    monkeypatch.setattr(D, "RESULTS", tmp_path / "results")
    monkeypatch.setattr(tuned_defaults, "TABLE_FILE", tmp_path / "tuned.json")
    written: dict[str, str] = {}
    monkeypatch.setattr(D, "update_section", lambda doc, name, text: written.update({name: text}))
    real_base = D._base
    # a tiny budget: two tasks of a few iterations (the harness logic, not the numbers, is tested)
    monkeypatch.setattr(
        D, "_base", lambda *a, **k: real_base(*a, **k).replace(iterations=5, tasks=2)
    )
    yield tmp_path, written
    tuned_defaults._load.cache_clear()


def test_check_runs_of_replaced_defaults_are_listed_as_stale_not_reported(harness):
    tmp_path, written = harness
    _table(tmp_path / "tuned.json", 1.0)
    args = argparse.Namespace(
        benchmark="split-digits", setting="class", strategies=["ewc"], seeds=[0]
    )
    D.command_check(args)
    D.command_report(argparse.Namespace())
    assert "| split-digits | class | ewc | 1 |" in written["defaults-check"]
    assert "Not shown" not in written["defaults-check"]

    _table(tmp_path / "tuned.json", 100.0)  # ewc re-selected: the stored run is of the old default
    D.command_report(argparse.Namespace())
    text = written["defaults-check"]
    assert "| split-digits | class | ewc |" not in text
    assert (
        "Not shown: 1 stored run(s)" in text and "split-digits-class/ewc/defaults-s0.json" in text
    )

    D.command_check(args)  # the check trains it again under today's default, and it is shown
    D.command_report(argparse.Namespace())
    assert "| split-digits | class | ewc | 1 |" in written["defaults-check"]
    assert "Not shown" not in written["defaults-check"]


def test_check_runs_of_a_strategy_revised_since_are_stale_and_trained_again(harness, monkeypatch):
    from lifelong import get_strategy

    tmp_path, written = harness
    _table(tmp_path / "tuned.json", 1.0)
    args = argparse.Namespace(
        benchmark="split-digits", setting="class", strategies=["ewc"], seeds=[0]
    )
    D.command_check(args)
    monkeypatch.setattr(get_strategy("ewc"), "revision", 2)  # fixed since the run was stored
    D.command_report(argparse.Namespace())
    assert "| split-digits | class | ewc |" not in written["defaults-check"]
    assert "split-digits-class/ewc/defaults-s0.json" in written["defaults-check"]
    D.command_check(args)
    D.command_report(argparse.Namespace())
    assert "| split-digits | class | ewc | 1 |" in written["defaults-check"]
    assert "Not shown" not in written["defaults-check"]
