"""A member's share of one venue pool: tokens leased from the fleet's bucket in small batches.

The hot path takes a token from the batch it holds (no await, no round trip); only
an empty or expired batch costs one atomic script call (coord/scripts.py LEASE).
A batch lives `lease_s`: a token spent later than that is never spent, so the
server may count each grant for `period + lease_s + margin` and the venue, which
counts a request when it arrives, never sees more than the pool's capacity.
Tokens left when a batch lapses are given back (they never reached the venue).

While the server is unreachable a member first waits one span (until everything
the fleet was granted before has stopped counting at the venue), then spends from
a local window of capacity / (members last seen): the members together stay under
the capacity. When the server comes back having lost its state each member
re-charges what it spent in the last span, so a restart never resets the budget to
full while the venue still counts those requests.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from dataclasses import dataclass
from typing import Protocol

from cexarb.config import RateLimitPool


@dataclass(frozen=True, slots=True)
class Grant:
    tokens: int
    wait_s: float  # when nothing was granted: until the oldest counted grant leaves the window
    seq: int


class Unreachable(Exception):
    """The shared state could not be reached (the caller falls back and retries later)."""


class FleetLink(Protocol):
    """What a budget needs from its coordinator."""

    @property
    def online(self) -> bool: ...

    def offline_for(self) -> float:
        """Seconds since the shared state was last reachable (0 while online)."""
        ...

    def members_seen(self) -> int: ...

    async def lease(self, budget: LeasedBudget, want: int, need: int) -> Grant:
        """Lease up to `want` tokens, none if fewer than `need` are free; raises Unreachable."""
        ...

    def give_back(self, budget: LeasedBudget, seq: int, spent: int) -> None:
        """Lease `seq` ends with only `spent` of its tokens spent: return the rest (in the background)."""
        ...


def lease_life_s(period_s: float) -> float:
    """Short enough that a batch's tokens are spent close to when the server counted them,
    long enough that a busy member reuses a batch many times."""
    return min(1.0, max(0.1, period_s / 10.0))


def batch_size(capacity: int) -> int:
    """A tenth of the pool per lease (at least 1, at most 16): members contend fairly."""
    return max(1, min(16, capacity // 10))


class LeasedBudget:
    """`SharedBudget` of one pool, backed by a coordinator's lease and give-back calls."""

    def __init__(
        self,
        scope: str,
        pool: RateLimitPool,
        fleet: FleetLink,
        margin_s: float = 0.1,
    ) -> None:
        self.scope = scope
        self.capacity = pool.capacity
        self.period_s = pool.period_s
        self.lease_s = lease_life_s(pool.period_s)
        self.span_s = pool.period_s + self.lease_s + margin_s
        self.batch = batch_size(pool.capacity)
        self._fleet = fleet
        self._tokens = 0
        self._granted = 0
        self._expires = 0.0
        self._seq = 0
        # Every token spent in the last span (monotonic time it stops counting, weight):
        # the local fallback window, and what to re-charge after the server lost its state.
        self.recent: deque[tuple[float, int]] = deque()
        self.leases = 0  # round trips that granted tokens
        self.fallback_spent = 0

    def try_take(self, weight: int) -> bool:
        """From the batch held, if it is enough and still alive."""
        if self._tokens >= weight and time.monotonic() < self._expires:
            self._tokens -= weight
            self._spent(weight)
            return True
        return False

    async def take(self, weight: int) -> None:
        """Lease a new batch (or, offline, spend from the local share) until `weight` fits."""
        while not self.try_take(weight):
            self._lapse()
            if self._fleet.online:
                started = time.monotonic()
                try:
                    grant = await self._fleet.lease(self, max(self.batch, weight), weight)
                except Unreachable:
                    continue  # now offline: the next pass uses the local share
                if grant.tokens:
                    self._tokens, self._expires, self._seq = grant.tokens, started + self.lease_s, grant.seq
                    self._granted = grant.tokens
                    self.leases += 1
                else:
                    await asyncio.sleep(min(grant.wait_s, self.lease_s))
            elif not self._take_offline(weight):
                await asyncio.sleep(self.lease_s)
            else:
                return

    def held(self) -> int:
        return self._tokens if time.monotonic() < self._expires else 0

    def spent_in_span(self) -> int:
        now = time.monotonic()
        recent = self.recent
        while recent and recent[0][0] <= now:
            recent.popleft()
        return sum(w for _, w in recent)

    def forget_lease(self) -> None:
        """The server lost its state: the batch held was never counted anywhere else."""
        self._tokens, self._expires = 0, 0.0

    def _spent(self, weight: int) -> None:
        self.recent.append((time.monotonic() + self.span_s, weight))

    def release(self) -> tuple[int, int]:
        """Stop using the batch held: (its lease seq, how many of its tokens were spent)."""
        out = (self._seq, self._granted - self._tokens)
        self._tokens, self._expires = 0, 0.0
        return out

    def _lapse(self) -> None:
        if self._tokens:
            self._fleet.give_back(self, *self.release())

    def _take_offline(self, weight: int) -> bool:
        if self._fleet.offline_for() < self.span_s:
            return False  # what others were granted may still count at the venue
        share = max(weight, self.capacity // max(1, self._fleet.members_seen()))
        if self.spent_in_span() + weight > share:
            return False
        self._spent(weight)
        self.fallback_spent += weight
        return True
