"""The run configuration: one frozen dataclass equal in power to the ``lifelong run`` flags and to a
YAML file. The resolved configuration is saved with every run, so ``lifelong run --config
RUN/config.yaml`` repeats it exactly."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml

from lifelong.core.fields import build_config, check, field
from lifelong.errors import ConfigError


@dataclass(frozen=True)
class RunConfig:
    """One run: a benchmark in a setting, a model, a strategy, a budget and a seed."""

    benchmark: str = field("split-digits", "benchmark name (lifelong list)")
    scenario: str | None = field(None, "task, domain or class (default: the benchmark's)")
    strategy: str = field("naive", "strategy name (lifelong list)")
    strategy_params: dict = field(None, "strategy hyperparameters (--set name=value)")
    plugins: tuple[str, ...] = field(
        (), "modules or .py files registering plugin strategies, imported first (--plugin)"
    )
    tasks: int | None = field(None, "number of tasks (default: the benchmark's)")
    first_tasks: int | None = field(None, "train and evaluate only the first N tasks of the stream")
    epochs: int | None = field(None, "epochs per task (default: 1, or 40 on the Digits benchmarks)")
    iterations: int | None = field(None, "iterations per task (instead of epochs)")
    batch_size: int = field(128, "training batch size")
    optimizer: Literal["adam", "sgd"] = field("adam", "optimizer")
    lr: float = field(1e-3, "learning rate")
    momentum: float = field(0.0, "SGD momentum")
    weight_decay: float = field(0.0, "weight decay (L2)")
    reset_optimizer: bool = field(True, "new optimizer state at every task")
    grad_clip: float | None = field(None, "clip the gradient norm to this value")
    model: str = field("mlp", "mlp, cnn or resnet18 (user:<class>: a network given from Python)")
    hidden: tuple[int, ...] | None = field(
        None, "hidden sizes, e.g. 400,400 (model-specific default)"
    )
    seed: int = field(0, "random seed of the run (model init, batches, strategy)")
    scenario_seed: int | None = field(
        None, "seed of permutations/rotations/class order (default: seed)"
    )
    shuffle_classes: bool = field(
        False, "split benchmarks: shuffle the class order by scenario seed"
    )
    train_samples_per_task: int | None = field(None, "keep this many training samples per task")
    validation_fraction: float = field(0.0, "hold out this fraction of each task's training data")
    evaluate_on: Literal["test", "validation"] = field("test", "evaluation split")
    padding: int = field(0, "zero-pad images by this many pixels per side (2: 32x32 MNIST)")
    device: str = field("auto", "cpu, cuda, cuda:N or auto")
    threads: int | None = field(None, "torch CPU threads (default: torch's)")
    data_root: str | None = field(None, "data folder (else $LIFELONG_DATA, else ~/.cache/lifelong)")
    download: bool = field(False, "download missing dataset files (checksums verified)")
    eval_every: int | None = field(None, "evaluate every N iterations for the curves (0: off)")
    curve_samples: int = field(1000, "test samples per task for intermediate curve points")
    eval_batch_size: int = field(1000, "evaluation batch size")
    checkpoint_every: int = field(0, "also checkpoint every N iterations (0: task ends only)")
    out: str | None = field(
        None, "output folder (default runs/<benchmark>-<scenario>-<strategy>-s<seed>)"
    )

    def __post_init__(self) -> None:
        if self.strategy_params is None:
            object.__setattr__(self, "strategy_params", {})
        check(self.epochs is None or self.epochs >= 1, "epochs must be >= 1")
        check(self.iterations is None or self.iterations >= 1, "iterations must be >= 1")
        check(self.first_tasks is None or self.first_tasks >= 1, "first_tasks must be >= 1")
        check(self.epochs is None or self.iterations is None, "give epochs or iterations, not both")
        check(self.batch_size >= 1, "batch_size must be >= 1")
        check(self.lr > 0, "lr must be > 0")
        check(
            self.momentum >= 0 and self.weight_decay >= 0, "momentum and weight_decay must be >= 0"
        )
        check(self.threads is None or self.threads >= 1, "threads must be >= 1")
        check(self.curve_samples >= 1 and self.eval_batch_size >= 1, "sample counts must be >= 1")
        check(self.eval_every is None or self.eval_every >= 0, "eval_every must be >= 0")
        check(self.checkpoint_every >= 0, "checkpoint_every must be >= 0")
        check(self.grad_clip is None or self.grad_clip > 0, "grad_clip must be > 0")

    def replace(self, **changes: Any) -> RunConfig:
        """A copy with fields changed (validated)."""
        return build_config(RunConfig, {**self.to_dict(), **changes})

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["hidden"] = list(self.hidden) if self.hidden is not None else None
        data["plugins"] = list(self.plugins)
        return data

    @property
    def resolved_scenario_seed(self) -> int:
        return self.seed if self.scenario_seed is None else self.scenario_seed

    def default_out(self) -> Path:
        setting = self.scenario or "default"
        return Path("runs") / f"{self.benchmark}-{setting}-{self.strategy}-s{self.seed}"


class _StrictLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` that rejects a key given twice in one mapping (YAML allows it and keeps
    the last value, which silently discards a setting)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)  # type: ignore[no-untyped-call]
            if key in seen:
                raise ConfigError(
                    f"line {key_node.start_mark.line + 1}: key '{key}' is given twice"
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def load_yaml(path: str | Path) -> dict[str, Any]:
    """Read a YAML mapping safely (no code execution; duplicate keys are an error)."""
    path = Path(path)
    try:
        text = path.read_bytes().decode("utf-8")
        data = yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - a SafeLoader subclass
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise ConfigError(f"{path}: is a folder, expected a YAML file") from None
    except UnicodeDecodeError as err:
        raise ConfigError(f"{path}: not UTF-8 text (byte {err.start}); save it as UTF-8") from None
    except OSError as err:
        raise ConfigError(f"{path}: cannot read ({err.strerror or err})") from None
    except ConfigError as err:
        raise ConfigError(f"{path}: {err}") from None
    except yaml.YAMLError as err:
        raise ConfigError(f"{path}: not valid YAML ({str(err).splitlines()[0]})") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of settings at the top level")
    return data


def run_config_from_mapping(values: dict[str, Any], *, where: str = "") -> RunConfig:
    """Build a RunConfig from a YAML-style mapping; ``set`` is accepted for ``strategy_params``."""
    values = dict(values)
    if "set" in values:
        values["strategy_params"] = {
            **(values.get("strategy_params") or {}),
            **(values.pop("set") or {}),
        }
    return build_config(RunConfig, values, where=where)


def save_yaml(data: dict[str, Any], path: Path) -> None:
    from lifelong.core.io import atomic_write_text

    atomic_write_text(path, yaml.safe_dump(data, sort_keys=False))
