"""Loss-plateau detection on a window of recent losses (Aljundi, Kelchtermans & Tuytelaars 2019,
"Task-Free Continual Learning", CVPR): the trigger a task-free method can use in place of a task end.

The last ``window`` losses have mean mu and variance sigma^2. A *peak* is flagged once
``mu > mu_last + sigma_last`` (the window's mean and deviation at the last plateau; the start of the
stream counts as a peak). A *plateau* after a peak is ``mu < mean_threshold`` and
``sigma^2 < variance_threshold``: the current distribution has been learnt.
"""

from __future__ import annotations

from typing import Any

import torch


class PlateauDetector:
    """Peak-then-plateau detection on a window of recent losses (the paper's update trigger)."""

    def __init__(self, window: int, mean_threshold: float, variance_threshold: float) -> None:
        self.window, self.mean_threshold, self.variance_threshold = (
            window,
            mean_threshold,
            variance_threshold,
        )
        self.losses: list[float] = []
        self.last_mean, self.last_std, self.peak = 0.0, 0.0, True

    def observe(self, loss: float) -> bool:
        """Add a loss; True when the window is a plateau after a peak (then the peak is reset)."""
        self.losses = (self.losses + [loss])[-self.window :]
        if len(self.losses) < self.window:
            return False
        values = torch.tensor(self.losses, dtype=torch.float64)
        mean, variance = float(values.mean()), float(values.var(unbiased=False))
        if not self.peak and mean > self.last_mean + self.last_std:
            self.peak = True
        if self.peak and mean < self.mean_threshold and variance < self.variance_threshold:
            self.last_mean, self.last_std, self.peak = mean, variance**0.5, False
            return True
        return False

    def state(self) -> dict[str, Any]:
        return {"losses": self.losses, "last": [self.last_mean, self.last_std], "peak": self.peak}

    def load(self, state: dict[str, Any]) -> None:
        self.losses = list(state["losses"])
        self.last_mean, self.last_std = state["last"]
        self.peak = state["peak"]
