"""Futures: signed positions, average entry, realized/unrealized PnL, margin, reduce-only, leverage."""

from __future__ import annotations

import pytest

from cexarb.model import OrderStatus, OrderType, PositionSide, Side, TimeInForce
from cexarb.sim.engine import RejectReason, SimReject
from cexarb.sim.events import PositionEvent
from cexarb.sim.futures import MAINTENANCE_RATE
from cexarb.sim.venue import SimVenue

from .conftest import BTC

START = 1_000_000.0


def trade(v: SimVenue, maker: str, taker: str, side: Side, qty: float, price: float) -> None:
    """`taker` buys/sells `qty` from `maker` at `price`."""
    v.place_order(maker, BTC, side.opposite, OrderType.LIMIT, qty, price, TimeInForce.GTC)
    order = v.place_order(taker, BTC, side, OrderType.LIMIT, qty, price, TimeInForce.IOC)
    assert order.status is OrderStatus.FILLED


def usdt(v: SimVenue, key: str) -> float:
    return v.balances(key)["USDT"].total


def test_open_long_short_and_margin(fut: SimVenue) -> None:
    events = []
    fut.subscribe(events.append)
    trade(fut, "b", "a", Side.BUY, 0.5, 60000.0)
    pos_a = fut.positions("a")[BTC]
    pos_b = fut.positions("b")[BTC]
    assert pos_a.side is PositionSide.LONG and pos_a.size == 0.5 and pos_a.contracts == 5000
    assert pos_b.side is PositionSide.SHORT and pos_b.size == -0.5
    assert pos_a.entry_price == 60000.0
    assert pos_a.margin == pytest.approx(0.5 * 60000.0 / 10)
    assert pos_a.leverage == 10
    assert pos_a.liquidation_price == pytest.approx(60000.0 * (1 - 0.1 + MAINTENANCE_RATE))
    bal = fut.balances("a")["USDT"]
    assert bal.locked == pytest.approx(3000.0)  # position margin, no open orders
    assert bal.total == pytest.approx(START - 30000.0 * 0.0005)  # taker fee only
    assert usdt(fut, "b") == pytest.approx(START - 30000.0 * 0.0002)
    assert any(isinstance(e, PositionEvent) and e.api_key == "a" and e.position.size == 0.5 for e in events)


def test_close_realizes_pnl_between_accounts(fut: SimVenue) -> None:
    trade(fut, "b", "a", Side.BUY, 0.5, 60000.0)
    trade(fut, "c", "a", Side.SELL, 0.2, 61000.0)  # a closes 0.2 at +1000
    pos_a = fut.positions("a")[BTC]
    assert pos_a.size == pytest.approx(0.3)
    assert pos_a.realized_pnl == pytest.approx(200.0)
    assert pos_a.entry_price == 60000.0
    assert pos_a.margin == pytest.approx(0.3 * 60000.0 / 10)
    fees_a = 30000.0 * 0.0005 + 12200.0 * 0.0005
    assert usdt(fut, "a") == pytest.approx(START + 200.0 - fees_a)
    # unrealized at the book's mark; flatten everything: total PnL sums to zero over accounts
    trade(fut, "c", "a", Side.SELL, 0.3, 59000.0)
    trade(fut, "b", "c", Side.SELL, 0.5, 59500.0)
    for key in "abc":
        assert fut.positions(key)[BTC].size == 0
        assert fut.balances(key)["USDT"].locked == pytest.approx(0.0, abs=1e-6)
    total = sum(usdt(fut, k) for k in "abc") + fut.fees_collected["USDT"]
    assert total == pytest.approx(3 * START)
    assert fut.positions("a")[BTC].realized_pnl == pytest.approx(200.0 - 300.0)


def test_flip_through_zero_opens_at_fill_price(fut: SimVenue) -> None:
    trade(fut, "b", "a", Side.BUY, 0.2, 60000.0)
    trade(fut, "b", "a", Side.SELL, 0.5, 60500.0)
    pos = fut.positions("a")[BTC]
    assert pos.size == pytest.approx(-0.3)
    assert pos.entry_price == 60500.0
    assert pos.realized_pnl == pytest.approx(100.0)
    assert pos.margin == pytest.approx(0.3 * 60500.0 / 10)


