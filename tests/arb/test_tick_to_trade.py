"""Tick to trade in the engine: from the read time of the frame that made a symbol dirty to
the decision, and to each leg's order request written."""

from __future__ import annotations

import asyncio
import contextlib
import time

from cexarb.arb.config import ArbConfig
from cexarb.arb.engine import ArbEngine
from cexarb.model import Side
from cexarb.transport import ticks
from tests.support import eventually

from .fakes import FakeVenue
from .helpers import BTC, spot_info
from .test_engine import CHEAP, FLAT, RICH, step


class WiredVenue(FakeVenue):
    """A fake whose order placement writes a request, as the HttpClient reports it."""

    async def place_limit_order(self, *args, **kwargs):
        ticks.request_written()
        return await super().place_limit_order(*args, **kwargs)


async def test_frame_to_decision_and_to_each_leg_sent_start_at_the_frame_read():
    info = spot_info(tick=0.1, step=0.001)
    mexc = WiredVenue("mexc_spot", [info], {"USDT": 10_000.0, "BTC": 1.0})
    gate = WiredVenue("gateio_spot", [info], {"USDT": 10_000.0, "BTC": 1.0})
    engine = ArbEngine({"mexc_spot": mexc, "gateio_spot": gate}, ArbConfig(symbols=(BTC,), cooldown_s=0.0))
    mexc.set_book(BTC, *FLAT)
    gate.set_book(BTC, *FLAT)
    engine.attach()
    await step(engine)
    assert not engine.stats.frame_to_order_sent_us  # nothing traded, nothing sent

    read_ns = time.perf_counter_ns() - 5_000_000  # the frame was read 5 ms ago
    ticks.frame_ns = read_ns  # as WsClient sets it around on_message
    try:
        mexc.set_book(BTC, *CHEAP)  # the listener marks BTC dirty inside the "frame"
        gate.set_book(BTC, *RICH)
    finally:
        ticks.frame_ns = 0
    await step(engine)
    assert engine.stats.taken == 1
    decision_us = engine.stats.frame_to_decision_us[-1]
    assert decision_us >= 5_000  # measured from the frame read, not from the listener call
    sent = list(engine.stats.frame_to_order_sent_us)
    assert len(sent) == 2 and all(us >= decision_us for us in sent)  # one per leg, after deciding


# ---- the reflex: a crossing book change is traded inside the callback that brought it --------


class HeldVenue(FakeVenue):
    """A fake whose orders are sent at once (recorded in `sent`, the request is on the wire)
    and answered when `release` is set."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.release = asyncio.Event()
        self.sent: list[Side] = []

    async def place_limit_order(self, symbol, side, *args, **kwargs):
        self.sent.append(side)
        await self.release.wait()
        return await super().place_limit_order(symbol, side, *args, **kwargs)


@contextlib.asynccontextmanager
async def running(trade: bool = True, venue_type: type[FakeVenue] = HeldVenue, cooldown_s: float = 60.0):
    """Two venues on FLAT books and an engine running on them (its first step done); after a
    trade, the symbol cools down for `cooldown_s` (the books here stay crossed)."""
    info = spot_info(tick=0.1, step=0.001)
    mexc = venue_type("mexc_spot", [info], {"USDT": 10_000.0, "BTC": 1.0})
    gate = venue_type("gateio_spot", [info], {"USDT": 10_000.0, "BTC": 1.0})
    engine = ArbEngine(
        {"mexc_spot": mexc, "gateio_spot": gate},
        ArbConfig(symbols=(BTC,), cooldown_s=cooldown_s),
        trade=trade,
    )
    mexc.set_book(BTC, *FLAT)
    gate.set_book(BTC, *FLAT)
    engine.attach()
    stop = asyncio.Event()
    run = asyncio.create_task(engine.run(stop))
    await eventually(lambda: engine.stats.evaluations >= 1, what="the engine's first step")
    try:
        yield engine, mexc, gate
    finally:
        for venue in (mexc, gate):
            if isinstance(venue, HeldVenue):
                venue.release.set()
        stop.set()
        await run


async def test_a_crossing_change_sends_both_legs_before_its_callback_returns():
    async with running() as (engine, mexc, gate):
        mexc.set_book(BTC, *CHEAP)  # MEXC's ask 100.0 under Gate's bid 100.4: too thin after fees
        assert not mexc.sent and not gate.sent
        gate.set_book(BTC, *RICH)  # Gate's bid 101.0: traded, no loop pass in between
        assert mexc.sent == [Side.BUY] and gate.sent == [Side.SELL]
        assert engine.trades_in_flight == 1
        mexc.release.set()
        gate.release.set()
        await eventually(lambda: engine.stats.taken == 1 and not engine.trades_in_flight)
        assert mexc.placed[0][0] is Side.BUY and gate.placed[0][0] is Side.SELL  # answered


async def test_a_change_that_crosses_nothing_waits_for_the_loop():
    async with running(venue_type=FakeVenue) as (engine, mexc, gate):
        evaluations = engine.stats.evaluations
        mexc.set_book(BTC, [(100.3, 5.0)], [(100.6, 5.0)])  # no bid above another's ask
        assert engine.stats.evaluations == evaluations  # not evaluated in the callback
        await eventually(lambda: engine.stats.evaluations > evaluations, what="the loop's step")
        assert not mexc.placed and not gate.placed


async def test_no_reflex_while_only_watching_or_while_the_symbol_trades():
    async with running(trade=False, venue_type=FakeVenue) as (engine, mexc, gate):
        mexc.set_book(BTC, *CHEAP)
        gate.set_book(BTC, *RICH)
        assert not mexc.placed and not gate.placed  # a signal, recorded by the loop
        await eventually(lambda: any(d.action == "signal" for d in engine.stats.decisions))
    async with running(cooldown_s=0.0) as (engine, mexc, gate):
        mexc.set_book(BTC, *CHEAP)
        gate.set_book(BTC, *RICH)
        assert len(mexc.sent) == 1
        evaluations = engine.stats.evaluations
        gate.set_book(BTC, *RICH)  # still crossed, but BTC's trade is under way
        mexc.set_book(BTC, *CHEAP)
        assert engine.stats.evaluations == evaluations
        assert len(mexc.sent) == 1 and len(gate.sent) == 1
