"""The three settings: what a model is told at test time (see :mod:`lifelong.data.scenarios`).

A module of its own, without torch, so the run configuration and ``lifelong --help`` import it
cheaply.
"""

from typing import Literal

Setting = Literal["task", "domain", "class"]
