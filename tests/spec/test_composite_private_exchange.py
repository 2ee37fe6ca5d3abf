"""The CompositePrivateExchange interface specification (seed 000), item by item.

Each test is named after what the specification asks; docs/spec.md maps every item to the
code and to the test, with the deliberate deviations and their reasons. The composites run
against the in-memory fake venue (tests/exchange/fakes.py): these tests check the interface
and its semantics, the simulator suites check the venues.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest

from cexarb.config import Secret
from cexarb.exchange.capabilities import (
    BalanceCapability,
    PositionCapability,
    TradingCapability,
    WithdrawalCapability,
)
from cexarb.exchange.futures import CompositePrivateFuturesExchange
from cexarb.exchange.handlers import PrivateListener
from cexarb.exchange.private import CompositePrivateExchange
from cexarb.exchange.public import CompositePublicExchange
from cexarb.exchange.registry import COMPOSITES
from cexarb.exchange.settings import CompositeSettings
from cexarb.model import (
    AssetBalance,
    Execution,
    Order,
    OrderStatus,
    OrderType,
    Side,
    TimeInForce,
    WithdrawalRequest,
)
from cexarb.model.errors import AuthenticationError
from cexarb.venues.contracts import PrivateWebsocketHandlers, SymbolsInfo
from tests.exchange.fakes import (
    BTC,
    ETH,
    FAST,
    FakeFuturesExchange,
    FakePrivateRest,
    FakePrivateWs,
    FakePublicRest,
    FakePublicWs,
    FakeSpotExchange,
    FakeVenue,
    _config,
)
from tests.support import eventually

PRIVATE_CLASSES = [private for _public, private in COMPOSITES.values()]


@pytest.fixture
def venue():
    return FakeVenue()


@pytest.fixture
async def ex(venue):
    exchange = FakeSpotExchange(venue)
    await exchange.initialize([BTC, ETH])
    yield exchange
    await exchange.close()


def resting(venue: FakeVenue, order_id: str, status: OrderStatus = OrderStatus.NEW, symbol=BTC) -> Order:
    """An order at the venue the composite has not seen."""
    filled = 1.0 if status is OrderStatus.FILLED else 0.0
    order = Order(symbol, order_id, f"x{order_id}", Side.BUY, OrderType.LIMIT, 90.0, 1.0, status,
                  TimeInForce.GTC, filled_quantity=filled, remaining_quantity=1.0 - filled, updated_at=1)  # fmt: skip
    venue.orders[order_id] = order
    return order


# -- architectural position ---------------------------------------------------------------


@pytest.mark.parametrize("cls", PRIVATE_CLASSES, ids=lambda c: c.__name__)
def test_extends_composite_private_exchange_and_inherits_the_public_one(cls):
    assert issubclass(cls, CompositePrivateExchange) and issubclass(cls, CompositePublicExchange)


@pytest.mark.parametrize("cls", PRIVATE_CLASSES, ids=lambda c: c.__name__)
def test_implements_create_private_rest_and_create_private_ws_with_handlers(cls):
    for name in ("_create_private_rest", "_create_private_ws_with_handlers"):
        assert getattr(cls, name) is not getattr(CompositePrivateExchange, name), name


async def test_minimal_exchange_implements_only_the_factory_methods(venue):
    class Minimal(CompositePrivateExchange):
        def _create_public_rest(self):
            return FakePublicRest(venue, "public_rest")

        def _create_public_ws_with_handlers(self, handlers):
            return FakePublicWs(venue, handlers)

        def _create_private_rest(self):
            return FakePrivateRest(venue)

        def _create_private_ws_with_handlers(self, handlers):
            return FakePrivateWs(venue, handlers)

    ex = Minimal(_config(FakeSpotExchange.market), settings=FAST)
    await ex.initialize([BTC])
    try:
        order = await ex.place_limit_order(BTC, Side.BUY, 1.0, 90.0)
        assert order.order_id in ex.open_orders[BTC] and ex.balances
    finally:
        await ex.close()


async def test_factory_methods_may_be_async(venue):
    class AsyncFactories(FakeSpotExchange):
        async def _create_public_rest(self):
            await asyncio.sleep(0)
            return FakePublicRest(self.fake, "public_rest")

        async def _create_public_ws_with_handlers(self, handlers):
            return FakePublicWs(self.fake, handlers)

        async def _create_private_rest(self):
            await asyncio.sleep(0)
            return FakePrivateRest(self.fake)

        async def _create_private_ws_with_handlers(self, handlers):
            return FakePrivateWs(self.fake, handlers)

    ex = AsyncFactories(venue)
    await ex.initialize([BTC])
    try:
        assert ex.private_state_fresh and ex.get_order_book(BTC) is not None
    finally:
        await ex.close()
    assert sorted(venue.closed) == ["private_rest", "private_ws", "public_rest", "public_ws"]


async def test_create_private_ws_with_handlers_returning_none_leaves_a_rest_only_composite(venue):
    class RestOnly(FakeSpotExchange):
        def _create_private_ws_with_handlers(self, handlers):
            return None

    ex = RestOnly(venue)
    await ex.initialize([BTC])
    try:
        order = await ex.place_limit_order(BTC, Side.BUY, 1.0, 90.0)
        venue.fill(order.order_id, 1.0)  # no stream: the REST polling learns it
        assert await eventually(lambda: order.order_id in ex.executed_orders.get(BTC, {}))
        assert (await ex.get_active_order(BTC, order.order_id)).status is OrderStatus.FILLED
        assert not ex.private_state_fresh  # polled, never "live"
        status = ex.get_trading_stats()["connection_status"]
        assert status == {"private_rest": True, "private_ws": False}
    finally:
        await ex.close()


async def test_without_credentials_no_private_stream_and_market_data_works(venue):
    class NoKeys(FakeSpotExchange):
        def __init__(self, fake):
            super().__init__(fake)
            self.config = _no_keys(self.config)

    ex = NoKeys(venue)
    await ex.initialize([BTC])
    try:
        assert ex.get_order_book(BTC) is not None and BTC in ex.book_tickers
        stats = ex.get_trading_stats()
        assert stats["has_credentials"] is False
        assert stats["connection_status"] == {"private_rest": False, "private_ws": False}
        with pytest.raises(AuthenticationError):
            await ex.place_limit_order(BTC, Side.BUY, 1.0, 90.0)
        with pytest.raises(AuthenticationError):
            await ex.reload_balances()
        with pytest.raises(AuthenticationError):
            await ex.get_active_order(BTC, "1")
        assert "private_ws_start" not in venue.calls and "balances" not in venue.calls
    finally:
        await ex.close()


def _no_keys(config):
    return replace(config, api_key=Secret(""), api_secret=Secret(""))


# -- key components and state ----------------------------------------------------------------


async def test_private_state_balances_open_orders_and_executed_orders(ex, venue):
    order = await ex.place_limit_order(BTC, Side.BUY, 1.0, 90.0)
    assert isinstance(ex.balances["USDT"], AssetBalance)
    assert ex.open_orders == {BTC: {order.order_id: order}}  # Dict[Symbol, Dict[OrderId, Order]]
    venue.fill(order.order_id, 1.0)
    assert ex.executed_orders[BTC][order.order_id].status is OrderStatus.FILLED


async def test_update_order_moves_a_done_order_to_the_executed_cache(ex, venue):
    order = await ex.place_limit_order(BTC, Side.BUY, 1.0, 90.0)
    venue.fill(order.order_id, 0.4)
    assert ex.open_orders[BTC][order.order_id].status is OrderStatus.PARTIALLY_FILLED
    assert order.order_id not in ex.executed_orders.get(BTC, {})
    venue.fill(order.order_id, 0.6)
    assert order.order_id not in ex.open_orders[BTC]
    assert ex.executed_orders[BTC][order.order_id].filled_quantity == pytest.approx(1.0)


async def test_executed_orders_cache_is_bounded_and_keeps_the_most_recent(venue):
    ex = FakeSpotExchange(venue, CompositeSettings(executed_cache_size=10, executed_evict_fraction=0.2))
    await ex.initialize([BTC])
    try:
        ids = []
        for _ in range(11):
            order = await ex.place_limit_order(BTC, Side.BUY, 1.0, 90.0)
            venue.fill(order.order_id, 1.0)
            ids.append(order.order_id)
        kept = ex.executed_orders[BTC]
        assert len(kept) == 9  # full at 10: the oldest 20% went, then the 11th came in
        assert ids[-1] in kept and ids[0] not in kept and ids[1] not in kept
        assert ex.get_trading_stats()["executed_cache"]["evicted"] == 2
    finally:
        await ex.close()


# -- smart order lookup ------------------------------------------------------------------------


async def test_get_active_order_checks_open_orders_first(ex, venue):
    order = await ex.place_limit_order(BTC, Side.BUY, 1.0, 90.0)
    calls = len(venue.calls)
    assert await ex.get_active_order(BTC, order.order_id) is ex.open_orders[BTC][order.order_id]
    assert ex.get_trading_stats()["last_active_order_tier"] == "open" and len(venue.calls) == calls


async def test_get_active_order_checks_the_executed_cache_second(ex, venue):
    order = await ex.place_limit_order(BTC, Side.BUY, 1.0, 90.0)
    venue.fill(order.order_id, 1.0)
    calls = len(venue.calls)
    assert (await ex.get_active_order(BTC, order.order_id)).status is OrderStatus.FILLED
    assert ex.get_trading_stats()["last_active_order_tier"] == "executed" and len(venue.calls) == calls


async def test_get_active_order_falls_back_to_rest(ex, venue):
    resting(venue, "77", OrderStatus.FILLED)
    assert (await ex.get_active_order(BTC, "77")).status is OrderStatus.FILLED
    assert ex.get_trading_stats()["last_active_order_tier"] == "rest" and "get_order" in venue.calls


async def test_get_active_order_returns_none_when_no_tier_knows_the_order(ex):
    assert await ex.get_active_order(BTC, "no-such-order") is None
    assert ex.get_trading_stats()["active_order_tiers"]["none"] == 1


async def test_rest_fallback_result_is_cached_only_when_completed(ex, venue):
    resting(venue, "81", OrderStatus.FILLED)
    resting(venue, "82", OrderStatus.NEW)
    await ex.get_active_order(BTC, "81")
    await ex.get_active_order(BTC, "82")
    assert "81" in ex.executed_orders[BTC]
    assert "82" not in ex.open_orders.get(BTC, {})  # an open order is never cached from REST
    await ex.get_active_order(BTC, "82")
    assert ex.get_trading_stats()["last_active_order_tier"] == "rest"  # asked again: real time


# -- trading operations ------------------------------------------------------------------------


async def test_place_limit_order_tracks_the_order_in_open_orders(ex):
    order = await ex.place_limit_order(BTC, Side.BUY, 1.0, 90.0)
    assert order.status is OrderStatus.NEW and ex.open_orders[BTC][order.order_id] == order
    assert ex.get_trading_stats()["orders_placed"] == 1


async def test_cancel_order_updates_the_state(ex):
    order = await ex.place_limit_order(BTC, Side.BUY, 1.0, 90.0)
    canceled = await ex.cancel_order(BTC, order.order_id)
    assert canceled.status is OrderStatus.CANCELED
    assert order.order_id not in ex.open_orders[BTC] and order.order_id in ex.executed_orders[BTC]


# -- websocket handler architecture ----------------------------------------------------------------


async def test_private_websocket_handlers_take_the_spec_keywords_plain_or_coroutine():
    seen: list = []

    async def order_handler(order):
        seen.append(("order", order.order_id))

    async def balance_handler(balances):
        seen.append(("balances", balances))

    def execution_handler(trade):
        seen.append(("execution", trade))

    handlers = PrivateWebsocketHandlers(
        order_handler=order_handler, balance_handler=balance_handler, execution_handler=execution_handler
    )
    assert handlers.order_handler is handlers.order and handlers.execution_handler is execution_handler
    usdt = AssetBalance("USDT", 5.0)
    handlers.order(resting(FakeVenue(), "1"))
    handlers.balance(usdt)
    handlers.execution("t1")  # a plain handler runs at once, on the hot path
    assert seen == [("execution", "t1")]
    assert await eventually(lambda: len(seen) == 3)
    assert seen[1:] == [("order", "1"), ("balances", {"USDT": usdt})]  # arrival order, spec's dict
    with pytest.raises(TypeError):
        PrivateWebsocketHandlers(order=execution_handler, order_handler=execution_handler)


async def test_handlers_are_injected_into_the_private_websocket(ex, venue):
    handlers = venue.private_ws.handlers
    assert isinstance(handlers, PrivateWebsocketHandlers)
    # They are the composite's own: what the stream delivers is its state when they return.
    fills = []

    class Fills(PrivateListener):
        def on_execution(self, execution):
            fills.append(execution)

    ex.add_private_listener(Fills())
    handlers.balance(AssetBalance("USDT", 123.0))
    assert ex.balances["USDT"].available == 123.0
    order = await ex.place_limit_order(BTC, Side.BUY, 1.0, 90.0)
    canceled = Order(**{f: getattr(order, f) for f in order.__struct_fields__})
    canceled.status, canceled.updated_at = OrderStatus.CANCELED, order.updated_at + 1
    handlers.order(canceled)
    assert ex.executed_orders[BTC][order.order_id].status is OrderStatus.CANCELED
    fill = Execution(BTC, "t-injected", order.order_id, order.client_order_id, Side.BUY, 90.0, 1.0, 0.0, "USDT", True, 1)  # fmt: skip
    handlers.execution(fill)
    assert fills == [fill]


# -- initialization template method ------------------------------------------------------------------


@pytest.mark.parametrize("given", ["list", "symbols_info"])
async def test_initialize_accepts_symbols_info_or_a_list(venue, given):
    ex = FakeSpotExchange(venue)
    symbols_info: SymbolsInfo = {BTC: venue.info[BTC], ETH: venue.info[ETH]}
    await ex.initialize([BTC, ETH] if given == "list" else symbols_info)
    try:
        assert ex.symbols == [BTC, ETH] and set(ex.symbols_info) >= {BTC, ETH}
    finally:
        await ex.close()


async def test_initialize_loads_balances_and_open_orders(venue):
    resting(venue, "old")
    ex = FakeSpotExchange(venue)
    await ex.initialize([BTC])
    try:
        assert ex.balances["USDT"].available == 1000.0
        assert "old" in ex.open_orders[BTC]
    finally:
        await ex.close()


async def test_private_websocket_is_started_after_the_rest_client_and_before_the_loads(venue):
    ex = FakeSpotExchange(venue)
    await ex.initialize([BTC])
    await ex.close()
    calls = venue.calls
    assert calls.index("private_ws_start") < calls.index("balances")
    assert calls.index("private_ws_start") < calls.index("open_orders")


# -- withdrawal operations -----------------------------------------------------------------------------


async def test_withdraw_validates_the_request_then_submits_it(ex, venue):
    venue.balances["USDT"] = AssetBalance("USDT", 1000.0)
    ex.balances["USDT"] = venue.balances["USDT"]
    response = await ex.withdraw(WithdrawalRequest("USDT", 25.0, "T" + "Ab3" * 11, "TRX"))
    assert response.withdrawal_id in venue.withdrawals
    with pytest.raises(Exception, match="address"):
        await ex.withdraw(WithdrawalRequest("USDT", 25.0, "not-an-address", "TRX"))
    assert len(venue.withdrawals) == 1


# -- HFT safety: what is never cached --------------------------------------------------------------------


async def test_balances_and_open_orders_are_real_time_not_cached(ex, venue):
    order = await ex.place_limit_order(BTC, Side.BUY, 1.0, 90.0)
    venue.fill(order.order_id, 0.5)  # the stream's update is the state, at once
    assert ex.balances["USDT"].available == venue.balances["USDT"].available
    assert ex.open_orders[BTC][order.order_id].filled_quantity == pytest.approx(0.5)


# -- monitoring --------------------------------------------------------------------------------------------


async def test_get_trading_stats_has_the_spec_keys(ex):
    await ex.place_limit_order(BTC, Side.BUY, 1.0, 90.0)
    stats = ex.get_trading_stats()
    assert stats["total_balances"] == len(ex.balances)
    assert stats["open_orders_count"] == 1 and stats["executed_orders_count"] == 0
    assert stats["has_credentials"] is True
    assert stats["connection_status"] == {"private_rest": True, "private_ws": True}


async def test_close_resets_the_connection_status(venue):
    ex = FakeSpotExchange(venue)
    await ex.initialize([BTC])
    await ex.close()
    assert ex.get_trading_stats()["connection_status"] == {"private_rest": False, "private_ws": False}
    assert not ex.private_state_fresh


# -- capabilities ------------------------------------------------------------------------------------------


async def test_trading_balance_and_withdrawal_capabilities_are_detected_at_runtime(ex, venue):
    assert isinstance(ex, TradingCapability) and isinstance(ex, BalanceCapability)
    assert isinstance(ex, WithdrawalCapability) and not isinstance(ex, PositionCapability)
    futures = FakeFuturesExchange(venue)
    assert isinstance(futures, PositionCapability) and isinstance(futures, CompositePrivateFuturesExchange)
