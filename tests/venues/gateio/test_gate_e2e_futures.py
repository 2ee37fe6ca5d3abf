"""Gate USDT-perpetual connectors end to end against the simulator (real sockets).
The venue speaks contracts; everything the connectors hand out is in base units."""

import asyncio
from dataclasses import replace

import pytest
from gate_e2e_rig import GATE_VENUES, Events, LocalBook, catch_up, same_levels

from cexarb.model import (
    ConnectionState,
    OrderRequest,
    OrderStatus,
    OrderType,
    PositionSide,
    Side,
    Symbol,
    TimeInForce,
)
from cexarb.model.errors import InvalidOrder, OrderNotFound
from cexarb.venues.contracts import MarginModeRest
from cexarb.venues.gateio import (
    GateioFuturesPrivateRest,
    GateioFuturesPrivateWs,
    GateioFuturesPublicRest,
    GateioFuturesPublicWs,
)
from tests.support import eventually

BTC = Symbol("BTC", "USDT")
ETH = Symbol("ETH", "USDT")
VENUE = "gateio_futures"


@pytest.fixture
async def futures(closing):
    """Account k1 with user_id left at 0 in the config: the stream learns it from REST."""
    from cexarb.sim import SimConfig, Simulator

    async with Simulator(SimConfig(venues=GATE_VENUES, flow=False)) as sim:
        cfg = replace(sim.client_config("k1").get("gateio", "futures"), user_id=0)
        public = GateioFuturesPublicRest(cfg)
        closing(public)
        info = await public.get_symbols_info()
        rest = GateioFuturesPrivateRest(cfg, info)
        closing(rest)
        events = Events()
        stream = GateioFuturesPrivateWs(cfg, events.private(), info, rest=rest)
        closing(stream)
        await stream.start()
        yield sim, public, rest, stream, events, info


async def test_contracts_and_a_moving_book_in_base_units(sim_flow, closing):
    sim = sim_flow
    cfg = sim.client_config("k1").get("gateio", "futures")
    public = GateioFuturesPublicRest(cfg)
    closing(public)
    info = await public.get_symbols_info()
    assert info[BTC].is_futures and info[BTC].contract_size == 0.0001 and info[BTC].step_size == 0.0001
    assert info[ETH].contract_size == 0.01
    assert await public.get_server_time() > 0
    events = Events()
    ws = GateioFuturesPublicWs(cfg, events.public(), info)
    closing(ws)
    await ws.start()
    await ws.subscribe([BTC])
    await eventually(lambda: len(events.of("diff")) >= 2, what="first diffs")
    book = LocalBook(await public.get_order_book(BTC, 100))
    venue = sim.venue(VENUE)
    await catch_up(book, events, venue, BTC)
    truth = venue.snapshot(BTC, 10)  # the core's book is in base units
    bids, asks = book.top(10)
    assert same_levels(bids, truth.bids) and same_levels(asks, truth.asks)
    await eventually(lambda: events.of("ticker") and events.of("trade"), what="ticker and trades")
    assert events.of("ticker")[-1].bid_quantity < 10  # base units, not contracts
    assert events.of("error") == []


