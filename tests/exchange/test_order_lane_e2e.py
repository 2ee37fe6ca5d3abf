"""End to end: the order lane (place_limit_order_now, limit_order_bytes) through the real
composites, connectors and transport against the simulator. An order placed through the lane
ends exactly as one placed by place_limit_order (tests/exchange/test_e2e_sim.py), and the
tracker knows it before the venue's first word about it."""

from __future__ import annotations

import pytest

from cexarb.model import OrderStatus, Side, TimeInForce
from tests.exchange.test_e2e_sim import (
    BTC,
    MARKETS,
    QTY,
    WITH_BARE,
    Recorder,
    assert_matches_truth,
    bid_price,
    exchanges,  # noqa: F401 - a fixture
    sim,  # noqa: F401 - a fixture
    started,
    venue_key,
)
from tests.support import eventually


def write_now(ex, *args, **kwargs):
    """The lane's write: after initialize the client has an idle connection, so it must happen
    now; the order is pending (by its client id) before anything can be heard of it."""
    placing = ex.place_limit_order_now(*args, **kwargs)
    assert placing is not None
    [pending] = ex.pending_orders.values()
    assert pending.status is OrderStatus.PENDING_NEW
    return placing


@pytest.mark.parametrize("name", WITH_BARE)
async def test_a_lane_order_fills_and_another_cancels_as_placed_ones_do(sim, exchanges, name):  # noqa: F811
    ex = await started(sim, name)
    exchanges.append(ex)
    seen = Recorder()
    ex.add_private_listener(seen)
    order = await write_now(ex, BTC, Side.BUY, QTY, bid_price(ex))
    assert order.status is OrderStatus.NEW and order.order_id in ex.open_orders[BTC]
    await sim.take(venue_key(name), BTC, Side.SELL, QTY)
    assert await eventually(lambda: order.order_id in ex.executed_orders.get(BTC, {}))
    assert ex.executed_orders[BTC][order.order_id].status is OrderStatus.FILLED
    assert await eventually(lambda: len(seen.fills) >= 1)

    resting = await write_now(ex, BTC, Side.BUY, QTY, bid_price(ex, -20))
    canceled = await ex.cancel_order(BTC, resting.order_id)
    assert canceled.status is OrderStatus.CANCELED and resting.order_id in ex.executed_orders[BTC]
    stats = ex.get_trading_stats()
    assert stats["orders_placed"] == 2 and stats["unknown_order_updates"] == 0
    assert not ex.pending_orders
    await assert_matches_truth(ex, sim, name)


@pytest.mark.parametrize("name", MARKETS)
async def test_a_lane_ioc_that_fills_at_once_is_tracked_once(sim, exchanges, name):  # noqa: F811
    ex = await started(sim, name)
    exchanges.append(ex)
    ask = ex.get_book(BTC).best_ask[0]
    order = await write_now(ex, BTC, Side.BUY, QTY, ask, time_in_force=TimeInForce.IOC)
    assert await eventually(lambda: order.order_id in ex.executed_orders.get(BTC, {}))
    assert ex.executed_orders[BTC][order.order_id].status is OrderStatus.FILLED
    assert ex.open_orders.get(BTC, {}) == {} and ex.get_trading_stats()["unknown_order_updates"] == 0
    await assert_matches_truth(ex, sim, name)


@pytest.mark.parametrize("name", MARKETS)
async def test_a_lost_lane_reply_is_resolved_by_client_id(sim, exchanges, name):  # noqa: F811
    ex = await started(sim, name)
    exchanges.append(ex)
    sim.faults.timeout_after_accept(venue_key(name), 1)
    order = await write_now(ex, BTC, Side.BUY, QTY, bid_price(ex, -5))
    truth = sim.truth(venue_key(name), "k1")
    assert [o.client_order_id for o in truth.orders.values()] == [order.client_order_id]
    assert order.order_id in ex.open_orders[BTC]
    stats = ex.get_trading_stats()
    assert stats["places_unknown"] == 1 and stats["places_resolved"] == 1
    await assert_matches_truth(ex, sim, name)


