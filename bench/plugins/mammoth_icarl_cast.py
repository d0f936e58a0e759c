"""iCaRL with the exemplar cast of Mammoth's MNIST code, a diagnosis of the Seq-MNIST iCaRL rows.

Mammoth's iCaRL (``models/icarl.py``, ``begin_task``, from commit 5dc82be on) appends the stored
exemplars to the next task's MNIST training tensor as ``examples.type(torch.uint8)``. The exemplars
are floats in [0, 1], so the cast keeps 1 where a pixel is exactly 1 and 0 elsewhere, and the MNIST
loader's ``ToTensor`` divides by 255: the network trains on nearly blank images (pixels 0 or 1/255)
labelled as the old classes. The class means of the nearest-mean classifier still come from the
real exemplars. This strategy reproduces that cast on the exemplars lifelong replays, and changes
nothing else (lifelong replays ``replay_batch_size`` exemplars per step instead of appending them to
the task's data). It is a plugin for ``bench/protocols.py``'s ``-mammoth-cast`` rows, not a method.
"""

from __future__ import annotations

from dataclasses import replace

import torch

from lifelong import register
from lifelong.components.buffer import Replay
from lifelong.strategies.icarl import ICaRL


@register
class ICaRLMammothCast(ICaRL):
    """iCaRL whose replayed exemplars are cast as Mammoth's MNIST code casts them."""

    name = "icarl-mammoth-cast"

    def exemplar_batch(self) -> Replay:
        exemplars = super().exemplar_batch()
        return replace(exemplars, x=exemplars.x.to(torch.uint8).float() / 255)
