"""Gate USDT futures front-end over real sockets: contracts in and out, orders, positions, leverage, WS."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from gate_sim_helpers import BTC, KEY, MAKER, SECRET, UID, sign_ws

from cexarb.model import OrderType, Side, TimeInForce

SAMPLES = Path(__file__).resolve().parents[2] / "data" / "protocols" / "samples"
DEC = {"X-Gate-Size-Decimal": "1"}


def sample(name: str, part: str):
    for entry in json.loads((SAMPLES / name).read_text()):
        if part in entry["description"]:
            return entry["response"]
    raise KeyError(part)


def maker(venue, side, price, qty):
    return venue.place_order(MAKER, BTC, side, OrderType.LIMIT, qty, price, TimeInForce.GTC)


def order(size, price="60000", **kw):
    return {"contract": "BTC_USDT", "size": size, "price": price, "tif": "gtc", **kw}


async def test_server_time_is_served_on_the_futures_host_with_the_venue_clock(fut_srv):
    fut_srv.venue.faults.skew_clock(-120_000)  # the venue's clock, not the local one
    status, body, _ = await fut_srv.public.call("GET", "/spot/time", signed=False)
    assert status == 200 and abs(body["server_time"] - (time.time() * 1000 - 120_000)) < 30_000


async def test_contracts_book_and_tickers(fut_srv):
    c = fut_srv.public
    maker(fut_srv.venue, Side.BUY, 59999.9, 0.05)
    _, contracts, _ = await c.call("GET", "/futures/usdt/contracts", signed=False)
    btc = next(x for x in contracts if x["name"] == "BTC_USDT")
    assert set(sample("gate_futures_rest_contracts.json", "GetContract:")) - {"ref_discount_rate"} <= set(
        btc
    ) | {
        "ref_discount_rate",
        "risk_limit_base",
        "interest_rate",
        "ref_rebate_rate",
        "risk_limit_step",
        "risk_limit_max",
        "short_users",
        "config_change_time",
        "trade_size",
        "position_size",
        "long_users",
        "funding_impact_value",
        "enable_bonus",
        "enable_credit",
        "funding_cap_ratio",
        "funding_offset",
    }
    assert (
        btc["quanto_multiplier"] == "0.0001"
        and btc["order_price_round"] == "0.1"
        and btc["order_size_min"] == 1
    )
    _, btc_dec, _ = await c.call("GET", "/futures/usdt/contracts/BTC_USDT", signed=False, headers=DEC)
    assert btc_dec["order_size_min"] == "1"
    _, book, _ = await c.call(
        "GET", "/futures/usdt/order_book", {"contract": "BTC_USDT", "with_id": "true"}, signed=False
    )
    assert book["id"] == fut_srv.venue.book_id(BTC) and book["bids"][0] == {"p": "59999.9", "s": 500}
    assert isinstance(book["current"], float)
    _, book_dec, _ = await c.call(
        "GET", "/futures/usdt/order_book", {"contract": "BTC_USDT"}, signed=False, headers=DEC
    )
    assert book_dec["bids"][0]["s"] == "500"
    _, tickers, _ = await c.call("GET", "/futures/usdt/tickers", {"contract": "BTC_USDT"}, signed=False)
    assert tickers[0]["highest_bid"] == "59999.9" and tickers[0]["contract"] == "BTC_USDT"
    status, err, _ = await c.call("GET", "/futures/usdt/order_book", {"contract": "FOO_USDT"}, signed=False)
    assert (status, err["label"]) == (400, "CONTRACT_NOT_FOUND")


async def test_order_lifecycle_and_positions_add_up(fut_srv):
    venue, c = fut_srv.venue, fut_srv.client
    status, o, _ = await c.call("POST", "/futures/usdt/orders", body=order(10, "59000", text="t-f1"))
    assert status == 201, o
    assert o["size"] == 10 and o["left"] == 10 and o["status"] == "open" and o["text"] == "t-f1"
    assert set(sample("gate_futures_rest_orders.json", "PlaceOrder:")) - {"finish_time"} <= set(o)
    for ref in (str(o["id"]), "t-f1"):
        status, got, _ = await c.call("GET", f"/futures/usdt/orders/{ref}")
        assert status == 200 and got["id"] == o["id"]
    _, listed, _ = await c.call("GET", "/futures/usdt/orders", {"contract": "BTC_USDT", "status": "open"})
    assert [x["id"] for x in listed] == [o["id"]]
    status, cancelled, _ = await c.call("DELETE", f"/futures/usdt/orders/{o['id']}")
    assert status == 200 and cancelled["status"] == "finished" and cancelled["finish_as"] == "cancelled"
    status, err, _ = await c.call("DELETE", f"/futures/usdt/orders/{o['id']}")
    assert (status, err["label"]) == (400, "ORDER_FINISHED")
    status, err, _ = await c.call("GET", "/futures/usdt/orders/999")
    assert (status, err["label"]) == (404, "ORDER_NOT_FOUND")

    # Sell 20 contracts (0.002 BTC) into a resting bid: a short position of -20 contracts.
    maker(venue, Side.BUY, 60000.0, 0.01)
    status, short, _ = await c.call(
        "POST", "/futures/usdt/orders", body=order(-20, "0", tif="ioc"), headers=DEC
    )
    assert status == 201, short
    assert short["size"] == "-20" and short["left"] == "0" and short["finish_as"] == "filled"
    assert short["fill_price"] == "60000" and short["price"] == "0"
    truth = venue.truth(KEY)
    assert truth.positions[BTC].size == pytest.approx(-0.002)
    _, pos, _ = await c.call("GET", "/futures/usdt/positions/BTC_USDT")
    assert pos["size"] == -20 and pos["entry_price"] == "60000" and pos["leverage"] == "10"
    _, held, _ = await c.call("GET", "/futures/usdt/positions", {"holding": "true"})
    assert [p["contract"] for p in held] == ["BTC_USDT"]
    _, trades, _ = await c.call("GET", "/futures/usdt/my_trades", {"contract": "BTC_USDT"})
    assert len(trades) == 1 and trades[0]["size"] == -20 and trades[0]["role"] == "taker"
    _, acct, _ = await c.call("GET", "/futures/usdt/accounts")
    assert acct["user"] == UID and acct["currency"] == "USDT"
    fee = 0.002 * 60000 * 0.0005
    assert float(acct["total"]) == pytest.approx(100_000 - fee)
    assert float(acct["position_margin"]) == pytest.approx(0.002 * 60000 / 10)
    assert float(acct["available"]) + float(acct["position_margin"]) + float(
        acct["order_margin"]
    ) == pytest.approx(float(acct["total"]))

    # Close it with close=true, size 0.
    maker(venue, Side.SELL, 60000.0, 0.01)
    status, closed, _ = await c.call(
        "POST", "/futures/usdt/orders", body=order(0, "0", tif="ioc", close=True)
    )
    assert status == 201 and closed["size"] == 20 and closed["is_reduce_only"] is True
    _, pos, _ = await c.call("GET", "/futures/usdt/positions/BTC_USDT")
    assert pos["size"] == 0
    status, err, _ = await c.call(
        "POST", "/futures/usdt/orders", body=order(5, "0", tif="ioc", reduce_only=True)
    )
    assert (status, err["label"]) == (400, "INCREASE_POSITION")


async def test_leverage_and_rejections(fut_srv):
    c = fut_srv.client
    status, pos, _ = await c.call("POST", "/futures/usdt/positions/BTC_USDT/leverage", {"leverage": "20"})
    assert status == 200 and pos["leverage"] == "20"
    status, pos, _ = await c.call(
        "POST", "/futures/usdt/positions/BTC_USDT/leverage", {"leverage": "0", "cross_leverage_limit": "5"}
    )
    assert pos["leverage"] == "0" and pos["cross_leverage_limit"] == "5"
    status, err, _ = await c.call("POST", "/futures/usdt/positions/BTC_USDT/leverage", {"leverage": "500"})
    assert (status, err["label"]) == (400, "LEVERAGE_TOO_HIGH")
    status, err, _ = await c.call("POST", "/futures/usdt/orders", body=order(1, "60000", text="nope"))
    assert (status, err["label"]) == (400, "INVALID_PARAM_VALUE")
    status, err, _ = await c.call("POST", "/futures/usdt/orders", body=order("1.5"))
    assert (status, err["label"]) == (400, "INVALID_PARAM_VALUE")
    status, err, _ = await c.call("POST", "/futures/usdt/orders", body=order(100_000_000))
    assert (status, err["label"]) == (400, "INSUFFICIENT_AVAILABLE")
    maker(fut_srv.venue, Side.SELL, 60000.0, 0.01)
    status, err, _ = await c.call("POST", "/futures/usdt/orders", body=order(1, "60000", tif="poc"))
    assert (status, err["label"]) == (400, "ORDER_POC_IMMEDIATE")
    status, err, _ = await c.call("POST", "/futures/usdt/orders", body=order(1, "0", tif="gtc"))
    assert (status, err["label"]) == (400, "INVALID_PARAM_VALUE")
    status, err, _ = await c.call("GET", "/futures/usdt/accounts", ts=time.time() - 61)
    assert (status, err["label"]) == (401, "REQUEST_EXPIRED")
    _, all_cancelled, _ = await c.call("DELETE", "/futures/usdt/orders", {"contract": "BTC_USDT"})
    assert all_cancelled == []


async def test_futures_ws_channels(fut_srv):
    venue = fut_srv.venue
    ws = await fut_srv.session.ws_connect(f"{fut_srv.base}/v4/ws/usdt")

    async def request(req):
        await ws.send_json(req)
        while True:
            msg = await ws.receive_json(timeout=2)
            if msg.get("event") != "update":
                return msg

    def sub(channel, payload, private=False):
        t = int(time.time())
        req = {"time": t, "channel": channel, "event": "subscribe", "payload": payload}
        if private:
            req["auth"] = {"method": "api_key", "KEY": KEY, "SIGN": sign_ws(SECRET, channel, "subscribe", t)}
        return req

    assert (await request({"time": int(time.time()), "channel": "futures.ping"}))["channel"] == "futures.pong"
    for req in (
        sub("futures.order_book_update", ["BTC_USDT", "100ms", "100"]),
        sub("futures.book_ticker", ["BTC_USDT"]),
        sub("futures.trades", ["BTC_USDT"]),
        sub("futures.orders", [str(UID), "!all"], True),
        sub("futures.usertrades", [str(UID), "BTC_USDT"], True),
        sub("futures.positions", [str(UID), "!all"], True),
        sub("futures.balances", [str(UID)], True),
    ):
        ack = await request(req)
        assert ack["error"] is None, ack
    wrong_uid = await request(sub("futures.orders", ["42", "!all"], True))
    assert wrong_uid["error"]["code"] == 2

    _, snap, _ = await fut_srv.public.call(
        "GET", "/futures/usdt/order_book", {"contract": "BTC_USDT", "with_id": "true"}, signed=False
    )
    maker(venue, Side.SELL, 60000.0, 0.01)
    status, placed, _ = await fut_srv.client.call(
        "POST", "/futures/usdt/orders", body=order(3, "60000", text="t-w")
    )
    assert status == 201
    wanted = {
        "futures.order_book_update",
        "futures.book_ticker",
        "futures.trades",
        "futures.orders",
        "futures.usertrades",
        "futures.positions",
        "futures.balances",
    }
    frames: list[dict] = []
    while not wanted <= {f["channel"] for f in frames} or not any(
        f["channel"] == "futures.orders" and f["result"][0]["status"] == "finished" for f in frames
    ):
        frames.append(await ws.receive_json(timeout=2))
    last = snap["id"]
    for f in (f for f in frames if f["channel"] == "futures.order_book_update"):
        assert f["result"]["U"] == last + 1
        last = f["result"]["u"]
    assert last == venue.book_id(BTC)

    def first(channel):
        return next(f["result"] for f in frames if f["channel"] == channel)

    assert set(sample("gate_futures_ws_public.json", "SubscribeToBookUpdates")["result"]) <= set(
        first("futures.order_book_update")
    )
    assert set(sample("gate_futures_ws_public.json", "SubscribeToBookTickerUpdates")["result"]) <= set(
        first("futures.book_ticker")
    )
    trade = first("futures.trades")[0]
    assert set(sample("gate_futures_ws_public.json", "SubscribeToTradeUpdates")["result"][0]) <= set(trade)
    assert trade["size"] == 3
    done = [f["result"][0] for f in frames if f["channel"] == "futures.orders"][-1]
    assert set(sample("gate_futures_ws_private.json", "SubscribeToOrderUpdates")["result"][0]) <= set(done)
    assert (
        done["id"] == placed["id"]
        and done["size"] == 3
        and done["left"] == 0
        and done["finish_as"] == "filled"
    )
    fill = first("futures.usertrades")[0]
    assert set(sample("gate_futures_ws_private.json", "SubscribeToUserTradeUpdates")["result"][0]) - {
        "close_size"
    } <= set(fill)
    assert fill["size"] == 3 and fill["order_id"] == str(placed["id"])
    pos = [f["result"][0] for f in frames if f["channel"] == "futures.positions"][-1]
    assert set(sample("gate_futures_ws_private.json", "SubscribeToPositionUpdates")["result"][0]) <= set(pos)
    assert pos["size"] == 3 and pos["user"] == str(UID)
    bal = first("futures.balances")[0]
    assert set(sample("gate_futures_ws_private.json", "SubscribeToBalanceUpdates")["result"][0]) <= set(bal)
    await ws.close()


async def test_futures_ws_decimal_sizes_on_handshake_header(fut_srv):
    ws = await fut_srv.session.ws_connect(f"{fut_srv.base}/v4/ws/usdt", headers=DEC)
    await ws.send_json(
        {"time": int(time.time()), "channel": "futures.trades", "event": "subscribe", "payload": ["BTC_USDT"]}
    )
    assert (await ws.receive_json(timeout=2))["error"] is None
    maker(fut_srv.venue, Side.SELL, 60000.0, 0.01)
    fut_srv.venue.place_order(MAKER, BTC, Side.BUY, OrderType.MARKET, 0.0005, None, TimeInForce.IOC)
    while True:
        msg = await ws.receive_json(timeout=2)
        if msg["channel"] == "futures.trades":
            break
    assert msg["result"][0]["size"] == "5"
    await ws.close()


async def test_signed_write_without_json_content_type_is_refused(fut_srv):
    """Gate's docs send `Content-Type: application/json` on every write, bodyless ones too
    (leverage); the simulator refuses a signed write without it (unverified reply)."""
    c = fut_srv.client
    path, query = "/futures/usdt/positions/BTC_USDT/leverage", {"leverage": "7"}
    status, err, _ = await c.call("POST", path, query, headers={"Content-Type": ""})
    assert (status, err["label"]) == (400, "INVALID_REQUEST_BODY")
    status, pos, _ = await c.call("POST", path, query)
    assert (status, pos["leverage"]) == (200, "7")


async def test_order_book_update_unsubscribes_with_contract_and_frequency(fut_srv):
    """Gate's futures WS docs unsubscribe order_book_update with [contract, "100ms"]."""
    ws = await fut_srv.session.ws_connect(f"{fut_srv.base}/v4/ws/usdt")

    async def request(event, payload):
        await ws.send_json(
            {
                "time": int(time.time()),
                "channel": "futures.order_book_update",
                "event": event,
                "payload": payload,
            }
        )
        while True:
            msg = await ws.receive_json(timeout=2)
            if msg.get("event") == event:
                return msg

    assert (await request("subscribe", ["BTC_USDT", "100ms", "100"]))["error"] is None
    refused = await request("unsubscribe", ["BTC_USDT", "100ms", "100"])
    assert refused["error"] is not None and refused["result"] == {"status": "fail"}
    done = await request("unsubscribe", ["BTC_USDT", "100ms"])
    assert done["error"] is None and done["result"] == {"status": "success"}
    await ws.close()
