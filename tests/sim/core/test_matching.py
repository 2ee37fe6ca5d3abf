"""Matching: price-time priority, partial fills, IOC/FOK/post-only, market orders, rule checks."""

from __future__ import annotations

import pytest

from cexarb.model import OrderStatus, OrderType, Side, TimeInForce
from cexarb.sim.engine import RejectReason, SimReject
from cexarb.sim.venue import SimVenue

from .conftest import BTC, ETH


def limit(v: SimVenue, key: str, side: Side, qty: float, price: float, tif=TimeInForce.GTC, cid=""):
    return v.place_order(key, BTC, side, OrderType.LIMIT, qty, price, tif, cid)


def test_price_then_time_priority(spot: SimVenue) -> None:
    first = limit(spot, "a", Side.SELL, 0.1, 60010.0)
    second = limit(spot, "b", Side.SELL, 0.1, 60010.0)
    better = limit(spot, "c", Side.SELL, 0.1, 60005.0)
    taker = limit(spot, "a", Side.BUY, 0.15, 60020.0, TimeInForce.IOC)
    assert taker.status is OrderStatus.FILLED
    # the better price fills first at its own price, then the earlier order at 60010
    fills = spot.my_trades("a", BTC)
    taker_fills = [f for f in fills if f.order_id == taker.order_id]
    assert [(f.price, f.quantity) for f in taker_fills] == [(60005.0, 0.1), (60010.0, 0.05)]
    assert spot.get_order("c", BTC, better.order_id).status is OrderStatus.FILLED
    assert spot.get_order("a", BTC, first.order_id).status is OrderStatus.PARTIALLY_FILLED
    assert spot.get_order("b", BTC, second.order_id).status is OrderStatus.NEW
    assert spot.snapshot(BTC, 5).asks == [(60010.0, 0.15)]
    assert taker.average_price == pytest.approx((60005.0 * 0.1 + 60010.0 * 0.05) / 0.15)


def test_partial_fill_then_rests_with_trimmed_lock(spot: SimVenue) -> None:
    limit(spot, "b", Side.SELL, 0.2, 59000.0)
    order = limit(spot, "a", Side.BUY, 0.5, 60000.0)
    assert order.status is OrderStatus.PARTIALLY_FILLED
    assert order.filled_quantity == 0.2 and order.remaining_quantity == 0.3
    assert spot.snapshot(BTC, 5).bids == [(60000.0, 0.3)]
    usdt = spot.balances("a")["USDT"]
    # the taken part was paid at 59000; the rest keeps exactly limit * remaining locked
    assert usdt.locked == pytest.approx(60000.0 * 0.3)
    assert usdt.total == pytest.approx(1_000_000.0 - 59000.0 * 0.2)
    assert spot.balances("a")["BTC"].available == pytest.approx(10.0 + 0.2 * (1 - 0.002))


def test_ioc_cancels_the_rest(spot: SimVenue) -> None:
    limit(spot, "b", Side.SELL, 0.1, 60000.0)
    order = limit(spot, "a", Side.BUY, 0.3, 60000.0, TimeInForce.IOC)
    assert order.status is OrderStatus.PARTIALLY_CANCELED
    assert order.filled_quantity == 0.1
    assert spot.open_orders("a") == []
    assert spot.balances("a")["USDT"].locked == 0.0
    nothing = limit(spot, "a", Side.BUY, 0.3, 50000.0, TimeInForce.IOC)
    assert nothing.status is OrderStatus.CANCELED


def test_fok_all_or_nothing(spot: SimVenue) -> None:
    limit(spot, "b", Side.SELL, 0.1, 60000.0)
    limit(spot, "c", Side.SELL, 0.1, 60001.0)
    with pytest.raises(SimReject) as exc:
        limit(spot, "a", Side.BUY, 0.2, 60000.0, TimeInForce.FOK)
    assert exc.value.reason is RejectReason.FOK_NOT_FILLED
    assert spot.balances("a")["USDT"].locked == 0.0
    assert spot.snapshot(BTC, 5).asks == [(60000.0, 0.1), (60001.0, 0.1)]
    order = limit(spot, "a", Side.BUY, 0.2, 60001.0, TimeInForce.FOK)
    assert order.status is OrderStatus.FILLED


def test_post_only_rejected_when_it_would_take(spot: SimVenue) -> None:
    limit(spot, "b", Side.SELL, 0.1, 60000.0)
    with pytest.raises(SimReject) as exc:
        limit(spot, "a", Side.BUY, 0.1, 60000.0, TimeInForce.POST_ONLY)
    assert exc.value.reason is RejectReason.POST_ONLY_WOULD_TAKE
    with pytest.raises(SimReject):
        spot.place_order("a", BTC, Side.BUY, OrderType.LIMIT_MAKER, 0.1, 60000.5, TimeInForce.GTC)
    ok = limit(spot, "a", Side.BUY, 0.1, 59999.9, TimeInForce.POST_ONLY)
    assert ok.status is OrderStatus.NEW
    assert spot.balances("a")["USDT"].locked == pytest.approx(5999.99)


def test_market_sell_walks_the_book(spot: SimVenue) -> None:
    limit(spot, "b", Side.BUY, 0.1, 60000.0)
    limit(spot, "c", Side.BUY, 0.1, 59990.0)
    order = spot.place_order("a", BTC, Side.SELL, OrderType.MARKET, 0.15, None)
    assert order.status is OrderStatus.FILLED
    assert order.average_price == pytest.approx((60000.0 * 0.1 + 59990.0 * 0.05) / 0.15)
    assert spot.snapshot(BTC, 5).bids == [(59990.0, 0.05)]


