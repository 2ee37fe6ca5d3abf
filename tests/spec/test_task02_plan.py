"""The Task 02 plan's acceptance criteria (seed 001), item by item.

Named after the criteria; docs/spec.md maps each to the code and this test. Criteria that
are timing targets (init < 50 ms, event < 1 ms, lookup < 5 ms) are measured by `make bench`,
never asserted here (the project forbids timing assertions: a loaded CI machine is not a
benchmark); docs/spec.md says so and where the figures are.
"""

from __future__ import annotations

import asyncio
import inspect

import pytest

from cexarb.exchange.futures import CompositePrivateFuturesExchange
from cexarb.exchange.gateio_futures import GateioFuturesPrivateExchange
from cexarb.exchange.gateio_spot import GateioSpotPrivateExchange
from cexarb.exchange.mexc_spot import MexcSpotPrivateExchange
from cexarb.exchange.private import CompositePrivateExchange
from cexarb.model import ConnectionState, Order, OrderStatus, OrderType, Side, TimeInForce
from cexarb.model.errors import InitializationError
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

SPOT_CLASSES = [CompositePrivateExchange, MexcSpotPrivateExchange, GateioSpotPrivateExchange]
POSITION_NAMES = ("positions", "reload_positions", "_handle_position", "close_position", "set_leverage")


@pytest.fixture
def venue():
    return FakeVenue()


@pytest.fixture
async def spot(venue):
    ex = FakeSpotExchange(venue)
    await ex.initialize([BTC, ETH])
    yield ex
    await ex.close()


@pytest.fixture
async def futures(venue):
    venue.positions[BTC] = long_position(BTC, 2.0)
    ex = FakeFuturesExchange(venue)
    await ex.initialize([BTC, ETH])
    yield ex
    await ex.close()


def finished_at_venue(venue: FakeVenue, order_id: str) -> Order:
    order = Order(BTC, order_id, f"x{order_id}", Side.BUY, OrderType.LIMIT, 90.0, 1.0, OrderStatus.FILLED,
                  TimeInForce.GTC, filled_quantity=1.0, remaining_quantity=0.0, updated_at=1)  # fmt: skip
    venue.orders[order_id] = order
    return order


# -- priority: architectural cleanup (positions are futures-only) ----------------------------------


@pytest.mark.parametrize("cls", SPOT_CLASSES, ids=lambda c: c.__name__)
def test_position_state_and_methods_removed_from_the_spot_base(cls):
    assert not [name for name in POSITION_NAMES if hasattr(cls, name)]


async def test_position_state_removal_spot_instance_has_no_positions(spot):
    assert not hasattr(spot, "positions")


async def test_position_loading_removed_from_the_spot_initialization_flow(spot, venue):
    assert "positions" not in venue.calls


async def test_position_websocket_handler_removed_from_the_spot_setup(spot, venue):
    handlers = venue.private_ws.handlers
    assert handlers.position is not None and not inspect.ismethod(handlers.position)  # the no-op


async def test_position_monitoring_removed_from_the_spot_trading_stats(spot):
    stats = spot.get_trading_stats()
    assert not [key for key in stats if "position" in key]


async def test_futures_migration_positions_loaded_at_initialize(futures, venue):
    assert "positions" in venue.calls and futures.positions[BTC].size == 2.0


async def test_futures_migration_position_handler_in_the_websocket_setup(futures, venue):
    handlers = venue.private_ws.handlers
    handlers.position(long_position(ETH, 1.5))  # the composite's handler: applied when it returns
    assert futures.positions[ETH].size == 1.5


async def test_futures_migration_positions_refreshed_with_the_exchange_data(futures, venue):
    venue.positions[ETH] = long_position(ETH, 3.0)
    venue.private_ws.drop()
    venue.private_ws.restore()  # a reconnect: the sweep reloads positions
    assert await eventually(lambda: ETH in futures.positions)


async def test_futures_migration_position_metrics_in_trading_stats(futures):
    stats = futures.get_trading_stats()
    assert stats["active_positions"] == 1 and stats["positions"] == {str(BTC): 2.0}


def test_clean_separation_futures_classes_have_complete_position_functionality():
    for cls in (CompositePrivateFuturesExchange, GateioFuturesPrivateExchange):
        assert all(hasattr(cls, name) for name in POSITION_NAMES if name != "positions")


# -- functional requirements -----------------------------------------------------------------------


def test_abstract_factory_methods_exist_on_the_base():
    for name in (
        "_create_public_rest",
        "_create_public_ws_with_handlers",
        "_create_private_rest",
        "_create_private_ws_with_handlers",
    ):
        assert callable(getattr(CompositePrivateExchange, name))


async def test_concrete_orchestration_initialize_fails_cleanly_and_typed(venue):
    venue.fail["balances"] = Boom("balances down")
    ex = FakeSpotExchange(venue)
    with pytest.raises(InitializationError) as failed:
        await ex.initialize([BTC])
    assert failed.value.step == "balances"
    assert sorted(venue.closed) == ["private_rest", "private_ws", "public_rest", "public_ws"]


async def test_connection_management_close_closes_every_client_once(venue):
    ex = FakeSpotExchange(venue)
    await ex.initialize([BTC])
    await ex.close()
    await ex.close()
    assert sorted(venue.closed) == ["private_rest", "private_ws", "public_rest", "public_ws"]
    assert ex.get_trading_stats()["state"] == "closed"


# -- executed orders management -------------------------------------------------------------------


async def test_executed_orders_state_management_initialized(venue):
    ex = FakeSpotExchange(venue)
    assert ex.executed_orders == {}


