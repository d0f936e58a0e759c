"""Hyperparameters that keep each strategy's contract tests fast (small buffers, few samples).

Add an entry when a strategy's defaults are too slow for a 20-iteration run on split-digits.
"""

FAST_PARAMS: dict[str, dict[str, object]] = {}