async def test_fill_position_and_pushes_in_base_units(futures):
    sim, public, rest, stream, events, info = futures
    assert stream.user_id == sim.venue(VENUE).account("k1").user_id  # learned from REST
    ticker = await public.get_book_ticker(BTC)
    price = round((ticker.bid_price + ticker.ask_price) / 2, 1)
    cid = rest.new_client_order_id()
    order = await rest.place_order(
        OrderRequest(BTC, Side.BUY, OrderType.LIMIT, 0.01, price, client_order_id=cid)
    )
    assert (
        order.quantity == pytest.approx(0.01)
        and order.status is OrderStatus.NEW
        and order.client_order_id == cid
    )
    assert [o.order_id for o in await rest.get_open_orders()] == [order.order_id]
    await sim.take(VENUE, BTC, Side.SELL, 0.01)
    await eventually(
        lambda: any(
            o.order_id == order.order_id and o.status is OrderStatus.FILLED for o in events.of("order")
        ),
        what="filled push",
    )
    await eventually(
        lambda: events.of("execution") and events.of("position"), what="fill and position pushes"
    )
    (fill,) = events.of("execution")
    assert fill.quantity == pytest.approx(0.01) and fill.side is Side.BUY and fill.is_maker
    assert fill.client_order_id == cid and fill.fee_asset == "USDT"
    position = events.of("position")[-1]
    assert position.size == pytest.approx(0.01) and position.contracts == pytest.approx(100)
    truth = sim.truth(VENUE, "k1")
    positions = await rest.get_positions()
    assert positions[BTC].size == pytest.approx(truth.positions[BTC].size)
    assert positions[BTC].side is PositionSide.LONG
    assert positions[BTC].entry_price == pytest.approx(truth.positions[BTC].entry_price)
    trades = await rest.get_my_trades(BTC)
    assert [t.trade_id for t in trades] == [fill.trade_id] == [f.trade_id for f in truth.fills]
    filled = await rest.get_order(BTC, order.order_id)
    assert filled.status is OrderStatus.FILLED and filled.filled_quantity == pytest.approx(0.01)
    balances = await rest.get_balances()
    assert balances["USDT"].total == pytest.approx(truth.balances["USDT"].total)
    await eventually(lambda: events.of("balance"), what="balance after a fill")
    # close with a reduce-only market order
    close = await rest.place_order(
        OrderRequest(
            BTC,
            Side.SELL,
            OrderType.MARKET,
            0.01,
            client_order_id=rest.new_client_order_id(),
            reduce_only=True,
        )
    )
    assert close.status is OrderStatus.FILLED and close.reduce_only
    assert await rest.get_positions() == {}
    await eventually(lambda: events.of("position")[-1].side is PositionSide.FLAT, what="flat position push")
    assert events.of("error") == []


async def test_contract_conversion_leverage_and_cancels(futures):
    sim, public, rest, stream, events, info = futures
    with pytest.raises(InvalidOrder):  # 0.00015 BTC = 1.5 contracts
        await rest.place_order(
            OrderRequest(
                BTC, Side.BUY, OrderType.LIMIT, 0.00015, 50000.0, client_order_id=rest.new_client_order_id()
            )
        )
    assert await rest.set_leverage(BTC, 10) == 10.0
    sell = await rest.place_order(
        OrderRequest(ETH, Side.SELL, OrderType.LIMIT, 0.5, 3500.0, client_order_id=rest.new_client_order_id())
    )
    assert sell.side is Side.SELL and sell.quantity == pytest.approx(0.5)
    truth_order = sim.truth(VENUE, "k1").orders[sell.order_id]
    assert truth_order.quantity == pytest.approx(0.5) and truth_order.side is Side.SELL
    buy = await rest.place_order(
        OrderRequest(
            BTC, Side.BUY, OrderType.LIMIT, 0.002, 50000.0, client_order_id=rest.new_client_order_id()
        )
    )
    canceled = await rest.cancel_order(BTC, buy.order_id)
    assert canceled.status is OrderStatus.CANCELED and canceled.remaining_quantity == pytest.approx(0.002)
    assert [o.order_id for o in await rest.cancel_all_orders()] == [sell.order_id]
    assert await rest.get_open_orders() == []
    with pytest.raises(OrderNotFound):
        await rest.get_order(BTC, "424242")


async def test_margin_mode_switches_between_cross_and_isolated(futures):
    sim, public, rest, stream, events, info = futures
    assert isinstance(rest, MarginModeRest)  # the composite's set_margin_mode reaches it

    async def wire_position() -> dict:
        return await rest.signed("GET", "/futures/usdt/positions/BTC_USDT")

    assert await rest.set_margin_mode(BTC, True, 20) == 20.0
    cross = await wire_position()
    assert float(cross["leverage"]) == 0 and float(cross["cross_leverage_limit"]) == 20
    assert sim.venue(VENUE).positions("k1")[BTC].leverage == 20
    assert await rest.set_margin_mode(BTC, False, 5) == 5.0
    isolated = await wire_position()
    assert float(isolated["leverage"]) == 5
    with pytest.raises(InvalidOrder):
        await rest.set_margin_mode(BTC, True, 0)


