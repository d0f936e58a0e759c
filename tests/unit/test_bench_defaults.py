"""The defaults harness (bench/defaults.py): a stored check run is reported only while it is a run
of today's defaults; after a default is re-selected it is listed as stale, never shown as current."""

from __future__ import annotations

import argparse
import json

import pytest

import bench.defaults as D
from lifelong import get_strategy
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


def test_report_lists_what_is_not_checked_and_what_refuses_a_stream(harness, monkeypatch):
    from lifelong.errors import ConfigError

    tmp_path, written = harness
    _table(tmp_path / "tuned.json", 1.0)
    (tmp_path / "empty-data").mkdir()
    monkeypatch.setenv("LIFELONG_DATA", str(tmp_path / "empty-data"))
    real_run_once = D.run_once

    def refuse_den(config, path):
        if config.strategy == "den":
            raise ConfigError("den needs lifelong's fully connected model")
        return real_run_once(config, path)

    monkeypatch.setattr(D, "run_once", refuse_den)
    args = argparse.Namespace(
        benchmark="split-digits", setting="task", strategies=["den", "ewc"], seeds=[0]
    )
    D.command_check(args)
    assert not list((tmp_path / "results" / "check" / "split-digits-task" / "den").glob("def*"))
    D.command_report(argparse.Namespace())
    text = written["defaults-check"]
    assert "| split-digits | task | ewc | 1 |" in text
    assert (
        "Refused before training (not applicable): den on split-digits task (den needs "
        "lifelong's fully connected model)." in text
    )
    missing = text.split("Not checked yet on a checked stream: split-digits task: ")[1]
    missing = missing.split(".")[0].split(", ")
    assert "si" in missing and "packnet" in missing  # supported, not run
    assert "ewc" not in missing and "den" not in missing and "naive" not in missing
    assert "icarl" not in missing  # class-incremental only
    unchecked = text.split("Streams not checked yet: ")[1].split(".")[0].split(", ")
    assert "permuted-mnist domain (no mnist data here)" in unchecked  # the empty data root
    assert "split-digits class" in unchecked  # scikit-learn's digits: nothing to download
    assert "has no cifar10, cifar100, fashion-mnist, mnist, wordnet files" in text
    assert "split-digits task" not in unchecked
    assert "Coverage: 1 of " in text
    assert "wordnet-domains domain (no wordnet data here)" in unchecked  # the LM stream


def _select(tmp_path, monkeypatch, score, grid, max_widen=D.MAX_WIDEN):
    """Run ``select`` with a made-up validation score of the params (no training)."""
    monkeypatch.setattr(D, "TABLE", tmp_path / "tuned.json")
    tried: list[dict] = []

    def fake_score(args, params):
        tried.append(dict(params))
        return {"split-digits": score(params)}

    monkeypatch.setattr(D, "_validation_score", fake_score)
    args = argparse.Namespace(
        strategy="ewc",
        benchmark=["split-digits"],
        setting="class",
        grid=grid,
        seeds=[0],
        max_widen=max_widen,
        rule="mean",
    )
    D.command_select(args)
    entry = json.loads((tmp_path / "tuned.json").read_text())["ewc"]["digits/class"]
    return entry, tried


def test_select_widens_an_axis_whose_winner_is_at_its_edge(tmp_path, monkeypatch):
    # the score peaks at strength 1000, beyond the given grid's top (10): two steps widen to it
    entry, tried = _select(
        tmp_path, monkeypatch, lambda p: -abs(p["strength"] - 1000.0), ["strength=0.1,1,10"]
    )
    assert [t["strength"] for t in tried] == [0.1, 1.0, 10.0, 100.0, 1000.0, 10000.0]
    assert entry["params"] == {"strength": 1000.0}
    assert entry["provenance"]["grid"]["strength"] == [0.1, 1.0, 10.0, 100.0, 1000.0, 10000.0]
    assert entry["reason"] == "best of 6 on validation"
    assert entry["provenance"]["code_revision"] == get_strategy("ewc").revision


