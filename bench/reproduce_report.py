"""Rebuild the full-budget reproduction tables of docs/results.md from ``bench/results/`` alone.

No training: every number comes from the per-run result files written by ``bench/reproduce.py``.
Each protocol owns one section (``reproduce-<protocol>``) of docs/results.md: the measured mean ±
s.e.m. over the seeds present (a partial seed set is shown as such, e.g. "2/5"), the published number
and the gap in points, the grid searched on the validation split with the chosen value, the command,
and for every gap beyond the error bars its written cause (``bench/reproduce_causes.py``) or an
explicit "open".
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from bench._docs import mean_sem, update_section
from bench.protocols import PROTOCOLS, Method, Protocol, Published
from bench.reproduce import RESULTS, Job, format_value, load_result, select, values_key
from bench.reproduce_causes import CAUSES, FINDINGS

PAGE = "docs/results.md"
README = "README.md"


def pct(value: float) -> str:
    return f"{100 * value:.2f}"


def seeds_text(found: list[int], planned: tuple[int, ...]) -> str:
    text = f"{len(found)}/{len(planned)}"
    if 0 < len(found) < len(planned):
        text += f" ({','.join(map(str, found))})"
    return text


def test_records(
    protocol: Protocol, setting: str, method: Method, chosen: dict[str, Any]
) -> list[dict[str, Any]]:
    records = []
    for seed in protocol.seeds_of(method):
        job = Job(protocol, setting, method, tuple(sorted(chosen.items())), seed, "test")
        record = load_result(job)
        if record is not None and not record.get("failed"):
            records.append(record)
    return records


def chosen_records(protocol: Protocol, setting: str, method: Method) -> list[dict[str, Any]]:
    """A row's test runs at the values its selection chose (none while the selection runs)."""
    chosen = select(protocol, setting, method, train=False).chosen
    return test_records(protocol, setting, method, chosen) if chosen is not None else []


def percent_stat(records: list[dict[str, Any]], metric: str) -> tuple[float, float, str]:
    """Mean, s.e.m. and table text ("mean ± s.e.m.", or the value of a single seed) of a metric
    over the records, in %."""
    mean, sem = mean_sem([100 * r["metrics"][metric] for r in records])
    return mean, sem, f"{mean:.2f} ± {sem:.2f}" if len(records) > 1 else f"{mean:.2f}"


def past_error_bars(mean: float, sem: float, published: Published) -> float:
    """How far a measured mean lies beyond the two error bars together (<= 0: within)."""
    return abs(mean - published.value) - sem - (published.error or 0.0)


def measured(protocol: Protocol, setting: str, label: str) -> str:
    """A row's accuracy as the table prints it ("mean ± s.e.m.", with its seed count when
    partial, and whether it is within the published error bars), for causes that cite another
    row's result (``{row:LABEL}``)."""
    method = protocol.method(label)
    records = chosen_records(protocol, setting, method)
    if not records:
        return "pending"
    acc, acc_sem, text = percent_stat(records, "average_accuracy")
    notes = []
    planned = protocol.seeds_of(method)
    if len(records) < len(planned):
        notes.append(f"{len(records)}/{len(planned)} seeds")
    published = method.published.get(setting)
    if published is not None:
        past = past_error_bars(acc, acc_sem, published)
        notes.append("within" if past <= 0 else f"{past:.2f} past the error bars")
    return text + (f" ({', '.join(notes)})" if notes else "")


# A cause cites a row's measured accuracy as {row:LABEL} (same protocol and setting) or
# {row:PROTOCOL/SETTING/LABEL} (another table's row).
CITED_ROW = re.compile(r"\{row:(?:([a-z0-9-]+)/([a-z]+)/)?([a-z0-9+.-]+)\}")


def cited_row(protocol: Protocol, setting: str, match: re.Match[str]) -> tuple[Protocol, str, str]:
    """(protocol, setting, label) of a ``{row:...}`` citation in a cause of ``protocol``."""
    name, cited_setting, label = match.groups()
    if name is None:
        return protocol, setting, label
    return PROTOCOLS[name], cited_setting, label


