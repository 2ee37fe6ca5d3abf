"""End to end: the real composites, connectors and transport against the simulator.

Every scenario ends with the client's orders, balances and positions equal to the
simulator's ground truth (sim.truth). Flow is off so the books only move when a
test acts; fills come from sim.take.
"""

from __future__ import annotations

import asyncio

import pytest

from cexarb.exchange.capabilities import WithdrawalCapability
from cexarb.exchange.handlers import PrivateListener
from cexarb.exchange.private import CompositePrivateExchange
from cexarb.exchange.registry import create_exchange
from cexarb.exchange.settings import CompositeSettings
from cexarb.model import (
    ConnectionState,
    Market,
    OrderStatus,
    Side,
    Symbol,
    TimeInForce,
    Venue,
    WithdrawalRequest,
    WithdrawalStatus,
)
from cexarb.model.errors import InitializationError, InvalidOrder, WithdrawalError
from cexarb.model.rounding import round_nearest
from cexarb.sim import SimConfig, Simulator
from cexarb.venues.gateio import (
    GateioSpotPrivateRest,
    GateioSpotPrivateWs,
    GateioSpotPublicRest,
    GateioSpotPublicWs,
)
from tests.support import eventually
from tests.support.truth import assert_agrees, close

BTC = Symbol("BTC", "USDT")
ETH = Symbol("ETH", "USDT")
QTY = 0.01

SETTINGS = CompositeSettings(
    resync_delay_s=0.02,
    degraded_poll_s=0.1,
    place_lookup_delay_s=0.05,
    book_retry_delay_s=0.02,
    sweep_retry_max_s=0.2,
)


class BareGateioSpot(CompositePrivateExchange):
    """Only the four factory methods: the base classes must do all the rest."""

    def _create_public_rest(self):
        return GateioSpotPublicRest(self.config)

    def _create_public_ws_with_handlers(self, handlers):
        return GateioSpotPublicWs(self.config, handlers, self.symbols_info)

    def _create_private_rest(self):
        return GateioSpotPrivateRest(self.config, self.symbols_info)

    def _create_private_ws_with_handlers(self, handlers):
        return GateioSpotPrivateWs(self.config, handlers, self.symbols_info)


MARKETS = ["gateio_spot", "gateio_futures", "mexc_spot"]
WITH_BARE = [*MARKETS, "bare_gateio_spot"]


def venue_key(name: str) -> str:
    return "gateio_spot" if name == "bare_gateio_spot" else name


def make_exchange(sim: Simulator, name: str, settings: CompositeSettings = SETTINGS):
    config = sim.client_config("k1")
    if name == "bare_gateio_spot":
        return BareGateioSpot(config.get(Venue.GATEIO, Market.SPOT), settings=settings)
    venue, market = name.split("_")
    return create_exchange(venue, market, config, settings=settings)


@pytest.fixture
async def sim():
    async with Simulator(SimConfig(flow=False, withdrawal_delay_s=0.3)) as simulator:
        for key in MARKETS:
            simulator.venue(key).faults.timeout_hold_s = 0.2
        yield simulator


async def started(sim, name, settings=SETTINGS):
    ex = make_exchange(sim, name, settings)
    await asyncio.wait_for(ex.initialize([BTC, ETH]), 10)
    return ex


@pytest.fixture
async def exchanges():
    opened = []
    yield opened
    for ex in opened:
        await ex.close()


async def assert_matches_truth(ex, sim, name):
    await assert_agrees(ex, sim, venue_key(name))


def bid_price(ex, ticks_above: int = 1) -> float:
    tick = ex.symbols_info[BTC].tick_size
    return round_nearest(ex.get_book(BTC).best_bid[0] + ticks_above * tick, tick)


class Recorder(PrivateListener):
    def __init__(self) -> None:
        self.orders = []
        self.fills = []
        self.states = []

    def on_order(self, order):
        self.orders.append((order.order_id, order.status))

    def on_execution(self, execution):
        self.fills.append(execution.trade_id)

    def on_connection(self, state):
        self.states.append(state)


# -- the happy path, per market --------------------------------------------------------------


