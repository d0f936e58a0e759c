"""The quadratic anchor penalty shared by EWC, online EWC, SI and MAS.

Every parameter-regularization method of this family adds

    P(theta) = sum_k sum_i Omega_{k,i} (theta_i - theta*_{k,i})^2

to the task loss: one (importance Omega_k, anchor theta*_k) pair per consolidated task k (EWC), or a
single pair (online EWC, SI, MAS). The strategy multiplies P by its own constant (lambda/2 for EWC,
c for SI, lambda for MAS).

A sum of diagonal quadratics is itself a diagonal quadratic (completing the square), so
:meth:`QuadraticPenalty.consolidate` keeps ONE merged pair plus a constant, exactly:

    sum_k Omega_k (theta - theta*_k)^2 = A (theta - m)^2 + c,
    A = sum_k Omega_k,   m = sum_k Omega_k theta*_k / A,   c = sum_k Omega_k (theta*_k - m)^2.

The value and the gradient 2 A (theta - m) equal those of the separate penalties (the constant is
accumulated in float64), while memory and per-step cost stay those of one task however many tasks
were seen. The per-step cost is a few element-wise ops per parameter tensor.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import torch
from torch import nn


def _key(name: str) -> str:
    return name.replace(".", "__")


class _WeightedSquaredDistance(torch.autograd.Function):
    """``sum_n sum(omega_n * (theta_n - anchor_n)^2)`` over all parameter tensors, with the backward
    ``2 omega_n (theta_n - anchor_n)``, in one autograd node of multi-tensor (``_foreach``) ops.

    Autograd of the composed expression runs about twice as many element-wise passes, and one node
    per tensor pays the dispatch of every op once per tensor; ``bench/regularization_speed.py``
    measures the per-step cost over naive."""

    @staticmethod
    def forward(  # type: ignore[override]
        ctx, omegas: list[torch.Tensor], anchors: list[torch.Tensor], *thetas: torch.Tensor
    ) -> torch.Tensor:
        distances = torch._foreach_sub([theta.detach() for theta in thetas], anchors)
        weighted = torch._foreach_mul(distances, omegas)
        ctx.save_for_backward(*weighted)
        dots = [
            torch.dot(w.flatten(), d.flatten()) for w, d in zip(weighted, distances, strict=True)
        ]
        return torch.stack(dots).sum()

    @staticmethod
    def backward(ctx, grad_output: torch.Tensor):  # type: ignore[override]
        return None, None, *torch._foreach_mul(list(ctx.saved_tensors), 2 * grad_output)


class QuadraticPenalty(nn.Module):
    """Importance-weighted squared distance to an anchor, over a model's named parameters.

    Args:
        named_parameters: ``(name, parameter)`` pairs to regularize (shapes are taken from them).

    Buffers (in ``state_dict``): ``importance__<name>``, ``anchor__<name>``, ``constant`` and
    ``consolidations`` (how many importance/anchor pairs were merged in).
    """

    constant: torch.Tensor
    consolidations: torch.Tensor

    def __init__(self, named_parameters: Iterable[tuple[str, nn.Parameter]]) -> None:
        super().__init__()
        self.names: list[str] = []
        for name, p in named_parameters:
            self.names.append(name)
            self.register_buffer(
                f"importance__{_key(name)}", torch.zeros_like(p, dtype=torch.float32)
            )
            self.register_buffer(f"anchor__{_key(name)}", torch.zeros_like(p, dtype=torch.float32))
        self.register_buffer("constant", torch.zeros((), dtype=torch.float64))
        self.register_buffer("consolidations", torch.zeros((), dtype=torch.long))

    # ------------------------------------------------------------------ access
    def importance(self, name: str) -> torch.Tensor:
        return getattr(self, f"importance__{_key(name)}")

    def anchor(self, name: str) -> torch.Tensor:
        return getattr(self, f"anchor__{_key(name)}")

    @property
    def active(self) -> bool:
        """False until the first importance/anchor pair is added (the penalty is then zero)."""
        return bool(self.consolidations > 0)

    # ------------------------------------------------------------------ updates
    @torch.no_grad()
    def consolidate(
        self, importance: Mapping[str, torch.Tensor], anchor: Mapping[str, torch.Tensor]
    ) -> None:
        """Add a separate term ``sum_i importance_i (theta_i - anchor_i)^2`` (EWC, one per task)."""
        extra = torch.zeros((), dtype=torch.float64, device=self.constant.device)
        for name in self.names:
            A, m = self.importance(name), self.anchor(name)
            F, t = importance[name].float(), anchor[name].detach().float()
            total = A + F
            merged = torch.where(total > 0, (A * m + F * t) / total.clamp_min(1e-38), t)
            # constant of the completed square, in float64: A (m - m')^2 + F (t - m')^2
            d_old, d_new = (m - merged).double(), (t - merged).double()
            extra += (A.double() * d_old**2 + F.double() * d_new**2).sum()
            A.copy_(total)
            m.copy_(merged)
        self.constant += extra
        self.consolidations += 1

    @torch.no_grad()
    def update(
        self,
        importance: Mapping[str, torch.Tensor],
        anchor: Mapping[str, torch.Tensor],
        decay: float = 1.0,
    ) -> None:
        """One running term: ``Omega <- decay * Omega + importance``, ``anchor <- anchor``.

        Online EWC (``decay`` = gamma), SI and MAS (``decay`` = 1: importance summed over tasks).
        """
        for name in self.names:
            self.importance(name).mul_(decay).add_(importance[name].float())
            self.anchor(name).copy_(anchor[name].detach())
        self.constant.zero_()
        self.consolidations += 1

    # ------------------------------------------------------------------ value
    def forward(self, named_parameters: Iterable[tuple[str, torch.Tensor]]) -> torch.Tensor:
        """``sum_i Omega_i (theta_i - anchor_i)^2`` (+ the merge constant); 0 before any update."""
        params = dict(named_parameters)
        first = params[self.names[0]]
        if not self.active:
            return first.new_zeros(())
        omegas = [self.importance(n) for n in self.names]
        anchors = [self.anchor(n) for n in self.names]
        thetas = [params[n] for n in self.names]
        distance = _WeightedSquaredDistance.apply(omegas, anchors, *thetas)
        return self.constant.to(first.dtype) + distance

    @torch.no_grad()
    def gradient(
        self, named_parameters: Iterable[tuple[str, torch.Tensor]]
    ) -> dict[str, torch.Tensor]:
        """The analytic gradient ``2 Omega (theta - anchor)`` per parameter (no autograd)."""
        return {n: 2 * self.importance(n) * (p - self.anchor(n)) for n, p in named_parameters}
