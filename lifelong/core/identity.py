"""Run identity: a fingerprint of everything that changes a run's results.

A run folder holds results of exactly one configuration. The fingerprint is the SHA-256 of the
resolved configuration written as canonical JSON, leaving out the settings that change where and how
fast a run goes but not what it computes (:data:`NOT_IN_FINGERPRINT`). Resuming, skipping a finished
run, or reusing a result in a comparison or sweep is allowed only when fingerprints are equal; otherwise
the keys that differ are named.

The configuration names only the hyperparameters a user gave; the others take the strategy's
defaults, which a later version may change. So a run also records every hyperparameter it trained
with (:func:`run_identity`), and a folder whose recorded values differ from what the same
configuration means now is never reused or resumed (:func:`same_identity`).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Mapping
from typing import Any

import torch

from lifelong.core.plugin_source import strategy_source_digest

# Output place, speed and logging settings, and the modules imported to find plugin strategies (the
# strategy's name and hyperparameters are in the fingerprint): they never change the numbers a run
# reports.
NOT_IN_FINGERPRINT = frozenset(
    {
        "out",
        "threads",
        "device",
        "data_root",
        "download",
        "checkpoint_every",
        "eval_batch_size",
        "plugins",
        "plot",
    }
)


# Settings added after results were first stored, with the value that reproduces the earlier
# behaviour: left out of the fingerprint at that value, so earlier runs keep their identity.
OMITTED_AT_DEFAULT: dict[str, Any] = {
    "precision": "fp32",  # issue 15: bf16 autocast of the training loss
    "grad_accumulation": 1,  # issue 12: micro-batches per optimizer step
    # text and pretrained transformers (issue 12)
    "max_length": None,
    "samples_per_class": None,
    "lora_rank": 0,
    "lora_alpha": 16.0,
    "lora_targets": [],
    "freeze": [],
    # online streams (issue 14)
    "online": False,
    "boundaries": "known",
    "blurry": 0.0,
    "drift": 0.0,
    "anytime_every": None,
    "prequential": True,
    "class_order": None,  # issue 13: an explicit class order of a split benchmark
    "class_units": "seen",  # issue 13: class-incremental training on every output unit
    "init": "default",  # issue 13: Xavier initial weights (Mammoth's networks)
    "lca_batches": 0,  # learning curve area points (Chaudhry et al. 2019)
}

# Keys renamed since results were first stored: the fingerprint uses the first name, so a rename
# never changes a run's identity.
CANONICAL_NAMES: dict[str, str] = {"setting": "scenario"}


def identity(config: Mapping[str, Any], extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The part of a resolved configuration (as a mapping) that defines the run's results.

    Args:
        config: ``RunConfig.to_dict()`` of a resolved configuration.
        extra: identities of inputs not named by the configuration (a user's data or model).
    """
    values = {
        CANONICAL_NAMES.get(k, k): v
        for k, v in config.items()
        if k not in NOT_IN_FINGERPRINT
        and not (k in OMITTED_AT_DEFAULT and v == OMITTED_AT_DEFAULT[k])
    }
    if extra:
        values["inputs"] = dict(extra)
    return json.loads(json.dumps(values, sort_keys=True, default=str))


def module_digest(module: Any) -> str:
    """SHA-256 (hex) of a network's class and initial state (every tensor's name, dtype, shape and
    bytes): the identity of a user's model, which no configuration key names."""
    hasher = hashlib.sha256(type(module).__qualname__.encode())
    for name, tensor in sorted(module.state_dict().items()):
        data = tensor.detach().cpu().contiguous()
        hasher.update(f"{name}:{data.dtype}:{tuple(data.shape)}".encode())
        hasher.update(data.view(-1).view(torch.uint8).numpy().tobytes() if data.numel() else b"")
    return hasher.hexdigest()


HYPERPARAMETERS = "hyperparameters"
REVISION = "code_revision"  # the strategy's revision, recorded with its hyperparameters when > 1
# Marks of a fix that changed what only some configurations of a strategy compute
# (:meth:`Strategy.behaviour`), recorded with those runs' hyperparameters only.
BEHAVIOUR = "behaviour"
# A plugin strategy's source (its module file, or its class where no file holds it): a user editing
# their own method never gets a run of the earlier code back. Built-in strategies record REVISION.
SOURCE = "strategy_source_sha256"


def resolved_hyperparameters(config: Mapping[str, Any]) -> dict[str, Any] | None:
    """Every hyperparameter of the configuration's strategy, defaults included, as plain JSON
    values, the strategy's :data:`REVISION` when it is above 1 and its :data:`BEHAVIOUR` marks
    for this configuration; None for a strategy this process does not know (a plugin not
    imported)."""
    from lifelong.core.config import is_task_free
    from lifelong.core.fields import build_config
    from lifelong.core.registry import get_strategy
    from lifelong.errors import LifelongError

    try:
        cls = get_strategy(str(config["strategy"]))
        values = build_config(cls.config_class, config.get("strategy_params") or {})
    except (KeyError, LifelongError):
        return None
    resolved: dict[str, Any] = json.loads(json.dumps(dataclasses.asdict(values), default=str))
    if cls.revision > 1:
        resolved[REVISION] = cls.revision
    task_free = is_task_free(bool(config.get("online")), str(config.get("boundaries", "known")))
    marks = cls.behaviour(values, task_free=task_free)
    if marks:
        resolved[BEHAVIOUR] = dict(marks)
    digest = strategy_source_digest(cls)
    if digest is not None:
        resolved[SOURCE] = digest
    return resolved


