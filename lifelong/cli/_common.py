"""Pieces shared by commands: run-configuration flags, ``--set`` parsing, table printing."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any

from lifelong.core.config import RunConfig, load_yaml, run_config_from_mapping
from lifelong.core.errors import ConfigError

S = argparse.SUPPRESS


def add_run_flags(parser: argparse.ArgumentParser, *, strategy: bool = True) -> None:
    """Flags equal to RunConfig fields; only flags given on the command line override the config."""
    g = parser.add_argument_group("run configuration (flags override --config)")
    g.add_argument("--config", default=S, help="YAML file with run settings")
    g.add_argument("--benchmark", "-b", default=S, help="benchmark (see: lifelong list)")
    g.add_argument("--scenario", default=S, help="task, domain or class")
    if strategy:
        g.add_argument("--strategy", "-s", default=S, help="strategy (see: lifelong list)")
    g.add_argument(
        "--set",
        action="append",
        default=S,
        metavar="NAME=VALUE",
        help="strategy hyperparameter (repeatable)",
    )
    g.add_argument("--tasks", type=int, default=S, help="number of tasks")
    g.add_argument("--epochs", type=int, default=S, help="epochs per task")
    g.add_argument("--iterations", type=int, default=S, help="iterations per task")
    g.add_argument("--batch-size", type=int, default=S)
    g.add_argument("--optimizer", default=S, help="adam or sgd")
    g.add_argument("--lr", type=float, default=S)
    g.add_argument("--momentum", type=float, default=S)
    g.add_argument("--weight-decay", type=float, default=S)
    g.add_argument("--model", default=S, help="mlp, cnn or resnet18")
    g.add_argument("--hidden", default=S, help="hidden sizes, e.g. 400,400")
    g.add_argument("--seed", type=int, default=S)
    g.add_argument("--scenario-seed", type=int, default=S)
    g.add_argument("--shuffle-classes", action="store_true", default=S)
    g.add_argument("--train-samples-per-task", type=int, default=S)
    g.add_argument("--validation-fraction", type=float, default=S)
    g.add_argument("--evaluate-on", default=S, help="test or validation")
    g.add_argument("--padding", type=int, default=S)
    g.add_argument("--device", default=S, help="cpu, cuda or auto")
    g.add_argument("--threads", type=int, default=S, help="torch CPU threads")
    g.add_argument("--data-root", default=S, help="data folder (else $LIFELONG_DATA)")
    g.add_argument("--download", action="store_true", default=S, help="download missing data")
    g.add_argument("--eval-every", type=int, default=S, help="curve evaluation period (iterations)")
    g.add_argument("--checkpoint-every", type=int, default=S)
    g.add_argument("--out", "-o", default=S, help="output folder")


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
    values: dict[str, Any] = {}
    if getattr(args, "config", None):
        values = load_yaml(args.config)
        if "set" in values:
            values["strategy_params"] = {
                **(values.get("strategy_params") or {}),
                **(values.pop("set") or {}),
            }
    names = {f.replace("-", "_") for f in vars(args)}
    for name in names & set(RunConfig.__dataclass_fields__):
        values[name] = getattr(args, name)
    if getattr(args, "set", None):
        values["strategy_params"] = {**(values.get("strategy_params") or {}), **parse_set(args.set)}
    values.update(overrides)
    return run_config_from_mapping(values, where=getattr(args, "config", None) or "")


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
