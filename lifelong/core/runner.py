"""Run one configuration end to end: build the scenario, model and strategy, train, write results.

Results go to ``config.out``: ``metrics.json``, ``accuracy_matrix.csv``, ``config.yaml`` (the resolved
configuration), ``log.csv`` (per-iteration loss), ``curves.png`` and ``checkpoint.pt``. Every file is
written atomically, by one process at a time (the folder is locked), and only by runs of one
configuration (see :mod:`lifelong.core.rundir`).
"""

from __future__ import annotations

import importlib.util
import platform
import resource
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from lifelong import metrics as M
from lifelong.core.checkpoint import load_checkpoint
from lifelong.core.config import (
    DataConfig,
    RunConfig,
    is_task_free,
    load_yaml,
    run_config_from_mapping,
    save_yaml,
)
from lifelong.core.distributed import DataParallel, device_of_rank, from_environment
from lifelong.core.events import Observer
from lifelong.core.fields import build_config
from lifelong.core.identity import (
    HYPERPARAMETERS,
    NOT_IN_FINGERPRINT,
    fingerprint,
    module_digest,
    resolved_hyperparameters,
    run_identity,
)
from lifelong.core.io import atomic_torch_save, atomic_write_json, atomic_write_text
from lifelong.core.learner import Learner, Progress
from lifelong.core.registry import get_strategy, load_plugins
from lifelong.core.results import load_metrics
from lifelong.core.rundir import CHECKPOINT, METRICS, locked, prepare_run_folder
from lifelong.core.seeding import resolve_device, seed_everything
from lifelong.core.strategy import Context, Strategy
from lifelong.core.tuned_defaults import tuned_params
from lifelong.data.benchmarks import BENCHMARKS
from lifelong.data.scenarios import Scenario, build_scenario
from lifelong.errors import ConfigError, LifelongError
from lifelong.models.adapters import add_lora, freeze
from lifelong.models.build import ModelSpec, build_model
from lifelong.models.hf import HF_PREFIX
from lifelong.models.user import USER_MODEL_PREFIX, ModelSource, UserModel, as_user_model

DEFAULT_HIDDEN = {
    "mlp": (400, 400),
    "cnn": (256,),
    "resnet18": (20,),
    "bow": (64,),
    "gpt-tiny": (64, 2),
}


@dataclass
class RunResult:
    """What a run produced: the metrics dict (as written to metrics.json) and where."""

    metrics: dict[str, Any]
    out: Path | None
    strategy: Strategy

    @property
    def accuracy_matrix(self) -> list[list[float]]:
        if "accuracy_matrix" not in self.metrics:
            raise LifelongError("a language-modelling run has a loss matrix, no accuracy matrix")
        return self.metrics["accuracy_matrix"]

    @property
    def loss_matrix(self) -> list[list[float]]:
        """Language-modelling runs: L[i][j], mean next-token loss on domain j after domain i."""
        if "loss_matrix" not in self.metrics:
            raise LifelongError("a classification run has an accuracy matrix, no loss matrix")
        return self.metrics["loss_matrix"]

    @property
    def model(self) -> torch.nn.Module:
        """The trained network (the strategy's ``model``)."""
        return self.strategy.model


LM_DIRECTION = (
    "lower is better: losses are mean next-token cross-entropies (nats per token) on each domain's "
    "test texts; forgetting is the rise of a domain's loss after later domains"
)

# Config fields that shape a built-in benchmark's scenario; a user's scenario is built with them.
_SCENARIO_FIELDS = (
    "shuffle_classes",
    "class_order",
    "train_samples_per_task",
    "validation_fraction",
    "padding",
)


