"""Gate spot connectors end to end against the simulator (real sockets, 127.0.0.1)."""

import asyncio
import contextlib

import pytest
from gate_e2e_rig import GATE_VENUES, Events, LocalBook, catch_up, same_levels

from cexarb.model import (
    ConnectionState,
    OrderRequest,
    OrderStatus,
    OrderType,
    Side,
    Symbol,
    TimeInForce,
    WithdrawalRequest,
)
from cexarb.model.errors import (
    InsufficientBalance,
    InvalidOrder,
    OrderNotFound,
    OrderStatusUnknown,
    PostOnlyWouldTake,
)
from cexarb.venues.contracts import WithdrawalNetworkRest
from cexarb.venues.gateio import (
    GateioSpotPrivateRest,
    GateioSpotPrivateWs,
    GateioSpotPublicRest,
    GateioSpotPublicWs,
)
from tests.support import eventually

BTC = Symbol("BTC", "USDT")
ETH = Symbol("ETH", "USDT")
VENUE = "gateio_spot"


@pytest.fixture
async def sim():
    from cexarb.sim import SimConfig, Simulator

    async with Simulator(SimConfig(venues=GATE_VENUES, flow=False)) as sim:
        yield sim


@pytest.fixture
async def spot(sim):
    """Public + private REST and the private stream, for account k1 (no synthetic flow)."""
    cfg = sim.client_config("k1").get("gateio", "spot")
    public = GateioSpotPublicRest(cfg)
    info = await public.get_symbols_info()
    rest = GateioSpotPrivateRest(cfg, info)
    events = Events()
    stream = GateioSpotPrivateWs(cfg, events.private(), info, clock=rest.clock)
    await stream.start()
    yield sim, public, rest, stream, events, info
    for client in (stream, rest, public):
        await client.close()


async def test_symbols_and_a_moving_book_stay_in_sync_with_the_venue(sim_flow, closing):
    sim = sim_flow
    cfg = sim.client_config("k1").get("gateio", "spot")
    public = GateioSpotPublicRest(cfg)
    closing(public)
    info = await public.get_symbols_info()
    assert {BTC, ETH} <= set(info)
    assert info[BTC].tick_size == pytest.approx(0.1) and info[BTC].step_size == pytest.approx(0.0001)
    assert info[BTC].min_notional == 1.0 and not info[BTC].is_futures
    events = Events()
    ws = GateioSpotPublicWs(cfg, events.public(), info)
    closing(ws)
    await ws.start()
    await ws.subscribe([BTC])
    await eventually(lambda: len(events.of("diff")) >= 2, what="first diffs")
    book = LocalBook(await public.get_order_book(BTC, 100))
    assert book.id > 0
    venue = sim.venue(VENUE)
    await catch_up(book, events, venue, BTC)
    # nothing awaited since the book caught up: the venue's book is at the same id as ours
    truth = venue.snapshot(BTC, 10)
    bids, asks = book.top(10)
    assert same_levels(bids, truth.bids) and same_levels(asks, truth.asks)
    diffs = events.of("diff")
    assert all(b.first_id == a.last_id + 1 for a, b in zip(diffs, diffs[1:], strict=False))
    await eventually(lambda: events.of("ticker") and events.of("trade"), what="ticker and trades")
    ticker = events.of("ticker")[-1]
    assert ticker.symbol == BTC and 0 < ticker.bid_price < ticker.ask_price
    assert events.of("trade")[-1].symbol == BTC
    assert events.of("error") == []
    await ws.unsubscribe([BTC])


