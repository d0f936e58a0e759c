"""LoRA fine-tuning without task ids: one adapter trained continually on every task after the first.

Hu et al. 2021, "LoRA: Low-Rank Adaptation of Large Language Models" (arXiv:2106.09685); this is the
seed notebook's "LoRA fine-tuning" arm (Part 5), the counterpart of full fine-tuning (``naive``).

Task 0 trains the whole network with cross-entropy. From task 1 on, the base W_0 is frozen and a
single adapter per adapted layer, W = W_0 + (alpha / r) B A, is trained on CE over each task in
turn. No task id is used, so it runs in every setting; it still forgets (the one adapter is
overwritten), but only through r (in + out) parameters per layer, which bounds how far the network
can drift. Shares its hyperparameters and implementation notes with ``lora``.
"""

from __future__ import annotations

from lifelong.components.lora import adapter_names
from lifelong.core.registry import register
from lifelong.data.scenarios import SETTINGS, Task
from lifelong.strategies.lora import LoRA, LoRAConfig


@register
class LoRAContinual(LoRA):
    """Frozen base from task 0 plus one adapter shared by every later task."""

    name = "lora-continual"
    config_class = LoRAConfig
    settings = frozenset(SETTINGS)
    paper = "Hu et al. 2021, LoRA (one adapter fine-tuned on all tasks after the first)"

    def before_task(self, task: Task) -> None:
        if task.index > 0 and not adapter_names(self.model):
            self._add("continual")

    def forward(self, x, task_ids=None):  # type: ignore[no-untyped-def]
        return self.model(x)
