"""Tick to trade in the engine: from the read time of the frame that made a symbol dirty to
the decision, and to each leg's order request written."""

from __future__ import annotations

import asyncio
import contextlib
import time

import pytest

from cexarb.arb import engine as engine_module
from cexarb.arb.config import ArbConfig
from cexarb.arb.engine import ArbEngine
from cexarb.coord import InProcessCoordinator
from cexarb.model import Side
from cexarb.transport import ticks
from tests.support import eventually

from .fakes import FakeVenue
from .helpers import BTC, spot_info
from .test_engine import CHEAP, FLAT, RICH, step


class WiredVenue(FakeVenue):
    """A fake whose order placement writes a request, as the HttpClient reports it."""

    def _place(self, *args):
        ticks.request_written()
        return super()._place(*args)


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

    def write_limit_order_now(self, symbol, side, *args, **kwargs):
        if not self.lane:
            return None
        self.sent.append(side)
        return self._answer(symbol, side, *args, **kwargs)

    def book_written(self, written):
        return written

    async def place_limit_order(self, symbol, side, *args, **kwargs):
        self.sent.append(side)
        return await self._answer(symbol, side, *args, **kwargs)

    async def _answer(self, symbol, side, *args, **kwargs):
        await self.release.wait()
        return await super().place_limit_order(symbol, side, *args, **kwargs)


