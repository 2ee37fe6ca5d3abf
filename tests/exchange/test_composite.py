"""Composite base classes against in-memory fake clients (orchestration, not venues)."""

from __future__ import annotations

import asyncio
import math

import pytest

from cexarb.exchange.capabilities import (
    BalanceCapability,
    LeverageCapability,
    PositionCapability,
    TradingCapability,
    WithdrawalCapability,
)
from cexarb.exchange.handlers import PrivateListener, PublicListener
from cexarb.model import ConnectionState, OrderStatus, Side, WithdrawalRequest, WithdrawalStatus
from cexarb.model.errors import InitializationError, InvalidOrder, NetworkError, WithdrawalError
from tests.exchange.fakes import (
    BTC,
    ETH,
    Boom,
    FakeFuturesExchange,
    FakeSpotExchange,
    FakeVenue,
    long_position,
    resting,
)
from tests.support import eventually


@pytest.fixture
async def venue():
    return FakeVenue()


@pytest.fixture
async def ex(venue):
    exchange = FakeSpotExchange(venue)
    await exchange.initialize([BTC, ETH])
    yield exchange
    await exchange.close()


async def test_initialize_loads_rules_books_tickers_balances_orders(venue):
    from cexarb.model import Order, OrderType

    venue.orders["old"] = Order(BTC, "old", "x", Side.BUY, OrderType.LIMIT, 90.0, 1.0, OrderStatus.NEW)
    ex = FakeSpotExchange(venue)
    await ex.initialize([BTC, ETH])
    try:
        assert set(ex.symbols_info) == {BTC, ETH}
        assert ex.get_order_book(BTC).update_id == 100 and ex.is_book_synced(ETH)
        assert ex.book_tickers[BTC].bid_price == 99.0
        assert ex.balances["USDT"].available == 1000.0
        assert "old" in ex.open_orders[BTC]
        assert venue.public_ws.subscribed == [BTC, ETH]
        assert venue.private_ws.up
    finally:
        await ex.close()
    assert sorted(venue.closed) == ["private_rest", "private_ws", "public_rest", "public_ws"]


@pytest.mark.parametrize(
    "failing, step",
    [
        ("symbols_info", "symbols_info"),
        ("public_ws_start", "public_ws"),
        ("order_book", "order_books"),
        ("book_ticker", "book_tickers"),
        ("balances", "balances"),
        ("open_orders", "open_orders"),
        ("private_ws_start", "private_ws"),
        ("positions", "positions"),
    ],
)
async def test_failed_initialize_names_step_and_closes_everything_once(venue, failing, step):
    venue.fail[failing] = Boom(f"{failing} down")
    ex = FakeFuturesExchange(venue)
    with pytest.raises(InitializationError) as info:
        await ex.initialize([BTC])
    assert info.value.step == step
    assert isinstance(info.value.__cause__, Boom)
    opened = list(venue.closed)
    assert len(opened) == len(set(opened)) >= 1  # each opened client closed exactly once
    await ex.close()
    assert venue.closed == opened  # close() after a failed initialize closes nothing twice
    # the same object initializes cleanly once the cause is gone
    await ex.initialize([BTC])
    assert ex.is_book_synced(BTC)
    await ex.close()


async def test_diffs_during_snapshot_are_buffered_and_chained(venue):
    # diffs land while the snapshot request is in flight: the snapshot (id 100) is older
    venue.on_snapshot = lambda s: venue.diff(s, bids=[(99.5, 2.0)]) if s == BTC else None
    ex = FakeSpotExchange(venue)
    await ex.initialize([BTC])
    try:
        book = ex.get_order_book(BTC)
        assert book.update_id == 101 and book.bids[0] == (99.5, 2.0)
    finally:
        await ex.close()


async def test_gap_marks_book_stale_then_resyncs(ex, venue):
    seen = []

    class L(PublicListener):
        def on_book(self, symbol):
            seen.append(symbol)

    ex.add_listener(L())
    venue.diff(BTC, asks=[(100.5, 1.0)])
    assert seen == [BTC] and ex.get_order_book(BTC).asks[0] == (100.5, 1.0)
    venue.diff(BTC, skip=3)  # a gap
    assert ex.get_order_book(BTC) is None  # never served stale
    await eventually(lambda: ex.is_book_synced(BTC))
    assert ex.get_public_stats()["book_gaps"] == 1
    assert ex.get_order_book(BTC).update_id == venue.book_ids[BTC]


