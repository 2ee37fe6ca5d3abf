"""MEXC spot WebSocket front-end over real sockets: control frames, protobuf pushes, depth
chaining against REST lastUpdateId, private streams per listen key, session rules."""

from __future__ import annotations

import asyncio
import json

import aiohttp
import pytest
from mexc_sim_helpers import (
    BTC,
    ETH,
    barrier,
    is_pong,
    next_frame,
    rest_quote,
    subscribe,
    ws_url,
)

from cexarb.model import OrderType, Side, TimeInForce
from cexarb.sim.mexc_options import MexcSpotOptions

DEPTH = "spot@public.aggre.depth.v3.api.pb@100ms@BTCUSDT"
DEALS = "spot@public.aggre.deals.v3.api.pb@100ms@BTCUSDT"
TICKER = "spot@public.aggre.bookTicker.v3.api.pb@10ms@BTCUSDT"
LIMIT5 = "spot@public.limit.depth.v3.api.pb@BTCUSDT@5"
BATCH = "spot@public.bookTicker.batch.v3.api.pb@BTCUSDT"
PRIVATE = ("spot@private.orders.v3.api.pb", "spot@private.deals.v3.api.pb", "spot@private.account.v3.api.pb")


async def test_ping_and_subscription_acks(session, base_url):
    async with session.ws_connect(ws_url(base_url)) as ws:
        await ws.send_str('{"method":"PING"}')
        assert await next_frame(ws) == {"id": 0, "code": 0, "msg": "PONG"}
        await ws.send_str('{"method":"ping","id":7}')  # ccxt's keep-alive spelling
        assert await next_frame(ws) == {"id": 7, "code": 0, "msg": "PONG"}
        assert await subscribe(ws, DEPTH, rid=3) == {"id": 3, "code": 0, "msg": DEPTH}
        assert await subscribe(ws, DEALS, TICKER) == {"id": 0, "code": 0, "msg": f"{DEALS},{TICKER}"}
        # a channel MEXC does not serve (legacy JSON name, lower-case symbol, private on a public
        # socket) is refused with code 0, as MEXC does: only the msg differs from a success
        for bad in ("spot@public.deals.v3.api@BTCUSDT", DEPTH.replace("BTCUSDT", "btcusdt"), PRIVATE[0]):
            ack = await subscribe(ws, bad)
            assert ack == {
                "id": 0,
                "code": 0,
                "msg": f"Not Subscribed successfully! [{bad}].  Reason： Blocked! ",
            }
        # one refused channel refuses the whole request, naming every channel of it
        legacy = "spot@public.deals.v3.api@ETHUSDT"
        ack = await subscribe(ws, TICKER.replace("BTC", "ETH"), legacy)
        assert ack["code"] == 0
        assert (
            ack["msg"]
            == f"Not Subscribed successfully! [{TICKER.replace('BTC', 'ETH')},{legacy}].  Reason： Blocked! "
        )
        await ws.send_str(json.dumps({"method": "UNSUBSCRIPTION", "params": [DEPTH]}))
        assert await next_frame(ws) == {"id": 0, "code": 0, "msg": DEPTH}
        await ws.send_str("not json")
        reply = await next_frame(ws)
        assert reply["code"] != 0 and reply["msg"].startswith("Invalid request")


@pytest.mark.parametrize("options", [MexcSpotOptions(max_subscriptions=3, housekeeping_interval_s=0.05)])
async def test_subscription_limit_per_connection(session, base_url):
    async with session.ws_connect(ws_url(base_url)) as ws:
        assert (await subscribe(ws, DEPTH, DEALS, TICKER))["msg"] == f"{DEPTH},{DEALS},{TICKER}"
        refused = await subscribe(ws, LIMIT5)
        assert refused == {
            "id": 0,
            "code": 0,
            "msg": f"Not Subscribed successfully! [{LIMIT5}].  Reason： Blocked! ",
        }
        assert (await subscribe(ws, DEPTH))["msg"] == DEPTH  # already held: still fine


def _apply(levels: dict[float, float], updates) -> None:
    for item in updates:
        price, qty = float(item.price), float(item.quantity)
        if qty == 0:
            levels.pop(price, None)
        else:
            levels[price] = qty


