"""Reading checkpoints safely: tensors and plain data only, with the keys a run needs."""

from __future__ import annotations

import re
import warnings
from pathlib import Path
from typing import Any

import torch

from lifelong.errors import LifelongError

REQUIRED_KEYS = ("format", "progress", "strategy", "optimizer", "rng", "config")


def load_checkpoint(path: Path) -> dict[str, Any]:
    """Load a checkpoint with ``weights_only=True``: tensors and plain data only, never code."""
    try:
        with warnings.catch_warnings():
            # e.g. pickle-protocol notes: the error raised below says it all
            warnings.simplefilter("ignore")
            state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # noqa: BLE001 - any unpickling failure is a corrupt/unsafe file
        text = str(err).strip()
        unsafe = re.search(r"GLOBAL ([\w.]+)", text)
        if unsafe or "Weights only load failed" in text:
            what = f" ({unsafe.group(1)})" if unsafe else ""
            raise LifelongError(
                f"{path}: refused to load: the checkpoint holds objects other than tensors and "
                f"plain data{what}; lifelong never runs code from a checkpoint"
            ) from None
        first = text.splitlines()[0] if text else type(err).__name__
        raise LifelongError(f"{path}: not a valid lifelong checkpoint ({first[:200]})") from None
    if not isinstance(state, dict) or state.get("format") != 1:
        raise LifelongError(f"{path}: not a lifelong checkpoint (unknown format)")
    missing = [key for key in REQUIRED_KEYS if key not in state]
    if missing:
        raise LifelongError(f"{path}: incomplete checkpoint (missing {', '.join(missing)})")
    if not isinstance(state["config"], dict):
        raise LifelongError(f"{path}: incomplete checkpoint (its configuration is not a mapping)")
    return state
