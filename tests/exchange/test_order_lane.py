"""The composites' order lane (place_limit_order_now, limit_order_bytes) against the fake venue:
every outcome equals place_limit_order's, the order is tracked from before the write, and a
lane that cannot write leaves nothing behind."""

from __future__ import annotations

import math

import pytest

from cexarb.model import OrderStatus, Side
from cexarb.model.errors import InvalidOrder, NetworkError
from tests.exchange.fakes import BTC, Boom, FakeFuturesExchange, FakeSpotExchange, FakeVenue

WAYS = ["place_limit_order", "place_limit_order_now"]


@pytest.fixture
async def venue():
    return FakeVenue()


@pytest.fixture
async def ex(venue):
    exchange = FakeSpotExchange(venue)
    await exchange.initialize([BTC])
    yield exchange
    await exchange.close()


async def place(ex, way: str, *args, **kwargs):
    """Place through `way`; the lane must write (the fake's lane is open)."""
    if way == "place_limit_order":
        return await ex.place_limit_order(*args, **kwargs)
    placing = ex.place_limit_order_now(*args, **kwargs)
    assert placing is not None
    return await placing


@pytest.mark.parametrize("way", WAYS)
async def test_a_placed_order_is_tracked_open_then_executed(ex, venue, way):
    order = await place(ex, way, BTC, Side.BUY, 1.0, 100.0)
    assert order.status is OrderStatus.NEW and ex.open_orders[BTC][order.order_id] is order
    assert not ex.pending_orders and not ex._placing
    venue.fill(order.order_id, 1.0)
    assert ex.executed_orders[BTC][order.order_id].status is OrderStatus.FILLED
    assert ex.get_trading_stats()["orders_placed"] == 1


async def test_the_lane_tracks_the_order_as_it_returns(ex, venue):
    venue.ws_first = False
    placing = ex.place_limit_order_now(BTC, Side.BUY, 1.0, 100.0, client_order_id="lane-1")
    # Written: the venue has it, and the tracker knows it before anything about it can arrive
    # (pending by its client id).
    assert [o.client_order_id for o in venue.orders.values()] == ["lane-1"]
    assert ex.pending_orders["lane-1"].status is OrderStatus.PENDING_NEW
    assert (await ex.get_active_order(BTC, "lane-1")).status is OrderStatus.PENDING_NEW
    assert (await placing).status is OrderStatus.NEW


async def test_the_lane_in_two_halves_writes_then_tracks(ex, venue):
    venue.ws_first = True  # the stream tells of the order and its fill before the reply
    written = ex.write_limit_order_now(BTC, Side.BUY, 1.0, 100.0, client_order_id="half-1")
    # Written, nothing tracked yet: the caller books it before awaiting anything.
    assert [o.client_order_id for o in venue.orders.values()] == ["half-1"]
    assert not ex.pending_orders and not ex._placing
    placing = ex.book_written(written)
    assert ex.pending_orders["half-1"].status is OrderStatus.PENDING_NEW and "half-1" in ex._placing
    order = await placing
    # The stream's news came after the booking: adopted as this order's, nothing unknown.
    assert order.status is OrderStatus.FILLED and ex.get_trading_stats()["unknown_order_updates"] == 0
    assert not ex.pending_orders and not ex._placing


async def test_two_orders_written_then_booked_are_both_tracked(ex, venue):
    venue.ws_first = False
    first = ex.write_limit_order_now(BTC, Side.BUY, 1.0, 100.0, client_order_id="w-1")
    second = ex.write_limit_order_now(BTC, Side.SELL, 1.0, 101.0, client_order_id="w-2")
    assert [o.client_order_id for o in venue.orders.values()] == ["w-1", "w-2"]
    placings = [ex.book_written(first), ex.book_written(second)]
    assert set(ex.pending_orders) == {"w-1", "w-2"}
    orders = [await p for p in placings]
    assert [o.client_order_id for o in orders] == ["w-1", "w-2"]
    assert all(ex.open_orders[BTC][o.order_id] is o for o in orders)


async def test_no_write_now_leaves_nothing_to_book(ex, venue):
    venue.lane_open = False
    assert ex.write_limit_order_now(BTC, Side.BUY, 1.0, 100.0) is None
    assert not venue.orders and not ex.pending_orders


@pytest.mark.parametrize("way", WAYS)
async def test_a_fill_streamed_during_the_write_is_adopted_not_confirmed(ex, venue, way):
    venue.ws_first = True  # the venue's stream tells of the order and its fill before the reply
    order = await place(ex, way, BTC, Side.BUY, 0.5, 100.0)
    assert order.status is OrderStatus.FILLED and ex.open_orders.get(BTC) == {}
    assert len(ex.executed_orders[BTC]) == 1
    stats = ex.get_trading_stats()
    assert stats["unknown_order_updates"] == 0 and stats["open_to_executed"] == 1