async def test_depth_pushes_chain_from_rest_last_update_id(session, base_url, client, venue):
    rest_quote(venue, Side.BUY, 59000.0, 1.0)
    async with session.ws_connect(ws_url(base_url)) as ws:
        assert (await subscribe(ws, DEPTH))["msg"] == DEPTH
        rest_quote(venue, Side.BUY, 59001.0, 0.5)  # before the snapshot: must be skipped
        status, snapshot = await client.public("/api/v3/depth", {"symbol": "BTCUSDT", "limit": 100})
        last_id = snapshot["lastUpdateId"]
        bids = {float(p): float(q) for p, q in snapshot["bids"]}
        asks = {float(p): float(q) for p, q in snapshot["asks"]}
        maker = rest_quote(venue, Side.SELL, 60010.0, 0.3)
        rest_quote(venue, Side.SELL, 60020.0, 0.2)
        venue.cancel_order("mm", BTC, maker.order_id)
        venue.place_order("k1", BTC, Side.BUY, OrderType.LIMIT, 0.1, 60020.0, TimeInForce.GTC)
        frames = [f for f in await barrier(ws) if not isinstance(f, dict)]
    pushes = [f for f in frames if f.WhichOneof("body") == "publicAggreDepths"]
    assert pushes and all(f.channel == DEPTH and f.symbol == "BTCUSDT" for f in pushes)
    assert pushes[0].publicAggreDepths.eventType == "spot@public.aggre.depth.v3.api.pb@100ms"
    live = [p for p in pushes if int(p.publicAggreDepths.toVersion) > last_id]
    first = live[0].publicAggreDepths
    assert int(first.fromVersion) <= last_id + 1 <= int(first.toVersion)
    version = last_id
    for push in live:
        body = push.publicAggreDepths
        assert int(body.fromVersion) == version + 1 or push is live[0]
        version = int(body.toVersion)
        _apply(bids, body.bids)
        _apply(asks, body.asks)
    truth = venue.snapshot(BTC, 100)
    assert version == truth.update_id
    assert sorted(bids.items(), reverse=True) == truth.bids
    assert sorted(asks.items()) == truth.asks


async def test_book_ticker_deals_and_limit_depth_frames(session, base_url, venue):
    async with session.ws_connect(ws_url(base_url)) as ws:
        assert (await subscribe(ws, TICKER, DEALS, LIMIT5, BATCH))[
            "msg"
        ] == f"{TICKER},{DEALS},{LIMIT5},{BATCH}"
        rest_quote(venue, Side.SELL, 60000.0, 0.5)
        rest_quote(venue, Side.BUY, 59900.0, 0.4)
        venue.place_order("k1", BTC, Side.BUY, OrderType.MARKET, 0.1, None)
        frames = [f for f in await barrier(ws) if not isinstance(f, dict)]
    by_body = {}
    for f in frames:
        by_body.setdefault(f.WhichOneof("body"), []).append(f)
    deal = by_body["publicAggreDeals"][-1]
    assert (
        deal.channel == DEALS and deal.publicAggreDeals.eventType == "spot@public.aggre.deals.v3.api.pb@100ms"
    )
    (item,) = deal.publicAggreDeals.deals
    assert (item.price, item.quantity, item.tradeType) == ("60000", "0.1", 1) and item.time > 0
    ticker = by_body["publicAggreBookTicker"][-1]
    assert ticker.channel == TICKER
    body = ticker.publicAggreBookTicker
    assert (body.bidPrice, body.bidQuantity, body.askPrice, body.askQuantity) == (
        "59900",
        "0.4",
        "60000",
        "0.4",
    )
    batch = by_body["publicBookTickerBatch"][-1].publicBookTickerBatch.items[0]
    assert (batch.askPrice, batch.askQuantity) == ("60000", "0.4")
    limit = by_body["publicLimitDepths"][-1].publicLimitDepths
    assert [(a.price, a.quantity) for a in limit.asks] == [("60000", "0.4")]
    assert int(limit.version) == venue.book_id(BTC) and limit.eventType == "spot@public.limit.depth.v3.api.pb"


async def _listen_key(client) -> str:
    status, body = await client.signed("POST", "/api/v3/userDataStream")
    assert status == 200, body
    return body["listenKey"]


