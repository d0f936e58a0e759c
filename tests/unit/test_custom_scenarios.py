"""Scenarios from users' own data: tensors, Datasets (in memory and lazy), image folders; every
split mode in every setting on tiny hand-checkable data, shared validation/subset behaviour, the
lazy path against the in-memory one, fingerprints, run(config, scenario=...), and clear errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from torch.utils.data import Dataset

import lifelong
from lifelong import RunConfig, run, scenario_from_dataset, scenario_from_folder
from lifelong import scenario_from_tensors as from_tensors
from lifelong.errors import ConfigError, DataError, LifelongError

# 24 training samples of 4 classes (y = i % 4) with features (i, -i); 8 test samples (100 + j).
X = torch.stack([torch.arange(24.0), -torch.arange(24.0)], 1)
Y = torch.arange(24) % 4
TEST_X = torch.stack([100 + torch.arange(8.0), torch.zeros(8)], 1)
TEST_Y = torch.arange(8) % 4
TEST = (TEST_X, TEST_Y)


def _batch(scenario, task):
    ids = torch.full((len(task.train_indices),), task.index)
    return scenario.train_batch(ids, task.train_indices)


def _members(labels: torch.Tensor, classes) -> list[int]:
    return [i for i, c in enumerate(labels.tolist()) if c in classes]


class Pairs(Dataset):
    """A map-style Dataset of (input, label) or (input, label, task label) items."""

    def __init__(self, x, y, tasks=None) -> None:
        self.x, self.y, self.tasks = x, y, tasks

    def __len__(self) -> int:
        return len(self.y)

    def __getitem__(self, i):
        if self.tasks is None:
            return self.x[i], int(self.y[i])
        return self.x[i], int(self.y[i]), int(self.tasks[i])


# ------------------------------------------------------------------------------ split by class
@pytest.mark.parametrize("setting", ["task", "domain", "class"])
def test_class_split_tasks_targets_and_heads_in_every_setting(setting):
    scenario = from_tensors(X, Y, test=TEST, num_tasks=2, setting=setting)
    assert scenario.input_shape == (2,) and scenario.setting == setting
    assert scenario.num_outputs == (2 if setting == "domain" else 4)
    for task, classes in zip(scenario, [(0, 1), (2, 3)], strict=True):
        assert task.dataset_classes == classes
        assert task.train_indices.tolist() == _members(Y, classes)
        assert task.eval_indices.tolist() == _members(TEST_Y, classes)
        x, y = _batch(scenario, task)
        assert torch.equal(x, X[task.train_indices])  # float features are used as they are
        labels = Y[task.train_indices]
        assert torch.equal(y, labels % 2 if setting == "domain" else labels)
        assert task.classes == ((0, 1) if setting == "domain" else classes)


def test_class_order_and_explicit_uneven_groups():
    ordered = from_tensors(X, Y, test=TEST, class_order=[3, 1, 0, 2], classes_per_task=2)
    assert [t.dataset_classes for t in ordered] == [(3, 1), (0, 2)]
    assert [t.classes for t in ordered] == [(0, 1), (2, 3)]  # units in order of presentation
    _, y = _batch(ordered, ordered[0])
    assert torch.equal(y, torch.where(Y[ordered[0].train_indices] == 3, 0, 1))
    uneven = from_tensors(X, Y, test=TEST, task_classes=[[2], [0, 3, 1]], setting="domain")
    assert uneven.num_outputs == 3 and [t.classes for t in uneven] == [(0,), (0, 1, 2)]
    _, y = _batch(uneven, uneven[1])
    position = {0: 0, 3: 1, 1: 2}
    assert y.tolist() == [position[c] for c in Y[uneven[1].train_indices].tolist()]


def test_shuffled_class_order_is_reproducible_from_the_seed():
    def order(seed):
        scenario = from_tensors(X, Y, test=TEST, num_tasks=2, shuffle_classes=True, seed=seed)
        return [c for t in scenario for c in t.dataset_classes]

    assert (
        order(3)
        == order(3)
        == torch.randperm(4, generator=torch.Generator().manual_seed(3)).tolist()
    )
    assert len({tuple(order(s)) for s in range(6)}) > 1


# ------------------------------------------------------------------------------ by task label
@pytest.mark.parametrize("setting", ["task", "domain", "class"])
def test_split_by_given_task_labels(setting):
    tasks = torch.arange(24) // 12  # two tasks, each with every class
    test_tasks = torch.arange(8) // 4
    scenario = from_tensors(
        X, Y, test=TEST, task_labels=tasks, test_task_labels=test_tasks, setting=setting
    )
    assert scenario.num_tasks == 2
    assert scenario.num_outputs == (4 if setting == "domain" else 8)
    for t, task in enumerate(scenario):
        assert task.train_indices.tolist() == list(range(12 * t, 12 * t + 12))
        assert task.eval_indices.tolist() == list(range(4 * t, 4 * t + 4))
        assert task.dataset_classes == (0, 1, 2, 3)
        _, y = _batch(scenario, task)
        labels = Y[task.train_indices]
        # task and class settings: each (task, class) pair has its own unit
        assert torch.equal(y, labels if setting == "domain" else labels + 4 * t)


def test_task_labels_come_from_dataset_items_too():
    tasks = torch.arange(24) // 12
    from_items = scenario_from_dataset(Pairs(X, Y, tasks), test_fraction=0.25)
    given = from_tensors(X, Y, task_labels=tasks, test_fraction=0.25)
    assert from_items.fingerprint() == given.fingerprint()
    # the held-out test set is stratified by task and class: 1 of each task's 3 samples per class
    assert [len(t.eval_indices) for t in given] == [4, 4]


# ------------------------------------------------------------------------------ by transform
def test_per_task_transforms_make_a_domain_incremental_stream():
    transforms = [lambda x: x, lambda x: 2 * x, lambda x: -x]
    scenario = from_tensors(X, Y, test=TEST, transforms=transforms)
    assert scenario.setting == "domain" and scenario.num_outputs == 4
    for t, task in enumerate(scenario):
        assert task.train_indices.tolist() == list(range(24))  # every task holds all the data
        x, y = _batch(scenario, task)
        assert torch.equal(x, transforms[t](X)) and torch.equal(y, Y)
    mixed = torch.tensor([2, 0, 1])
    x, _ = scenario.train_batch(mixed, torch.tensor([5, 5, 5]))
    assert torch.equal(x, torch.stack([-X[5], X[5], 2 * X[5]]))
    classes = from_tensors(X, Y, test=TEST, transforms=transforms, setting="class")
    assert classes.num_outputs == 12 and classes[2].classes == (8, 9, 10, 11)
    assert torch.equal(_batch(classes, classes[2])[1], Y + 8)


def test_a_transform_that_changes_the_shape_is_refused():
    with pytest.raises(ConfigError, match="transform of task 1 must return a float batch"):
        from_tensors(X, Y, test=TEST, transforms=[lambda x: x, lambda x: x[:, :1]])
    with pytest.raises(ConfigError, match="transform of task 0 failed"):
        from_tensors(X, Y, test=TEST, transforms=[lambda x: x @ torch.ones(3, 3)])


# ------------------------------------------------------------------------------ shared options
def test_validation_split_is_disjoint_stratified_and_evaluated():
    x = torch.randn(200, 5)
    y = torch.arange(200) % 4
    scenario = from_tensors(
        x, y, num_tasks=2, validation_fraction=0.25, evaluate_on="validation", seed=1
    )
    whole = from_tensors(x, y, num_tasks=2, seed=1)
    for task, full in zip(scenario, whole, strict=True):
        train, held = set(task.train_indices.tolist()), set(task.eval_indices.tolist())
        assert not train & held and train | held == set(full.train_indices.tolist())
        train_y = scenario.dataset.train_y
        assert train_y[task.eval_indices].bincount(minlength=4).tolist() == [
            round(0.25 * int((train_y[full.train_indices] == c).sum()))
            if c in task.dataset_classes
            else 0
            for c in range(4)
        ]
    x_val, _ = scenario.eval_batch(0, scenario[0].eval_indices)
    assert torch.equal(x_val, scenario.dataset.train_x[scenario[0].eval_indices])


@pytest.mark.parametrize("size", [1, 7, 30])
def test_train_samples_per_task_is_exact(size):
    x, y = torch.randn(200, 3), torch.arange(200) % 4
    scenario = from_tensors(x, y, num_tasks=2, train_samples_per_task=size, seed=2)
    assert [len(t.train_indices) for t in scenario] == [size, size]
    for task in scenario:
        assert len(task.train_indices.unique()) == size
        assert set(scenario.dataset.train_y[task.train_indices].tolist()) <= set(
            task.dataset_classes
        )


def test_test_fraction_holds_out_a_stratified_split_independent_of_the_seed():
    x, y = torch.randn(100, 3), torch.arange(100) % 5
    a = from_tensors(x, y, num_tasks=5, seed=0)
    b = from_tensors(x, y, num_tasks=5, seed=9, shuffle_classes=False)
    assert torch.equal(a.dataset.test_x, b.dataset.test_x)
    assert a.dataset.test_y.bincount().tolist() == [4] * 5  # 20% of each class's 20 samples


def test_uint8_inputs_are_images_scaled_to_unit_range_and_normalize_standardizes():
    images = torch.randint(0, 256, (40, 1, 4, 4), dtype=torch.uint8)
    labels = torch.arange(40) % 2
    scenario = from_tensors(images, labels, num_tasks=1)
    x, _ = _batch(scenario, scenario[0])
    stored = scenario.dataset.train_x[scenario[0].train_indices]
    assert stored.dtype == torch.uint8 and torch.equal(x, stored.float() / 255)
    features = torch.randn(300, 3) * torch.tensor([1.0, 10.0, 100.0]) + 5
    normalized = from_tensors(features, torch.arange(300) % 3, num_tasks=1, normalize=True)
    x = normalized.prepare(normalized.dataset.train_x, torch.zeros(240, dtype=torch.long))
    assert torch.allclose(x.mean(0), torch.zeros(3), atol=1e-5)
    assert torch.allclose(x.std(0, unbiased=False), torch.ones(3), atol=1e-4)
    given = from_tensors(features, torch.arange(300) % 3, num_tasks=1, normalize=([5.0], [2.0]))
    assert torch.allclose(
        given.prepare(features[:2], torch.zeros(2, dtype=torch.long)), (features[:2] - 5) / 2
    )


def test_numpy_arrays_work_like_tensors():
    a = from_tensors(
        X.numpy().astype(np.float64), Y.numpy(), test=(TEST_X.numpy(), TEST_Y.numpy()), num_tasks=2
    )
    b = from_tensors(X, Y, test=TEST, num_tasks=2)
    assert a.fingerprint() == b.fingerprint()


# ------------------------------------------------------------------------------ errors
@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: from_tensors(X, Y[:-1], num_tasks=2), DataError, "23 labels for 24 samples"),
        (
            lambda: from_tensors(X, Y, test=(TEST_X, TEST_Y[:3]), num_tasks=2),
            DataError,
            "3 labels for 8",
        ),
        (lambda: from_tensors(X, Y + 0.5, num_tasks=2), DataError, "whole numbers"),
        (lambda: from_tensors(X, Y, test=TEST), ConfigError, "say how to cut the data"),
        (
            lambda: from_tensors(X, Y, test=TEST, num_tasks=2, transforms=[lambda x: x]),
            ConfigError,
            "num_tasks is 2 but the data gives 1",
        ),
        (
            lambda: from_tensors(X, Y, test=TEST, classes_per_task=2, transforms=[lambda x: x]),
            ConfigError,
            "not by class and transforms",
        ),
        (lambda: from_tensors(X, Y, test=TEST, num_tasks=3), ConfigError, "cannot be split evenly"),
        (
            lambda: from_tensors(
                X, Y, test=TEST, task_labels=Y * 0 + 2 * (Y > 1), test_task_labels=TEST_Y * 0
            ),
            ConfigError,
            "task 1 has no training samples",
        ),
        (
            lambda: from_tensors(X, Y % 2, test=(TEST_X, TEST_Y), num_tasks=1),
            ConfigError,
            r"classes \[2, 3\] have no training samples",
        ),
        (
            lambda: from_tensors(X, Y, test=TEST, task_classes=[[0, 1], [1, 2]]),
            ConfigError,
            "one task only",
        ),
        (
            lambda: from_tensors(X, Y, test=TEST, task_classes=[[0, 7]]),
            ConfigError,
            r"classes \[7\]",
        ),
        (
            lambda: from_tensors(X, Y, test=TEST, test_fraction=0.2, num_tasks=2),
            ConfigError,
            "not both",
        ),
        (lambda: from_tensors(X, Y, test=TEST, num_tasks=2, name="my data/x"), ConfigError, "name"),
        (
            lambda: from_tensors(X, Y, test=TEST, num_tasks=2, padding=2),
            ConfigError,
            "padding needs image",
        ),
        (
            lambda: from_tensors(X, Y, test=(TEST_X[:, :1], TEST_Y), num_tasks=2),
            DataError,
            "do not match",
        ),
        (
            lambda: from_tensors(X[:4], Y[:4], num_tasks=2),
            ConfigError,
            "task 0 has no test samples",
        ),
    ],
)
def test_bad_input_gives_one_clear_error(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_image_models_refuse_feature_inputs_with_a_clear_error():
    scenario = from_tensors(X, Y, test=TEST, num_tasks=2)
    with pytest.raises(ConfigError, match=r"cnn model needs image inputs.*\(2,\)"):
        run(RunConfig.of(model="cnn", iterations=1, eval_every=0), scenario=scenario, write=False)


# ------------------------------------------------------------------------------ Datasets
def test_a_dataset_read_into_memory_equals_the_same_tensors():
    eager = scenario_from_dataset(Pairs(X, Y), Pairs(TEST_X, TEST_Y), num_tasks=2, batch_size=5)
    assert eager.fingerprint() == from_tensors(X, Y, test=TEST, num_tasks=2).fingerprint()
    assert isinstance(eager.dataset, lifelong.data.datasets.ImageDataset)


def test_bad_dataset_items_are_refused():
    class Bad(Dataset):
        def __len__(self):
            return 3

        def __getitem__(self, i):
            return {"x": i}

    with pytest.raises(DataError, match=r"\(input, label\)"):
        scenario_from_dataset(Bad(), num_tasks=1)

    class Stream(torch.utils.data.IterableDataset):
        def __iter__(self):
            return iter([(torch.zeros(2), 0)])

    with pytest.raises(ConfigError, match="map-style"):
        scenario_from_dataset(Stream(), num_tasks=1)


def _tiny_run(on, **changes):
    base = dict(strategy="naive", iterations=12, batch_size=8, hidden=(16,), eval_every=4, seed=3)
    return run(RunConfig.of(**{**base, **changes}), scenario=on, write=False)


def test_lazy_dataset_gives_the_same_batches_and_metrics_as_memory():
    x, y = torch.randn(120, 6), torch.arange(120) % 4
    options = dict(num_tasks=2, normalize=True, validation_fraction=0.2, seed=4)
    memory = from_tensors(x, y, **options)
    lazy = scenario_from_dataset(Pairs(x, y), lazy=True, **options)
    assert isinstance(lazy.dataset, lifelong.data.lazy.LazyDataset)
    for lazy_stats, memory_stats in zip(lazy.normalization, memory.normalization, strict=True):
        assert lazy_stats == pytest.approx(memory_stats, abs=1e-12)
    for a, b in zip(memory, lazy, strict=True):
        assert torch.equal(a.train_indices, b.train_indices) and torch.equal(
            a.eval_indices, b.eval_indices
        )
        assert all(
            torch.equal(p, q) for p, q in zip(_batch(memory, a), _batch(lazy, b), strict=True)
        )
    assert _tiny_run(lazy).metrics["curve"] == _tiny_run(memory).metrics["curve"]
    replay = dict(strategy="er", strategy_params={"buffer_size": 20, "replay_batch_size": 4})
    assert _tiny_run(lazy, **replay).accuracy_matrix == _tiny_run(memory, **replay).accuracy_matrix


def test_lazy_dataset_with_two_workers_streams_the_same_run():
    x, y = torch.randn(80, 4), torch.arange(80) % 4
    memory = from_tensors(x, y, num_tasks=2)
    lazy = scenario_from_dataset(Pairs(x, y), lazy=True, num_workers=2, batch_size=16, num_tasks=2)
    # a read of more samples than the DataLoader batch size goes through the workers
    everything = lazy[0].train_indices
    assert len(everything) > 16
    ids = torch.zeros(len(everything), dtype=torch.long)
    assert torch.equal(lazy.train_batch(ids, everything)[0], memory.train_batch(ids, everything)[0])
    assert (
        _tiny_run(lazy, eval_every=0).metrics["curve"]
        == _tiny_run(memory, eval_every=0).metrics["curve"]
    )


# ------------------------------------------------------------------------------ image folders
def _write_folder(root: Path, images: dict[str, list[np.ndarray]]) -> None:
    from PIL import Image

    for name, arrays in images.items():
        (root / name).mkdir(parents=True)
        for i, array in enumerate(arrays):
            Image.fromarray(array).save(root / name / f"{i}.png")


def _gray(value: int, size=(3, 4)) -> np.ndarray:
    return np.full(size, value, dtype=np.uint8)


def test_image_folder_classes_pixels_and_lazy_reading(tmp_path):
    _write_folder(tmp_path / "train", {"b": [_gray(10), _gray(11)], "a": [_gray(1), _gray(2)]})
    _write_folder(tmp_path / "test", {"a": [_gray(3)], "b": [_gray(12)]})
    scenario = scenario_from_folder(tmp_path / "train", test=tmp_path / "test", num_tasks=2)
    assert scenario.dataset.class_names == ("a", "b") and scenario.name == "train"
    assert scenario.input_shape == (1, 3, 4)  # all grayscale: one channel
    assert scenario.dataset.train_x[:, 0, 0, 0].tolist() == [1, 2, 10, 11]
    assert scenario.dataset.train_y.tolist() == [0, 0, 1, 1]
    x, y = _batch(scenario, scenario[1])
    assert torch.allclose(x, torch.tensor([10.0, 11.0]).view(2, 1, 1, 1).expand(2, 1, 3, 4) / 255)
    lazy = scenario_from_folder(tmp_path / "train", test=tmp_path / "test", num_tasks=2, lazy=True)
    assert all(torch.equal(p, q) for p, q in zip(_batch(lazy, lazy[1]), (x, y), strict=True))
    rgb = scenario_from_folder(
        tmp_path / "train", test=tmp_path / "test", num_tasks=1, channels=3, image_size=(6, 5)
    )
    assert rgb.input_shape == (3, 6, 5)


def test_image_folder_errors_name_the_problem(tmp_path):
    _write_folder(tmp_path / "d", {"a": [_gray(1)], "b": [_gray(2, (5, 5))]})
    with pytest.raises(DataError, match="pass image_size"):
        scenario_from_folder(tmp_path / "d", num_tasks=1)
    (tmp_path / "d" / "empty").mkdir()
    with pytest.raises(DataError, match="class folder 'empty' has no images"):
        scenario_from_folder(tmp_path / "d", num_tasks=1)
    (tmp_path / "d" / "empty" / "notes.txt").write_text("not a picture")
    with pytest.raises(DataError, match=r"notes\.txt: not an image file"):
        scenario_from_folder(tmp_path / "d", num_tasks=1)
    with pytest.raises(DataError, match="no class folders"):
        scenario_from_folder(tmp_path / "d" / "a", num_tasks=1)


# ------------------------------------------------------------------------------ runs and fingerprints
def test_run_records_the_user_scenario_and_refuses_conflicting_options():
    scenario = from_tensors(X, Y, test=TEST, num_tasks=2, name="toy")
    result = _tiny_run(scenario)
    assert result.metrics["config"]["benchmark"] == "toy"
    assert result.metrics["config"]["tasks"] == 2 and result.metrics["config"]["setting"] == "class"
    assert result.metrics["scenario"]["input_shape"] == [2]
    assert len(result.accuracy_matrix) == 2
    with pytest.raises(ConfigError, match="setting is task but the scenario's is class"):
        _tiny_run(scenario, setting="task")
    with pytest.raises(ConfigError, match="shuffle_classes is set when the scenario is built"):
        _tiny_run(scenario, shuffle_classes=True)


def test_a_run_on_user_data_resumes_only_with_the_same_scenario(tmp_path):
    scenario = from_tensors(X, Y, test=TEST, num_tasks=2, name="toy")
    config = RunConfig.of(
        strategy="naive",
        iterations=6,
        batch_size=8,
        hidden=(16,),
        eval_every=0,
        out=str(tmp_path / "run"),
    )
    finished = run(config, scenario=scenario)
    (tmp_path / "run" / "metrics.json").unlink()  # as if interrupted after its last checkpoint
    with pytest.raises(LifelongError, match="run on your own data .'toy'.*scenario=\\.\\.\\."):
        lifelong.resume_run(tmp_path / "run")
    other = from_tensors(X + 1, Y, test=TEST, num_tasks=2, name="toy")
    with pytest.raises(LifelongError, match="inputs.scenario"):
        lifelong.resume_run(tmp_path / "run", scenario=other)
    resumed = lifelong.resume_run(tmp_path / "run", scenario=scenario)
    assert resumed.accuracy_matrix == finished.accuracy_matrix


def test_fingerprint_is_stable_and_changes_with_the_content():
    def build(x=X, **changes):
        return from_tensors(x, Y, test=TEST, **{"num_tasks": 2, **changes}).fingerprint()

    reference = build()
    assert reference == build() and len(reference) == 64
    changed = X.clone()
    changed[5, 1] += 1
    assert build(changed) != reference
    assert build(setting="task") != reference
    assert build(class_order=[1, 0, 2, 3], classes_per_task=2) != reference
    assert build(train_samples_per_task=5) != reference
    permuted = from_tensors(X, Y, test=TEST, transforms=[lambda x: x, lambda x: x.flip(1)])
    flipped = from_tensors(X, Y, test=TEST, transforms=[lambda x: x, lambda x: -x])
    assert permuted.fingerprint() != flipped.fingerprint()
    lazy = scenario_from_dataset(Pairs(X, Y), Pairs(TEST_X, TEST_Y), lazy=True, num_tasks=2)
    assert (
        lazy.fingerprint()
        == scenario_from_dataset(
            Pairs(X, Y), Pairs(TEST_X, TEST_Y), lazy=True, num_tasks=2
        ).fingerprint()
    )


def test_generative_replay_on_standardized_features_asks_for_a_gaussian_likelihood():
    x, y = torch.randn(64, 5), torch.arange(64) % 4
    scenario = from_tensors(x, y, num_tasks=2)
    params = {"replay_batch_size": 8, "generator_hidden": (16,), "latent_size": 4}
    with pytest.raises(LifelongError, match="likelihood=gaussian"):
        _tiny_run(scenario, strategy="generative-replay", strategy_params=params)
    gaussian = {**params, "likelihood": "gaussian"}
    result = _tiny_run(scenario, strategy="generative-replay", strategy_params=gaussian)
    assert len(result.accuracy_matrix) == 2
