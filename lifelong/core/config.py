"""The run configuration: frozen dataclasses equal in power to the ``lifelong run`` flags and to a
YAML file. A :class:`RunConfig` holds one part per consumer (:class:`DataConfig` for the scenario,
:class:`ModelConfig`, :class:`TrainingConfig` for the loop, :class:`EvaluationConfig`); flags, YAML
keys and saved results use flat names generated from the parts' fields. The resolved configuration is saved with every run, so ``lifelong run --config
RUN/config.yaml`` repeats it exactly."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml

from lifelong.core.fields import build_config, check, config_help, field
from lifelong.data.settings import Setting
from lifelong.errors import ConfigError


@dataclass(frozen=True)
class DataConfig:
    """The scenario: which benchmark, in which setting, how its tasks are drawn (read by
    :func:`lifelong.core.runner.build_run_scenario`)."""

    benchmark: str = field("split-digits", "benchmark name (lifelong list)")
    setting: Setting | None = field(None, "task, domain or class (default: the benchmark's)")
    tasks: int | None = field(None, "number of tasks (default: the benchmark's)")
    first_tasks: int | None = field(None, "train and evaluate only the first N tasks of the stream")
    scenario_seed: int | None = field(
        None, "seed of permutations/rotations/class order (default: seed)"
    )
    shuffle_classes: bool = field(
        False, "split benchmarks: shuffle the class order by scenario seed"
    )
    class_order: tuple[int, ...] | None = field(
        None,
        "split benchmarks: every class once, in stream order, cut into tasks in turn "
        "(e.g. 4,6,0,5,...; default: label order)",
    )
    class_units: Literal["seen", "all"] = field(
        "seen",
        "class-incremental: train and predict on the units of the tasks seen so far (seen), or on "
        "every unit from the first task on (all, as Mammoth does)",
    )
    train_samples_per_task: int | None = field(None, "keep this many training samples per task")
    validation_fraction: float = field(0.0, "hold out this fraction of each task's training data")
    evaluate_on: Literal["test", "validation"] = field("test", "evaluation split")
    padding: int = field(0, "zero-pad images by this many pixels per side (2: 32x32 MNIST)")
    data_root: str | None = field(None, "data folder (else $LIFELONG_DATA, else ~/.cache/lifelong)")
    download: bool = field(False, "download missing dataset files (checksums verified)")
    # text benchmarks (issue 12)
    max_length: int | None = field(None, "text benchmarks: tokens per text (default 32)")
    samples_per_class: int | None = field(
        None, "text benchmarks: training examples per class (default 100; test: 20 per class)"
    )
    # online streams (issue 14): how the tasks' boundaries appear in an --online stream
    boundaries: Literal["known", "hidden", "blurry", "gradual"] = field(
        "known",
        "online task boundaries: known, hidden (task-free), blurry (task-free, mixed) or gradual "
        "(task-free, drifting)",
    )
    blurry: float = field(
        0.0, "blurriness b in (0, 1]: tasks mix over b task lengths around each boundary"
    )
    drift: float = field(
        0.0,
        "gradual drift width w in (0, 1]: the next task's share ramps linearly from 0 to 1 over "
        "w task lengths around each boundary",
    )

    def __post_init__(self) -> None:
        check(0.0 <= self.blurry <= 1.0, "blurry must be in [0, 1]")
        check(
            (self.boundaries == "blurry") == (self.blurry > 0),
            "give --boundaries blurry together with --blurry b (0 < b <= 1)",
        )
        check(0.0 <= self.drift <= 1.0, "drift must be in [0, 1]")
        check(
            (self.boundaries == "gradual") == (self.drift > 0),
            "give --boundaries gradual together with --drift w (0 < w <= 1)",
        )
        check(self.tasks is None or self.tasks >= 1, "tasks must be >= 1")
        check(
            not (self.shuffle_classes and self.class_order is not None),
            "give class_order or shuffle_classes, not both",
        )
        check(self.first_tasks is None or self.first_tasks >= 1, "first_tasks must be >= 1")
        check(0.0 <= self.validation_fraction < 1.0, "validation_fraction must be in [0, 1)")
        check(self.padding >= 0, "padding must be >= 0")
        check(self.max_length is None or self.max_length >= 2, "max_length must be >= 2")
        check(
            self.samples_per_class is None or self.samples_per_class >= 1,
            "samples_per_class must be >= 1",
        )


@dataclass(frozen=True)
class ModelConfig:
    """The network (read by :func:`lifelong.core.runner.build_strategy`)."""

    name: str | None = field(
        None,
        "mlp, cnn, resnet18, bow, gpt-tiny or hf:PATH (user:<class>: a network given from Python); "
        "default: the benchmark's (mlp for images, bow for text, gpt-tiny for language modelling)",
    )
    hidden: tuple[int, ...] | None = field(
        None, "hidden sizes, e.g. 400,400 (model-specific default)"
    )
    init: Literal["default", "xavier", "truncated-normal"] = field(
        "default",
        "initial weights of the built-in networks: default (PyTorch's), xavier (Glorot uniform "
        "weights, zero biases, as Mammoth's networks) or truncated-normal (s.d. 0.1 cut at 2 s.d., "
        "biases 0.1, as the A-GEM code's)",
    )
    # a LoRA adapter under any strategy (issue 12)
    lora_rank: int = field(
        0,
        "r of a LoRA adapter (peft) under any strategy: base frozen, adapter + head train; 0: off",
    )
    lora_alpha: float = field(16.0, "LoRA alpha: the adapter's update is scaled by alpha / r")
    lora_targets: tuple[str, ...] = field(
        (),
        "layers the LoRA adapter wraps (default: hf models query,value; else every linear "
        "layer but the output layer)",
    )
    freeze: tuple[str, ...] = field(
        (), "freeze the parameters under these module names (e.g. encoder.embeddings)"
    )

    def __post_init__(self) -> None:
        check(self.lora_rank >= 0, "lora_rank must be >= 0")
        check(self.lora_alpha > 0, "lora_alpha must be > 0")


@dataclass(frozen=True)
class TrainingConfig:
    """The budget and optimizer of the training loop (read by :class:`lifelong.core.learner.Learner`)."""

    epochs: int | None = field(None, "epochs per task (default: 1, or 40 on the Digits benchmarks)")
    iterations: int | None = field(None, "iterations per task (instead of epochs)")
    batch_size: int = field(128, "training batch size")
    optimizer: Literal["adam", "sgd"] = field("adam", "optimizer")
    lr: float = field(1e-3, "learning rate")
    momentum: float = field(0.0, "SGD momentum")
    weight_decay: float = field(0.0, "weight decay (L2)")
    reset_optimizer: bool = field(True, "new optimizer state at every task")
    grad_clip: float | None = field(None, "clip the gradient norm to this value")
    grad_accumulation: int = field(
        1,
        "split each training batch into N micro-batches, forward and backward one at a time "
        "(losses scaled by their share of the batch), one optimizer step per batch: the updates "
        "of --batch-size with the activation memory of batch_size / N",
    )
    checkpoint_every: int = field(
        0,
        "also checkpoint every N iterations (0: task ends only); each writes the model, optimizer "
        "and strategy state (for an MLP 2x256: 3 MB, a few tens of ms)",
    )
    precision: Literal["fp32", "bf16"] = field(
        "fp32",
        "fp32, or bf16: compute the training loss under bfloat16 autocast (faster on GPUs and "
        "CPUs with bfloat16 units; results differ from fp32)",
    )
    # online streams (issue 14)
    online: bool = field(
        False, "online: one pass over the stream in batches of --batch-size (no epochs)"
    )
    prequential: bool = field(
        True, "online: test each incoming batch before training on it (online accuracy)"
    )

    def __post_init__(self) -> None:
        check(
            not self.online or (self.epochs is None and self.iterations is None),
            "an online stream is a single pass: drop epochs and iterations",
        )
        check(self.epochs is None or self.epochs >= 1, "epochs must be >= 1")
        check(self.iterations is None or self.iterations >= 1, "iterations must be >= 1")
        check(self.epochs is None or self.iterations is None, "give epochs or iterations, not both")
        check(self.batch_size >= 1, "batch_size must be >= 1")
        check(self.lr > 0, "lr must be > 0")
        check(
            self.momentum >= 0 and self.weight_decay >= 0, "momentum and weight_decay must be >= 0"
        )
        check(self.checkpoint_every >= 0, "checkpoint_every must be >= 0")
        check(self.grad_clip is None or self.grad_clip > 0, "grad_clip must be > 0")
        check(self.grad_accumulation >= 1, "grad_accumulation must be >= 1")
        check(
            self.grad_accumulation <= self.batch_size,
            "grad_accumulation must be <= batch_size (each micro-batch needs a sample)",
        )


@dataclass(frozen=True)
class EvaluationConfig:
    """Intermediate evaluation for the accuracy curves (read by the learner)."""

    eval_every: int | None = field(
        None,
        "evaluate every N iterations for the curves (default: 10 points per task; 0: off). "
        "Each point runs curve_samples examples of every task trained so far through the model "
        "(at the default, on Permuted MNIST's 5 tasks, about 10%% of the training time)",
    )
    curve_samples: int = field(1000, "test samples per task for intermediate curve points")
    eval_batch_size: int = field(1000, "evaluation batch size")
    anytime_every: int | None = field(
        None, "online: evaluate every N samples (anytime accuracy; default 10 points/task; 0: off)"
    )
    lca_batches: int = field(
        0,
        "learning curve area (Chaudhry et al. 2019, beta): evaluate each task on curve_samples "
        "of its test examples before it trains and after each of its first N mini-batches "
        "(the paper: 10); 0: off",
    )

    def __post_init__(self) -> None:
        check(self.anytime_every is None or self.anytime_every >= 0, "anytime_every must be >= 0")
        check(self.curve_samples >= 1 and self.eval_batch_size >= 1, "sample counts must be >= 1")
        check(self.eval_every is None or self.eval_every >= 0, "eval_every must be >= 0")
        check(self.lca_batches >= 0, "lca_batches must be >= 0")


# The parts of a run configuration, by the attribute of RunConfig that holds each.
PARTS: dict[str, type] = {
    "data": DataConfig,
    "model": ModelConfig,
    "training": TrainingConfig,
    "evaluation": EvaluationConfig,
}
# Flat names (CLI flags, YAML keys, metrics.json) that differ from the part's field name.
_FLAT_NAME: dict[tuple[str, str], str] = {("model", "name"): "model"}
# Names accepted from older files and flags: the setting was called "scenario" before.
LEGACY_NAMES = {"scenario": "setting"}


@dataclass(frozen=True)
class RunConfig:
    """One run: a scenario (``data``), a ``model``, a ``strategy``, a ``training`` budget, an
    ``evaluation`` schedule and a seed.

    Build one from flat names with :meth:`of` (``RunConfig.of(benchmark="split-mnist",
    strategy="ewc", epochs=1)``) or from its parts (``RunConfig(data=DataConfig(...))``). Flags,
    YAML files and saved results use the flat names (:meth:`to_dict`)."""

    data: DataConfig = dataclasses.field(default_factory=DataConfig)
    strategy: str = field("naive", "strategy name (lifelong list)")
    strategy_params: dict = field(None, "strategy hyperparameters (--set name=value)")
    plugins: tuple[str, ...] = field(
        (), "modules or .py files registering plugin strategies, imported first (--plugin)"
    )
    model: ModelConfig = dataclasses.field(default_factory=ModelConfig)
    training: TrainingConfig = dataclasses.field(default_factory=TrainingConfig)
    evaluation: EvaluationConfig = dataclasses.field(default_factory=EvaluationConfig)
    seed: int = field(0, "random seed of the run (model init, batches, strategy)")
    device: str = field("auto", "cpu, cuda, cuda:N or auto")
    threads: int | None = field(None, "torch CPU threads (default: torch's)")
    out: str | None = field(
        None, "output folder (default runs/<benchmark>-<setting>-<strategy>-s<seed>)"
    )
    plot: bool = field(
        True,
        "draw curves.png with the results (about 1 s a run: importing matplotlib and drawing; "
        "--no-plot for many small runs)",
    )

    def __post_init__(self) -> None:
        if self.strategy_params is None:
            object.__setattr__(self, "strategy_params", {})
        check(self.threads is None or self.threads >= 1, "threads must be >= 1")
        # online streams (issue 14): settings of different parts that must agree
        check(
            self.training.online or self.data.boundaries == "known",
            f"--boundaries {self.data.boundaries} needs --online (offline tasks have known "
            "boundaries)",
        )
        check(
            not (self.training.online and self.evaluation.eval_every),
            "online runs evaluate every --anytime-every samples, not --eval-every iterations",
        )
        check(
            not (self.training.online and self.evaluation.lca_batches),
            "--lca-batches measures the first mini-batches of each task of an offline run; an "
            "online run measures --anytime-every instead",
        )

    @classmethod
    def of(cls, **values: Any) -> RunConfig:
        """A configuration from flat names (``benchmark=``, ``setting=``, ``epochs=``, ...), as on
        the command line; strings are converted and every value is validated."""
        return run_config_from_mapping(values)

    def replace(self, **changes: Any) -> RunConfig:
        """A copy with fields changed, given by flat names (validated)."""
        return run_config_from_mapping({**self.to_dict(), **changes})

    def to_dict(self) -> dict[str, Any]:
        """Flat names to plain values (what config.yaml, checkpoints and metrics.json hold)."""
        flat: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.name in PARTS:
                for sub in dataclasses.fields(value):
                    flat[_FLAT_NAME.get((f.name, sub.name), sub.name)] = getattr(value, sub.name)
            else:
                flat[f.name] = value
        flat["hidden"] = list(self.model.hidden) if self.model.hidden is not None else None
        flat["plugins"] = list(self.plugins)
        flat["lora_targets"] = list(self.model.lora_targets)
        flat["freeze"] = list(self.model.freeze)
        return flat

    @property
    def resolved_scenario_seed(self) -> int:
        return self.seed if self.data.scenario_seed is None else self.data.scenario_seed

    def default_out(self) -> Path:
        setting: str = self.data.setting or "default"
        if self.training.online:
            setting = f"{setting}-online-{self.data.boundaries}"
        return Path("runs") / f"{self.data.benchmark}-{setting}-{self.strategy}-s{self.seed}"


def is_task_free(online: bool, boundaries: str) -> bool:
    """Whether a run is task-free: an online stream with hidden, blurry or gradual boundaries (the
    learner sees neither task ids nor task ends)."""
    return online and boundaries != "known"


def flat_fields() -> list[tuple[str, str | None, dataclasses.Field]]:
    """Every setting of a run as (flat name, part or None, dataclass field), in flag order."""
    rows: list[tuple[str, str | None, dataclasses.Field]] = []
    for f in dataclasses.fields(RunConfig):
        if f.name in PARTS:
            for sub in dataclasses.fields(PARTS[f.name]):
                rows.append((_FLAT_NAME.get((f.name, sub.name), sub.name), f.name, sub))
        else:
            rows.append((f.name, None, f))
    return rows


def flat_names(*, legacy: bool = False) -> set[str]:
    """The flat names of every setting (with ``legacy``: also older names still accepted)."""
    names = {name for name, _, _ in flat_fields()}
    return names | set(LEGACY_NAMES) if legacy else names


def flat_help() -> list[tuple[str, str, Any, str]]:
    """Rows of (flat name, type, default, help) for every setting (flags are generated from these)."""
    rows = {cls: {r[0]: r for r in config_help(cls)} for cls in (RunConfig, *PARTS.values())}
    return [
        (flat, *rows[PARTS[part] if part else RunConfig][f.name][1:])
        for flat, part, f in flat_fields()
    ]


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


def current_names(values: Mapping[str, Any]) -> dict[str, Any]:
    """A saved flat configuration with names of older versions replaced by today's."""
    return {LEGACY_NAMES.get(key, key): value for key, value in values.items()}


