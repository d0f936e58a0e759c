"""Scenarios: settings (targets and output masks), task splits, seeds, subsets, validation
splits, task transforms, and that no task identity reaches predictions outside the
task-incremental setting."""

from __future__ import annotations

import sys

import pytest
import torch
import torch.nn.functional as F

from lifelong import RunConfig
from lifelong.core.learner import Learner
from lifelong.core.strategy import Context, Strategy, StrategyConfig
from lifelong.data.scenarios import build_scenario
from lifelong.data.stream import BatchStream
from lifelong.data.transforms import Permute, Rotate
from lifelong.errors import ConfigError, LifelongError
from lifelong.models.build import ModelSpec, build_model


def _all_train(scenario, task):
    ids = torch.full((len(task.train_indices),), task.index)
    return scenario.train_batch(ids, task.train_indices)


# ------------------------------------------------------------------------------ settings
def test_split_task_setting_gives_each_task_its_own_units():
    scenario = build_scenario("split-digits", "task")
    assert scenario.num_tasks == 5 and scenario.num_outputs == 10
    for task in scenario:
        assert task.classes == task.dataset_classes == (2 * task.index, 2 * task.index + 1)
        _, y = _all_train(scenario, task)
        assert torch.equal(y, scenario.dataset.train_y[task.train_indices])
        ids = torch.tensor([task.index, 0])
        mask = scenario.output_mask(ids, tasks_seen=1)
        assert mask.shape == (2, 10)
        assert mask[0].nonzero().flatten().tolist() == list(task.classes)
        assert mask[1].nonzero().flatten().tolist() == [0, 1]
    with pytest.raises(ConfigError, match="task ids"):
        scenario.output_mask(None, tasks_seen=1)


def test_split_domain_setting_has_one_head_of_per_task_size_and_no_task_ids():
    scenario = build_scenario("split-digits", "domain")
    assert scenario.num_outputs == 2
    for task in scenario:
        assert task.classes == (0, 1)
        _, y = _all_train(scenario, task)
        assert torch.equal(y, scenario.dataset.train_y[task.train_indices] % 2)
        assert scenario.output_mask(None, tasks_seen=task.index + 1) is None


def test_split_class_setting_masks_all_classes_seen_so_far():
    scenario = build_scenario("split-digits", "class")
    assert scenario.num_outputs == 10
    for seen in range(1, 6):
        mask = scenario.output_mask(None, tasks_seen=seen)
        assert mask.shape == (10,) and mask.nonzero().flatten().tolist() == list(range(2 * seen))
    # The class mask never depends on a sample's task id.
    assert torch.equal(
        scenario.output_mask(torch.tensor([4, 0]), tasks_seen=2),
        scenario.output_mask(None, tasks_seen=2),
    )


def test_permuted_settings_targets_and_masks():
    domain = build_scenario("permuted-digits", "domain", num_tasks=3)
    klass = build_scenario("permuted-digits", "class", num_tasks=3)
    task = build_scenario("permuted-digits", "task", num_tasks=3)
    assert domain.num_outputs == 10 and klass.num_outputs == task.num_outputs == 30
    for t in range(3):
        labels = domain.dataset.train_y[domain[t].train_indices]
        assert torch.equal(_all_train(domain, domain[t])[1], labels)
        assert torch.equal(_all_train(klass, klass[t])[1], labels + 10 * t)
        assert task[t].classes == tuple(range(10 * t, 10 * t + 10))
        assert len(domain[t].train_indices) == len(domain.dataset.train_y)  # every task: all data
    assert domain.output_mask(None, 2) is None
    assert klass.output_mask(None, 2).nonzero().flatten().tolist() == list(range(20))
    assert task.output_mask(torch.tensor([2]), 1)[0].nonzero().flatten().tolist() == list(
        range(20, 30)
    )


@pytest.mark.parametrize("setting", ["task", "domain", "class"])
def test_rotated_and_split_mnist_build_in_every_setting(setting, shared_data):
    rotated = build_scenario(
        "rotated-mnist", setting, num_tasks=3, train_samples_per_task=60, data_root=shared_data
    )
    split = build_scenario(
        "split-fashion-mnist", setting, train_samples_per_task=60, data_root=shared_data
    )
    assert rotated.num_outputs == (10 if setting == "domain" else 30)
    assert split.num_outputs == (2 if setting == "domain" else 10)
    assert [len(t.train_indices) for t in rotated] == [60] * 3
    assert rotated.input_shape == split.input_shape == (1, 28, 28)
    x, _ = _all_train(rotated, rotated[2])
    assert x.shape == (60, 1, 28, 28)