async def test_private_streams_deliver_only_the_keys_account(session, base_url, client, other, venue):
    mine, theirs = await _listen_key(client), await _listen_key(other)
    assert len(mine) == 64 and mine != theirs
    async with (
        session.ws_connect(ws_url(base_url, mine)) as ws,
        session.ws_connect(ws_url(base_url, theirs)) as ws2,
    ):
        assert (await subscribe(ws, *PRIVATE))["msg"] == ",".join(PRIVATE)
        assert (await subscribe(ws2, *PRIVATE))["msg"] == ",".join(PRIVATE)
        rest_quote(venue, Side.SELL, 60000.0, 0.02)
        params = {
            "symbol": "BTCUSDT",
            "side": "BUY",
            "type": "LIMIT",
            "quantity": "0.05",
            "price": "60000",
            "newClientOrderId": "cid-7",
        }
        status, ack = await client.signed("POST", "/api/v3/order", params)
        assert status == 200
        frames = await barrier(ws)
        assert await barrier(ws2) == []
    bodies = [f.WhichOneof("body") for f in frames]
    assert set(bodies) == {"privateOrders", "privateDeals", "privateAccount"}
    orders = [f.privateOrders for f in frames if f.WhichOneof("body") == "privateOrders"]
    assert all(f.channel == "spot@private.orders.v3.api.pb" for f in frames if f.HasField("privateOrders"))
    assert orders[0].status == 1 and orders[-1].status == 3  # new, then partially filled (resting rest)
    last = orders[-1]
    assert (last.id, last.clientId, last.price, last.quantity) == (ack["orderId"], "cid-7", "60000", "0.05")
    assert (last.cumulativeQuantity, last.remainQuantity, last.lastDealQuantity) == ("0.02", "0.03", "0.02")
    assert last.orderType == 1 and last.tradeType == 1 and last.avgPrice == "60000"
    (deal_frame,) = [f for f in frames if f.WhichOneof("body") == "privateDeals"]
    deal = deal_frame.privateDeals
    assert deal_frame.symbol == "BTCUSDT"
    assert (deal.price, deal.quantity, deal.amount, deal.tradeType) == ("60000", "0.02", "1200", 1)
    assert (deal.orderId, deal.clientOrderId, deal.isMaker, deal.feeCurrency) == (
        ack["orderId"],
        "cid-7",
        False,
        "BTC",
    )
    accounts = [f for f in frames if f.WhichOneof("body") == "privateAccount"]
    assert all(not f.HasField("symbol") for f in accounts)
    latest = {}
    for f in accounts:
        latest[f.privateAccount.vcoinName] = f.privateAccount
    balances = venue.balances("k1")
    for asset, body in latest.items():
        assert float(body.balanceAmount) == pytest.approx(balances[asset].available)
        assert float(body.frozenAmount) == pytest.approx(balances[asset].locked)
    place = next(f.privateAccount for f in accounts if f.privateAccount.type == "ENTRUST_PLACE")
    # one balance push per asset and operation: what the resting 0.03 still locks
    assert place.vcoinName == "USDT" and float(place.frozenAmountChange) == pytest.approx(1800.0)


async def test_unknown_or_deleted_listen_key_is_refused(session, base_url, client):
    async with session.ws_connect(ws_url(base_url, "bogus")) as ws:
        assert await next_frame(ws) == "Invalid listen key"
        assert await next_frame(ws) in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
    key = await _listen_key(client)
    status, listed = await client.signed("GET", "/api/v3/userDataStream")
    assert key in listed["listenKey"]
    assert await client.signed("PUT", "/api/v3/userDataStream", {"listenKey": key}) == (
        200,
        {"listenKey": key},
    )
    async with session.ws_connect(ws_url(base_url, key)) as ws:
        await subscribe(ws, PRIVATE[0])
        assert await client.signed("DELETE", "/api/v3/userDataStream", {"listenKey": key}) == (
            200,
            {"listenKey": key},
        )
        # the open stream of a closed key is ended by the server
        assert await next_frame(ws) in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
    status, body = await client.signed("PUT", "/api/v3/userDataStream", {"listenKey": key})
    assert (status, body["code"]) == (400, 730002)


@pytest.mark.parametrize("options", [MexcSpotOptions(listen_key_ttl_s=0.4, housekeeping_interval_s=0.05)])
async def test_listen_key_expires_without_keepalive(session, base_url, client):
    kept, dropped = await _listen_key(client), await _listen_key(client)
    async with (
        session.ws_connect(ws_url(base_url, kept)) as ws_kept,
        session.ws_connect(ws_url(base_url, dropped)) as ws_dropped,
    ):
        await subscribe(ws_kept, PRIVATE[0])
        await subscribe(ws_dropped, PRIVATE[0])
        for _ in range(4):
            await asyncio.sleep(0.15)
            assert (await client.signed("PUT", "/api/v3/userDataStream", {"listenKey": kept}))[0] == 200
        assert await next_frame(ws_dropped) in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
        assert await barrier(ws_kept) == []  # the kept-alive key's stream is still open
    status, listed = await client.signed("GET", "/api/v3/userDataStream")
    assert listed["listenKey"] == [kept]
    async with session.ws_connect(ws_url(base_url, dropped)) as ws:
        assert await next_frame(ws) == "Invalid listen key"


