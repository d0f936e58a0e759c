"""One small JSON record per finished benchmark run, reused only under its own fingerprint."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def is_current(record: dict[str, Any], config: Any) -> bool:
    """Whether a stored record is a run of the resolved ``config`` as today's code runs it: the
    same fingerprint and, where the record keeps them, the same resolved hyperparameters (with the
    strategy's revision; a field added since counts at its default). A record from before they
    were kept passes only if the strategy has not been revised since."""
    from lifelong.core.identity import (
        fingerprint,
        resolved_hyperparameters,
        revised,
        same_hyperparameters,
    )

    hyperparameters = resolved_hyperparameters(config.to_dict())
    recorded = record.get("hyperparameters")
    if record.get("fingerprint") != fingerprint(config.to_dict()):
        return False
    if recorded is None:
        return not revised(hyperparameters or {})
    return hyperparameters is not None and same_hyperparameters(
        recorded, hyperparameters, config.strategy
    )


def current_record(config: Any, path: Path) -> dict[str, Any] | None:
    """The record ``path`` holds if it is a run of ``config`` as today's code resolves it
    (:func:`is_current`), else None."""
    from lifelong.core.runner import resolve

    if not path.is_file():
        return None
    record = json.loads(path.read_text())
    return record if is_current(record, resolve(config)) else None


def current_file(path: Path) -> dict[str, Any] | None:
    """The record at ``path`` if it is still a run of its own recorded configuration as today's
    code resolves it (strategy defaults and revision included), else None: for tables that
    gather stored runs without rebuilding each configuration."""
    from lifelong import RunConfig
    from lifelong.errors import LifelongError

    if not path.is_file():
        return None
    record = json.loads(path.read_text())
    try:
        config = RunConfig.of(**record["config"])
    except (KeyError, TypeError, LifelongError):  # none, or one today's code no longer accepts
        return None
    return record if is_current(record, config) else None


def save_record(config: Any, path: Path, values: dict[str, Any]) -> dict[str, Any]:
    """Write ``values`` as the record of the resolved ``config`` at ``path`` (atomically), with the
    fingerprint, configuration and resolved hyperparameters :func:`is_current` checks; returns
    the record."""
    from lifelong.core.identity import fingerprint, resolved_hyperparameters
    from lifelong.core.runner import resolve

    config = resolve(config)
    record = {
        "fingerprint": fingerprint(config.to_dict()),
        "config": config.to_dict(),
        "hyperparameters": resolved_hyperparameters(config.to_dict()),
        **values,
    }
    write_record(path, record)
    return record


def stored_run(config: Any, path: Path, root: Path, keep: tuple[str, ...] = ()) -> dict[str, Any]:
    """Train ``config`` unless ``path`` holds a run of the same fingerprint; returns the record
    (fingerprint, config, average accuracy and forgetting, accuracy matrix, train seconds; for a
    language-modelling stream its loss, loss forgetting and loss matrix; the metrics named in
    ``keep``), written atomically. ``root`` only shortens the printed path."""
    from lifelong import run
    from lifelong.core.runner import resolve

    config = resolve(config)
    record = current_record(config, path)
    if record is not None and all(key in record for key in keep):
        return record
    print(f"train {path.relative_to(root)}", flush=True)
    metrics = run(config.replace(out=None), write=False).metrics
    kept = _SCORES[metrics.get("objective", "classify")] + keep
    values = {key: metrics[key] for key in kept}
    times = {key: metrics.get(key) for key in ("train_seconds", "train_cpu_seconds")}
    record = save_record(config, path, {**values, **times})
    if "average_loss" in record:
        print(f"  loss {record['average_loss']:.4f} nats", flush=True)
    else:
        print(f"  {100 * record['average_accuracy']:.2f}%", flush=True)
    return record


# What a record keeps of a run's metrics: accuracies for classification, losses (nats, lower is
# better) for a language-modelling stream.
_SCORES = {
    "classify": ("average_accuracy", "average_forgetting", "accuracy_matrix"),
    "lm": ("objective", "average_loss", "average_loss_forgetting", "loss_matrix"),
}


def write_record(path: Path, data: dict[str, Any]) -> None:
    """Write a result record atomically (complete or absent, even if the run is killed mid-write)."""
    from lifelong.core.io import atomic_write_text

    atomic_write_text(path, json.dumps(data, indent=1) + "\n")
