"""Test configuration: one torch thread, real data from ../shared/data, tiny scenario helpers."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"

# Two OpenMP threads competing with other processes on a 2-core machine slow small models 10x+.
torch.set_num_threads(1)
os.environ.setdefault("LIFELONG_DATA", str(SHARED_DATA))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real MNIST / Fashion-MNIST files; their absence is a failure, not a skip."""
    assert (SHARED_DATA / "mnist" / "train-images-idx3-ubyte.gz").is_file(), (
        f"real data expected in {SHARED_DATA} (see ../shared/data/README.md)"
    )
    return SHARED_DATA


@pytest.fixture
def tiny_config():
    """A RunConfig factory for fast runs on split-digits."""
    from lifelong import RunConfig

    def make(**changes):
        base = dict(
            benchmark="split-digits",
            scenario="class",
            strategy="naive",
            iterations=20,
            batch_size=32,
            hidden=(32,),
            eval_every=0,
            seed=0,
            tasks=5,
        )
        base.update(changes)
        return RunConfig(**base)

    return make
