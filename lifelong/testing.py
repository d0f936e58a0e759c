"""The strategy contract as a test kit: run lifelong's contract matrix on your own strategy.

lifelong's own test suite runs these checks on every built-in strategy; a plugin author runs them on
theirs, in their own test suite::

    import pytest
    from lifelong.testing import contract_checks

    import my_package.l2_anchor  # registers the strategy "l2-anchor"

    @pytest.mark.parametrize("check", contract_checks("l2-anchor"), ids=str)
    def test_contract(check, tmp_path):
        check(tmp_path)

or, without pytest, ``check_strategy("l2-anchor")`` runs every check and raises
:class:`ContractViolation` listing the failures. Each check trains on a tiny stream (by default
split-digits, 5 tasks, 20 iterations per task, an MLP with 32 hidden units, one thread: seconds):

* ``valid-accuracy-matrix``: in every supported setting, a run fills a T x T accuracy matrix of
  finite values in [0, 1], and the average accuracy is the mean of its last row;
* ``same-seed``: two runs with the same seed give bit-identical accuracy matrices and curves;
* ``checkpoint-round-trip``: a differently initialised strategy that loads the final checkpoint
  predicts exactly what the trained one predicts;
* ``resume-mid-task``: a run interrupted in the middle of a task and resumed from its last
  checkpoint ends with the same accuracy matrix and the same ``state_dict()`` as an uninterrupted
  run. This catches state kept outside ``state_dict``/``extra_state`` (a Python list of snapshots,
  a counter in a plain attribute), which a resumed run silently loses;
* ``unsupported-setting`` (if the strategy leaves out a setting): running it there raises
  :class:`~lifelong.errors.UnsupportedSettingError` naming the strategy;
* ``inputs-not-mutated``: no hook changes the training batch in place.
"""

from __future__ import annotations

import math
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from unittest import mock

import torch

from lifelong.core.checkpoint import load_checkpoint
from lifelong.core.config import RunConfig
from lifelong.core.events import Observer
from lifelong.core.learner import Learner
from lifelong.core.registry import get_strategy
from lifelong.core.runner import build_strategy, resolve, run
from lifelong.core.strategy import Batch, Strategy
from lifelong.data.scenarios import SETTINGS, Scenario
from lifelong.errors import ConfigError, LifelongError, UnsupportedSettingError
from lifelong.models.user import ModelSource, UserModel

TINY_RUN: dict[str, Any] = {
    "benchmark": "split-digits",
    "iterations": 20,
    "batch_size": 32,
    "hidden": (32,),
    "eval_every": 0,
    "seed": 0,
    "tasks": 5,
    "threads": 1,
}


class ContractViolation(AssertionError):
    """A strategy broke its contract; the message says which check and how."""


@dataclass(frozen=True, eq=False)
class _Case:
    """One strategy with its hyperparameters, model and run settings."""

    strategy: type[Strategy]
    params: dict[str, Any]
    model: UserModel | ModelSource | None
    overrides: dict[str, Any] = field(default_factory=dict)
    scenario: Scenario | None = None

    @property
    def settings(self) -> list[str]:
        """The settings checked: the strategy's, or the one of the user's scenario."""
        if self.scenario is not None:
            return [self.scenario.setting]
        settings = sorted(self.strategy.settings)
        if self.overrides.get("online") and self.overrides.get("boundaries", "known") != "known":
            # a task-free online stream has no task ids, so no task-incremental setting
            settings = [s for s in settings if s != "task"]
        return settings

    @property
    def name(self) -> str:
        return self.strategy.name

    def config(self, setting: str | None = None, **changes: Any) -> RunConfig:
        if self.scenario is not None:
            setting = self.scenario.setting
        elif setting is None:
            supported = self.settings
            setting = "class" if "class" in supported else supported[0]
        tiny = dict(TINY_RUN)
        if self.scenario is not None:  # the scenario says what it is and how many tasks it has
            del tiny["benchmark"], tiny["tasks"]
        values = {
            **tiny,
            **self.overrides,
            "setting": setting,
            "strategy": self.name,
            "strategy_params": self.params,
            **changes,
        }
        return RunConfig.of(**values)

    def run(self, config: RunConfig, **options: Any) -> Any:
        return run(config, model=self.model, scenario=self.scenario, **options)

    def resolve(self, config: RunConfig) -> RunConfig:
        return resolve(config, self.scenario)


