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
* ``report``: the docs/results.md section from the stored check runs (no training), with the
  written cause of every row below naive (``bench/defaults_causes.py``).
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
from bench._records import is_current, stored_run, write_record  # noqa: E402
from bench.defaults_causes import CAUSES  # noqa: E402

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
    write_record(TABLE, ordered)


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
    write_record(path, {"refused": reason})


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
    from lifelong.data.benchmarks import BENCHMARKS
    from lifelong.data.catalog import catalog
    from lifelong.data.files import data_root
    from lifelong.data.scenarios import SETTINGS

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
    benchmark: str,
    setting: str,
    records: dict[str, list[dict[str, Any]]],
    used: set[Any],
    verdicts: dict[str, list[tuple[str, str | None]]],
) -> list[str]:
    """Table rows of a language-modelling stream: final average loss against naive's (the causes
    cited are added to ``used``, each strategy's verdict to ``verdicts``)."""
    naive_mean, naive_sem = _mean_sem([r["average_loss"] for r in records["naive"]])
    rows = []
    for strategy, runs in records.items():
        if strategy == "naive":
            continue
        mean, sem = _mean_sem([r["average_loss"] for r in runs])
        worse = mean > naive_mean + _spread(sem, naive_sem)
        if worse:
            used.add((benchmark, setting, strategy))
        verdicts.setdefault(strategy, []).append(
            (f"{benchmark} {setting}", f"{mean - naive_mean:+.3f} nats" if worse else None)
        )
        cause = CAUSES.get((benchmark, setting, strategy), "cause not yet diagnosed")
        rows.append(
            f"| {benchmark} | {strategy} | {len(runs)} | {mean:.4f} ± {sem:.4f} | "
            f"{naive_mean:.4f} ± {naive_sem:.4f} | {mean - naive_mean:+.4f} | "
            + (f"**worse than naive**: {cause} |" if worse else "ok |")
        )
    return rows


def _summary(verdicts: dict[str, list[tuple[str, str | None]]], used: set[Any]) -> str:
    """Per strategy: the streams checked and those where its defaults end below (or, on a
    language-modelling stream, worse than) naive, with the difference (for the README)."""
    lines = [
        "| strategy | streams checked | within or above naive | below naive (difference, points; "
        "nats on a language-modelling stream) |",
        "|---|---|---|---|",
    ]
    rows = below = 0
    for strategy, results in sorted(verdicts.items()):
        short = [f"{stream} {difference}" for stream, difference in results if difference]
        rows, below = rows + len(results), below + len(short)
        lines.append(
            f"| {strategy} | {len(results)} | {len(results) - len(short)} | {'; '.join(short)} |"
        )
    undiagnosed = below - len(used & set(CAUSES))
    lines += [
        "",
        f"{below} of {rows} (strategy, stream) rows end below naive; "
        + (
            "each has its measured cause"
            if not undiagnosed
            else f"{undiagnosed} of them without a diagnosed cause yet, the others with theirs"
        )
        + ' under the table in docs/results.md ("Defaults against naive"). Rebuilt by '
        "`python bench/defaults.py report` from `bench/results/defaults/`.",
    ]
    return "\n".join(lines)


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
    verdicts: dict[str, list[tuple[str, str | None]]] = {}  # strategy -> (stream, shortfall)
    for stream in sorted((RESULTS / "check").glob("*")):
        benchmark, setting = stream.name.rsplit("-", 1)
        records = _stream_records(stream, stale, refused)
        if not records.get("naive"):
            continue
        shown[stream.name] = set(records)
        if "average_loss" in records["naive"][0]:
            lm_lines += _loss_rows(benchmark, setting, records, used, verdicts)
            continue
        naive_mean, naive_sem = _mean_sem([r["average_accuracy"] for r in records["naive"]])
        naive_forgetting = statistics.fmean(r["average_forgetting"] for r in records["naive"])
        for strategy, runs in records.items():
            if strategy == "naive":
                continue
            mean, sem = _mean_sem([r["average_accuracy"] for r in runs])
            below = mean < naive_mean - _spread(sem, naive_sem)
            verdicts.setdefault(strategy, []).append(
                (f"{benchmark} {setting}", f"{100 * (mean - naive_mean):+.1f}" if below else None)
            )
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
    update_section("README.md", "defaults-summary", _summary(verdicts, used))
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
