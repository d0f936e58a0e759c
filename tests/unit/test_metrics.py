"""Metrics against hand-computed accuracy matrices, signs included."""

from __future__ import annotations

import pytest

from lifelong import metrics as M

# R[i][j]: accuracy on task j after training task i.
R = [
    [0.90, 0.10, 0.20],
    [0.60, 0.80, 0.30],
    [0.50, 0.70, 0.95],
]
BASELINE = [0.10, 0.15, 0.25]


def test_average_accuracy_is_mean_of_last_row():
    assert M.average_accuracy(R) == pytest.approx((0.50 + 0.70 + 0.95) / 3)


def test_average_accuracy_curve_uses_seen_tasks_only():
    assert M.average_accuracy_curve(R) == pytest.approx(
        [0.90, (0.60 + 0.80) / 2, (0.50 + 0.70 + 0.95) / 3]
    )


def test_forgetting_uses_best_earlier_accuracy():
    # task 0: max(0.90, 0.60) - 0.50 = 0.40; task 1: max(0.80) - 0.70 = 0.10
    assert M.forgetting_per_task(R) == pytest.approx([0.40, 0.10])
    assert M.average_forgetting(R) == pytest.approx(0.25)
    assert M.max_forgetting(R) == pytest.approx(0.40)


def test_forgetting_ignores_accuracy_before_the_task_was_learned():
    # task 1 scored 0.9 before being trained (row 0) - that is not knowledge it can forget
    matrix = [[1.0, 0.9, 0.0], [0.5, 0.6, 0.0], [0.5, 0.6, 1.0]]
    assert M.forgetting_per_task(matrix) == pytest.approx([0.5, 0.0])


def test_forgetting_is_negative_when_accuracy_improves():
    matrix = [[0.5, 0.0], [0.7, 0.9]]
    assert M.forgetting_per_task(matrix) == pytest.approx([-0.2])


def test_backward_transfer_sign():
    # ((0.50 - 0.90) + (0.70 - 0.80)) / 2 = -0.25
    assert M.backward_transfer(R) == pytest.approx(-0.25)
    assert M.backward_transfer([[0.5, 0.0], [0.8, 0.9]]) == pytest.approx(0.3)


def test_forward_transfer_against_random_baseline():
    # ((0.10 - 0.15) + (0.30 - 0.25)) / 2 = 0.0 ; then a positive case
    assert M.forward_transfer(R, BASELINE) == pytest.approx(0.0)
    assert M.forward_transfer(R, [0.0, 0.0, 0.0]) == pytest.approx((0.10 + 0.30) / 2)
    assert M.forward_transfer(R, [0.0, 0.5, 0.5]) == pytest.approx(
        ((0.10 - 0.5) + (0.30 - 0.5)) / 2
    )


def test_learning_accuracy_is_diagonal():
    assert M.learning_accuracy(R) == pytest.approx([0.90, 0.80, 0.95])


def test_single_task_has_no_forgetting_or_transfer():
    assert M.average_forgetting([[0.7]]) == 0.0
    assert M.max_forgetting([[0.7]]) == 0.0
    assert M.backward_transfer([[0.7]]) == 0.0
    assert M.forward_transfer([[0.7]], [0.1]) == 0.0


def test_bad_shapes_are_rejected():
    with pytest.raises(ValueError, match="square"):
        M.average_accuracy([[0.1, 0.2]])
    with pytest.raises(ValueError, match="baseline"):
        M.forward_transfer(R, [0.1])


def test_summarize_has_all_keys():
    summary = M.summarize(R, BASELINE)
    for key in [
        "average_accuracy",
        "average_forgetting",
        "max_forgetting",
        "backward_transfer",
        "forward_transfer",
        "forgetting_per_task",
        "learning_accuracy",
    ]:
        assert key in summary
