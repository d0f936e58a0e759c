"""Full-budget reproductions of published continual-learning results, resumable across sessions.

Protocols (``bench/protocols.py``): ``vandeven-split`` (task / class / domain), ``vandeven-permuted``,
``vandeven-diagnosis``, ``vandeven-code-orders``, ``hsu-split-class``, ``agem-diagnosis``, ``der-seq-mnist``,
``agem-permuted``. For each protocol, setting and method:

1. **select**: every grid value is trained once (``select_seed``) with ``validation_fraction`` of each
   task's training data held out and ``evaluate_on="validation"`` (lifelong's validation protocol;
   the test set is never used); the best final average validation accuracy wins. When the winner
   sits at the edge of a numeric axis, the axis is widened by one geometric step (at most
   ``Method.max_widen`` times, 3 unless the row says otherwise) and the new values are trained too.
2. **test**: the chosen values are trained on the full training sets over the protocol's seeds and
   evaluated on the test sets.
3. **report**: ``python bench/reproduce.py report`` rebuilds the docs/results.md tables from the result
   files alone (no training).

Every finished run writes one small JSON file, kept in git::

    bench/results/<protocol>/<setting>/<method>/[select/]<hyperparameters>-s<seed>.json

holding the metrics (accuracy matrix, summaries, train seconds) and the full resolved RunConfig. A
run whose file exists with the same config is skipped; a file written under a different config is
never reused (the run is trained again and the file replaced). An interrupted run resumes from its
checkpoint under ``runs/reproduce/`` (lifelong's ``checkpoint_every``), not from zero.

Usage::

    OMP_NUM_THREADS=1 python bench/reproduce.py run --all          # the whole queue, in order
    python bench/reproduce.py run --protocol hsu-split-class --method er --seeds 0 1
    python bench/reproduce.py status                               # done / pending / CPU hours
    python bench/reproduce.py report                               # rebuild docs/results.md
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import itertools
import json
import math
import os
import shutil
import subprocess
import sys
import time
import traceback
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._docs import ROOT  # noqa: E402
from bench._grid import widen  # noqa: E402
from bench._records import write_record  # noqa: E402
from bench.protocols import PROTOCOLS, RUN_FIELDS, Method, Protocol  # noqa: E402

RESULTS = ROOT / "bench" / "results"
CHECKPOINTS = ROOT / "runs" / "reproduce"
# Config fields that say where a run lives, not what it is: ignored when comparing configs.
LOCATION_FIELDS = ("out", "data_root", "download")
# What a result file keeps of metrics.json (curves and per-iteration logs are left in runs/).
KEPT_METRICS = (
    "accuracy_matrix",
    "average_accuracy",
    "average_forgetting",
    "max_forgetting",
    "backward_transfer",
    "forward_transfer",
    "learning_accuracy",
    "forgetting_per_task",
    "initial_accuracy",
    "extra_accuracy_matrices",
    "strategy_metrics",
    "parameters",
    "strategy_memory_bytes",
    "peak_memory_bytes",
    "environment",
)


# ------------------------------------------------------------------------------------------ jobs
def format_value(value: Any) -> str:
    """``0.1``, ``1e+06``; a sequence as its items joined by ``+`` (``plugins=a.py``)."""
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, tuple | list):
        return "+".join(format_value(v) for v in value)
    return str(value)


def values_key(values: dict[str, Any]) -> str:
    """``alpha=0.5,lr=0.1`` (sorted), or ``defaults``: the file-name stem of a configuration."""
    return ",".join(f"{k}={format_value(v)}" for k, v in sorted(values.items())) or "defaults"


@dataclass(frozen=True)
class Job:
    """One run: a method of a protocol in a setting with given grid values and seed."""

    protocol: Protocol
    setting: str
    method: Method
    values: tuple[tuple[str, Any], ...]  # grid values (sorted items)
    seed: int
    stage: str  # "select" (validation split) or "test"

    @property
    def name(self) -> str:
        return f"{values_key(dict(self.values))}-s{self.seed}"

    @property
    def folder(self) -> Path:
        parts = [self.protocol.name, self.setting, self.method.label]
        return Path(*parts, "select") if self.stage == "select" else Path(*parts)

    @property
    def path(self) -> Path:
        return RESULTS / self.folder / f"{self.name}.json"

    @property
    def out(self) -> Path:
        return CHECKPOINTS / self.folder / self.name

    def describe(self) -> str:
        return f"{self.protocol.name}/{self.setting}/{self.method.label} {self.stage} {self.name}"

    def config(self) -> Any:
        """The resolved RunConfig (every benchmark default filled in)."""
        from lifelong import RunConfig
        from lifelong.core.registry import load_plugins
        from lifelong.core.runner import resolve

        load_plugins({**self.protocol.base, **self.method.config}.get("plugins", ()))
        values = dict(self.values)
        run_values = {k: v for k, v in values.items() if k in RUN_FIELDS}
        strategy_values = {k: v for k, v in values.items() if k not in RUN_FIELDS}
        strategy_params = {**self.method.params, **strategy_values}
        benchmark = {**self.protocol.base, **self.method.config}["benchmark"]
        strategy_params.update(
            untuned(self.method.strategy, benchmark, self.setting, given=strategy_params)
        )
        fields: dict[str, Any] = {
            **self.protocol.base,
            **self.method.config,
            **run_values,
            "setting": self.setting,
            "strategy": self.method.strategy,
            "strategy_params": strategy_params,
            "seed": self.seed,
            "threads": 1,
            "device": "cpu",
            "eval_every": 0,
            "checkpoint_every": self.protocol.checkpoint_every,
            "out": str(self.out),
        }
        if self.protocol.class_order_of is not None:
            fields["class_order"] = self.protocol.class_order_of(self.seed)
        if self.stage == "select":
            fields["validation_fraction"] = self.protocol.validation_fraction
            fields["evaluate_on"] = "validation"
        return resolve(RunConfig.of(**fields))


def untuned(strategy: str, benchmark: str, setting: str, given: dict[str, Any]) -> dict[str, Any]:
    """The config class's defaults of the hyperparameters lifelong's defaults table tunes for this
    stream (``lifelong/core/tuned_defaults.json``) and the protocol does not set: a reproduction runs
    the paper's values (each strategy's class defaults follow its paper, see its docstring), never a
    value selected for lifelong's own defaults."""
    from lifelong import get_strategy
    from lifelong.core.fields import defaults_of
    from lifelong.core.tuned_defaults import tuned_params

    defaults = defaults_of(get_strategy(strategy).config_class)
    return {
        name: defaults[name]
        for name in tuned_params(strategy, benchmark, setting)
        if name not in given and name in defaults
    }


