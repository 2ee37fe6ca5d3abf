"""Engine decisions against fake venues: takes a crossed market, hedges a failed leg, obeys the
stale-data guard and the kill switch, and only signals when not trading."""

from __future__ import annotations

import math

from cexarb.arb.config import ArbConfig
from cexarb.arb.engine import ArbEngine
from cexarb.model import Execution, Side
from cexarb.model.errors import InsufficientBalance

from .fakes import FakeVenue
from .helpers import BTC, futures_info, spot_info

CHEAP = ([(99.9, 5.0)], [(100.0, 0.5)])
RICH = ([(101.0, 0.3)], [(101.1, 5.0)])
FLAT = ([(100.4, 5.0)], [(100.5, 5.0)])


async def step(engine: ArbEngine) -> None:
    await engine.step()
    await engine.drain()


def make(trade=True, **cfg):
    info = spot_info(tick=0.1, step=0.001)
    mexc = FakeVenue("mexc_spot", [info], {"USDT": 10_000.0, "BTC": 1.0})
    gate = FakeVenue("gateio_spot", [info], {"USDT": 10_000.0, "BTC": 1.0})
    config = ArbConfig(symbols=(BTC,), cooldown_s=0.0, **cfg)
    engine = ArbEngine({"mexc_spot": mexc, "gateio_spot": gate}, config, trade=trade)
    mexc.set_book(BTC, *FLAT)
    gate.set_book(BTC, *FLAT)
    engine.attach()
    return engine, mexc, gate


async def test_crossed_spot_books_are_traded_and_booked():
    engine, mexc, gate = make()
    await step(engine)
    assert mexc.placed == [] and gate.placed == []
    mexc.set_book(BTC, *CHEAP)
    gate.set_book(BTC, *RICH)
    await step(engine)
    # Sized by the thinner top: 0.3 at 101.0 against 0.5 at 100.0.
    assert mexc.placed == [(Side.BUY, 0.3, 100.0, {})]
    assert gate.placed == [(Side.SELL, 0.3, 101.0, {})]
    assert engine.stats.taken == 1 and engine.stats.outcomes["filled"] == 1
    snap = engine.pnl_snapshot()
    assert snap.fills == 2
    assert math.isclose(snap.fees, 0.3 * 100.0 * 0.002 + 0.3 * 101.0 * 0.002)
    assert math.isclose(engine.pnl.inventory("mexc_spot")["BTC"], 1.3)
    assert engine.stats.frame_to_decision_us


async def test_a_failed_leg_is_hedged_by_the_engine():
    engine, mexc, gate = make()
    gate.script = [InsufficientBalance("no BTC", venue="gateio_spot")]
    mexc.set_book(BTC, *CHEAP)
    gate.set_book(BTC, *RICH)
    await step(engine)
    assert [p[0] for p in mexc.placed] == [Side.BUY, Side.SELL]
    assert engine.stats.outcomes["hedged"] == 1
    assert engine.executor.unhedged_notional == 0
    assert math.isclose(engine.pnl.inventory("mexc_spot")["BTC"], 1.0)


async def test_stale_data_guard_blocks_a_desynced_book():
    engine, mexc, gate = make()
    mexc.set_book(BTC, *CHEAP, synced=False)
    gate.set_book(BTC, *RICH)
    await step(engine)
    assert mexc.placed == [] and gate.placed == []
    assert engine.stats.skipped["book_desynced:mexc_spot"] == 1


async def test_stale_data_guard_blocks_an_old_book():
    engine, mexc, gate = make(stale_ms=1_000.0)
    mexc.set_book(BTC, *CHEAP)
    gate.set_book(BTC, *RICH, age_ms=1_500.0)
    await step(engine)
    assert gate.placed == [] and mexc.placed == []
    assert engine.stats.skipped["book_stale:gateio_spot"] == 1


