"""The reflex's prepared decision (arb/armed.py) against the engine's full decision.

`ArmedDecisions.decide` may answer None (the full decision then runs) but whenever it
answers a trade, it must be exactly the one `_decide` chooses on the same books and state,
however the account changed between arming and the crossing."""

from __future__ import annotations

import random

import pytest

from cexarb.arb.config import ArbConfig
from cexarb.arb.engine import ArbEngine
from cexarb.arb.executor import Residual
from cexarb.arb.sizing import Leg
from cexarb.model import AssetBalance, Execution, Side

from .fakes import FakeVenue
from .helpers import BTC, futures_info, spot_info
from .test_engine import CHEAP, RICH, make, step

SPOTS = ("mexc_spot", "gateio_spot", "third_spot")


def _levels(rng: random.Random, start: float, direction: int) -> list[tuple[float, float]]:
    """1-3 levels from `start` away from the spread, quantities that often differ."""
    out, price = [], start
    for _ in range(rng.randint(1, 5)):
        out.append((round(price, 1), rng.choice((0.05, 0.1, 0.3, 0.5, 1.0, 2.5))))
        price += direction * rng.choice((0.1, 0.1, 0.2, 0.5))
    return out


def _set_book(rng: random.Random, venue: FakeVenue, mid: float) -> None:
    bid, ask = round(mid - rng.choice((0.05, 0.1, 0.3)), 1), round(mid + rng.choice((0.05, 0.1, 0.3)), 1)
    bids = [] if rng.random() < 0.05 else _levels(rng, bid, -1)
    asks = [] if rng.random() < 0.05 else _levels(rng, ask, +1)
    venue.set_book(BTC, bids, asks, synced=rng.random() > 0.03, age_ms=rng.choice((5.0, 5.0, 5.0, 3_000.0)))


def _fill(engine: ArbEngine, venue: str, side: Side, quantity: float, n: int) -> None:
    engine.on_fill(venue, Execution(BTC, f"t{n}", f"o{n}", "", side, 100.0, quantity, 0.0, "USDT", False, 0))


def _build(rng: random.Random) -> tuple[ArbEngine, dict[str, FakeVenue]]:
    venues: dict[str, FakeVenue] = {}
    for name in SPOTS[: rng.choice((2, 2, 3))]:
        venues[name] = FakeVenue(
            name,
            [spot_info(tick=0.1, step=rng.choice((0.0001, 0.001, 0.01)))],
            {"USDT": rng.choice((0.0, 20.0, 150.0, 10_000.0)), "BTC": rng.choice((0.0, 0.2, 5.0))},
        )
    if rng.random() < 0.3:
        venues["gateio_futures"] = FakeVenue("gateio_futures", [futures_info()], {"USDT": 10_000.0})
    config = ArbConfig(
        symbols=(BTC,),
        cooldown_s=0.0,
        min_edge_bps=rng.choice((0.0, 1.0, 20.0)),
        depth_levels=rng.choice((1, 2, 5)),
        max_order_notional=rng.choice((30.0, 1_000.0)),
        max_unhedged_notional=2_500.0,
        max_position_notional=rng.choice((60.0, 100_000.0)),
        enable_basis=rng.random() < 0.5,
        basis_open_bps=rng.choice((5.0, 500.0)),
    )
    engine = ArbEngine(venues, config)
    for venue in venues.values():
        venue.taker_fees[BTC] = rng.choice((0.0, 0.0005, 0.002))
    engine.attach()
    return engine, venues


def _change_something(rng: random.Random, engine: ArbEngine, venues: dict[str, FakeVenue], n: int) -> None:
    """One change to what the decision reads, between arming and the crossing."""
    name = rng.choice([v for v in venues if v != "gateio_futures"])
    venue = venues[name]
    change = rng.randrange(11)
    if change == 0:
        venue.balances["USDT"] = AssetBalance("USDT", rng.choice((0.0, 15.0, 10_000.0)))
    elif change == 1:
        venue.balances["BTC"] = AssetBalance("BTC", rng.choice((0.0, 0.01, 5.0)))
    elif change == 2:
        venue.taker_fees[BTC] = rng.choice((0.0, 0.001, 0.01))
    elif change == 3:
        # Trades under way: the unhedged room left binds the size (~1 BTC), or none is left.
        engine.executor.at_risk_notional += rng.choice((2_400.0, 1e9))
    elif change == 4:
        engine.executor.in_flight += rng.choice((1, 3))
    elif change == 5:
        _fill(engine, name, rng.choice((Side.BUY, Side.SELL)), rng.choice((0.1, 0.5)), n)
    elif change == 6:
        _set_book(rng, venue, 100.0 + rng.uniform(-0.6, 0.6))
    elif change == 7:
        engine.risk.halt("test")
    elif change == 8:
        legs = (Leg(name, BTC, Side.BUY, 100.0, 0.1, venue.symbols_info[BTC]),) * 2
        engine.executor.residuals[BTC] = Residual(BTC, 0.1, 100.0, legs)
    elif change == 9:
        engine._cooldown_until[BTC] = float("inf")
    else:
        # Markets reloaded with other rules: the lot, the minimum and the tick change.
        venue.symbols_info[BTC] = spot_info(tick=rng.choice((0.1, 0.5)), step=rng.choice((0.001, 0.25)))