async def test_place_query_cancel_and_private_pushes(spot):
    sim, public, rest, stream, events, info = spot
    ticker = await public.get_book_ticker(BTC)
    price = round(ticker.bid_price - 50, 1)
    cid = rest.new_client_order_id()
    assert cid.startswith("t-") and len(cid) <= 28
    order = await rest.place_order(
        OrderRequest(BTC, Side.BUY, OrderType.LIMIT, 0.01, price, client_order_id=cid)
    )
    assert order.status is OrderStatus.NEW and order.client_order_id == cid and order.quantity == 0.01
    assert (await rest.get_order(BTC, order.order_id)).status is OrderStatus.NEW
    assert (await rest.get_order(BTC, client_order_id=cid)).order_id == order.order_id
    eth = await rest.place_order(
        OrderRequest(ETH, Side.SELL, OrderType.LIMIT, 0.1, 3500.0, client_order_id=rest.new_client_order_id())
    )
    open_ids = {o.order_id for o in await rest.get_open_orders()}  # every pair
    assert {order.order_id, eth.order_id} <= open_ids
    assert [o.order_id for o in await rest.get_open_orders(ETH)] == [eth.order_id]
    await eventually(lambda: any(o.order_id == order.order_id for o in events.of("order")), what="put push")
    canceled = await rest.cancel_order(BTC, client_order_id=cid)
    assert canceled.status is OrderStatus.CANCELED and canceled.order_id == order.order_id
    await eventually(
        lambda: any(
            o.order_id == order.order_id and o.status is OrderStatus.CANCELED for o in events.of("order")
        ),
        what="cancel push",
    )
    rest_all = await rest.cancel_all_orders()
    assert [o.order_id for o in rest_all] == [eth.order_id]
    assert await rest.get_open_orders() == []
    with pytest.raises(OrderNotFound):
        await rest.get_order(BTC, "999999999")
    assert any(b.asset == "USDT" for b in events.of("balance"))
    assert events.of("error") == []


async def test_fill_from_a_taker_arrives_as_order_execution_and_balance_pushes(spot):
    sim, public, rest, stream, events, info = spot
    ticker = await public.get_book_ticker(BTC)
    price = round((ticker.bid_price + ticker.ask_price) / 2, 1)  # inside the spread: best bid
    cid = rest.new_client_order_id()
    order = await rest.place_order(
        OrderRequest(BTC, Side.BUY, OrderType.LIMIT, 0.01, price, client_order_id=cid)
    )
    await sim.take(VENUE, BTC, Side.SELL, 0.01)
    await eventually(
        lambda: any(
            o.order_id == order.order_id and o.status is OrderStatus.FILLED for o in events.of("order")
        ),
        what="filled push",
    )
    await eventually(
        lambda: any(e.order_id == order.order_id for e in events.of("execution")), what="fill push"
    )
    (fill,) = [e for e in events.of("execution") if e.order_id == order.order_id]
    assert fill.quantity == pytest.approx(0.01) and fill.price == pytest.approx(price)
    assert fill.side is Side.BUY and fill.is_maker and fill.client_order_id == cid
    assert fill.fee == pytest.approx(0.01 * 0.001) and fill.fee_asset == "BTC"
    truth = sim.truth(VENUE, "k1")
    assert truth.orders[order.order_id].status is OrderStatus.FILLED
    assert [f.trade_id for f in truth.fills] == [fill.trade_id]
    trades = await rest.get_my_trades(BTC)
    assert [t.trade_id for t in trades] == [fill.trade_id] and trades[0].quantity == pytest.approx(0.01)
    assert await rest.get_my_trades(BTC, since_ms=fill.timestamp + 1) == []
    balances = await rest.get_balances()
    assert balances["BTC"].total == pytest.approx(truth.balances["BTC"].total)
    assert balances["BTC"].total == pytest.approx(2.0 + 0.01 - 0.00001)
    await eventually(
        lambda: any(b.asset == "BTC" and b.total > 2.0 for b in events.of("balance")), what="balance"
    )


