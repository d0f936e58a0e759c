"""Defaults that work on every built-in benchmark: choose them, check them against naive, report.

Three commands, each resumable (one small JSON file per finished run, kept in git, skipped when a
run of the same fingerprint is already stored):

* ``select``: for one strategy on one or more benchmarks of a family and a setting (several: the
  value must serve each of the family's streams), train every value of a grid once per
  selection seed on the training data with 10% of each task held out (``validation_fraction=0.1``,
  ``evaluate_on=validation``: the test set is never used), at the benchmark's default budget; the
  best mean final validation accuracy (``--rule mean``), the best worst-case gain over naive
  fine-tuning across the streams (``--rule worst-gain``: a value one stream likes and another
  pays for loses), or the best mean among the values at or above naive on every stream
  (``--rule safe-mean``, which falls back to the worst-case gain when no value is) wins and is
  written, with its provenance (rule, benchmark, grid, seeds, budget, command), into
  ``lifelong/core/tuned_defaults.json`` for the benchmark's family and setting. Hyperparameters outside the grid keep the table's values (the runs trained with them)
  and the entry records the earlier selection they came from. A winner at the edge of a numeric
  axis widens it by a geometric step beyond that edge (``bench/_grid.py``), at most
  ``MAX_WIDEN`` times; one still at the edge is reported as such.
* ``check``: naive and the given strategies with **their defaults** (what ``lifelong run -s NAME``
  does), on the test set, over seeds; a strategy whose mean final accuracy is below naive's by more
  than one standard error of the difference fails.
* ``report``: the docs/results.md section from the stored check runs (no training).
* ``init``: write an explicit ``inherit`` entry for every strategy x family x supported setting the
  table does not hold yet (the class default applies; the reason is stated).

Usage::

    OMP_NUM_THREADS=1 python bench/defaults.py select -s ewc -b permuted-mnist --setting domain \\
        --grid strength=1,10,100,1000,10000
    OMP_NUM_THREADS=1 python bench/defaults.py check -b permuted-mnist --setting domain \\
        -s ewc online-ewc si mas --seeds 0 1 2
    python bench/defaults.py report
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._docs import ROOT, update_section  # noqa: E402
from bench._grid import widen  # noqa: E402
from bench._records import is_current, stored_run  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "defaults"
TABLE = ROOT / "lifelong" / "core" / "tuned_defaults.json"
MAX_WIDEN = 3  # geometric steps added beyond each edge of a numeric grid axis
REFUSED = "refused.json"  # a check's record that a strategy refuses a stream before training
SETTING_LABEL = {"task": "task-IL", "domain": "domain-IL", "class": "class-IL"}


def parse_grid(items: list[str]) -> dict[str, list[Any]]:
    """``["strength=1,10"]`` to ``{"strength": [1.0, 10.0]}`` (numbers where they parse)."""
    grid: dict[str, list[Any]] = {}
    for item in items:
        name, _, values = item.partition("=")
        grid[name] = [_number(v) for v in values.split(",") if v.strip()]
    return grid


def _number(text: str) -> Any:
    if text.strip().lower() == "none":
        return None  # a default of None (e.g. PackNet's schedule) as a grid value
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def run_once(config: Any, path: Path) -> dict[str, Any]:
    """Train ``config`` unless ``path`` holds a run of the same fingerprint; returns the record."""
    return stored_run(config, path, RESULTS)


def _base(benchmark: str, setting: str, strategy: str, seed: int, **changes: Any) -> Any:
    from lifelong import RunConfig

    return RunConfig.of(
        benchmark=benchmark,
        setting=setting,
        strategy=strategy,
        seed=seed,
        threads=1,
        device="cpu",
        eval_every=0,
        **changes,
    )


def _values_key(params: dict[str, Any]) -> str:
    """``name=value,...``: how a grid point names its result files and scores."""
    return ",".join(f"{k}={v}" for k, v in params.items())


def _stream_means(
    args: argparse.Namespace, strategy: str, params: dict[str, Any], stem: str
) -> dict[str, float]:
    """Each benchmark's mean final validation score of ``strategy`` with ``params`` over the
    seeds (trained once into ``select/<stream>/<strategy>/<stem>-s<seed>.json``, then read from
    it; see :func:`_score`)."""
    means = {}
    for benchmark in args.benchmark:  # a family's value must serve each of its streams
        folder = RESULTS / "select" / f"{benchmark}-{args.setting}" / strategy
        own = []
        for seed in args.seeds:
            config = _base(
                benchmark,
                args.setting,
                strategy,
                seed,
                strategy_params=params,
                validation_fraction=0.1,
                evaluate_on="validation",
            )
            own.append(_score(run_once(config, folder / f"{stem}-s{seed}.json")))
        means[benchmark] = statistics.fmean(own)
    return means


def _validation_score(args: argparse.Namespace, params: dict[str, Any]) -> dict[str, float]:
    """The selected strategy's per-benchmark validation means with ``params``."""
    return _stream_means(args, args.strategy, params, _values_key(params))


def _naive_scores(args: argparse.Namespace) -> dict[str, float]:
    """Naive fine-tuning's per-benchmark validation means, on the selection's seeds."""
    return _stream_means(args, "naive", {}, "defaults")


RULES = {
    "mean": "the best mean validation score over the benchmarks and seeds",
    "worst-gain": (
        "the best worst-case gain over naive fine-tuning: for each benchmark, the mean validation "
        "score over the seeds minus naive's; the smallest of these is maximised"
    ),
    "safe-mean": (
        "the best mean validation score among the values at or above naive fine-tuning on every "
        "benchmark (worst-case gain >= 0); when no value is, the best worst-case gain"
    ),
}
NEEDS_NAIVE = frozenset({"worst-gain", "safe-mean"})


