"""lifelong.testing catches broken strategies: state kept in a Python list, batches edited in place."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
import torch

from lifelong import Batch, Strategy, StrategyConfig, Task, field
from lifelong.core import registry
from lifelong.errors import ConfigError
from lifelong.testing import ContractViolation, check_strategy, contract_checks, interruption_point


@dataclass(frozen=True)
class AnchorConfig(StrategyConfig):
    strength: float = field(10.0, "weight of the squared distance to earlier tasks' parameters")


class ListAnchor(Strategy):
    """Deliberately broken: the snapshots it is penalised towards live in a plain Python list, so a
    checkpoint does not hold them and a resumed run trains without the penalty."""

    name = "list-anchor"
    config_class = AnchorConfig
    config: AnchorConfig

    def __init__(self, model, config, context) -> None:  # type: ignore[no-untyped-def]
        super().__init__(model, config, context)
        self.snapshots: list[list[torch.Tensor]] = []

    def loss(self, batch: Batch) -> torch.Tensor:
        loss = self.classification_loss(batch)
        for snapshot in self.snapshots:
            pairs = zip(self.model.parameters(), snapshot, strict=True)
            loss = loss + self.config.strength * sum(((p - s) ** 2).sum() for p, s in pairs)
        return loss

    def after_task(self, task: Task) -> None:
        self.snapshots.append([p.detach().clone() for p in self.model.parameters()])


class BufferAnchor(ListAnchor):
    """The same method with its snapshots in ``extra_state``: resumes exactly."""

    name = "buffer-anchor"

    def extra_state(self) -> dict[str, object]:
        return {"snapshots": self.snapshots}

    def load_extra_state(self, state: dict[str, object]) -> None:
        self.snapshots = [list(s) for s in state["snapshots"]]  # type: ignore[attr-defined]


class InPlace(Strategy):
    """Deliberately broken: scales the training inputs in place."""

    name = "in-place"

    def loss(self, batch: Batch) -> torch.Tensor:
        batch.x.mul_(1.0)
        batch.x[0].zero_()
        return self.classification_loss(batch)


@pytest.fixture
def registered(monkeypatch):
    """Register the test strategies for one test only."""
    registry.list_strategies()
    for cls in (ListAnchor, BufferAnchor, InPlace):
        monkeypatch.setitem(registry._STRATEGIES, cls.name, cls)


def only(name: str, check: str, **options):
    (found,) = [c for c in contract_checks(name, **options) if c.name == check]
    return found


def test_the_interruption_falls_strictly_inside_a_later_task():
    assert interruption_point(20, 5) == (66, 63)  # last checkpoint at 63: task 3 started at 60
    for iterations in (3, 4, 7, 20, 100):
        for tasks in (2, 3, 5):
            at, every = interruption_point(iterations, tasks)
            start = max(tasks - 2, 1) * iterations
            last_checkpoint = (at - 1) // every * every
            assert start < last_checkpoint < at < start + iterations


def test_state_in_a_python_list_fails_resume_mid_task(registered, tmp_path):
    with pytest.raises(ContractViolation, match="'list-anchor' fails 'resume-mid-task'.*outside"):
        only("list-anchor", "resume-mid-task")(tmp_path / "a")
    only("buffer-anchor", "resume-mid-task")(tmp_path / "b")  # the fixed version passes


def test_editing_the_batch_in_place_fails(registered, tmp_path):
    with pytest.raises(
        ContractViolation, match=r"batch was changed in place \(task 0, iteration 0"
    ):
        only("in-place", "inputs-not-mutated")(tmp_path)


def test_check_strategy_lists_every_failure(registered, tmp_path):
    with pytest.raises(ContractViolation) as failure:
        check_strategy(InPlace, workdir=tmp_path, iterations=4, tasks=2)
    message = str(failure.value)
    assert "'in-place' fails 'inputs-not-mutated'" in message
    assert message.count("fails") == 1  # the other checks pass
    names = check_strategy("naive", workdir=tmp_path, iterations=4, tasks=2)
    assert names == [
        "valid-accuracy-matrix",
        "same-seed",
        "checkpoint-round-trip",
        "resume-mid-task",
        "inputs-not-mutated",
    ]  # naive runs in every setting: nothing unsupported to check


def test_unregistered_classes_and_epoch_budgets_are_refused(tmp_path):
    class Stray(Strategy):
        name = "stray"

    with pytest.raises(ConfigError, match="Stray is not the strategy registered as 'stray'"):
        contract_checks(Stray)
    with pytest.raises(ConfigError, match="set iterations"):
        contract_checks("naive", iterations=None, epochs=1)


def test_the_kit_runs_on_a_user_scenario(registered, tmp_path):
    from lifelong import scenario_from_tensors

    x = torch.randn(48, 6, generator=torch.Generator().manual_seed(0))
    y = torch.arange(48) % 4
    toy = scenario_from_tensors(x, y, test=(x[:16], y[:16]), num_tasks=2, setting="task")
    names = check_strategy("buffer-anchor", scenario=toy, workdir=tmp_path, iterations=4)
    assert "unsupported-setting" not in names and "resume-mid-task" in names
    with pytest.raises(ContractViolation, match="'list-anchor' fails 'resume-mid-task'"):
        only("list-anchor", "resume-mid-task", scenario=toy, iterations=6)(tmp_path / "l")