@pytest.mark.parametrize("name", WITH_BARE)
async def test_initialize_syncs_books_and_account(sim, exchanges, name):
    ex = await started(sim, name)
    exchanges.append(ex)
    assert ex.is_book_synced(BTC) and ex.is_book_synced(ETH)
    truth_book = sim.venue(venue_key(name)).snapshot(BTC, 5)
    assert ex.get_order_book(BTC).bids[0][0] == truth_book.bids[0][0]
    assert ex.book_tickers[BTC].ask_price == truth_book.asks[0][0]
    assert ex.get_trading_stats()["connections"]["private_ws"] == "up"
    await assert_matches_truth(ex, sim, name)


@pytest.mark.parametrize("name", WITH_BARE)
async def test_place_fill_cancel_open_to_executed(sim, exchanges, name):
    ex = await started(sim, name)
    exchanges.append(ex)
    seen = Recorder()
    ex.add_private_listener(seen)
    order = await ex.place_limit_order(BTC, Side.BUY, QTY, bid_price(ex))
    assert order.status is OrderStatus.NEW and order.order_id in ex.open_orders[BTC]
    assert (await ex.get_active_order(BTC, order.order_id)).order_id == order.order_id
    assert ex.get_trading_stats()["last_active_order_tier"] == "open"

    await sim.take(venue_key(name), BTC, Side.SELL, QTY)
    assert await eventually(lambda: order.order_id in ex.executed_orders.get(BTC, {}))
    assert order.order_id not in ex.open_orders[BTC]
    done = await ex.get_active_order(BTC, order.order_id)
    assert done.status is OrderStatus.FILLED and close(done.filled_quantity, QTY)
    assert ex.get_trading_stats()["last_active_order_tier"] == "executed"
    assert await eventually(lambda: len(seen.fills) >= 1)

    resting = await ex.place_limit_order(BTC, Side.BUY, QTY, bid_price(ex, -20))
    canceled = await ex.cancel_order(BTC, resting.order_id)
    assert canceled.status.is_done and canceled.filled_quantity == 0
    assert resting.order_id in ex.executed_orders[BTC]
    statuses = [s for oid, s in seen.orders if oid == order.order_id]
    assert (
        statuses[-1] is OrderStatus.FILLED
        and OrderStatus.NEW not in statuses[statuses.index(OrderStatus.FILLED) :]
    )
    await assert_matches_truth(ex, sim, name)


@pytest.mark.parametrize("name", WITH_BARE)
async def test_get_active_order_from_each_tier(sim, exchanges, name):
    # a one-order executed cache: the second finished order evicts the first
    ex = await started(sim, name, CompositeSettings(executed_cache_size=1, resync_delay_s=0.02))
    exchanges.append(ex)
    first = await ex.place_limit_order(BTC, Side.BUY, QTY, bid_price(ex))
    await sim.take(venue_key(name), BTC, Side.SELL, QTY)
    assert await eventually(lambda: first.order_id in ex.executed_orders.get(BTC, {}))
    second = await ex.place_limit_order(BTC, Side.BUY, QTY, bid_price(ex, -20))
    await ex.cancel_order(BTC, second.order_id)
    assert first.order_id not in ex.executed_orders[BTC]

    tiers = []
    for oid in (second.order_id, first.order_id, first.order_id):
        got = await ex.get_active_order(BTC, oid)
        assert got.status.is_done
        tiers.append(ex.get_trading_stats()["last_active_order_tier"])
    assert tiers == ["executed", "rest", "executed"]  # the finished REST answer was cached
    third = await ex.place_limit_order(BTC, Side.BUY, QTY, bid_price(ex, -30))
    assert (await ex.get_active_order(BTC, third.order_id)).status is OrderStatus.NEW
    assert ex.get_trading_stats()["last_active_order_tier"] == "open"
    stats = ex.get_trading_stats()
    assert stats["active_order_tiers"] == {"open": 1, "executed": 2, "rest": 1, "none": 0}
    assert stats["executed_cache_hit_rate"] == pytest.approx(2 / 3)


