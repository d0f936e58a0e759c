"""Core: the strategy interface and registry, the learner loop, configuration, checkpoints."""