async def test_market_orders_and_typed_rejections(spot):
    sim, public, rest, stream, events, info = spot
    ticker = await public.get_book_ticker(BTC)
    sell = await rest.place_order(
        OrderRequest(BTC, Side.SELL, OrderType.MARKET, 0.001, client_order_id=rest.new_client_order_id())
    )
    assert sell.status is OrderStatus.FILLED and sell.filled_quantity == pytest.approx(0.001)
    buy = await rest.place_order(
        OrderRequest(
            BTC,
            Side.BUY,
            OrderType.MARKET,
            0.001,
            ticker.ask_price * 1.01,
            client_order_id=rest.new_client_order_id(),
        ),
    )
    assert buy.order_type is OrderType.MARKET and buy.status is OrderStatus.FILLED and buy.filled_quantity > 0
    with pytest.raises(InvalidOrder):  # a market buy needs a reference price (quote sizing)
        await rest.place_order(
            OrderRequest(BTC, Side.BUY, OrderType.MARKET, 0.001, client_order_id=rest.new_client_order_id())
        )
    with pytest.raises(InsufficientBalance):
        await rest.place_order(
            OrderRequest(
                BTC, Side.SELL, OrderType.LIMIT, 2.5, 90000.0, client_order_id=rest.new_client_order_id()
            )
        )
    try:
        maker = await rest.place_order(
            OrderRequest(
                BTC,
                Side.BUY,
                OrderType.LIMIT_MAKER,
                0.001,
                round(ticker.ask_price + 100, 1),
                client_order_id=rest.new_client_order_id(),
            ),
        )
    except PostOnlyWouldTake:
        pass
    else:  # Gate may also answer with the order closed as finish_as=poc
        assert maker.status in (OrderStatus.REJECTED, OrderStatus.CANCELED, OrderStatus.EXPIRED)
    with pytest.raises(InvalidOrder):
        await rest.place_order(
            OrderRequest(
                BTC, Side.BUY, OrderType.LIMIT, 0.00015, 50000.0, client_order_id=rest.new_client_order_id()
            )
        )
    with pytest.raises(InvalidOrder):
        await rest.place_order(
            OrderRequest(BTC, Side.BUY, OrderType.LIMIT, 0.001, 50000.0, client_order_id="no-prefix")
        )
    await rest.cancel_all_orders()


async def test_withdraw_and_history(spot):
    sim, public, rest, stream, events, info = spot
    request = WithdrawalRequest("USDT", 25.0, "T" + "1" * 33, "TRX", client_id="wd-1")
    sent = await rest.withdraw(request)
    assert sent.withdrawal_id and sent.asset == "USDT" and sent.amount == 25.0 and sent.network == "TRX"
    again = await rest.get_withdrawal(sent.withdrawal_id, "USDT")
    assert again.withdrawal_id == sent.withdrawal_id and again.amount == 25.0
    assert sim.truth(VENUE, "k1").withdrawals[0].withdrawal_id == sent.withdrawal_id
    assert [w.withdrawal_id for w in await rest.get_withdrawals("USDT")] == [sent.withdrawal_id]
    # the client id is looked up in `withdraw_order_id`; Gate's `withdraw_id` never matches it
    by_client = await rest.get_withdrawal(client_id="wd-1")
    assert by_client.withdrawal_id == sent.withdrawal_id
    raw = await rest.signed("GET", "/wallet/withdrawals", params={"withdraw_id": "wd-1"})
    assert raw == []
    raw = await rest.signed("GET", "/wallet/withdrawals", params={"withdraw_order_id": "wd-1"})
    assert [r["id"] for r in raw] == [sent.withdrawal_id] and raw[0]["withdraw_order_id"] == "wd-1"


async def test_withdrawal_the_venue_refuses_is_a_withdrawal_error(spot):
    # Its own test: Gate allows one POST /withdrawals per 3 s, a second here would wait for it.
    sim, public, rest, stream, events, info = spot
    from cexarb.model.errors import WithdrawalError

    with pytest.raises(WithdrawalError):
        await rest.withdraw(WithdrawalRequest("USDT", 25.0, "not-an-address", "TRX"))
    assert sim.truth(VENUE, "k1").withdrawals == []