def cause_text(protocol: Protocol, setting: str, label: str) -> str | None:
    """The written cause of a row's gap, with every ``{row:...}`` citation (``CITED_ROW``)
    replaced by that row's measured accuracy and every ``{paper:NAME}`` by what the paper's own
    code measured here (``bench/run_paper_code.py``)."""
    from bench.run_paper_code import summary

    cause = CAUSES.get((protocol.name, setting, label))
    if cause is None:
        return None
    cause = with_citations(cause, protocol, setting)
    return re.sub(r"\{paper:([A-Za-z0-9-]+)\}", lambda m: summary(m[1]) or "not run yet", cause)


# A cause cites how many steps of a row's runs projected their gradient (GEM, A-GEM: the steps
# whose gradient violated a constraint; ``projections`` of the strategy's metrics) as
# {projections:LABEL} (same protocol and setting).
CITED_PROJECTIONS = re.compile(r"\{projections:([a-z0-9+.-]+)\}")


def projections(protocol: Protocol, setting: str, label: str) -> str:
    """A row's projected steps: one seed's count, or the mean over its seeds, or "pending"."""
    records = chosen_records(protocol, setting, protocol.method(label))
    counts = [r["metrics"]["strategy_metrics"]["projections"] for r in records]
    if not counts:
        return "pending"
    text = f"{round(sum(counts) / len(counts)):,}"
    return text if len(counts) == 1 else f"{text} (mean of {len(counts)} seeds)"


def with_citations(text: str, protocol: Protocol, setting: str | None) -> str:
    """``text`` with every ``{row:...}`` citation replaced by that row's measured accuracy (a
    text about no one setting, ``setting=None``, must cite in full: PROTOCOL/SETTING/LABEL), and
    every ``{projections:LABEL}`` by the row's projected steps."""

    def accuracy(match: re.Match[str]) -> str:
        if setting is None and match[1] is None:
            raise ValueError(f"{match[0]}: cite a row as {{row:PROTOCOL/SETTING/LABEL}} here")
        return measured(*cited_row(protocol, setting or "", match))

    text = CITED_ROW.sub(accuracy, text)
    cited = CITED_PROJECTIONS.search(text)
    if cited is None:
        return text
    if setting is None:
        raise ValueError(f"{cited[0]}: a text about no one setting cannot cite projections")
    return CITED_PROJECTIONS.sub(lambda m: projections(protocol, setting, m[1]), text)


def gap_cell(
    protocol: Protocol, setting: str, method: Method, mean: float | None, sem: float
) -> tuple[str, str, str]:
    """(published, gap, verdict) cells."""
    published = method.published.get(setting)
    if published is None:
        return "", "", ""
    text = f"{published.value:.2f}" + (f" ± {published.error:.2f}" if published.error else "")
    text += f" ({published.source})"
    if mean is None:
        return text, "", ""
    gap = mean - published.value
    if past_error_bars(mean, sem, published) <= 0:
        return text, f"{gap:+.2f}", "within"
    cause = cause_text(protocol, setting, method.label)
    return text, f"{gap:+.2f}", f"**beyond**: {cause}" if cause else "**beyond**: cause open"


def selection_text(protocol: Protocol, setting: str, method: Method) -> tuple[str, str]:
    """(grid with validation accuracies, chosen values) for the selection table."""
    selection = select(protocol, setting, method, train=False)
    if not method.grid:
        return "", ""
    parts = []
    for key, values in sorted(selection.tried.items(), key=lambda kv: sorted(kv[1].items())):
        value = selection.scores[key]
        cell = f"{key}: {'failed' if math.isnan(value) else pct(value)}"
        parts.append(f"**{cell}**" if values == selection.chosen else cell)
    untried = 1
    for values in selection.grid.values():
        untried *= len(values)
    grid = "; ".join(
        f"{axis} ∈ {{{', '.join(format_value(v) for v in sorted(values))}}}"
        for axis, values in selection.grid.items()
    )
    status = "" if selection.complete else f" — {selection.pending} run(s) pending"
    chosen = values_key(selection.chosen) if selection.chosen is not None else "pending"
    if selection.edges:
        chosen += f" (still at the edge of {', '.join(selection.edges)} after widening)"
    return f"{grid}{status}<br>{'; '.join(parts)}", chosen


