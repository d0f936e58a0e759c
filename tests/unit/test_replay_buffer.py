"""The replay buffer: reservoir and class-balanced policies, herding, storage, state."""

from __future__ import annotations

import torch
from scipy import stats

from lifelong.components.buffer import ReplayBuffer, herding


def make(capacity: int, **kwargs) -> ReplayBuffer:
    return ReplayBuffer(capacity, (1, 2, 2), 10, **kwargs)


def stream(n: int, labels: torch.Tensor | None = None):
    """Examples whose first pixel encodes their stream position."""
    x = torch.zeros(n, 1, 2, 2)
    x[:, 0, 0, 0] = torch.arange(n).float()
    y = labels if labels is not None else torch.zeros(n, dtype=torch.long)
    return x, y, torch.zeros(n, dtype=torch.long)


def test_reservoir_keeps_every_example_with_equal_probability():
    n, capacity, trials = 100, 20, 600
    x, y, ids = stream(n)
    counts = torch.zeros(n)
    generator = torch.Generator().manual_seed(0)
    sizes = [7, 30, 1, 12]  # batches larger and smaller than the capacity
    for trial in range(trials):
        buffer = make(capacity)
        start, b = 0, trial % len(sizes)
        while start < n:
            stop = min(n, start + sizes[b % len(sizes)])
            buffer.add_reservoir(x[start:stop], y[start:stop], ids[start:stop], generator)
            start, b = stop, b + 1
        assert len(buffer) == capacity
        kept = buffer.x[:, 0, 0, 0].long()
        assert len(kept.unique()) == capacity  # no example stored twice
        counts[kept] += 1
    expected = trials * capacity / n
    chi2 = float(((counts - expected) ** 2 / expected).sum())
    assert stats.chi2.sf(chi2, n - 1) > 1e-3, chi2
    assert float((counts - expected).abs().max()) < 5 * (expected * (1 - capacity / n)) ** 0.5


def test_reservoir_fills_before_replacing_and_counts_seen():
    buffer = make(8)
    x, y, ids = stream(5)
    buffer.add_reservoir(x, y, ids, torch.Generator().manual_seed(0))
    assert len(buffer) == 5 and int(buffer.seen) == 5
    assert buffer.x[:5, 0, 0, 0].tolist() == [0, 1, 2, 3, 4]


def test_class_balanced_keeps_the_budget_split():
    generator = torch.Generator().manual_seed(0)
    buffer = make(60)
    for classes in ([0, 1], [2, 3, 4]):
        labels = torch.tensor(classes).repeat_interleave(100)
        x, y, ids = stream(len(labels), labels[torch.randperm(len(labels), generator=generator)])
        before = {
            (int(a), int(b))
            for a, b in zip(buffer.x[: len(buffer), 0, 0, 0], buffer.y[: len(buffer)], strict=True)
        }
        for chunk in torch.arange(len(y)).split(16):
            buffer.add_balanced(
                x[chunk],
                y[chunk],
                ids[chunk],
                by="y",
                quota=60 // (max(classes) + 1),
                generator=generator,
            )
        counts = torch.bincount(buffer.y[: len(buffer)].long(), minlength=10)
        quota = 60 // (max(classes) + 1)
        assert counts[: max(classes) + 1].tolist() == [quota] * (max(classes) + 1)
        assert int(counts.sum()) == len(buffer)
    # after the second task, classes 0 and 1 keep a subset of what they had
    after = {
        (int(a), int(b))
        for a, b in zip(buffer.x[: len(buffer), 0, 0, 0], buffer.y[: len(buffer)], strict=True)
    }
    assert {e for e in after if e[1] < 2} <= before


def test_per_task_memory_has_a_fixed_quota():
    buffer = ReplayBuffer(30, (1, 2, 2), 10, num_keys=3)
    generator = torch.Generator().manual_seed(0)
    for task in range(3):
        x, y, _ = stream(50)
        ids = torch.full((50,), task)
        buffer.add_balanced(x, y, ids, by="task_ids", quota=10, generator=generator)
        assert torch.bincount(buffer.task_ids[: len(buffer)].long(), minlength=3)[
            : task + 1
        ].tolist() == [10] * (task + 1)
    assert len(buffer.indices(tasks_before=2)) == 20


def test_herding_picks_examples_whose_mean_approaches_the_class_mean():
    # unit vectors at 0, 90, 45 and 10 degrees (the first scaled: herding normalises features)
    angles = torch.tensor([0.0, 90.0, 45.0, 10.0]).deg2rad()
    features = torch.stack([angles.cos(), angles.sin()], 1)
    features[0] *= 5
    # by hand: mu = (0.673, 0.470); first the 45-degree vector (distance 0.239), then the 10-degree
    # one (mean of the two at 0.176 from mu, vs 0.215 with 0 degrees), then 90 degrees (0.191 vs
    # 0.286)
    assert herding(features, 4).tolist() == [2, 3, 1, 0]
    assert herding(features, 2).tolist() == [2, 3]
    assert herding(features, 9).tolist() == [2, 3, 1, 0]  # m larger than the class


def test_uint8_storage_is_exact_for_images_and_smaller():
    x = torch.randint(0, 256, (10, 1, 2, 2)).float() / 255
    y, ids = torch.arange(10), torch.zeros(10, dtype=torch.long)
    small, full = make(10, storage="uint8"), make(10)
    for buffer in (small, full):
        buffer.append(x, y, ids)
        assert torch.equal(buffer.get(torch.arange(10)).x, x)
    assert small.nbytes() < full.nbytes()


def test_sample_is_without_replacement_and_filters_tasks():
    buffer = make(40)
    x, y, _ = stream(40)
    buffer.append(x, y, torch.arange(40) % 4)
    replay = buffer.sample(16, torch.Generator().manual_seed(0), tasks_before=2)
    assert len(replay) == 16 and (replay.task_ids < 2).all()
    assert len(replay.x[:, 0, 0, 0].unique()) == 16


def test_keep_first_per_class_keeps_herding_order():
    buffer = make(12)
    x, _, ids = stream(12)
    buffer.append(x, torch.tensor([0, 0, 0, 1, 1, 1, 2, 2, 2, 0, 1, 2]), ids)
    buffer.keep_first_per_class(2)
    assert buffer.x[: len(buffer), 0, 0, 0].tolist() == [0, 1, 3, 4, 6, 7]


def test_state_dict_round_trip_restores_the_buffer():
    generator = torch.Generator().manual_seed(0)
    buffer = make(8, logits=True)
    x, y, ids = stream(20)
    buffer.add_reservoir(x, y, ids, generator, logits=torch.randn(20, 10))
    copy = make(8, logits=True)
    copy.load_state_dict(buffer.state_dict())
    assert len(copy) == len(buffer) and int(copy.seen) == 20
    assert torch.equal(copy.logits, buffer.logits) and torch.equal(copy.x, buffer.x)