def resolve(config: RunConfig, scenario: Scenario | None = None) -> RunConfig:
    """Fill every default that depends on the benchmark (or the user's ``scenario``) or model, so the
    saved config is explicit."""
    changes: dict[str, Any] = {}
    if scenario is not None:
        _check_user_scenario(config, scenario)
        changes.update(benchmark=scenario.name, evaluate_on=scenario.eval_split)
        setting, tasks, epochs = scenario.setting, scenario.num_tasks, 1
        default_model = _default_model(scenario)
    elif config.data.benchmark in BENCHMARKS:
        spec = BENCHMARKS[config.data.benchmark]
        setting, tasks, epochs = spec.default_setting, spec.default_tasks, spec.default_epochs
        default_model = spec.default_model
    else:
        from lifelong.errors import unknown_name

        raise unknown_name("benchmark", config.data.benchmark, BENCHMARKS)
    if config.data.setting is None:
        changes["setting"] = setting
    if scenario is None and not config.training.online:
        # Hyperparameters not given take the values tuned for this benchmark family and setting
        # (chosen on offline streams at their default budget; online streams keep the class
        # defaults).
        tuned = tuned_params(config.strategy, config.data.benchmark, config.data.setting or setting)
        if any(name not in config.strategy_params for name in tuned):
            changes["strategy_params"] = {**tuned, **config.strategy_params}
    if config.data.tasks is None:
        changes["tasks"] = tasks
    online = config.training.online
    if config.training.epochs is None and config.training.iterations is None and not online:
        changes["epochs"] = epochs
    model = config.model.name or default_model
    if config.model.name is None:
        changes["model"] = model
    if config.model.hidden is None and not model.startswith((USER_MODEL_PREFIX, HF_PREFIX)):
        changes["hidden"] = list(DEFAULT_HIDDEN.get(model, (400, 400)))
    if config.out is None:
        changes["out"] = str(config.replace(**changes).default_out())
    return config.replace(**changes) if changes else config


def _default_model(scenario: Scenario) -> str:
    """The built-in network that reads a user's scenario: text gets a bag of words (a language-
    modelling stream a small causal transformer), anything else an MLP."""
    if scenario.objective == "lm":
        return "gpt-tiny"
    return "bow" if getattr(scenario.dataset, "vocab_size", 0) else "mlp"


def build_run_scenario(config: RunConfig, device: torch.device | str = "cpu") -> Scenario:
    """The scenario of a resolved configuration (its first tasks only, if it says so)."""
    scenario = build_scenario(
        config.data.benchmark,
        config.data.setting,
        num_tasks=config.data.tasks,
        seed=config.resolved_scenario_seed,
        shuffle_classes=config.data.shuffle_classes,
        class_order=config.data.class_order,
        train_samples_per_task=config.data.train_samples_per_task,
        validation_fraction=config.data.validation_fraction,
        evaluate_on=config.data.evaluate_on,
        padding=config.data.padding,
        data_root=config.data.data_root,
        download=config.data.download,
        device=device,
        model=config.model.name,
        max_length=config.data.max_length,
        samples_per_class=config.data.samples_per_class,
    )
    scenario = scenario.with_class_units(config.data.class_units)
    if config.data.first_tasks is not None:
        scenario = scenario.first(config.data.first_tasks)
    return scenario


def _check_user_scenario(config: RunConfig, scenario: Scenario) -> None:
    """A config run on a user's scenario may not ask for another scenario than it is."""
    data, defaults = config.data, DataConfig()
    for name, value in (("setting", scenario.setting), ("tasks", scenario.num_tasks)):
        if getattr(data, name) not in (None, value):
            raise ConfigError(
                f"the config's {name} is {getattr(data, name)} but the scenario's is {value}"
            )
    if data.evaluate_on not in (defaults.evaluate_on, scenario.eval_split):
        raise ConfigError(
            f"the scenario evaluates on its {scenario.eval_split} split; build it with "
            f"evaluate_on='{data.evaluate_on}' instead"
        )
    for name in _SCENARIO_FIELDS:
        if getattr(data, name) != getattr(defaults, name):
            raise ConfigError(f"{name} is set when the scenario is built, not in the run config")


