"""Timing primitives and the result table shared by every benchmark row.

Per-event rows time each call on its own input (`time_each_us`) so the median and p99
are per event, with the clock's own cost measured once and subtracted. Sub-microsecond
calls on a fixed input are timed in batches (`time_per_call_us`). The garbage collector
is off while timing, for cexarb and for its peer alike.
"""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class Row:
    name: str
    unit: str  # "us" (per operation), "ops/s", "MB", "KB" or "ms"
    median: float
    p99: float | None
    samples: int
    peer: str = ""
    peer_median: float | None = None
    peer_p99: float | None = None
    goal: str = ""
    note: str = ""
    # Per-level figures (book diffs): median us divided by the levels in each frame.
    per_level: float | None = None
    peer_per_level: float | None = None

    @property
    def ratio(self) -> float | None:
        """How many times better than the peer (faster, or more ops/s), or None."""
        if self.peer_median is None or not self.median:
            return None
        if self.unit == "ops/s":
            return self.median / self.peer_median
        return self.peer_median / self.median


@dataclass
class Report:
    rows: list[Row] = field(default_factory=list)

    def add(self, row: Row) -> Row:
        self.rows.append(row)
        return row

    def as_json(self) -> list[dict]:
        out = []
        for r in self.rows:
            d = asdict(r)
            d["ratio"] = r.ratio
            out.append(d)
        return out


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[k]


def clock_overhead_ns() -> float:
    """Median cost of one back-to-back pair of perf_counter_ns calls."""
    clock = time.perf_counter_ns
    out = []
    for _ in range(20_000):
        t0 = clock()
        out.append(clock() - t0)
    return statistics.median(out)


_OVERHEAD_NS: float | None = None


def _overhead() -> float:
    global _OVERHEAD_NS
    if _OVERHEAD_NS is None:
        _OVERHEAD_NS = clock_overhead_ns()
    return _OVERHEAD_NS


def time_each_us(fn: Callable[[Any], object], inputs: Sequence[Any], warmup: int) -> tuple[float, float, int]:
    """(median us, p99 us, samples): `fn` called on every input in order, the first
    `warmup` untimed (state-carrying inputs such as book diff chains stay in order)."""
    for item in inputs[:warmup]:
        fn(item)
    timed = inputs[warmup:]
    out = [0.0] * len(timed)
    clock = time.perf_counter_ns
    overhead = _overhead()
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        for i, item in enumerate(timed):
            t0 = clock()
            fn(item)
            out[i] = clock() - t0
    finally:
        if gc_was_enabled:
            gc.enable()
    us = [max(0.0, ns - overhead) / 1000.0 for ns in out]
    return statistics.median(us), percentile(us, 0.99), len(us)


def time_pair_us(
    ours: Callable[[Any], object],
    peer: Callable[[Any], object] | None,
    inputs: Sequence[Any],
    warmup: int,
    chunks: int = 20,
) -> tuple[tuple[float, float, int], tuple[float, float, int] | None]:
    """`time_each_us` for cexarb and its peer on the same inputs, alternating chunk by chunk
    so both see the same machine load (the ratio stays meaningful on a shared machine)."""
    for item in inputs[:warmup]:
        ours(item)
        if peer is not None:
            peer(item)
    timed = inputs[warmup:]
    size = max(1, len(timed) // chunks)
    clock = time.perf_counter_ns
    overhead = _overhead()
    samples: tuple[list[int], list[int]] = ([], [])
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        for start in range(0, len(timed), size):
            chunk = timed[start : start + size]
            for fn, out in ((ours, samples[0]), (peer, samples[1])):
                if fn is None:
                    continue
                for item in chunk:
                    t0 = clock()
                    fn(item)
                    out.append(clock() - t0)
    finally:
        if gc_was_enabled:
            gc.enable()

    def stats(ns: list[int]) -> tuple[float, float, int]:
        us = [max(0.0, x - overhead) / 1000.0 for x in ns]
        return statistics.median(us), percentile(us, 0.99), len(us)

    return stats(samples[0]), (stats(samples[1]) if peer is not None else None)


def time_per_call_us(fn: Callable[[], object], samples: int, batch: int = 1) -> tuple[float, float, int]:
    """(median us, p99 us, samples) of `fn`, each sample averaging `batch` calls."""
    for _ in range(min(1000, samples)):  # warm caches and branch predictors
        fn()
    out: list[float] = []
    clock = time.perf_counter_ns
    overhead = _overhead()
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        for _ in range(samples):
            t0 = clock()
            for _ in range(batch):
                fn()
            out.append(max(0.0, clock() - t0 - overhead) / batch / 1000.0)
    finally:
        if gc_was_enabled:
            gc.enable()
    return statistics.median(out), percentile(out, 0.99), samples


def run_sync(coro) -> Any:
    """Run a coroutine that never suspends, without an event loop: the cost an `await`
    of it has inside a running task (the call plus the coroutine frame)."""
    try:
        coro.send(None)
    except StopIteration as stop:
        return stop.value
    coro.close()
    raise RuntimeError("coroutine suspended: it is not a synchronous-path call")