@dataclass(frozen=True, eq=False)
class ContractCheck:
    """One check of one strategy; call it with a scratch folder (e.g. pytest's ``tmp_path``).

    ``str(check)`` is ``"<strategy>-<check>"``, a readable pytest id.
    """

    name: str
    case: _Case
    function: Callable[[_Case, Path], None] = field(repr=False)

    def __call__(self, workdir: str | Path) -> None:
        self.function(self.case, Path(workdir))

    def __str__(self) -> str:
        return f"{self.case.name}-{self.name}"


def _iterations_per_task(config: RunConfig) -> int:
    """Training batches per task: ``iterations``, or the batches of an online task."""
    if config.training.online:
        assert config.data.train_samples_per_task is not None
        return -(-config.data.train_samples_per_task // config.training.batch_size)
    assert config.training.iterations is not None
    return config.training.iterations


def _fail(case: _Case, check: str, message: str) -> None:
    raise ContractViolation(f"strategy '{case.name}' fails '{check}': {message}")


# ------------------------------------------------------------------------------------------ checks
def _valid_accuracy_matrix(case: _Case, workdir: Path) -> None:
    for setting in case.settings:
        result = case.run(case.config(setting), write=False)
        R = torch.tensor(result.accuracy_matrix, dtype=torch.float64)
        T = result.strategy.context.scenario.num_tasks
        where = f"({setting}-incremental)"
        if R.shape != (T, T):
            _fail(case, "valid-accuracy-matrix", f"matrix of shape {tuple(R.shape)}, not {T}x{T}")
        if not (torch.isfinite(R).all() and ((R >= 0) & (R <= 1)).all()):
            _fail(case, "valid-accuracy-matrix", f"values outside [0, 1] {where}: {R.tolist()}")
        if not math.isclose(result.metrics["average_accuracy"], R[-1].mean().item()):
            _fail(
                case, "valid-accuracy-matrix", f"average accuracy != mean of the last row {where}"
            )


def _same_seed(case: _Case, workdir: Path) -> None:
    first = case.run(case.config(), write=False).metrics
    second = case.run(case.config(), write=False).metrics
    for key in ("accuracy_matrix", "curve"):
        if first[key] != second[key]:
            _fail(case, "same-seed", f"two runs with seed 0 differ in {key}")


def _checkpoint_round_trip(case: _Case, workdir: Path) -> None:
    config = case.resolve(case.config(out=str(workdir / "round-trip")))
    result = case.run(config)
    trained = result.strategy
    state = load_checkpoint(workdir / "round-trip" / "checkpoint.pt")
    scenario = trained.context.scenario
    other_init = config.replace(seed=config.seed + 1)
    fresh = build_strategy(other_init, scenario, trained.context.device, model=case.model)
    fresh.load_state_dict(state["strategy"])
    fresh.context.tasks_seen = trained.context.tasks_seen  # as the loop sets it
    fresh.eval(), trained.eval()
    for task in scenario:
        x, _ = scenario.eval_batch(task.index, task.eval_indices[:64])
        ids = torch.full((len(x),), task.index) if scenario.setting == "task" else None
        with torch.no_grad():
            seen = trained.context.tasks_seen
            if not torch.equal(
                fresh.predict(x, ids, tasks_seen=seen), trained.predict(x, ids, tasks_seen=seen)
            ):
                _fail(
                    case,
                    "checkpoint-round-trip",
                    f"after loading the checkpoint, predictions on task {task.index} differ",
                )


class _Interrupt(Observer):
    """Raise KeyboardInterrupt (as Ctrl-C would) at a global iteration."""

    def __init__(self, at: int) -> None:
        self.at = at

    def iteration_done(self, task: int, iteration: int, global_iteration: int, loss: float) -> None:
        if global_iteration == self.at:
            raise KeyboardInterrupt


def interruption_point(iterations: int, tasks: int) -> tuple[int, int]:
    """(global iteration to interrupt at, checkpoint period): the last checkpoint before the
    interruption falls strictly inside the second-to-last task (the last one if there are 2), so
    the resumed run restarts mid-task with earlier tasks' state (teachers, buffers) in place."""
    start = max(tasks - 2, 1) * iterations
    at = start + max(2, math.ceil(0.3 * iterations))
    return at, at - 3 if at - 3 > start else at - 1


def _resume_mid_task(case: _Case, workdir: Path) -> None:
    config = case.config()
    resolved = case.resolve(config)
    assert resolved.data.tasks is not None
    at, every = interruption_point(_iterations_per_task(resolved), resolved.data.tasks)
    reference = case.run(config, write=False)
    interrupted = config.replace(out=str(workdir / "resumed"), checkpoint_every=every)
    try:
        case.run(interrupted, observers=[_Interrupt(at)])
    except KeyboardInterrupt:
        pass
    else:
        _fail(case, "resume-mid-task", f"the run was not interrupted at iteration {at}")
    resumed = case.run(interrupted, resume=True)
    expected, got = reference.metrics["accuracy_matrix"], resumed.metrics["accuracy_matrix"]
    hint = (
        "state kept outside state_dict()/extra_state() (e.g. a Python list or a plain attribute) "
        "is lost when a run resumes"
    )
    if got != expected:
        _fail(
            case,
            "resume-mid-task",
            f"the resumed run's accuracy matrix {got} differs from the uninterrupted run's "
            f"{expected}; {hint}",
        )
    difference = _state_difference(reference.strategy.state_dict(), resumed.strategy.state_dict())
    if difference:
        _fail(case, "resume-mid-task", f"final state differs in '{difference}'; {hint}")


def _state_difference(a: Any, b: Any, path: str = "") -> str | None:
    """The first key path where two (nested) states differ, or None if they are equal."""
    if isinstance(a, torch.Tensor) or isinstance(b, torch.Tensor):
        same = isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor) and torch.equal(a, b)
        return None if same else path or "(root)"
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        for key in list(a) + [k for k in b if k not in a]:
            if key not in a or key not in b:
                return f"{path}.{key}".lstrip(".")
            found = _state_difference(a[key], b[key], f"{path}.{key}".lstrip("."))
            if found:
                return found
        return None
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        if len(a) != len(b):
            return path or "(root)"
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            found = _state_difference(x, y, f"{path}[{i}]")
            if found:
                return found
        return None
    return None if a == b else path or "(root)"


