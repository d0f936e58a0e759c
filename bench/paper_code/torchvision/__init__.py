"""Stand-in for the parts of torchvision that van de Ven & Tolias' code (f0b1461) uses."""

from . import datasets, transforms, utils  # noqa: F401
