"""Strategy registry: ``@register`` on a Strategy subclass; files under ``lifelong/strategies`` are
discovered when the registry is first read (no import-time side effects elsewhere)."""

from __future__ import annotations

import importlib
import pkgutil
from typing import TypeVar

from lifelong.core.errors import unknown_name
from lifelong.core.strategy import Strategy

S = TypeVar("S", bound=type[Strategy])

_STRATEGIES: dict[str, type[Strategy]] = {}
_discovered = False


def register(cls: S) -> S:
    """Class decorator that registers a strategy under ``cls.name``."""
    if cls.name in _STRATEGIES and _STRATEGIES[cls.name] is not cls:
        raise ValueError(f"strategy name '{cls.name}' registered twice")
    _STRATEGIES[cls.name] = cls
    return cls


def _discover() -> None:
    global _discovered
    if _discovered:
        return
    import lifelong.strategies as package

    for module in pkgutil.iter_modules(package.__path__):
        if not module.name.startswith("_"):
            importlib.import_module(f"{package.__name__}.{module.name}")
    _discovered = True


def get_strategy(name: str) -> type[Strategy]:
    """The strategy class registered as ``name``; unknown names list the valid ones."""
    _discover()
    if name not in _STRATEGIES:
        raise unknown_name("strategy", name, _STRATEGIES)
    return _STRATEGIES[name]


def list_strategies() -> dict[str, type[Strategy]]:
    """All registered strategies, sorted by name."""
    _discover()
    return dict(sorted(_STRATEGIES.items()))
