"""Hyperparameters shared by the strategies that replay stored examples (ER, A-GEM, iCaRL, DER),
and the memory policy option of those whose memory is not part of the method (all but iCaRL)."""

from __future__ import annotations

from dataclasses import dataclass

from lifelong.components.buffer import STORAGE, Storage
from lifelong.components.memory import BufferPolicy
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


POLICY_HELP = (
    "which examples the memory keeps: reservoir, task-reservoir, ring (per class, first-in "
    "first-out), task-balanced or class-balanced (past tasks only, filled at task end); see "
    "lifelong.components.memory"
)


@dataclass(frozen=True)
class ReplayPolicyConfig(ReplayConfig):
    """A replay configuration with a choice of memory policy (ER, DER, DER++, A-GEM)."""

    buffer_policy: BufferPolicy = field("reservoir", POLICY_HELP)