def run_identity(
    config: Mapping[str, Any], extra: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """:func:`identity` and, under :data:`HYPERPARAMETERS`, every hyperparameter the run trains
    with (not part of the fingerprint: defaults are compared when a folder is reused)."""
    values = identity(config, extra)
    hyperparameters = resolved_hyperparameters(config)
    if hyperparameters is not None:
        values[HYPERPARAMETERS] = hyperparameters
    return values


def same_hyperparameters(
    saved: Mapping[str, Any], wanted: Mapping[str, Any], strategy: str
) -> bool:
    """Whether recorded hyperparameters are ``wanted``'s, a field the strategy gained since they
    were recorded counting as equal at its default (a new field's default keeps the old behaviour;
    a change of behaviour raises the strategy's ``revision`` instead)."""
    return dict(with_new_fields(saved, wanted, strategy)) == dict(wanted)


def with_new_fields(
    saved: Mapping[str, Any], wanted: Mapping[str, Any], strategy: str
) -> dict[str, Any]:
    """``saved`` hyperparameters plus the fields of ``wanted`` they lack that are at the strategy's
    class default (fields added to the strategy after the record was written)."""
    defaults = strategy_field_defaults(strategy)
    filled = dict(saved)
    for key, value in wanted.items():
        if key not in filled and key in defaults and defaults[key] == value:
            filled[key] = value
    return filled


def strategy_field_defaults(strategy: str) -> dict[str, Any]:
    """The strategy config class's field defaults as JSON values ({} for an unknown strategy)."""
    from lifelong.core.fields import defaults_of
    from lifelong.core.registry import get_strategy
    from lifelong.errors import LifelongError

    try:
        cls = get_strategy(strategy)
    except LifelongError:
        return {}
    defaults: dict[str, Any] = json.loads(json.dumps(defaults_of(cls.config_class), default=str))
    return defaults


def _aligned(
    saved: Mapping[str, Any], wanted: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The two identities as they are compared. Where one lacks hyperparameters (written before
    they were recorded, or a plugin not imported) both are compared without them, unless
    ``wanted``'s strategy has been revised since (then the older run differs). Saved
    hyperparameters are completed by :func:`with_new_fields`."""
    saved, wanted = dict(saved), dict(wanted)
    if HYPERPARAMETERS in saved and HYPERPARAMETERS in wanted:
        saved[HYPERPARAMETERS] = with_new_fields(
            saved[HYPERPARAMETERS], wanted[HYPERPARAMETERS], str(wanted.get("strategy"))
        )
        if SOURCE not in saved[HYPERPARAMETERS]:  # recorded before plugin sources were
            wanted[HYPERPARAMETERS] = {
                k: v for k, v in wanted[HYPERPARAMETERS].items() if k != SOURCE
            }
    elif not revised(wanted.get(HYPERPARAMETERS) or {}):
        saved.pop(HYPERPARAMETERS, None)
        wanted.pop(HYPERPARAMETERS, None)
    return saved, wanted


def revised(hyperparameters: Mapping[str, Any]) -> bool:
    """Whether resolved hyperparameters carry a mark of code changed since runs were first
    recorded (:data:`REVISION` or :data:`BEHAVIOUR`): a run stored without its hyperparameters is
    then a run of the older code."""
    return REVISION in hyperparameters or BEHAVIOUR in hyperparameters


def same_identity(saved: Mapping[str, Any], wanted: Mapping[str, Any]) -> bool:
    """Whether a stored run is a run of ``wanted``: equal identities, and equal hyperparameters
    where both record them (runs written before they were recorded are compared without, unless
    ``wanted``'s strategy has been revised since: those runs are of older code)."""
    saved, wanted = _aligned(saved, wanted)
    return saved == wanted


def fingerprint(config: Mapping[str, Any], extra: Mapping[str, Any] | None = None) -> str:
    """SHA-256 (hex) of :func:`identity`."""
    text = json.dumps(identity(config, extra), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def differing_keys(saved: Mapping[str, Any], wanted: Mapping[str, Any]) -> list[str]:
    """Dotted names of the keys whose values differ between two identities (nested mappings are
    compared key by key, e.g. ``strategy_params.strength``)."""
    keys: list[str] = []
    for key in sorted(set(saved) | set(wanted)):
        a, b = saved.get(key), wanted.get(key)
        if isinstance(a, Mapping) and isinstance(b, Mapping):
            keys += [f"{key}.{k}" for k in differing_keys(a, b)]
        elif a != b:
            keys.append(key)
    return keys


def describe_difference(saved: Mapping[str, Any], wanted: Mapping[str, Any], limit: int = 4) -> str:
    """``"iterations: 200 -> 300, strategy_params.strength: 10 -> 100"`` (at most ``limit`` keys;
    the resolved hyperparameters only when the configurations themselves are equal)."""
    saved, wanted = _aligned(saved, wanted)
    keys = differing_keys(saved, wanted)
    named = [k for k in keys if not k.startswith(HYPERPARAMETERS + ".")]
    keys = named or keys
    parts = [f"{k}: {_lookup(saved, k)} -> {_lookup(wanted, k)}" for k in keys[:limit]]
    if len(keys) > limit:
        parts.append(f"and {len(keys) - limit} more")
    return ", ".join(parts)


def _lookup(values: Mapping[str, Any], dotted: str) -> Any:
    value: Any = values
    for part in dotted.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return "(unset)"
        value = value[part]
    return value
