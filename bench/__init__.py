"""Load and latency benchmarks: Quietline against a bare Starlette baseline (``make bench``)."""