def test_permuted_fashion_mnist_permutes_each_task(shared_data):
    scenario = build_scenario(
        "permuted-fashion-mnist", num_tasks=2, train_samples_per_task=20, data_root=shared_data
    )
    assert scenario.setting == "domain"
    task = scenario[1]
    x, _ = _all_train(scenario, task)
    raw = scenario.dataset.train_x[task.train_indices].float().div(255).flatten(1)
    assert torch.equal(x.flatten(1), raw[:, scenario.transform.permutations[1]])


# ------------------------------------------------------------------------------ no task id leaks
class _Spy(Strategy):
    name = "spy"
    config_class = StrategyConfig

    def __init__(self, *args) -> None:
        super().__init__(*args)
        self.forward_ids: list[torch.Tensor | None] = []
        self.predict_ids: list[torch.Tensor | None] = []

    def forward(self, x, task_ids=None):
        self.forward_ids.append(task_ids)
        return super().forward(x, task_ids)

    def predict(self, x, task_ids=None, *, tasks_seen=None):
        self.predict_ids.append(task_ids)
        return super().predict(x, task_ids, tasks_seen=tasks_seen)


@pytest.mark.parametrize("setting", ["task", "domain", "class"])
def test_learner_passes_task_ids_only_in_the_task_setting(setting):
    scenario = build_scenario("split-digits", setting, num_tasks=2)
    spec = ModelSpec("mlp", scenario.input_shape, scenario.num_outputs, (16,))
    context = Context(
        scenario=scenario,
        device=torch.device("cpu"),
        batch_size=16,
        rng=torch.Generator().manual_seed(0),
    )
    spy = _Spy(build_model(spec), StrategyConfig(), context)
    Learner.from_config(spy, RunConfig.of(iterations=3, batch_size=16, eval_every=0, tasks=2)).fit()
    assert spy.predict_ids and spy.forward_ids
    if setting == "task":
        assert all(ids is not None for ids in spy.predict_ids + spy.forward_ids)
    else:
        assert all(ids is None for ids in spy.predict_ids + spy.forward_ids)


# ------------------------------------------------------------------------------ seeds and sizes
def test_number_of_tasks_and_an_impossible_split_is_explained(shared_data):
    scenario = build_scenario("split-digits", "class", num_tasks=2)
    assert [t.dataset_classes for t in scenario] == [(0, 1, 2, 3, 4), (5, 6, 7, 8, 9)]
    with pytest.raises(
        ConfigError, match=r"10 classes.*cannot be split evenly into 7 tasks.*\[1, 2, 5, 10\]"
    ):
        build_scenario("split-mnist", "class", num_tasks=7, data_root=shared_data)


def test_class_order_is_shuffled_by_seed():
    def order(seed):
        scenario = build_scenario("split-digits", "class", seed=seed, shuffle_classes=True)
        return [t.dataset_classes for t in scenario]

    assert order(1) == order(1)
    assert order(1) != order(2)
    assert sorted(c for group in order(1) for c in group) == list(range(10))
    # Output units follow the order of presentation: task t trains units 2t, 2t+1.
    scenario = build_scenario("split-digits", "class", seed=1, shuffle_classes=True)
    for task in scenario:
        _, y = _all_train(scenario, task)
        assert set(y.tolist()) == set(task.classes) == {2 * task.index, 2 * task.index + 1}


def test_an_explicit_class_order_forms_the_tasks_in_turn():
    order = [4, 6, 0, 5, 3, 9, 2, 7, 8, 1]
    scenario = build_scenario("split-digits", "domain", class_order=order)
    assert [t.dataset_classes for t in scenario] == [(4, 6), (0, 5), (3, 9), (2, 7), (8, 1)]
    # Domain setting: a class's unit is its position in its task (4, 0, 3, 2, 8 share unit 0).
    task = scenario.tasks[1]
    x, y = _all_train(scenario, task)
    labels = scenario.dataset.train_y[task.train_indices]
    assert torch.equal(y, (labels == 5).long())
    # The same config through a RunConfig, from a flag-style value.
    config = RunConfig.of(benchmark="split-digits", setting="class", class_order=order)
    assert config.data.class_order == tuple(order)


