"""Faults against the real server, during trading: member connections killed (CLIENT KILL)
and the server restarted (a throwaway one, nothing persisted). No pool exceeded, no
event lost, no settlement applied twice, and trading resumes."""

from __future__ import annotations

import asyncio
import time

import pytest
import redis.asyncio as aioredis

from cexarb.config import RateLimitPool
from cexarb.coord import Fill, FleetLimits, Reservation
from cexarb.coord.control import read_status
from cexarb.coord.keys import FleetKeys
from cexarb.coord.redis import RedisCoordinator
from cexarb.transport.ratelimit import RateLimiter
from tests.coord.helpers import max_in_any_window, member
from tests.coord.redis_server import new_fleet
from tests.coord.test_stream import Sink, run_follow
from tests.support import eventually

POOL = RateLimitPool(capacity=10, period_s=0.4)
LIMITS = FleetLimits(max_unhedged_notional=1_000.0, max_exposure_notional=1e9, loss_limit=1e9)
TRADES = 12  # per member
BASE = 0.001


class Desk:
    """Three members trading in a loop through their own rate limiters: each trade reserves,
    sends two requests through the shared pool, settles and emits an event."""

    def __init__(self, members: list[RedisCoordinator]) -> None:
        self.members = members
        self.spent: list[float] = []
        self.emitted: set[str] = set()
        self.done = 0
        self.refusals = 0

    async def trade(self, coord: RedisCoordinator) -> None:
        limiter = RateLimiter({"orders": RateLimitPool(10, 0.4, shared=coord.budget("sim:orders", POOL))})
        for i in range(TRADES):
            rid = f"{coord.member}:{i}"
            res = Reservation(rid, 10.0, (("mexc_spot", "BTC", 10.0), ("gateio_spot", "BTC", -10.0)))
            while (why := await coord.reserve(res)) is not None:
                assert why == "fleet_offline", why  # never a limit: only the server being away
                self.refusals += 1
                await asyncio.sleep(0.01)
            for _ in range(2):
                async with limiter.lease("orders"):
                    self.spent.append(time.monotonic())
            await coord.settle(
                rid, [Fill("mexc_spot", "BTC", BASE, 100.0), Fill("gateio_spot", "BTC", -BASE, 100.0)], 0.0
            )
            coord.emit("decision", rid, {"i": i})
            self.emitted.add(rid)
            self.done += 1

    async def run(self) -> None:
        await asyncio.gather(*(self.trade(m) for m in self.members))

    async def check_ledger(self) -> None:
        """Every trade settled exactly once, nothing left reserved."""
        m = self.members[0]
        await eventually(
            lambda: all(not c.settlements_pending for c in self.members), what="settlements flushed"
        )
        status = await read_status(m.redis, FleetKeys(m.fleet))
        n = len(self.members) * TRADES
        assert status.at_risk == pytest.approx(0.0, abs=1e-6)
        assert status.exposure["mexc_spot:BTC"] == pytest.approx(n * BASE * 100.0)
        assert status.exposure["gateio_spot:BTC"] == pytest.approx(-n * BASE * 100.0)


async def kill_member_connections(admin: aioredis.Redis, fleet: str) -> int:
    killed = 0
    for client in await admin.client_list():
        if client.get("name", "").startswith(f"cexarb.{fleet}."):
            killed += await admin.execute_command("CLIENT", "KILL", "ID", client["id"])
    return killed


async def test_connections_killed_during_trading(redis_url, fleet):
    members = [await member(redis_url, fleet, f"m{i}", LIMITS) for i in range(3)]
    sink, stop = Sink(), asyncio.Event()
    follower = await run_follow(redis_url, fleet, sink, stop)
    admin = aioredis.Redis.from_url(redis_url, decode_responses=True)
    desk = Desk(members)
    kills = 0
    try:
        trading = asyncio.create_task(desk.run())
        while not trading.done():
            kills += await kill_member_connections(admin, fleet)
            await asyncio.sleep(0.03)
        await trading
        await eventually(lambda: all(m.online for m in members), what="members online")
        await eventually(lambda: desk.emitted <= set(sink.by_id), what="every event followed")
        await desk.check_ledger()
    finally:
        stop.set()
        await follower
        for m in members:
            await m.close()
        await admin.aclose()
    assert kills > 0
    assert desk.done == 3 * TRADES
    assert max_in_any_window(desk.spent, POOL.period_s) <= POOL.capacity


