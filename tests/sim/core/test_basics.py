from __future__ import annotations

from cexarb.model import OrderStatus, OrderType, Side, TimeInForce
from cexarb.sim.events import BookDeltaEvent, OrderEvent
from cexarb.sim.venue import SimVenue

from .conftest import BTC


def test_resting_limit_buy_locks_quote_and_shows_in_book(spot: SimVenue) -> None:
    events = []
    spot.subscribe(events.append)
    order = spot.place_order("a", BTC, Side.BUY, OrderType.LIMIT, 0.5, 50000.0, TimeInForce.GTC, "c1")
    assert order.status is OrderStatus.NEW
    bal = spot.balances("a")["USDT"]
    assert bal.locked == 25000.0 and bal.available == 975000.0
    book = spot.snapshot(BTC, 10)
    assert book.bids == [(50000.0, 0.5)] and book.asks == []
    assert book.update_id == events[0].last_id
    assert isinstance(events[0], BookDeltaEvent)
    assert any(isinstance(e, OrderEvent) and e.order.order_id == order.order_id for e in events)
    assert [o.order_id for o in spot.open_orders("a", BTC)] == [order.order_id]


def test_cancel_releases_lock(spot: SimVenue) -> None:
    order = spot.place_order("a", BTC, Side.SELL, OrderType.LIMIT, 1.0, 70000.0, TimeInForce.GTC)
    assert spot.balances("a")["BTC"].locked == 1.0
    canceled = spot.cancel_order("a", BTC, order.order_id)
    assert canceled.status is OrderStatus.CANCELED
    bal = spot.balances("a")["BTC"]
    assert bal.locked == 0.0 and bal.available == 10.0
    assert spot.snapshot(BTC, 5).asks == []