def comparable(config: dict[str, Any]) -> dict[str, Any]:
    """A config dict without its location fields, JSON-normalised (tuples become lists), with
    settings renamed since it was written given today's names."""
    from lifelong.core.config import current_names

    data = {k: v for k, v in current_names(config).items() if k not in LOCATION_FIELDS}
    return json.loads(json.dumps(data))


def full_config(job: Job) -> dict[str, Any]:
    """The job's resolved RunConfig plus its strategy's resolved config (every default filled),
    with the strategy's revision, behaviour marks and, for a plugin, its source digest."""
    from lifelong import get_strategy
    from lifelong.core.fields import build_config
    from lifelong.core.identity import BEHAVIOUR, REVISION, SOURCE, resolved_hyperparameters

    config = job.config()
    strategy = resolved_hyperparameters(config.to_dict())
    if strategy is None:  # an unknown strategy or invalid values: raise the error that says which
        build_config(get_strategy(config.strategy).config_class, config.strategy_params)
        raise AssertionError(f"{config.strategy}: hyperparameters do not resolve")
    marks = {key: strategy.pop(key) for key in (REVISION, BEHAVIOUR, SOURCE) if key in strategy}
    return comparable({**config.to_dict(), "strategy_config": strategy, **marks})


def field_defaults(strategy: str) -> dict[str, Any]:
    """Current defaults of RunConfig's and the strategy config's fields (JSON-normalised)."""
    from lifelong import RunConfig, get_strategy
    from lifelong.core.fields import defaults_of

    run = RunConfig().to_dict()
    run["strategy_config"] = defaults_of(get_strategy(strategy).config_class)
    return comparable(run)


