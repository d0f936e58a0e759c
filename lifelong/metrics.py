"""Continual-learning metrics as pure functions of the accuracy matrix.

Notation: ``R`` is a T x T matrix with ``R[i][j]`` the test accuracy (a fraction in [0, 1]) on task
``j`` after training on tasks ``0..i``. Rows are training steps, columns are tasks. ``b[j]`` is the
accuracy of the randomly initialised model on task ``j``, evaluated the way ``R[j-1][j]`` is.

"Forgetting" has several definitions in the literature; lifelong uses the one of Chaudhry et al. 2018
("Riemannian Walk"): the drop from the best accuracy a task ever had before the end to its final
accuracy. Backward transfer is the GEM definition (Lopez-Paz & Ranzato 2017), which compares with the
accuracy right after learning the task instead of the best one.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

Matrix = Sequence[Sequence[float]] | np.ndarray


def _square(R: Matrix) -> np.ndarray:
    matrix = np.asarray(R, dtype=float)
    if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1] or matrix.shape[0] == 0:
        raise ValueError(
            f"the accuracy matrix must be square and non-empty, got shape {matrix.shape}"
        )
    return matrix


def average_accuracy(R: Matrix) -> float:
    """ACC = (1/T) * sum_j R[T-1][j]: mean final accuracy over all tasks."""
    return float(_square(R)[-1].mean())


def average_accuracy_curve(R: Matrix) -> list[float]:
    """ACC_i = (1/(i+1)) * sum_{j<=i} R[i][j]: mean accuracy on the tasks seen after each task."""
    m = _square(R)
    return [float(m[i, : i + 1].mean()) for i in range(len(m))]


def learning_accuracy(R: Matrix) -> list[float]:
    """LA_j = R[j][j]: accuracy on each task right after learning it (plasticity)."""
    return [float(v) for v in np.diag(_square(R))]


def forgetting_per_task(R: Matrix) -> list[float]:
    """f_j = max_{i<T-1} R[i][j] - R[T-1][j] for j < T-1 (Chaudhry et al. 2018).

    The maximum runs over training steps ``i >= j`` (before task ``j`` is learned its accuracy is not
    knowledge that can be forgotten). The last task has no forgetting and is omitted.
    """
    m = _square(R)
    T = len(m)
    return [float(m[j : T - 1, j].max() - m[T - 1, j]) for j in range(T - 1)]


def average_forgetting(R: Matrix) -> float:
    """F = (1/(T-1)) * sum_{j<T-1} f_j; 0 for a single task."""
    values = forgetting_per_task(R)
    return float(np.mean(values)) if values else 0.0


def max_forgetting(R: Matrix) -> float:
    """max_{j<T-1} f_j; 0 for a single task."""
    values = forgetting_per_task(R)
    return float(max(values)) if values else 0.0


def backward_transfer(R: Matrix) -> float:
    """BWT = (1/(T-1)) * sum_{j<T-1} (R[T-1][j] - R[j][j]) (Lopez-Paz & Ranzato 2017).

    Negative values mean forgetting; positive values mean later tasks helped earlier ones.
    """
    m = _square(R)
    T = len(m)
    if T < 2:
        return 0.0
    return float(np.mean([m[T - 1, j] - m[j, j] for j in range(T - 1)]))


def forward_transfer(R: Matrix, baseline: Sequence[float]) -> float:
    """FWT = (1/(T-1)) * sum_{j>0} (R[j-1][j] - b[j]) (Lopez-Paz & Ranzato 2017).

    ``baseline[j]`` is the accuracy of the randomly initialised model on task ``j``.
    """
    m = _square(R)
    T = len(m)
    b = np.asarray(baseline, dtype=float)
    if b.shape != (T,):
        raise ValueError(f"baseline must have one accuracy per task ({T}), got {b.shape}")
    if T < 2:
        return 0.0
    return float(np.mean([m[j - 1, j] - b[j] for j in range(1, T)]))


def learning_curve(points: Matrix) -> list[float]:
    """Z_b = (1/T) * sum_k a[k][b] for b = 0..beta (Chaudhry et al. 2019, "Efficient Lifelong
    Learning with A-GEM"), where ``points[k][b]`` = a[k][b] is the accuracy on task ``k``
    after its first ``b`` mini-batches (b = 0: before it trains): the average b-shot accuracy."""
    matrix = np.asarray(points, dtype=float)
    if matrix.ndim != 2 or matrix.size == 0:
        raise ValueError(
            f"learning-curve points must be a non-empty tasks x (beta + 1) table, got shape "
            f"{matrix.shape}"
        )
    return [float(v) for v in matrix.mean(axis=0)]


def learning_curve_area(points: Matrix) -> float:
    """LCA_beta = (1/beta) * integral_0^beta Z_b db by the trapezoidal rule (Z_0 when beta = 0):
    the area under the average b-shot accuracy curve as a fraction of a perfect learner's, how
    fast a new task is picked up (Chaudhry et al. 2019). The trapezoidal rule and the 1/beta are
    how the paper's published LCA_10 values were computed (``plotting_code/agem_plots.ipynb`` of
    facebookresearch/agem, 32d1144)."""
    curve = np.asarray(learning_curve(points))
    if len(curve) == 1:
        return float(curve[0])
    beta = len(curve) - 1
    return float(((curve[:-1] + curve[1:]) / 2).sum() / beta)


def summarize(R: Matrix, baseline: Sequence[float] | None = None) -> dict[str, object]:
    """All matrix metrics in one dict (the keys written to metrics.json)."""
    summary: dict[str, object] = {
        "average_accuracy": average_accuracy(R),
        "average_accuracy_curve": average_accuracy_curve(R),
        "learning_accuracy": learning_accuracy(R),
        "forgetting_per_task": forgetting_per_task(R),
        "average_forgetting": average_forgetting(R),
        "max_forgetting": max_forgetting(R),
        "backward_transfer": backward_transfer(R),
        "forward_transfer": forward_transfer(R, baseline) if baseline is not None else None,
    }
    return summary


# ------------------------------------------------------------------------------ language models
# ``L`` is a T x T matrix with ``L[i][j]`` the mean per-token loss (next-token cross-entropy, in
# nats) on text domain ``j`` after training on domains ``0..i``: the accuracy matrix's counterpart
# for language models, where LOWER is better. Forgetting is therefore an INCREASE of a domain's loss.


def perplexity_matrix(L: Matrix) -> list[list[float]]:
    """PPL[i][j] = exp(L[i][j]): the perplexity of every entry of the loss matrix."""
    return np.exp(_square(L)).tolist()


def average_loss(L: Matrix) -> float:
    """(1/T) * sum_j L[T-1][j]: mean final loss over all domains (lower is better)."""
    return float(_square(L)[-1].mean())


def loss_forgetting_per_task(L: Matrix) -> list[float]:
    """f_j = L[T-1][j] - min_{j<=i<T-1} L[i][j], for j < T-1: how much a domain's loss rose from
    its best value before the last domain to its final value (positive = forgotten; the Chaudhry
    et al. 2018 definition with the direction flipped for a loss)."""
    m = _square(L)
    T = len(m)
    return [float(m[T - 1, j] - m[j : T - 1, j].min()) for j in range(T - 1)]


def average_loss_forgetting(L: Matrix) -> float:
    """Mean of :func:`loss_forgetting_per_task` (0 for a single domain)."""
    f = loss_forgetting_per_task(L)
    return float(np.mean(f)) if f else 0.0


def loss_backward_transfer(L: Matrix) -> float:
    """(1/(T-1)) * sum_{j<T-1} (L[j][j] - L[T-1][j]): positive when later domains LOWERED the
    loss of earlier ones (sign chosen so that, as for accuracy, positive is good)."""
    m = _square(L)
    T = len(m)
    if T < 2:
        return 0.0
    return float(np.mean([m[j, j] - m[T - 1, j] for j in range(T - 1)]))


def summarize_losses(L: Matrix) -> dict[str, object]:
    """Every language-model metric of a loss matrix, by name (directions in the names' docs)."""
    return {
        "loss_matrix": _square(L).tolist(),
        "perplexity_matrix": perplexity_matrix(L),
        "average_loss": average_loss(L),
        "average_perplexity": float(np.exp(average_loss(L))),
        "loss_forgetting_per_task": loss_forgetting_per_task(L),
        "average_loss_forgetting": average_loss_forgetting(L),
        "loss_backward_transfer": loss_backward_transfer(L),
    }


# ---------------------------------------------------------------------- online streams (issue 14)
# Notation: an online run is evaluated at K points; point k comes after n_k stream samples
# (0 < n_1 < ... < n_K = N, the stream's length), gives accuracies A[k][j] on every task j, and
# s_k tasks have appeared in the stream by then (at least one of their samples was seen).


def anytime_accuracy(accuracies: Matrix, tasks_appeared: Sequence[int]) -> list[float]:
    """a_k = (1/s_k) * sum_{j<s_k} A[k][j]: mean accuracy on the tasks that have appeared by point k.

    Tasks appear in stream order (task j before task j+1), so they are the first s_k columns.
    """
    A = np.asarray(accuracies, dtype=float)
    if A.ndim != 2 or len(A) != len(tasks_appeared):
        raise ValueError("one row of accuracies and one task count per evaluation point")
    if any(not 1 <= s <= A.shape[1] for s in tasks_appeared):
        raise ValueError(f"task counts must be in [1, {A.shape[1]}], got {list(tasks_appeared)}")
    return [float(A[k, :s].mean()) for k, s in enumerate(tasks_appeared)]


def area_under_anytime_curve(samples: Sequence[int], anytime: Sequence[float]) -> float:
    """AUC = (1/n_K) * sum_k a_k * (n_k - n_{k-1}), n_0 = 0: the anytime accuracy averaged over the
    stream, each point standing for the samples since the previous one (Koh et al. 2022, "Online
    Continual Learning on Class Incremental Blurry Task Configuration with Anytime Inference",
    A_AUC, normalised by the stream length)."""
    n = np.asarray(samples, dtype=float)
    a = np.asarray(anytime, dtype=float)
    if len(n) == 0 or len(n) != len(a) or np.any(np.diff(n) <= 0) or n[0] <= 0:
        raise ValueError("need increasing positive sample counts, one per anytime accuracy")
    widths = np.diff(np.concatenate([[0.0], n]))
    return float((a * widths).sum() / n[-1])


def anytime_forgetting(accuracies: Matrix, tasks_appeared: Sequence[int]) -> list[float]:
    """g_j = max_{k: s_k > j} A[k][j] - A[K][j] for each task j < T-1 that appeared: the drop from a
    task's best accuracy at any evaluation point after it appeared to its final accuracy (forgetting
    relative to the best, as Chaudhry et al. 2018, on the anytime points instead of task ends).
    The last task is omitted (as in :func:`forgetting_per_task`)."""
    A = np.asarray(accuracies, dtype=float)
    s = np.asarray(tasks_appeared)
    if A.ndim != 2 or len(A) != len(s) or len(A) == 0:
        raise ValueError("one row of accuracies and one task count per evaluation point")
    T = A.shape[1]
    return [float(A[s > j, j].max() - A[-1, j]) for j in range(T - 1) if (s > j).any()]


def anytime_class_forgetting(
    class_accuracies: Sequence[Sequence[float | None]],
) -> list[float | None]:
    """f_c = max_k C[k][c] - C[K][c] per output unit (class) c, over the points k where C[k][c] is
    defined: the drop from a class's best anytime accuracy to its final one. ``C[k][c]`` is the
    accuracy on the evaluation samples with target c among the tasks that had appeared by point k
    (``None``: no such sample yet). ``None`` for a class without a final value."""
    C = np.asarray(
        [[np.nan if v is None else v for v in row] for row in class_accuracies], dtype=float
    )
    if C.ndim != 2 or len(C) == 0:
        raise ValueError("need one row of per-class accuracies per evaluation point")
    best = np.nanmax(np.where(np.isnan(C), -np.inf, C), axis=0)
    return [None if np.isnan(C[-1, c]) else float(best[c] - C[-1, c]) for c in range(C.shape[1])]


def average_class_forgetting(
    class_accuracies: Sequence[Sequence[float | None]],
    tasks_appeared: Sequence[int],
    num_tasks: int,
) -> float | None:
    """Mean of :func:`anytime_class_forgetting` over the classes evaluated at some point before
    the last task appeared (``s_k < T``): as task forgetting omits the last task, classes that only
    the last task brings are left out. ``None`` if there are none."""
    forgetting = anytime_class_forgetting(class_accuracies)
    early = [
        c
        for c in range(len(forgetting))
        if forgetting[c] is not None
        and any(
            row[c] is not None
            for row, s in zip(class_accuracies, tasks_appeared, strict=True)
            if s < num_tasks
        )
    ]
    values = [f for c in early if (f := forgetting[c]) is not None]
    return float(np.mean(values)) if values else None


def online_accuracy(correct: int, tested: int) -> float | None:
    """Prequential (test-then-train) accuracy: correct / tested over the incoming samples, each
    predicted before the model trains on it; ``None`` when nothing was tested."""
    return correct / tested if tested else None


def compute_cost(samples: int, seconds: float, forward: int, backward: int) -> dict[str, float]:
    """Compute per incoming sample: ``samples_per_second = N / seconds`` (training time, evaluation
    excluded), ``forward_per_sample = F / N`` and ``backward_per_sample = B / N`` where F and B
    count samples passed forward and backward through the model in training (1 and 1 for plain
    fine-tuning; replay, MIR's search and GDumb's retraining add to them)."""
    if samples <= 0:
        raise ValueError("the stream has no samples")
    return {
        "samples_per_second": samples / seconds if seconds > 0 else float("inf"),
        "forward_per_sample": forward / samples,
        "backward_per_sample": backward / samples,
    }
