"""``lifelong list``: benchmarks, settings, models and strategies with their hyperparameters."""

from __future__ import annotations

import argparse
import sys

from lifelong.cli._common import add_plugin_flag, format_table

NAME = "list"
HELP = "list benchmarks, settings, models and strategies (with hyperparameters and defaults)"

SETTING_HELP = {
    "task": "task-incremental: the task id is given at train and test time (one head per task)",
    "domain": "domain-incremental: no task id; one shared head of per-task size",
    "class": "class-incremental: no task id; one head over every class seen so far",
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "what",
        nargs="?",
        choices=["benchmarks", "settings", "scenarios", "models", "strategies"],
        help="only this section",
    )
    add_plugin_flag(parser)


def main(args: argparse.Namespace) -> int:
    from lifelong.core.fields import config_help
    from lifelong.core.registry import (
        broken_plugins,
        list_strategies,
        load_plugins,
        plugin_module,
    )
    from lifelong.data.benchmarks import list_benchmarks
    from lifelong.models.build import MODELS

    load_plugins(getattr(args, "plugins", ()))
    show = args.what
    if show in (None, "benchmarks"):
        print("Benchmarks (defaults: setting, model, epochs per task)\n")
        print(
            format_table(
                ["name", "dataset", "tasks", "setting", "model", "epochs", "description"],
                [
                    [
                        b.name,
                        b.dataset,
                        b.default_tasks,
                        b.default_setting,
                        b.default_model,
                        b.default_epochs,
                        b.description,
                    ]
                    for b in list_benchmarks()
                ],
            )
        )
        print()
    if show in (None, "settings", "scenarios"):  # "scenarios": the old name
        print("Settings (--setting)\n")
        print(format_table(["name", "meaning"], list(SETTING_HELP.items())))
        print()
    if show in (None, "models"):
        print("Models (--model)\n")
        print(format_table(["name", "description"], list(MODELS.items())))
        print()
    if show in (None, "strategies"):
        print("Strategies (--strategy; hyperparameters with --set name=value)\n")
        for name, cls in list_strategies().items():
            settings = ", ".join(s for s in ("task", "domain", "class") if s in cls.settings)
            module = plugin_module(cls)
            origin = f"  (plugin: {module})" if module else ""
            task_free = (
                "  (task-free: runs with --boundaries hidden/blurry/gradual)"
                if cls.task_free
                else ""
            )
            print(f"{name}  [{settings}]  {cls.paper}{origin}{task_free}")
            for field_name, type_name, default, help_text in config_help(cls.config_class):
                print(f"    {field_name} ({type_name}, default {default}): {help_text}")
            for line in _tuned_lines(name):
                print(line)
        print()
        # One broken third-party package must not hide every other strategy.
        for error in broken_plugins().values():
            print(f"warning: not listed: {error}", file=sys.stderr)
    return 0


def _tuned_lines(strategy: str) -> list[str]:
    """Defaults tuned per benchmark family and setting, with where they were chosen."""
    from lifelong.core.registry import get_strategy
    from lifelong.core.tuned_defaults import selected_under_older_code, table

    cls = get_strategy(strategy)
    lines = []
    for key, entry in table().get(strategy, {}).items():
        if entry.inherit:
            continue
        values = ", ".join(f"{k}={v}" for k, v in entry.params.items())
        source = entry.provenance
        older = (
            f"; selected on the strategy's revision {entry.selected_revision}, now "
            f"{cls.revision}: to re-select, {source.get('command')}"
            if selected_under_older_code(cls, entry)
            else ""
        )
        kept = source.get("kept")
        earlier = (
            f"; {', '.join(f'{k}={v}' for k, v in kept['params'].items())} kept from an earlier "
            f"selection (grid {kept['selected_by'].get('grid')})"
            if kept
            else ""
        )
        replaced = source.get("replaces", [])
        history = (
            f"; replaces {len(replaced)} earlier selection(s), the last "
            f"{', '.join(f'{k}={v}' for k, v in replaced[0]['params'].items())}"
            if replaced
            else ""
        )
        lines.append(
            f"    on {key} benchmarks (offline): {values} (chosen on {source.get('benchmark')}, validation "
            f"split, seeds {source.get('seeds')}, grid {source.get('grid')}; {entry.reason}{earlier}"
            f"{history}{older})"
        )
    return lines
