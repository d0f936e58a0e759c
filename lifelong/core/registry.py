"""Strategy registry: ``@register`` on a Strategy subclass.

Three sources, all read lazily (nothing happens at import time):

* built-in strategies, the files under ``lifelong/strategies`` (imported when the registry is first
  read);
* plugins installed as packages: Python entry points of group ``lifelong.strategies``, each named
  after the strategy it provides, e.g. in the plugin's ``pyproject.toml``::

      [project.entry-points."lifelong.strategies"]
      l2-anchor = "my_package.l2_anchor:L2Anchor"

  (the value may also be a module whose import registers the class). They are loaded when a name
  that is not built in is looked up, or when every strategy is listed;
* plugin modules named explicitly: ``--plugin module.path`` (or a ``.py`` file), ``plugins:`` in a
  YAML configuration, ``RunConfig.of(plugins=...)``; see :func:`load_plugins`.

A plugin that fails to load raises :class:`PluginError`, one line naming it.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
import pkgutil
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import TypeVar

from lifelong.core.strategy import Strategy
from lifelong.errors import LifelongError, unknown_name

S = TypeVar("S", bound=type[Strategy])

ENTRY_POINT_GROUP = "lifelong.strategies"
BUILTIN_PACKAGE = "lifelong.strategies"


class PluginError(LifelongError):
    """A plugin strategy could not be imported or registered."""


_STRATEGIES: dict[str, type[Strategy]] = {}
_discovered = False
_entry_points_loaded = False
_broken_entry_points: dict[str, PluginError] = {}


def register(cls: S) -> S:
    """Class decorator that registers a strategy under ``cls.name``."""
    if cls.name in _STRATEGIES and _STRATEGIES[cls.name] is not cls:
        other = _STRATEGIES[cls.name]
        raise PluginError(
            f"strategy name '{cls.name}' registered twice ({other.__module__}.{other.__qualname__} "
            f"and {cls.__module__}.{cls.__qualname__})"
        )
    _STRATEGIES[cls.name] = cls
    return cls


def plugin_module(cls: type[Strategy]) -> str | None:
    """The module a plugin strategy is defined in; ``None`` for a built-in strategy."""
    module = cls.__module__
    return None if module.startswith(BUILTIN_PACKAGE + ".") else module


def _discover() -> None:
    global _discovered
    if _discovered:
        return
    # Found by name, like a plugin: the core does not import the layer above it.
    package = importlib.import_module(BUILTIN_PACKAGE)
    for module in pkgutil.iter_modules(package.__path__):
        if not module.name.startswith("_"):
            importlib.import_module(f"{package.__name__}.{module.name}")
    _discovered = True


def _first_line(err: BaseException) -> str:
    text = str(err).strip()
    return f"{type(err).__name__}: {text.splitlines()[0]}" if text else type(err).__name__


def _load_entry_point(entry: importlib.metadata.EntryPoint) -> None:
    where = f"plugin strategy '{entry.name}' (entry point {entry.value}"
    dist = getattr(entry, "dist", None)
    where += f" of package {dist.name})" if dist is not None else ")"
    try:
        loaded = entry.load()
    except Exception as err:  # noqa: BLE001 - any failure of third-party code is reported
        raise PluginError(f"{where} failed to load: {_first_line(err)}") from None
    if isinstance(loaded, type) and issubclass(loaded, Strategy):
        if loaded.name != entry.name:
            raise PluginError(
                f"{where} provides a strategy named '{loaded.name}'; the entry point must be "
                "named after the strategy"
            )
        register(loaded)
    elif entry.name not in _STRATEGIES:
        raise PluginError(f"{where} registered no strategy named '{entry.name}'")


def _load_entry_points() -> None:
    """Load every ``lifelong.strategies`` entry point once; failures are kept per name."""
    global _entry_points_loaded
    if _entry_points_loaded:
        return
    _entry_points_loaded = True
    seen: set[tuple[str, str]] = set()
    for entry in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        if (entry.name, entry.value) in seen:  # one package found twice on sys.path
            continue
        seen.add((entry.name, entry.value))
        try:
            _load_entry_point(entry)
        except PluginError as err:
            _broken_entry_points[entry.name] = err


def load_plugins(plugins: Iterable[str]) -> None:
    """Import plugin modules so the strategies they ``@register`` become available.

    Args:
        plugins: dotted module paths (``my_package.strategies``) or paths of ``.py`` files.

    Raises:
        PluginError: a plugin cannot be found or raised while being imported.
    """
    for plugin in plugins:
        try:
            if plugin.endswith(".py"):
                _import_file(Path(plugin))
            else:
                importlib.import_module(plugin)
        except PluginError:
            raise
        except Exception as err:  # noqa: BLE001 - any failure of third-party code is reported
            raise PluginError(f"plugin '{plugin}' failed to import: {_first_line(err)}") from None


def _import_file(path: Path) -> None:
    if not path.is_file():
        raise PluginError(f"plugin '{path}': no such file")
    name = f"lifelong_plugin_{path.resolve().stem}"
    if name in sys.modules:
        return
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses and pickling look the module up by name
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise


def get_strategy(name: str) -> type[Strategy]:
    """The strategy class registered as ``name``; unknown names list the valid ones.

    Entry-point plugins are loaded only when ``name`` is not a built-in strategy, so a broken
    plugin fails only the runs that ask for it.
    """
    _discover()
    if name not in _STRATEGIES:
        _load_entry_points()
        if name in _broken_entry_points:
            raise _broken_entry_points[name]
    if name not in _STRATEGIES:
        raise unknown_name("strategy", name, _STRATEGIES)
    return _STRATEGIES[name]


def list_strategies() -> dict[str, type[Strategy]]:
    """All registered strategies (built-in and plugins that load), sorted by name; see
    :func:`broken_plugins` for installed plugins that failed to load."""
    _discover()
    _load_entry_points()
    return dict(sorted(_STRATEGIES.items()))


def broken_plugins() -> dict[str, PluginError]:
    """Installed entry-point plugins that failed to load, by strategy name, with the reason."""
    _load_entry_points()
    return dict(_broken_entry_points)
