"""Knowledge distillation (Hinton et al. 2015) as used by LwF (Li & Hoiem 2016), iCaRL, DER, ...

With temperature T, teacher logits z and student logits s over the same units::

    q_i = softmax(z / T)_i,    log q^_i = log_softmax(s / T)_i,
    L_KD = -T^2 * sum_i q_i log q^_i

averaged over every leading dimension (samples, and heads if the logits are grouped as
(B, K, units)).
The T^2 factor keeps the gradient scale independent of T (Hinton et al. 2015). This is the
cross-entropy form of LwF's L_old; it differs from KL(q || q^) by the teacher's entropy, a constant
that has no gradient.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def distillation_loss(
    student_logits: torch.Tensor, teacher_logits: torch.Tensor, temperature: float = 2.0
) -> torch.Tensor:
    """Mean over leading dimensions of ``-T^2 sum_i q_i log q^_i`` over the last dimension.

    Args:
        student_logits: (..., units) logits of the model being trained.
        teacher_logits: (..., units) logits of the frozen model (no gradient flows into them).
        temperature: T > 0; 1 gives the plain cross-entropy to the teacher's probabilities.
    """
    if temperature <= 0:
        raise ValueError(f"temperature must be > 0, got {temperature}")
    if student_logits.shape != teacher_logits.shape:
        raise ValueError(
            f"student logits {tuple(student_logits.shape)} and teacher logits "
            f"{tuple(teacher_logits.shape)} differ in shape"
        )
    targets = F.softmax(teacher_logits.detach() / temperature, dim=-1)
    log_predictions = F.log_softmax(student_logits / temperature, dim=-1)
    per_row = -(targets * log_predictions).sum(-1)
    return per_row.mean() * temperature**2