async def test_public_disconnect_unsyncs_books_until_reconnect(ex, venue):
    venue.public_ws.drop()
    assert ex.get_order_book(BTC) is None and ex.get_order_book(ETH) is None
    venue.public_ws.restore()
    await eventually(lambda: ex.is_book_synced(BTC) and ex.is_book_synced(ETH))


async def test_add_and_remove_symbol_really_subscribe(venue):
    ex = FakeSpotExchange(venue)
    await ex.initialize([BTC])
    try:
        await ex.add_symbol(ETH)
        assert venue.public_ws.subscribed == [BTC, ETH] and ex.is_book_synced(ETH)
        await ex.remove_symbol(BTC)
        assert venue.public_ws.subscribed == [ETH] and ex.get_order_book(BTC) is None
        assert ex.symbols == [ETH]
    finally:
        await ex.close()


async def test_place_tracks_pending_then_open_and_fill_moves_to_executed(ex, venue):
    orders = []

    class L(PrivateListener):
        def on_order(self, order):
            orders.append(order.status)

    ex.add_private_listener(L())
    order = await ex.place_limit_order(BTC, Side.BUY, 1.0, 100.0)
    assert order.status is OrderStatus.NEW and order.client_order_id.startswith("c")
    assert ex.open_orders[BTC][order.order_id] is order and not ex.pending_orders
    venue.fill(order.order_id, 1.0)
    assert order.order_id not in ex.open_orders[BTC]
    assert ex.executed_orders[BTC][order.order_id].status is OrderStatus.FILLED
    assert orders == [OrderStatus.NEW, OrderStatus.FILLED]
    assert ex.balances["USDT"].available == 900.0


async def test_websocket_fill_before_rest_reply_is_not_duplicated(ex, venue):
    venue.ws_first = True
    order = await ex.place_limit_order(BTC, Side.BUY, 0.5, 100.0)
    assert order.status is OrderStatus.FILLED
    assert ex.open_orders.get(BTC) == {} and not ex.pending_orders
    assert len(ex.executed_orders[BTC]) == 1
    assert ex.get_trading_stats()["open_to_executed"] == 1


async def test_lost_place_reply_is_resolved_by_client_id(ex, venue):
    venue.lose_next_reply = True
    venue.private_ws.up = False  # the stream does not tell us either
    order = await ex.place_limit_order(BTC, Side.SELL, 0.2, 110.0, client_order_id="mine-1")
    assert order.client_order_id == "mine-1" and order.order_id in venue.orders
    assert ex.open_orders[BTC][order.order_id].status is OrderStatus.NEW
    stats = ex.get_trading_stats()
    assert stats["places_unknown"] == 1 and stats["places_resolved"] == 1


async def test_lost_place_that_never_reached_the_venue_raises_and_drops_pending(ex, venue):
    venue.fail["place"] = NetworkError("502", venue="fake")
    with pytest.raises(NetworkError, match="was not placed"):
        await ex.place_limit_order(BTC, Side.BUY, 1.0, 100.0)
    assert not ex.pending_orders and ex.open_orders.get(BTC, {}) == {}


async def test_rejected_place_raises_and_drops_pending(ex, venue):
    venue.fail["place"] = InvalidOrder("rejected", venue="fake")
    with pytest.raises(InvalidOrder, match="rejected"):
        await ex.place_limit_order(BTC, Side.BUY, 1.0, 100.0)
    assert venue.calls.count("place") == 1 and not ex.pending_orders


@pytest.mark.parametrize(
    ("quantity", "price"),
    [(0.0, 100.0), (-1.0, 100.0), (math.inf, 100.0), (math.nan, 100.0), (1.0, 0.0), (1.0, math.nan)],
)
async def test_bad_numbers_are_refused_before_the_venue_sees_them(ex, venue, quantity, price):
    with pytest.raises(InvalidOrder, match="must be a finite number > 0"):
        await ex.place_limit_order(BTC, Side.BUY, quantity, price)
    assert "place" not in venue.calls and not ex.pending_orders


async def test_get_active_order_knows_an_order_still_in_flight(ex, venue):
    venue.ws_first = False
    place = asyncio.ensure_future(ex.place_limit_order(BTC, Side.BUY, 1.0, 100.0, client_order_id="fly"))
    await asyncio.sleep(0)
    pending = await ex.get_active_order(BTC, "fly")
    assert pending.status is OrderStatus.PENDING_NEW and "get_order" not in venue.calls
    assert (await place).status is OrderStatus.NEW


