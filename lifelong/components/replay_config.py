"""Hyperparameters shared by the strategies that replay stored examples (ER, A-GEM, iCaRL, DER)."""

from __future__ import annotations

from dataclasses import dataclass

from lifelong.components.buffer import STORAGE, Storage
from lifelong.core.fields import check, field
from lifelong.core.strategy import StrategyConfig


@dataclass(frozen=True)
class ReplayConfig(StrategyConfig):
    """Memory budget, replay batch and storage dtype; subclasses may change defaults and help."""

    buffer_size: int = field(1000, "memory budget |M| in stored examples (total, all tasks)")
    replay_batch_size: int = field(128, "replayed examples per step (|B_M|)")
    storage: Storage = field(
        "auto", "dtype of the stored inputs (auto: uint8 when lossless, else float32)"
    )

    def __post_init__(self) -> None:
        check(self.buffer_size >= 1, "buffer_size must be >= 1")
        check(self.replay_batch_size >= 1, "replay_batch_size must be >= 1")
        check(self.storage in ("auto", *STORAGE), f"storage must be auto or one of {STORAGE}")