@pytest.mark.parametrize("way", WAYS)
async def test_a_lost_reply_is_resolved_by_client_id(ex, venue, way):
    venue.lose_next_reply = True
    venue.private_ws.up = False  # the stream does not tell either
    order = await place(ex, way, BTC, Side.SELL, 0.2, 110.0, client_order_id="mine-1")
    assert order.client_order_id == "mine-1" and order.order_id in venue.orders
    assert ex.open_orders[BTC][order.order_id].status is OrderStatus.NEW
    stats = ex.get_trading_stats()
    assert stats["places_unknown"] == 1 and stats["places_resolved"] == 1


@pytest.mark.parametrize("way", WAYS)
async def test_a_place_that_never_reached_the_venue_raises_and_drops_pending(ex, venue, way):
    venue.fail["place"] = NetworkError("502", venue="fake")
    with pytest.raises(NetworkError, match="was not placed"):
        await place(ex, way, BTC, Side.BUY, 1.0, 100.0)
    assert not ex.pending_orders and ex.open_orders.get(BTC, {}) == {} and not ex._placing


@pytest.mark.parametrize("way", WAYS)
async def test_a_refused_place_raises_and_drops_pending(ex, venue, way):
    venue.fail["place"] = InvalidOrder("rejected", venue="fake")
    with pytest.raises(InvalidOrder, match="rejected"):
        await place(ex, way, BTC, Side.BUY, 1.0, 100.0)
    assert venue.calls.count("place") == 1 and not ex.pending_orders and not ex._placing


async def test_no_write_now_returns_none_and_tracks_nothing(ex, venue):
    venue.lane_open = False  # as with no idle connection, or a rate limit that would wait
    assert ex.place_limit_order_now(BTC, Side.BUY, 1.0, 100.0) is None
    assert "place" not in venue.calls and not venue.orders
    assert not ex.pending_orders and not ex._placing
    assert ex.get_trading_stats()["orders_placed"] == 0


@pytest.mark.parametrize(("quantity", "price"), [(0.0, 100.0), (math.nan, 100.0), (1.0, -1.0)])
async def test_bad_input_raises_at_once(ex, venue, quantity, price):
    with pytest.raises(InvalidOrder, match="must be a finite number > 0"):
        ex.place_limit_order_now(BTC, Side.BUY, quantity, price)
    assert "place" not in venue.calls and not ex.pending_orders


async def test_a_connector_refusing_at_once_leaves_nothing_tracked(ex):
    def refuse(request):
        raise Boom("no")

    ex.private_rest.write_order_now = refuse
    with pytest.raises(Boom):
        ex.place_limit_order_now(BTC, Side.BUY, 1.0, 100.0)
    assert not ex.pending_orders and not ex._placing


async def test_limit_order_bytes_sends_and_tracks_nothing(ex, venue):
    first = ex.limit_order_bytes(BTC, Side.BUY, 1.0, 100.0)
    second = ex.limit_order_bytes(BTC, Side.BUY, 1.0, 100.0)
    assert first.startswith(b"PLACE BTC/USDT") and first != second  # a fresh client id each
    assert "place" not in venue.calls and not ex.pending_orders and not ex._placing


async def test_a_rehearsed_order_runs_the_write_with_the_connector_rehearsing_and_tracks_nothing(ex, venue):
    assert ex.rehearse_limit_order(BTC, Side.BUY, 1.0, 100.0) is True
    [rehearsed] = venue.rehearsed
    assert (rehearsed.side, rehearsed.quantity, rehearsed.price) == (Side.BUY, 1.0, 100.0)
    assert "place" not in venue.calls and not venue.orders and not ex.pending_orders and not ex._placing
    assert ex.private_rest._rehearsing is False  # the block ended
    venue.lane_open = False
    assert ex.rehearse_limit_order(BTC, Side.BUY, 1.0, 100.0) is False  # the lane would not write now
    with pytest.raises(InvalidOrder):
        ex.rehearse_limit_order(BTC, Side.BUY, -1.0, 100.0)  # bad input raises, as the write's does
    assert ex.private_rest._rehearsing is False and len(venue.rehearsed) == 1


async def test_futures_lane_carries_reduce_only(venue):
    ex = FakeFuturesExchange(venue)
    await ex.initialize([BTC])
    try:
        placing = ex.place_limit_order_now(BTC, Side.SELL, 1.0, 100.0, reduce_only=True)
        assert ex.pending_orders[next(iter(ex.pending_orders))].reduce_only
        order = await placing
        assert order.reduce_only and venue.orders[order.order_id].reduce_only
        assert ex.limit_order_bytes(BTC, Side.SELL, 1.0, 100.0, reduce_only=True).startswith(b"PLACE")
        assert ex.rehearse_limit_order(BTC, Side.SELL, 1.0, 100.0, reduce_only=True)
        assert venue.rehearsed[-1].reduce_only
    finally:
        await ex.close()
