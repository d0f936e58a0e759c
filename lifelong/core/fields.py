"""Typed dataclass configs built from strings or YAML values, with errors that name the field.

Every strategy and the run itself are described by frozen dataclasses. ``build_config`` turns a mapping
(from ``--set key=value`` flags or a YAML file) into such a dataclass, converting strings to the field's
declared type and rejecting unknown keys, so a typo never silently falls back to a default.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping
from typing import Any, Literal, TypeVar, Union, get_args, get_origin

from lifelong.errors import ConfigError

T = TypeVar("T")

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def describe_type(tp: Any) -> str:
    """A short human-readable name of a type annotation."""
    origin = get_origin(tp)
    if origin is Literal:
        return "|".join(str(a) for a in get_args(tp))
    if origin in (Union, types.UnionType):
        return (
            " or ".join(describe_type(a) for a in get_args(tp) if a is not type(None)) + " or none"
        )
    if origin is tuple:
        return f"list of {describe_type(get_args(tp)[0])}"
    if origin is dict:
        return "mapping"
    return getattr(tp, "__name__", str(tp))


def convert(value: Any, tp: Any, name: str) -> Any:
    """Convert ``value`` (a string from the command line or a YAML scalar) to annotation ``tp``."""
    origin = get_origin(tp)
    if origin in (Union, types.UnionType):
        args = [a for a in get_args(tp) if a is not type(None)]
        if value is None or (isinstance(value, str) and value.lower() in {"none", "null", ""}):
            return None
        return convert(value, args[0], name)
    if origin is Literal:
        choices = get_args(tp)
        for choice in choices:
            if value == choice or str(value) == str(choice):
                return choice
        raise ConfigError(f"{name}: '{value}' is not one of {', '.join(map(str, choices))}")
    if origin is tuple:
        (item,) = get_args(tp)[:1]
        if isinstance(value, str):
            parts = [p for p in value.replace("x", ",").split(",") if p.strip()] if value else []
        elif isinstance(value, (list, tuple)):
            parts = list(value)
        else:
            parts = [value]
        return tuple(convert(p, item, name) for p in parts)
    if origin is dict or tp is dict:
        if not isinstance(value, Mapping):
            raise ConfigError(f"{name}: expected a mapping, got '{value}'")
        return dict(value)
    if tp is bool:
        if isinstance(value, bool):
            return value
        if str(value).lower() in _TRUE:
            return True
        if str(value).lower() in _FALSE:
            return False
        raise ConfigError(f"{name}: expected true or false, got '{value}'")
    if tp is int:
        if isinstance(value, bool):
            raise ConfigError(f"{name}: expected an integer, got '{value}'")
        try:
            number = float(value) if isinstance(value, str) else value
            if isinstance(number, float) and not number.is_integer():
                raise ValueError
            return int(number)
        except (TypeError, ValueError):
            raise ConfigError(f"{name}: expected an integer, got '{value}'") from None
    if tp is float:
        if isinstance(value, bool):
            raise ConfigError(f"{name}: expected a number, got '{value}'")
        try:
            return float(value)
        except (TypeError, ValueError):
            raise ConfigError(f"{name}: expected a number, got '{value}'") from None
    if tp is str:
        if isinstance(value, (Mapping, list, tuple)):
            raise ConfigError(f"{name}: expected text, got '{value}'")
        return str(value)
    return value


def build_config(cls: type[T], values: Mapping[str, Any] | None = None, *, where: str = "") -> T:
    """Create dataclass ``cls`` from ``values``, converting types; unknown keys are errors.

    Args:
        cls: a dataclass type.
        values: field name to value (strings are converted to the field's type).
        where: a prefix for error messages, e.g. the strategy name.

    Raises:
        ConfigError: naming the offending key and listing the valid ones.
    """
    values = dict(values or {})
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}  # type: ignore[arg-type]
    prefix = f"{where}: " if where else ""
    unknown = [k for k in values if k.replace("-", "_") not in fields]
    if unknown:
        valid = ", ".join(fields) or "(none)"
        raise ConfigError(f"{prefix}unknown key '{unknown[0]}'; valid: {valid}")
    kwargs = {
        key.replace("-", "_"): convert(v, hints[key.replace("-", "_")], f"{prefix}{key}")
        for key, v in values.items()
    }
    try:
        return cls(**kwargs)
    except ConfigError as err:
        raise ConfigError(f"{prefix}{err}") from None
    except (TypeError, ValueError) as err:
        raise ConfigError(f"{prefix}{err}") from None


def defaults_of(cls: type) -> dict[str, Any]:
    """The fields of a config dataclass that have a plain default, with that default."""
    return {
        f.name: f.default for f in dataclasses.fields(cls) if f.default is not dataclasses.MISSING
    }


def config_help(cls: type) -> list[tuple[str, str, Any, str]]:
    """Rows of (name, type, default, help) for each field; help comes from ``metadata['help']``."""
    hints = typing.get_type_hints(cls)
    rows = []
    for f in dataclasses.fields(cls):
        default = f.default if f.default is not dataclasses.MISSING else None
        if f.default_factory is not dataclasses.MISSING:  # type: ignore[misc]
            default = f.default_factory()  # type: ignore[misc]
        rows.append((f.name, describe_type(hints[f.name]), default, f.metadata.get("help", "")))
    return rows


def field(default: Any, help: str, **kwargs: Any) -> Any:  # noqa: A002 - mirrors argparse
    """A dataclass field with help text shown by ``lifelong list``."""
    return dataclasses.field(default=default, metadata={"help": help}, **kwargs)


def check(condition: bool, message: str) -> None:
    """Raise ``ConfigError(message)`` unless ``condition`` holds; used in ``__post_init__``."""
    if not condition:
        raise ConfigError(message)
