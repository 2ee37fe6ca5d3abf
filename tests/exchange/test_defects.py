"""Regressions for the defects an independent review found in the composite layer (issue 14).

Each test failed before its fix. The chaos suite (tests/chaos) has the scenario versions on the
simulator; these are the smallest reproductions on the in-memory fake venue.
"""

from __future__ import annotations

import asyncio
import gc
from dataclasses import replace

import msgspec
import pytest

from cexarb.model import OrderStatus, Side
from cexarb.model.errors import OrderStatusUnknown
from tests.support import eventually

from .fakes import BTC, ETH, FAST, Boom, FakeSpotExchange, FakeVenue, resting

DEADLINE_S = 10.0  # a hang guard only


async def started(settings=FAST) -> tuple[FakeVenue, FakeSpotExchange]:
    venue = FakeVenue()
    ex = FakeSpotExchange(venue, settings)
    await ex.initialize([BTC, ETH])
    return venue, ex


async def test_defect3_a_rest_lookup_does_not_wait_behind_a_lost_place_being_resolved():
    # Resolving a lost place held the symbol's lock through its lookups and sleeps: a REST-tier
    # get_active_order for the same symbol waited for all of it.
    venue, ex = await started(replace(FAST, place_lookup_delay_s=3600.0))
    try:
        other = resting(venue, "900")
        venue.fail["place"] = OrderStatusUnknown("reply lost", venue="fake")
        placing = asyncio.create_task(ex.place_limit_order(BTC, Side.BUY, 1.0, 90.0))
        assert await eventually(lambda: venue.calls.count("get_order") >= 1)  # resolving: now asleep
        found = await asyncio.wait_for(ex.get_active_order(BTC, other.order_id), DEADLINE_S)
        assert found.order_id == other.order_id and not placing.done()
        placing.cancel()
        with pytest.raises(asyncio.CancelledError):
            await placing
    finally:
        await ex.close()


async def test_defect4_after_close_nothing_says_fresh_or_connected():
    _venue, ex = await started()
    assert ex.private_state_fresh and ex.book_tickers
    await ex.close()
    assert not ex.private_state_fresh
    stats = ex.get_trading_stats()
    assert set(stats["connections"].values()) == {"closed"}
    assert stats["connection_status"] == {"private_rest": False, "private_ws": False}
    assert stats["state"] == "closed"
    assert ex.book_tickers == {} and ex.get_order_book(BTC) is None


async def test_defect5_tickers_go_stale_with_their_stream_and_come_back_with_it():
    # A public disconnect marked the books stale but kept serving book_tickers.
    venue, ex = await started()
    try:
        assert set(ex.book_tickers) == {BTC, ETH}
        venue.public_ws.drop()
        assert ex.book_tickers == {} and ex.get_order_book(BTC) is None
        venue.public_ws.restore()
        assert await eventually(lambda: set(ex.book_tickers) == {BTC, ETH} and ex.is_book_synced(BTC))
    finally:
        await ex.close()


async def test_defect6_a_failing_confirmation_releases_the_order_and_is_counted():
    # A confirmation that raised anything but ExchangeError died unseen ("Task exception was
    # never retrieved") and kept its slot: after 100 such orders every unknown update was dropped.
    venue, ex = await started()
    try:
        for i in range(101):
            venue.fail["get_order"] = Boom("lookup broke")
            venue.private_ws.handlers.order(resting(venue, str(1000 + i)))
            assert await eventually(lambda i=i: ex.get_trading_stats()["unknown_orders_unconfirmed"] == i + 1)
        # Every slot was released: past the cap of 100 unconfirmed orders a real one is still checked.
        real = resting(venue, "5000")
        venue.private_ws.handlers.order(real)
        assert await eventually(lambda: "5000" in ex.open_orders.get(BTC, {}))
        assert ex.get_public_stats()["errors"]["Boom"] == 101
        assert ex.get_trading_stats()["background_failures"] == 0  # handled where it happened
    finally:
        await ex.close()
    gc.collect()


async def test_defect7_a_lost_place_whose_settle_fails_is_settled_on_a_timer():
    # The delayed settle of a lost place caught only ExchangeError and tried once: on any failure
    # the order stayed pending until the next disconnect, which may never come.
    venue, ex = await started(replace(FAST, lost_place_settle_s=0.01))
    try:
        venue.fail["place"] = OrderStatusUnknown("reply lost", venue="fake")
        with pytest.raises(OrderStatusUnknown):
            await ex.place_limit_order(BTC, Side.BUY, 1.0, 90.0)
        assert ex.pending_orders
        venue.fail["get_order"] = Boom("lookup broke")  # the first settle attempt fails
        assert await eventually(lambda: not ex.pending_orders)
        assert ex.get_trading_stats()["background_failures"] == 0  # handled, not escaped
        assert ex.get_public_stats()["errors"]["Boom"] == 1
    finally:
        await ex.close()


async def test_defect8_open_to_executed_counts_only_orders_that_were_open():
    # A finished order first learned from REST (never in the open set) counted as a transition.
    venue, ex = await started()
    try:
        done = resting(venue, "700")
        venue.orders["700"] = msgspec.structs.replace(
            done, status=OrderStatus.FILLED, filled_quantity=1.0, remaining_quantity=0.0
        )
        assert (await ex.get_active_order(BTC, "700")).status is OrderStatus.FILLED
        assert ex.get_trading_stats()["open_to_executed"] == 0
        order = await ex.place_limit_order(BTC, Side.BUY, 1.0, 90.0)
        assert order.order_id in ex.open_orders[BTC]
        venue.fill(order.order_id, 1.0)
        assert ex.get_trading_stats()["open_to_executed"] == 1
    finally:
        await ex.close()