def _rule_score(rule: str, mean: float, worst: float | None) -> tuple[float, float]:
    """What ``select`` maximises (see ``RULES``) from a value's mean score and its smallest gain
    over naive, compared as a pair: a value at or above naive everywhere ranks first under
    ``safe-mean``, then by the second number."""
    if rule == "mean" or worst is None:
        return 0.0, mean
    if rule == "worst-gain":
        return 0.0, worst
    return (1.0, mean) if worst >= 0 else (0.0, worst)


def _points(gain: float, lm: bool) -> float:
    """A score difference as shown: accuracy points, or nats for a language-modelling family."""
    return round(gain, 4) if lm else round(100 * gain, 2)


def _score(record: dict[str, Any]) -> float:
    """Higher is better: the final average accuracy, or minus the final average loss (nats) of a
    language-modelling stream."""
    return record["average_accuracy"] if "average_accuracy" in record else -record["average_loss"]


def _shown(score: float) -> float:
    """A score as the docs show it: accuracy in %, or a loss in nats (a negative score)."""
    return round(100 * score, 2) if score >= 0 else round(-score, 4)


def _integer_fields(strategy: str) -> frozenset[str]:
    """The strategy's integer hyperparameters (a grid widens them in integer steps)."""
    import dataclasses
    import typing

    from lifelong import get_strategy

    config_class = get_strategy(strategy).config_class
    hints = typing.get_type_hints(config_class)
    return frozenset(f.name for f in dataclasses.fields(config_class) if hints[f.name] is int)


def command_select(args: argparse.Namespace) -> None:
    from lifelong.core.tuned_defaults import FAMILIES, LANGUAGE_MODEL_FAMILIES

    grid = parse_grid(args.grid)
    names = sorted(grid)
    combos: list[dict[str, Any]] = [{}]
    for name in names:
        combos = [{**c, name: v} for c in combos for v in grid[name]]
    families = {FAMILIES[b] for b in args.benchmark}
    if len(families) != 1:
        raise SystemExit(f"the benchmarks {args.benchmark} are not of one family: {families}")
    lm = families <= LANGUAGE_MODEL_FAMILIES  # scored by minus its loss
    naive = _naive_scores(args) if args.rule in NEEDS_NAIVE else {}
    scores: list[tuple[tuple[float, float], dict[str, Any]]] = []
    worst: dict[str, float] = {}  # values_key -> smallest gain over naive across the benchmarks
    means: dict[str, float] = {}  # values_key -> mean validation score over benchmarks and seeds
    by_benchmark: dict[str, dict[str, float]] = {b: {} for b in args.benchmark}
    widened = dict.fromkeys(names, 0)
    integer_axes = _integer_fields(args.strategy)
    candidates = combos
    while candidates:  # the grid, then one step beyond each edge the winner sits on
        for params in candidates:
            own = _validation_score(args, params)
            key = _values_key(params)
            for benchmark, value in own.items():
                by_benchmark[benchmark][key] = _shown(value)
            means[key] = statistics.fmean(own.values())
            if naive:
                worst[key] = min(own[b] - naive[b] for b in own)
            scores.append((_rule_score(args.rule, means[key], worst.get(key)), params))
        top, best = _best(scores, _class_defaults(args.strategy))
        candidates, edges = widen(grid, best, widened, args.max_widen, integer_axes=integer_axes)
    best_key = _values_key(best)
    family = families.pop()

    def edge_label(axis: str) -> str:  # an integer axis at 1 cannot widen below it
        return f"{axis} (1, its floor)" if axis in integer_axes and best[axis] == 1 else axis

    table = json.loads(TABLE.read_text()) if TABLE.is_file() else {}
    entries = table.setdefault(args.strategy, {})
    previous = entries.get(f"{family}/{args.setting}")
    kept = _kept_values(previous, grid)
    replaced = _replaced_selections(previous)
    entries[f"{family}/{args.setting}"] = {
        "params": {**kept.get("params", {}), **best},
        "inherit": False,
        "reason": (
            _ranked_by(args.rule, safe=top[0] > 0)
            + f" of {len(scores)} on validation"
            + (f"; at the edge of the grid in {', '.join(map(edge_label, edges))}" if edges else "")
        ),
        "provenance": {
            "code_revision": _revision(args.strategy),
            "benchmark": ", ".join(args.benchmark),
            "setting": args.setting,
            "grid": grid,
            "seeds": list(args.seeds),
            "budget": "the benchmark's default (lifelong run defaults)",
            "metric": (
                "final average next-token loss (nats, lower is better)"
                if lm
                else "final average accuracy"
            )
            + " on 10% of each task's training data held out",
            "rule": RULES[args.rule],
            "scores": {key: _shown(value) for key, value in means.items()},
            **(
                {
                    "naive_scores_by_benchmark": {b: _shown(v) for b, v in naive.items()},
                    "worst_gain_over_naive": {k: _points(g, lm) for k, g in worst.items()},
                }
                if naive
                else {}
            ),
            "command": " ".join(["python bench/defaults.py", *sys.argv[1:]]),
            **({"scores_by_benchmark": by_benchmark} if len(args.benchmark) > 1 else {}),
            **({"kept": kept} if kept else {}),
            **({"replaces": replaced} if replaced else {}),
        },
    }
    _write_table(table)
    shown = f"{-means[best_key]:.4f} nats" if lm else f"{100 * means[best_key]:.2f}%"
    print(f"chosen {best} ({shown} validation){' EDGE' if edges else ''}")


def _kept_values(previous: dict[str, Any] | None, grid: dict[str, list[Any]]) -> dict[str, Any]:
    """The earlier selection's values of hyperparameters outside ``grid``, with its provenance.

    Every run of a selection fills the hyperparameters it does not vary from the table (as
    ``lifelong run`` does), so the values it validated are those plus the winner; the entry keeps
    them, and where they came from, instead of dropping them ({} when there are none)."""
    if not previous or previous.get("inherit"):
        return {}
    params = {k: v for k, v in previous["params"].items() if k not in grid}
    if not params:
        return {}
    return {"params": params, "selected_by": previous.get("provenance", {})}


