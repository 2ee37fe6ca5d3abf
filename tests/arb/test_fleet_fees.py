"""The fleet's booking of a trade from its orders' fills: a fill that trails its order's end
is booked when it comes, once, and each member books only its own orders' fees."""

from __future__ import annotations

import time

import pytest

from cexarb.arb import fleet
from cexarb.arb.config import ArbConfig
from cexarb.arb.executor import LegResult
from cexarb.arb.fleet import FleetGuard
from cexarb.arb.sizing import Leg
from cexarb.model import Execution, Order, OrderStatus, OrderType, Side, Symbol, SymbolInfo
from tests.support import eventually

BTC = Symbol("BTC", "USDT")
INFO = SymbolInfo(BTC, "BTCUSDT", 0.01, 0.0001)


def bought(order_id: str, qty: float, price: float) -> LegResult:
    order = Order(
        BTC, order_id, "", Side.BUY, OrderType.LIMIT, price, qty, OrderStatus.FILLED,
        filled_quantity=qty, average_price=price,
    )  # fmt: skip
    return LegResult(Leg("mexc_spot", BTC, Side.BUY, price, qty, INFO), order)


def fill(order_id: str, trade_id: str, qty: float, fee: float, asset: str) -> Execution:
    return Execution(BTC, trade_id, order_id, "", Side.BUY, 60_000.0, qty, fee, asset, False, 0)


async def test_a_fill_after_its_trade_was_booked_brings_its_fee_then():
    guard = FleetGuard(None, ArbConfig())
    ledger = guard.coordinator.ledger
    guard.on_fill("mexc_spot", fill("o1", "t1", 0.006, 0.000012, "BTC"), 0.72)
    await guard.settle_legs([bought("o1", 0.01, 60_000.0)], 0.0)
    # Booked at once: 0.01 bought, less the base fee of the one fill here.
    assert ledger.base["mexc_spot:BTC"] == pytest.approx(0.01 - 0.000012)
    assert ledger.cash == pytest.approx(-600.0)
    guard.on_fill("mexc_spot", fill("o1", "t2", 0.004, 0.000008, "BTC"), 0.48)
    await eventually(lambda: not guard._tasks, what="the late fee booked")
    assert guard.late_fills == 1
    assert ledger.base["mexc_spot:BTC"] == pytest.approx(0.01 - 0.00002)
    assert ledger.cash == pytest.approx(-600.0)
    assert ledger.pnl() == pytest.approx(-0.00002 * 60_000.0)  # the fees, valued at the fill price


async def test_fees_of_other_members_orders_are_not_booked_here():
    guard = FleetGuard(None, ArbConfig())
    guard.on_fill("mexc_spot", fill("theirs", "t9", 0.01, 0.5, "USDT"), 0.5)
    guard.on_fill("mexc_spot", fill("mine", "t1", 0.01, 0.6, "USDT"), 0.6)
    await guard.settle_legs([bought("mine", 0.01, 60_000.0)], 0.0)
    assert guard.coordinator.ledger.cash == pytest.approx(-600.6)
    assert guard.late_fills == 0


class _Clock:
    """arb.fleet's `time`, its monotonic clock moved by hand (the event loop keeps its own)."""

    def __init__(self) -> None:
        self.now = 1_000.0
        self.time_ns = time.time_ns

    def monotonic(self) -> float:
        return self.now


async def test_a_fill_trailing_its_booked_trade_by_minutes_still_brings_its_fee(monkeypatch):
    clock = _Clock()
    monkeypatch.setattr(fleet, "time", clock)
    guard = FleetGuard(None, ArbConfig())
    ledger = guard.coordinator.ledger
    guard.on_fill("mexc_spot", fill("o1", "t1", 0.006, 0.000012, "BTC"), 0.72)
    await guard.settle_legs([bought("o1", 0.01, 60_000.0)], 0.0)
    # Ten minutes of other orders' fills (e.g. a stream down, its fills recovered later).
    for minute in range(10):
        clock.now += 60.0
        guard.on_fill("mexc_spot", fill(f"other{minute}", f"x{minute}", 0.01, 0.0, "USDT"), 0.0)
    guard.on_fill("mexc_spot", fill("o1", "t2", 0.004, 0.000008, "BTC"), 0.48)
    await eventually(lambda: not guard._tasks, what="the late fee booked")
    assert guard.late_fills == 1
    assert ledger.base["mexc_spot:BTC"] == pytest.approx(0.01 - 0.00002)
    # Complete now: nothing of it is kept any longer.
    assert ("mexc_spot", "o1") not in guard._fills


async def test_a_booked_order_whose_last_fill_never_comes_is_dropped_after_a_day(monkeypatch):
    clock = _Clock()
    monkeypatch.setattr(fleet, "time", clock)
    guard = FleetGuard(None, ArbConfig())
    guard.on_fill("mexc_spot", fill("o1", "t1", 0.006, 0.0, "USDT"), 0.0)
    await guard.settle_legs([bought("o1", 0.01, 60_000.0)], 0.0)
    clock.now += 3_600.0
    guard.on_fill("mexc_spot", fill("a", "ta", 0.01, 0.0, "USDT"), 0.0)
    assert ("mexc_spot", "o1") in guard._fills  # an hour on: still waiting for its 0.004
    clock.now += 86_400.0
    guard.on_fill("mexc_spot", fill("b", "tb", 0.01, 0.0, "USDT"), 0.0)
    assert ("mexc_spot", "o1") not in guard._fills and ("mexc_spot", "a") not in guard._fills
