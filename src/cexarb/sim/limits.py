"""Server-side rate limits: a fixed-window weight budget per (caller, pool).

Front-ends call `hit` for every request and answer 429 (with the venue's own
headers) when it returns a retry-after. Pools mirror `cexarb.config`'s, so a
client that respects its own limiter never sees a 429.
"""

from __future__ import annotations

import time
from collections.abc import Mapping

from cexarb.config import RateLimitPool


class SimRateLimits:
    __slots__ = ("pools", "enabled", "rejected", "_windows")

    def __init__(self, pools: Mapping[str, RateLimitPool] | None = None, *, enabled: bool = True) -> None:
        self.pools = dict(pools or {})
        self.enabled = enabled
        self.rejected = 0  # requests answered with retry-after (the front-end's 429s)
        self._windows: dict[tuple[str, str], list[float]] = {}  # key -> [window_start, weight_used]

    def hit(
        self, caller: str, pool: str = "default", weight: int = 1, now: float | None = None
    ) -> float | None:
        """Count a request; None if allowed, else the seconds until the window resets."""
        if not self.enabled or not self.pools:
            return None
        name = pool if pool in self.pools else "default"
        spec = self.pools.get(name)
        if spec is None:
            return None
        now = time.monotonic() if now is None else now
        key = (caller, name)
        window = self._windows.get(key)
        if window is None or now - window[0] >= spec.period_s:
            window = self._windows[key] = [now, 0.0]
        if window[1] + weight > spec.capacity:
            self.rejected += 1
            return max(0.001, window[0] + spec.period_s - now)
        window[1] += weight
        return None

    def remaining(
        self, caller: str, pool: str = "default", now: float | None = None
    ) -> tuple[int, int, float]:
        """(remaining weight, capacity, seconds to reset) for rate-limit headers."""
        name = pool if pool in self.pools else "default"
        spec = self.pools.get(name)
        if spec is None:
            return (0, 0, 0.0)
        now = time.monotonic() if now is None else now
        window = self._windows.get((caller, name))
        if window is None or now - window[0] >= spec.period_s:
            return (spec.capacity, spec.capacity, spec.period_s)
        return (int(spec.capacity - window[1]), spec.capacity, window[0] + spec.period_s - now)
