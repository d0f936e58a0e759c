"""Many runs at once: comparisons, sweeps; executed by local processes or other backends."""