def same_config(stored: dict[str, Any], current: dict[str, Any], defaults: dict[str, Any]) -> bool:
    """Whether a stored config describes the current run. A field added to the code since the
    file was written matches only at its default (the behaviour the old code had); a field the
    code no longer has matches only if it was unset (None). A plugin's source digest counts only
    where the file recorded one (files written before it was recorded stay valid)."""
    from lifelong.core.identity import SOURCE

    both_resolved = "strategy_config" in stored and "strategy_config" in current
    for key in stored.keys() | current.keys():
        if key == SOURCE and key not in stored:
            continue
        if key == "strategy_params" and both_resolved:
            # strategy_config holds every resolved hyperparameter: a value now given explicitly
            # (e.g. pinned to its default, see untuned) is the same run as the default it equals.
            continue
        if key in ("strategy_config",) and key in stored and key in current:
            if not same_config(stored[key], current[key], defaults.get(key, {})):
                return False
        elif key in stored and key in current:
            if stored[key] != current[key]:
                return False
        elif key in current:
            if key not in defaults or current[key] != defaults[key]:
                return False
        elif stored[key] is not None:
            return False
    return True


def load_result(job: Job) -> dict[str, Any] | None:
    """The job's result file if it was written under the same config, else None."""
    if not job.path.exists():
        return None
    record = json.loads(job.path.read_text())
    if not same_config(
        comparable(record["config"]), full_config(job), field_defaults(job.method.strategy)
    ):
        return None
    return record


def score(record: dict[str, Any] | None) -> float:
    """Final average accuracy (NaN for a failed run)."""
    if record is None or record.get("failed"):
        return math.nan
    return float(record["metrics"]["average_accuracy"])


# --------------------------------------------------------------------------------------- running
def git_commit() -> str:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        )
        return out.stdout.strip()
    except OSError:
        return ""


def log(message: str) -> None:
    print(f"[{time.strftime('%Y-%m-%d %H:%M:%S')}] {message}", flush=True)


def execute(job: Job) -> dict[str, Any] | None:
    """Train ``job`` (resuming its checkpoint when it has one) and write its result file."""
    import torch

    from lifelong import LifelongError, run
    from lifelong.errors import DivergenceError

    config = job.config()
    out = job.out
    resumed = (out / "checkpoint.pt").exists() and checkpoint_matches(out, config)
    if not resumed:  # nothing to continue, or a checkpoint of another configuration: start afresh
        shutil.rmtree(out, ignore_errors=True)
    write_record(
        CHECKPOINTS / "current.json",
        {
            "job": job.describe(),
            "pid": os.getpid(),
            "out": str(out),
            "tasks": config.data.tasks,
            "iterations_per_task": config.training.iterations,
        },
    )
    log(f"start {job.describe()}{' (resuming its checkpoint)' if resumed else ''}")
    torch.set_num_threads(1)
    started = time.perf_counter()
    record: dict[str, Any] = {
        "protocol": job.protocol.name,
        "setting": job.setting,
        "method": job.method.label,
        "strategy": job.method.strategy,
        "stage": job.stage,
        "values": dict(job.values),
        "seed": job.seed,
        "config": full_config(job),
        "lifelong_commit": git_commit(),
    }
    try:
        try:
            metrics = run(config, resume=True).metrics
        except DivergenceError:
            raise
        except LifelongError as err:
            if not resumed:
                raise
            # lifelong refused the checkpoint (e.g. written by another code version): start afresh
            log(f"cannot resume {job.describe()} ({err}); starting again")
            shutil.rmtree(out, ignore_errors=True)
            resumed = False
            metrics = run(config, resume=True).metrics
    except DivergenceError as err:  # a too-large learning rate: a result too (never selected)
        record["failed"] = str(err)
        log(f"failed {job.describe()}: {err}")
    else:
        record["metrics"] = {key: metrics.get(key) for key in KEPT_METRICS}
        record["train_seconds"] = metrics["train_seconds"]
        record["train_cpu_seconds"] = metrics.get("train_cpu_seconds")
    record["wall_seconds_this_session"] = time.perf_counter() - started
    record["resumed"] = resumed
    record["finished"] = time.strftime("%Y-%m-%d %H:%M:%S")
    write_record(job.path, record)
    shutil.rmtree(out, ignore_errors=True)  # checkpoint, log and plot: the result file has it all
    if not record.get("failed"):
        log(
            f"done  {job.describe()}: {100 * score(record):.2f}% "
            f"({record['train_seconds']:.0f} s training)"
        )
    return record


def checkpoint_matches(out: Path, config: Any) -> bool:
    """Whether ``out/checkpoint.pt`` was saved by a run of ``config`` (its config is inside)."""
    import torch

    try:
        saved = torch.load(out / "checkpoint.pt", map_location="cpu", weights_only=True)["config"]
    except Exception:  # noqa: BLE001 - unreadable or foreign: not resumable
        return False
    return same_config(
        comparable(saved), comparable(config.to_dict()), field_defaults(config.strategy)
    )