def test_select_reports_an_edge_it_may_no_longer_widen(tmp_path, monkeypatch):
    entry, tried = _select(tmp_path, monkeypatch, lambda p: p["strength"], ["strength=1,10"])
    assert len(tried) == 2 + D.MAX_WIDEN  # 100, 1000, 10000 added, the last still wins
    assert entry["params"] == {"strength": 10.0 ** (1 + D.MAX_WIDEN)}
    assert entry["reason"].endswith("at the edge of the grid in strength")


def test_select_widens_no_further_than_asked_and_says_so(tmp_path, monkeypatch):
    entry, tried = _select(
        tmp_path, monkeypatch, lambda p: p["strength"], ["strength=1,10"], max_widen=0
    )
    assert [t["strength"] for t in tried] == [1.0, 10.0]
    assert entry["params"] == {"strength": 10}
    assert entry["reason"] == "best of 2 on validation; at the edge of the grid in strength"


def test_select_keeps_the_class_default_among_equal_scores_and_widens_nothing(
    tmp_path, monkeypatch
):
    from lifelong.strategies.ewc import EWCConfig

    default = EWCConfig().strength  # in the middle of the tie, the grid's first value elsewhere
    grid = [f"strength={default / 10:g},{default:g},{default * 10:g}"]
    entry, tried = _select(tmp_path, monkeypatch, lambda p: 0.5, grid)
    assert entry["params"] == {"strength": default} and len(tried) == 3
    entry, _ = _select(tmp_path, monkeypatch, lambda p: 0.5, ["strength=0.5,0.25"])
    assert entry["params"] == {"strength": 0.5}  # no default among the tie: the first tried


def test_select_widens_integer_axes_only_while_they_move():
    from bench._grid import step_beyond, widen

    assert step_beyond(64, 8, integer=True) == 512
    assert step_beyond(2, 8, integer=True) is None  # 0.5 rounds to no rank
    assert step_beyond(1, 100, integer=False) == 0.01  # a strength written as "1"
    assert step_beyond(0.0, 1.0, integer=False) is None
    grid = {"rank": [8, 64], "policy": ["ring", "reservoir"]}
    best = {"rank": 8, "policy": "ring"}
    candidates, edges = widen(grid, best, {"rank": 0}, 3, integer_axes=frozenset({"rank"}))
    assert candidates == [{"rank": 1, "policy": "ring"}] and edges == []
    # the reproductions widen float axes only
    assert widen({"rank": [8, 64]}, best, {"rank": 0}, 3, integer_axes=None) == ([], [])
    assert D._integer_fields("lora-continual") >= {"rank"}
    assert "strength" not in D._integer_fields("ewc")


def test_report_names_causes_whose_row_is_not_below_naive(harness, monkeypatch, capsys):
    # A cause kept for a row that is ok (or no longer checked) would go stale unseen: the report
    # names it, so it is deleted.
    tmp_path, written = harness
    _table(tmp_path / "tuned.json", 1.0)
    monkeypatch.setattr(D, "CAUSES", {("split-digits", "class", "ewc"): "an old reason"})
    D.command_report(argparse.Namespace())
    assert "delete them from CAUSES: split-digits class ewc" in capsys.readouterr().err


def test_a_second_select_keeps_the_values_its_runs_used_and_where_they_came_from(
    harness, monkeypatch
):
    """A selection over one axis trains with the table's values of the others; the entry it writes
    must hold exactly the values its winning run validated, and the earlier selection's record."""
    tmp_path, _ = harness
    table_file = tmp_path / "tuned.json"
    table_file.write_text("{}")
    monkeypatch.setattr(D, "TABLE", table_file)  # the harness points the runner's table there too
    base = {
        "benchmark": ["split-digits"],
        "setting": "class",
        "seeds": [0],
        "max_widen": 0,
        "rule": "mean",
    }
    D.command_select(argparse.Namespace(strategy="ewc", grid=["strength=1,10"], **base))
    tuned_defaults._load.cache_clear()
    first = json.loads(table_file.read_text())["ewc"]["digits/class"]
    D.command_select(argparse.Namespace(strategy="ewc", grid=["fisher_samples=50,100"], **base))
    tuned_defaults._load.cache_clear()
    entry = json.loads(table_file.read_text())["ewc"]["digits/class"]
    assert set(entry["params"]) == {"strength", "fisher_samples"}
    assert entry["params"]["strength"] == first["params"]["strength"]
    assert entry["provenance"]["kept"]["params"] == {"strength": first["params"]["strength"]}
    assert entry["provenance"]["kept"]["selected_by"]["grid"] == {"strength": [1.0, 10.0]}
    winner = f"fisher_samples={entry['params']['fisher_samples']}"
    folder = tmp_path / "results" / "select" / "split-digits-class" / "ewc"
    record = json.loads((folder / f"{winner}-s0.json").read_text())
    assert record["config"]["strategy_params"] == entry["params"]
    from lifelong.cli.list import _tuned_lines

    (line,) = [line for line in _tuned_lines("ewc") if "digits/class" in line]
    assert f"strength={entry['params']['strength']} kept from an earlier selection" in line