async def test_a_second_withdrawal_within_3s_waits_in_the_client(spot):
    sim, public, rest, stream, events, info = spot
    address = "T" + "1" * 33
    first = asyncio.create_task(rest.withdraw(WithdrawalRequest("USDT", 25.0, address, "TRX")))
    second = asyncio.create_task(rest.withdraw(WithdrawalRequest("USDT", 26.0, address, "TRX")))
    done, _ = await asyncio.wait((first, second), return_when=asyncio.FIRST_COMPLETED)
    await asyncio.sleep(0.2)  # what was sent alongside the first has surely landed by now
    assert len(sim.truth(VENUE, "k1").withdrawals) == 1  # the other one is held by the "withdraw" pool
    assert sim.stats(VENUE)["rate_limited_429"] == 0  # held here, never refused by the venue
    pending = second if first in done else first
    assert not pending.done()
    pending.cancel()  # still queued in the limiter: it never reached the venue
    with contextlib.suppress(asyncio.CancelledError):
        await pending
    assert len(sim.truth(VENUE, "k1").withdrawals) == 1


async def test_withdrawal_networks_are_the_venues_chains(spot):
    sim, public, rest, stream, events, info = spot
    assert isinstance(rest, WithdrawalNetworkRest)  # the composite validates withdrawals with it
    networks = await rest.get_withdrawal_networks("usdt")
    truth = sim.venue(VENUE).network_config("USDT")
    assert [(n.asset, n.network, n.withdraw_enabled) for n in networks] == [
        ("USDT", t.network, t.withdraw_enabled) for t in truth
    ]
    assert await rest.get_withdrawal_networks("NOPE") == []


async def test_private_stream_reauthenticates_after_the_venue_drops_it(spot):
    sim, public, rest, stream, events, info = spot
    sim.faults.drop_streams(VENUE)
    await eventually(lambda: ConnectionState.RECONNECTED in events.of("connection"), what="reconnected")
    await eventually(lambda: stream.is_connected, what="resubscribed")
    ticker = await public.get_book_ticker(BTC)
    order = await rest.place_order(
        OrderRequest(
            BTC,
            Side.BUY,
            OrderType.LIMIT,
            0.001,
            round(ticker.bid_price - 100, 1),
            client_order_id=rest.new_client_order_id(),
        ),
    )
    # the push proves the channels were re-authenticated and resubscribed on the new connection
    await eventually(
        lambda: any(o.order_id == order.order_id for o in events.of("order")), what="push after reconnect"
    )
    await rest.cancel_order(BTC, order.order_id)
    assert events.of("error") == []


async def started_public_ws(sim, closing) -> tuple[GateioSpotPublicWs, Events]:
    """k1's spot public stream, started (no symbols_info: spot needs none), closed after the test."""
    events = Events()
    ws = GateioSpotPublicWs(sim.client_config("k1").get("gateio", "spot"), events.public(), {})
    closing(ws)
    await ws.start()
    return ws, events


async def test_public_stream_resubscribes_after_the_venue_drops_it(sim_flow, closing):
    sim = sim_flow
    ws, events = await started_public_ws(sim, closing)
    await ws.subscribe([BTC, ETH])
    await eventually(lambda: {d.symbol for d in events.of("diff")} == {BTC, ETH}, what="diffs for both")
    sim.faults.drop_streams(VENUE)
    await eventually(lambda: ConnectionState.RECONNECTED in events.of("connection"), what="reconnected")
    seen = len(events.of("diff"))
    await eventually(lambda: len(events.of("diff")) > seen + 3, what="diffs after reconnect")
    await ws.close()
    assert ConnectionState.CLOSED in events.of("connection")


