"""Run logs: the CSV log, TensorBoard events, and progress bars that stay quiet off a terminal."""

from __future__ import annotations

import io

from lifelong import run
from lifelong.core.logs import CsvLog
from lifelong.report.logs import ProgressBar


def test_csv_log_keeps_only_rows_up_to_the_checkpoint_on_resume(tmp_path):
    path = tmp_path / "log.csv"
    log = CsvLog(path)
    for g in range(1, 4):
        log.iteration_done(0, g, g, 1.0)
    log.task_done(0, [0.9, 0.1])  # task-end row: global iteration -1
    for g in range(4, 7):
        log.iteration_done(1, g - 3, g, 0.5)
    log.evaluated(6, 1, [0.5, 0.6])
    # Killed without close(): rows are on disk because lines are flushed as written.
    assert path.read_text().count("\n") == 9
    CsvLog(path, append=True, until=(1, 4)).close()
    rows = [line.split(",") for line in path.read_text().splitlines()[1:]]
    assert [(r[0], r[1], r[3]) for r in rows] == [
        ("loss", "0", "1"),
        ("loss", "0", "2"),
        ("loss", "0", "3"),
        ("accuracy", "0", "-1"),
        ("loss", "1", "4"),
    ]
    CsvLog(path, append=True, until=(0, 2)).close()  # a checkpoint before task 0 ended
    assert [line.split(",")[3] for line in path.read_text().splitlines()[1:]] == ["1", "2"]


def test_progress_bar_is_silent_when_stderr_is_not_a_terminal(tiny_config, capsys):
    bar = ProgressBar()
    assert not bar.enabled  # pytest captures stderr: not a terminal
    run(tiny_config(iterations=5), observers=[bar], write=False)
    assert capsys.readouterr().err == ""


def test_progress_bar_shows_task_iteration_loss_and_eta(monkeypatch):
    stream = io.StringIO()
    monkeypatch.setattr("sys.stderr", stream)
    bar = ProgressBar(enabled=True)
    bar.run_started({"tasks": 3})
    bar.task_started(1, 50)
    for i in range(1, 21):
        bar.iteration_done(1, i, 50 + i, 0.1234)
    bar.bar.refresh()
    text = stream.getvalue()
    bar.close()
    assert "task 2/3" in text and "20/50" in text and "loss=0.1234" in text and "<" in text


def test_tensorboard_events_hold_loss_and_accuracies(tiny_config, tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    from lifelong.report.tensorboard import TensorBoardLog

    out = tmp_path / "run"
    log = TensorBoardLog(out)
    run(tiny_config(iterations=6, eval_every=3, out=str(out)), observers=[log])
    events = EventAccumulator(str(out / "tensorboard"))
    events.Reload()
    tags = set(events.Tags()["scalars"])
    assert {
        "loss/train",
        "accuracy/task_1",
        "accuracy/task_5",
        "accuracy/average_seen",
        "final/task_1",
    } <= tags
    loss = events.Scalars("loss/train")
    assert [e.step for e in loss] == list(range(1, 31))
    final = events.Scalars("final/task_1")
    assert [e.step for e in final] == [1, 2, 3, 4, 5]
    assert all(0.0 <= e.value <= 1.0 for e in final)
