"""cexarb benchmarks: `make bench` (or `python -m bench [--quick]`). Figures only, never pass/fail."""