@contextlib.asynccontextmanager
async def running(
    trade: bool = True,
    venue_type: type[FakeVenue] = HeldVenue,
    cooldown_s: float = 60.0,
    lane: bool = True,
    coordinator: InProcessCoordinator | None = None,
):
    """Two venues on FLAT books and an engine running on them (its first step done); after a
    trade, the symbol cools down for `cooldown_s` (the books here stay crossed). `lane`: the
    venues can write an order at once (write_limit_order_now), else only place_limit_order;
    `coordinator`: the fleet (None: the engine's own in-process one)."""
    info = spot_info(tick=0.1, step=0.001)
    mexc = venue_type("mexc_spot", [info], {"USDT": 10_000.0, "BTC": 1.0})
    gate = venue_type("gateio_spot", [info], {"USDT": 10_000.0, "BTC": 1.0})
    mexc.lane = gate.lane = lane
    engine = ArbEngine(
        {"mexc_spot": mexc, "gateio_spot": gate},
        ArbConfig(symbols=(BTC,), cooldown_s=cooldown_s),
        trade=trade,
        coordinator=coordinator,
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


@pytest.mark.parametrize("lane", [True, False], ids=["written-now", "eager-tasks"])
async def test_a_crossing_change_sends_both_legs_before_its_callback_returns(lane):
    async with running(lane=lane) as (engine, mexc, gate):
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


class _AskedFleet(InProcessCoordinator):
    """A fleet whose state is not at hand (as over Redis): every reservation is awaited."""

    def check_now(self, reservation):
        return False, None


class _FullFleet(InProcessCoordinator):
    """A fleet that refuses every reservation at once."""

    def check_now(self, reservation):
        return True, "fleet_unhedged"


async def test_a_fleet_that_must_be_asked_is_asked_from_the_trade_task_and_the_legs_follow():
    async with running(coordinator=_AskedFleet("m1")) as (engine, mexc, gate):
        mexc.set_book(BTC, *CHEAP)
        gate.set_book(BTC, *RICH)
        # This fleet answers without waiting here, so the eagerly started task wrote both legs too.
        assert mexc.sent == [Side.BUY] and gate.sent == [Side.SELL]
        mexc.release.set()
        gate.release.set()
        await eventually(lambda: engine.stats.taken == 1 and not engine.trades_in_flight)
        assert engine.fleet.coordinator.ledger.cash != 0  # settled into the fleet's ledger


class _NotingFleet(InProcessCoordinator):
    """An in-process fleet that notes what the venues had sent, and the executor's at-risk,
    when each reservation was booked."""

    def __init__(self, member: str) -> None:
        super().__init__(member)
        self.seen: list[tuple] = []
        self.venues: tuple = ()
        self.executor = None

    def book_now(self, reservation):
        self.seen.append((*(list(v.sent) for v in self.venues), self.executor.at_risk_notional))
        super().book_now(reservation)


async def test_the_reservation_is_booked_once_both_legs_are_written():
    async with running(coordinator=_NotingFleet("m1")) as (engine, mexc, gate):
        fleet = engine.fleet.coordinator
        fleet.venues, fleet.executor = (mexc, gate), engine.executor
        mexc.set_book(BTC, *CHEAP)
        gate.set_book(BTC, *RICH)
        # Checked before the writes, booked after both (nothing awaited in between), and the
        # trade's risk counted by then.
        [(bought, sold, at_risk)] = fleet.seen
        assert (bought, sold) == ([Side.BUY], [Side.SELL]) and at_risk > 0
        assert fleet.ledger.at_risk > 0 and len(fleet.ledger.reservations) == 1
        mexc.release.set()
        gate.release.set()
        await eventually(lambda: engine.stats.taken == 1 and not engine.trades_in_flight)
        assert fleet.ledger.at_risk == 0 and not fleet.ledger.reservations  # settled
        assert engine.executor.at_risk_notional == 0


async def test_a_write_that_raises_is_still_booked_then_settled_and_stops_trading():
    async with running(coordinator=_NotingFleet("m1")) as (engine, mexc, gate):
        fleet = engine.fleet.coordinator
        fleet.venues, fleet.executor = (mexc, gate), engine.executor

        def broken(*args, **kwargs):
            raise RuntimeError("a bug in the executor")

        engine.executor.start_legs = broken
        mexc.set_book(BTC, *CHEAP)
        gate.set_book(BTC, *RICH)
        assert len(fleet.seen) == 1  # booked though nothing was written
        await eventually(lambda: engine.risk.halted and not engine.trades_in_flight, what="the halt")
        assert "RuntimeError" in engine.risk.halt_reason
        assert fleet.ledger.at_risk == 0 and not fleet.ledger.reservations  # settled, nothing filled
        assert engine.executor.at_risk_notional == 0 and BTC not in engine._busy


async def test_a_reservation_refused_at_once_sends_nothing_and_frees_the_symbol():
    async with running(coordinator=_FullFleet("m1")) as (engine, mexc, gate):
        mexc.set_book(BTC, *CHEAP)
        gate.set_book(BTC, *RICH)
        assert not mexc.sent and not gate.sent
        await eventually(lambda: engine.stats.skipped["fleet_unhedged"] == 1)
        # Refused, the symbol is free but waits: the steps in between skip it (cooldown) instead
        # of asking the fleet again thousands of times a second; then it is asked again.
        await eventually(lambda: engine.stats.skipped["cooldown"] >= 1)
        assert engine.stats.skipped["fleet_unhedged"] == 1
        await eventually(lambda: time.monotonic() >= engine._cooldown_until[BTC], what="the wait's end")
        gate.set_book(BTC, *RICH)  # the next change: asked again
        await eventually(lambda: engine.stats.skipped["fleet_unhedged"] == 2)
        assert engine.fleet.refused == 2
    assert not mexc.sent and not gate.sent and engine.stats.taken == 0
    assert not engine.trades_in_flight and engine.executor.at_risk_notional == 0


# ---- keeping the reflex warm: rehearsed, never sent ---------------------------------------------


def _flat_engine(**config):
    info = spot_info(tick=0.1, step=0.001)
    mexc = FakeVenue("mexc_spot", [info], {"USDT": 10_000.0, "BTC": 1.0})
    gate = FakeVenue("gateio_spot", [info], {"USDT": 10_000.0, "BTC": 1.0})
    engine = ArbEngine(
        {"mexc_spot": mexc, "gateio_spot": gate}, ArbConfig(symbols=(BTC,), cooldown_s=0.0, **config)
    )
    mexc.set_book(BTC, *FLAT)
    gate.set_book(BTC, *FLAT)
    engine.attach()
    return engine, mexc, gate


def test_a_rehearsal_builds_the_orders_a_crossing_would_send_and_changes_nothing():
    engine, mexc, gate = _flat_engine()
    asked = []
    dry = engine.fleet.coordinator.check_now
    engine.fleet.coordinator.check_now = lambda r: asked.append(r.legs) or dry(r)
    before = (engine.stats.evaluations, len(engine.stats.skips), dict(engine.stats.skipped))
    assert engine.rehearse(BTC) == 2
    # Bought at MEXC's ask, sold at the lifted bid: the orders the reflex would send, built by
    # each venue (signed bytes on a real connector), not placed, nothing recorded.
    assert [r[0] for r in mexc.rehearsed] == [Side.BUY] and [r[0] for r in gate.rehearsed] == [Side.SELL]
    assert mexc.rehearsed[0][2] == 100.5 and mexc.rehearsed[0][1] > 0
    assert engine.rehearse(BTC) == 2  # then the other way round
    assert [r[0] for r in gate.rehearsed] == [Side.SELL, Side.BUY] and gate.rehearsed[1][2] == 100.5
    assert not mexc.placed and not gate.placed
    assert (engine.stats.evaluations, len(engine.stats.skips), dict(engine.stats.skipped)) == before
    assert engine.executor.in_flight == 0 and engine.fleet.refused == 0
    assert len(asked) == 2  # the fleet was asked as the reflex asks it, but dry: nothing reserved
    ledger = engine.fleet.coordinator.ledger
    assert ledger.at_risk == 0.0 and not ledger.reservations


def test_a_rehearsal_runs_the_prepared_decision_once_the_caps_are_prepared():
    engine, mexc, gate = _flat_engine()
    engine.rehearse(BTC), engine.rehearse(BTC)  # the full decision on crossed copies: each way
    engine.armed.arm(BTC)  # as the loop's step does while trading

    def no_full_decision(*args):
        raise AssertionError("the full decision ran")

    engine._rehearse_full = no_full_decision
    before = (engine.stats.evaluations, len(engine.stats.skips))
    assert engine.rehearse(BTC) == 2 and engine.rehearse(BTC) == 2
    # The same orders as the full decision's rehearsal, each way; still nothing sent or recorded.
    assert mexc.rehearsed[2:] == mexc.rehearsed[:2] and gate.rehearsed[2:] == gate.rehearsed[:2]
    assert not mexc.placed and not gate.placed
    assert (engine.stats.evaluations, len(engine.stats.skips)) == before
    assert engine.executor.in_flight == 0


def test_no_rehearsal_without_two_synced_books_or_room_to_trade():
    engine, mexc, gate = _flat_engine()
    gate.set_book(BTC, *FLAT, synced=False)
    assert engine.rehearse(BTC) == 0
    engine, mexc, gate = _flat_engine()
    engine.risk.halt("test")  # the guard refuses any trade: nothing to rehearse
    assert engine.rehearse(BTC) == 0
    assert not mexc.rehearsed and not gate.rehearsed


class _Warmer:
    """SendPathWarmer's stand-in: what the engine asked of it, and when."""

    made: list[_Warmer] = []
    engine: ArbEngine  # the engine whose trading state each warm records

    def __init__(self) -> None:
        self.trading_at_warm: list[bool] = []
        self.closed = False
        _Warmer.made.append(self)

    def warm(self) -> None:
        self.trading_at_warm.append(self.engine.trade)

    def close(self) -> None:
        self.closed = True


@pytest.mark.parametrize("keep_warm_s", [0.001, 0.0001])  # every millisecond; continuously
async def test_the_engine_keeps_the_reflex_warm_while_trading_only(keep_warm_s, monkeypatch):
    monkeypatch.setattr(engine_module, "SendPathWarmer", _Warmer)
    _Warmer.made.clear()
    engine, mexc, gate = _flat_engine(keep_warm_s=keep_warm_s)
    _Warmer.engine = engine
    trading_at_rehearsal: list[bool] = []
    rehearse = engine.rehearse
    engine.rehearse = lambda symbol: trading_at_rehearsal.append(engine.trade) or rehearse(symbol)
    stop = asyncio.Event()
    run = asyncio.create_task(engine.run(stop))
    await eventually(lambda: len(_Warmer.made) == 1, what="the send path's warmer")
    [warmer] = _Warmer.made
    await eventually(lambda: len(mexc.rehearsed) >= 3, what="rehearsals")
    engine.trade = False
    # Some 20 rehearsal periods without trading: none may happen (a bug would show here).
    quiet_until = time.monotonic() + 0.02
    await eventually(lambda: time.monotonic() > quiet_until, what="the quiet spell")
    engine.trade = True
    await eventually(lambda: trading_at_rehearsal.count(True) >= 6, what="rehearsals again")
    stop.set()
    await run
    assert False not in trading_at_rehearsal
    assert not mexc.placed and not gate.placed
    # The kernel's send path kept warm after the rehearsals, while trading only; closed at the end.
    assert warmer.trading_at_warm.count(True) >= 6 and False not in warmer.trading_at_warm
    assert warmer.closed and len(_Warmer.made) == 1


class _TradeReads(ArbEngine):
    """An engine that counts how often `trade` is read."""

    reads = 0

    @property
    def trade(self) -> bool:
        self.reads += 1
        return self._trade

    @trade.setter
    def trade(self, value: bool) -> None:
        self._trade = value


async def test_keeping_warm_continuously_does_not_spin_while_not_trading():
    info = spot_info(tick=0.1, step=0.001)
    venues = {n: FakeVenue(n, [info], {"USDT": 10_000.0, "BTC": 1.0}) for n in ("mexc_spot", "gateio_spot")}
    engine = _TradeReads(venues, ArbConfig(symbols=(BTC,), keep_warm_s=0.0001), trade=False)
    for venue in venues.values():
        venue.set_book(BTC, *FLAT)
    engine.attach()
    stop = asyncio.Event()
    run = asyncio.create_task(engine.run(stop))
    await eventually(lambda: engine.reads > 0, what="the engine running")
    reads = engine.reads
    quiet_until = time.monotonic() + 0.05
    await eventually(lambda: time.monotonic() > quiet_until, what="50 ms not trading")
    # A rehearsal loop that spun would read it on every loop pass (tens of thousands here); one
    # waiting its own period (0.1 ms, a millisecond on asyncio), some fifty times.
    assert engine.reads - reads < 20, engine.reads - reads
    stop.set()
    await run
    assert not venues["mexc_spot"].rehearsed


async def test_a_bug_while_writing_the_legs_halts_trading_and_frees_the_symbol():
    async with running(venue_type=FakeVenue) as (engine, mexc, gate):

        def broken(*args, **kwargs):
            raise RuntimeError("connector bug")

        gate.write_limit_order_now = broken
        mexc.set_book(BTC, *CHEAP)
        gate.set_book(BTC, *RICH)
        await eventually(lambda: engine.risk.halted, what="the kill switch")
        assert "connector bug" in engine.risk.halt_reason
        await eventually(lambda: not engine.trades_in_flight)
        assert BTC not in engine._busy and engine.executor.at_risk_notional == 0
        # The leg that went out was made flat and booked before trading stopped.
        assert [p[0] for p in mexc.placed] == [Side.BUY, Side.SELL] and not gate.placed
        assert engine.stats.outcomes["hedged"] == 1 and engine.executor.unhedged_notional == 0