async def test_server_restarted_during_trading(private_redis):
    url, fleet = private_redis.url, new_fleet()
    members = [await member(url, fleet, f"m{i}", LIMITS) for i in range(3)]
    sink, stop = Sink(), asyncio.Event()
    follower = await run_follow(url, fleet, sink, stop)
    desk = Desk(members)
    try:
        trading = asyncio.create_task(desk.run())
        await eventually(lambda: desk.done >= TRADES, what="a third of the trades")
        await asyncio.to_thread(private_redis.stop)
        await eventually(lambda: not any(m.online for m in members), what="members offline")
        offline_at = desk.done
        await asyncio.to_thread(private_redis.start)  # same port, empty
        await trading
        await eventually(lambda: all(m.online for m in members), what="members online again")
        await eventually(lambda: desk.emitted <= set(sink.by_id), what="every event followed")
        await desk.check_ledger()
    finally:
        stop.set()
        await follower
        for m in members:
            await m.close()
    # Trading really met the outage: every member lost the server mid-run.
    assert offline_at < 3 * TRADES and all(m.reconnects >= 1 for m in members)
    assert desk.done == 3 * TRADES
    assert max_in_any_window(desk.spent, POOL.period_s) <= POOL.capacity


async def test_a_settlement_reaching_the_restarted_server_first_counts_once(private_redis):
    """The member settles on the restarted (empty) server before its heartbeat noticed the
    restart. The reseed then puts back every fill the member settled: a settlement applied
    before it was counted twice (seen under load in the restart test above)."""
    url, fleet = private_redis.url, new_fleet()
    m = await member(url, fleet, "m0", LIMITS, heartbeat_s=3600)  # it ticks only when told to
    legs = (("mexc_spot", "BTC", 10.0), ("gateio_spot", "BTC", -10.0))
    fills = [Fill("mexc_spot", "BTC", BASE, 100.0), Fill("gateio_spot", "BTC", -BASE, 100.0)]
    try:
        for rid in ("r0", "r1"):
            assert await m.reserve(Reservation(rid, 10.0, legs)) is None
        await m.settle("r0", fills, 0.0)
        await asyncio.to_thread(private_redis.stop)
        await asyncio.to_thread(private_redis.start)  # same port, empty
        await m.settle("r1", fills, 0.0)
        await m._tick()  # the heartbeat that would have come next
        status = await m.status()
        assert status.exposure["mexc_spot:BTC"] == pytest.approx(2 * BASE * 100.0)
        assert status.exposure["gateio_spot:BTC"] == pytest.approx(-2 * BASE * 100.0)
        assert status.at_risk == pytest.approx(0.0, abs=1e-6)
    finally:
        await m.close()


async def test_the_kill_switch_outlives_a_server_restart(private_redis):
    url, fleet = private_redis.url, new_fleet()
    a = await member(url, fleet, "a", LIMITS)
    b = await member(url, fleet, "b", LIMITS)
    try:
        await a.halt("before the restart")
        await eventually(lambda: b.halted, what="b halted")
        await asyncio.to_thread(private_redis.stop)
        await eventually(lambda: not a.online and not b.online, what="offline")
        await asyncio.to_thread(private_redis.start)
        await eventually(lambda: a.online and b.online, what="online again")
        status = await a.status()
        assert status.halted and status.halt_reason == "before the restart"
        assert a.halted and b.halted
    finally:
        await a.close()
        await b.close()
