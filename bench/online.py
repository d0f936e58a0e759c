"""Online class-incremental Split MNIST (issue 14): reproductions and the online loop's speed.

``repro``: the online protocol of Aljundi et al. 2019 (MIR), also used by GDumb (Prabhu et al. 2020):
Split MNIST in 5 tasks of 2 digits, class-incremental, 1000 training samples per task, one pass in
batches of 10, MLP 784-400-400-10, SGD lr 0.1, a memory of 500 examples, 10 replayed examples per
step; evaluated on the full test set at the nominal task ends and, for the anytime curve, every 100
samples on 1000 test samples per task. The task-free methods run with hidden boundaries; A-GEM runs
with known boundaries (its paper's per-task memories). Each run writes
``bench/results/online/<method>-s<seed>.json``, reused only while it is a run of today's code and
settings (fingerprint and hyperparameters); the table goes to docs/results.md.

``speed``: lifelong's online ER (reservoir of 500, 10 replayed, batch 10, prequential testing and
anytime evaluation off) against a bare PyTorch loop doing the same work on the same tensors: gather
a batch, forward/backward on the batch joined with 10 reservoir examples, SGD step, vectorised
reservoir insertion. Samples/s of training (evaluation excluded), median of ``--repeats``
alternated runs; written to docs/benchmarks.md.

    OMP_NUM_THREADS=1 nice python bench/online.py repro --seeds 0 1 2
    OMP_NUM_THREADS=1 nice python bench/online.py speed
    python bench/online.py table          # rebuild the table from the result files
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._docs import ROOT, mean_sem, update_section  # noqa: E402
from bench._records import current_record, stored_run  # noqa: E402
from lifelong import RunConfig  # noqa: E402
from lifelong.core.runner import build_run_scenario, resolve, run  # noqa: E402

os.environ.setdefault("LIFELONG_DATA", str(ROOT.parent / "shared" / "data"))
RESULTS = ROOT / "bench" / "results" / "online"
KEPT = ("online",)  # besides accuracy, forgetting and the matrix: the anytime and online metrics
MEMORY = 500
# method -> (strategy parameters, boundaries)
METHODS: dict[str, tuple[dict[str, Any], str]] = {
    "naive": ({}, "hidden"),
    "er": ({"buffer_size": MEMORY, "replay_batch_size": 10}, "hidden"),
    "mir": ({"buffer_size": MEMORY, "replay_batch_size": 10, "candidates": 50}, "hidden"),
    "er-ace": ({"buffer_size": MEMORY, "replay_batch_size": 10}, "hidden"),
    "gdumb": ({"buffer_size": MEMORY, "epochs": 30, "retrain_batch_size": 16}, "hidden"),
    "derpp": ({"buffer_size": MEMORY, "replay_batch_size": 10}, "hidden"),
    "agem": ({"buffer_size": MEMORY, "replay_batch_size": 256}, "known"),
    "tf-mas": ({}, "hidden"),  # its own hard buffer of 30; no replay memory
}
PROTOCOL = {
    "benchmark": "split-mnist",
    "setting": "class",
    "tasks": 5,
    "train_samples_per_task": 1000,
    "online": True,
    "batch_size": 10,
    "hidden": (400, 400),
    "optimizer": "sgd",
    "lr": 0.1,
    "anytime_every": 100,
    "threads": 1,
}


def protocol_config(method: str, seed: int) -> RunConfig:
    params, boundaries = METHODS[method]
    return RunConfig.of(
        **PROTOCOL, strategy=method, strategy_params=params, boundaries=boundaries, seed=seed
    )


def result_path(method: str, seed: int) -> Path:
    return RESULTS / f"{method}-s{seed}.json"


def reproduce(methods: list[str], seeds: list[int]) -> None:
    """Train what is missing, or was stored by other code or settings; then rebuild the table."""
    for seed in seeds:
        for method in methods:
            stored_run(protocol_config(method, seed), result_path(method, seed), RESULTS, keep=KEPT)
        write_table()


def current_runs(method: str) -> tuple[list[dict[str, Any]], list[int]]:
    """The method's stored runs that are runs of today's protocol and code, and the seeds of those
    that are not (stale: trained by other code or settings)."""
    current, stale = [], []
    for path in sorted(RESULTS.glob(f"{method}-s*.json")):
        seed = int(path.stem.rsplit("-s", 1)[1])
        record = current_record(protocol_config(method, seed), path)
        if record is None:
            stale.append(seed)
        else:
            current.append(record)
    return current, stale


def _cell(values: list[float], scale: float = 100.0, digits: int = 1) -> str:
    mean, sem = mean_sem([v * scale for v in values])
    return f"{mean:.{digits}f} ± {sem:.{digits}f}" if len(values) > 1 else f"{mean:.{digits}f}"


def write_table() -> None:
    rows, stale = [], []
    for method in METHODS:
        runs, outdated = current_runs(method)
        stale += [f"{method} (seeds {', '.join(map(str, outdated))})"] if outdated else []
        if not runs:
            continue
        on = [r["online"] for r in runs]
        forgetting = [sum(o["anytime_forgetting"]) / len(o["anytime_forgetting"]) for o in on]
        rows.append(
            f"| {method} | {runs[0]['config']['boundaries']} | {len(runs)} "
            f"| {_cell([r['average_accuracy'] for r in runs])} "
            f"| {_cell([o['anytime_auc'] for o in on])} "
            f"| {_cell(forgetting)} "
            f"| {_cell([o['online_accuracy'] for o in on])} "
            f"| {statistics.median(o['samples_per_second'] for o in on):.0f} "
            f"| {statistics.mean(o['forward_per_sample'] for o in on):.1f} "
            f"| {statistics.mean(o['backward_per_sample'] for o in on):.1f} |"
        )
    text = f"""### Online class-incremental Split MNIST (MIR / GDumb protocol)