async def test_get_active_order_three_tiers(ex, venue):
    order = await ex.place_limit_order(BTC, Side.BUY, 1.0, 100.0)
    assert (await ex.get_active_order(BTC, order.order_id)) is order
    assert ex.get_trading_stats()["last_active_order_tier"] == "open"
    venue.fill(order.order_id, 1.0)
    assert (await ex.get_active_order(BTC, order.order_id)).status is OrderStatus.FILLED
    assert ex.get_trading_stats()["last_active_order_tier"] == "executed"
    # an order the client never saw: REST answers; finished -> cached, open -> not cached
    venue.private_ws.up = False
    other = resting(venue, "r1")  # placed elsewhere
    venue.fill(other.order_id, 1.0)  # the stream is down: the client does not see this
    got = await ex.get_active_order(BTC, other.order_id)
    assert got.status is OrderStatus.FILLED and ex.get_trading_stats()["last_active_order_tier"] == "rest"
    await ex.get_active_order(BTC, other.order_id)
    assert ex.get_trading_stats()["last_active_order_tier"] == "executed"
    third = resting(venue, "r2", ETH)
    assert (await ex.get_active_order(ETH, third.order_id)).status is OrderStatus.NEW
    assert third.order_id not in ex.open_orders.get(ETH, {})
    tiers = ex.get_trading_stats()["active_order_tiers"]
    assert tiers == {"open": 1, "executed": 2, "rest": 2, "none": 0}


async def test_cancel_of_an_order_that_filled_meanwhile_returns_final_state(ex, venue):
    order = await ex.place_limit_order(BTC, Side.BUY, 1.0, 100.0)
    venue.private_ws.up = False
    venue.fill(order.order_id, 1.0)
    result = await ex.cancel_order(BTC, order.order_id)
    assert result.status is OrderStatus.FILLED
    assert order.order_id not in ex.open_orders[BTC]


async def test_cancel_and_cancel_all(ex):
    a = await ex.place_limit_order(BTC, Side.BUY, 1.0, 100.0)
    await ex.place_limit_order(BTC, Side.BUY, 1.0, 99.0)
    await ex.place_limit_order(ETH, Side.BUY, 1.0, 10.0)
    assert (await ex.cancel_order(BTC, a.order_id)).status is OrderStatus.CANCELED
    canceled = await ex.cancel_all_orders(BTC)
    assert [o.status for o in canceled] == [OrderStatus.CANCELED]
    assert ex.open_orders[BTC] == {} and len(ex.open_orders[ETH]) == 1


async def test_reconnect_sweep_restores_orders_fills_balances(ex, venue):
    fills = []
    states = []

    class L(PrivateListener):
        def on_execution(self, execution):
            fills.append(execution.trade_id)

        def on_connection(self, state):
            states.append(state)

    ex.add_private_listener(L())
    a = await ex.place_limit_order(BTC, Side.BUY, 1.0, 100.0)
    b = await ex.place_limit_order(BTC, Side.BUY, 1.0, 99.0)
    venue.fill(a.order_id, 0.4)
    venue.private_ws.drop()
    venue.fill(a.order_id, 0.6)  # lost with the stream
    venue.fill(b.order_id, 0.5)
    venue.balances["BTC"] = venue.balances["BTC"].__class__("BTC", 7.0)
    venue.private_ws.restore()
    await eventually(lambda: ex.get_trading_stats()["sweeps"] >= 1)
    assert ex.executed_orders[BTC][a.order_id].status is OrderStatus.FILLED
    assert ex.open_orders[BTC][b.order_id].filled_quantity == 0.5
    assert ex.balances["BTC"].available == 7.0
    assert ex.balances["USDT"].available == venue.balances["USDT"].available
    assert fills == [t.trade_id for t in venue.trades]  # missed fills delivered once, in order
    stats = ex.get_trading_stats()
    assert (
        stats["private_reconnects"] == 1 and stats["vanished_queried"] == 1 and stats["fills_recovered"] == 2
    )
    assert states == [ConnectionState.DISCONNECTED, ConnectionState.RECONNECTED]


async def test_stream_down_is_polled_over_rest(ex, venue):
    a = await ex.place_limit_order(BTC, Side.BUY, 1.0, 100.0)
    venue.private_ws.drop()
    venue.fill(a.order_id, 1.0)
    await eventually(lambda: a.order_id in ex.executed_orders.get(BTC, {}))
    assert ex.get_trading_stats()["degraded_polls"] >= 1
    assert not ex.private_state_fresh