@pytest.mark.parametrize(
    "name, options, message",
    [
        ("split-digits", {"class_order": [0, 1, 2]}, "exactly once"),
        ("split-digits", {"class_order": [0] * 10}, "exactly once"),
        ("split-digits", {"class_order": list(range(10)), "shuffle_classes": True}, "not both"),
        ("permuted-digits", {"class_order": list(range(10))}, "split benchmarks"),
    ],
)
def test_a_bad_class_order_is_refused(name, options, message):
    with pytest.raises(ConfigError, match=message):
        build_scenario(name, **options)


def test_a_config_refuses_class_order_with_shuffle_classes():
    with pytest.raises(ConfigError, match="not both"):
        RunConfig.of(class_order=list(range(10)), shuffle_classes=True)


# -------------------------------------------------------------- class-incremental output units
def _output_layer(config):
    from lifelong.core.runner import run

    result = run(config, write=False)
    *_, last = [m for m in result.model.modules() if isinstance(m, torch.nn.Linear)]
    return last.weight.detach().clone(), result


@pytest.mark.parametrize("online", [False, True])
def test_class_units_all_trains_every_unit_from_the_first_task(tiny_config, online):
    """Seen units (the default): the later classes' logits are masked on the first task, so their
    output rows never move. All units (Mammoth's convention): cross-entropy pushes them down."""
    options = dict(first_tasks=1, threads=1)
    if online:  # a task-free stream masks by the labels observed so far instead
        options.update(online=True, boundaries="hidden", iterations=None)
    rows = {}
    for units in ("seen", "all"):
        for iterations in (1, 20):
            config = tiny_config(class_units=units, **options)
            if not online:
                config = config.replace(iterations=iterations)
            else:
                config = config.replace(batch_size=8 if iterations == 1 else 32)
            rows[units, iterations], result = _output_layer(config)
        assert (result.strategy.output_mask(None) is None) == (units == "all")
    later = slice(2, 10)  # units of the classes after the first task (split-digits: 0 and 1 first)
    assert torch.equal(rows["seen", 1][later], rows["seen", 20][later])
    assert not torch.equal(rows["all", 1][later], rows["all", 20][later])


def test_class_units_all_applies_only_to_the_class_setting():
    from lifelong.core.runner import build_run_scenario, resolve

    config = resolve(RunConfig.of(benchmark="split-digits", setting="class", class_units="all"))
    scenario = build_run_scenario(config)
    assert scenario.output_mask(None, tasks_seen=1) is None
    assert scenario.describe()["class_units"] == "all"
    assert scenario.first(2).class_units == "all"
    for setting in ("task", "domain"):
        with pytest.raises(ConfigError, match="class-incremental setting"):
            build_run_scenario(resolve(RunConfig.of(setting=setting, class_units="all")))
    with pytest.raises(LifelongError, match="unknown class_units 'none'; valid: all, seen"):
        build_scenario("split-digits", "class").with_class_units("none")


@pytest.mark.parametrize("name, value", [("class_units", "all"), ("init", "xavier")])
def test_options_added_for_mammoths_protocol_enter_identity_only_off_default(name, value):
    from lifelong.core.identity import identity

    default = identity(RunConfig.of(setting="class").to_dict())
    assert name not in default  # stored runs keep their identity
    assert identity(RunConfig.of(setting="class", **{name: value}).to_dict())[name] == value


def test_permutations_depend_on_the_seed_and_task_zero_is_unpermuted():
    def perms(seed):
        return build_scenario("permuted-digits", num_tasks=3, seed=seed).transform.permutations

    assert torch.equal(perms(0), perms(0))
    assert not torch.equal(perms(0)[1:], perms(1)[1:])
    assert torch.equal(perms(0)[0], torch.arange(64))
    for row in perms(0):
        assert torch.equal(row.sort().values, torch.arange(64))


