"""A SHA-256 over nested values, for content fingerprints (:meth:`Scenario.fingerprint`).

Tensors contribute their dtype, shape and bytes; numbers and strings their type and ``repr``;
sequences and mappings their items in order (mappings sorted by key); functions their qualified name,
bytecode, constants, defaults and closure values; ``functools.partial`` its function and arguments;
modules and other objects their class name and attributes. Anything else contributes its class name.
Memory addresses never enter, so the digest is stable across processes.
"""

from __future__ import annotations

import functools
import types
from typing import Any, Protocol

import numpy as np
import torch

_MAX_DEPTH = 8


class Hasher(Protocol):
    def update(self, data: bytes | memoryview, /) -> None: ...


def update(hasher: Hasher, value: Any) -> None:
    """Feed ``value`` into ``hasher`` (e.g. ``hashlib.sha256()``)."""
    _feed(hasher, value, 0, {})


def _tag(hasher: Hasher, *parts: object) -> None:
    hasher.update(("|".join(str(p) for p in parts) + ";").encode())


def _feed(hasher: Hasher, value: Any, depth: int, seen: dict[int, Any]) -> None:
    if value is None or isinstance(value, (bool, int, float, complex, str, bytes)):
        _tag(hasher, type(value).__name__, repr(value))
        return
    if isinstance(value, (torch.dtype, torch.device)):
        _tag(hasher, type(value).__name__, value)
        return
    if isinstance(value, np.ndarray) and value.dtype != object:
        value = torch.from_numpy(np.ascontiguousarray(value))
    if isinstance(value, torch.Tensor):
        flat = value.detach().cpu().contiguous().reshape(-1)
        _tag(hasher, "tensor", value.dtype, tuple(value.shape))
        hasher.update(flat.view(torch.uint8).numpy().data)
        return
    if depth > _MAX_DEPTH or id(value) in seen:
        _tag(hasher, "ref", type(value).__qualname__)
        return
    seen[id(value)] = value  # held, so no later temporary can reuse the id
    nested = depth + 1
    if isinstance(value, (list, tuple)):
        _tag(hasher, type(value).__name__, len(value))
        for item in value:
            _feed(hasher, item, nested, seen)
    elif isinstance(value, dict):
        _tag(hasher, "dict", len(value))
        for key in sorted(value, key=repr):
            _feed(hasher, key, nested, seen)
            _feed(hasher, value[key], nested, seen)
    elif isinstance(value, (set, frozenset)):
        _tag(hasher, "set", len(value))
        for item in sorted(value, key=repr):
            _feed(hasher, item, nested, seen)
    elif isinstance(value, functools.partial):
        _tag(hasher, "partial")
        _feed(hasher, (value.func, value.args, value.keywords), nested, seen)
    elif isinstance(value, types.MethodType):
        _tag(hasher, "method")
        _feed(hasher, (value.__func__, value.__self__), nested, seen)
    elif isinstance(value, types.FunctionType):
        closure = [cell.cell_contents for cell in value.__closure__ or ()]
        _tag(hasher, "function", value.__module__, value.__qualname__)
        _feed(hasher, value.__code__, nested, seen)
        _feed(hasher, (value.__defaults__, value.__kwdefaults__, closure), nested, seen)
    elif isinstance(value, types.CodeType):
        hasher.update(value.co_code)
        _feed(hasher, value.co_consts, nested, seen)
    else:
        cls = type(value)
        _tag(hasher, "object", cls.__module__, cls.__qualname__)
        if hasattr(value, "__dict__"):
            _feed(hasher, vars(value), nested, seen)
