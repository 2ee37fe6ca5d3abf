"""The fleet's ledger against the venues' truth, spot and the Gate.io perpetual: what it holds
per venue is what the account holds there (a spot wallet's change, net of the fees taken in
base; the perp's position, contracts x contract size, sign included), and its cash is net of
every fee, a discount token's at what the venue charged; the perp's position is marked at the
perp's own price, not the spot's. Alone and as a fleet on one account."""

from __future__ import annotations

import asyncio

import pytest

from cexarb.arb.config import ArbConfig
from cexarb.arb.engine import ArbEngine
from cexarb.arb.fleet import limits_of
from cexarb.cli.runner import SIM_API_KEY, VENUE_MARKETS
from cexarb.coord.pools import share_pools
from cexarb.exchange.registry import create_exchange
from cexarb.model import Symbol
from cexarb.sim import SimAccount, SimConfig, Simulator
from cexarb.sim.fees import FeeTier
from tests.coord.helpers import member
from tests.support import eventually

BTC = Symbol("BTC", "USDT")
KEYS = ("mexc_spot", "gateio_spot", "gateio_futures")
# What the fleet books each venue's BTC under: the perp's contract has its own price.
BOOKED = {
    "mexc_spot": "mexc_spot:BTC",
    "gateio_spot": "gateio_spot:BTC",
    "gateio_futures": "gateio_futures:BTC-PERP",
}
START = {"USDT": 100_000.0, "BTC": 2.0, "GT": 100.0}
# MEXC takes a buy's fee in BTC, Gate spot in GT (the discount token), the perp in USDT.
GT = FeeTier(maker=0.0008, taker=0.0009, token="GT", token_discount=0.25, token_price=20.0)
# The basis, once open, stays open (closing would need a 10% edge).
ARB = ArbConfig(
    symbols=(BTC,),
    cooldown_s=0.0,
    strategies=("spot_spot", "mexc_gate_basis"),
    max_order_notional=500.0,
    basis_close_bps=1000.0,
)


@pytest.fixture
async def sim():
    account = SimAccount(SIM_API_KEY, "s1", START, fees={"gateio_spot": GT})
    config = SimConfig(seed=5, symbols=("BTC/USDT",), flow=False, admin=False, accounts=(account,))
    async with Simulator(config) as s:
        yield s


def truth_ledger(sim: Simulator) -> tuple[dict[str, float], float, int]:
    """Per venue the BTC the account holds since the start (spot: the wallet's change; perp:
    the position), the cash the ledger should hold, and the number of fills."""
    held, cash, fills = {}, 0.0, 0
    for key in KEYS:
        t = sim.truth(key, SIM_API_KEY)
        fills += len(t.fills)
        if key == "gateio_futures":
            pos = t.positions.get(BTC)
            held[key] = pos.size if pos is not None else 0.0
            if pos is not None:
                info = sim.venue(key).markets[BTC]
                assert pos.contracts * info.contract_size == pytest.approx(pos.size, abs=1e-12)
        else:
            held[key] = t.balances["BTC"].total - START["BTC"]
        for f in t.fills:
            cash -= f.side.sign * f.quantity * f.price
            if f.fee_asset == "USDT":
                cash -= f.fee
            elif f.fee_asset == "GT":
                cash -= f.fee * GT.token_price
            # a fee in BTC is in the BTC held
    return held, cash, fills


async def trade(sim: Simulator, engines: list[ArbEngine]) -> None:
    """A basis opened (the perp goes rich), then a spot-spot trade (Gate spot goes rich)."""
    stop = asyncio.Event()
    runs = [asyncio.create_task(e.run(stop)) for e in engines]
    try:
        mid = sim.venue("mexc_spot").markets[BTC].initial_mid
        sim.set_mid("gateio_futures", BTC, mid * 1.01)
        await eventually(lambda: sim.truth("gateio_futures", SIM_API_KEY).fills, what="the basis opened")
        sim.set_mid("gateio_futures", BTC, mid)  # no new basis; the one open stays (basis_close_bps)
        sim.set_mid("gateio_spot", BTC, mid * 1.02)
        await eventually(lambda: sim.truth("gateio_spot", SIM_API_KEY).fills, what="a spot-spot trade")
    finally:
        stop.set()
        await asyncio.gather(*runs)
    made = truth_ledger(sim)[2]
    await eventually(
        lambda: all(e.pnl_snapshot().fills == made for e in engines), what="every fill reached every engine"
    )
    await eventually(lambda: all(not e.fleet._tasks for e in engines), what="late fees booked")


def check(base: dict[str, float], cash: float, sim: Simulator) -> None:
    held, true_cash, _ = truth_ledger(sim)
    assert held["gateio_futures"] < 0, "the perp is held short"
    assert held["mexc_spot"] > 0
    for key in KEYS:
        assert base.get(BOOKED[key], 0.0) == pytest.approx(held[key], abs=1e-9), key
    assert cash == pytest.approx(true_cash, abs=1e-6)


async def test_alone_the_ledger_holds_what_the_account_holds(sim):
    config = sim.client_config(SIM_API_KEY)
    venues = {k: create_exchange(*VENUE_MARKETS[k], config, private=True) for k in KEYS}
    try:
        await asyncio.gather(*(v.initialize([BTC]) for v in venues.values()))
        engine = ArbEngine(venues, ARB)
        engine.attach()
        await trade(sim, [engine])
    finally:
        for v in venues.values():
            await v.close()
    ledger = engine.fleet.coordinator.ledger
    check(ledger.base, ledger.cash, sim)
    # The perp's exposure: its position at the perp's last traded price (the spot's came later).
    perp = sim.truth("gateio_futures", SIM_API_KEY)
    last = [f for f in perp.fills if f.order_id == perp.fills[-1].order_id]
    price = sum(f.price * f.quantity for f in last) / sum(f.quantity for f in last)
    status = await engine.fleet.coordinator.status()
    assert status.exposure["gateio_futures:BTC-PERP"] == pytest.approx(perp.positions[BTC].size * price)
    assert ledger.mark["BTC"] != pytest.approx(price, rel=1e-3)  # the spot trade was 2% up


async def test_a_fleet_on_one_account_books_each_fill_once(redis_url, fleet, sim):
    """Every member sees every fill of the account; each books the fees of its own orders."""
    config = sim.client_config(SIM_API_KEY)
    coords, engines, venues_all = [], [], []
    try:
        for i in range(2):
            c = await member(redis_url, fleet, f"b{i}", limits_of(ARB))
            coords.append(c)
            venues = {
                k: create_exchange(*VENUE_MARKETS[k], share_pools(config, c), private=True) for k in KEYS
            }
            venues_all.append(venues)
            await asyncio.gather(*(v.initialize([BTC]) for v in venues.values()))
            engine = ArbEngine(venues, ARB, coordinator=c)
            engine.attach()
            engines.append(engine)
        await trade(sim, engines)
        await eventually(lambda: all(not c._unsettled for c in coords), what="settlements flushed")
        ledger = {k: float(v) for k, v in (await coords[0].redis.hgetall(coords[0].keys.risk)).items()}
    finally:
        for venues in venues_all:
            for v in venues.values():
                await v.close()
        for c in coords:
            await c.close()
    base = {k[5:]: v for k, v in ledger.items() if k.startswith("base:")}
    check(base, ledger.get("cash", 0.0), sim)