@pytest.mark.parametrize("size", [1, 37, 101])
def test_train_samples_per_task_is_exact_and_stratified(size):
    scenario = build_scenario("permuted-digits", num_tasks=2, train_samples_per_task=size, seed=4)
    full = scenario.dataset.train_y
    counts = full.bincount(minlength=10).double()
    for task in scenario:
        assert len(task.train_indices) == size == len(task.train_indices.unique())
        share = counts * size / len(full)
        got = full[task.train_indices].bincount(minlength=10).double()
        assert ((got - share).abs() < 1).all()
    other = build_scenario("permuted-digits", num_tasks=2, train_samples_per_task=size, seed=5)
    if size > 1:
        assert not torch.equal(other[0].train_indices, scenario[0].train_indices)


def test_validation_split_is_stratified_disjoint_and_used_for_evaluation():
    full = build_scenario("split-digits", "class")
    scenario = build_scenario(
        "split-digits", "class", validation_fraction=0.2, evaluate_on="validation"
    )
    labels = scenario.dataset.train_y
    for task, whole in zip(scenario, full, strict=True):
        train, val = set(task.train_indices.tolist()), set(task.eval_indices.tolist())
        assert not train & val
        assert train | val == set(whole.train_indices.tolist())
        for c in task.dataset_classes:
            n_class = int((labels[whole.train_indices] == c).sum())
            assert int((labels[task.eval_indices] == c).sum()) == round(0.2 * n_class)
            # Held out at random, not the first samples of the class.
            members = whole.train_indices[labels[whole.train_indices] == c]
            held = task.eval_indices[labels[task.eval_indices] == c]
            assert not torch.equal(held, members[: len(held)])
        x, y = scenario.eval_batch(task.index, task.eval_indices)
        ids = torch.full((len(y),), task.index)
        assert torch.equal(x, scenario.prepare(scenario.dataset.train_x[task.eval_indices], ids))
        assert torch.equal(y, labels[task.eval_indices])
    # Without evaluate_on=validation the test set is used, and training still excludes validation.
    on_test = build_scenario("split-digits", "class", validation_fraction=0.2)
    assert torch.equal(on_test[0].eval_indices, full[0].eval_indices)
    assert torch.equal(on_test[0].train_indices, scenario[0].train_indices)
    with pytest.raises(ConfigError, match="validation fraction"):
        build_scenario("split-digits", evaluate_on="validation")


# ------------------------------------------------------------------------------ transforms
def test_permutation_of_a_mixed_batch_equals_indexing_each_image():
    generator = torch.Generator().manual_seed(0)
    transform = Permute.random(3, 16, seed=0, first_identity=False)
    x = torch.rand(6, 1, 4, 4, generator=generator)
    ids = torch.tensor([0, 1, 2, 1, 0, 2])
    expected = torch.stack([x[i].flatten()[transform.permutations[ids[i]]] for i in range(6)])
    assert torch.equal(transform(x, ids).flatten(1), expected)
    same = torch.full((6,), 2)
    assert torch.equal(transform(x, same).flatten(1), x.flatten(1)[:, transform.permutations[2]])


def test_rotation_by_90_degrees_matches_rot90_and_mixed_batches_rotate_per_sample():
    image = torch.zeros(1, 1, 8, 8)
    image[0, 0, 1:7, 2] = 1.0  # an "L": a vertical bar and a foot
    image[0, 0, 6, 2:6] = 1.0
    image[0, 0, 2, 4] = 0.5
    rotate = Rotate(torch.tensor([0.0, 90.0, 180.0]))
    batch = image.repeat(3, 1, 1, 1)
    out = rotate(batch, torch.tensor([0, 1, 2]))
    inner = (slice(None), slice(None), slice(1, -1), slice(1, -1))
    assert torch.allclose(out[0], image[0], atol=1e-5)
    assert torch.allclose(out[1:2][inner], torch.rot90(image, 1, (2, 3))[inner], atol=1e-5)
    assert torch.allclose(out[2:3][inner], torch.rot90(image, 2, (2, 3))[inner], atol=1e-5)
    # Each sample in a mixed batch is rotated by its own task's angle.
    ids = torch.tensor([2, 0, 1])
    mixed = rotate(batch, ids)
    for i, t in enumerate(ids):
        assert torch.allclose(mixed[i], rotate(image, t.view(1))[0], atol=1e-6)