async def test_private_stream_recovers_after_the_venue_drops_it(futures):
    sim, public, rest, stream, events, info = futures
    sim.faults.drop_streams(VENUE)
    await eventually(lambda: ConnectionState.RECONNECTED in events.of("connection"), what="reconnected")
    await eventually(lambda: stream.is_connected, what="resubscribed")
    order = await rest.place_order(
        OrderRequest(BTC, Side.BUY, OrderType.MARKET, 0.001, client_order_id=rest.new_client_order_id())
    )
    await eventually(lambda: any(o.order_id == order.order_id for o in events.of("order")), what="order push")
    await eventually(
        lambda: events.of("position") and events.of("position")[-1].size == pytest.approx(0.001),
        what="position push after reconnect",
    )
    assert sim.truth(VENUE, "k1").positions[BTC].size == pytest.approx(0.001)
    assert events.of("error") == []


async def test_unknown_contracts_are_fetched_without_touching_the_callers_symbols(futures, closing):
    sim, public, rest, stream, events, info = futures
    cfg = sim.client_config("k1").get("gateio", "futures")
    mine: dict = {}
    bare = GateioFuturesPrivateRest(cfg, mine)
    closing(bare)
    order = await bare.place_order(
        OrderRequest(ETH, Side.BUY, OrderType.LIMIT, 0.03, 2000.0, client_order_id=bare.new_client_order_id())
    )
    assert order.quantity == pytest.approx(0.03)  # 3 contracts of 0.01 ETH
    assert sim.truth(VENUE, "k1").orders[order.order_id].quantity == pytest.approx(0.03)
    assert mine == {}
    await bare.cancel_all_orders(ETH)


async def test_clock_skew_resyncs_from_the_futures_host(futures):
    sim, public, rest, stream, events, info = futures
    sim.faults.skew_clock(VENUE, -120_000)
    balances = await rest.get_balances()
    assert "USDT" in balances
    assert rest.clock.offset_ms < -60_000


async def test_client_id_finds_an_order_finished_more_than_60s_ago(futures):
    """Gate finds a futures order by `text` up to 60 s after it finished, then only by id: the
    client searches the finished orders and fills for the text before it says 'not placed'."""
    sim, public, rest, stream, events, info = futures
    venue = sim.venue("gateio_futures")
    ask = venue.ticker(BTC).ask_price
    cid = rest.new_client_order_id()
    placed = await rest.place_order(
        OrderRequest(
            BTC, Side.BUY, OrderType.LIMIT, 0.001, ask, time_in_force=TimeInForce.IOC, client_order_id=cid
        )
    )
    venue.account("k1").orders[placed.order_id].updated_at -= 61_000  # finished 61 s ago
    found = await rest.get_order(BTC, client_order_id=cid)
    assert (found.order_id, found.status, found.client_order_id) == (placed.order_id, OrderStatus.FILLED, cid)
    with pytest.raises(OrderNotFound):
        await rest.get_order(BTC, client_order_id=rest.new_client_order_id())


async def test_unsubscribe_uses_the_documented_payload(sim_flow, closing):
    """order_book_update is unsubscribed with [contract, "100ms"] (Gate futures WS docs): the
    venue refuses the subscribe payload's level there, which would leave the book streaming."""
    sim = sim_flow
    cfg = sim.client_config("k1").get("gateio", "futures")
    public = GateioFuturesPublicRest(cfg)
    closing(public)
    info = await public.get_symbols_info()
    events = Events()
    ws = GateioFuturesPublicWs(cfg, events.public(), info)
    closing(ws)
    await ws.start()
    await ws.subscribe([BTC])
    await eventually(lambda: events.of("diff"), what="first diffs")
    await ws.unsubscribe([BTC])
    # replies come in order: once a later subscribe is acknowledged, the unsubscribes were answered
    acked = ws._ws.expect_ack("futures.trades")
    await ws.subscribe([ETH])
    await asyncio.wait_for(acked, 5)
    assert events.of("error") == []