def test_average_entry_when_adding(fut: SimVenue) -> None:
    trade(fut, "b", "a", Side.BUY, 0.1, 60000.0)
    trade(fut, "b", "a", Side.BUY, 0.3, 62000.0)
    pos = fut.positions("a")[BTC]
    assert pos.entry_price == pytest.approx((6000.0 + 18600.0) / 0.4)
    fut.place_order("c", BTC, Side.BUY, OrderType.LIMIT, 0.01, 63000.0)
    fut.place_order("c", BTC, Side.SELL, OrderType.LIMIT, 0.01, 63001.0)
    pos = fut.positions("a")[BTC]
    assert pos.mark_price == pytest.approx(63000.5)
    assert pos.unrealized_pnl == pytest.approx((63000.5 - 61500.0) * 0.4)


def test_order_margin_locked_and_released(fut: SimVenue) -> None:
    order = fut.place_order("a", BTC, Side.BUY, OrderType.LIMIT, 1.0, 50000.0)
    locked = fut.balances("a")["USDT"].locked
    assert locked == pytest.approx(50000.0 / 10 + 50000.0 * 0.0005)
    fut.cancel_order("a", BTC, order.order_id)
    assert fut.balances("a")["USDT"].locked == 0.0
    assert fut.balances("a")["USDT"].available == START


def test_reduce_only(fut: SimVenue) -> None:
    with pytest.raises(SimReject) as exc:
        fut.place_order("a", BTC, Side.SELL, OrderType.LIMIT, 0.1, 60000.0, reduce_only=True)
    assert exc.value.reason is RejectReason.REDUCE_ONLY_VIOLATED
    trade(fut, "b", "a", Side.BUY, 0.2, 60000.0)
    with pytest.raises(SimReject):
        fut.place_order("a", BTC, Side.BUY, OrderType.LIMIT, 0.1, 60000.0, reduce_only=True)
    with pytest.raises(SimReject):
        fut.place_order("a", BTC, Side.SELL, OrderType.LIMIT, 0.3, 60000.0, reduce_only=True)
    locked_before = fut.balances("a")["USDT"].locked
    order = fut.place_order("a", BTC, Side.SELL, OrderType.LIMIT, 0.2, 61000.0, reduce_only=True)
    assert order.reduce_only
    assert fut.balances("a")["USDT"].locked == pytest.approx(locked_before)  # closing locks no margin


def test_leverage_changes_position_margin(fut: SimVenue) -> None:
    with pytest.raises(SimReject) as exc:
        fut.set_leverage("a", BTC, 0)
    assert exc.value.reason is RejectReason.INVALID_LEVERAGE
    assert fut.set_leverage("a", BTC, 20) == 20
    trade(fut, "b", "a", Side.BUY, 1.0, 60000.0)
    assert fut.positions("a")[BTC].margin == pytest.approx(3000.0)
    fut.set_leverage("a", BTC, 5)
    assert fut.positions("a")[BTC].margin == pytest.approx(12000.0)
    assert fut.balances("a")["USDT"].locked == pytest.approx(12000.0)


def test_spot_venue_rejects_futures_features(spot: SimVenue) -> None:
    with pytest.raises(SimReject):
        spot.set_leverage("a", BTC, 5)
    with pytest.raises(SimReject):
        spot.place_order("a", BTC, Side.BUY, OrderType.LIMIT, 0.1, 1000.0, reduce_only=True)
    assert spot.positions("a") == {}


def test_futures_quantity_in_contract_steps(fut: SimVenue) -> None:
    with pytest.raises(SimReject) as exc:
        fut.place_order("a", BTC, Side.BUY, OrderType.LIMIT, 0.00015, 60000.0)
    assert exc.value.reason is RejectReason.INVALID_QUANTITY
    assert set(fut.balances("a")) == {"USDT"}


def test_reduce_only_order_canceled_when_position_closes_otherwise(fut: SimVenue) -> None:
    trade(fut, "b", "a", Side.BUY, 0.2, 60000.0)
    ro = fut.place_order("a", BTC, Side.SELL, OrderType.LIMIT, 0.2, 65000.0, reduce_only=True)
    # the position is closed by a plain order: the reduce-only one must not open a short later
    trade(fut, "c", "a", Side.SELL, 0.2, 60000.0)
    assert fut.get_order("a", BTC, ro.order_id).status is OrderStatus.CANCELED
    assert fut.open_orders("a") == []
    trade(fut, "b", "a", Side.BUY, 0.3, 60000.0)
    ro = fut.place_order("a", BTC, Side.SELL, OrderType.LIMIT, 0.3, 65000.0, reduce_only=True)
    trade(fut, "c", "a", Side.SELL, 0.1, 60000.0)  # position 0.2 < order 0.3
    assert fut.get_order("a", BTC, ro.order_id).status is OrderStatus.CANCELED
