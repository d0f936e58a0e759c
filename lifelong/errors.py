"""User-facing errors: the CLI prints their message on one line, without a traceback."""

from __future__ import annotations

from collections.abc import Iterable


class LifelongError(Exception):
    """An error caused by input a user can fix (a name, a file, a setting)."""


class ConfigError(LifelongError):
    """An invalid configuration value or key."""


class DataError(LifelongError):
    """A missing, corrupt or unreadable dataset file."""


class DivergenceError(LifelongError):
    """Training produced a non-finite loss."""

    def __init__(self, task: int, iteration: int, value: float) -> None:
        super().__init__(
            f"training diverged: loss is {value} at task {task}, iteration {iteration}; "
            "lower the learning rate or the strategy's strength"
        )
        self.task = task
        self.iteration = iteration


class LossGrowthWarning(UserWarning):
    """The training loss grew by orders of magnitude within a task (a run about to diverge)."""


class ConfigurationWarning(UserWarning):
    """A run goes on, but a hyperparameter keeps its strategy from doing what it is for."""


class UnsupportedSettingError(LifelongError):
    """A strategy was asked to run in a setting it cannot handle."""


def unknown_name(kind: str, name: str, valid: Iterable[str]) -> LifelongError:
    """Build the standard 'unknown X' error that lists the valid names."""
    return LifelongError(f"unknown {kind} '{name}'; valid: {', '.join(sorted(valid))}")


def require_package(module: str, extra: str, purpose: str):  # type: ignore[no-untyped-def]
    """Import and return ``module``, or raise a LifelongError saying which extra installs it."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        raise LifelongError(
            f"{purpose} needs the '{module}' package: pip install 'lifelong[{extra}]'"
        ) from None