async def test_stream_survives_an_injected_malformed_frame(sim_flow, closing):
    sim = sim_flow
    ws, events = await started_public_ws(sim, closing)
    await ws.subscribe([BTC])
    await eventually(lambda: events.of("diff"), what="diffs")
    sim.faults.inject_ws_frame(
        VENUE, '{"channel":"spot.order_book_update","event":"update","result":{"s":1}}'
    )
    await eventually(lambda: events.of("error"), what="error reported")
    seen = len(events.of("diff"))
    await eventually(lambda: len(events.of("diff")) > seen, what="stream goes on")
    assert ws.stats.bad_frames == 1


async def test_lost_reply_raises_order_status_unknown_with_the_client_id(spot):
    sim, public, rest, stream, events, info = spot
    sim.venue(VENUE).faults.timeout_hold_s = 0.05
    sim.faults.timeout_after_accept(VENUE, 1)
    cid = rest.new_client_order_id()
    with pytest.raises(OrderStatusUnknown) as caught:
        await rest.place_order(
            OrderRequest(BTC, Side.BUY, OrderType.LIMIT, 0.001, 40000.0, client_order_id=cid)
        )
    assert caught.value.client_order_id == cid
    # never resent: exactly one order exists, and the client id finds it
    found = await rest.get_order(BTC, client_order_id=cid)
    assert found.client_order_id == cid and len(sim.truth(VENUE, "k1").orders) == 1
    await rest.cancel_order(BTC, found.order_id)


async def test_rate_limit_and_clock_skew_are_absorbed(spot):
    sim, public, rest, stream, events, info = spot
    sim.faults.fail_next_rest(
        VENUE, 1, 429, b'{"label":"TOO_MANY_REQUESTS","message":"slow down"}', retry_after=0.05
    )
    assert "USDT" in await rest.get_balances()  # a GET is retried after Retry-After
    sim.faults.skew_clock(VENUE, 120_000)  # venue clock 2 min ahead: REQUEST_EXPIRED
    order = await rest.place_order(
        OrderRequest(
            BTC, Side.BUY, OrderType.LIMIT, 0.001, 40000.0, client_order_id=rest.new_client_order_id()
        )
    )
    assert order.status is OrderStatus.NEW
    assert rest.clock.offset_ms > 60_000  # resynced from /spot/time, then resent once
    await rest.cancel_order(BTC, order.order_id)


async def test_client_id_finds_a_finished_order_the_text_no_longer_finds(spot):
    """Gate finds a spot order by `text` only while it is open: an IOC that filled at once is
    'not found' by text. The client searches finished orders and fills before it says so."""
    sim, public, rest, stream, events, info = spot
    venue = sim.venue(VENUE)
    ask = venue.ticker(BTC).ask_price
    cid = rest.new_client_order_id()
    placed = await rest.place_order(
        OrderRequest(
            BTC, Side.BUY, OrderType.LIMIT, 0.001, ask, time_in_force=TimeInForce.IOC, client_order_id=cid
        )
    )
    found = await rest.get_order(BTC, client_order_id=cid)
    assert (found.order_id, found.status, found.filled_quantity) == (
        placed.order_id,
        OrderStatus.FILLED,
        0.001,
    )
    assert found.client_order_id == cid
    # found through the fills when the finished listing does not reach it
    rest.finished_order_with_text = _none
    found = await rest.get_order(BTC, client_order_id=cid)
    assert found.order_id == placed.order_id
    # a client id the venue never saw: not placed, said only after every search
    with pytest.raises(OrderNotFound):
        await rest.get_order(BTC, client_order_id=rest.new_client_order_id())


async def _none(*args):
    return None


