"""Continual learning on your own image folder: ``root/<class name>/<image files>``.

The script first writes a small folder of PNG images into a temporary directory (four classes of
16x16 grayscale stripe patterns with noise: horizontal, vertical, diagonal, checkerboard), then
builds a scenario from it (two tasks of two classes, class-incremental) and compares naive
fine-tuning, which forgets the first task, with experience replay.
The same folder is then read lazily, batch by batch from disk through a DataLoader with two worker
processes, as a folder larger than memory would be: the run is the same, batch for batch.

    python examples/own_image_folder.py
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

import lifelong

PATTERNS = {
    "horizontal": lambda r, c: r % 4 < 2,
    "vertical": lambda r, c: c % 4 < 2,
    "diagonal": lambda r, c: (r + c) % 4 < 2,
    "checkerboard": lambda r, c: (r // 4 + c // 4) % 2 == 0,
}


def write_folder(root: Path, per_class: int = 40, size: int = 16) -> None:
    """``per_class`` noisy PNGs of each pattern in ``root/<pattern>/``."""
    rng = np.random.default_rng(0)
    rows, cols = np.indices((size, size))
    for name, pattern in PATTERNS.items():
        (root / name).mkdir(parents=True)
        for i in range(per_class):
            shift = rng.integers(0, 4, size=2)  # the pattern at a random phase
            clean = pattern(rows + shift[0], cols + shift[1]).astype(np.float64)
            noisy = np.clip(clean * 0.6 + 0.2 + rng.normal(0, 0.25, clean.shape), 0, 1)
            Image.fromarray((noisy * 255).astype(np.uint8)).save(root / name / f"{i:03d}.png")


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "patterns"
        write_folder(root)
        options = dict(classes_per_task=2, setting="class", test_fraction=0.25, seed=0)
        scenario = lifelong.scenario_from_folder(root, **options)
        print(
            f"classes {scenario.dataset.class_names}; tasks "
            f"{[t.dataset_classes for t in scenario]}; inputs {scenario.input_shape} (uint8 on disk, "
            "scaled to [0, 1])"
        )
        runs = {}
        for strategy, params in [("naive", {}), ("er", {"buffer_size": 40})]:
            config = lifelong.RunConfig.of(
                strategy=strategy,
                strategy_params=params,
                epochs=5,
                batch_size=16,
                hidden=(128,),
                eval_every=0,
                threads=1,
            )
            runs[strategy] = lifelong.run(config, scenario=scenario, write=False)
            print(f"{strategy}: accuracy matrix (row: after task i; column: task j)")
            for row in runs[strategy].accuracy_matrix:
                print("  " + "  ".join(f"{value:.2f}" for value in row))

        lazy = lifelong.scenario_from_folder(root, lazy=True, num_workers=2, **options)
        from_disk = lifelong.run(config, scenario=lazy, write=False)  # the "er" config
        same = from_disk.accuracy_matrix == runs["er"].accuracy_matrix
        print(f"read lazily with 2 DataLoader workers: same accuracy matrix: {same}")


if __name__ == "__main__":
    main()