async def test_get_active_order_implements_the_three_tier_lookup(spot, venue):
    opened = await spot.place_limit_order(BTC, Side.BUY, 1.0, 90.0)
    done = await spot.place_limit_order(BTC, Side.BUY, 1.0, 90.0)
    venue.fill(done.order_id, 1.0)
    finished_at_venue(venue, "r1")
    tiers = []
    for order_id in (opened.order_id, done.order_id, "r1"):
        await spot.get_active_order(BTC, order_id)
        tiers.append(spot.get_trading_stats()["last_active_order_tier"])
    assert tiers == ["open", "executed", "rest"]


async def test_order_lifecycle_update_order_transitions_open_to_executed(spot, venue):
    order = await spot.place_limit_order(BTC, Side.BUY, 1.0, 90.0)
    venue.fill(order.order_id, 1.0)
    assert order.order_id in spot.executed_orders[BTC] and order.order_id not in spot.open_orders[BTC]
    assert spot.get_trading_stats()["open_to_executed"] == 1


async def test_hft_compliance_only_executed_orders_are_cached(spot, venue):
    venue.private_ws.up = False  # the venue moves on; only a REST read can tell
    order = resting(venue, "p1")  # placed elsewhere: the client never saw it
    venue.fill(order.order_id, 0.5)
    got = await spot.get_active_order(BTC, order.order_id)
    assert got.status is OrderStatus.PARTIALLY_FILLED
    assert spot.executed_orders == {} and spot.open_orders.get(BTC, {}) == {}


async def test_cache_management_rest_fallback_results_cached_when_completed(spot, venue):
    finished_at_venue(venue, "r2")
    await spot.get_active_order(BTC, "r2")
    assert "r2" in spot.executed_orders[BTC]


async def test_enhanced_statistics_include_executed_orders_metrics(spot, venue):
    order = await spot.place_limit_order(BTC, Side.BUY, 1.0, 90.0)
    venue.fill(order.order_id, 1.0)
    stats = spot.get_trading_stats()
    assert stats["executed_orders_count"] == 1 and stats["executed_symbols"] == [str(BTC)]
    cache = stats["executed_cache"]
    assert {"size", "capacity_per_symbol", "hits", "misses", "hit_rate", "repeat_hit_rate", "evicted"} <= set(
        cache
    )


async def test_event_handler_order_events_manage_executed_transitions(spot, venue):
    order = await spot.place_limit_order(BTC, Side.BUY, 1.0, 90.0)
    canceled = Order(**{f: getattr(order, f) for f in order.__struct_fields__})
    canceled.status, canceled.updated_at = OrderStatus.CANCELED, order.updated_at + 1
    venue.private_ws.handlers.order(canceled)  # an order event straight from the stream
    assert spot.executed_orders[BTC][order.order_id].status is OrderStatus.CANCELED


# -- race condition protection (deliberately without a per-symbol lock) ---------------------------


async def test_race_condition_websocket_and_rest_updates_converge(spot, venue):
    # A REST answer read before a fill lands after the stream already reported the fill: the
    # merge keeps the newer state, whatever the arrival order (no lock needed, none held).
    order = await spot.place_limit_order(BTC, Side.BUY, 1.0, 90.0)
    stale = Order(**{f: getattr(order, f) for f in order.__struct_fields__})
    venue.fill(order.order_id, 1.0)
    venue.orders[order.order_id] = stale  # REST lags behind the stream: its sweep lists it open
    await spot.resync_private_state()
    assert spot.executed_orders[BTC][order.order_id].status is OrderStatus.FILLED
    assert order.order_id not in spot.open_orders[BTC]


async def test_race_condition_concurrent_lookups_of_one_order_send_one_request(spot, venue):
    finished_at_venue(venue, "r3")
    before = venue.calls.count("get_order")
    results = await asyncio.gather(*(spot.get_active_order(BTC, "r3") for _ in range(5)))
    assert {r.order_id for r in results} == {"r3"} and venue.calls.count("get_order") - before == 1


# -- partial failure recovery ----------------------------------------------------------------------


async def test_partial_failure_rest_ok_websocket_down_is_detected_and_recovered(spot, venue):
    order = await spot.place_limit_order(BTC, Side.BUY, 1.0, 90.0)
    venue.private_ws.drop()
    assert not spot.private_state_fresh
    assert spot.get_trading_stats()["connection_status"]["private_ws"] is False
    venue.fill(order.order_id, 1.0)  # missed by the stream
    venue.private_ws.handlers.connection(ConnectionState.RECONNECTED)
    venue.private_ws.up = True
    assert await eventually(lambda: order.order_id in spot.executed_orders.get(BTC, {}))
    assert spot.private_state_fresh


# -- success metric: executed cache hit rate > 80% for repeat lookups --------------------------------


async def test_executed_orders_cache_hit_rate_above_80_percent_for_repeat_lookups(spot, venue):
    ids = []
    for _ in range(5):
        order = await spot.place_limit_order(BTC, Side.BUY, 1.0, 90.0)
        venue.fill(order.order_id, 1.0)
        ids.append(order.order_id)
    for order_id in ("r4", "r5"):
        finished_at_venue(venue, order_id)
        ids.append(order_id)  # first seen through REST: a miss, then cached
    for _ in range(3):
        for order_id in ids:
            assert (await spot.get_active_order(BTC, order_id)).status is OrderStatus.FILLED
    cache = spot.get_trading_stats()["executed_cache"]
    assert cache["repeat_lookups"] == 2 * len(ids) and cache["repeat_hit_rate"] > 0.8
