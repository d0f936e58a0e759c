"""DEN's and PackNet's components on hand-sized cases: drift penalty, split, drop, ownership."""

from __future__ import annotations

import torch
from torch import nn

from lifelong.components.expandable import ExpandableMLP
from lifelong.components.ownership import claim_largest, owned_up_to
from lifelong.components.subnetwork import TrainableSubset


def tiny() -> ExpandableMLP:
    torch.manual_seed(0)
    return ExpandableMLP([nn.Linear(3, 2), nn.Linear(2, 2), nn.Linear(2, 4)])


def test_drift_penalty_sums_squared_change_of_trainable_hidden_weights_only():
    m = tiny()
    subset = TrainableSubset()
    subset.previous = [p.detach().clone() for p in m.interleaved()]
    rows = [torch.tensor([True, False]), torch.tensor([True, True]), torch.tensor([1, 1, 0, 0]) > 0]
    subset.select(m, rows)
    with torch.no_grad():
        m.weights[0][0, 1] += 0.5  # trainable: counts 0.25
        m.weights[0][1, 0] += 3.0  # frozen row: ignored
        m.weights[1][1, 1] -= 0.2  # trainable: counts 0.04
        m.weights[2][0, 0] += 7.0  # output layer (the new task's rows): ignored
    assert torch.isclose(subset.drift_penalty(m), torch.tensor(0.29))


def test_split_duplicates_units_whose_bias_or_weights_drifted_and_restores_originals():
    m = tiny()
    before = (m.weights[0].detach().clone(), m.biases[0].detach().clone())
    with torch.no_grad():
        m.biases[0][1] += 0.5  # only unit 1 drifts, through its bias
        m.weights[0][0, 0] += 0.01
    moved = m.weights[0][1].detach().clone(), m.biases[0][1].item()
    assert m.split_drifted(0, before, threshold=0.1, stage=1) == 1
    assert m.widths[0] == 3 and m.stages[0].tolist() == [0, 0, 1]
    assert torch.equal(m.weights[0][1], before[0][1]) and m.biases[0][1] == before[1][1]
    assert torch.equal(m.weights[0][2], moved[0]) and m.biases[0][2].item() == moved[1]
    assert torch.equal(m.weights[1][:, 2], m.weights[1][:, 1])  # the copy feeds the same units


def test_split_limit_duplicates_only_the_most_drifted_units_and_restores_only_them():
    m = tiny()
    before = (m.weights[0].detach().clone(), m.biases[0].detach().clone())
    with torch.no_grad():
        m.biases[0] += torch.tensor([0.3, 0.9])  # both past the threshold; unit 1 drifted most
    drifted_0 = m.biases[0][0].item()
    assert m.split_drifted(0, before, threshold=0.1, stage=1, limit=1) == 1
    assert m.widths[0] == 3 and m.stages[0].tolist() == [0, 0, 1]
    assert m.biases[0][1] == before[1][1] and m.biases[0][2].item() == before[1][1] + 0.9
    assert m.biases[0][0].item() == drifted_0  # past sigma but over the limit: keeps its values


def test_split_without_limit_duplicates_every_drifted_unit():
    m = tiny()
    before = (m.weights[0].detach().clone(), m.biases[0].detach().clone())
    with torch.no_grad():
        m.biases[0] += torch.tensor([0.3, 0.9])
    assert m.drop_and_split([*before, m.weights[1], m.biases[1]], 0.1, stage=1, limit=0) == (0, 2)
    assert m.widths[0] == 4


def test_drop_empty_removes_only_new_units_with_zero_incoming_weights():
    m = tiny()
    m.widen_all(2, stage=1, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        m.weights[0][3] = 0.0  # a new unit killed by the group penalty
        m.weights[0][0] = 0.0  # an old unit with zero weights stays
    assert m.drop_empty(0, stage=1) == 1
    assert m.widths == [3, 4] and m.weights[1].shape == (4, 3)


def test_claim_largest_gives_the_task_its_share_of_free_weights_by_magnitude():
    w = torch.tensor([[0.1, -0.9, 0.3], [0.5, -0.2, 0.05]])
    expected = torch.tensor([[0.0, -0.9, 0.3], [0.5, 0.0, 0.0]])
    owner = torch.tensor([[0, 1, 0], [0, 0, 0]], dtype=torch.int16)
    claim_largest(w, owner, share=0.5, label=2)  # 5 free weights: keep round(2.5) = 2
    assert owner.tolist() == [[0, 1, 2], [2, 0, 0]]
    assert torch.equal(w, expected)
    assert owned_up_to(owner, 0).sum() == 1 and owned_up_to(owner, 1).sum() == 3