def build_strategy(
    config: RunConfig,
    scenario: Scenario,
    device: torch.device,
    *,
    model: UserModel | ModelSource | None = None,
) -> Strategy:
    """Model + strategy for a resolved config (seeded, on ``device``).

    ``model`` is the user's network (see :func:`run`); without it the config's built-in model is
    built, and a config recorded with a user model (``model: user:<name>``) is an error, never
    silently replaced by a default network.
    """
    load_plugins(config.plugins)
    strategy_class = get_strategy(config.strategy)
    strategy_config = build_config(
        strategy_class.config_class, config.strategy_params, where=f"strategy '{config.strategy}'"
    )
    if model is None:
        name = config.model.name or _default_model(scenario)  # unresolved: what resolve() picks
        if name.startswith(USER_MODEL_PREFIX):
            raise LifelongError(
                f"this run used your own model ({name.removeprefix(USER_MODEL_PREFIX)}); "
                "pass it again from Python: lifelong.run(config, model=..., resume=True)"
            )
        spec = ModelSpec(
            name,
            scenario.input_shape,
            scenario.num_outputs,
            tuple(config.model.hidden or ()),
            vocab_size=getattr(scenario.dataset, "vocab_size", 0),
            objective=scenario.objective,
            init=config.model.init,
        )
        model = UserModel(lambda: build_model(spec))
    elif config.model.init != "default":
        raise ConfigError(
            f"init={config.model.init} applies to lifelong's built-in networks; your own model "
            "starts from the weights you give it"
        )
    seed_everything(config.seed)
    network, output_layer = as_user_model(model).build(
        scenario.num_outputs, language_model=scenario.objective == "lm"
    )
    if config.model.freeze:
        freeze(network, config.model.freeze, output_layer)
    if config.model.lora_rank:
        if config.strategy in ("lora", "lora-continual"):
            raise ConfigError(
                f"strategy '{config.strategy}' adds its own adapters; --lora-rank composes a LoRA "
                "adapter with the other strategies (naive, ewc, er, ...)"
            )
        add_lora(
            network,
            output_layer,
            rank=config.model.lora_rank,
            alpha=config.model.lora_alpha,
            targets=config.model.lora_targets,
        )
    context = Context(
        scenario=scenario,
        device=device,
        batch_size=config.training.batch_size,
        rng=torch.Generator().manual_seed(config.seed + 1),
        output_layer=output_layer,
        task_free=is_task_free(config.training.online, config.data.boundaries),
    )
    return strategy_class(network, strategy_config, context).to(device)


def peak_memory_bytes(device: torch.device) -> int:
    """Peak resident memory of this process (CPU), or peak allocated CUDA memory."""
    if device.type == "cuda":
        return int(torch.cuda.max_memory_allocated(device))
    scale = 1 if sys.platform == "darwin" else 1024
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale)


def learning_curve_metrics(points: list[list[float]], beta: int) -> dict[str, Any]:
    """``learning_curve`` (Z_0..Z_beta) and ``learning_curve_area`` (LCA_beta) of the points of
    ``--lca-batches`` (none when it is off). A task trained on fewer than ``beta`` mini-batches keeps
    its last accuracy for the later b: it is not trained any further in its task."""
    if not beta or not points:
        return {}
    table = [row + row[-1:] * (beta + 1 - len(row)) for row in points]
    return {
        "learning_curve_points": points,
        "learning_curve": M.learning_curve(table),
        "learning_curve_area": M.learning_curve_area(table),
    }


