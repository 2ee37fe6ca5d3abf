"""Counters a WebSocket client keeps; composites report them.
And the fixed-bucket latency histogram every layer observes into (metrics export it)."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass, field

# Milliseconds: a REST call or an order round trip on a venue.
MS_BUCKETS = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000)
# Microseconds: the engine's frame-to-decision time.
US_BUCKETS = (10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 50000)


class LatencyHistogram:
    """Counts per bucket (`value <= bound`, then one for above the last), sum and count:
    what a Prometheus histogram needs, for about 0.2 us per observation and no lock
    (observed and read on the event loop's thread)."""

    __slots__ = ("bounds", "counts", "sum", "count")

    def __init__(self, bounds: Sequence[float]) -> None:
        self.bounds = tuple(bounds)
        self.counts = [0] * (len(self.bounds) + 1)
        self.sum = 0.0
        self.count = 0

    def observe(self, value: float) -> None:
        self.counts[bisect_left(self.bounds, value)] += 1
        self.sum += value
        self.count += 1

    def cumulative(self) -> list[tuple[str, int]]:
        """(upper bound, observations at or below it) ending with +Inf, as Prometheus writes them."""
        out, running = [], 0
        for bound, n in zip((*self.bounds, float("inf")), self.counts, strict=True):
            running += n
            out.append(("+Inf" if bound == float("inf") else f"{bound:g}", running))
        return out


@dataclass(slots=True)
class StreamStats:
    """Counters a WebSocket client exposes; the composite reports them."""

    frames: int = 0
    bad_frames: int = 0
    reconnects: int = 0
    last_reconnect_ms: int = 0
    errors_by_kind: dict[str, int] = field(default_factory=dict)
    # Channels the venue refused and that are still refused (channel -> the venue's reason).
    failed_subscriptions: dict[str, str] = field(default_factory=dict)
