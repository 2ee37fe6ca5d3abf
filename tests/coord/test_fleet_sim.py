"""Fleets on one running simulator, through the real protocols and the real Redis:
members bursting orders at one venue stay under its limits (zero 429s), and three
engines trade as one fleet (shared budgets, one risk ledger, one kill switch)."""

from __future__ import annotations

import asyncio

import msgspec
import pytest

from cexarb.arb.config import ArbConfig
from cexarb.arb.engine import ArbEngine
from cexarb.arb.fleet import limits_of
from cexarb.cli.runner import SIM_API_KEY, VENUE_MARKETS
from cexarb.coord.base import FleetEvent
from cexarb.coord.control import halt_fleet
from cexarb.coord.keys import FleetKeys
from cexarb.coord.pools import share_pools
from cexarb.exchange.registry import create_exchange
from cexarb.journal.fleet import StreamRecorder
from cexarb.model import Market, Side, Symbol, TimeInForce, Venue
from cexarb.model.rounding import round_price
from cexarb.sim import SimConfig, Simulator
from tests.coord.helpers import member, start_btc
from tests.support import eventually

BTC = Symbol("BTC", "USDT")
BURST = 12  # orders per member


async def burst_orders(ex, n: int) -> list:
    """`n` IOC buys far under the market, all at once: each is one request to the orders pool."""
    info = ex.symbols_info[BTC]
    bid = ex.book_tickers[BTC].bid_price
    price = round_price(bid * 0.9, info.tick_size, Side.BUY)
    qty = max(info.min_quantity, 0.001)
    return await asyncio.gather(
        *(ex.place_limit_order(BTC, Side.BUY, qty, price, time_in_force=TimeInForce.IOC) for _ in range(n)),
        return_exceptions=True,
    )


async def three_members_burst(sim: Simulator, coordinators) -> list:
    config = sim.client_config(SIM_API_KEY)
    exchanges = []
    try:
        for c in coordinators:
            cfg = share_pools(config, c) if c is not None else config
            exchanges.append(create_exchange(Venue.GATEIO, Market.SPOT, cfg, private=True))
        await asyncio.gather(*(ex.initialize([BTC]) for ex in exchanges))
        results = await asyncio.gather(*(burst_orders(ex, BURST) for ex in exchanges))
        return [r for rs in results for r in rs]
    finally:
        for ex in exchanges:
            await ex.close()


@pytest.fixture
async def sim():
    async with Simulator(SimConfig(seed=5, symbols=("BTC/USDT",), flow=False, admin=False)) as s:
        yield s


async def test_three_members_bursting_at_one_venue_get_no_429(redis_url, fleet, sim):
    members = [await member(redis_url, fleet, f"m{i}") for i in range(3)]
    try:
        await eventually(lambda: all(m.members_seen == 3 for m in members), what="members to see each other")
        results = await three_members_burst(sim, members)
    finally:
        for m in members:
            await m.close()
    errors = [r for r in results if isinstance(r, BaseException)]
    assert errors == []
    assert len(results) == 3 * BURST
    assert sim.venue("gateio_spot").limits.rejected == 0


async def test_without_a_coordinator_the_same_burst_is_refused(sim):
    """The control: three processes, each with the whole budget to itself, exceed the venue's."""
    results = await three_members_burst(sim, [None, None, None])
    assert len(results) == 3 * BURST
    assert sim.venue("gateio_spot").limits.rejected > 0


async def test_three_engines_trade_as_one_fleet(redis_url, fleet, sim):
    """Shared budgets, one ledger that matches the venues' truth, one kill switch."""
    config = sim.client_config(SIM_API_KEY)
    arb = ArbConfig(symbols=(BTC,), enable_basis=False, cooldown_s=0.2, max_order_notional=500.0)
    keys = ("mexc_spot", "gateio_spot")
    coords, engines, venues_all, runs = [], [], [], []
    stop = asyncio.Event()
    try:
        for i in range(3):
            c = await member(redis_url, fleet, f"e{i}", limits_of(arb))
            coords.append(c)
            cfg = share_pools(config, c)
            venues = {k: create_exchange(*VENUE_MARKETS[k], cfg, private=True) for k in keys}
            venues_all.append(venues)
            await asyncio.gather(*(v.initialize([BTC]) for v in venues.values()))
            engine = ArbEngine(venues, arb, journal=StreamRecorder(c, f"run-e{i}"), coordinator=c)
            engine.attach()
            engines.append(engine)
        runs = [asyncio.create_task(e.run(stop)) for e in engines]
        # Gate goes 1% rich: every engine sees the same opportunity at once.
        sim.set_mid("gateio_spot", BTC, sim.venue("mexc_spot").markets[BTC].initial_mid * 1.01)
        await eventually(lambda: sum(e.stats.taken for e in engines) >= 2, timeout=20, what="fleet trades")

        # One kill switch: an operator command halts every member.
        await halt_fleet(coords[0].redis, FleetKeys(fleet), "operator: test")
        await eventually(lambda: all(c.halted for c in coords), what="every member halted")
        await eventually(lambda: all(not e.trades_in_flight for e in engines), what="trades under way to end")
        fills_at_halt = {k: len(sim.truth(k, SIM_API_KEY).fills) for k in keys}
        sim.set_mid("gateio_spot", BTC, sim.venue("mexc_spot").markets[BTC].initial_mid * 1.02)
        await eventually(
            lambda: all(e.stats.skipped.get("kill_switch", 0) > 0 for e in engines),
            what="every engine refusing new trades on the kill switch",
        )
        assert {k: len(sim.truth(k, SIM_API_KEY).fills) for k in keys} == fills_at_halt
    finally:
        stop.set()
        await asyncio.gather(*runs, return_exceptions=True)
        for venues in venues_all:
            for v in venues.values():
                await v.close()
    try:
        await eventually(lambda: all(not c.settlements_pending for c in coords), what="settlements flushed")
        r = coords[0].redis
        status = await coords[0].status()
        ledger = await r.hgetall(FleetKeys(fleet).risk)
        assert len(status.members) == 3 and all(m.alive for m in status.members)
        assert status.at_risk == pytest.approx(0.0, abs=1e-6)
        # The fleet's ledger holds every member's trades: it equals what the wallets hold since
        # the start (the fills, less the fees taken in BTC).
        for k in keys:
            truth = sim.truth(k, SIM_API_KEY).balances["BTC"].total - start_btc()
            assert float(ledger.get(f"base:{k}:BTC", 0.0)) == pytest.approx(truth, abs=1e-9)
        assert sum(bool(e.stats.taken) for e in engines) >= 1
        assert sum(sim.venue(k).limits.rejected for k in keys) == 0
        # Every member's journal events (decisions, legs, snapshots) reached the fleet's stream.
        entries = await r.xrange(FleetKeys(fleet).events)
        senders = {msgspec.json.decode(fields["e"], type=FleetEvent).member for _, fields in entries}
        assert senders == {"e0", "e1", "e2"}
    finally:
        for c in coords:
            await c.close()