def collect_metrics(
    progress: Progress,
    strategy: Strategy,
    config: RunConfig,
    scenario: Scenario,
    device: torch.device,
    inputs: dict[str, str] | None = None,
) -> dict[str, Any]:
    """The metrics.json content."""
    inputs = inputs or {}
    R = progress.rows
    if scenario.objective == "lm":
        # the progress rows and curve hold losses (see Learner.evaluate)
        scores: dict[str, Any] = {
            "objective": "lm",
            "direction": LM_DIRECTION,
            **M.summarize_losses(R),
            "initial_loss": progress.initial_accuracy,
            "curve": {
                "iterations": progress.curve_iterations,
                "loss": progress.curve_accuracy,
                "task_starts": progress.task_starts,
            },
        }
    else:
        scores = {
            "accuracy_matrix": R,
            **M.summarize(R, progress.initial_accuracy),
            "initial_accuracy": progress.initial_accuracy,
            "curve": {
                "iterations": progress.curve_iterations,
                "accuracy": progress.curve_accuracy,
                "task_starts": progress.task_starts,
            },
            **learning_curve_metrics(progress.lca_accuracy, config.evaluation.lca_batches),
        }
    return {
        **scores,
        "train_seconds": progress.train_seconds,
        "train_cpu_seconds": progress.train_cpu_seconds if progress.cpu_counted else None,
        "parameters": progress.parameters[-1] if progress.parameters else None,
        "parameters_per_task": progress.parameters,
        "peak_memory_bytes": peak_memory_bytes(device),
        "strategy_memory_bytes": strategy.memory_bytes(),
        "extra_accuracy_matrices": {
            name: {
                "accuracy_matrix": rows,
                "average_accuracy": M.average_accuracy(rows),
                "average_forgetting": M.average_forgetting(rows),
            }
            for name, rows in progress.extra_rows.items()
        },
        "strategy_metrics": strategy.extra_metrics(),
        "scenario": scenario.describe(),
        **({"online": online_metrics(progress)} if config.training.online else {}),
        "config": config.to_dict(),
        "inputs": inputs,
        "fingerprint": fingerprint(config.to_dict(), inputs),
        HYPERPARAMETERS: resolved_hyperparameters(config.to_dict()),
        "environment": {
            "python": platform.python_version(),
            "torch": torch.__version__,
            "device": str(device),
            "threads": torch.get_num_threads(),
            "platform": platform.platform(),
        },
    }


def online_metrics(progress: Progress) -> dict[str, Any]:
    """The ``online`` section of metrics.json: anytime curve and its area, forgetting from the best
    anytime point, prequential accuracy, and compute per incoming sample (see lifelong.metrics)."""
    anytime = (
        M.anytime_accuracy(progress.anytime_accuracy, progress.anytime_tasks)
        if progress.anytime_samples
        else []
    )
    return {
        "samples": progress.samples,
        "anytime": {
            "samples": progress.anytime_samples,
            "accuracy": progress.anytime_accuracy,
            "tasks_appeared": progress.anytime_tasks,
            "average": anytime,
            "class_accuracy": progress.anytime_class_accuracy,
        },
        "anytime_auc": M.area_under_anytime_curve(progress.anytime_samples, anytime)
        if anytime
        else None,
        "anytime_forgetting": M.anytime_forgetting(
            progress.anytime_accuracy, progress.anytime_tasks
        )
        if anytime
        else [],
        "class_forgetting": M.anytime_class_forgetting(progress.anytime_class_accuracy)
        if progress.anytime_class_accuracy
        else [],
        "average_class_forgetting": M.average_class_forgetting(
            progress.anytime_class_accuracy,
            progress.anytime_tasks,
            len(progress.anytime_accuracy[0]),
        )
        if progress.anytime_class_accuracy
        else None,
        "online_accuracy": M.online_accuracy(progress.online_correct, progress.online_tested),
        "online_tested": progress.online_tested,
        "eval_seconds": progress.eval_seconds,
        "samples_per_cpu_second": progress.samples / progress.train_cpu_seconds
        if progress.train_cpu_seconds > 0
        else None,
        **M.compute_cost(
            progress.samples,
            progress.train_seconds,
            progress.forward_samples,
            progress.backward_samples,
        ),
    }


def write_results(out: Path, result_metrics: dict[str, Any]) -> None:
    """metrics.json, config.yaml, accuracy_matrix.csv (loss_matrix.csv for a language-modelling
    stream) and curves.png (when matplotlib is installed
    and the config's ``plot`` is on).

    config.yaml is written with the results, never before, so a folder's files always describe one
    configuration."""
    lm = result_metrics.get("objective") == "lm"
    R = result_metrics["loss_matrix" if lm else "accuracy_matrix"]
    header = "trained_on," + ",".join(f"task_{j}" for j in range(len(R)))
    lines = [header] + [f"task_{i}," + ",".join(f"{v:.6f}" for v in row) for i, row in enumerate(R)]
    name = "loss_matrix.csv" if lm else "accuracy_matrix.csv"
    atomic_write_text(out / name, "\n".join(lines) + "\n")
    save_yaml(result_metrics["config"], out / "config.yaml")
    if result_metrics["config"].get("plot", True) and importlib.util.find_spec("matplotlib"):
        from lifelong.core.curves import plot_curves

        plot_curves(result_metrics, out / "curves.png")
    atomic_write_json(out / METRICS, result_metrics)  # last: its presence marks a finished run