async def test_futures_positions_follow_the_venue(sim, exchanges):
    ex = await started(sim, "gateio_futures")
    exchanges.append(ex)
    assert await ex.set_leverage(BTC, 5) == 5
    order = await ex.place_limit_order(BTC, Side.BUY, QTY, bid_price(ex))
    await sim.take("gateio_futures", BTC, Side.SELL, QTY)
    assert await eventually(lambda: BTC in ex.positions and close(ex.positions[BTC].size, QTY))
    await assert_matches_truth(ex, sim, "gateio_futures")
    assert close(sim.truth("gateio_futures", "k1").positions[BTC].size, ex.positions[BTC].size)
    closing = await ex.close_position(BTC)
    assert closing.reduce_only and closing.side is Side.SELL and order.order_id != closing.order_id
    assert await eventually(lambda: not ex.positions.get(BTC) or not ex.positions[BTC].size)
    await assert_matches_truth(ex, sim, "gateio_futures")


@pytest.mark.parametrize(("name", "network"), [("gateio_spot", "TRX"), ("mexc_spot", "TRC20")])
async def test_withdraw_to_a_network_the_venue_does_not_offer_is_refused_before_sending(
    sim, exchanges, name, network
):
    ex = await started(sim, name)
    exchanges.append(ex)
    with pytest.raises(WithdrawalError, match=f"not open for withdrawals .*{network}"):
        await ex.withdraw(WithdrawalRequest("USDT", 25.0, "T" + "Ab3" * 11, "NOSUCHCHAIN"))
    assert sim.truth(name, "k1").withdrawals == []


@pytest.mark.parametrize(("name", "network"), [("gateio_spot", "TRX"), ("mexc_spot", "TRC20")])
async def test_withdraw_validates_sends_and_status_changes(sim, exchanges, name, network):
    ex = await started(sim, name)
    exchanges.append(ex)
    assert isinstance(ex, WithdrawalCapability)
    address = "T" + "Ab3" * 11
    with pytest.raises(WithdrawalError):
        await ex.withdraw(WithdrawalRequest("USDT", 10.0, "not an address", network))
    with pytest.raises(WithdrawalError, match="available"):
        await ex.withdraw(WithdrawalRequest("USDT", 10_000_000.0, address, network))
    assert sim.truth(name, "k1").withdrawals == []  # nothing invalid reached the venue
    sent = await ex.withdraw(WithdrawalRequest("USDT", 25.0, address, network))
    assert sent.withdrawal_id and sent.status is not WithdrawalStatus.DONE
    statuses = set()

    async def status():
        statuses.add((await ex.get_withdrawal_status(sent.withdrawal_id, "USDT")).status)
        return WithdrawalStatus.DONE in statuses

    for _ in range(100):
        if await status():
            break
        await asyncio.sleep(0.05)
    assert WithdrawalStatus.DONE in statuses
    await assert_matches_truth(ex, sim, name)


# -- chaos: each ends equal to the simulator's truth ----------------------------------------


@pytest.mark.parametrize("name", WITH_BARE)
async def test_websocket_fill_arrives_before_rest_reply(sim, exchanges, name):
    ex = await started(sim, name)
    exchanges.append(ex)
    rest = ex.private_rest
    place = rest.place_order

    async def reply_after_the_stream(request):
        reply = await place(request)
        await sim.take(venue_key(name), BTC, Side.SELL, QTY)
        cid = request.client_order_id
        # hold the (now stale) NEW reply until the stream has delivered the fill
        await eventually(lambda: (o := ex.order_by_client_id(BTC, cid)) is not None and o.status.is_done)
        return reply

    rest.place_order = reply_after_the_stream
    order = await ex.place_limit_order(BTC, Side.BUY, QTY, bid_price(ex))
    assert order.status is OrderStatus.FILLED  # the stale reply did not take it back
    assert list(ex.executed_orders[BTC]) == [order.order_id] and ex.open_orders[BTC] == {}
    assert ex.get_trading_stats()["open_to_executed"] == 1
    await assert_matches_truth(ex, sim, name)