async def test_failing_rest_sweep_is_retried_until_it_answers(ex, venue):
    a = await ex.place_limit_order(BTC, Side.BUY, 1.0, 100.0)
    venue.private_ws.drop()
    venue.fill(a.order_id, 1.0)
    venue.fail["open_orders"] = NetworkError("REST down", venue="fake")
    venue.private_ws.restore()
    await eventually(lambda: ex.get_trading_stats()["sweeps"] >= 1)
    stats = ex.get_trading_stats()
    assert stats["sweep_failures"] >= 1 and "REST down" in stats["last_sweep_error"]
    assert stats["connections"]["private_rest"] == "ok"
    assert ex.executed_orders[BTC][a.order_id].status is OrderStatus.FILLED


async def test_stream_that_closed_for_good_is_recreated(ex, venue):
    old = venue.private_ws
    old.up = False
    old.handlers.connection(ConnectionState.CLOSED)
    await eventually(lambda: venue.private_ws is not old and ex.get_trading_stats()["sweeps"] >= 1)
    assert old.closes == 1 and venue.private_ws.up
    assert ex.get_trading_stats()["private_stream_restarts"] == 1
    await ex.close()
    assert venue.private_ws.closes == 1 and old.closes == 1


async def test_balance_pushed_during_reload_is_not_overwritten(ex, venue):
    from cexarb.model import AssetBalance

    task = asyncio.ensure_future(ex.reload_balances())
    await asyncio.sleep(0)  # the REST request is in flight (older than what follows)
    venue.private_ws.handlers.balance(AssetBalance("USDT", 5.0))
    await task
    assert ex.balances["USDT"].available == 5.0


async def test_listener_errors_are_isolated(ex, venue):
    class Bad(PrivateListener):
        def on_order(self, order):
            raise RuntimeError("strategy bug")

    ex.add_private_listener(Bad())
    order = await ex.place_limit_order(BTC, Side.BUY, 1.0, 100.0)
    assert ex.open_orders[BTC][order.order_id] is order
    assert ex.get_trading_stats()["listener_errors"] >= 1


async def test_public_listener_errors_are_isolated(ex, venue):
    """A listener raising in on_book / on_book_ticker is counted; the book still moves and
    the listeners after it are still called, in order, with the symbol / the ticker."""
    from cexarb.model import BookTicker

    seen: list[object] = []

    class Bad(PublicListener):
        def on_book(self, symbol):
            seen.append(("bad", symbol))
            raise RuntimeError("strategy bug")

        def on_book_ticker(self, ticker):
            raise ValueError("strategy bug")

    class Good(PublicListener):
        def on_book(self, symbol):
            seen.append(("good", symbol))

        def on_book_ticker(self, ticker):
            seen.append(ticker)

    ex.add_listener(Bad())
    ex.add_listener(Good())
    venue.diff(BTC, bids=[(99.5, 2.0)])
    assert seen == [("bad", BTC), ("good", BTC)]
    assert ex.get_book(BTC).best_bid == (99.5, 2.0)
    ticker = BookTicker(BTC, 99.5, 2.0, 101.0, 1.0, 0, 10**9)
    venue.public_ws.handlers.book_ticker(ticker)
    assert seen[-1] is ticker and ex.book_tickers[BTC] is ticker
    assert ex.get_public_stats()["listener_errors"] == 2


async def test_capabilities_are_structural(ex, venue):
    futures = FakeFuturesExchange(venue)
    assert isinstance(ex, TradingCapability) and isinstance(ex, BalanceCapability)
    assert isinstance(ex, WithdrawalCapability)
    assert not isinstance(ex, PositionCapability) and not isinstance(ex, LeverageCapability)
    assert isinstance(futures, PositionCapability) and isinstance(futures, LeverageCapability)
    assert not isinstance(futures, WithdrawalCapability)


async def test_withdraw_validates_then_sends_and_status_is_queryable(ex, venue):
    address = "T" + "a" * 33
    with pytest.raises(WithdrawalError, match="not open"):
        await ex.withdraw(WithdrawalRequest("USDT", 10.0, address, "ERC20"))
    with pytest.raises(WithdrawalError, match="minimum"):
        await ex.withdraw(WithdrawalRequest("USDT", 1.0, address, "TRX"))
    with pytest.raises(WithdrawalError, match="address"):
        await ex.withdraw(WithdrawalRequest("USDT", 10.0, "0xnope", "TRX"))
    with pytest.raises(WithdrawalError, match="available"):
        await ex.withdraw(WithdrawalRequest("USDT", 5000.0, address, "TRX"))
    assert "withdraw" not in venue.calls
    sent = await ex.withdraw(WithdrawalRequest("USDT", 10.0, address, "TRX"))
    venue.withdrawals[sent.withdrawal_id].status = WithdrawalStatus.DONE
    assert (await ex.get_withdrawal_status(sent.withdrawal_id)).status is WithdrawalStatus.DONE