def selection_sentence(protocol: Protocol) -> str:
    """How the protocol's hyperparameters were chosen: on a validation split, or fixed."""
    if not any(method.grid for method in protocol.methods):
        return "no selection: every row runs the fixed hyperparameters it shows."
    return (
        f"hyperparameters selected on seed {protocol.select_seed} with "
        f"{protocol.validation_fraction:.0%} of each task's training data held out "
        "(`validation_fraction`, `evaluate_on=validation`), by final average validation accuracy; "
        "test runs train on the full training sets."
    )


def training_minutes(records: list[dict[str, Any]]) -> str:
    """Mean training minutes per run: CPU time where every run recorded it, else wall time
    marked † (it counts waiting for a core that other jobs shared)."""
    cpu = [r.get("train_cpu_seconds") for r in records]
    if all(seconds is not None for seconds in cpu):
        return f"{sum(cpu) / len(cpu) / 60:.1f}"
    return f"{sum(r['train_seconds'] for r in records) / len(records) / 60:.1f}†"


def protocol_section(protocol: Protocol) -> str:
    seeds = ", ".join(map(str, protocol.seeds))
    lines = [
        f"### {protocol.title}",
        "",
        protocol.description,
        "",
        f"Seeds {seeds} (test runs); {selection_sentence(protocol)} Accuracy: final average test accuracy over "
        "the tasks, mean ± s.e.m. over the seeds present (the seeds column shows how many of the "
        "planned seeds have landed). Forgetting: mean over tasks of the best earlier accuracy "
        "minus the final one. Learning acc.: mean accuracy on each task right after training on "
        "it (what the budget lets the network learn, before any forgetting). Gap: measured minus "
        "published, in points; 'within' when it is no "
        "larger than the two error bars together. Train min/run: CPU minutes of training per "
        "run, evaluation excluded; † marks wall minutes, for runs stored before CPU time was "
        "recorded (they include any time a run waited for a core shared with other jobs).",
        "",
        "| setting | method | hyperparameters | seeds | accuracy (%) | forgetting (%) "
        "| learning acc. (%) | published (%) | gap | verdict | train min/run |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    selection_rows = []
    for setting, method in protocol.rows():
        selection = select(protocol, setting, method, train=False)
        chosen = selection.chosen
        if method.grid:
            grid, chosen_text = selection_text(protocol, setting, method)
            selection_rows.append(f"| {setting} | {method.label} | {grid} | {chosen_text} |")
        records = test_records(protocol, setting, method, chosen) if chosen is not None else []
        found = sorted(r["seed"] for r in records)
        fixed = ", ".join(f"{k}={format_value(v)}" for k, v in method.params.items())
        fixed += "".join(f", {k}={format_value(v)}" for k, v in method.config.items())
        hyper = ", ".join(x for x in (fixed.strip(", "), values_key(chosen) if chosen else "") if x)
        if method.grid and chosen is None:
            hyper = (fixed + ", " if fixed else "") + "selection pending"
        if records:
            acc, acc_sem, acc_text = percent_stat(records, "average_accuracy")
            fgt_text = percent_stat(records, "average_forgetting")[2]
            learning = sum(
                100 * sum(diagonal) / len(diagonal)
                for diagonal in (r["metrics"]["learning_accuracy"] for r in records)
            ) / len(records)
            published, gap, verdict = gap_cell(protocol, setting, method, acc, acc_sem)
            time_text = training_minutes(records)
            learning_text = f"{learning:.2f}"
        else:
            acc_text = fgt_text = "pending"
            learning_text = ""
            published, gap, verdict = gap_cell(protocol, setting, method, None, 0.0)
            time_text = ""
        lines.append(
            f"| {setting} | {method.label} | {hyper or 'defaults'} "
            f"| {seeds_text(found, protocol.seeds_of(method))} | {acc_text} | {fgt_text} | {learning_text} "
            f"| {published} "
            f"| {gap} | {verdict} | {time_text} |"
        )
    notes = [f"- {m.label}: {m.note}" for m in protocol.methods if m.note]
    if notes:
        lines += ["", "Notes:", "", *notes]
    if selection_rows:
        lines += [
            "",
            "Selection (validation accuracy %, seed "
            f"{protocol.select_seed}; the chosen value in bold; an axis whose best value sat at "
            "its edge was widened by one geometric step, up to 3 times, or as many as a row's "
            "`max_widen` in `bench/protocols.py` allows):",
            "",
            "| setting | method | grid and validation accuracy | chosen |",
            "|---|---|---|---|",
            *selection_rows,
        ]
    if protocol.name in FINDINGS:
        lines += ["", with_citations(FINDINGS[protocol.name], protocol, None)]
    lines += [
        "",
        f"Command: `OMP_NUM_THREADS=1 python bench/reproduce.py run --protocol {protocol.name}` "
        "(trains only what is missing; `--setting`, `--method`, `--seeds` narrow it); "
        "`python bench/reproduce.py report` rebuilds this table from "
        f"`bench/results/{protocol.name}/` without training.",
    ]
    return "\n".join(lines)


def row_status(protocol: Protocol, setting: str, method: Method) -> str:
    """Where a table row stands: ``pending``, ``partial``, ``extra`` (no published number),
    ``within``, ``cause`` (beyond the error bars, cause measured) or ``open`` (beyond, with no
    cause or one that says it is open)."""
    records = chosen_records(protocol, setting, method)
    if not records:
        return "pending"
    if len(records) < len(protocol.seeds_of(method)):
        return "partial"
    published = method.published.get(setting)
    if published is None:
        return "extra"
    mean, sem, _ = percent_stat(records, "average_accuracy")
    if past_error_bars(mean, sem, published) <= 0:
        return "within"
    cause = CAUSES.get((protocol.name, setting, method.label))
    return "open" if cause is None or cause.startswith("open") else "cause"


def summary_section() -> str:
    """One line per protocol: how many of its rows land within the published error bars, how
    many beyond with a written cause, and what is still running (for the README and the top of
    docs/results.md; every count comes from the result files, as the tables do)."""
    columns = ("within", "cause", "open", "extra", "partial", "pending")
    lines = [
        "| protocol | rows | within the published error bars | beyond, cause measured "
        "| beyond, cause open | no published number | seeds partial | pending |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for protocol in PROTOCOLS.values():
        counts = dict.fromkeys(columns, 0)
        for setting, method in protocol.rows():
            counts[row_status(protocol, setting, method)] += 1
        cells = " | ".join(str(counts[c]) for c in columns)
        lines.append(f"| {protocol.title} (`{protocol.name}`) | {sum(counts.values())} | {cells} |")
    lines += [
        "",
        "Rows are (setting, method) pairs of the tables in docs/results.md, diagnosis rows "
        "included; a row counts once all its seeds have landed. Rebuilt by "
        "`python bench/reproduce.py report` from `bench/results/`.",
    ]
    return "\n".join(lines)


def report() -> None:
    """Rewrite every protocol's section of docs/results.md, and the summary there and in the
    README."""
    for protocol in PROTOCOLS.values():
        update_section(PAGE, f"reproduce-{protocol.name}", protocol_section(protocol))
    summary = summary_section()
    for page in (PAGE, README):
        update_section(page, "reproduce-summary", summary)
    count = sum(1 for _ in RESULTS.rglob("*.json"))
    print(f"{PAGE}: {len(PROTOCOLS)} sections rebuilt from {count} result files")


def load_all() -> list[dict[str, Any]]:
    """Every result file (for ad-hoc analysis)."""
    return [json.loads(p.read_text()) for p in sorted(RESULTS.rglob("*.json"))]
