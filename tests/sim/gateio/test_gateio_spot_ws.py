"""Gate spot WebSocket v4 front-end over real sockets: framing, channels, auth, book sync, faults."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import aiohttp
import pytest
from gate_sim_helpers import BTC, KEY, MAKER, OTHER_KEY, OTHER_SECRET, SECRET, UID, sign_ws

from cexarb.model import OrderType, Side, TimeInForce

SAMPLES = Path(__file__).resolve().parents[2] / "data" / "protocols" / "samples"


def sample_result(name: str, part: str):
    for entry in json.loads((SAMPLES / name).read_text()):
        if part in entry["description"]:
            return entry["response"]
    raise KeyError(part)


def sub(
    channel: str,
    payload=None,
    *,
    key: str | None = None,
    secret: str | None = None,
    event="subscribe",
    t=None,
):
    t = int(time.time()) if t is None else t
    req = {"time": t, "id": 7, "channel": channel, "event": event}
    if payload is not None:
        req["payload"] = payload
    if key is not None:
        req["auth"] = {"method": "api_key", "KEY": key, "SIGN": sign_ws(secret, channel, event, t)}
    return req


async def connect(srv) -> aiohttp.ClientWebSocketResponse:
    return await srv.session.ws_connect(f"{srv.base}/ws/v4/")


async def request(ws, req) -> dict:
    await ws.send_json(req)
    while True:
        msg = await ws.receive_json(timeout=2)
        if msg.get("event") != "update":
            return msg


def maker(venue, side, price, qty):
    return venue.place_order(MAKER, BTC, side, OrderType.LIMIT, qty, price, TimeInForce.GTC)


async def test_ping_ack_and_errors(spot_srv):
    ws = await connect(spot_srv)
    pong = await request(ws, {"time": int(time.time()), "channel": "spot.ping"})
    assert (
        pong["channel"] == "spot.pong"
        and pong["event"] == ""
        and pong["error"] is None
        and pong["result"] is None
    )
    ack = await request(ws, sub("spot.book_ticker", ["BTC_USDT"]))
    want = sample_result("gate_ws_control.json", "server subscribe ack")
    assert set(want) <= set(ack)
    assert ack["id"] == 7 and ack["error"] is None and ack["result"] == {"status": "success"}
    bad = await request(ws, sub("spot.book_ticker", ["FOO_USDT"]))
    assert (
        bad["error"]["code"] == 2
        and "FOO_USDT" in bad["error"]["message"]
        and bad["result"] == {"status": "fail"}
    )
    bad = await request(ws, sub("spot.nothing", ["BTC_USDT"]))
    assert bad["error"]["code"] == 2
    await ws.send_str("not json")
    bad = await ws.receive_json(timeout=2)
    assert bad["error"]["code"] == 1
    await ws.close()


async def test_public_channels_and_book_chain_from_rest_snapshot(spot_srv):
    venue = spot_srv.venue
    maker(venue, Side.BUY, 59990.0, 0.5)
    maker(venue, Side.SELL, 60010.0, 0.5)
    ws = await connect(spot_srv)
    for req in (
        sub("spot.order_book_update", ["BTC_USDT", "100ms"]),
        sub("spot.book_ticker", ["BTC_USDT"]),
        sub("spot.trades", ["BTC_USDT"]),
    ):
        assert (await request(ws, req))["error"] is None
    _, snap, _ = await spot_srv.public.call(
        "GET",
        "/spot/order_book",
        {"currency_pair": "BTC_USDT", "with_id": "true", "limit": "100"},
        signed=False,
    )
    book = {"bids": {p: q for p, q in snap["bids"]}, "asks": {p: q for p, q in snap["asks"]}}
    maker(venue, Side.BUY, 59995.0, 0.1)
    maker(venue, Side.SELL, 60005.0, 0.2)
    venue.place_order(MAKER, BTC, Side.BUY, OrderType.LIMIT, 0.05, 60005.0, TimeInForce.IOC)  # takes: a trade

    frames = []
    while not any(f["channel"] == "spot.trades" for f in frames):
        frames.append(await ws.receive_json(timeout=2))
    updates = [f for f in frames if f["channel"] == "spot.order_book_update"]
    assert updates and all(f["event"] == "update" for f in frames)
    want_keys = set(sample_result("gate_spot_ws_public.json", "SubscribeToOrderBookUpdates")["result"])
    last = snap["id"]
    for f in updates:
        r = f["result"]
        assert want_keys <= set(r) and r["s"] == "BTC_USDT"
        assert r["U"] == last + 1, "book ids must chain from the REST snapshot with no gap"
        last = r["u"]
        for side, key in (("b", "bids"), ("a", "asks")):
            for p, q in r[side]:
                if q == "0":
                    book[key].pop(p, None)
                else:
                    book[key][p] = q
    assert last == venue.book_id(BTC)
    rest_now = venue.snapshot(BTC, 100)
    assert sorted(float(p) for p in book["bids"]) == sorted(p for p, _ in rest_now.bids)
    assert sorted(float(p) for p in book["asks"]) == sorted(p for p, _ in rest_now.asks)

    tick = next(f for f in frames if f["channel"] == "spot.book_ticker")["result"]
    assert set(sample_result("gate_spot_ws_public.json", "SubscribeToBookTickerUpdates")["result"]) <= set(
        tick
    )
    trade = next(f for f in frames if f["channel"] == "spot.trades")
    assert {"time", "time_ms", "channel", "event", "result"} <= set(trade)
    want_trade = sample_result("gate_spot_ws_public.json", "SubscribeToTradeUpdates")["result"]
    assert set(want_trade) <= set(trade["result"])
    assert (
        trade["result"]["side"] == "buy"
        and trade["result"]["amount"] == "0.05"
        and trade["result"]["price"] == "60005"
    )
    await ws.close()


async def test_private_channels_route_to_the_subscribing_key_only(spot_srv):
    venue = spot_srv.venue
    mine, theirs = await connect(spot_srv), await connect(spot_srv)
    for ch, payload in (
        ("spot.orders", ["BTC_USDT"]),
        ("spot.usertrades", ["!all"]),
        ("spot.balances", None),
    ):
        ack = await request(mine, sub(ch, payload, key=KEY, secret=SECRET))
        assert ack["error"] is None, ack
        ack = await request(theirs, sub(ch, payload, key=OTHER_KEY, secret=OTHER_SECRET))
        assert ack["error"] is None, ack
    maker(venue, Side.SELL, 60000.0, 0.5)
    status, order, _ = await spot_srv.client.call(
        "POST",
        "/spot/orders",
        body={
            "currency_pair": "BTC_USDT",
            "side": "buy",
            "amount": "0.01",
            "price": "60000",
            "text": "t-ws1",
        },
    )
    assert status == 201
    frames = []
    while not (
        any(f["channel"] == "spot.usertrades" for f in frames)
        and any(f["channel"] == "spot.orders" and f["result"][0]["event"] == "finish" for f in frames)
        and any(f["channel"] == "spot.balances" for f in frames)
    ):
        frames.append(await mine.receive_json(timeout=2))
    orders = [f["result"][0] for f in frames if f["channel"] == "spot.orders"]
    assert [o["event"] for o in orders][0] == "put" and orders[-1]["event"] == "finish"
    assert orders[-1]["id"] == order["id"] and orders[-1]["text"] == "t-ws1" and orders[-1]["left"] == "0"
    assert orders[-1]["user"] == UID
    want = sample_result("gate_spot_ws_private.json", "SubscribeToOrderUpdates")["result"][0]
    assert set(want) <= set(orders[0])
    fill = next(f for f in frames if f["channel"] == "spot.usertrades")["result"][0]
    assert set(sample_result("gate_spot_ws_private.json", "SubscribeToUserTradeUpdates")["result"][0]) <= set(
        fill
    )
    assert fill["order_id"] == order["id"] and fill["role"] == "taker" and fill["user_id"] == UID
    bal = next(f for f in frames if f["channel"] == "spot.balances")["result"][0]
    assert set(sample_result("gate_spot_ws_private.json", "SubscribeToBalanceUpdates")["result"][0]) <= set(
        bal
    )
    assert bal["user"] == str(UID)
    # The other key's connection got nothing private: its next frame is the pong to this ping.
    pong = await request(theirs, {"time": int(time.time()), "channel": "spot.ping"})
    assert pong["channel"] == "spot.pong"
    await mine.close()
    await theirs.close()


async def test_private_auth_failures(spot_srv):
    ws = await connect(spot_srv)
    bad = await request(ws, {**sub("spot.orders", ["!all"], key=KEY, secret="wrong")})
    assert bad["error"]["code"] == 4 and "INVALID_SIGNATURE" in bad["error"]["message"]
    stale = await request(ws, sub("spot.orders", ["!all"], key=KEY, secret=SECRET, t=int(time.time()) - 300))
    assert stale["error"]["code"] == 4 and "REQUEST_EXPIRED" in stale["error"]["message"]
    none = await request(ws, sub("spot.orders", ["!all"]))
    assert none["error"]["code"] == 4
    await ws.close()


async def test_ws_faults_are_observable(spot_srv):
    faults = spot_srv.venue.faults
    ws = await connect(spot_srv)
    faults.inject_ws_frame('{"garbage": ')
    msg = await ws.receive(timeout=2)
    assert msg.data == '{"garbage": '

    faults.stall_streams(0.4)
    await ws.send_json({"time": int(time.time()), "channel": "spot.ping"})
    with pytest.raises(asyncio.TimeoutError):
        await ws.receive(timeout=0.1)
    late = await ws.receive_json(timeout=2)
    assert late["channel"] == "spot.pong"

    faults.drop_streams()
    msg = await ws.receive(timeout=2)
    assert msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.CLOSING)

    faults.reject_ws_connections(True)
    with pytest.raises(aiohttp.WSServerHandshakeError) as err:
        await connect(spot_srv)
    assert err.value.status == 503
    faults.reject_ws_connections(False)
    ws = await connect(spot_srv)
    assert (await request(ws, {"time": int(time.time()), "channel": "spot.ping"}))["channel"] == "spot.pong"
    await ws.close()
