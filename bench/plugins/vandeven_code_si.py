"""SI as van de Ven & Tolias' code runs it, a diagnosis of ``vandeven-diagnosis``'s ``si-c50`` row.

Zenke et al. accumulate the path integral of the task loss alone,
W_i += -g_i (theta_i(after step) - theta_i(before step)) with g the gradient of the current task's
loss, and lifelong's ``si`` follows them (it removes the penalty's analytic gradient from the
loop's). The paper's code (GMvandeVen/continual-learning at f0b1461, ``train.py`` 245-250) takes g
from ``p.grad`` after ``loss_total.backward()``, and ``encoder.py`` 200-202 has already added
c * (the surrogate loss) to ``loss_total``: its path integral is that of the total loss, penalty
included, which makes W smaller (or negative) wherever the penalty pulls a parameter back. Everything
else (omega = W / (Delta^2 + xi), Omega summed over tasks, the anchor at each task's end) is
lifelong's ``si``.

This is a plugin for the ``si-c50-code`` row of ``bench/protocols.py``, not a method.
"""

from __future__ import annotations

import torch

from lifelong import Batch, register
from lifelong.strategies.si import SI


@register
class VandevenCodeSI(SI):
    """SI whose path integral follows the gradient of the total loss, penalty included."""

    name = "si-vandeven-code"
    paper = "van de Ven & Tolias 2019's code (f0b1461): SI of Zenke et al. 2017 on the total loss"

    @torch.no_grad()
    def after_backward(self, batch: Batch) -> None:
        self._step = [
            (p.grad.clone() if p.grad is not None else torch.zeros_like(p), p.detach().clone())
            for p in self._params()
        ]
