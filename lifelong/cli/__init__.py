"""The ``lifelong`` command line: ``lifelong <command> [options]``.

Each command is a module in this package exposing ``NAME``, ``HELP``, ``add_arguments(parser)`` and
``main(args) -> int``; modules are discovered, so adding a command is adding a file.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
import warnings
from collections.abc import Sequence

from lifelong.errors import LifelongError

ORDER = ["run", "list", "data", "compare", "report", "demo", "sweep", "lora_vs_full"]


def _command_modules() -> list:  # type: ignore[type-arg]
    names = [m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_")]
    names.sort(key=lambda n: (ORDER.index(n) if n in ORDER else len(ORDER), n))
    return [importlib.import_module(f"{__name__}.{n}") for n in names]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lifelong",
        description="Continual learning: train one model on a stream of tasks and measure forgetting.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in _command_modules():
        sub = commands.add_parser(module.NAME, help=module.HELP, description=module.HELP)
        module.add_arguments(sub)
        sub.set_defaults(handler=module.main)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; user errors print one line and exit with status 2; operating-system faults
    (unwritable or full output folder) and running out of memory print one line and exit with 1."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        args = parser.parse_args(["run", *(argv or sys.argv[1:])])
    try:
        with warnings.catch_warnings():
            warnings.showwarning = _show_warning
            return int(args.handler(args) or 0)
    except LifelongError as err:
        return _fail(str(err))
    except BrokenPipeError:
        return 0
    except KeyboardInterrupt:
        print("lifelong: interrupted", file=sys.stderr)
        return 130
    except OSError as err:  # the output folder is a file, read-only, on a full disk, ...
        where = f"{err.filename}: " if err.filename else ""
        return _fail(f"{where}{err.strerror or err}", status=1)
    except MemoryError:
        return _fail("out of memory; use a smaller model, batch size or --eval-batch-size", 1)
    except RuntimeError as err:
        if _is_out_of_memory(err):
            first = str(err).strip().splitlines()[0][:200]
            return _fail(f"out of memory ({first}); use a smaller model or batch size", 1)
        raise


def _show_warning(
    message: Warning | str, category: type[Warning], *args: object, **kw: object
) -> None:
    """Warnings as one line each: ``lifelong: warning: ...``."""
    print(f"lifelong: warning: {message}", file=sys.stderr)


def _fail(message: str, status: int = 2) -> int:
    print(f"lifelong: error: {message}", file=sys.stderr)
    return status


def _is_out_of_memory(err: RuntimeError) -> bool:
    text = str(err)
    return "out of memory" in text or "not enough memory" in text or "can't allocate" in text


if __name__ == "__main__":
    sys.exit(main())