def test_market_buy_by_quote_amount(spot: SimVenue) -> None:
    limit(spot, "b", Side.SELL, 0.1, 50000.0)
    limit(spot, "c", Side.SELL, 1.0, 60000.0)
    order = spot.place_order("a", BTC, Side.BUY, OrderType.MARKET, 0.0, None, quote_quantity=11000.0)
    # 5000 buys 0.1 at 50000, the remaining 6000 buys 0.1 at 60000
    assert order.status is OrderStatus.FILLED
    assert order.quote_quantity == 11000.0
    assert order.filled_quantity == pytest.approx(0.2)
    usdt = spot.balances("a")["USDT"]
    assert usdt.locked == 0.0
    assert usdt.available == pytest.approx(1_000_000.0 - 11000.0)


def test_market_order_on_empty_book_is_canceled(spot: SimVenue) -> None:
    order = spot.place_order("a", BTC, Side.SELL, OrderType.MARKET, 0.1, None)
    assert order.status is OrderStatus.CANCELED
    assert spot.balances("a")["BTC"].locked == 0.0


@pytest.mark.parametrize(
    ("qty", "price", "reason"),
    [
        (0.1, 60000.05, RejectReason.INVALID_PRICE),
        (0.1, -1.0, RejectReason.INVALID_PRICE),
        (0.00015, 60000.0, RejectReason.INVALID_QUANTITY),
        (0.0, 60000.0, RejectReason.INVALID_QUANTITY),
        (0.0001, 5000.0, RejectReason.BELOW_MIN_NOTIONAL),
        (100.0, 60000.0, RejectReason.INSUFFICIENT_BALANCE),
    ],
)
def test_rule_checks(spot: SimVenue, qty: float, price: float, reason: RejectReason) -> None:
    with pytest.raises(SimReject) as exc:
        limit(spot, "a", Side.BUY, qty, price)
    assert exc.value.reason is reason
    assert spot.balances("a")["USDT"].locked == 0.0


def test_unknown_symbol_duplicate_client_id_and_missing_orders(spot: SimVenue) -> None:
    from cexarb.model import Symbol

    with pytest.raises(SimReject) as exc:
        spot.place_order("a", Symbol("DOGE", "USDT"), Side.BUY, OrderType.LIMIT, 1, 1.0)
    assert exc.value.reason is RejectReason.UNKNOWN_SYMBOL
    limit(spot, "a", Side.BUY, 0.1, 50000.0, cid="t-1")
    with pytest.raises(SimReject) as exc:
        limit(spot, "a", Side.BUY, 0.1, 50000.0, cid="t-1")
    assert exc.value.reason is RejectReason.DUPLICATE_CLIENT_ID
    # another account may use the same client id
    limit(spot, "b", Side.BUY, 0.1, 50000.0, cid="t-1")
    assert spot.get_order("a", BTC, client_order_id="t-1").client_order_id == "t-1"
    with pytest.raises(SimReject) as exc:
        spot.get_order("a", BTC, "999")
    assert exc.value.reason is RejectReason.ORDER_NOT_FOUND
    with pytest.raises(SimReject):
        spot.get_order("a", ETH, client_order_id="t-1")  # wrong symbol
    canceled = spot.cancel_order("a", BTC, client_order_id="t-1")
    assert canceled.status is OrderStatus.CANCELED
    with pytest.raises(SimReject) as exc:
        spot.cancel_order("a", BTC, canceled.order_id)
    assert exc.value.reason is RejectReason.ORDER_NOT_FOUND


def test_cancel_all_by_symbol_and_side(spot: SimVenue) -> None:
    limit(spot, "a", Side.BUY, 0.1, 50000.0)
    limit(spot, "a", Side.SELL, 0.1, 70000.0)
    spot.place_order("a", ETH, Side.BUY, OrderType.LIMIT, 1.0, 2000.0)
    done = spot.cancel_all("a", BTC, Side.BUY)
    assert [o.side for o in done] == [Side.BUY]
    assert len(spot.open_orders("a")) == 2
    assert len(spot.cancel_all("a")) == 2
    assert spot.open_orders("a") == []
    assert spot.balances("a")["USDT"].locked == 0.0 and spot.balances("a")["BTC"].locked == 0.0


def test_fees_per_account(spot: SimVenue) -> None:
    spot.add_account("vip", "s", 999, {"USDT": 100_000.0}, maker_fee=0.0, taker_fee=0.0005)
    limit(spot, "b", Side.SELL, 0.1, 60000.0)
    order = limit(spot, "vip", Side.BUY, 0.1, 60000.0)
    assert order.fee == pytest.approx(0.1 * 0.0005)
    assert order.fee_asset == "BTC"
    maker_fill = spot.my_trades("b", BTC)[-1]
    assert maker_fill.is_maker and maker_fill.fee == pytest.approx(6000.0 * 0.001)


def test_matching_paused_rejects_new_orders_but_allows_cancel(spot: SimVenue) -> None:
    order = limit(spot, "a", Side.BUY, 0.1, 50000.0)
    spot.faults.pause_matching(True)
    with pytest.raises(SimReject) as exc:
        limit(spot, "a", Side.BUY, 0.1, 50000.0)
    assert exc.value.reason is RejectReason.MATCHING_PAUSED
    assert spot.cancel_order("a", BTC, order.order_id).status is OrderStatus.CANCELED
    spot.faults.pause_matching(False)
    assert limit(spot, "a", Side.BUY, 0.1, 50000.0).status is OrderStatus.NEW