def test_a_new_selection_keeps_the_history_of_the_ones_it_replaces(tmp_path, monkeypatch):
    """Re-selecting a value must not lose what was chosen before, and why: each entry lists the
    selections it replaced, newest first (a first selection replaces none)."""
    first, _ = _select(
        tmp_path, monkeypatch, lambda p: -abs(p["strength"] - 1.0), ["strength=1,10"]
    )
    assert "replaces" not in first["provenance"]
    second, _ = _select(tmp_path, monkeypatch, lambda p: p["strength"], ["strength=100,1000"])
    third, _ = _select(tmp_path, monkeypatch, lambda p: -p["strength"], ["strength=5,50"])
    history = third["provenance"]["replaces"]
    assert [h["params"] for h in history] == [second["params"], first["params"]]
    assert history[0]["command"] == second["provenance"]["command"]
    assert history[1]["reason"] == first["reason"]
    assert history[0]["code_revision"] == get_strategy("ewc").revision
    monkeypatch.setattr(tuned_defaults, "TABLE_FILE", tmp_path / "tuned.json")
    tuned_defaults._load.cache_clear()
    from lifelong.cli.list import _tuned_lines

    (line,) = [line for line in _tuned_lines("ewc") if "digits/class" in line]
    last = ", ".join(f"{k}={v}" for k, v in second["params"].items())
    assert f"replaces 2 earlier selection(s), the last {last}" in line
    tuned_defaults._load.cache_clear()


def _two_streams(tmp_path, monkeypatch, split, permuted, naive):
    """``select`` of EWC's strength over split- and permuted-digits with made-up validation
    scores (no training); returns a function of the rule and grid giving the written entry."""
    monkeypatch.setattr(D, "TABLE", tmp_path / "tuned.json")
    monkeypatch.setattr(
        D,
        "_validation_score",
        lambda args, p: {
            "split-digits": split[p["strength"]],
            "permuted-digits": permuted[p["strength"]],
        },
    )
    monkeypatch.setattr(D, "_naive_scores", lambda args: dict(naive))

    def select(rule: str, grid: str) -> dict:
        args = argparse.Namespace(
            strategy="ewc",
            benchmark=["split-digits", "permuted-digits"],
            setting="task",
            grid=[f"strength={grid}"],
            seeds=[0],
            max_widen=0,
            rule=rule,
        )
        D.command_select(args)
        return json.loads((tmp_path / "tuned.json").read_text())["ewc"]["digits/task"]

    return select


