"""Learning curve area (Chaudhry et al. 2019): the formula on a hand-computed table, the points a
run measures, that measuring them leaves training unchanged, and that a resumed run measures the same
points as an uninterrupted one."""

from __future__ import annotations

import pytest

from lifelong import metrics as M
from lifelong import run
from lifelong.core.identity import fingerprint
from lifelong.core.learner import Learner
from lifelong.errors import ConfigError


def test_learning_curve_and_its_area_match_a_hand_computed_table():
    # a[k][b]: 2 tasks, beta = 2
    points = [[0.1, 0.5, 0.9], [0.3, 0.7, 0.7]]
    # Z_b = mean over tasks: 0.2, 0.6, 0.8; trapezoids (0.2 + 0.6) / 2 + (0.6 + 0.8) / 2 = 1.1
    # over the area of a perfect learner, beta * 1 = 2
    assert M.learning_curve(points) == pytest.approx([0.2, 0.6, 0.8])
    assert M.learning_curve_area(points) == pytest.approx(0.55)
    assert M.learning_curve_area([[0.3], [0.5]]) == pytest.approx(0.4)  # beta = 0: Z_0
    with pytest.raises(ValueError, match="tasks x"):
        M.learning_curve([])


def test_a_run_measures_each_task_before_and_after_its_first_batches(tiny_config):
    beta = 3
    plain = run(tiny_config(tasks=2), write=False).metrics
    measured = run(tiny_config(tasks=2, lca_batches=beta), write=False).metrics
    # evaluating on the way does not change what the run trains
    assert measured["accuracy_matrix"] == plain["accuracy_matrix"]
    assert "learning_curve_area" not in plain
    points = measured["learning_curve_points"]
    assert [len(row) for row in points] == [beta + 1, beta + 1]
    # b = 0 of the second task is the model at the end of the first, which never trained the new
    # classes (class-incremental): it predicts them only by chance
    assert points[1][0] < 0.2
    assert points[1][-1] > points[1][0]  # three batches of the new task teach it something
    curve = [(points[0][b] + points[1][b]) / 2 for b in range(beta + 1)]
    assert measured["learning_curve"] == pytest.approx(curve)
    area = sum((curve[b] + curve[b + 1]) / 2 for b in range(beta))
    assert measured["learning_curve_area"] == pytest.approx(area / beta)


def test_a_task_shorter_than_beta_keeps_its_last_accuracy(tiny_config):
    metrics = run(tiny_config(tasks=2, iterations=2, lca_batches=4), write=False).metrics
    assert [len(row) for row in metrics["learning_curve_points"]] == [3, 3]
    assert len(metrics["learning_curve"]) == 5
    padded = [row + [row[-1]] * 2 for row in metrics["learning_curve_points"]]
    assert metrics["learning_curve_area"] == pytest.approx(M.learning_curve_area(padded))


def test_the_points_are_part_of_the_run_identity_only_when_asked_for(tiny_config):
    base = tiny_config().to_dict()
    assert fingerprint(tiny_config(lca_batches=0).to_dict()) == fingerprint(base)
    assert fingerprint(tiny_config(lca_batches=10).to_dict()) != fingerprint(base)


def test_online_and_language_model_runs_refuse_it(tiny_config):
    with pytest.raises(ConfigError, match="lca-batches"):
        tiny_config(online=True, iterations=None, eval_every=None, lca_batches=10)
    with pytest.raises(ConfigError, match="lca_batches must be >= 0"):
        tiny_config(lca_batches=-1)


def test_a_resumed_run_measures_the_points_of_an_uninterrupted_one(
    tiny_config, tmp_path, monkeypatch
):
    beta = 5
    reference = run(tiny_config(tasks=2, lca_batches=beta), write=False).metrics
    out = tmp_path / "run"
    config = tiny_config(tasks=2, lca_batches=beta, out=str(out), checkpoint_every=1)
    step = Learner._train_step
    calls = {"n": 0}

    def dies_in_the_second_task(self, batch):
        calls["n"] += 1
        if calls["n"] == 20 + 3:  # the third batch of the second task, inside the window
            raise KeyboardInterrupt
        return step(self, batch)

    monkeypatch.setattr(Learner, "_train_step", dies_in_the_second_task)
    with pytest.raises(KeyboardInterrupt):
        run(config)
    monkeypatch.setattr(Learner, "_train_step", step)
    resumed = run(config, resume=True).metrics
    assert resumed["learning_curve_points"] == reference["learning_curve_points"]
    assert resumed["accuracy_matrix"] == reference["accuracy_matrix"]