async def test_an_engine_stops_opening_positions_while_redis_is_away_and_resumes(private_redis, sim):
    """Redis down: no new position (fleet_offline) but the engine keeps running; back: it trades."""
    from tests.coord.redis_server import drop_fleet, new_fleet

    fleet = new_fleet()
    config = sim.client_config(SIM_API_KEY)
    arb = ArbConfig(symbols=(BTC,), enable_basis=False, cooldown_s=0.2, max_order_notional=500.0)
    keys = ("mexc_spot", "gateio_spot")
    c = await member(private_redis.url, fleet, "solo", limits_of(arb))
    venues = {k: create_exchange(*VENUE_MARKETS[k], share_pools(config, c), private=True) for k in keys}
    stop = asyncio.Event()
    running = None
    try:
        await asyncio.gather(*(v.initialize([BTC]) for v in venues.values()))
        engine = ArbEngine(venues, arb, coordinator=c)
        engine.attach()
        await asyncio.to_thread(private_redis.stop)
        await eventually(lambda: not c.online, what="the member to notice")
        running = asyncio.create_task(engine.run(stop))
        mid = sim.venue("mexc_spot").markets[BTC].initial_mid
        sim.set_mid("gateio_spot", BTC, mid * 1.01)
        await eventually(lambda: engine.stats.skipped.get("fleet_offline", 0) > 0, what="offline skips")
        assert engine.stats.taken == 0
        assert all(not sim.truth(k, SIM_API_KEY).fills for k in keys)
        await asyncio.to_thread(private_redis.start)
        await eventually(lambda: c.online, what="the member back online")
        sim.set_mid("gateio_spot", BTC, mid * 1.02)  # a fresh book and dislocation
        await eventually(lambda: engine.stats.taken > 0, timeout=20, what="trading to resume")
    finally:
        stop.set()
        if running is not None:
            await running
        for v in venues.values():
            await v.close()
        await c.close()
        drop_fleet(private_redis.url, fleet)


async def test_a_429_from_the_venue_pauses_that_pool_for_the_whole_fleet(redis_url, fleet, sim):
    """Gate answers one member's order with 429 and Retry-After: 30. That member's client holds
    the pool back for 30 s, and so does every other member: the venue counts them as one."""
    members = [await member(redis_url, fleet, f"p{i}") for i in range(3)]
    config = sim.client_config(SIM_API_KEY)
    exchanges, placing = [], None

    def paused(m) -> set[str]:
        return {scope for scope, b in m._budgets.items() if b.paused_s() > 20}

    try:
        for c in members:
            exchanges.append(create_exchange(Venue.GATEIO, Market.SPOT, share_pools(config, c), private=True))
        await asyncio.gather(*(ex.initialize([BTC]) for ex in exchanges))
        assert not any(paused(m) for m in members)
        sim.faults.fail_next_rest(
            "gateio_spot", 1, 429, b'{"label":"TOO_MANY_REQUESTS","message":"slow down"}', retry_after=30
        )
        placing = asyncio.create_task(burst_orders(exchanges[0], 1))  # retries once the pause ends
        await eventually(lambda: paused(members[0]), what="the member that got the 429 to pause")
        assert paused(members[0]) == {"gateio.spot:orders"}
        await eventually(
            lambda: all(paused(m) == {"gateio.spot:orders"} for m in members), what="every member paused"
        )
        assert members[0].pauses_sent == 1
    finally:
        if placing is not None:
            placing.cancel()
            await asyncio.gather(placing, return_exceptions=True)
        for ex in exchanges:
            await ex.close()
        for m in members:
            await m.close()
