"""Weighted sliding-window request budgets, one per venue pool.

A venue counts a request when it arrives, which is some time after we decide to send
it. To never exceed the budget as the venue sees it, a request sent through `lease`
occupies its weight from the moment it is admitted until `period_s` after its reply
(the arrival lies somewhere in between). Plain `acquire` counts from admission only,
for callers with no reply to wait for.

A pool whose spec carries a `shared` budget (a fleet of processes on the same
accounts) also takes the weight from it once the local window admits it; the
shared side lives in cexarb.coord and the transport only sees its methods. Limiters of one
process on the same venue account (its public and private clients) are given one
`SharedWindow` per pool instead: they count in the same window, in flight included, and
a 429's pause stops all of them.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Mapping
from dataclasses import replace

from cexarb.config import RateLimitPool


class _Pool:
    __slots__ = (
        "capacity",
        "period_s",
        "in_flight",
        "window",
        "window_weight",
        "paused_until",
        "gate",
        "released",
        "shared",
        "queued",
    )

    def __init__(self, spec: RateLimitPool) -> None:
        self.capacity = spec.capacity
        self.period_s = spec.period_s
        self.in_flight = 0  # weight admitted and not yet answered
        self.window: deque[tuple[float, int]] = deque()  # (counted-at, weight), oldest first
        self.window_weight = 0
        self.paused_until = 0.0
        # Waiters queue on the gate in arrival order; only its holder polls the budget.
        self.gate = asyncio.Lock()
        self.released = asyncio.Event()
        self.shared = spec.shared
        self.queued = 0  # callers inside _admit: while any waits, nobody passes them

    def expire(self, now: float) -> None:
        horizon = now - self.period_s
        window = self.window
        while window and window[0][0] <= horizon:
            self.window_weight -= window.popleft()[1]


class RateLimiter:
    def __init__(self, pools: Mapping[str, RateLimitPool]) -> None:
        self._pools = {
            name: spec.shared.pool if isinstance(spec.shared, SharedWindow) else _Pool(spec)
            for name, spec in pools.items()
        }

    async def acquire(self, pool: str = "default", weight: int = 1) -> None:
        """Wait until `weight` fits in the pool's window, then count it from now. Never fails."""
        p = self._pool(pool)
        if p is not None:
            weight = await self._admit(p, weight)
            p.window.append((time.monotonic(), weight))
            p.window_weight += weight

    def lease(self, pool: str = "default", weight: int = 1) -> _Lease:
        """`async with limiter.lease(...)`: hold `weight` while the body runs (the request is
        in flight) and `period_s` after."""
        p = self._pools.get(pool)  # _pool, inline: a lease is taken per order
        return _Lease(self, p if p is not None else self._pools.get("default"), weight)

    def penalize(self, pool: str, seconds: float) -> None:
        """The venue said to back off (429 Retry-After): admit nothing on this pool for `seconds`,
        nor anywhere else the pool is shared (the venue refuses all of them alike)."""
        p = self._pool(pool)
        if p is not None and seconds > 0:
            p.paused_until = max(p.paused_until, time.monotonic() + seconds)
            if p.shared is not None:
                p.shared.pause(seconds)

    def used(self, pool: str = "default") -> int:
        """Weight currently counted against the pool (in flight + inside the window)."""
        p = self._pool(pool)
        if p is None:
            return 0
        p.expire(time.monotonic())
        return p.in_flight + p.window_weight

    def budget_left(self) -> dict[str, int]:
        """Weight each pool could still admit now (metrics: alert before it runs out)."""
        return {name: max(0, p.capacity - self.used(name)) for name, p in self._pools.items()}

    def dry(self) -> RateLimiter:
        """A limiter of this one's pools (same names, capacities and periods) that shares
        nothing and counts for nobody: `HttpClient.rehearsing` admits the rehearsed order lane
        against it, so the lease's own code runs and the real budget is untouched. `clear` it
        after each rehearsal."""
        return RateLimiter({name: RateLimitPool(p.capacity, p.period_s) for name, p in self._pools.items()})

    def clear(self) -> None:
        """Forget everything counted, in flight or paused (a dry limiter after its rehearsal;
        never a limiter whose requests are under way)."""
        for p in self._pools.values():
            p.in_flight = p.window_weight = 0
            p.window.clear()
            p.paused_until = 0.0

    def _pool(self, name: str) -> _Pool | None:
        pool = self._pools.get(name)
        return pool if pool is not None else self._pools.get("default")

    async def _admit(self, p: _Pool, weight: int) -> int:
        weight = _clamped(p, weight)
        if not p.queued and _fits_now(p, weight):
            return weight  # nobody waiting and room now: no lock, no await
        return await self._admit_queued(p, weight)

    async def _admit_queued(self, p: _Pool, weight: int) -> int:
        """`_admit` once the fast path said no: wait in turn (`weight` already clamped)."""
        p.queued += 1
        try:
            return await self._admit_in_turn(p, weight)
        finally:
            p.queued -= 1

    async def _admit_in_turn(self, p: _Pool, weight: int) -> int:
        async with p.gate:
            while True:
                now = time.monotonic()
                if p.paused_until > now:
                    await asyncio.sleep(p.paused_until - now)
                    continue
                p.expire(now)
                if p.in_flight + p.window_weight + weight <= p.capacity:
                    shared = p.shared
                    # Usually served from tokens already leased (no await); else one round trip.
                    if shared is not None and not shared.try_take(weight):
                        await shared.take(weight)
                    return weight
                if p.window:
                    # Room only appears when the oldest counted request leaves the window.
                    await asyncio.sleep(p.window[0][0] + p.period_s - now)
                else:
                    # Everything counted is still in flight: wait for a reply to start its clock.
                    p.released.clear()
                    await p.released.wait()


