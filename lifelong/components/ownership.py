"""Weight ownership for pruning-based methods (PackNet, Mallya & Lazebnik 2018).

An integer tensor the shape of a weight: 0 = free, k + 1 = owned by task k. Disjoint task masks
follow by construction; task j's network is the weights owned by tasks 0..j.
"""

from __future__ import annotations

import torch


@torch.no_grad()
def claim_largest(weight: torch.Tensor, owner: torch.Tensor, share: float, label: int) -> None:
    """Give ``label`` the ``share`` of the free entries with the largest |w|; zero the other free
    entries (they stay free for later tasks)."""
    free = owner == 0
    keep = round(share * int(free.sum()))
    scores = weight.abs().masked_fill(~free, -1.0).flatten()
    owner.view(-1)[scores.topk(keep).indices] = label
    weight.masked_fill_(owner == 0, 0.0)


def owned_up_to(owner: torch.Tensor, task: int) -> torch.Tensor:
    """Mask of the entries owned by tasks 0..``task``."""
    return (owner > 0) & (owner <= task + 1)
