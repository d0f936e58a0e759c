"""The per-iteration CSV log of a run (``log.csv``), an observer the runner attaches."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from lifelong.core.events import Observer


class CsvLog(Observer):
    """Append ``kind,task,iteration,global_iteration,value...`` rows to a CSV file.

    Loss rows are written every iteration; accuracy rows at every evaluation (``global_iteration``
    -1: the evaluation at the end of ``task``; ``test_loss`` rows on a language-modelling stream). Lines are flushed as written, so a killed run's log
    is complete up to the kill.

    Args:
        append: continue an existing log.
        until: with ``append``, first drop rows written after a checkpoint at (task, global
            iteration): a resumed run writes them again.
    """

    HEADER = "kind,task,iteration,global_iteration,values\n"

    def __init__(
        self, path: Path, *, append: bool = False, until: tuple[int, int] | None = None
    ) -> None:
        self.path = Path(path)
        new = not (append and self.path.exists())
        if not new and until is not None:
            kept = [
                line
                for line in self.path.read_text().splitlines(keepends=True)[1:]
                if line.endswith("\n") and _before(line, *until)
            ]
            self.path.write_text(self.HEADER + "".join(kept))
        self.handle = self.path.open("w" if new else "a", buffering=1)
        self.evaluation_kind = "accuracy"
        if new:
            self.handle.write(self.HEADER)

    def run_started(self, info: dict[str, Any]) -> None:
        self.evaluation_kind = "test_loss" if info.get("objective") == "lm" else "accuracy"

    def iteration_done(self, task: int, iteration: int, global_iteration: int, loss: float) -> None:
        self.handle.write(f"loss,{task},{iteration},{global_iteration},{loss:.6g}\n")

    def evaluated(self, global_iteration: int, task: int, accuracies: Sequence[float]) -> None:
        values = ";".join(f"{a:.4f}" for a in accuracies)
        self.handle.write(f"{self.evaluation_kind},{task},,{global_iteration},{values}\n")

    def task_done(self, task: int, accuracies: Sequence[float]) -> None:
        self.evaluated(-1, task, accuracies)
        self.handle.flush()

    def close(self) -> None:
        if not self.handle.closed:
            self.handle.close()


def _before(line: str, task: int, global_iteration: int) -> bool:
    """Whether a log row was written before a checkpoint at (``task``, ``global_iteration``)."""
    parts = line.split(",", 4)
    try:
        row_task, row_global = int(parts[1]), int(parts[3])
    except (IndexError, ValueError):
        return False
    if row_global == -1:
        return row_task < task
    return row_global <= global_iteration
