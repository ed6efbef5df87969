"""Image stages: pure functions from arrays to typed results. No models, no I/O beyond decoding."""