def run(
    config: RunConfig,
    *,
    observers: Sequence[Observer] = (),
    resume: bool = False,
    overwrite: bool = False,
    write: bool = True,
    scenario: Scenario | None = None,
    model: UserModel | ModelSource | None = None,
) -> RunResult:
    """Train and evaluate one configuration.

    Args:
        config: the run; defaults are resolved and saved with the results.
        observers: read-only observers (progress bar, logs).
        resume: continue from ``config.out/checkpoint.pt`` when it holds this configuration (a
            checkpoint or finished run of another configuration is refused, naming the differences).
        overwrite: replace whatever run ``config.out`` holds (otherwise a folder holding a run
            is refused unless ``resume``).
        write: write results and checkpoints to ``config.out`` (off: nothing touches the disk).
        scenario: run on this scenario (e.g. from ``lifelong.scenario_from_tensors``) instead of
            ``config.data.benchmark``; the config then records its name, setting and number of tasks.
        model: your own network instead of ``config.model.name``: an ``nn.Module`` (copied: its weights
            are the initial ones), a zero-argument factory, or a :class:`UserModel` naming the
            output layer. Recorded as ``model: user:<class name>``; to resume, pass it again.
    """
    if model is not None:
        config = config.replace(model=USER_MODEL_PREFIX + as_user_model(model).name)
    config = resolve(config, scenario)
    if config.threads:
        torch.set_num_threads(config.threads)
    device = device_of_rank(resolve_device(config.device))
    parallel = from_environment(device, config)
    user_scenario = scenario is not None
    if scenario is not None:
        scenario = scenario.to(device).with_class_units(config.data.class_units)
        if config.data.first_tasks is not None:
            scenario = scenario.first(config.data.first_tasks)
    else:
        scenario = build_run_scenario(config, device)
    strategy = build_strategy(config, scenario, device, model=model)
    # What the configuration cannot name is part of the run's identity too: a user's data and model.
    inputs: dict[str, str] = {}
    if user_scenario:
        inputs["scenario"] = scenario.fingerprint()
    if model is not None:
        inputs["model"] = module_digest(strategy.model)
    if parallel is not None and parallel.rank != 0:
        # Only rank 0 writes; the others resume from the checkpoint rank 0 resumes from, if any.
        resumed = parallel.share(None)
        state = load_checkpoint(Path(resumed) / CHECKPOINT) if resumed else None
        return _train(
            config,
            scenario,
            strategy,
            device,
            observers=(),
            out=None,
            state=state,
            inputs=inputs,
            parallel=parallel,
        )
    if not (write and config.out):
        if parallel is not None:
            parallel.share(None)
        return _train(
            config,
            scenario,
            strategy,
            device,
            observers=observers,
            out=None,
            inputs=inputs,
            parallel=parallel,
        )
    out = Path(config.out)
    with locked(out, "lifelong run"):
        found = prepare_run_folder(
            out, run_identity(config.to_dict(), inputs), resume=resume, overwrite=overwrite
        )
        if parallel is not None:
            parallel.share(str(out) if found else None)
        state = load_checkpoint(out / CHECKPOINT) if found else None
        return _train(
            config,
            scenario,
            strategy,
            device,
            observers=observers,
            out=out,
            state=state,
            inputs=inputs,
            parallel=parallel,
        )