def test_rotated_task_zero_is_unrotated_and_others_differ(shared_data):
    scenario = build_scenario(
        "rotated-mnist", num_tasks=3, train_samples_per_task=10, seed=2, data_root=shared_data
    )
    degrees = scenario.transform.degrees
    assert degrees[0] == 0 and ((degrees[1:] > 0) & (degrees[1:] < 180)).all()
    task = scenario[0]
    x, _ = _all_train(scenario, task)
    assert torch.allclose(x, scenario.dataset.train_x[task.train_indices].float() / 255, atol=1e-5)


def test_permuted_mnist_with_padding_permutes_1024_pixels(shared_data):
    scenario = build_scenario(
        "permuted-mnist", num_tasks=2, padding=2, train_samples_per_task=50, data_root=shared_data
    )
    assert scenario.input_shape == (1, 32, 32)
    perms = scenario.transform.permutations
    assert perms.shape == (2, 1024) and torch.equal(perms[1].sort().values, torch.arange(1024))
    task = scenario[1]
    x, _ = _all_train(scenario, task)
    padded = F.pad(scenario.dataset.train_x[task.train_indices].float() / 255, (2, 2, 2, 2))
    assert torch.equal(x.flatten(1), padded.flatten(1)[:, perms[1]])
    assert x.shape == (50, 1, 32, 32)


# ------------------------------------------------------------------------------ batches
def _python_calls(fn) -> int:
    """Number of Python-level and builtin calls made while running ``fn``."""
    calls = 0

    def count(frame, event, arg):
        nonlocal calls
        if event in ("call", "c_call"):
            calls += 1

    sys.setprofile(count)
    try:
        fn()
    finally:
        sys.setprofile(None)
    return calls


def test_training_batches_are_vectorised_without_per_sample_python(shared_data):
    scenario = build_scenario(
        "permuted-mnist", num_tasks=2, train_samples_per_task=2048, data_root=shared_data
    )
    ids = torch.ones(128, dtype=torch.long)
    x, y = scenario.train_batch(ids, scenario[1].train_indices[:128])
    assert x.shape == (128, 1, 28, 28) and y.shape == (128,)
    assert x.dtype == torch.float32 and y.dtype == torch.int64
    assert x.device == y.device == scenario.device
    # The work done in Python does not grow with the batch size (no loop over samples).
    small = _python_calls(lambda: scenario.train_batch(ids[:8], scenario[1].train_indices[:8]))
    large = _python_calls(lambda: scenario.train_batch(ids, scenario[1].train_indices[:128]))
    assert small == large
    mixed = torch.arange(128) % 2
    assert _python_calls(
        lambda: scenario.train_batch(mixed[:8], scenario[1].train_indices[:8])
    ) == _python_calls(lambda: scenario.train_batch(mixed, scenario[1].train_indices[:128]))


def test_batch_stream_covers_each_epoch_once_and_resumes_identically():
    scenario = build_scenario("split-digits", "class", num_tasks=5)
    stream = BatchStream(scenario, [0, 1], batch_size=32, seed=3)
    per_epoch = stream.iterations_per_epoch
    batches = stream.batches()
    epoch = [next(batches) for _ in range(per_epoch)]
    seen = torch.cat([idx for _, idx in epoch])
    expected = torch.cat([scenario[0].train_indices, scenario[1].train_indices])
    assert torch.equal(seen.sort().values, expected.sort().values)
    task_of = {int(i): 0 for i in scenario[0].train_indices} | {
        int(i): 1 for i in scenario[1].train_indices
    }
    assert all(
        task_of[int(i)] == int(t) for ids, idx in epoch for t, i in zip(ids, idx, strict=True)
    )
    later = [next(batches) for _ in range(3)]
    resumed = stream.batches(per_epoch)
    assert all(torch.equal(a[1], next(resumed)[1]) for a in later)


def test_an_epoch_never_ends_with_a_single_sample_batch():
    from lifelong.data.scenarios import build_scenario
    from lifelong.data.stream import BatchStream

    scenario = build_scenario("split-digits", "class", train_samples_per_task=33)
    stream = BatchStream(scenario, [0], batch_size=16, seed=0)
    batches = stream.batches()
    sizes = [len(next(batches)[1]) for _ in range(stream.iterations_per_epoch)]
    assert sizes == [16, 16]  # the 33rd sample waits for the next epoch's shuffle
    assert BatchStream(scenario, [0], batch_size=64, seed=0).iterations_per_epoch == 1
