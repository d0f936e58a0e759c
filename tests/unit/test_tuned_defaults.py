"""The per-family defaults table: complete, valid, with provenance, and applied by ``resolve``."""

from __future__ import annotations

import json

import pytest

from lifelong import RunConfig, get_strategy, list_strategies
from lifelong.core import tuned_defaults
from lifelong.core.fields import build_config, config_help
from lifelong.core.runner import resolve
from lifelong.data.benchmarks import BENCHMARKS

BUILT_IN = {
    name: cls
    for name, cls in list_strategies().items()
    if cls.__module__.startswith("lifelong.strategies.")
}


def test_every_built_in_benchmark_has_a_family():
    assert set(tuned_defaults.FAMILIES) == set(BENCHMARKS)
    for name, spec in BENCHMARKS.items():  # a language-modelling stream is a family of its own
        lm_family = tuned_defaults.FAMILIES[name] in tuned_defaults.LANGUAGE_MODEL_FAMILIES
        assert lm_family == (spec.objective == "lm")


def test_every_strategy_family_and_setting_has_an_entry():
    table = tuned_defaults.table()
    families = sorted(set(tuned_defaults.FAMILIES.values()))
    missing = [
        f"{name} {family}/{setting}"
        for name, cls in BUILT_IN.items()
        for family in families
        for setting in tuned_defaults.family_settings(family, cls)
        if f"{family}/{setting}" not in table.get(name, {})
    ]
    assert not missing, f"no default entry (tuned or inherit) for: {missing[:5]}"


def test_entries_are_valid_and_tuned_ones_say_where_they_come_from():
    for name, entries in tuned_defaults.table().items():
        cls = get_strategy(name)
        for key, entry in entries.items():
            family, setting = key.split("/")
            assert family in set(tuned_defaults.FAMILIES.values())
            assert setting in tuned_defaults.family_settings(family, cls)
            if entry.inherit:
                assert not entry.params and entry.reason, f"{name} {key}: inherit needs a reason"
                assert (entry.reason == "no hyperparameters") == (
                    not config_help(cls.config_class)
                ), f"{name} {key}: the reason does not match the strategy's hyperparameters"
                continue
            build_config(cls.config_class, entry.params, where=f"{name} {key}")  # valid values
            provenance = entry.provenance
            for field in ("benchmark", "grid", "seeds", "command", "scores"):
                assert provenance.get(field), f"{name} {key}: provenance lacks {field}"
            for benchmark in provenance["benchmark"].split(", "):  # one, or several of a family
                assert tuned_defaults.FAMILIES[benchmark] == family
            for param, value in entry.params.items():
                assert value in provenance["grid"][param]  # chosen from its grid
            assert provenance.get("code_revision", 1) <= cls.revision, f"{name} {key}: revision"


def test_tuned_values_of_an_earlier_revision_are_marked_in_the_listing(table_with_ewc, capsys):
    from lifelong.cli.list import _tuned_lines

    ewc = get_strategy("ewc")
    entry = tuned_defaults.table()["ewc"]["mnist/domain"]
    assert entry.selected_revision == 1  # unrecorded: the first revision
    assert not tuned_defaults.selected_under_older_code(ewc, entry)
    (line,) = _tuned_lines("ewc")
    assert "revision" not in line
    revised = type("RevisedEWC", (ewc,), {"revision": ewc.revision + 1})
    assert tuned_defaults.selected_under_older_code(revised, entry)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("lifelong.core.registry.get_strategy", lambda name: revised)
        (line,) = _tuned_lines("ewc")
    assert f"selected on the strategy's revision 1, now {ewc.revision + 1}" in line


@pytest.fixture
def table_with_ewc(tmp_path, monkeypatch):
    table = {
        "ewc": {
            "mnist/domain": {
                "params": {"strength": 100.0},
                "inherit": False,
                "reason": "test",
                "provenance": {},
            }
        }
    }
    path = tmp_path / "tuned.json"
    path.write_text(json.dumps(table))
    monkeypatch.setattr(tuned_defaults, "TABLE_FILE", path)
    yield
    tuned_defaults._load.cache_clear()


def test_resolve_fills_only_what_the_user_did_not_set(table_with_ewc):
    config = resolve(RunConfig.of(benchmark="permuted-mnist", strategy="ewc"))
    assert config.strategy_params == {"strength": 100.0}  # the tuned value, saved explicitly
    given = resolve(RunConfig.of(benchmark="permuted-mnist", strategy="ewc", set={"strength": 5}))
    assert given.strategy_params == {"strength": 5}
    other = resolve(RunConfig.of(benchmark="split-mnist", strategy="ewc"))
    assert other.strategy_params == {}  # class-incremental split-mnist: class default
    assert resolve(config) == config  # resolving twice changes nothing
    online = resolve(RunConfig.of(benchmark="permuted-mnist", strategy="ewc", online=True))
    assert online.strategy_params == {}  # chosen offline: online streams keep the class defaults
