"""Pieces shared by commands: run-configuration flags, ``--plugin``, ``--set`` parsing, table
printing."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any

from lifelong.core.config import RunConfig, flat_help, load_yaml, run_config_from_mapping
from lifelong.errors import ConfigError

S = argparse.SUPPRESS


# Short forms of a few flags; every other flag is ``--name`` of a run setting (a flat name of
# RunConfig's parts, see lifelong.core.config.flat_help).
SHORT_FLAGS = {"benchmark": "-b", "strategy": "-s", "out": "-o"}
# Fields given in another form: strategy hyperparameters through --set NAME=VALUE, plugins through
# a repeatable --plugin MODULE.
NOT_FLAGS = {"strategy_params", "plugins"}


def add_plugin_flag(parser: argparse.ArgumentParser | argparse._ArgumentGroup) -> None:
    """``--plugin MODULE`` (repeatable), stored as ``plugins`` like the RunConfig field."""
    parser.add_argument(
        "--plugin",
        action="append",
        dest="plugins",
        default=S,
        metavar="MODULE",
        help="import MODULE (dotted path, or a .py file) that registers strategies (repeatable)",
    )


def add_run_flags(parser: argparse.ArgumentParser, *, strategy: bool = True) -> None:
    """One flag per run setting, generated from the config's fields (name, type, default, help),
    so flags cannot drift from the configuration. Only flags given on the command line override
    ``--config``; values are converted and validated by the config, naming the field on error."""
    g = parser.add_argument_group("run configuration (flags override --config)")
    g.add_argument("--config", default=S, help="YAML file with run settings")
    add_plugin_flag(g)
    g.add_argument(
        "--set",
        action="append",
        default=S,
        metavar="NAME=VALUE",
        help="strategy hyperparameter (repeatable; see: lifelong list strategies)",
    )
    # The setting was called "scenario" before; the old flag still works.
    g.add_argument("--scenario", dest="setting", default=S, help=S)
    for name, kind, default, text in flat_help():
        if name in NOT_FLAGS or (name == "strategy" and not strategy):
            continue
        flags = [f"--{name.replace('_', '-')}"] + (
            [SHORT_FLAGS[name]] if name in SHORT_FLAGS else []
        )
        shown = text if default is None or default is False else f"{text} (default: {default})"
        if kind == "bool":
            action = "store_true" if default is False else argparse.BooleanOptionalAction
            g.add_argument(*flags, action=action, default=S, help=shown)
        else:
            g.add_argument(*flags, default=S, metavar=_metavar(name, kind), help=shown)


def _metavar(name: str, kind: str) -> str:
    if "|" in kind:
        return "{" + kind.replace("|", ",") + "}"
    if kind.startswith("int"):
        return "N"
    if kind.startswith("float"):
        return "X"
    if kind.startswith("list"):
        return "N,N"
    return {"out": "DIR", "data_root": "DIR"}.get(name, "NAME")


def parse_set(items: Sequence[str]) -> dict[str, str]:
    """``["a=1", "b=x"]`` to ``{"a": "1", "b": "x"}``."""
    values = {}
    for item in items:
        if "=" not in item:
            raise ConfigError(f"--set expects NAME=VALUE, got '{item}'")
        key, value = item.split("=", 1)
        values[key.strip()] = value.strip()
    return values


def config_from_args(args: argparse.Namespace, **overrides: Any) -> RunConfig:
    """Merge --config file, then flags, then ``overrides`` into a validated RunConfig."""
    where = getattr(args, "config", None) or ""
    values: dict[str, Any] = {}
    if where:
        values = run_config_from_mapping(load_yaml(where), where=where).to_dict()
    names = {f.replace("-", "_") for f in vars(args)}
    for name in names & {row[0] for row in flat_help()}:
        values[name] = getattr(args, name)
    if getattr(args, "set", None):
        values["strategy_params"] = {**(values.get("strategy_params") or {}), **parse_set(args.set)}
    values.update(overrides)
    return run_config_from_mapping(values, where=where)


def format_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A plain-text table with aligned columns."""
    cells = [[str(h) for h in headers]] + [[_fmt(v) for v in row] for row in rows]
    numeric = [
        all(isinstance(row[i], (int, float)) or row[i] is None for row in rows)
        for i in range(len(headers))
    ]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = [
        "  ".join(
            c.rjust(w) if numeric[i] else c.ljust(w)
            for i, (c, w) in enumerate(zip(r, widths, strict=False))
        ).rstrip()
        for r in cells
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4f}"
    return "-" if value is None else str(value)