@pytest.mark.parametrize("name", MARKETS)
async def test_no_idle_connection_sends_and_tracks_nothing(sim, exchanges, name):  # noqa: F811
    ex = await started(sim, name)
    exchanges.append(ex)
    await ex.private_rest.http.close()  # its connections closed: none idle to write on
    assert ex.place_limit_order_now(BTC, Side.BUY, QTY, bid_price(ex, -5)) is None
    assert not ex.pending_orders and not sim.truth(venue_key(name), "k1").orders
    order = await ex.place_limit_order(BTC, Side.BUY, QTY, bid_price(ex, -5))  # the old path opens one
    assert order.order_id in ex.open_orders[BTC]
    await assert_matches_truth(ex, sim, name)


@pytest.mark.parametrize("name", MARKETS)
async def test_limit_order_bytes_sends_and_tracks_nothing(sim, exchanges, name):  # noqa: F811
    ex = await started(sim, name)
    exchanges.append(ex)
    sent = ex.private_rest.http.stats.requests
    written = ex.limit_order_bytes(BTC, Side.BUY, QTY, bid_price(ex, -5), time_in_force=TimeInForce.IOC)
    assert written.startswith(b"POST ") and b"\r\n\r\n" in written
    assert ex.private_rest.http.stats.requests == sent
    assert not ex.pending_orders and not sim.truth(venue_key(name), "k1").orders


@pytest.mark.parametrize("name", MARKETS)
async def test_a_rehearsed_order_is_written_nowhere_and_the_lane_is_unchanged(sim, exchanges, name):  # noqa: F811
    """An IOC at the ask, rehearsed (the whole write path, to a dry connection): it would
    fill if it were sent. Nothing reaches the venue, nothing is tracked, counted or held
    against the rate limit; then a real lane order goes out on the real connection alone."""
    ex = await started(sim, name)
    exchanges.append(ex)
    http = ex.private_rest.http
    sent, used, idle = http.stats.requests, http.limiter.used("orders"), http._wire.idle
    ask = ex.get_book(BTC).best_ask[0]
    for _ in range(3):
        assert ex.rehearse_limit_order(BTC, Side.BUY, QTY, ask, time_in_force=TimeInForce.IOC) is True
    assert http.stats.requests == sent and http.limiter.used("orders") == used and http._wire.idle == idle
    assert not ex.pending_orders and not ex.open_orders.get(BTC)
    order = await write_now(ex, BTC, Side.BUY, QTY, bid_price(ex, -5))
    truth = sim.truth(venue_key(name), "k1")
    assert [o.client_order_id for o in truth.orders.values()] == [order.client_order_id]
    assert http.stats.requests == sent + 1
    await assert_matches_truth(ex, sim, name)


@pytest.mark.parametrize("name", MARKETS)
async def test_a_lane_place_refused_for_the_rate_limit_is_retried_and_placed_once(sim, exchanges, name):  # noqa: F811
    ex = await started(sim, name)
    exchanges.append(ex)
    sim.faults.fail_next_rest(venue_key(name), 1, 429, retry_after=0.05)
    order = await write_now(ex, BTC, Side.BUY, QTY, bid_price(ex, -5))
    truth = sim.truth(venue_key(name), "k1")
    assert [o.client_order_id for o in truth.orders.values()] == [order.client_order_id]
    http = ex.private_rest.http.stats
    assert http.rate_limited == 1 and http.retries == 1
    await assert_matches_truth(ex, sim, name)


@pytest.mark.parametrize("name", MARKETS)
async def test_a_lane_place_refused_for_its_timestamp_resyncs_and_is_placed_once(sim, exchanges, name):  # noqa: F811
    ex = await started(sim, name)
    exchanges.append(ex)
    sim.faults.skew_clock(venue_key(name), 90_000)  # the venue's clock moved: our timestamp is stale
    order = await write_now(ex, BTC, Side.BUY, QTY, bid_price(ex, -5))
    truth = sim.truth(venue_key(name), "k1")
    assert [o.client_order_id for o in truth.orders.values()] == [order.client_order_id]
    assert ex.private_rest.http.stats.clock_resyncs == 1 and order.order_id in ex.open_orders[BTC]