Written by `bench/online.py repro` (per-run files in `bench/results/online/`). Split MNIST, 5 tasks
of 2 digits, class-incremental, 1000 training samples per task, **one pass in batches of 10**, MLP
784-400-400-10, SGD lr 0.1, memory {MEMORY} examples, 10 replayed per step (A-GEM: g_ref on 256),
GDumb retrained 30 epochs (batch 16) before each evaluation. Boundaries *hidden* = task-free (no task
id, no task end given to the learner); A-GEM uses its per-task memories with *known* boundaries.
Final accuracy: mean over the 5 tasks of the full test set after the stream (%, mean ± s.e.m. over
seeds). Anytime AUC: anytime accuracy (mean over the tasks that have appeared) every 100 samples
on 1000 test samples per task, averaged over the stream. Forgetting: drop from each task's best
anytime accuracy to its final one, mean over tasks 1-4. Online accuracy: prequential (each batch
predicted before training on it). Samples/s: training only (evaluation excluded; median, 1 thread,
on a shared 2-core machine, so indicative). Passes: samples forwarded / backpropagated per incoming
sample. Hyperparameters are not tuned (defaults above); DER++ uses lifelong's defaults
alpha 0.1, beta 0.5; tf-mas (task-free MAS, no replay memory) lifelong's defaults: a hard buffer of
30 examples, strength 1, importance updated at loss plateaus (window 5, mean < 0.2, variance < 0.1).