def _clamped(p: _Pool, weight: int) -> int:
    # A request heavier than the whole budget could never pass: let it use the whole budget.
    return min(max(weight, 1), p.capacity)


def _fits_now(p: _Pool, weight: int) -> bool:
    """Whether `weight` is admitted at once (then it is taken from the shared budget too)."""
    now = time.monotonic()
    if p.paused_until > now:
        return False
    window = p.window
    if window and window[0][0] <= now - p.period_s:  # expire()'s test first: it is called per order
        p.expire(now)
    if p.in_flight + p.window_weight + weight > p.capacity:
        return False
    return p.shared is None or p.shared.try_take(weight)


class _Lease:
    """The async context of `RateLimiter.lease` (a class: a generator-based context manager
    cost ~10 us on the order path)."""

    __slots__ = ("_limiter", "_pool", "_weight")

    def __init__(self, limiter: RateLimiter, pool: _Pool | None, weight: int) -> None:
        self._limiter = limiter
        self._pool = pool
        self._weight = weight

    def enter_now(self) -> bool:
        """Admit now if that needs no wait (`__aenter__`'s fast path: nobody queued, room now),
        counting the weight in flight; else take nothing and return False."""
        p = self._pool
        if p is None:
            return True
        weight = self._weight
        if not 1 <= weight <= p.capacity:  # _clamped's test first: it is called per order
            weight = _clamped(p, weight)
        if p.queued or not _fits_now(p, weight):
            return False
        self._weight = weight
        p.in_flight += weight
        return True

    def exit_now(self) -> None:
        """`__aexit__`'s body, synchronous: the weight leaves the in-flight count and is counted
        in the window from now (`period_s` long). Once per admission."""
        p = self._pool
        if p is not None:
            p.in_flight -= self._weight
            p.window.append((time.monotonic(), self._weight))
            p.window_weight += self._weight
            p.released.set()

    async def __aenter__(self) -> None:
        # enter_now is the fast path (no `_admit` coroutine); only a wait queues.
        if not self.enter_now():
            p = self._pool
            self._weight = await self._limiter._admit_queued(p, _clamped(p, self._weight))
            p.in_flight += self._weight

    async def __aexit__(self, *exc_info: object) -> None:
        self.exit_now()


class SharedWindow:
    """`SharedBudget` that is one pool's window for every limiter of this process given it: a
    limiter admits against it directly (no window of its own), so together they never count
    more than the pool's capacity, and a 429 one of them sees pauses them all."""

    __slots__ = ("_limiter", "pool")

    def __init__(self, spec: RateLimitPool) -> None:
        self._limiter = RateLimiter({"default": replace(spec, shared=None)})
        self.pool = self._limiter._pools["default"]

    def try_take(self, weight: int) -> bool:
        """Count `weight` from now if it fits now (nobody waiting, the pool not paused)."""
        p = self.pool
        if p.queued or not _fits_now(p, weight):
            return False
        p.window.append((time.monotonic(), weight))
        p.window_weight += weight
        return True

    async def take(self, weight: int) -> None:
        """Wait until `weight` fits, then count it from now."""
        await self._limiter.acquire("default", weight)

    def pause(self, seconds: float) -> None:
        """Admit nothing for `seconds` (a 429's Retry-After seen by any limiter on the pool)."""
        self._limiter.penalize("default", seconds)

    def paused_s(self) -> float:
        """Seconds left in the pause (0: not paused)."""
        return max(0.0, self.pool.paused_until - time.monotonic())
