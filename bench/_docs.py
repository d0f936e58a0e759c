"""Write a benchmark's results into a named section of a docs/ page (file-locked, atomic).

Each bench script owns one section, delimited by HTML comments, so scripts can run in parallel and
re-running one replaces only its own numbers::

    update_section("docs/results.md", "regularization-split-mnist", markdown_text)
"""

from __future__ import annotations

import fcntl
import re
from pathlib import Path

from lifelong.core.io import atomic_write_text

ROOT = Path(__file__).resolve().parents[1]


def update_section(page: str | Path, name: str, markdown: str, *, title: str | None = None) -> Path:
    """Replace (or append) section ``name`` of ``page`` with ``markdown``."""
    path = Path(page) if Path(page).is_absolute() else ROOT / page
    path.parent.mkdir(parents=True, exist_ok=True)
    begin, end = f"<!-- begin:{name} -->", f"<!-- end:{name} -->"
    block = f"{begin}\n{markdown.strip()}\n{end}"
    with open(path.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        text = path.read_text() if path.exists() else f"# {title or path.stem.title()}\n"
        pattern = re.compile(re.escape(begin) + r".*?" + re.escape(end), re.S)
        text = (
            pattern.sub(lambda _: block, text)
            if pattern.search(text)
            else text.rstrip() + "\n\n" + block + "\n"
        )
        atomic_write_text(path, text)  # complete or absent, with the user's file mode
    return path


def mean_sem(values: list[float]) -> tuple[float, float]:
    """Mean and standard error of the mean (0 for a single value)."""
    import numpy as np

    arr = np.asarray(values, dtype=float)
    if len(arr) < 2:
        return float(arr.mean()), 0.0
    return float(arr.mean()), float(arr.std(ddof=1) / np.sqrt(len(arr)))