def _train(
    config: RunConfig,
    scenario: Scenario,
    strategy: Strategy,
    device: torch.device,
    *,
    observers: Sequence[Observer],
    out: Path | None,
    state: dict[str, Any] | None = None,
    inputs: dict[str, str] | None = None,
    parallel: DataParallel | None = None,
) -> RunResult:
    """The learner over ``strategy``, logs and checkpoints in ``out`` (if any), results written.

    ``inputs`` (identities of a user's data and model) are saved in checkpoints and metrics.json."""
    inputs = inputs or {}
    all_observers = list(observers)
    if out is not None:
        from lifelong.core.logs import CsvLog

        # On resume the log keeps only rows up to the checkpoint: rows written after it (before the
        # interruption) are produced again, so they would otherwise appear twice.
        position = state["progress"] if state is not None else None
        all_observers.append(
            CsvLog(
                out / "log.csv",
                append=position is not None,
                until=(position["task"], position["global_iteration"])
                if position is not None
                else None,
            )
        )
    checkpoint_path = out / CHECKPOINT if out is not None else None
    # A checkpoint carries what it is a checkpoint of: the configuration and the user's inputs.
    saved_with = {
        "config": config.to_dict(),
        "inputs": inputs,
        HYPERPARAMETERS: resolved_hyperparameters(config.to_dict()),
    }
    learner = Learner.from_config(
        strategy,
        config,
        scenario=scenario,
        observers=all_observers,
        checkpoint=(lambda state: atomic_torch_save(checkpoint_path, {**state, **saved_with}))
        if checkpoint_path
        else None,
        parallel=parallel,
    )
    if state is not None:
        restore(learner, state, checkpoint_path)
    try:
        progress = learner.fit()
    finally:
        for observer in all_observers:
            observer.close()
    result_metrics = collect_metrics(progress, strategy, config, scenario, device, inputs)
    if out is not None:
        write_results(out, result_metrics)
    return RunResult(result_metrics, out, strategy)


def restore(learner: Learner, state: dict[str, Any], path: Path | None) -> None:
    """Load a checkpoint into ``learner``; a checkpoint that does not fit the model is a clear error."""
    try:
        learner.load_state_dict(state)
    except (RuntimeError, KeyError, TypeError, ValueError) as err:
        lines = [line.strip() for line in str(err).strip().splitlines() if line.strip()]
        detail = " ".join(lines[:2]) if lines else type(err).__name__
        raise LifelongError(
            f"{path}: checkpoint does not fit this run's model or strategy ({detail[:240]})"
        ) from None


def resume_run(
    folder: str | Path,
    *,
    observers: Sequence[Observer] = (),
    overrides: dict[str, Any] | None = None,
    model: UserModel | ModelSource | None = None,
    scenario: Scenario | None = None,
) -> RunResult:
    """Continue the run saved in ``folder``: its configuration comes from its checkpoint (or, for a
    finished run, its config.yaml), so the resumed run is exactly the interrupted one.

    Args:
        overrides: settings outside the run's identity (threads, device, data_root), e.g. to resume
            on another machine; a setting that would change results is refused.
        model: the network of a run made with your own model (see :func:`run`); required then.
        scenario: the scenario of a run made on your own data (see :func:`run`); required then
            (its fingerprint must match the saved one).
    """
    folder = Path(folder)
    inputs: dict[str, Any] = {}
    if (folder / CHECKPOINT).is_file():
        state = load_checkpoint(folder / CHECKPOINT)
        values, inputs = dict(state["config"]), dict(state.get("inputs") or {})
        where = str(folder / CHECKPOINT)
    elif (folder / "config.yaml").is_file():
        values, where = load_yaml(folder / "config.yaml"), str(folder / "config.yaml")
        if (folder / METRICS).is_file():
            inputs = dict(load_metrics(folder).get("inputs") or {})
    else:
        raise LifelongError(f"{folder}: not a run folder (no checkpoint.pt or config.yaml)")
    config = run_config_from_mapping(values, where=where)
    if "scenario" in inputs and scenario is None:
        raise LifelongError(
            f"{folder} is a run on your own data ('{config.data.benchmark}'); resume it from "
            f"Python with the same scenario: lifelong.resume_run('{folder}', scenario=...)"
        )
    changes = dict(overrides or {})
    changing = sorted(set(changes) - NOT_IN_FINGERPRINT)
    if changing:
        raise ConfigError(f"resuming {folder} cannot change {', '.join(changing)}")
    changes["out"] = str(folder)
    return run(
        config.replace(**changes), observers=observers, resume=True, model=model, scenario=scenario
    )