async def test_market_buy_reports_quote_spent_and_base_from_fills(spot):
    """A Gate spot market buy is sized in quote: the order carries that quote amount, and the
    base bought is the venue's filled_amount, or the sum of its fills when the reply has no
    clearing fields (action_mode RESULT), never filled_total / a rounded average price."""
    sim, public, rest, stream, events, info = spot
    venue = sim.venue(VENUE)
    ask = venue.ticker(BTC).ask_price
    buy = await rest.place_order(
        OrderRequest(
            BTC, Side.BUY, OrderType.MARKET, 0.001, ask * 1.01, client_order_id=rest.new_client_order_id()
        )
    )
    truth = sim.truth(VENUE, "k1").orders[buy.order_id]
    sent = rest.order_body(
        OrderRequest(BTC, Side.BUY, OrderType.MARKET, 0.001, ask * 1.01, TimeInForce.IOC, "t-x")
    )
    assert buy.quote_quantity == float(sent["amount"])  # the quote amount on the wire
    assert buy.filled_quantity == pytest.approx(truth.filled_quantity, abs=1e-12)
    # a reply without clearing fields: the base comes from the order's fills
    body = rest.order_body(
        OrderRequest(
            BTC, Side.BUY, OrderType.MARKET, 0.002, ask * 1.01, TimeInForce.IOC, rest.new_client_order_id()
        )
    )
    raw = await rest.signed("POST", "/spot/orders", body={**body, "action_mode": "RESULT"})
    assert "filled_amount" not in raw and "avg_deal_price" not in raw
    order = await rest.spot_order(raw)
    truth = sim.truth(VENUE, "k1").orders[order.order_id]
    assert (
        order.filled_quantity == pytest.approx(truth.filled_quantity, abs=1e-12) and order.filled_quantity > 0
    )
    assert order.status is OrderStatus.FILLED and order.quote_quantity > 0
    assert order.average_price == pytest.approx(truth.average_price, rel=1e-12)


async def test_unified_account_is_detected_and_used():
    """A key whose `/account/detail` mode is not classic trades in Gate's unified account: its
    balances are under /unified/accounts and its orders say account=unified."""
    from cexarb.sim import SimAccount, SimConfig, Simulator

    accounts = (
        SimAccount("k1", "s1", {"USDT": 5000.0, "BTC": 1.0}, unified=True),
        SimAccount("k2", "s2", {"USDT": 700.0}),
    )
    async with Simulator(SimConfig(venues=GATE_VENUES, flow=False, accounts=accounts)) as sim:
        cfg = sim.client_config("k1").get("gateio", "spot")
        public = GateioSpotPublicRest(cfg)
        info = await public.get_symbols_info()
        unified = GateioSpotPrivateRest(cfg, info)
        classic = GateioSpotPrivateRest(sim.client_config("k2").get("gateio", "spot"), info)
        try:
            balances = await unified.get_balances()
            assert balances["USDT"].available == 5000.0 and balances["BTC"].available == 1.0
            assert await unified.account_kind() == "unified"
            order = await unified.place_order(
                OrderRequest(
                    BTC,
                    Side.BUY,
                    OrderType.LIMIT,
                    0.001,
                    40000.0,
                    client_order_id=unified.new_client_order_id(),
                )
            )
            assert (await unified.get_balances())["USDT"].locked == pytest.approx(40.0)
            assert (await unified.cancel_order(BTC, order.order_id)).status is OrderStatus.CANCELED
            assert (await classic.get_balances())["USDT"].available == 700.0
            assert await classic.account_kind() == "spot"
        finally:
            for client in (unified, classic, public):
                await client.close()


async def test_market_buy_quote_amount_is_rounded_up_so_the_base_asked_is_affordable(spot):
    """0.001 BTC at 60012 costs 60.012 USDT; at 2 quote decimals "60.01" would buy one step less
    (0.0009): the amount on the wire rounds up to the quote precision."""
    sim, public, rest, stream, events, info = spot
    quote_step = 10.0 ** -info[BTC].quote_precision
    body = rest.order_body(
        OrderRequest(BTC, Side.BUY, OrderType.MARKET, 0.001, 60012.0, TimeInForce.IOC, "t-x")
    )
    assert float(body["amount"]) >= 0.001 * 60012.0
    assert float(body["amount"]) - 0.001 * 60012.0 < quote_step
