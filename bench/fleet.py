"""Fleet rows: what a coordinator adds to each order, and how many Redis round trips
100 orders cost. An order here is what the engine does around one leg pair: reserve
the trade's risk, take two tokens from the orders pool (one per leg), settle, emit
one event. Redis rows use CEXARB_BENCH_REDIS_URL or the local server; without one
they are left out with a note."""

from __future__ import annotations

import asyncio
import os
import statistics
import time
import uuid

from bench.harness import Report, Row, time_per_call_us
from cexarb.config import RateLimitPool
from cexarb.coord import Fill, FleetLimits, InProcessCoordinator, Reservation

_LIMITS = FleetLimits(max_unhedged_notional=1e12, max_exposure_notional=1e12, loss_limit=1e12)
# Large enough that no order ever waits for the window: the rows measure cost, not limits.
_POOL = RateLimitPool(capacity=100_000, period_s=10.0)
_FILLS = [Fill("mexc_spot", "BTC", 0.001, 60_000.0, 0.01), Fill("gateio_spot", "BTC", -0.001, 60_030.0, 0.01)]


def _reservation(i: int) -> Reservation:
    return Reservation(f"b{i}", 60.0, (("mexc_spot", "BTC", 60.0), ("gateio_spot", "BTC", -60.0)))


async def _order(coord, budget, i: int) -> None:
    await coord.reserve(_reservation(i))
    for _ in range(2):
        if budget is not None and not budget.try_take(1):
            await budget.take(1)
    await coord.settle(f"b{i}", _FILLS, 0.0)
    coord.emit("decision", f"bench:{i}", {"i": i})


async def _per_order_us(coord, budget, n: int) -> tuple[float, float, int]:
    out = []
    for i in range(n):
        started = time.perf_counter_ns()
        await _order(coord, budget, i)
        out.append((time.perf_counter_ns() - started) / 1e3)
    out.sort()
    return statistics.median(out), out[int(len(out) * 0.99) - 1], n


async def _in_process(n: int) -> tuple[float, float, int]:
    return await _per_order_us(InProcessCoordinator("bench", _LIMITS), None, n)


async def _redis(url: str, n: int) -> tuple[tuple[float, float, int], float, float]:
    from cexarb.coord.redis import RedisCoordinator

    fleet = "bench" + uuid.uuid4().hex[:8]
    # No heartbeat during the run: the round trips counted are the orders' own.
    coord = RedisCoordinator(url, fleet, "bench", _LIMITS, heartbeat_s=3600.0, heartbeat_ttl_s=7200.0)
    await coord.start()
    try:
        budget = coord.budget("bench:orders", _POOL)
        await _per_order_us(coord, budget, 50)  # warm: scripts loaded, connections open
        while coord.events_pending:
            await asyncio.sleep(0.001)
        before = coord.round_trips
        timing = await _per_order_us(coord, budget, n)
        while coord.events_pending:
            await asyncio.sleep(0.001)
        trips_per_100 = (coord.round_trips - before) * 100 / n
        return timing, trips_per_100, budget.batch
    finally:
        keys = [k async for k in coord.redis.scan_iter(match=f"cexarb:{{{fleet}}}:*")]
        if keys:
            await coord.redis.delete(*keys)
        await coord.close()


async def _kill_switch_ms(url: str, rounds: int) -> tuple[float, float, int]:
    """Operator publishes the kill switch -> another member's `halted` is true (pub/sub push)."""
    from cexarb.coord.control import halt_fleet, resume_fleet
    from cexarb.coord.keys import FleetKeys
    from cexarb.coord.redis import RedisCoordinator, connect_redis

    fleet = "bench" + uuid.uuid4().hex[:8]
    member = RedisCoordinator(url, fleet, "m", _LIMITS)
    await member.start()
    operator = connect_redis(url)
    keys = FleetKeys(fleet)
    out = []
    try:
        for _ in range(rounds):
            started = time.perf_counter_ns()
            await halt_fleet(operator, keys, "bench")
            while not member.halted:
                await asyncio.sleep(0)
            out.append((time.perf_counter_ns() - started) / 1e6)
            await resume_fleet(operator, keys)
            while member.halted:
                await asyncio.sleep(0)
    finally:
        await member.close()
        found = [k async for k in operator.scan_iter(match=f"cexarb:{{{fleet}}}:*")]
        if found:
            await operator.delete(*found)
        await operator.aclose()
    out.sort()
    return statistics.median(out), out[int(len(out) * 0.99) - 1], len(out)


def _redis_url() -> str | None:
    import redis

    url = os.environ.get("CEXARB_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
        client.ping()
        client.close()
        return url
    except (redis.RedisError, OSError):
        return None


def run(report: Report, quick: bool) -> None:
    n = 500 if quick else 5_000
    med, p99, count = asyncio.run(_in_process(n))
    report.add(
        Row(
            "fleet: added cost per order, in-process coordinator",
            "us",
            med,
            p99,
            count,
            note="reserve + settle + one event, no server (the default: one engine)",
        )
    )
    from cexarb.coord.budget import LeasedBudget

    class _Idle:
        online = True
        max_members = 4

    held = LeasedBudget("x", _POOL, _Idle())
    held._tokens, held._expires = 10**12, float("inf")
    med, p99, count = time_per_call_us(lambda: held.try_take(1), 20_000 if quick else 200_000, batch=10)
    report.add(
        Row(
            "fleet: token from the batch a member holds",
            "us",
            med,
            p99,
            count,
            note="the rate limiter's hot path in a fleet when its batch has tokens: no await, no round trip",
        )
    )
    url = _redis_url()
    if url is None:
        report.add(Row("fleet: Redis rows", "us", 0.0, None, 0, note="left out: no Redis reachable"))
        return
    (med, p99, count), trips, batch = asyncio.run(_redis(url, n))
    orders = count
    report.add(
        Row(
            "fleet: added cost per order, Redis coordinator",
            "us",
            med,
            p99,
            count,
            note=f"reserve + settle (one script each) + 2 tokens (batches of {batch}) + one event, "
            "local Redis over TCP",
        )
    )
    med, p99, count = asyncio.run(_kill_switch_ms(url, 20 if quick else 200))
    report.add(
        Row(
            "fleet: kill switch reaches another member",
            "ms",
            med,
            p99,
            count,
            goal="< 100 ms",
            note="operator SET + PUBLISH -> the member's pub/sub listener sets halted (same host)",
        )
    )
    report.add(
        Row(
            "fleet: Redis round trips per 100 orders",
            "trips",
            trips,
            None,
            orders,
            note="reserve and settle are one each per order; leases and event batches (5 ms linger) are shared",
        )
    )