@pytest.mark.parametrize("name", WITH_BARE)
async def test_lost_place_reply_is_resolved_by_client_id(sim, exchanges, name):
    ex = await started(sim, name)
    exchanges.append(ex)
    sim.faults.timeout_after_accept(venue_key(name), 1)
    order = await ex.place_limit_order(BTC, Side.BUY, QTY, bid_price(ex, -5))
    truth = sim.truth(venue_key(name), "k1")
    assert [o.client_order_id for o in truth.orders.values()] == [order.client_order_id]
    assert order.order_id in truth.orders and order.order_id in ex.open_orders[BTC]
    stats = ex.get_trading_stats()
    assert stats["places_unknown"] == 1 and stats["places_resolved"] == 1
    await assert_matches_truth(ex, sim, name)


@pytest.mark.parametrize("name", WITH_BARE)
async def test_stream_drops_while_orders_fill(sim, exchanges, name):
    # no REST polling while down: only the reconnect sweep may repair the state
    settings = CompositeSettings(resync_delay_s=0.05, degraded_poll_s=3600)
    ex = await started(sim, name, settings)
    exchanges.append(ex)
    seen = Recorder()
    ex.add_private_listener(seen)
    key = venue_key(name)
    first = await ex.place_limit_order(BTC, Side.BUY, QTY, bid_price(ex))
    second = await ex.place_limit_order(BTC, Side.BUY, QTY, bid_price(ex))
    sim.faults.reject_ws_connections(key, True)
    sim.faults.drop_streams(key)
    assert await eventually(lambda: not ex.private_state_fresh)
    await sim.take(key, BTC, Side.SELL, QTY * 1.5)  # fills `first`, half of `second`
    await asyncio.sleep(0.2)
    assert first.order_id in ex.open_orders[BTC]  # the client could not know yet
    sim.faults.reject_ws_connections(key, False)
    assert await eventually(lambda: ex.get_trading_stats()["sweeps"] >= 1)
    await assert_matches_truth(ex, sim, name)
    stats = ex.get_trading_stats()
    assert stats["private_reconnects"] >= 1 and stats["sweeps"] >= 1 and stats["vanished_queried"] >= 1
    assert ex.executed_orders[BTC][first.order_id].status is OrderStatus.FILLED
    assert close(ex.open_orders[BTC][second.order_id].filled_quantity, QTY / 2)
    assert len(set(seen.fills)) == len(sim.truth(key, "k1").fills)  # missed fills delivered
    assert seen.states[0] is ConnectionState.DISCONNECTED
    assert await eventually(lambda: ex.is_book_synced(BTC) and ex.is_book_synced(ETH))


@pytest.mark.parametrize("name", WITH_BARE)
async def test_rest_up_stream_down_is_polled_then_recovered(sim, exchanges, name):
    ex = await started(sim, name)
    exchanges.append(ex)
    key = venue_key(name)
    price = bid_price(ex)
    sim.faults.reject_ws_connections(key, True)
    sim.faults.drop_streams(key)
    # Each stream notices its drop on its own: wait for both before asserting on the book.
    assert await eventually(
        lambda: not ex.private_state_fresh and ex.get_trading_stats()["connections"]["public_ws"] == "down"
    )
    assert ex.get_order_book(BTC) is None  # the public stream is down too: no stale book
    order = await ex.place_limit_order(BTC, Side.BUY, QTY, price)  # REST still works
    await sim.take(key, BTC, Side.SELL, QTY)
    # still no stream: REST polling alone brings the state to the truth
    await assert_matches_truth(ex, sim, name)
    assert order.order_id in ex.executed_orders[BTC]
    stats = ex.get_trading_stats()
    assert stats["degraded_polls"] >= 1 and stats["connections"]["private_ws"] == "down"
    sim.faults.reject_ws_connections(key, False)
    assert await eventually(
        lambda: ex.private_state_fresh and ex.get_trading_stats()["private_reconnects"] >= 1
    )
    await assert_matches_truth(ex, sim, name)