def _replaced_selections(previous: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The selections an entry replaces, newest first: each one's values, reason, command and code
    revision, so that re-selecting a value never loses what was chosen before and why ([] when the
    entry replaces an ``inherit`` entry or none)."""
    if not previous or previous.get("inherit"):
        return []
    source = previous.get("provenance", {})
    summary = {
        "params": previous["params"],
        "reason": previous.get("reason", ""),
        "command": source.get("command", ""),
        "code_revision": source.get("code_revision", 1),
    }
    return [summary, *source.get("replaces", [])]


def _ranked_by(rule: str, *, safe: bool) -> str:
    """How the winner was ranked, as the entry's reason says it."""
    if rule == "mean":
        return "best"
    if rule == "worst-gain" or not safe:
        none = "no value at or above naive on every benchmark: " if rule == "safe-mean" else ""
        return f"{none}best worst-case gain over naive"
    return "best mean among the values at or above naive on every benchmark"


def _best(
    scores: list[tuple[tuple[float, float], dict[str, Any]]], defaults: dict[str, Any]
) -> tuple[tuple[float, float], dict[str, Any]]:
    """The best-scoring values; among equal scores the strategy's class defaults (a grid that
    cannot tell its values apart gives no reason to move), else the first tried."""
    top = max(score for score, _ in scores)
    tied = [(score, params) for score, params in scores if score == top]
    own = [t for t in tied if all(defaults.get(k) == v for k, v in t[1].items())]
    return (own or tied)[0]


def _selected_under_older_code() -> list[str]:
    """``strategy family/setting`` of the tuned entries selected before their strategy's latest
    revision."""
    from lifelong import get_strategy, list_strategies
    from lifelong.core.tuned_defaults import selected_under_older_code, table

    built_in = set(list_strategies())
    return [
        f"{name} {key}"
        for name, entries in sorted(table().items())
        if name in built_in
        for key, entry in sorted(entries.items())
        if selected_under_older_code(get_strategy(name), entry)
    ]


def _revision(strategy: str) -> int:
    from lifelong import get_strategy

    return get_strategy(strategy).revision


def _class_defaults(strategy: str) -> dict[str, Any]:
    """The strategy's config-class defaults (before any per-family value)."""
    import dataclasses

    from lifelong import get_strategy

    config_class = get_strategy(strategy).config_class
    return {f.name: f.default for f in dataclasses.fields(config_class)}


def _write_table(table: dict[str, Any]) -> None:
    ordered = {s: dict(sorted(table[s].items())) for s in sorted(table)}
    tmp = TABLE.with_suffix(".tmp")
    tmp.write_text(json.dumps(ordered, indent=1) + "\n")
    os.replace(tmp, TABLE)


def command_init(args: argparse.Namespace) -> None:
    from lifelong.core.fields import config_help
    from lifelong.core.tuned_defaults import FAMILIES, family_settings

    table = json.loads(TABLE.read_text()) if TABLE.is_file() else {}
    for name, cls in _builtin_strategies().items():
        has_params = bool(config_help(cls.config_class))
        for family in sorted(set(FAMILIES.values())):
            for setting in sorted(family_settings(family, cls)):
                entries = table.setdefault(name, {})
                key = f"{family}/{setting}"
                reason = (
                    "the config class's defaults (see its docstring for where they were "
                    "chosen); not yet tuned on this family"
                    if has_params
                    else "no hyperparameters"
                )
                entry = entries.setdefault(
                    key, {"params": {}, "inherit": True, "reason": reason, "provenance": {}}
                )
                if entry["inherit"] and (entry["reason"] == "no hyperparameters") == has_params:
                    entry["reason"] = reason  # the strategy gained (or lost) hyperparameters
    _write_table(table)


def _builtin_strategies() -> dict[str, Any]:
    """The strategies lifelong ships (plugins are not built-in), by name."""
    from lifelong.core.registry import list_strategies

    return {
        name: cls
        for name, cls in list_strategies().items()
        if getattr(cls, "__module__", "").split(".")[:2] == ["lifelong", "strategies"]
    }


def _write_refusal(path: Path, reason: str) -> None:
    """Record that a strategy refuses a stream (so the report lists it as not applicable)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"refused": reason}, indent=1) + "\n")
    os.replace(tmp, path)


def command_check(args: argparse.Namespace) -> None:
    from lifelong import get_strategy
    from lifelong.errors import ConfigError

    folder = RESULTS / "check" / f"{args.benchmark}-{args.setting}"
    for strategy in ["naive", *args.strategies]:
        if args.setting not in get_strategy(strategy).settings:
            print(f"skip {strategy}: it does not support the {args.setting}-incremental setting")
            continue
        for seed in args.seeds:
            config = _base(args.benchmark, args.setting, strategy, seed)
            try:
                run_once(config, folder / strategy / f"defaults-s{seed}.json")
            except ConfigError as error:  # refused before training, e.g. images generated on text
                print(f"skip {strategy}: {error}")
                _write_refusal(folder / strategy / REFUSED, str(error))
                break


def _mean_sem(values: list[float]) -> tuple[float, float]:
    mean = statistics.fmean(values)
    sem = statistics.stdev(values) / math.sqrt(len(values)) if len(values) > 1 else math.nan
    return mean, sem


# Why a strategy still ends below naive with its defaults (the measured numbers are added by the
# report from the check runs). Keyed by (benchmark, setting, strategy).
CAUSES: dict[tuple[str, str, str], str] = {
    ("split-digits", "task", "packnet"): (
        "PackNet never forgets, but learns each task in its own share of the 2x400 trunk's "
        "weights (reusing the earlier tasks' frozen ones; its schedule 1 - 1/(T - t), a fifth "
        "each, was chosen over fixed fractions 0.25 / 0.5 / 0.75 on validation), and the later "
        "tasks pay for it; multi-head fine-tuning forgets so little on this stream that isolation "
        "has almost nothing to win"
    ),
    ("split-digits", "task", "den"): (
        "DEN learns each later task in a sparse selected sub-network plus a few new units (l1 "
        "1e-5: 0 / 1e-6 / 1e-5 tie on validation, 1e-4 scores lower); as for PackNet, multi-head fine-tuning "
        "forgets almost nothing here, so the restriction costs more than the protection gains"
    ),
    ("split-digits", "task", "lora-continual"): (
        "the seed notebook's LoRA arm: after the first task only one low-rank adapter trains, "
        "shared by every later task and rewritten by each, so it forgets more than full "
        "fine-tuning in the task-incremental setting (rank and alpha chosen over 2-32 on "
        "validation: the class default 8 / 8 won); a method for the seed's lesson, not a "
        "forgetting remedy"
    ),
    ("split-mnist", "task", "lora-continual"): (
        "as on split-digits: one low-rank adapter, shared by every task after the first and "
        "rewritten by each, forgets more than full fine-tuning in the task-incremental setting "
        "(rank 2-32 x alpha 2-32 on validation: rank 8, alpha 2, at the small edge of alpha: the "
        "less the adapter moves, the less it forgets, and it never reaches naive)"
    ),
    ("split-digits", "class", "lora-continual"): (
        "after the first task only a low-rank adapter trains, so the last task (the only one "
        "fine-tuning and the parameter penalties keep in the class-incremental setting) is "
        "learned slightly "
        "worse than by full fine-tuning; alpha 128 is the best of 8-2048 on validation"
    ),
    ("split-mnist", "class", "lora-continual"): (
        "as on split-digits: only a low-rank adapter learns the last task, which is all that "
        "fine-tuning keeps in the class-incremental setting; alpha 512 is the best of "
        "8-8192 on validation, 0.1 point below naive"
    ),
    ("permuted-mnist", "class", "lora-continual"): (
        "as on split- and rotated-mnist: only a low-rank adapter learns the last permutation "
        "(91-92% against naive's 96%), the only task fine-tuning keeps in the class-incremental "
        "setting"
    ),
    ("permuted-fashion-mnist", "class", "lora-continual"): (
        "as on permuted-mnist class: only a low-rank adapter learns the last permutation "
        "(79.5-80.2% against naive's 83.6-84.4%), the only task fine-tuning keeps in the "
        "class-incremental setting"
    ),
    ("rotated-mnist", "class", "lora-continual"): (
        "as on split-mnist: only a low-rank adapter learns the last rotation (94% against "
        "naive's 97%), the only task fine-tuning keeps in the class-incremental setting"
    ),
    ("rotated-fashion-mnist", "class", "lora-continual"): (
        "as on rotated-mnist class: only a low-rank adapter learns the last rotation "
        "(80.9-81.6% against naive's 84.2-85.5%), the only task fine-tuning keeps in the "
        "class-incremental setting"
    ),
    ("rotated-mnist", "task", "pseudo-rehearsal"): (
        "measured, not explained further: the family's value "
        "(Robins' binary pseudo-items at strength 10, selected on split-mnist and rotated-mnist "
        "task together, where it lifted this row from 7.7 to 1.5 points below naive) learns each "
        "rotation as naive does (96.6% against 96.9% just after training) and forgets a little "
        "more (14.2 against 12.6 points); on the family's other task streams it is 4.4 "
        "(split-mnist) and 13.0 (split-fashion-mnist) points above naive"
    ),
    ("rotated-mnist", "task", "gdumb"): (
        "its memory, measured: GDumb learns only from the examples it stores (500 by default), "
        "retrained from scratch at each evaluation; here they spread "
        "over five rotations' ten classes, 10 per (task, class), which gives 76-82% per task, "
        "while multi-head fine-tuning keeps 60-97%. With buffer_size=5000 (seed 0, `lifelong "
        "run -b rotated-mnist --setting task -s gdumb --set buffer_size=5000`) GDumb ends at "
        "93.1% against naive's 86.5% on that seed: the default is a memory budget, not tuned"
    ),
    ("rotated-mnist", "task", "lora-continual"): (
        "as on split-mnist (the family's rank 8 / alpha 2, selected there): after the first task "
        "one low-rank adapter, shared by every later rotation and rewritten by each, is all that "
        "trains, so it learns each rotation worse (90.4% against naive's 96.9% just after "
        "training) and forgets more (36.7 against 12.6 points); lora (one adapter per task) is "
        "92.7% on the same stream, above naive"
    ),
    ("permuted-mnist", "task", "lora-continual"): (
        "as on rotated-mnist task (the family's rank 8 / alpha 2): after the first task one "
        "low-rank adapter, shared by every later permutation and rewritten by each, is all that "
        "trains, and a rank-8 change of the first layer cannot follow a new pixel permutation: "
        "it learns each permutation worse (84.3% against naive's 96.4% just after training) "
        "and forgets twice as much (47.5 against 23.4 points); lora (one adapter per task) is "
        "89.7% on the same stream, above naive"
    ),
    ("permuted-fashion-mnist", "task", "lora-continual"): (
        "as on permuted-mnist task (the family's rank 8 / alpha 2): after the first task one "
        "low-rank adapter, shared by every later permutation and rewritten by each, is all that "
        "trains, and a rank-8 change of the first layer cannot follow a new pixel permutation: "
        "it learns each permutation worse (69.5% against naive's 84.5% just after training) and "
        "forgets as much (36.5 against 34.6 points); lora (one adapter per task) is 77.0% on the "
        "same stream, above naive"
    ),
    ("permuted-fashion-mnist", "task", "tf-mas"): (
        "as on rotated-fashion-mnist task: the family's plateau threshold 0.2 is below this "
        "stream's loss, so no plateau is found and the penalty never switches on (strength 0 "
        "gives the same accuracies on every seed): TF-MAS is fine-tuning on the batch and its "
        "hard buffer of five, which forgets more than naive (47.1 against 34.6 points). At "
        "threshold 0.5 (`lifelong run -b permuted-fashion-mnist --setting task -s tf-mas --set "
        "mean_threshold=0.5 --seed S`, S = 0-2) the penalty holds forgetting to naive's level "
        "(34.1 points) but slows the learning of each permutation (79.1% against 84.5% just "
        "after training), 48.69 ± 1.04, still below naive: on this stream the threshold is not "
        "the whole story, and neither value the family's streams agree on serves it"
    ),
    ("rotated-fashion-mnist", "task", "lora-continual"): (
        "as on rotated-mnist task (the family's rank 8 / alpha 2): after the first task one "
        "low-rank adapter, shared by every later rotation and rewritten by each, is all that "
        "trains, so it learns each rotation worse (75.0% against naive's 84.6% just after "
        "training) and forgets more (36.3 against 31.6 points); lora (one adapter per task) is "
        "78.1% on the same stream, above naive"
    ),
    ("split-wordnet", "task", "lora"): (
        "the bag of words keeps what it knows in its embedding table (1,048,576 of its 1,053,386 "
        "parameters), and LoRA adapts linear layers only, so each task's adapter trains the "
        "64x64 hidden layer and its head over frozen random word vectors: it never forgets (one "
        "adapter per task) but learns each task worse than fine-tuning the embedding (63.2% "
        "against 72.8% just after training, the matrix diagonal); a LoRA arm for transformers (hf:PATH), where the pretrained embedding is the "
        "point"
    ),
    ("split-wordnet", "task", "lora-continual"): (
        "as for lora on this stream: the adapter cannot reach the embedding table, which holds "
        "the bag of words' knowledge, so every task after the first is learned over frozen word "
        "vectors"
    ),
    ("split-wordnet", "task", "packnet"): (
        "as on split-digits: PackNet never forgets, but each task learns in its own share of "
        "the weights (embedding table included), and multi-head fine-tuning of the bag of words "
        "forgets little on this stream (naive 73.2 against joint 77.2), so the restriction "
        "costs more than the protection gains"
    ),
    ("permuted-mnist", "domain", "lora-continual"): (
        "the seed notebook's LoRA arm, not a forgetting remedy: after the first task one "
        "low-rank adapter learns every new permutation and is rewritten by each. On validation "
        "(seed 0; rank 8 / 64 / 256 x alpha 0.125-64, widened at the edges) a larger update "
        "forgets more and a smaller one learns less; the best, rank 64 / alpha 0.5, learns "
        "later tasks worse than naive (80.7% against 96.5% just after training) and forgets "
        "less (35.9 against 49.0 points), which does not make up for it"
    ),
    ("split-wordnet", "task", "ewc"): (
        "on validation strength 100 and 1 tie (70.3 against 70.0% on 300 texts; 1e4 and more "
        "fall to 60-62%), but on test 100 slows the learning of each later task (70.8% against "
        "72.8% just after training) while fine-tuning this bag of words forgets almost nothing "
        "(final 73.2% against 72.8% learned): there is nothing to protect, so the penalty only "
        "costs, and a validation split of 20 texts per task cannot tell 1 from 100"
    ),
    ("permuted-mnist", "domain", "lwf"): (
        "LwF distils the previous model's outputs on the current task's images, so it protects "
        "only what those images reveal of the old function. A rotated image still looks like "
        "the earlier rotations' images, a permuted one like none of the earlier permutations': "
        "on validation (seed 0) raising the strength 0.01 / 0.1 / 1 cuts rotated-mnist's "
        "forgetting 40.0 / 33.2 / 12.0 points but leaves permuted-mnist's at 51.3 / 46.7 / 57.1. "
        "On test LwF learns each task as well as naive (96.9% against 96.5% just after "
        "training) and forgets more (54.2 against 49.0 points). The family's value 0.1 is the "
        "best of 0.01 / 0.1 / 1 over both streams together, and again with `--rule worst-gain` "
        "on three seeds: on validation it is level with naive on permuted-mnist (51.9 against "
        "51.5%; 0.01 gives 51.5, 1 gives 45.1) and 4.9 points above on rotated-mnist, so the "
        "4.3-point loss on test is within what the validation split could not see"
    ),
    ("permuted-fashion-mnist", "domain", "lwf"): (
        "as on permuted-mnist (same family value, 0.1): the current task's permuted images "
        "reveal nothing of the earlier permutations' function, so distilling on them does not "
        "protect it; LwF learns each task as well as naive (84.6% against 84.3% just after "
        "training) and forgets more (57.7 against 50.4 points)"
    ),
    ("permuted-digits", "task", "lora-continual"): (
        "as on split-digits (the family's rank 8 / alpha 8): after the first task one low-rank "
        "adapter, shared by every later permutation and rewritten by each, is all that trains, "
        "so a new permutation overwrites what the adapter learned for the last one (forgetting "
        "51.8 against naive's 29.2 points) while full fine-tuning spreads its change over the "
        "whole trunk; lora (one adapter per task) forgets nothing on the same stream (95.4%)"
    ),
    ("permuted-digits", "class", "lora-continual"): (
        "as on split-digits (the family's alpha 128): without replay or distillation only the "
        "last task survives in the class-incremental setting (naive keeps 0% of tasks 0-3 too), "
        "and the low-rank adapter learns that last task worse than full fine-tuning (95-96% "
        "against 98%)"
    ),
    ("permuted-digits", "class", "tf-mas"): (
        "class-incremental without a memory that lasts: TF-MAS's family value (selected on "
        "split-digits, where all ten grid values score 19.2-20.0% on validation) is a hard "
        "buffer of one example (the lower edge, which cannot widen) and strength 1e-4 (1e-6 "
        "ties), so it is "
        "fine-tuning plus one replayed hard example per step. Both keep only the last task; "
        "the replayed example costs it 0.3 points (97.8% against 98.1%), -0.07 overall, "
        "beyond the two runs' tiny spread (± 0.04 and ± 0.02)"
    ),
    ("permuted-fashion-mnist", "class", "tf-mas"): (
        "as on permuted-digits class: the MNIST class family's value (selected on split-mnist "
        "class, where its seven grid values score 19.1-19.7% on validation) is a hard buffer of "
        "one example (the floor) and strength 0.1, so it is fine-tuning plus one replayed hard "
        "example per step. Both keep only the last permutation, which it learns 0.4 points "
        "worse (83.6% against 84.0%): -0.05 overall, at the edge of the two runs' spread "
        "(± 0.04 and ± 0.03)"
    ),
    ("split-wordnet", "task", "tf-mas"): (
        "as for EWC on this stream, there is almost nothing to protect (fine-tuning forgets "
        "1.9 points), and what TF-MAS adds costs: its hard buffer trains again and again on "
        "the current task's highest-loss texts, which moves the shared bag of words more "
        "(forgetting 6.0 points with the class default of 30 texts, 66.83 ± 3.44; 4.6 with "
        "the 5 selected; 4.0 with one, 71.00 ± 2.50: `lifelong run -b split-wordnet --setting "
        "task -s tf-mas --set hard_buffer_size=N --seed S`, S = 0-2). The selection (hard "
        "buffer 1 / 5 / 30 x strength 1e-4 / 0.01 / 1) scores on 20 validation texts per "
        "task, too few to tell 5 (72.0%) from 1 (70.0-70.3%)"
    ),
    ("permuted-mnist", "task", "gdumb"): (
        "its memory, as on rotated-mnist task: GDumb learns only from its 500 stored examples, "
        "retrained from scratch at each evaluation, which here spread over ten permutations' "
        "ten classes, about 5 per (task, class); the retrained model reaches 88% on the first "
        "task and 64-70% on the last, and every task ends at 64-72%, while multi-head "
        "fine-tuning learns each permutation to 96-97% and ends with its tasks at 37-97%. The "
        "memory is a budget, not a tuned value"
    ),
    ("rotated-fashion-mnist", "task", "tf-mas"): (
        "the family's plateau threshold 0.2 is below this stream's loss, so no plateau is ever "
        "found and the penalty never switches on (strength 0 gives the same accuracies on "
        "every seed): TF-MAS is fine-tuning on the batch and its hard buffer, and here even a "
        "one-example buffer forgets more than naive (37.3 against 31.6 points, 54.52 ± 0.43). "
        "At threshold 0.5 it ends at 64.82 ± 3.10, above naive (`lifelong run -b "
        "rotated-fashion-mnist --setting task -s tf-mas --set mean_threshold=0.5 --seed S`, S = "
        "0-2); on validation 0.5 also wins on this stream (61.0 against 54.5%) but loses on "
        "the family's other three (split-mnist 90.0 against 95.9, split-fashion-mnist 82.6 "
        "against 91.4, rotated-mnist 81.8 against 86.0: `python bench/defaults.py select -s "
        "tf-mas -b split-mnist split-fashion-mnist rotated-mnist rotated-fashion-mnist --setting "
        "task --grid mean_threshold=0.2,0.5,1 hard_buffer_size=5 strength=1 --seeds 0 1 2 "
        "--max-widen 1`), so the family keeps 0.2: set it per stream"
    ),
    ("permuted-mnist", "task", "tf-mas"): (
        "its hard buffer raises forgetting on this stream, and the penalty at the family's "
        "strength 1 wins back only part of it: with strength 0 (the buffer of five alone) it "
        "forgets 35.4 points against naive's 23.4 (63.85 ± 0.24), with a buffer of one and "
        "strength 1 29.4 (66.90 ± 2.49), with the family value 30.4 (67.77). It keeps the "
        "first two permutations far better than naive (85-94% at the end, against 37-61%) and "
        "the later ones worse. The family value was selected over split-, split-fashion- "
        "and rotated-mnist task (`lifelong run -b permuted-mnist --setting task -s tf-mas --set "
        "strength=0 --seed S`, S = 0-2, and likewise `hard_buffer_size=1`)"
    ),
    ("split-digits", "domain", "lora-continual"): (
        "as in the other settings of split-digits: after the first task only a low-rank adapter "
        "trains, so later tasks are learned worse (98.1% against naive's 99.6% just after "
        "training) and forgotten about as much (21.6 against 20.9 points); rank 64 / alpha 8 is "
        "the best of rank 8-512 x alpha 0.5-32 over the two digits domain streams on validation"
    ),
    ("wordnet-domains", "domain", "joint"): (
        "the benchmark's budget (5 epochs per task, chosen on validation for fine-tuning) "
        "leaves the tiny GPT early in training (losses 7-8 nats), where one domain at a time "
        "lowers the loss faster than the mixed union with the same number of steps; with 20 "
        "epochs (seed 0, `lifelong run -b wordnet-domains -s joint --epochs 20`) joint ends at "
        "7.06 nats against naive's 7.46, which then forgets 0.57 nats: the upper bound holds once "
        "both are trained, and 5 epochs stay the default because they are best for fine-tuning"
    ),
    ("split-fashion-mnist", "class", "lora-continual"): (
        "as on split-mnist (the family's alpha 512): without replay or distillation a method keeps "
        "only the last task in the class-incremental setting (naive, EWC, MAS end at 19.9%), and "
        "the low-rank adapter learns that task 0.1 point worse than full fine-tuning; the gap is "
        "0.02 points of average accuracy, below naive only because naive's seeds agree to 0.005"
    ),
    ("split-fashion-mnist", "class", "pseudo-rehearsal"): (
        "its rehearsal on random inputs (Robins 1995) keeps no earlier class of real images, so "
        "it ends, like fine-tuning and the parameter penalties, at the last task's share (19.9%); the "
        "distillation on random inputs costs the last task 0.2 point, a 0.04-point gap that "
        "counts only because naive's seeds agree to 0.005"
    ),
}


def _is_current(record: dict[str, Any]) -> bool:
    """Whether a check record is a run of its stream, strategy and seed with today's defaults and
    code (false when a default was re-selected or the strategy revised since it was trained)."""
    from lifelong.core.runner import resolve

    c = record["config"]
    return is_current(
        record, resolve(_base(c["benchmark"], c["setting"], c["strategy"], c["seed"]))
    )


def _last_task(records: list[dict[str, Any]]) -> float:
    return statistics.fmean(r["accuracy_matrix"][-1][-1] for r in records)


def _coverage(shown: dict[str, set[str]], refused: dict[str, dict[str, str]]) -> list[str]:
    """What the table does not cover yet: every built-in benchmark x setting x built-in strategy
    that supports the setting, less the checked runs and the recorded refusals."""
    from lifelong.data.catalog import catalog
    from lifelong.data.files import data_root
    from lifelong.data.scenarios import BENCHMARKS, SETTINGS

    strategies = _builtin_strategies()
    datasets = catalog()
    absent_data = {  # verified once per dataset (checksums of whole files)
        name: bool(entry.problems(data_root() / name)) for name, entry in datasets.items()
    }
    unchecked_streams, missing = [], []
    no_data: set[str] = set()
    for benchmark, spec in BENCHMARKS.items():
        for setting in SETTINGS if spec.objective == "classify" else ("domain",):
            stream = f"{benchmark}-{setting}"
            if stream not in shown:
                if absent_data.get(spec.dataset):
                    no_data.add(spec.dataset)
                    unchecked_streams.append(f"{benchmark} {setting} (no {spec.dataset} data here)")
                else:
                    unchecked_streams.append(f"{benchmark} {setting}")
                continue
            absent = sorted(
                name
                for name, cls in strategies.items()
                if setting in cls.settings
                and spec.objective in cls.objectives
                and name not in shown[stream]
                and name not in refused.get(stream, {})
            )
            if absent:
                missing.append(f"{benchmark} {setting}: {', '.join(absent)}")
    lines = [
        f"Coverage: {len(shown)} of {len(shown) + len(unchecked_streams)} streams (built-in "
        "benchmark x setting it supports) checked."
    ]
    if missing:
        lines.append("Not checked yet on a checked stream: " + "; ".join(missing) + ".")
    if unchecked_streams:
        lines.append("Streams not checked yet: " + ", ".join(unchecked_streams) + ".")
    if no_data:
        names = " ".join(sorted(no_data))
        lines.append(
            f"The machine that wrote this report has no {', '.join(sorted(no_data))} files (no "
            f"internet there); `lifelong data download {names}` gets them, then the check "
            "command below runs those streams."
        )
    not_applicable = [
        f"{strategy} on {stream.rsplit('-', 1)[0]} {stream.rsplit('-', 1)[1]} ({reason})"
        for stream, by_strategy in sorted(refused.items())
        for strategy, reason in sorted(by_strategy.items())
        if strategy not in shown.get(stream, set())
    ]
    if not_applicable:
        lines.append("Refused before training (not applicable): " + "; ".join(not_applicable) + ".")
    return [part for line in lines for part in ("", line)][1:]  # paragraphs


def _stream_records(
    stream: Path, stale: list[str], refused: dict[str, dict[str, str]]
) -> dict[str, list[dict[str, Any]]]:
    """A checked stream's current runs by strategy; stale runs go to ``stale`` and recorded
    refusals to ``refused``."""
    records: dict[str, list[dict[str, Any]]] = {}
    for folder in sorted(d for d in stream.iterdir() if d.is_dir()):
        if (folder / REFUSED).is_file():
            reason = json.loads((folder / REFUSED).read_text())["refused"]
            refused.setdefault(stream.name, {})[folder.name] = reason
        for path in sorted(folder.glob("defaults-s*.json")):
            record = json.loads(path.read_text())
            if not _is_current(record):
                stale.append(f"{stream.name}/{folder.name}/{path.name}")
                continue  # trained under other defaults than today's: never reported
            records.setdefault(folder.name, []).append(record)
    return records


def _spread(sem: float, naive_sem: float) -> float:
    """One standard error of the difference of two means (a single seed adds none)."""
    return math.sqrt(
        (0 if math.isnan(sem) else sem**2) + (0 if math.isnan(naive_sem) else naive_sem**2)
    )


def _loss_rows(
    benchmark: str, setting: str, records: dict[str, list[dict[str, Any]]], used: set[Any]
) -> list[str]:
    """Table rows of a language-modelling stream: final average loss against naive's (the causes
    cited are added to ``used``)."""
    naive_mean, naive_sem = _mean_sem([r["average_loss"] for r in records["naive"]])
    rows = []
    for strategy, runs in records.items():
        if strategy == "naive":
            continue
        mean, sem = _mean_sem([r["average_loss"] for r in runs])
        worse = mean > naive_mean + _spread(sem, naive_sem)
        if worse:
            used.add((benchmark, setting, strategy))
        cause = CAUSES.get((benchmark, setting, strategy), "cause not yet diagnosed")
        rows.append(
            f"| {benchmark} | {strategy} | {len(runs)} | {mean:.4f} ± {sem:.4f} | "
            f"{naive_mean:.4f} ± {naive_sem:.4f} | {mean - naive_mean:+.4f} | "
            + (f"**worse than naive**: {cause} |" if worse else "ok |")
        )
    return rows


def command_report(args: argparse.Namespace) -> None:
    lines = [
        "Every strategy with **its defaults** (what `lifelong run -b B --setting S -s NAME` does: "
        "the class defaults, or the tuned value of `lifelong/core/tuned_defaults.json` for the "
        "benchmark's family and setting) against naive fine-tuning on the same stream and seeds. "
        "Final average test accuracy (%), mean ± s.e.m. over the seeds present. Verdict: "
        "**below naive** when the strategy's mean is lower than naive's by more than one standard "
        "error of the difference; what is not checked yet is listed below the table.",
        "",
        "| benchmark | setting | strategy | seeds | accuracy (%) | naive (%) | difference | verdict |",
        "|---|---|---|---|---|---|---|---|",
    ]
    causes: list[str] = []
    used: set[tuple[str, str, str]] = set()  # the CAUSES cited
    stale: list[str] = []
    shown: dict[str, set[str]] = {}  # stream -> strategies with current runs
    refused: dict[str, dict[str, str]] = {}  # stream -> strategy -> why it refuses the stream
    lm_lines: list[str] = []
    for stream in sorted((RESULTS / "check").glob("*")):
        benchmark, setting = stream.name.rsplit("-", 1)
        records = _stream_records(stream, stale, refused)
        if not records.get("naive"):
            continue
        shown[stream.name] = set(records)
        if "average_loss" in records["naive"][0]:
            lm_lines += _loss_rows(benchmark, setting, records, used)
            continue
        naive_mean, naive_sem = _mean_sem([r["average_accuracy"] for r in records["naive"]])
        naive_forgetting = statistics.fmean(r["average_forgetting"] for r in records["naive"])
        for strategy, runs in records.items():
            if strategy == "naive":
                continue
            mean, sem = _mean_sem([r["average_accuracy"] for r in runs])
            below = mean < naive_mean - _spread(sem, naive_sem)
            lines.append(
                f"| {benchmark} | {setting} | {strategy} | {len(runs)} | "
                f"{100 * mean:.2f} ± {100 * sem:.2f} | {100 * naive_mean:.2f} ± "
                f"{100 * naive_sem:.2f} | {100 * (mean - naive_mean):+.2f} | "
                f"{'**below naive**' if below else 'ok'} |"
            )
            if below:
                used.add((benchmark, setting, strategy))
                forgetting = statistics.fmean(r["average_forgetting"] for r in runs)
                causes.append(
                    f"* {benchmark} {setting}-incremental, {strategy}: average forgetting "
                    f"{100 * forgetting:.1f} points (naive {100 * naive_forgetting:.1f}), last "
                    f"task's final accuracy {100 * _last_task(runs):.1f}% (naive "
                    f"{100 * _last_task(records['naive']):.1f}%): "
                    + CAUSES.get((benchmark, setting, strategy), "cause not yet diagnosed")
                    + "."
                )
    if causes:
        lines += ["", "Why the rows still below naive are there:", "", *causes]
    if lm_lines:
        lines += [
            "",
            "Language-modelling streams: final average next-token loss over the domains (nats, "
            "**lower is better**), mean ± s.e.m. over the seeds; **worse than naive** when the "
            "strategy's mean loss is higher than naive's by more than one standard error of the "
            "difference.",
            "",
            "| benchmark | strategy | seeds | loss (nats) | naive (nats) | difference | verdict |",
            "|---|---|---|---|---|---|---|",
            *lm_lines,
        ]
    lines += ["", *_coverage(shown, refused)]
    if stale:
        lines += [
            "",
            f"Not shown: {len(stale)} stored run(s) trained under defaults or code that have "
            "changed since (rerun `check` for their streams): " + ", ".join(stale) + ".",
        ]
    older = _selected_under_older_code()
    if older:
        lines += [
            "",
            "Tuned values selected on an earlier revision of their strategy (they still apply; "
            "their selection command, in `lifelong list strategies`, should run again): "
            + ", ".join(older)
            + ".",
        ]
    lines += [
        "",
        "Command: `OMP_NUM_THREADS=1 python bench/defaults.py check -b B --setting S -s NAME... "
        "--seeds 0 1 2` (trains only what is missing), then `python bench/defaults.py report`. "
        "Tuned defaults come from `python bench/defaults.py select` (validation split only); "
        "`lifelong list strategies` shows each value with its provenance.",
    ]
    update_section("docs/results.md", "defaults-check", "\n".join(lines))
    print("\n".join(lines))
    unused = sorted(set(CAUSES) - used)
    if unused:  # a cause whose row is not below naive (any more): it would silently go stale
        print(
            "defaults.py report: causes written for rows that are not below naive, delete them "
            "from CAUSES: " + ", ".join(" ".join(key) for key in unused),
            file=sys.stderr,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    select = commands.add_parser("select")
    select.add_argument("-s", "--strategy", required=True)
    select.add_argument(
        "-b",
        "--benchmark",
        nargs="+",
        required=True,
        help="one or more benchmarks of one family (the value must serve each; see --rule)",
    )
    select.add_argument("--setting", required=True)
    select.add_argument(
        "--rule",
        choices=sorted(RULES),
        default="mean",
        help="what the winner maximises: "
        + "; ".join(f"{name}: {text}" for name, text in RULES.items())
        + " (worst-gain and safe-mean suit a family whose streams pull a value apart)",
    )
    select.add_argument("--grid", nargs="+", required=True, metavar="NAME=V1,V2")
    select.add_argument("--seeds", nargs="+", type=int, default=[0])
    select.add_argument(
        "--max-widen",
        type=int,
        default=MAX_WIDEN,
        help="geometric steps added beyond an edge the winner sits on (fewer for costly axes; a "
        "winner still at the edge is stored as such)",
    )
    check = commands.add_parser("check")
    check.add_argument("-b", "--benchmark", required=True)
    check.add_argument("--setting", required=True)
    check.add_argument("-s", "--strategies", nargs="+", required=True)
    check.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    commands.add_parser("report")
    commands.add_parser("init")
    args = parser.parse_args()
    os.environ.setdefault("LIFELONG_DATA", str(ROOT.parent / "shared" / "data"))
    import torch

    torch.set_num_threads(1)
    {
        "select": command_select,
        "check": command_check,
        "report": command_report,
        "init": command_init,
    }[args.command](args)


if __name__ == "__main__":
    main()
