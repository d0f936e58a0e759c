"""The real MNIST / Fashion-MNIST files in ../shared/data load with their published statistics."""

from __future__ import annotations

import torch

from lifelong.data.datasets import load_dataset

MNIST_TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
MNIST_TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


def test_mnist_label_counts_and_pixel_mean(shared_data):
    data = load_dataset("mnist", shared_data)
    assert data.train_x.shape == (60000, 1, 28, 28) and data.train_x.dtype == torch.uint8
    assert data.train_y.bincount().tolist() == MNIST_TRAIN_COUNTS
    assert data.test_y.bincount().tolist() == MNIST_TEST_COUNTS
    mean = data.train_x.double().div(data.scale).mean().item()
    assert abs(mean - 0.1307) < 5e-5


def test_fashion_mnist_is_balanced(shared_data):
    data = load_dataset("fashion-mnist", shared_data)
    assert data.train_y.bincount().tolist() == [6000] * 10
    assert data.test_y.bincount().tolist() == [1000] * 10
    assert abs(data.train_x.double().div(255).mean().item() - 0.2860) < 5e-5