def _unsupported_setting(case: _Case, workdir: Path) -> None:
    for setting in [s for s in SETTINGS if s not in case.strategy.settings]:
        try:
            case.run(case.config(setting), write=False)
        except UnsupportedSettingError as err:
            if case.name not in str(err):
                _fail(case, "unsupported-setting", f"the error does not name it: {err}")
        else:
            _fail(case, "unsupported-setting", f"ran in the {setting}-incremental setting")


def _inputs_not_mutated(case: _Case, workdir: Path) -> None:
    original = Learner._train_step
    changed: list[tuple[int, int]] = []
    steps = [0]

    def checked(learner: Learner, batch: Batch) -> torch.Tensor:
        before = (batch.x.clone(), batch.y.clone(), batch.task_ids.clone())
        value = original(learner, batch)
        after = (batch.x, batch.y, batch.task_ids)
        if not all(torch.equal(u, v) for u, v in zip(before, after, strict=True)):
            changed.append((learner.progress.task, learner.progress.iteration))
        steps[0] += 1
        return value

    with mock.patch.object(Learner, "_train_step", checked):
        case.run(case.config(), write=False)
    if not steps[0]:
        _fail(case, "inputs-not-mutated", "no training step ran")
    if changed:
        task, iteration = changed[0]
        _fail(
            case,
            "inputs-not-mutated",
            f"the training batch was changed in place (task {task}, iteration {iteration}); "
            "clone tensors before editing them",
        )