def ensure(job: Job, *, train: bool) -> dict[str, Any] | None:
    """The job's result: from its file, else trained (``train``), else None."""
    record = load_result(job)
    if record is None and train:
        if job.path.exists():
            log(f"config changed since {job.path} was written: training again")
        record = execute(job)
    return record


# ------------------------------------------------------------------------------------- selection
@dataclass
class Selection:
    """The outcome (so far) of a method's grid search in one setting."""

    grid: dict[str, list[Any]]
    scores: dict[str, float]  # values_key -> validation accuracy (NaN: failed)
    tried: dict[str, dict[str, Any]]  # values_key -> values
    chosen: dict[str, Any] | None  # None while incomplete or when every run failed
    complete: bool
    pending: int  # runs still to train before the choice is known (lower bound)
    edges: list[str]  # axes whose chosen value is still at the edge of the (widened) grid


def select(protocol: Protocol, setting: str, method: Method, *, train: bool) -> Selection:
    """Run (``train``) or read the grid search of ``method``; widen axes whose pick is at an edge."""
    grid = {k: list(v) for k, v in method.grid.items()}
    if not grid:
        return Selection({}, {}, {}, {}, True, 0, [])
    scores: dict[str, float] = {}
    tried: dict[str, dict[str, Any]] = {}
    widened = dict.fromkeys(grid, 0)
    candidates = [
        dict(zip(grid, combo, strict=True)) for combo in itertools.product(*grid.values())
    ]
    while True:
        missing = 0
        for values in candidates:
            job = Job(
                protocol,
                setting,
                method,
                tuple(sorted(values.items())),
                protocol.select_seed,
                "select",
            )
            record = ensure(job, train=train)
            if record is None:
                missing += 1
                continue
            key = values_key(values)
            scores[key], tried[key] = score(record), values
        if missing:
            return Selection(grid, scores, tried, None, False, missing, [])
        ranked = [k for k, s in scores.items() if not math.isnan(s)]
        if not ranked:
            return Selection(grid, scores, tried, None, True, 0, [])
        best = tried[max(ranked, key=scores.__getitem__)]  # ties: the first in grid order
        candidates, edges = widen(grid, best, widened, method.max_widen, integer_axes=None)
        if not candidates:
            return Selection(grid, scores, tried, best, True, 0, edges)


# ----------------------------------------------------------------------------------------- queue
@dataclass(frozen=True)
class Phase:
    """A slice of the queue: some settings / methods of a protocol, selection then some seeds."""

    protocol: str
    seeds: slice
    settings: tuple[str, ...] | None = None
    methods: tuple[str, ...] | None = None
    exclude: tuple[str, ...] = ()


# In order of value per CPU hour. The A-GEM diagnosis (under an hour) runs first so its answer lands
# in the session that launched the queue; GEM on the A-GEM protocol (hours per run) comes last.
QUEUE: tuple[Phase, ...] = (
    Phase("agem-diagnosis", slice(None)),
    Phase("vandeven-split", slice(0, 3), settings=("task",)),
    Phase("vandeven-diagnosis", slice(None)),
    Phase("vandeven-split", slice(0, 3), settings=("class",)),
    Phase("vandeven-split", slice(0, 3), settings=("domain",)),
    Phase("vandeven-code-orders", slice(None)),
    Phase("vandeven-split", slice(3, None)),
    Phase("hsu-split-class", slice(None)),
    Phase("der-seq-mnist", slice(None)),
    Phase("agem-permuted", slice(None), exclude=("gem",)),
    Phase("vandeven-permuted", slice(0, 3)),
    Phase("vandeven-permuted", slice(3, None)),  # rows with more seeds than the protocol's
    Phase("agem-permuted", slice(None), methods=("gem",)),
)


@dataclass
class Step:
    """What one (protocol, setting, method) needs in a phase: its selection and its test seeds."""

    protocol: Protocol
    setting: str
    method: Method
    seeds: tuple[int, ...]


def steps(phases: tuple[Phase, ...]) -> Iterator[Step]:
    for phase in phases:
        protocol = PROTOCOLS[phase.protocol]
        for method in protocol.methods:
            if phase.methods is not None and method.label not in phase.methods:
                continue
            if method.label in phase.exclude:
                continue
            for setting in protocol.settings_of(method):
                if phase.settings is not None and setting not in phase.settings:
                    continue
                yield Step(protocol, setting, method, protocol.seeds_of(method)[phase.seeds])


