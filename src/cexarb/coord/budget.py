"""A member's share of one venue pool: tokens leased from the fleet's bucket in small batches.

The hot path takes a token from the batch it holds (no await, no round trip); only
an empty or expired batch costs one atomic script call (coord/scripts.py LEASE).
A batch lives `lease_s`: a token spent later than that is never spent, so the
server may count each grant for `period + lease_s + margin` and the venue, which
counts a request when it arrives, never sees more than the pool's capacity.
Tokens left when a batch lapses are given back (they never reached the venue).

Part of each pool is never handed out by the shared bucket: it is split into
`max_members` private slices, one per member, each spent without asking anyone. That
keeps a member able to cancel and hedge while the server is away or refusing (a
restart's grace period), and everything spent stays under the capacity even when
only some members lose the server: shared bucket + every slice = the capacity.

A 429 with Retry-After seen by one member pauses the pool for every member (the venue
counts them as one): the member that saw it stops at once and tells the fleet, which
refuses every lease until the pause ends; nobody spends a private slice meanwhile.
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

    @property
    def max_members(self) -> int:
        """How many members the fleet may have (each owns one private slice)."""
        ...

    async def lease(self, budget: LeasedBudget, want: int, need: int) -> Grant:
        """Lease up to `want` tokens, none if fewer than `need` are free; raises Unreachable."""
        ...

    def give_back(self, budget: LeasedBudget, seq: int, spent: int) -> None:
        """Lease `seq` ends with only `spent` of its tokens spent: return the rest (in the background)."""
        ...

    def pause(self, budget: LeasedBudget, seconds: float) -> None:
        """The venue told this member to back off: pause the pool fleet-wide (in the background)."""
        ...


def lease_life_s(period_s: float) -> float:
    """Short enough that a batch's tokens are spent close to when the server counted them,
    long enough that a busy member reuses a batch many times."""
    return min(1.0, max(0.1, period_s / 10.0))


def private_slice(capacity: int, max_members: int) -> int:
    """Each member's slice: a fifth of the pool split among the members, at least one token
    each while that leaves half the pool shared (else none: the pool is too small)."""
    private = min(capacity // 2, max(capacity // 5, max_members))
    return private // max(1, max_members)


def batch_size(capacity: int) -> int:
    """A tenth of the pool per lease (at least 1, at most 16): members contend fairly."""
    return max(1, min(16, capacity // 10))


class LeasedBudget:
    """`SharedBudget` of one pool, backed by a coordinator's lease and give-back calls."""

    def __init__(self, scope: str, pool: RateLimitPool, fleet: FleetLink, margin_s: float = 0.1) -> None:
        self.scope = scope
        self.capacity = pool.capacity
        self.slice = private_slice(pool.capacity, fleet.max_members)
        self.shared_capacity = pool.capacity - self.slice * fleet.max_members
        self.period_s = pool.period_s
        self.lease_s = lease_life_s(pool.period_s)
        self.span_s = pool.period_s + self.lease_s + margin_s
        self.batch = batch_size(self.shared_capacity)
        self._fleet = fleet
        self._tokens = 0
        self._granted = 0
        self._expires = 0.0
        self._seq = 0
        self._paused_until = 0.0  # monotonic: a 429's pause, this member's or another's
        # Private-slice spends in the last span (monotonic time each stops counting, weight).
        self._private_spent: deque[tuple[float, int]] = deque()
        self.leases = 0  # round trips that granted tokens
        self.private_taken = 0

    def try_take(self, weight: int) -> bool:
        """From the batch held, if it is enough and still alive (and the pool not paused)."""
        now = time.monotonic()
        if self._tokens >= weight and now < self._expires and now >= self._paused_until:
            self._tokens -= weight
            return True
        return False

    def pause(self, seconds: float) -> None:
        """This member got a 429 with Retry-After: stop now and pause the fleet's pool."""
        self.hold(seconds)
        self._fleet.pause(self, seconds)

    def hold(self, seconds: float) -> None:
        """Spend nothing from this pool for `seconds` (a pause from the fleet or this member);
        the batch held goes back, its tokens never reached the venue."""
        self._paused_until = max(self._paused_until, time.monotonic() + seconds)
        self._lapse()

    def paused_s(self) -> float:
        """Seconds left in the pause (0: not paused)."""
        return max(0.0, self._paused_until - time.monotonic())

    async def take(self, weight: int) -> None:
        """Lease a new batch until `weight` fits; meanwhile (refused, or the server away) spend
        from this member's private slice if it has room."""
        weight = min(weight, max(1, self.shared_capacity))
        while not self.try_take(weight):
            self._lapse()
            paused = self._paused_until - time.monotonic()
            if paused > 0:
                await asyncio.sleep(paused)
                continue
            wait = self.lease_s
            if self._fleet.online:
                started = time.monotonic()
                try:
                    grant = await self._fleet.lease(self, max(self.batch, weight), weight)
                except Unreachable:
                    grant = None
                if grant is not None and grant.tokens:
                    self._tokens, self._expires, self._seq = grant.tokens, started + self.lease_s, grant.seq
                    self._granted = grant.tokens
                    self.leases += 1
                    continue
                if grant is not None:
                    wait = min(grant.wait_s, self.lease_s)
                if self._paused_until > time.monotonic():
                    continue  # the fleet's pool is paused (lease refused): no private slice either
            if self._take_private(weight):
                return
            await asyncio.sleep(wait)

    def held(self) -> int:
        return self._tokens if time.monotonic() < self._expires else 0

    def private_in_span(self) -> int:
        now = time.monotonic()
        spent = self._private_spent
        while spent and spent[0][0] <= now:
            spent.popleft()
        return sum(w for _, w in spent)

    def release(self) -> tuple[int, int]:
        """Stop using the batch held: (its lease seq, how many of its tokens were spent)."""
        out = (self._seq, self._granted - self._tokens)
        self._tokens, self._expires = 0, 0.0
        return out

    def _lapse(self) -> None:
        if self._tokens:
            self._fleet.give_back(self, *self.release())

    def _take_private(self, weight: int) -> bool:
        if self.private_in_span() + weight > self.slice:
            return False
        self._private_spent.append((time.monotonic() + self.span_s, weight))
        self.private_taken += weight
        return True
