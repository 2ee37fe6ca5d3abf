"""Shared rate-limit budgets against the real Redis: members together never exceed a pool,
the hot path mostly makes no round trip, unspent tokens come back."""

from __future__ import annotations

import asyncio
import time

from cexarb.config import RateLimitPool
from cexarb.coord import InProcessCoordinator
from cexarb.coord.control import read_status
from cexarb.coord.keys import FleetKeys
from cexarb.transport.ratelimit import RateLimiter
from tests.coord.helpers import max_in_any_window, member
from tests.support import eventually

SCOPE = "gateio.spot:orders"


async def test_three_members_through_their_rate_limiters_stay_under_the_pool(redis_url, fleet):
    pool = RateLimitPool(capacity=10, period_s=0.4)
    members = [await member(redis_url, fleet, f"m{i}") for i in range(3)]
    spent: list[float] = []
    try:
        limiters = [
            RateLimiter({"orders": RateLimitPool(10, 0.4, shared=m.budget(SCOPE, pool))}) for m in members
        ]

        async def burst(limiter: RateLimiter) -> None:
            for _ in range(12):
                async with limiter.lease("orders"):
                    spent.append(time.monotonic())

        await asyncio.gather(*(burst(lim) for lim in limiters))
    finally:
        for m in members:
            await m.close()
    assert len(spent) == 36
    # Alone, each limiter would allow 10 per 0.4 s: three of them 30.
    assert max_in_any_window(spent, pool.period_s) <= pool.capacity


async def test_a_busy_member_leases_in_batches(redis_url, fleet):
    m = await member(redis_url, fleet, "solo")
    try:
        budget = m.budget(SCOPE, RateLimitPool(capacity=200, period_s=10.0))
        before = m.round_trips
        for _ in range(100):
            if not budget.try_take(1):
                await budget.take(1)
        lease_trips = budget.leases
    finally:
        await m.close()
    assert lease_trips <= 100 // budget.batch + 2
    assert lease_trips >= 100 // budget.batch
    assert m.round_trips - before < 100


async def test_unspent_tokens_of_a_lapsed_lease_are_given_back(redis_url, fleet):
    a = await member(redis_url, fleet, "a")
    keys = FleetKeys(fleet)
    try:
        budget = a.budget(SCOPE, RateLimitPool(capacity=200, period_s=5.0))
        await budget.take(1)  # leases a batch, spends one
        assert budget.held() == budget.batch - 1
        status = await read_status(a.redis, keys)
        assert status.budgets[SCOPE][0] == budget.batch
        # The batch lapses after lease_s; the next take gives the rest back and leases anew.
        await eventually(lambda: budget.held() == 0, what="lease to lapse")
        await budget.take(1)

        async def counted() -> int:
            return (await read_status(a.redis, keys)).budgets[SCOPE][0]

        deadline = time.monotonic() + 5
        while await counted() != 2 + budget.batch - 1:
            assert time.monotonic() < deadline, "unspent tokens were not given back"
            await asyncio.sleep(0.01)
    finally:
        await a.close()


async def test_a_429_seen_by_one_member_pauses_the_pool_for_every_member(redis_url, fleet):
    """Member 0's venue answers 429 with Retry-After: 30 (its HTTP client penalizes the pool):
    every member stops spending, what they held goes back, and a member that missed the
    message is refused by the server until the pause ends."""
    pool = RateLimitPool(capacity=100, period_s=5.0)
    members = [await member(redis_url, fleet, f"m{i}") for i in range(3)]
    late = None
    try:
        budgets = [m.budget(SCOPE, pool) for m in members]
        limiters = [RateLimiter({"orders": RateLimitPool(100, 5.0, shared=b)}) for b in budgets]
        for lim in limiters:
            await lim.acquire("orders")  # each member now holds a leased batch
        assert all(b.held() > 0 for b in budgets)

        limiters[0].penalize("orders", 30.0)
        await eventually(lambda: all(b.paused_s() > 0 for b in budgets), what="every member paused")
        assert all(b.held() == 0 and not b.try_take(1) for b in budgets)
        assert members[0].pauses_sent == 1
        ttl = await members[0].redis.pttl(FleetKeys(fleet).pause(SCOPE))
        assert 20_000 < ttl <= 30_000

        # Joined after the message: the server itself refuses its lease and tells it to wait.
        late = await member(redis_url, fleet, "late")
        late_budget = late.budget(SCOPE, pool)
        grant = await late.lease(late_budget, 1, 1)
        assert grant.tokens == 0 and grant.wait_s > 20
        assert late_budget.paused_s() > 20 and not late_budget.try_take(1)
    finally:
        for m in [*members, late]:
            if m is not None:
                await m.close()


async def test_the_pool_is_leased_again_once_the_pause_ends(redis_url, fleet):
    pool = RateLimitPool(capacity=100, period_s=5.0)
    a, b = await member(redis_url, fleet, "a"), await member(redis_url, fleet, "b")
    try:
        limiters = [
            RateLimiter({"orders": RateLimitPool(100, 5.0, shared=m.budget(SCOPE, pool))}) for m in (a, b)
        ]
        limiters[0].penalize("orders", 0.3)
        await eventually(lambda: a.pauses_sent == 1, what="the pause sent")
        await asyncio.wait_for(limiters[1].acquire("orders"), 10.0)
        assert b.budget(SCOPE, pool).paused_s() == 0 and b.budget(SCOPE, pool).leases == 1
    finally:
        await a.close()
        await b.close()


async def test_in_one_process_a_429_pauses_every_limiter_on_the_pool():
    """A venue's public and private clients each keep a limiter on the same pools: a 429 seen
    by one pauses the other too (the in-process coordinator's budget)."""
    coord = InProcessCoordinator()
    pool = RateLimitPool(capacity=100, period_s=5.0)

    def limiter(scope: str) -> RateLimiter:
        return RateLimiter({"orders": RateLimitPool(100, 5.0, shared=coord.budget(scope, pool))})

    public, private = limiter(SCOPE), limiter(SCOPE)
    private.penalize("orders", 30.0)
    shared = coord.budget(SCOPE, pool)
    assert shared.paused_s() > 20 and not shared.try_take(1)
    # Unpaused, acquire returns without ever suspending; paused, it is still waiting after
    # the loop has run it once.
    waiting = asyncio.create_task(public.acquire("orders"))
    await asyncio.sleep(0)
    assert not waiting.done()
    waiting.cancel()
    # Another pool has its own pause: short, and acquiring waits it out.
    other = limiter("gateio.futures:orders")
    other.penalize("orders", 0.05)
    await asyncio.wait_for(other.acquire("orders"), 10.0)
    assert coord.budget("gateio.futures:orders", pool).paused_s() == 0 and shared.paused_s() > 20