async def test_futures_positions_leverage_and_close_position(venue):
    venue.positions[BTC] = long_position(BTC, 0.5)
    ex = FakeFuturesExchange(venue)
    await ex.initialize([BTC])
    try:
        assert ex.positions[BTC].size == 0.5
        assert await ex.set_leverage(BTC, 100) == 50.0
        assert await ex.set_margin_mode(BTC, cross=True, leverage=20) == 20
        assert "margin:cross" in venue.calls
        venue.private_ws.handlers.position(long_position(BTC, 0.8))
        assert ex.positions[BTC].size == 0.8
        order = await ex.close_position(BTC)
        assert order.side is Side.SELL and order.quantity == 0.8 and order.reduce_only
        venue.positions[BTC] = long_position(BTC, -0.1)
        venue.private_ws.drop()
        venue.private_ws.restore()
        await eventually(lambda: ex.positions[BTC].size == -0.1)
    finally:
        await ex.close()


async def test_trading_stats_shape(ex):
    await ex.place_limit_order(BTC, Side.BUY, 1.0, 100.0)
    stats = ex.get_trading_stats()
    assert stats["balances"] == 2 and stats["open_orders"] == 1 and stats["executed_orders"] == 0
    # A healthy composite says REST is ok from initialize on, not only after a reconnect sweep.
    assert stats["connections"] == {"public_ws": "up", "private_ws": "up", "private_rest": "ok"}
    assert stats["events_processed"] >= 1


async def test_account_fee_rates_are_loaded_and_a_refusal_keeps_the_default(venue):
    venue.account_fees[BTC] = (-0.0001, 0.0004)
    ex = FakeSpotExchange(venue)
    await ex.initialize([BTC, ETH])
    try:
        assert (ex.maker_fee(BTC), ex.taker_fee(BTC)) == (-0.0001, 0.0004)
        assert ex.symbols_info[BTC].taker_fee == 0.002  # the public default stays
        assert ex.get_trading_stats()["fee_loads"] == 1
    finally:
        await ex.close()

    venue.fail["account_fees"] = NetworkError("fee endpoint down", venue="fake")
    ex = FakeSpotExchange(venue)
    await ex.initialize([BTC, ETH])  # not fatal: trading on the public default, said in the log
    try:
        assert ex.taker_fee(BTC) == ex.symbols_info[BTC].taker_fee
        assert ex.get_trading_stats()["fee_load_errors"] == 1
        assert await ex.reload_account_fees()
        assert ex.taker_fee(BTC) == 0.0004
    finally:
        await ex.close()


async def test_a_rest_client_without_fee_rates_keeps_the_public_default(venue, monkeypatch):
    from tests.exchange.fakes import FakePrivateRest

    monkeypatch.delattr(FakePrivateRest, "get_account_fees")
    venue.account_fees[BTC] = (0.0, 0.0001)
    ex = FakeSpotExchange(venue)
    await ex.initialize([BTC])
    try:
        assert ex.account_fees == {} and ex.taker_fee(BTC) == ex.symbols_info[BTC].taker_fee
    finally:
        await ex.close()


async def test_trading_stats_are_a_typed_struct_whose_dict_is_get_trading_stats(ex, venue):
    order = await ex.place_limit_order(BTC, Side.BUY, 1.0, 100.0)
    venue.fill(order.order_id, 1.0)
    report = ex.trading_stats()
    assert report.executed_orders_count == 1 and report.recovery.orders_placed == 1
    assert report.connection_status.private_ws and report.fees.fee_loads == 1
    stats = ex.get_trading_stats()
    assert stats == report.as_dict()
    # The spec's keys, nested dicts included; the recovery and fee counters sit at the top level.
    assert stats["connection_status"] == {"private_rest": True, "private_ws": True}
    assert stats["orders_placed"] == 1 and stats["fee_loads"] == 1 and "recovery" not in stats
    assert stats["active_order_tiers"] == {"open": 0, "executed": 0, "rest": 0, "none": 0}


async def test_futures_trading_stats_add_the_positions(venue):
    venue.positions[BTC] = long_position(BTC, 2.0)
    ex = FakeFuturesExchange(venue)
    await ex.initialize([BTC])
    try:
        assert ex.trading_stats().positions == {str(BTC): 2.0}
        assert ex.get_trading_stats()["active_positions"] == 1
    finally:
        await ex.close()
