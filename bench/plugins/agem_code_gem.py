"""GEM as the A-GEM paper's code runs it, a diagnosis of ``agem-permuted``'s GEM row.

The A-GEM paper's GEM numbers come from its TensorFlow code before GEM left it (facebookresearch/agem
at 77c5244^, the parent of "Removing GEM code from the master branch"). At each step of task t it
stores the gradient of every past task's memory as row k of a matrix G (``fc_permute_mnist.py``
294-307, ``store_ref_grads``), checks ``G g < 0`` against the current batch's gradient g, and on a
violation applies ``project2cone2(G[t], G[:t])`` (``model/model.py`` 1165-1176): the row of the
*current* task, not g. Row t is first written while task t + 1 trains, so during task t it still holds
its initial zeros, and the dual QP (``utils/gem_utils.py``, margin 0.5)::

    min_v 1/2 v^T G G^T v - (G 0)^T v   s.t.   v >= margin,      z = G^T v + 0

returns a positive combination of the memory gradients alone: a step that violates a constraint
drops the current batch and descends on the memories instead. (The same call on g is built two
lines later, as ``proj``, and never used.) Everything else is lifelong's ``gem``: the
check, the QP with quadprog, the margin. The code's memory holds 25 examples per class drawn
uniformly from the task's training set at its end; lifelong's ``task-reservoir`` 250 examples drawn
uniformly from the task's stream.

lifelong's ``gem`` follows Lopez-Paz & Ranzato. This is a plugin for the ``gem-agem-code`` row of
``bench/protocols.py``, not a method.
"""

from __future__ import annotations

import torch

from lifelong import register
from lifelong.strategies.gem import GEM


@register
class AGEMCodeGEM(GEM):
    """GEM whose violating steps follow the memory gradients alone (the code's zero row G[t])."""

    name = "gem-agem-code"
    paper = "Chaudhry et al. 2019 (A-GEM)'s code at 77c5244^: GEM of Lopez-Paz & Ranzato 2017"

    def project(self, g: torch.Tensor, G: torch.Tensor) -> torch.Tensor:
        return super().project(torch.zeros_like(g), G)
