"""Hyperparameters that keep each strategy's contract tests fast (small buffers, few samples).

Add an entry when a strategy's defaults are too slow for a 20-iteration run on split-digits.
"""

FAST_PARAMS: dict[str, dict[str, object]] = {}

# replay and gradient-episodic methods (issue 4): small memories, small generator
FAST_PARAMS.update(
    {
        "er": {"buffer_size": 60, "replay_batch_size": 16},
        "gem": {"buffer_size": 60},
        "agem": {"buffer_size": 60, "replay_batch_size": 16},
        "icarl": {"buffer_size": 60, "replay_batch_size": 16},
        "der": {"buffer_size": 60, "replay_batch_size": 16},
        "derpp": {"buffer_size": 60, "replay_batch_size": 16},
        "generative-replay": {"replay_batch_size": 16, "generator_hidden": (32,), "latent_size": 8},
        "pseudo-rehearsal": {"replay_batch_size": 16},
    }
)

# online methods (issue 14)
FAST_PARAMS.update(
    {
        "mir": {"buffer_size": 60, "replay_batch_size": 8, "candidates": 16},
        "er-ace": {"buffer_size": 60, "replay_batch_size": 16},
        "gdumb": {"buffer_size": 60, "epochs": 2, "retrain_batch_size": 16},
        "tf-mas": {"hard_buffer_size": 8, "update_every": 3},
    }
)