def run_step(step: Step, *, train: bool) -> tuple[int, int, int]:
    """Select and test one step; returns (runs done, runs pending, selection runs pending)."""
    selection = select(step.protocol, step.setting, step.method, train=train)
    done = len(selection.tried)
    if selection.chosen is None:
        if selection.complete:  # every grid value failed
            log(f"{step.protocol.name}/{step.setting}/{step.method.label}: every grid run failed")
            return done, 0, 0
        return done, len(step.seeds), selection.pending
    pending = 0
    for seed in step.seeds:
        job = Job(
            step.protocol,
            step.setting,
            step.method,
            tuple(sorted(selection.chosen.items())),
            seed,
            "test",
        )
        if ensure(job, train=train) is None:
            pending += 1
        else:
            done += 1
    return done, pending, 0


def preload() -> None:
    """Import every module a run may need now, so later edits of the working tree (a rebase while
    the queue runs) cannot mix code versions inside this process."""
    import lifelong.report.logs  # noqa: F401
    from lifelong import list_strategies

    list_strategies()  # imports every strategy module

    with contextlib.suppress(ImportError):  # matplotlib is optional
        import lifelong.report.plots  # noqa: F401


def acquire_lock() -> Any:
    CHECKPOINTS.mkdir(parents=True, exist_ok=True)
    handle = open(CHECKPOINTS / "queue.lock", "a+")  # noqa: SIM115 - held for the process' life
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        sys.exit(f"another reproduce.py queue holds {CHECKPOINTS / 'queue.lock'}: {handle.read()}")
    handle.truncate(0)
    handle.write(f"pid {os.getpid()}\n")
    handle.flush()
    return handle


def command_run(args: argparse.Namespace) -> None:
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    lock = acquire_lock()
    preload()
    if args.all:
        phases = QUEUE
    else:
        if not args.protocol:
            sys.exit("give --all or --protocol")
        phases = (
            Phase(
                args.protocol,
                slice(None),
                settings=tuple(args.setting) if args.setting else None,
                methods=tuple(args.method) if args.method else None,
            ),
        )
    log(f"queue started (pid {os.getpid()}, commit {git_commit()})")
    for step in steps(phases):
        if args.seeds is not None:
            step.seeds = tuple(
                s for s in args.seeds if s in step.protocol.seeds_of(step.method)
            ) or tuple(args.seeds)
        try:
            run_step(step, train=True)
        except Exception:  # noqa: BLE001 - one broken configuration must not stop the queue
            log(f"error in {step.protocol.name}/{step.setting}/{step.method.label}:")
            traceback.print_exc()
            sys.stdout.flush()
    (CHECKPOINTS / "current.json").unlink(missing_ok=True)
    log("queue finished")
    lock.close()


def seconds_per_run(protocol: Protocol, method: Method) -> float:
    """Expected training seconds of one run: the method's measured mean if it has finished runs,
    else the protocol's estimate scaled by how the protocol's finished runs compared with theirs."""
    measured: dict[str, list[float]] = {}
    for path in (RESULTS / protocol.name).rglob("*.json"):
        record = json.loads(path.read_text())
        if record.get("train_seconds"):
            measured.setdefault(record["method"], []).append(record["train_seconds"])
    if measured.get(method.label):
        return sum(measured[method.label]) / len(measured[method.label])
    ratios = [
        sum(times) / len(times) / (protocol.expected_seconds * protocol.method(label).cost)
        for label, times in measured.items()
        if label in {m.label for m in protocol.methods}
    ]
    scale = sum(ratios) / len(ratios) if ratios else 1.0
    return protocol.expected_seconds * method.cost * scale


def describe_current(current: dict[str, Any]) -> str:
    """The queue's current job, whether its process is alive, and how far its run has got (the
    last line of its ``log.csv``)."""
    job, pid = current.get("job", "?"), current.get("pid")
    if not isinstance(pid, int) or not process_alive(pid):
        return (
            f"interrupted: {job} (pid {pid} has ended); `python bench/reproduce.py run` "
            "resumes its checkpoint"
        )
    progress = ""
    last = last_line(Path(current["out"]) / "log.csv") if current.get("out") else None
    fields = last.split(",") if last else []
    if len(fields) > 3 and all(field.isdigit() for field in fields[1:4]):
        task, iteration, overall = (int(field) for field in fields[1:4])
        tasks = f" of {current['tasks']}" if current.get("tasks") else ""
        per_task = current.get("iterations_per_task")
        if per_task:
            iterations = f" of {per_task}"
        elif task > 0:  # an epoch-based run: the earlier tasks' count is the best guide
            iterations = f" (earlier tasks took {round((overall - iteration) / task)} on average)"
        else:
            iterations = ""
        progress = f": task {task + 1}{tasks}, iteration {iteration}{iterations}"
    return f"running now: {job} (pid {pid}){progress}"


