"""Gradient projections of GEM (Lopez-Paz & Ranzato 2017) and A-GEM (Chaudhry et al. 2019).

Both take the current gradient ``g`` (flattened over the trainable parameters) and gradients of the
loss on episodic memories, and return the update direction ``g~``:

* GEM: ``min_z 1/2 ||g - z||^2  s.t.  <z, g_k> >= 0`` for every past task k. With ``G`` the (T x P)
  matrix of memory gradients, it is solved in its dual (T x T)::

      min_v 1/2 v^T G G^T v + g^T G^T v   s.t.  v >= margin,     z = G^T v + g

  with ``quadprog`` as in the authors' code (where ``margin`` = ``memory_strength`` biases the
  update towards improving the memories; 0 gives the exact projection).
* A-GEM: one constraint on the average memory gradient ``g_ref``, in closed form::

      z = g - (<g, g_ref> / <g_ref, g_ref>) g_ref   if <g, g_ref> < 0, else g
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import quadprog
import torch


def flat_grad(params: Sequence[torch.nn.Parameter]) -> torch.Tensor:
    """Concatenate ``p.grad`` of ``params`` (zeros for parameters without a gradient)."""
    return torch.cat(
        [(p.grad if p.grad is not None else torch.zeros_like(p)).reshape(-1) for p in params]
    )


def assign_flat_grad(params: Sequence[torch.nn.Parameter], flat: torch.Tensor) -> None:
    """Write a flattened gradient back into ``p.grad``."""
    offset = 0
    for p in params:
        n = p.numel()
        p.grad = flat[offset : offset + n].view_as(p).clone()
        offset += n


def flatten(
    grads: Iterable[torch.Tensor | None],
    params: Sequence[torch.nn.Parameter],
    batch: int | None = None,
) -> torch.Tensor:
    """Flatten gradients returned by ``torch.autograd.grad`` (``batch`` rows if batched)."""
    parts = []
    for g, p in zip(grads, params, strict=True):
        if g is None:
            g = torch.zeros((batch, *p.shape) if batch else p.shape, device=p.device)
        parts.append(g.reshape(batch, -1) if batch else g.reshape(-1))
    return torch.cat(parts, dim=-1)


def agem_project(g: torch.Tensor, g_ref: torch.Tensor) -> torch.Tensor:
    """A-GEM: remove the component of ``g`` that opposes ``g_ref`` (unchanged if it does not)."""
    dot = torch.dot(g, g_ref)
    if dot >= 0:
        return g
    return g - dot / torch.dot(g_ref, g_ref).clamp_min(1e-12) * g_ref


def gem_project(
    g: torch.Tensor, memories: torch.Tensor, margin: float = 0.0, eps: float = 1e-3
) -> torch.Tensor:
    """GEM: the projection of ``g`` onto ``{z : memories @ z >= 0}`` via the dual QP.

    Args:
        g: current gradient (P,).
        memories: one memory gradient per row (T, P).
        margin: lower bound on the dual variables (GEM's ``memory_strength``).
        eps: ridge added to the dual's Hessian ``G G^T`` so quadprog sees a positive definite
        matrix.

    Raises:
        ValueError: quadprog found the problem infeasible or failed; callers fall back.
    """
    G = memories.double().cpu().numpy()
    gg = g.double().cpu().numpy()
    t = G.shape[0]
    P = G @ G.T
    P = 0.5 * (P + P.T) + eps * np.eye(t)
    q = -(G @ gg)
    v = quadprog.solve_qp(P, q, np.eye(t), np.zeros(t) + margin)[0]
    z = G.T @ v + gg
    if not np.all(np.isfinite(z)):
        raise ValueError("GEM projection is not finite")
    return torch.from_numpy(z).to(g)
