"""LoRA per task: a shared base trained on the first task, then one low-rank adapter per task.

Hu et al. 2021, "LoRA: Low-Rank Adaptation of Large Language Models" (arXiv:2106.09685), used as a
parameter-isolation method for continual learning (the seed notebook's LoRALinear, Part 5).

Task 0 trains the whole network with cross-entropy. At every later task t, the base is frozen and an
adapter is added to every chosen linear / convolution layer: W_t = W_0 + (alpha / r) B_t A_t, with
only (A_t, B_t) trained on CE(f_{W_t}(x), y) over task t's data. At test time the task id selects
the adapter (task 0: the base alone), so no earlier task's function ever changes: zero forgetting in
the task-incremental setting, at a cost of r (in + out) parameters per adapted layer per task.

Implementation notes: adapters come from ``peft`` (``get_peft_model`` / ``add_adapter`` /
``set_adapter``, saved per task with :meth:`LoRA.save_adapters`). The output layer is adapted like
the others (``targets`` empty), which is how task t's head units are learned on a frozen head.
Batches that mix tasks are split by task. BatchNorm statistics (resnet18) are frozen after task 0.
Tasks whose adapter does not exist yet are evaluated with the newest adapter (their accuracy is not
meaningful).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from lifelong.components.lora import (
    adapter_names,
    add_adapter,
    freeze_batchnorm,
    load_adapters,
    lora_config,
    routed,
    save_adapters,
)
from lifelong.components.routing import route_by_task
from lifelong.core.fields import check, field
from lifelong.core.registry import register
from lifelong.core.strategy import Strategy, StrategyConfig
from lifelong.data.scenarios import Task


@dataclass(frozen=True)
class LoRAConfig(StrategyConfig):
    """Adapter shape."""

    rank: int = field(8, "r: rank of each adapter's update B A")
    alpha: float = field(8.0, "alpha: the update is scaled by alpha / r")
    targets: tuple[str, ...] = field(
        (), "layer names to adapt (default: every linear/conv, head too)"
    )
    dropout: float = field(0.0, "dropout on the adapter input (peft lora_dropout)")

    def __post_init__(self) -> None:
        check(self.rank >= 1, "rank must be >= 1")
        check(self.alpha > 0, "alpha must be > 0")
        check(0.0 <= self.dropout < 1.0, "dropout must be in [0, 1)")


@register
class LoRA(Strategy):
    """Frozen base from task 0 plus one LoRA adapter per later task, chosen by task id."""

    name = "lora"
    config_class = LoRAConfig
    settings = frozenset({"task"})
    paper = "Hu et al. 2021, LoRA (one adapter per task; task-incremental)"
    config: LoRAConfig

    def adapter_for(self, task: int) -> str | None:
        """Adapter that predicts ``task`` (None: the base alone)."""
        names = adapter_names(self.model)
        if task == 0 or not names:
            return None
        return f"task_{task}" if f"task_{task}" in names else names[-1]

    def _add(self, name: str) -> None:
        c = self.config
        peft_config = lora_config(self.model, c.rank, c.alpha, c.targets, c.dropout)
        self.model = add_adapter(self.model, name, peft_config)
        self.train(self.training)

    def before_task(self, task: Task) -> None:
        if task.index > 0:
            self._add(f"task_{task.index}")

    def train(self, mode: bool = True) -> LoRA:
        super().train(mode)
        if adapter_names(self.model):
            freeze_batchnorm(self.model)
        return self

    def forward(self, x: torch.Tensor, task_ids: torch.Tensor | None = None) -> torch.Tensor:
        return route_by_task(x, task_ids, self._run)

    def _run(self, x: torch.Tensor, task: int) -> torch.Tensor:
        with routed(self.model, self.adapter_for(task)):
            return self.model(x)

    def save_adapters(self, folder: str | Path) -> list[str]:
        """Write each task's adapter to ``folder/task_<t>/``; returns the adapter names."""
        return save_adapters(self.model, folder)

    def load_adapters(self, folder: str | Path, names: list[str] | None = None) -> None:
        """Load adapters written by :meth:`save_adapters` (all found in ``folder`` by default)."""
        found = names or sorted(p.parent.name for p in Path(folder).glob("*/adapter_config.json"))
        load_adapters(self.model, folder, found)

    def extra_state(self) -> dict[str, object]:
        return {"adapters": adapter_names(self.model)}

    def load_extra_state(self, state: dict[str, Any]) -> None:
        for name in state["adapters"]:
            if name not in adapter_names(self.model):
                self._add(name)
