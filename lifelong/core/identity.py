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
import os
from collections.abc import Mapping
from typing import Any

import torch

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
# A plugin strategy's source (its module file, or its class where no file holds it): a user editing
# their own method never gets a run of the earlier code back. Built-in strategies record REVISION.
SOURCE = "strategy_source_sha256"


def strategy_source_digest(cls: type) -> str | None:
    """SHA-256 (hex) of the file that defines a plugin strategy (a ``--plugin`` file, an installed
    package's module), or of its class's source where no file holds it (``__main__`` of a script,
    a notebook); None for lifelong's own strategies (versioned by ``revision``) and where no
    source can be read.

    A plugin also depends on the user's other files it uses: the file of each base class of its
    own (folded in, in method-resolution order), then every user module reachable from the
    plugin's module through its globals (``import helpers``, ``from helpers import scale``, and
    what those modules import in turn; folded in by module name). Editing any of them makes the
    plugin's earlier runs another configuration. lifelong's modules, the standard library and
    installed third-party packages (``torch``, ``numpy``) are not user files; a plugin using
    only those keeps the plain digest of its own file. Imports made inside functions, and the
    helpers of a class in a script, are not seen."""
    if cls.__module__.startswith("lifelong."):
        return None
    own = _class_source(cls)
    if own is None:
        return None
    hasher = hashlib.sha256(own)
    seen = {_source_key(cls)}
    framework = {c for b in cls.__mro__ if b.__module__.startswith("lifelong.") for c in b.__mro__}
    for base in cls.__mro__[1:]:
        key = _source_key(base)
        if key in seen or base in framework or not _user_code(base):
            continue
        seen.add(key)
        source = _class_source(base)
        hasher.update(hashlib.sha256(source or base.__qualname__.encode()).digest())
    bases = [b for b in cls.__mro__ if b not in framework and _user_code(b)]
    for path in _helper_files(bases):
        if f"file:{path}" in seen:
            continue
        seen.add(f"file:{path}")
        hasher.update(hashlib.sha256(_read_file(path) or path.encode()).digest())
    if len(seen) == 1:
        return hashlib.sha256(own).hexdigest()
    return hasher.hexdigest()


def _user_code(cls: type) -> bool:
    """Whether ``cls`` is neither lifelong's nor the interpreter's (builtins, standard library)."""
    import sys

    top = cls.__module__.split(".")[0]
    return top not in ("lifelong", "builtins") and top not in sys.stdlib_module_names


def _helper_files(classes: list[type]) -> list[str]:
    """Files of the user modules reachable through module globals from the modules defining
    ``classes`` (a script's ``__main__`` is not walked), sorted by module name."""
    import sys
    import types

    start = [
        sys.modules[c.__module__]
        for c in classes
        if c.__module__ in sys.modules and c.__module__ not in ("__main__", "__mp_main__")
    ]
    packages = {m.__name__.split(".")[0] for m in start}
    installed = _installed_dirs()
    found: dict[str, str] = {}
    queue = list(start)
    visited = {m.__name__ for m in start}
    while queue:
        module = queue.pop()
        for value in list(vars(module).values()):
            used: types.ModuleType | None
            if isinstance(value, types.ModuleType):
                used = value
            elif isinstance(value, (type, types.FunctionType)):
                used = sys.modules.get(getattr(value, "__module__", None) or "")
            else:
                continue
            if used is None or used.__name__ in visited:
                continue
            visited.add(used.__name__)
            path = _user_module_file(used, packages, installed)
            if path is not None:
                found[used.__name__] = path
                queue.append(used)
    return [found[name] for name in sorted(found)]


def _installed_dirs() -> list[str]:
    """The interpreter's library folders (standard library, site-packages), resolved."""
    import site
    import sysconfig

    folders = {sysconfig.get_paths()[k] for k in ("purelib", "platlib", "stdlib")}
    folders |= set(getattr(site, "getsitepackages", list)())
    folders.add(getattr(site, "getusersitepackages", str)())
    return [os.path.realpath(d) + os.sep for d in folders if d]


def _user_module_file(module: Any, packages: set[str], installed: list[str]) -> str | None:
    """The ``.py`` file of a user's module: not lifelong's, the interpreter's or an installed
    third-party package's (under ``installed``; a module of the plugin's own package counts even
    when installed)."""
    import sys

    name = module.__name__
    top = name.split(".")[0]
    path = getattr(module, "__file__", None)
    if not path or not str(path).endswith(".py") or name in ("__main__", "__mp_main__"):
        return None
    if top in ("lifelong", "builtins") or top in sys.stdlib_module_names:
        return None
    if top in packages:
        return str(path)
    if os.path.realpath(path).startswith(tuple(installed)):
        return None
    return str(path)


def _source_key(cls: type) -> str:
    """What one source digest covers: the class's module file, or the class in a script."""
    import sys

    if cls.__module__ in ("__main__", "__mp_main__"):
        return f"script:{cls.__qualname__}"
    path = getattr(sys.modules.get(cls.__module__), "__file__", None)
    return f"file:{path}" if path else f"class:{cls.__module__}.{cls.__qualname__}"


def _class_source(cls: type) -> bytes | None:
    """The bytes of the file defining ``cls``, or its class source where no file holds it (a
    script's ``__main__``, which a spawned worker sees as ``__mp_main__``)."""
    import inspect
    import sys

    module = sys.modules.get(cls.__module__)
    script = cls.__module__ in ("__main__", "__mp_main__")
    path = None if script else getattr(module, "__file__", None)
    if path is not None and (data := _read_file(path)) is not None:
        return data
    try:
        return inspect.getsource(cls).encode()
    except (OSError, TypeError):
        return None


def resolved_hyperparameters(config: Mapping[str, Any]) -> dict[str, Any] | None:
    """Every hyperparameter of the configuration's strategy, defaults included, as plain JSON
    values, and the strategy's :data:`REVISION` when it is above 1; None for a strategy this
    process does not know (a plugin not imported)."""
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
    elif REVISION not in (wanted.get(HYPERPARAMETERS) or {}):
        saved.pop(HYPERPARAMETERS, None)
        wanted.pop(HYPERPARAMETERS, None)
    return saved, wanted


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


def _read_file(path: str) -> bytes | None:
    """A file's bytes, or None where it cannot be read."""
    try:
        with open(path, "rb") as file:
            return file.read()
    except OSError:
        return None
