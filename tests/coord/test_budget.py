"""Shared rate-limit budgets against the real Redis: members together never exceed a pool,
the hot path mostly makes no round trip, unspent tokens come back."""

from __future__ import annotations

import asyncio
import time

from cexarb.config import RateLimitPool
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