| method | boundaries | seeds | final acc. (%) | anytime AUC (%) | forgetting (%) | online acc. (%) | samples/s | fwd/sample | bwd/sample |
|---|---|---|---|---|---|---|---|---|---|
{chr(10).join(rows)}
"""
    if stale:
        text += (
            "\nNot in the table: stored runs made by other code or settings (re-run `python "
            f"bench/online.py repro` to train them again): {'; '.join(stale)}.\n"
        )
    update_section("docs/results.md", "online-split-mnist", text)


# ------------------------------------------------------------------------------------ speed
def bare_loop(config: RunConfig) -> tuple[float, float]:
    """Samples per CPU second and per wall second of a plain PyTorch online ER loop on the scenario
    lifelong builds."""
    scenario = build_run_scenario(resolve(config))
    torch.manual_seed(config.seed)
    model = torch.nn.Sequential(
        torch.nn.Flatten(),
        torch.nn.Linear(784, 400),
        torch.nn.ReLU(),
        torch.nn.Linear(400, 400),
        torch.nn.ReLU(),
        torch.nn.Linear(400, 10),
    )
    optimizer = torch.optim.SGD(model.parameters(), lr=config.training.lr)
    task_ids = torch.cat(
        [torch.full((len(t.train_indices),), t.index, dtype=torch.long) for t in scenario]
    )
    indices = torch.cat([t.train_indices for t in scenario])
    capacity, seen = MEMORY, 0
    mem_x = torch.zeros(capacity, 1, 28, 28)
    mem_y = torch.zeros(capacity, dtype=torch.long)
    generator = torch.Generator().manual_seed(1)
    mask = torch.zeros(10, dtype=torch.bool)
    started, cpu = time.perf_counter(), time.process_time()
    for start in range(0, len(indices), config.training.batch_size):
        ids, idx = task_ids[start : start + 10], indices[start : start + 10]
        x, y = scenario.train_batch(ids, idx)
        mask[y] = True
        size = min(seen, capacity)
        if size:
            pick = torch.randperm(size, generator=generator)[:10]
            x_all, y_all = torch.cat([x, mem_x[pick]]), torch.cat([y, mem_y[pick]])
        else:
            x_all, y_all = x, y
        logits = model(x_all).masked_fill(~mask, -1e9)
        loss = torch.nn.functional.cross_entropy(logits, y_all)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        n = seen + torch.arange(len(y))
        draw = (torch.rand(len(y), generator=generator, dtype=torch.float64) * (n + 1)).long()
        slots = torch.where(n < capacity, n, draw)
        keep = slots < capacity
        mem_x[slots[keep]], mem_y[slots[keep]] = x[keep], y[keep]
        seen += len(y)
    n = len(indices)
    return n / (time.process_time() - cpu), n / (time.perf_counter() - started)


def speed(repeats: int, samples_per_task: int) -> None:
    config = RunConfig.of(
        **{**PROTOCOL, "train_samples_per_task": samples_per_task, "anytime_every": 0},
        strategy="er",
        strategy_params={"buffer_size": MEMORY, "replay_batch_size": 10, "storage": "float32"},
        boundaries="hidden",
        prequential=False,
    )
    load_before = os.getloadavg()[0]
    run(config, write=False), bare_loop(config)  # warm-up (allocator, kernels), not counted
    ours, bare = [], []
    for _ in range(repeats):
        online = run(config, write=False).metrics["online"]
        ours.append((online["samples_per_cpu_second"], online["samples_per_second"]))
        bare.append(bare_loop(config))
        print(f"lifelong {ours[-1][0]:.0f}/cpu-s, bare {bare[-1][0]:.0f}/cpu-s", flush=True)
    o, b = (statistics.median(v[0] for v in runs) for runs in (ours, bare))
    ow, bw = (statistics.median(v[1] for v in runs) for runs in (ours, bare))
    preq = run(config.replace(prequential=True), write=False).metrics["online"]
    load_after = os.getloadavg()[0]
    text = f"""### Online ER: lifelong's loop vs a bare PyTorch loop

Written by `bench/online.py speed`. Online ER on class-incremental Split MNIST ({samples_per_task}
samples per task, 5 tasks, hidden boundaries), batch 10, 10 replayed from a reservoir of {MEMORY},
MLP 784-400-400-10, SGD, one thread. The bare loop does the same work on the same tensors (batch
gather, forward/backward on batch + replay, step, vectorised reservoir insertion) without hooks,
observers, pass counting or checkpoints. After one warm-up run of each, training samples per
second of process CPU time
(evaluation excluded; robust to other processes on this shared machine) and per wall second,
median of {repeats} alternated runs. {os.cpu_count()} cores; load average over the last minute
{load_before:.1f} at the start, {load_after:.1f} at the end.

| loop | samples/CPU-s | ratio | samples/wall-s | ratio |
|---|---|---|---|---|
| bare PyTorch | {b:.0f} | 1.00 | {bw:.0f} | 1.00 |
| lifelong `--online --no-prequential` | {o:.0f} | {o / b:.2f} | {ow:.0f} | {ow / bw:.2f} |
| lifelong `--online` (prequential on, one run) | {preq["samples_per_cpu_second"]:.0f} | {preq["samples_per_cpu_second"] / b:.2f} | {preq["samples_per_second"]:.0f} | {preq["samples_per_second"] / bw:.2f} |

Runs (CPU): lifelong {", ".join(f"{v[0]:.0f}" for v in ours)}; bare {", ".join(f"{v[0]:.0f}" for v in bare)}.
"""
    update_section("docs/benchmarks.md", "online-speed", text)
    print(f"ratio (CPU) {o / b:.3f}, (wall) {ow / bw:.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    rep = sub.add_parser("repro")
    rep.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    rep.add_argument("--methods", nargs="+", default=list(METHODS))
    sp = sub.add_parser("speed")
    sp.add_argument("--repeats", type=int, default=5)
    sp.add_argument("--samples-per-task", type=int, default=2000)
    sub.add_parser("table")
    args = parser.parse_args()
    torch.set_num_threads(1)
    if args.command == "repro":
        reproduce(args.methods, args.seeds)
    elif args.command == "speed":
        speed(args.repeats, args.samples_per_task)
    else:
        write_table()


if __name__ == "__main__":
    main()