def process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, another user's
        return True
    return True


def last_line(path: Path, block: int = 4096) -> str | None:
    """The last non-empty line of a text file, read from its end (a run's log grows to megabytes)."""
    try:
        with path.open("rb") as handle:
            handle.seek(0, os.SEEK_END)
            handle.seek(max(0, handle.tell() - block))
            lines = handle.read().decode(errors="replace").strip().splitlines()
    except OSError:
        return None
    return lines[-1] if lines else None


def unused_results() -> list[Path]:
    """The protocols' result files that no table reads: test runs of values a later (widened)
    selection replaced, runs whose config has changed since, rows since removed."""
    used: set[Path] = set()
    for protocol in PROTOCOLS.values():
        for setting, method in protocol.rows():
            selection = select(protocol, setting, method, train=False)
            for values in selection.tried.values():
                key = tuple(sorted(values.items()))
                used.add(Job(protocol, setting, method, key, protocol.select_seed, "select").path)
            if selection.chosen is None:
                continue
            chosen = tuple(sorted(selection.chosen.items()))
            for seed in protocol.seeds_of(method):
                job = Job(protocol, setting, method, chosen, seed, "test")
                if load_result(job) is not None:
                    used.add(job.path)
    stored = {path for name in PROTOCOLS for path in (RESULTS / name).rglob("*.json")}
    return sorted(stored - used)


def command_status(args: argparse.Namespace) -> None:
    rows = []
    total_pending = 0.0
    finished = 0
    for step in steps(QUEUE):
        done, pending, select_pending = run_step(step, train=False)
        cost = seconds_per_run(step.protocol, step.method) * (pending + select_pending)
        total_pending += cost
        if not (pending or select_pending or args.all):
            finished += 1
            continue
        rows.append(
            f"{step.protocol.name:18s} {step.setting:7s} {step.method.label:18s} "
            f"seeds {','.join(map(str, step.seeds)):9s} done {done:3d}  pending {pending:2d}"
            f"{f' (+{select_pending} selection)' if select_pending else '':17s} ~{cost / 3600:5.1f} h"
        )
    header = f"{'protocol':18s} {'setting':7s} {'method':18s} {'test seeds':15s} runs   CPU left"
    print("\n".join([header, *rows]) if rows else "nothing pending")
    if finished:
        print(f"({finished} finished queue steps not shown; `status --all` lists every step)")
    current = CHECKPOINTS / "current.json"
    if current.exists():
        print(f"\n{describe_current(json.loads(current.read_text()))}")
    print(
        f"\nestimated CPU hours still to run: {total_pending / 3600:.1f} (selection runs counted "
        "once; widened grids add more)"
    )
    unused = unused_results()
    if unused:
        print(
            f"\n{len(unused)} result file(s) no table reads (values a later selection replaced, "
            "a config changed since, or a row removed; delete them once you no longer need them):"
        )
        print("\n".join(f"  {path.relative_to(ROOT)}" for path in unused))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    run_parser = sub.add_parser("run", help="train what is missing (skips finished runs)")
    run_parser.add_argument("--all", action="store_true", help="the whole queue, in order")
    run_parser.add_argument("--protocol", choices=sorted(PROTOCOLS))
    run_parser.add_argument("--setting", nargs="+")
    run_parser.add_argument("--method", nargs="+")
    run_parser.add_argument("--seeds", type=int, nargs="+")
    status_parser = sub.add_parser("status", help="what is pending, and the CPU hours left")
    status_parser.add_argument(
        "--all", action="store_true", help="list finished queue steps too, not only pending ones"
    )
    sub.add_parser("report", help="rebuild the docs/results.md tables from bench/results/")
    args = parser.parse_args()
    os.environ.setdefault("LIFELONG_DATA", str(ROOT.parent / "shared" / "data"))
    if args.command == "run":
        command_run(args)
    elif args.command == "status":
        command_status(args)
    else:
        from bench.reproduce_report import report

        report()


if __name__ == "__main__":
    main()