def test_worst_gain_rule_picks_the_value_no_stream_pays_for(tmp_path, monkeypatch):
    """Two streams pull strength apart: the mean rule takes the value that gains most on one and
    loses 9 points to naive on the other; the worst-gain rule takes the one below naive nowhere
    by more than a point."""
    split = {1.0: 0.90, 10.0: 0.88, 100.0: 0.80}
    permuted = {1.0: 0.40, 10.0: 0.50, 100.0: 0.60}
    naive = {"split-digits": 0.89, "permuted-digits": 0.45}
    select = _two_streams(tmp_path, monkeypatch, split, permuted, naive)
    chosen = {rule: select(rule, "1,10,100") for rule in ("mean", "worst-gain")}
    assert chosen["mean"]["params"] == {"strength": 100}
    entry = chosen["worst-gain"]
    assert entry["params"] == {"strength": 10}
    assert entry["provenance"]["rule"] == D.RULES["worst-gain"]
    assert entry["provenance"]["worst_gain_over_naive"] == {
        "strength=1": -5.0,
        "strength=10": -1.0,
        "strength=100": -9.0,
    }
    assert entry["provenance"]["naive_scores_by_benchmark"] == {
        "split-digits": 89.0,
        "permuted-digits": 45.0,
    }
    assert entry["provenance"]["scores"]["strength=100"] == 70.0  # the mean, as shown before
    assert entry["reason"] == "best worst-case gain over naive of 3 on validation"


def test_an_integer_axis_at_one_is_reported_as_its_floor(tmp_path, monkeypatch):
    """A buffer of one cannot widen to a smaller size: the reason says the edge is its floor."""
    monkeypatch.setattr(D, "TABLE", tmp_path / "tuned.json")
    monkeypatch.setattr(
        D, "_validation_score", lambda args, p: {"split-digits": -p["hard_buffer_size"]}
    )
    args = argparse.Namespace(
        strategy="tf-mas",
        benchmark=["split-digits"],
        setting="task",
        grid=["hard_buffer_size=1,5,30"],
        seeds=[0],
        max_widen=3,
        rule="mean",
    )
    D.command_select(args)
    entry = json.loads((tmp_path / "tuned.json").read_text())["tf-mas"]["digits/task"]
    assert entry["params"] == {"hard_buffer_size": 1}
    assert (
        entry["reason"]
        == "best of 3 on validation; at the edge of the grid in hard_buffer_size (1, its floor)"
    )


def test_safe_mean_takes_the_best_mean_among_values_below_naive_nowhere(tmp_path, monkeypatch):
    """worst-gain ranks by the smallest gain alone, so a noise-level edge on one stream can
    outweigh 11 points on another; safe-mean takes the best mean among the values at or above
    naive everywhere, and falls back to the worst-case gain when there is none."""
    split = {1000.0: 0.9847, 10000.0: 0.9870, 100000.0: 0.9851}
    permuted = {1000.0: 0.7294, 10000.0: 0.6143, 100000.0: 0.5454}
    naive = {"split-digits": 0.9574, "permuted-digits": 0.5586}
    select = _two_streams(tmp_path, monkeypatch, split, permuted, naive)
    grid = "1000.0,10000.0,100000.0"
    assert select("worst-gain", grid)["params"] == {"strength": 10000.0}
    entry = select("safe-mean", grid)
    assert entry["params"] == {"strength": 1000.0}
    assert entry["provenance"]["rule"] == D.RULES["safe-mean"]
    assert entry["reason"].startswith(  # 1000 is the grid's edge: max_widen=0 says so
        "best mean among the values at or above naive on every benchmark of 3 on validation"
    )
    naive["permuted-digits"] = 0.80  # no value reaches naive on permuted-digits
    entry = select("safe-mean", grid)
    assert entry["params"] == {"strength": 1000.0}  # the smallest loss: -7.06 points
    assert entry["reason"].startswith(
        "no value at or above naive on every benchmark: best worst-case gain over naive of 3"
    )


def test_summary_lists_each_strategys_streams_below_naive(monkeypatch):
    verdicts = {"ewc": [("a task", None), ("b class", "-2.0")], "lwf": [("a task", None)]}
    monkeypatch.setattr(D, "CAUSES", {})
    text = D._summary(verdicts, {("b", "class", "ewc")})
    assert "| ewc | 2 | 1 | b class -2.0 |" in text and "| lwf | 1 | 1 |  |" in text
    assert "1 of 3 (strategy, stream) rows end below naive; 1 of them without a diagnosed" in text
    monkeypatch.setattr(D, "CAUSES", {("b", "class", "ewc"): "measured"})
    assert "rows end below naive; each has its measured cause" in D._summary(
        verdicts, {("b", "class", "ewc")}
    )