CHECKS: dict[str, Callable[[_Case, Path], None]] = {
    "valid-accuracy-matrix": _valid_accuracy_matrix,
    "same-seed": _same_seed,
    "checkpoint-round-trip": _checkpoint_round_trip,
    "resume-mid-task": _resume_mid_task,
    "unsupported-setting": _unsupported_setting,
    "inputs-not-mutated": _inputs_not_mutated,
}


# ------------------------------------------------------------------------------------------ API
def contract_checks(
    strategy: str | type[Strategy],
    *,
    params: Mapping[str, Any] | None = None,
    model: UserModel | ModelSource | None = None,
    scenario: Scenario | None = None,
    **overrides: Any,
) -> list[ContractCheck]:
    """The contract checks of one registered strategy, to parametrize a test with.

    Args:
        strategy: its registry name or its (registered) class.
        params: hyperparameters (keep buffers and generators small: the runs are tiny).
        model: your own network (see :func:`lifelong.run`) instead of the tiny MLP.
        scenario: your own scenario (e.g. from :func:`lifelong.scenario_from_tensors`; keep it
            small) instead of split-digits; the checks then run in its setting only.
        **overrides: run settings replacing the tiny defaults of :data:`TINY_RUN` (e.g.
            ``benchmark="split-mnist", train_samples_per_task=200``); ``iterations`` must stay
            set (at least 3), and ``tasks`` at least 2. ``online=True`` (with ``boundaries``)
            checks the strategy on a single-pass stream: 2 tasks of 30 samples in batches of 10.
    """
    cls = get_strategy(strategy) if isinstance(strategy, str) else strategy
    try:
        registered = get_strategy(cls.name)
    except LifelongError:
        registered = None
    if registered is not cls:
        raise ConfigError(
            f"{cls.__qualname__} is not the strategy registered as '{cls.name}'; decorate it "
            "with @register"
        )
    if overrides.get("online"):
        # one pass over a few samples per task instead of a number of iterations
        overrides = {
            "iterations": None,
            "train_samples_per_task": 30,
            "batch_size": 10,
            "tasks": 2,
            **overrides,
        }
    case = _Case(cls, dict(params or {}), model, dict(overrides), scenario)
    if scenario is not None and scenario.setting not in cls.settings:
        raise UnsupportedSettingError(
            f"strategy '{cls.name}' does not support the {scenario.setting}-incremental setting "
            "of the given scenario"
        )
    resolved = case.resolve(case.config())
    online = resolved.training.online
    if not online and (resolved.training.iterations is None or resolved.training.iterations < 3):
        raise ConfigError("contract checks: set iterations (>= 3) per task, not epochs")
    if online and _iterations_per_task(resolved) < 3:
        raise ConfigError("contract checks: an online task needs at least 3 batches")
    if resolved.data.tasks is None or resolved.data.tasks < 2:
        raise ConfigError("contract checks: the stream needs at least 2 tasks")
    skipped = (
        set() if scenario is None and set(SETTINGS) - cls.settings else {"unsupported-setting"}
    )
    names = [n for n in CHECKS if n not in skipped]
    return [ContractCheck(n, case, CHECKS[n]) for n in names]


def check_strategy(
    strategy: str | type[Strategy],
    *,
    params: Mapping[str, Any] | None = None,
    model: UserModel | ModelSource | None = None,
    scenario: Scenario | None = None,
    workdir: str | Path | None = None,
    **overrides: Any,
) -> list[str]:
    """Run every contract check (see :func:`contract_checks`); returns the names of the checks.

    Raises:
        ContractViolation: listing every failed check with its reason.
    """
    checks = contract_checks(strategy, params=params, model=model, scenario=scenario, **overrides)
    failures = []
    with tempfile.TemporaryDirectory(dir=workdir) as scratch:
        for check in checks:
            folder = Path(scratch) / check.name
            folder.mkdir()
            try:
                check(folder)
            except ContractViolation as err:
                failures.append(str(err))
    if failures:
        raise ContractViolation("\n".join(failures))
    return [check.name for check in checks]
