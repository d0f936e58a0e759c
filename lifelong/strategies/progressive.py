"""Progressive Neural Networks: a new column per task, earlier columns frozen, lateral connections.

Rusu et al. 2016, "Progressive Neural Networks" (arXiv:1606.04671). Column k has hidden layers h^k_i
= relu(W^k_i h^k_{i-1} + U^k_i relu(V^k_i (alpha^k_i [h^1_{i-1}, ..., h^{k-1}_{i-1}]))), where the
bracket concatenates the earlier columns' activations at the layer below (the paper's non-linear
"adapter" for dense layers: a learned scalar alpha, V reducing to one column's width, U). Task k
trains only column k (its weights and adapters) with CE on its data; columns 0..k-1 are frozen. Task
j is predicted by column j, which reads only columns <= j, so no earlier task's function ever
changes: zero forgetting by construction, paid for with one column (plus adapters) per task.

Supported: lifelong's ``mlp`` model (or a :class:`lifelong.models.MLP` given as your own model),
task-incremental setting (the task id chooses the column). Column 0 is the run's MLP; later columns
have the same widths unless ``hidden`` is set. Each column has a full output layer over all units,
of which only its task's units are used. The paper's adapters also feed the output layer; we do the
same. Tasks whose column does not exist yet are evaluated with the newest column (their accuracy is
not meaningful). Columns are added in ``before_task`` and rebuilt on load.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from lifelong.components.columns import ProgressiveMLP
from lifelong.components.routing import route_by_task
from lifelong.core.fields import check, field
from lifelong.core.registry import register
from lifelong.core.strategy import Strategy, StrategyConfig
from lifelong.data.scenarios import Task
from lifelong.errors import ConfigError
from lifelong.models.user import mlp_layers


@dataclass(frozen=True)
class ProgressiveConfig(StrategyConfig):
    """Column shape."""

    hidden: tuple[int, ...] = field((), "hidden sizes of columns 1, 2, ... (default: the model's)")
    alpha: float = field(0.01, "initial value of each adapter's learned scale alpha")

    def __post_init__(self) -> None:
        check(all(h >= 1 for h in self.hidden), "hidden sizes must be >= 1")


@register
class Progressive(Strategy):
    """One frozen column per learned task, with lateral adapters from all earlier columns."""

    name = "progressive"
    config_class = ProgressiveConfig
    settings = frozenset({"task"})
    paper = "Rusu et al. 2016, Progressive Neural Networks"
    config: ProgressiveConfig
    model: ProgressiveMLP

    def __init__(self, model, config, context) -> None:  # type: ignore[no-untyped-def]
        super().__init__(model, config, context)
        layers = mlp_layers(model, self.name, "its columns are fully connected")
        hidden = [layer.out_features for layer in layers[:-1]]
        if config.hidden and len(config.hidden) != len(hidden):
            raise ConfigError(f"progressive: hidden needs {len(hidden)} sizes, like the model")
        sizes = [layers[0].in_features, *(config.hidden or hidden), layers[-1].out_features]
        # column 0 is the run's model, unless the columns get their own widths
        self.model = ProgressiveMLP(sizes, [] if config.hidden else layers, config.alpha)

    def before_task(self, task: Task) -> None:
        while len(self.model.columns) <= task.index:
            self.model.add_column()

    def forward(self, x: torch.Tensor, task_ids: torch.Tensor | None = None) -> torch.Tensor:
        return route_by_task(x, task_ids, lambda xs, t: self.model(xs, t))

    def parameter_counts(self) -> dict[str, int]:
        return {**super().parameter_counts(), "columns": len(self.model.columns)}

    def extra_state(self) -> dict[str, object]:
        return {"columns": len(self.model.columns)}

    def load_extra_state(self, state: dict[str, Any]) -> None:
        while len(self.model.columns) < int(state["columns"]):
            self.model.add_column()