def run_config_from_mapping(values: Mapping[str, Any], *, where: str = "") -> RunConfig:
    """Build a RunConfig from a YAML-style mapping of flat names, or of sections named after the
    parts (``data:``, ``model:``, ``training:``, ``evaluation:``); ``set`` is accepted for
    ``strategy_params`` and ``scenario`` for ``setting``. Unknown keys are errors."""
    flat: dict[str, Any] = {}
    for key, value in values.items():
        key = key.replace("-", "_")
        if key in PARTS and isinstance(value, PARTS[key]):
            value = dataclasses.asdict(value)  # type: ignore[call-overload]
        if key in PARTS and isinstance(value, Mapping):
            for sub_key, sub_value in value.items():
                sub = str(sub_key).replace("-", "_")
                flat[_FLAT_NAME.get((key, sub), LEGACY_NAMES.get(sub, sub))] = sub_value
        elif key == "set":
            flat["strategy_params"] = {**(flat.get("strategy_params") or {}), **(value or {})}
        elif key == "strategy_params":
            flat["strategy_params"] = {**(value or {}), **(flat.get("strategy_params") or {})}
        else:
            flat[LEGACY_NAMES.get(key, key)] = value
    known = {name: (part, f) for name, part, f in flat_fields()}
    prefix = f"{where}: " if where else ""
    unknown = [k for k in flat if k not in known]
    if unknown:
        raise ConfigError(f"{prefix}unknown key '{unknown[0]}'; valid: {', '.join(known)}")
    grouped: dict[str, dict[str, Any]] = {part: {} for part in PARTS}
    top: dict[str, Any] = {}
    for name, value in flat.items():
        part, f = known[name]
        if part is None:
            top[f.name] = value
        else:
            grouped[part][f.name] = value
    parts: dict[str, Any] = {
        part: build_config(PARTS[part], grouped[part], where=where) for part in PARTS
    }
    config = build_config(RunConfig, top, where=where)
    return dataclasses.replace(config, **parts)


def save_yaml(data: dict[str, Any], path: Path) -> None:
    from lifelong.core.io import atomic_write_text

    atomic_write_text(path, yaml.safe_dump(data, sort_keys=False))