@pytest.mark.parametrize(
    "options",
    [MexcSpotOptions(no_subscription_timeout_s=0.3, idle_timeout_s=0.4, housekeeping_interval_s=0.05)],
)
async def test_idle_connections_are_closed(session, base_url):
    async with (
        session.ws_connect(ws_url(base_url)) as never,
        session.ws_connect(ws_url(base_url)) as quiet,
        session.ws_connect(ws_url(base_url)) as pinging,
    ):
        eth_depth = DEPTH.replace("BTCUSDT", "ETHUSDT")  # nothing moves on ETH in this test
        await subscribe(quiet, eth_depth)
        await subscribe(pinging, eth_depth)
        for _ in range(8):
            await asyncio.sleep(0.1)
            await pinging.send_str('{"method":"PING"}')
            assert is_pong(await next_frame(pinging))
        assert await next_frame(never) in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
        assert await next_frame(quiet) in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
        assert not pinging.closed


async def test_other_symbol_updates_do_not_leak(session, base_url, venue):
    async with session.ws_connect(ws_url(base_url)) as ws:
        await subscribe(ws, DEPTH)
        rest_quote(venue, Side.BUY, 2900.0, 1.0, symbol=ETH)
        assert await barrier(ws) == []


@pytest.mark.parametrize(
    "options",
    [MexcSpotOptions(max_messages_per_s=5, max_connections_per_key=1, housekeeping_interval_s=0.05)],
)
async def test_message_rate_and_connections_per_key_limits(session, base_url, client):
    async with session.ws_connect(ws_url(base_url)) as ws:
        for _ in range(10):
            await ws.send_str('{"method":"PING"}')
        frames = []
        while (frame := await next_frame(ws)) not in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED):
            frames.append(frame)
        assert len(frames) <= 5 and all(is_pong(f) for f in frames)
    key = await _listen_key(client)
    async with (
        session.ws_connect(ws_url(base_url, key)) as first,
        session.ws_connect(ws_url(base_url, key)) as extra,
    ):
        assert isinstance(await next_frame(extra), str)  # refused with a text reason, then closed
        assert await next_frame(extra) in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
        assert await barrier(first) == []


@pytest.mark.parametrize("options", [MexcSpotOptions(max_connection_s=0.3, housekeeping_interval_s=0.05)])
async def test_connection_lifetime(session, base_url):
    async with session.ws_connect(ws_url(base_url)) as ws:
        await subscribe(ws, DEPTH)
        # subscribed and not idle for the 60 s rule: only the lifetime can end it
        assert await next_frame(ws) in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)


async def test_account_push_of_a_withdrawal(session, base_url, client, venue):
    key = await _listen_key(client)
    async with session.ws_connect(ws_url(base_url, key)) as ws:
        await subscribe(ws, PRIVATE[2])
        params = {"coin": "USDT", "netWork": "TRC20", "address": "T" + "C" * 33, "amount": "100"}
        assert (await client.signed("POST", "/api/v3/capital/withdraw", params))[0] == 200
        (frame,) = await barrier(ws)
    body = frame.privateAccount
    assert (body.vcoinName, body.type, body.balanceAmountChange, body.frozenAmountChange) == (
        "USDT",
        "WITHDRAW",
        "-100",
        "0",
    )
    assert float(body.balanceAmount) == pytest.approx(venue.balances("k1")["USDT"].available)


async def test_account_push_of_a_deposit(session, base_url, client, venue):
    key = await _listen_key(client)
    async with session.ws_connect(ws_url(base_url, key)) as ws:
        await subscribe(ws, PRIVATE[2])
        address = venue.deposit_address("k1", "USDT", "TRC20")
        deposit = venue.begin_deposit("k1", "USDT", 42.0, "TRC20", address, "0xd")
        venue.complete_deposit("k1", deposit.deposit_id)
        (frame,) = await barrier(ws)
    body = frame.privateAccount
    assert (body.vcoinName, body.type, body.balanceAmountChange) == ("USDT", "DEPOSIT", "42")