async def test_a_prepared_decision_is_always_the_full_decision():
    rng = random.Random(20261130)
    trials, answered, traded = 10_000, 0, 0
    for n in range(trials):
        engine, venues = _build(rng)
        for venue in venues.values():
            _set_book(rng, venue, 100.0 + rng.uniform(-0.6, 0.6))
        engine.armed.arm(BTC)
        for _ in range(rng.choice((0, 0, 1, 2))):
            _change_something(rng, engine, venues, n)
        quick = engine.armed.decide(BTC)
        full, _ = engine._decide(BTC, None)
        traded += full is not None
        if quick is not None:
            answered += 1
            assert quick == full, f"trial {n}"
    # The check is not vacuous: the prepared decision answers most of the crossings it can.
    print(f"{traded} traded, {answered} told in advance")
    assert traded > trials // 20
    assert answered > traded // 4


async def test_the_reflex_trades_on_the_prepared_decision_without_the_full_one():
    engine, mexc, gate = make()
    mexc.set_book(BTC, *CHEAP)
    await step(engine)  # nothing crosses by enough after fees; the loop prepares the caps

    def no_full_decision(*args):
        raise AssertionError("the full decision ran")

    engine._decide = no_full_decision
    running = __import__("asyncio").Event()
    engine._running = running  # trading, as inside run()
    gate.set_book(BTC, *RICH)  # Gate's bid lifted above MEXC's resting ask: the reflex
    assert mexc.placed == [(Side.BUY, 0.3, 100.0, {})]
    assert gate.placed == [(Side.SELL, 0.3, 101.0, {})]
    await engine.drain()
    assert engine.stats.taken == 1


@pytest.mark.parametrize(
    ("change", "quantity"), [("balance", 0.1), ("fill", 0.05), ("exposure", 0.1), ("fee", 0.248)]
)
async def test_a_cap_prepared_before_the_account_changed_is_not_used(change, quantity):
    engine, mexc, gate = make(max_position_notional=100.0)  # 1 BTC a venue
    if change == "fee":
        mexc.balances["USDT"] = AssetBalance("USDT", 25.0)  # caps the buy: 0.249 BTC at its 0.2 % fee
    mexc.set_book(BTC, *CHEAP)
    await step(engine)
    if change == "balance":
        gate.balances["BTC"] = AssetBalance("BTC", 0.1)  # Gate can now sell only 0.1
    elif change == "fill":
        _fill(engine, "gateio_spot", Side.SELL, 0.95, 1)  # 0.05 left under Gate's position limit
    elif change == "exposure":
        engine.executor.at_risk_notional = engine.config.max_unhedged_notional - 10.0  # 0.1 BTC of room
    else:
        mexc.taker_fees[BTC] = 0.005  # MEXC's USDT now buys 0.248
    gate.set_book(BTC, *RICH)
    assert engine.armed.decide(BTC) is None  # prepared for the account before: not used
    full, _ = engine._decide(BTC, None)
    assert full is not None and full.quantity == quantity
    engine.armed.arm(BTC)  # prepared again (the loop's next step): the same answer
    assert engine.armed.decide(BTC) == full


async def test_a_cap_prepared_for_other_symbol_rules_is_not_used():
    engine, mexc, gate = make()
    mexc.set_book(BTC, *CHEAP)
    await step(engine)  # prepared with a 0.001 lot: 0.3 of the 0.5 offered against Gate's 0.3
    mexc.symbols_info[BTC] = spot_info(tick=0.1, step=0.25)  # reloaded: MEXC trades 0.25 lots
    gate.set_book(BTC, *RICH)
    assert engine.armed.decide(BTC) is None
    full, _ = engine._decide(BTC, None)
    assert full is not None and full.quantity == 0.25
    engine.armed.arm(BTC)
    assert engine.armed.decide(BTC) == full


async def test_a_venue_that_no_longer_lists_the_symbol_is_left_to_the_full_decision():
    engine, mexc, gate = make()
    mexc.set_book(BTC, *CHEAP)
    await step(engine)
    del gate.symbols_info[BTC]  # delisted there (reloaded markets) while its book still shows
    gate.set_book(BTC, *RICH)
    assert engine.armed.decide(BTC) is None
    engine.armed.arm(BTC)  # drops what it kept for the pair, raises nothing
    assert engine.armed.decide(BTC) is None
    assert engine._decide(BTC, None)[0] is None  # the full decision leaves that venue out
