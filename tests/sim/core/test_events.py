"""Book deltas chain with no gaps; snapshot ids match; deltas rebuild the book; ticker and order events."""

from __future__ import annotations

import random

from cexarb.model import OrderStatus, OrderType, Side, TimeInForce
from cexarb.sim.engine import SimReject
from cexarb.sim.events import BookDeltaEvent, FillEvent, OrderEvent, TickerEvent, TradeEvent
from cexarb.sim.venue import SimVenue

from .conftest import BTC, ETH


def apply(book: dict[float, float], levels) -> None:
    for price, qty in levels:
        if qty == 0:
            book.pop(price, None)
        else:
            book[price] = qty


def test_deltas_chain_and_rebuild_the_book(spot: SimVenue) -> None:
    rng = random.Random(3)
    start = spot.snapshot(BTC, 1000)
    bids = dict(start.bids)
    asks = dict(start.asks)
    last_id = start.update_id
    deltas = []

    def on_event(event) -> None:
        if isinstance(event, BookDeltaEvent) and event.symbol == BTC:
            deltas.append(event)
            # a snapshot taken while the event is delivered carries the same id
            assert spot.snapshot(BTC, 1).update_id == event.last_id

    spot.subscribe(on_event)
    for _ in range(400):
        action = rng.random()
        key = rng.choice("abc")
        side = rng.choice((Side.BUY, Side.SELL))
        try:
            if action < 0.6:
                price = round(60000.0 + rng.randint(-30, 30) * 0.1, 1)
                tif = rng.choice((TimeInForce.GTC, TimeInForce.GTC, TimeInForce.IOC, TimeInForce.POST_ONLY))
                spot.place_order(key, BTC, side, OrderType.LIMIT, rng.randint(1, 50) / 1000, price, tif)
            elif action < 0.7:
                spot.place_order(key, BTC, side, OrderType.MARKET, rng.randint(1, 50) / 1000, None)
            elif action < 0.9:
                orders = spot.open_orders(key, BTC)
                if orders:
                    spot.cancel_order(key, BTC, rng.choice(orders).order_id)
            else:
                spot.place_order(key, ETH, side, OrderType.LIMIT, 0.1, 3000.0, TimeInForce.GTC)
        except SimReject:
            pass
    assert deltas
    for delta in deltas:
        assert delta.first_id == last_id + 1
        assert delta.last_id >= delta.first_id
        last_id = delta.last_id
        apply(bids, delta.bids)
        apply(asks, delta.asks)
    snap = spot.snapshot(BTC, 1000)
    assert snap.update_id == last_id
    assert sorted(bids.items(), reverse=True) == snap.bids
    assert sorted(asks.items()) == snap.asks
    if snap.bids and snap.asks:
        assert snap.bids[0][0] < snap.asks[0][0]  # never crossed


def test_event_kinds_for_a_fill(spot: SimVenue) -> None:
    events = []
    spot.place_order("b", BTC, Side.SELL, OrderType.LIMIT, 0.1, 60000.0)
    spot.subscribe(events.append)
    spot.place_order("a", BTC, Side.BUY, OrderType.LIMIT, 0.1, 60000.0, TimeInForce.GTC, "t-x")
    kinds = [type(e) for e in events]
    assert kinds[0] is BookDeltaEvent
    assert TickerEvent in kinds and TradeEvent in kinds
    fills = {e.api_key: e.execution for e in events if isinstance(e, FillEvent)}
    assert fills["a"].is_maker is False and fills["b"].is_maker is True
    assert fills["a"].trade_id == fills["b"].trade_id
    a_orders = [e.order for e in events if isinstance(e, OrderEvent) and e.api_key == "a"]
    assert [o.status for o in a_orders] == [OrderStatus.NEW, OrderStatus.FILLED]
    assert a_orders[0].client_order_id == "t-x"
    seqs = [o.sequence for o in a_orders]
    assert seqs == sorted(seqs)
    trade = next(e.trade for e in events if isinstance(e, TradeEvent))
    assert trade.side is Side.BUY and spot.recent_trades(BTC, 10)[-1] == trade


def test_unsubscribe_and_reentrant_subscriber(spot: SimVenue) -> None:
    seen = []

    def reenter(event) -> None:
        seen.append(event)
        if isinstance(event, TradeEvent) and len(seen) < 50:
            # a subscriber placing an order from inside delivery must not break ordering
            spot.place_order("c", BTC, Side.BUY, OrderType.LIMIT, 0.01, 50000.0)

    unsubscribe = spot.subscribe(reenter)
    spot.place_order("b", BTC, Side.SELL, OrderType.LIMIT, 0.1, 60000.0)
    spot.place_order("a", BTC, Side.BUY, OrderType.MARKET, 0.1, None)
    ids = [e.first_id for e in seen if isinstance(e, BookDeltaEvent)]
    assert ids == list(range(ids[0], ids[0] + len(ids)))
    assert spot.snapshot(BTC, 5).bids == [(50000.0, 0.01)]
    unsubscribe()
    n = len(seen)
    spot.place_order("a", BTC, Side.BUY, OrderType.LIMIT, 0.01, 50000.0)
    assert len(seen) == n


def test_ticker_and_mark(spot: SimVenue) -> None:
    assert spot.mark_price(BTC) == 60000.0  # empty book: the reference price
    spot.place_order("a", BTC, Side.BUY, OrderType.LIMIT, 0.1, 59990.0)
    spot.place_order("b", BTC, Side.SELL, OrderType.LIMIT, 0.2, 60010.0)
    t = spot.ticker(BTC)
    assert (t.bid_price, t.bid_quantity, t.ask_price, t.ask_quantity) == (59990.0, 0.1, 60010.0, 0.2)
    assert t.update_id == spot.snapshot(BTC, 1).update_id
    assert spot.mark_price(BTC) == 60000.0