async def test_kill_switch_halts_trading_at_the_loss_limit():
    engine, mexc, gate = make(loss_limit=10.0)
    # A losing fill: bought 1 BTC at 120, now marked at ~100.45 on mexc.
    engine.on_fill("mexc_spot", Execution(BTC, "x1", "o", "c", Side.BUY, 120.0, 1.0, 0.0, "USDT", False, 0))
    assert engine.risk.halted
    mexc.set_book(BTC, *CHEAP)
    gate.set_book(BTC, *RICH)
    await step(engine)
    assert mexc.placed == [] and gate.placed == []
    assert engine.stats.skipped["kill_switch"] == 1


async def test_signal_only_mode_never_places():
    engine, mexc, gate = make(trade=False)
    mexc.set_book(BTC, *CHEAP)
    gate.set_book(BTC, *RICH)
    await step(engine)
    assert mexc.placed == [] and gate.placed == []
    assert engine.stats.signals == 1 and engine.stats.taken == 0


async def test_position_limit_skips_with_its_reason():
    engine, mexc, gate = make(max_position={"BTC/USDT": 0.0005})
    mexc.set_book(BTC, *CHEAP)
    gate.set_book(BTC, *RICH)
    await step(engine)
    assert mexc.placed == []
    (reason,) = engine.stats.skipped
    assert reason.startswith("below_min_quantity(max_position")


async def test_basis_opens_then_closes_when_it_reverts():
    sinfo, finfo = spot_info(tick=0.1, step=0.001), futures_info(tick=0.1, contract=0.001)
    spot = FakeVenue("mexc_spot", [sinfo], {"USDT": 10_000.0, "BTC": 1.0})
    perp = FakeVenue("gateio_futures", [finfo], {"USDT": 10_000.0})
    config = ArbConfig(symbols=(BTC,), cooldown_s=0.0, basis_open_bps=5.0, basis_close_bps=30.0)
    engine = ArbEngine({"mexc_spot": spot, "gateio_futures": perp}, config)
    spot.set_book(BTC, [(99.9, 5.0)], [(100.0, 0.2)])
    perp.set_book(BTC, [(101.0, 5.0)], [(101.1, 5.0)])  # ~75 bps net of fees
    engine.attach()
    await step(engine)
    assert spot.placed[0][:3] == (Side.BUY, 0.2, 100.0)
    assert perp.placed[0][:3] == (Side.SELL, 0.2, 101.0)
    (pos,) = engine.basis.values()
    assert math.isclose(pos.quantity, 0.2)
    # Basis down to ~20 bps: too thin to open more, not reverted enough to close at +30 bps.
    spot.set_book(BTC, [(100.0, 5.0)], [(100.1, 5.0)])
    perp.set_book(BTC, [(100.2, 5.0)], [(100.3, 5.0)])
    await step(engine)
    assert len(spot.placed) == 1
    # Perp now well under spot: sell spot at 101.5, buy the perp back at 100.2 reduce-only.
    spot.set_book(BTC, [(101.5, 5.0)], [(101.6, 5.0)])
    perp.set_book(BTC, [(100.1, 5.0)], [(100.2, 5.0)])
    await step(engine)
    assert spot.placed[1][:3] == (Side.SELL, 0.2, 101.5)
    assert perp.placed[1] == (Side.BUY, 0.2, 100.2, {"reduce_only": True})
    assert pos.quantity == 0
    snap = engine.pnl_snapshot()
    assert snap.total > 0 and math.isclose(snap.unrealized, 0.0, abs_tol=1e-9)


async def test_a_one_sided_ticker_shows_no_level_and_keeps_the_last_mark():
    engine, mexc, gate = make()
    mid_before = engine.marks()[("gateio_spot", BTC)]
    # Gate's book is out of sync (only its ticker is known) and its bids were swept.
    gate.set_book(BTC, [], [(100.1, 5.0)], synced=False)
    mexc.set_book(BTC, *CHEAP)
    books = {b.venue: b for b in engine.venue_books(BTC)}
    assert books["gateio_spot"].bids == [] and books["gateio_spot"].asks == [(100.1, 5.0)]
    assert engine.marks()[("gateio_spot", BTC)] == mid_before  # not (0 + 100.1) / 2
    await step(engine)
    assert mexc.placed == [] and gate.placed == []
