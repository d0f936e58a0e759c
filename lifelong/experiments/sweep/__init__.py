"""Hyperparameter sweeps whose selection never looks at the reported test data.

A sweep file (YAML) names a benchmark and setting, the strategies to tune, a search space per
strategy (a grid, or seeded random samples from distributions), common run settings, tuning and
evaluation seeds, and a selection protocol. :func:`run_sweep` then runs two stages:

1. **Tuning.** Every candidate configuration is trained once per *tuning seed* on data that the
   reported numbers never use, and scored with the protocol's metric (mean over tuning seeds):

   * ``validation``: each task's training data is split (stratified, ``validation_fraction``) into a
     training and a validation part; the tuning runs train on the first and are evaluated on the
     second (``RunConfig.evaluate_on = 'validation'``). No test sample is read.
   * ``first-tasks`` (Chaudhry et al. 2019, "Efficient Lifelong Learning with A-GEM", Sec. 5): the
     tuning runs see only the first ``k`` tasks of the stream (``RunConfig.first_tasks = k``: the
     same tasks, classes, permutations and output units as in the full stream, unlike a stream built
     with ``tasks=k``, which regroups a split benchmark's classes). They are evaluated on those
     ``k`` tasks' test sets (or on their validation split if ``validation_fraction`` > 0). All runs
     use one scenario seed, so the tuning tasks are exactly the first ``k`` tasks of the final
     stream. Those tasks are then excluded from every reported number: the final runs train on the
     whole stream and their metrics are recomputed with :mod:`lifelong.metrics` on the sub-matrix
     ``R[k:, k:]`` (rows: after training tasks k+1..T; columns: tasks k+1..T). Deviation from the
     paper, whose evaluation stream holds only the remaining T - k tasks: here tasks k+1..T are
     learned after the tuning tasks, in the benchmark's full stream, so the model they start from
     has already learned tasks 1..k.

2. **Evaluation.** The best candidate per strategy (ties: the first in the search order) is trained
   on fresh *evaluation seeds* (they must differ from the tuning seeds) with the test sets as the
   evaluation split; only these runs produce the leaderboard. Under ``validation`` the final runs
   train on the full training data (the validation part included) unless the common run settings
   give their own ``validation_fraction``.

Every trial is one ``lifelong run`` in ``OUT/tuning/...`` or ``OUT/evaluation/...``; finished
trials are skipped when a sweep is repeated (so an interrupted sweep resumes), failed trials are
recorded with their error and skipped too unless ``retry_failed``. Results: ``trials.csv`` and
``trials.md`` (every trial), ``leaderboard.md`` and ``results.json`` (protocol, chosen configuration
and test results per strategy), all written atomically.

Modules: :mod:`.spec` (the sweep file format), :mod:`.space` (grid and random search spaces),
:mod:`.trials` (building trials and their configurations), :mod:`.execution` (running them with a
backend, resuming), :mod:`.selection` (scores, choice, reported metrics), :mod:`.results` (trial
rows and leaderboard entries), :mod:`.tables` (the files written), :mod:`.run` (:func:`run_sweep`).
"""

from lifelong.experiments.sweep.execution import Backend, execute_trials, local_backend
from lifelong.experiments.sweep.results import SweepResult
from lifelong.experiments.sweep.run import run_sweep
from lifelong.experiments.sweep.selection import reported_metrics, select
from lifelong.experiments.sweep.space import candidates
from lifelong.experiments.sweep.spec import (
    METRICS,
    Protocol,
    StrategySearch,
    SweepSpec,
    load_sweep,
    sweep_from_mapping,
)
from lifelong.experiments.sweep.tables import (
    TRIAL_COLUMNS,
    leaderboard_markdown,
    markdown_table,
    protocol_record,
    trials_csv,
    trials_markdown,
    write_results,
)
from lifelong.experiments.sweep.trials import Trial, config_hash, evaluation_trials, tuning_trials

__all__ = [
    "METRICS",
    "TRIAL_COLUMNS",
    "Backend",
    "Protocol",
    "StrategySearch",
    "SweepResult",
    "SweepSpec",
    "Trial",
    "candidates",
    "config_hash",
    "evaluation_trials",
    "execute_trials",
    "leaderboard_markdown",
    "load_sweep",
    "local_backend",
    "markdown_table",
    "protocol_record",
    "reported_metrics",
    "run_sweep",
    "select",
    "sweep_from_mapping",
    "trials_csv",
    "trials_markdown",
    "tuning_trials",
    "write_results",
]