@pytest.mark.parametrize("name", WITH_BARE)
async def test_stream_fails_at_init_then_initializes_cleanly(sim, exchanges, name):
    key = venue_key(name)
    sim.faults.reject_ws_connections(key, True)
    ex = make_exchange(sim, name)
    with pytest.raises(InitializationError) as info:
        await asyncio.wait_for(ex.initialize([BTC, ETH]), 10)
    assert info.value.step in ("public_ws", "private_ws")
    assert sim.stats(key)["ws_connections"] == 0
    assert ex.clients == []  # everything opened was closed
    sim.faults.reject_ws_connections(key, False)
    await asyncio.wait_for(ex.initialize([BTC, ETH]), 10)
    exchanges.append(ex)
    order = await ex.place_limit_order(BTC, Side.BUY, QTY, bid_price(ex))
    await sim.take(key, BTC, Side.SELL, QTY)
    assert await eventually(lambda: order.order_id in ex.executed_orders.get(BTC, {}))
    await assert_matches_truth(ex, sim, name)


async def test_mexc_refused_channel_fails_initialize_naming_it(sim, exchanges):
    """MEXC answers a blocked subscription with code 0 and `Not Subscribed successfully! [..]`:
    initialize must fail naming the channel, not run a silent stream."""
    sim.faults.block_channels("mexc_spot", "aggre.deals")
    ex = make_exchange(sim, "mexc_spot")
    with pytest.raises(InitializationError) as info:
        await asyncio.wait_for(ex.initialize([BTC, ETH]), 10)
    assert info.value.step == "public_ws"
    assert "spot@public.aggre.deals.v3.api.pb@100ms@BTCUSDT" in str(info.value)
    sim.faults.unblock_channels("mexc_spot")
    await asyncio.wait_for(ex.initialize([BTC, ETH]), 10)
    exchanges.append(ex)
    assert ex.get_public_stats()["failed_subscriptions"] == {}


@pytest.mark.parametrize("name", MARKETS)
async def test_lost_reply_of_an_ioc_that_filled_at_once_is_found_not_called_unplaced(sim, exchanges, name):
    """Gate finds a spot order by `text` only while open: the lost-place lookup of an IOC that
    filled at once must still find it (finished orders, fills), never conclude 'not placed'."""
    ex = await started(sim, name)
    exchanges.append(ex)
    key = venue_key(name)
    sim.faults.stall_streams(key, 3.0)  # the stream does not tell: only REST can
    sim.faults.timeout_after_accept(key, 1)
    ask = ex.get_book(BTC).best_ask[0]
    order = await ex.place_limit_order(BTC, Side.BUY, QTY, ask, time_in_force=TimeInForce.IOC)
    truth = sim.truth(key, "k1")
    assert [o.client_order_id for o in truth.orders.values()] == [order.client_order_id]
    assert order.order_id in truth.orders and order.status is OrderStatus.FILLED
    assert ex.get_trading_stats()["places_resolved"] == 1


@pytest.mark.parametrize("quantity", [0.0, -QTY])
async def test_a_gate_market_buy_of_no_quantity_is_refused_before_sizing_it(sim, exchanges, quantity):
    """Sizing a Gate market buy divides the asks' cost by the quantity: a quantity the request
    refuses must be refused as such (InvalidOrder), never reach the division."""
    ex = await started(sim, "gateio_spot")
    exchanges.append(ex)
    assert ex.get_book(BTC) is not None  # the book walk is the path that divides
    with pytest.raises(InvalidOrder, match="quantity must be a finite number > 0"):
        await ex.place_market_order(BTC, Side.BUY, quantity)
    assert not sim.truth("gateio_spot", "k1").orders


async def test_mexc_book_snapshot_takes_1000_levels_by_default(sim, exchanges):
    """MEXC's guide to a local book starts from a 1000-level snapshot: the aggregated diffs only
    say what changed, so levels beyond a shallower snapshot would stay missing."""
    venue = sim.venue("mexc_spot")
    best_bid = venue.ticker(BTC).bid_price
    tick = venue.markets[BTC].tick
    for i in range(1, 301):  # deep resting bids that never change
        await sim.quote("mexc_spot", BTC, Side.BUY, best_bid - 100 - i * tick, 0.001)
    truth = venue.snapshot(BTC, 5000)
    assert len(truth.bids) > 300
    ex = await started(sim, "mexc_spot")
    exchanges.append(ex)
    book = ex.get_order_book(BTC)
    assert len(book.bids) == min(1000, len(truth.bids))
