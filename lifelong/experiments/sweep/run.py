"""Running a sweep: tune every strategy, select, evaluate the chosen configurations, write the
results (see the package docstring for the protocols)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from lifelong.core.rundir import locked
from lifelong.experiments.sweep.execution import Backend, execute_trials, local_backend
from lifelong.experiments.sweep.results import SweepResult, leaderboard_entries, trial_row
from lifelong.experiments.sweep.selection import select
from lifelong.experiments.sweep.spec import SweepSpec
from lifelong.experiments.sweep.tables import write_results
from lifelong.experiments.sweep.trials import evaluation_trials, trial_key, tuning_trials


def run_sweep(
    spec: SweepSpec,
    out: str | Path,
    *,
    backend: Backend | None = None,
    threads: int | None = None,
    retry_failed: bool = False,
    progress: Callable[[str], None] | None = None,
) -> SweepResult:
    """Tune every strategy of ``spec``, evaluate the chosen configurations, write the results.

    Args:
        spec: the parsed sweep file.
        out: results folder (trial runs in ``out/tuning`` and ``out/evaluation``).
        backend: runs a batch of (key, config) trials; default: local worker processes.
        threads: torch threads per trial (default: ``spec.num_cpus``); fixed so every backend
            computes bit-identical results.
        retry_failed: run again the trials recorded as failed.
        progress: called with one line per finished trial.
    """
    out = Path(out).absolute()
    with locked(out, "lifelong sweep"):
        return _run_sweep(spec, out, backend, threads, retry_failed, progress)


def _run_sweep(
    spec: SweepSpec,
    out: Path,
    backend: Backend | None,
    threads: int | None,
    retry_failed: bool,
    progress: Callable[[str], None] | None,
) -> SweepResult:
    threads = threads or max(1, int(spec.num_cpus))
    if backend is None:
        with local_backend(None, threads) as local:
            return _stages(spec, out, local, threads, retry_failed, progress)
    return _stages(spec, out, backend, threads, retry_failed, progress)


def _stages(
    spec: SweepSpec,
    out: Path,
    backend: Backend,
    threads: int,
    retry_failed: bool,
    progress: Callable[[str], None] | None,
) -> SweepResult:
    tuning = tuning_trials(spec, out, threads)
    tuning_outcomes = execute_trials(tuning, backend, retry_failed=retry_failed, progress=progress)
    chosen = select(tuning, tuning_outcomes, spec.protocol)
    picks = {
        s: (c["candidate"], c["params"]) for s, c in chosen.items() if c["candidate"] is not None
    }
    evaluation = evaluation_trials(spec, out, threads, picks)
    eval_outcomes = execute_trials(
        evaluation, backend, retry_failed=retry_failed, progress=progress
    )
    rows = [trial_row(t, tuning_outcomes[trial_key(t)], spec.protocol, out) for t in tuning]
    rows += [trial_row(t, eval_outcomes[trial_key(t)], spec.protocol, out) for t in evaluation]
    leaderboard = leaderboard_entries(spec, chosen, rows)
    result = SweepResult(out, leaderboard, rows, spec.protocol)
    write_results(result, spec)
    return result
