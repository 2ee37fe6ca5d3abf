import asyncio
import contextlib
import time

from cexarb.config import RateLimitPool
from cexarb.transport.ratelimit import RateLimiter
from tests.support import eventually

# Recording happens a few microseconds after the limiter's own timestamp; allow that much.
_RECORDING_SLACK_S = 1e-3


def max_weight_in_any_window(events: list[tuple[float, int]], period_s: float) -> int:
    events = sorted(events)
    worst = 0
    for i, (start, _) in enumerate(events):
        total = sum(w for t, w in events[i:] if t < start + period_s - _RECORDING_SLACK_S)
        worst = max(worst, total)
    return worst


async def test_acquire_never_exceeds_weighted_budget():
    limiter = RateLimiter({"default": RateLimitPool(capacity=10, period_s=0.1)})
    events: list[tuple[float, int]] = []

    async def call(weight: int) -> None:
        await limiter.acquire("default", weight)
        events.append((time.monotonic(), weight))

    await asyncio.gather(*(call(1 + i % 4) for i in range(60)))
    assert len(events) == 60
    assert max_weight_in_any_window(events, 0.1) <= 10


async def test_in_flight_lease_holds_budget_until_period_after_release():
    limiter = RateLimiter({"default": RateLimitPool(capacity=1, period_s=0.1)})
    async with limiter.lease():
        waiter = asyncio.create_task(limiter.acquire())
        await asyncio.sleep(0.15)  # longer than the period: only the open lease holds it back
        assert not waiter.done()
        released_at = time.monotonic()
    await waiter
    assert time.monotonic() - released_at >= 0.1


async def test_penalize_pauses_the_pool():
    limiter = RateLimiter({"default": RateLimitPool(capacity=100, period_s=1.0)})
    await limiter.acquire()
    paused_at = time.monotonic()
    limiter.penalize("default", 0.2)
    await limiter.acquire()
    assert time.monotonic() - paused_at >= 0.2


async def test_unknown_pool_falls_back_to_default():
    limiter = RateLimiter({"default": RateLimitPool(capacity=5, period_s=10.0)})
    await limiter.acquire("no-such-pool", 3)
    assert limiter.used("default") == 3
    assert limiter.used("another-unknown") == 3


async def test_named_pools_are_independent():
    limiter = RateLimiter({"default": RateLimitPool(5, 10.0), "orders": RateLimitPool(2, 10.0)})
    await limiter.acquire("orders", 2)
    await asyncio.wait_for(limiter.acquire("default", 5), 1.0)  # not held back by "orders"
    assert limiter.used("orders") == 2
    assert limiter.used("default") == 5


async def test_no_pools_means_no_limiting():
    limiter = RateLimiter({})
    await asyncio.wait_for(asyncio.gather(*(limiter.acquire("x", 1000) for _ in range(100))), 1.0)
    async with limiter.lease("x"):
        pass
    assert limiter.used("x") == 0


async def test_weight_above_capacity_waits_for_the_whole_budget_instead_of_forever():
    limiter = RateLimiter({"default": RateLimitPool(capacity=5, period_s=0.05)})
    await asyncio.wait_for(limiter.acquire("default", 50), 1.0)
    await asyncio.wait_for(limiter.acquire("default", 50), 1.0)
    assert limiter.used() <= 5


async def test_cancelled_waiter_does_not_block_the_queue():
    limiter = RateLimiter({"default": RateLimitPool(capacity=1, period_s=0.05)})
    await limiter.acquire()
    stuck = asyncio.create_task(limiter.acquire())
    await asyncio.sleep(0)
    stuck.cancel()
    await asyncio.wait_for(limiter.acquire(), 1.0)
    assert limiter.used() == 1


async def test_enter_now_admits_only_what_needs_no_wait_and_takes_nothing_otherwise():
    limiter = RateLimiter({"default": RateLimitPool(capacity=4, period_s=60.0)})
    first = limiter.lease("default", 2)
    assert first.enter_now()
    assert limiter.used() == 2  # in flight
    assert not limiter.lease("default", 3).enter_now()  # no room: nothing taken
    assert limiter.used() == 2
    first.exit_now()
    assert limiter.used() == 2  # now counted in the window, once
    assert limiter.lease("default", 1).enter_now()
    assert limiter.used() == 3
    limiter.penalize("default", 60.0)
    assert not limiter.lease("default", 1).enter_now()  # paused, though there is room
    assert limiter.used() == 3


async def test_enter_now_never_passes_a_caller_queued_for_the_budget():
    limiter = RateLimiter({"default": RateLimitPool(capacity=2, period_s=60.0)})
    held = limiter.lease("default", 1)
    assert held.enter_now()
    queued = asyncio.create_task(limiter.acquire("default", 2))
    await eventually(lambda: limiter._pools["default"].queued == 1, what="the acquire queued")
    assert not limiter.lease("default", 1).enter_now()  # there is room, but someone waits for it
    queued.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await queued
    assert limiter.used() == 1


async def test_a_lease_entered_by_the_context_manager_is_the_same_accounting():
    limiter = RateLimiter({"default": RateLimitPool(capacity=5, period_s=60.0)})
    async with limiter.lease("default", 9):  # clamped to the whole budget
        assert limiter.used() == 5
        assert not limiter.lease("default", 1).enter_now()
    assert limiter.used() == 5
    assert RateLimiter({}).lease("x").enter_now()  # no pools: nothing to count


async def test_a_dry_limiter_has_the_same_pools_shares_nothing_and_clears():
    taken: list[int] = []

    class Budget:  # a fleet's shared budget: the dry copy must never take from it
        def try_take(self, weight: int) -> bool:
            taken.append(weight)
            return True

    limiter = RateLimiter(
        {"default": RateLimitPool(3, 60.0), "orders": RateLimitPool(2, 10.0, shared=Budget())}
    )
    assert limiter.lease("orders", 1).enter_now() and taken == [1]
    limiter.penalize("default", 60.0)
    dry = limiter.dry()
    assert {n: (p.capacity, p.period_s, p.shared) for n, p in dry._pools.items()} == {
        "default": (3, 60.0, None),
        "orders": (2, 10.0, None),
    }
    lease = dry.lease("orders", 1)
    assert lease.enter_now()  # the real pool's count and pause are not the dry one's
    lease.exit_now()
    assert dry.lease("default", 3).enter_now()
    assert not dry.lease("orders", 2).enter_now()  # it counts like any limiter: full now
    assert (dry.used("orders"), dry.used("default")) == (1, 3)
    assert taken == [1] and limiter.used("orders") == 1  # the real one as it was
    dry.penalize("orders", 60.0)
    dry.clear()
    assert (dry.used("orders"), dry.used("default")) == (0, 0)
    assert dry.lease("orders", 2).enter_now()  # and no longer paused
