"""MEXC spot REST front-end over real sockets: market data, orders, fills, balances, auth, errors."""

from __future__ import annotations

import pytest
from mexc_sim_helpers import BTC, ETH, KEY, START, rest_quote

from cexarb.model import Side
from cexarb.sim.mexc_auth import sign


async def test_ping_time_exchange_info(client, venue):
    assert await client.public("/api/v3/ping") == (200, {})
    status, body = await client.public("/api/v3/time")
    assert status == 200 and abs(body["serverTime"] - venue.clock.now_ms()) < 5000
    status, info = await client.public("/api/v3/exchangeInfo", {"symbol": "BTCUSDT"})
    assert status == 200
    (sym,) = info["symbols"]
    assert sym["symbol"] == "BTCUSDT" and sym["status"] == "1" and sym["isSpotTradingAllowed"] is True
    assert (sym["baseAsset"], sym["quoteAsset"]) == ("BTC", "USDT")
    assert sym["baseAssetPrecision"] == 4 and sym["quoteAssetPrecision"] == 1
    assert sym["baseSizePrecision"] == "0.0001" and sym["quoteAmountPrecision"] == "1"
    assert sym["filters"] == []
    status, info = await client.public("/api/v3/exchangeInfo", {"symbols": "BTCUSDT,ETHUSDT"})
    assert [s["symbol"] for s in info["symbols"]] == ["BTCUSDT", "ETHUSDT"]
    status, body = await client.public("/api/v3/exchangeInfo", {"symbol": "NOPEUSDT"})
    assert status == 400 and body["code"] == -1121
    status, body = await client.public("/api/v3/nothingHere")
    assert (status, body["code"]) == (404, 404)


async def test_depth_and_book_ticker(client, venue):
    rest_quote(venue, Side.BUY, 59990.0, 0.5)
    rest_quote(venue, Side.SELL, 60010.0, 0.25)
    status, depth = await client.public("/api/v3/depth", {"symbol": "BTCUSDT", "limit": 5})
    assert status == 200
    assert depth["lastUpdateId"] == venue.book_id(BTC)
    assert depth["bids"] == [["59990", "0.5"]] and depth["asks"] == [["60010", "0.25"]]
    status, ticker = await client.public("/api/v3/ticker/bookTicker", {"symbol": "BTCUSDT"})
    assert ticker == {
        "symbol": "BTCUSDT",
        "bidPrice": "59990",
        "bidQty": "0.5",
        "askPrice": "60010",
        "askQty": "0.25",
    }
    status, all_tickers = await client.public("/api/v3/ticker/bookTicker")
    assert {t["symbol"] for t in all_tickers} == {"BTCUSDT", "ETHUSDT"}
    status, body = await client.public("/api/v3/depth", {"symbol": "XXXUSDT"})
    assert (status, body["code"]) == (400, 10007)


async def test_place_query_cancel_by_both_ids(client, venue):
    params = {
        "symbol": "BTCUSDT",
        "side": "BUY",
        "type": "LIMIT",
        "quantity": "0.01",
        "price": "50000",
        "newClientOrderId": "myOrder-001",
    }
    status, ack = await client.signed("POST", "/api/v3/order", params)
    assert status == 200, ack
    assert ack["orderId"].startswith("C02__") and "status" not in ack
    # the ACK shape: nothing of the order but its id (side, type, price, quantity are the caller's)
    assert set(ack) == {"symbol", "orderId", "orderListId", "transactTime"} and ack["symbol"] == "BTCUSDT"
    status, by_id = await client.signed(
        "GET", "/api/v3/order", {"symbol": "BTCUSDT", "orderId": ack["orderId"]}
    )
    assert status == 200 and by_id["status"] == "NEW" and by_id["clientOrderId"] == "myOrder-001"
    status, by_cid = await client.signed(
        "GET", "/api/v3/order", {"symbol": "BTCUSDT", "origClientOrderId": "myOrder-001"}
    )
    assert by_cid["orderId"] == ack["orderId"] and by_cid["isWorking"] is True
    status, opened = await client.signed("GET", "/api/v3/openOrders", {"symbol": "BTCUSDT"})
    assert [o["orderId"] for o in opened] == [ack["orderId"]]
    # 0.01 * 50000 = 500 USDT locked while the order rests
    status, account = await client.signed("GET", "/api/v3/account")
    usdt = next(b for b in account["balances"] if b["asset"] == "USDT")
    assert (usdt["free"], usdt["locked"]) == ("99500", "500")

    status, canceled = await client.signed(
        "DELETE", "/api/v3/order", {"symbol": "BTCUSDT", "origClientOrderId": "myOrder-001"}
    )
    assert status == 200 and canceled["status"] == "CANCELED" and canceled["orderId"] == ack["orderId"]
    status, again = await client.signed(
        "DELETE", "/api/v3/order", {"symbol": "BTCUSDT", "orderId": ack["orderId"]}
    )
    assert (status, again["code"]) == (400, -2011)
    status, missing = await client.signed("GET", "/api/v3/order", {"symbol": "BTCUSDT", "orderId": "C02__1"})
    assert (status, missing["code"]) == (400, -2013)
    status, neither = await client.signed("GET", "/api/v3/order", {"symbol": "BTCUSDT"})
    assert neither["code"] == 700004
    status, account = await client.signed("GET", "/api/v3/account")
    usdt = next(b for b in account["balances"] if b["asset"] == "USDT")
    assert (usdt["free"], usdt["locked"]) == ("100000", "0")


async def test_fill_balances_add_up_and_my_trades(client, venue):
    maker_order = rest_quote(venue, Side.SELL, 60000.0, 0.05)
    params = {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "quantity": "0.03", "price": "60100"}
    status, ack = await client.signed("POST", "/api/v3/order", params)
    assert status == 200, ack
    status, order = await client.signed(
        "GET", "/api/v3/order", {"symbol": "BTCUSDT", "orderId": ack["orderId"]}
    )
    assert order["status"] == "FILLED" and order["executedQty"] == "0.03"
    assert order["cummulativeQuoteQty"] == "1800" and order["isWorking"] is False
    status, trades = await client.signed("GET", "/api/v3/myTrades", {"symbol": "BTCUSDT"})
    (trade,) = trades
    assert (trade["price"], trade["qty"], trade["quoteQty"]) == ("60000", "0.03", "1800")
    assert trade["isBuyer"] is True and trade["isMaker"] is False and trade["orderId"] == ack["orderId"]
    assert trade["commissionAsset"] == "BTC" and float(trade["commission"]) == pytest.approx(0.03 * 0.002)
    status, account = await client.signed("GET", "/api/v3/account")
    balances = {b["asset"]: (float(b["free"]), float(b["locked"])) for b in account["balances"]}
    assert balances["USDT"] == (pytest.approx(START["USDT"] - 1800), 0.0)
    assert balances["BTC"] == (pytest.approx(START["BTC"] + 0.03 - 0.03 * 0.002), 0.0)
    # the maker's order is partially filled; the account's truth agrees with the wire
    assert venue.get_order("mm", BTC, maker_order.order_id).filled_quantity == pytest.approx(0.03)
    truth = venue.truth(KEY)
    assert truth.balances["USDT"].available == pytest.approx(balances["USDT"][0])


async def test_market_by_quote_amount_and_by_quantity(client, venue):
    rest_quote(venue, Side.SELL, 60000.0, 1.0)
    rest_quote(venue, Side.BUY, 59000.0, 1.0)
    status, ack = await client.signed(
        "POST",
        "/api/v3/order",
        {"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET", "quoteOrderQty": "600"},
    )
    assert status == 200, ack
    status, order = await client.signed(
        "GET", "/api/v3/order", {"symbol": "BTCUSDT", "orderId": ack["orderId"]}
    )
    assert order["status"] == "FILLED" and order["executedQty"] == "0.01"
    assert order["origQuoteOrderQty"] == "600" and order["type"] == "MARKET"
    status, ack = await client.signed(
        "POST", "/api/v3/order", {"symbol": "BTCUSDT", "side": "SELL", "type": "MARKET", "quantity": "0.02"}
    )
    assert status == 200, ack
    status, order = await client.signed(
        "GET", "/api/v3/order", {"symbol": "BTCUSDT", "orderId": ack["orderId"]}
    )
    assert order["status"] == "FILLED" and order["cummulativeQuoteQty"] == "1180"
    status, body = await client.signed(
        "POST", "/api/v3/order", {"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET"}
    )
    assert (status, body["code"]) == (400, -1128)


async def test_time_in_force_types(client, venue):
    rest_quote(venue, Side.SELL, 60000.0, 0.01)
    base = {"symbol": "BTCUSDT", "side": "BUY", "quantity": "0.02", "price": "60000"}
    status, body = await client.signed("POST", "/api/v3/order", {**base, "type": "LIMIT_MAKER"})
    assert (status, body["code"]) == (400, -2010)
    status, body = await client.signed("POST", "/api/v3/order", {**base, "type": "FILL_OR_KILL"})
    assert (status, body["code"]) == (400, -2010)
    status, ack = await client.signed("POST", "/api/v3/order", {**base, "type": "IMMEDIATE_OR_CANCEL"})
    assert status == 200
    status, order = await client.signed(
        "GET", "/api/v3/order", {"symbol": "BTCUSDT", "orderId": ack["orderId"]}
    )
    assert (order["status"], order["executedQty"], order["type"]) == (
        "PARTIALLY_CANCELED",
        "0.01",
        "IMMEDIATE_OR_CANCEL",
    )
    status, ack = await client.signed(
        "POST", "/api/v3/order", {**base, "type": "LIMIT_MAKER", "price": "59000"}
    )
    status, order = await client.signed(
        "GET", "/api/v3/order", {"symbol": "BTCUSDT", "orderId": ack["orderId"]}
    )
    assert (order["status"], order["type"]) == ("NEW", "LIMIT_MAKER")


async def test_order_test_endpoint_validates_only(client, venue):
    params = {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "quantity": "0.01", "price": "50000"}
    assert await client.signed("POST", "/api/v3/order/test", params) == (200, {})
    assert venue.open_orders(KEY) == []
    status, body = await client.signed("POST", "/api/v3/order/test", {**params, "type": "STOP"})
    assert (status, body["code"]) == (400, 730002)


async def test_rejects_map_to_mexc_codes(client):
    base = {"symbol": "BTCUSDT", "type": "LIMIT", "price": "50000"}
    cases = [
        ({**base, "side": "BUY", "quantity": "10"}, 10101),  # 500k USDT > 100k
        ({**base, "side": "SELL", "quantity": "5"}, 30004),  # 5 BTC > 2 held
        ({**base, "side": "BUY", "quantity": "0.00001"}, 10096),  # off the step grid
        ({**base, "side": "BUY", "quantity": "0.0001", "price": "5000"}, 30002),  # 0.5 USDT < 1
        ({**base, "side": "BUY", "quantity": "0.01", "price": "50000.05"}, 30087),  # off the tick
        ({**base, "side": "BUY", "quantity": "0.01", "symbol": "DOGEUSDT"}, 10007),
        ({**base, "side": "BUY", "quantity": "0.01", "newClientOrderId": "bad id!"}, 700008),
    ]
    for params, code in cases:
        status, body = await client.signed("POST", "/api/v3/order", params)
        assert (status, body["code"]) == (400, code), (params, body)
        assert set(body) >= {"code", "msg"}


async def test_duplicate_client_order_id_rejected(client):
    params = {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "quantity": "0.01", "price": "50000"}
    params["newClientOrderId"] = "dup-1"
    assert (await client.signed("POST", "/api/v3/order", params))[0] == 200
    status, body = await client.signed("POST", "/api/v3/order", params)
    assert (status, body["code"], body["msg"]) == (400, -2010, "Duplicate order sent.")


async def test_params_in_form_body_and_mixed(client, venue):
    params = {"symbol": "ETHUSDT", "side": "BUY", "type": "LIMIT", "quantity": "1", "price": "2000"}
    status, ack = await client.signed("POST", "/api/v3/order", params, in_body=True)
    assert status == 200, ack
    # mixed: part in the query, the rest (with the signature) in the body; signed over query + body
    query = "symbol=ETHUSDT&side=BUY&type=LIMIT"
    body = f"quantity=1&price=2001&recvWindow=5000&timestamp={venue.clock.now_ms()}"
    signature = sign(client.secret, query + body)
    status, ack2, _ = await client.raw(
        "POST", "/api/v3/order", query=query, body=f"{body}&signature={signature}"
    )
    assert status == 200, ack2
    prices = sorted(o.price for o in venue.open_orders(KEY, ETH))
    assert prices == [2000.0, 2001.0]


async def test_auth_failures(client, session, base_url):
    signed = client.signed_query({"symbol": "BTCUSDT"})
    status, body, _ = await client.raw(
        "GET", "/api/v3/openOrders", query=signed.replace("BTCUSDT", "ETHUSDT")
    )
    assert (status, body["code"]) == (400, 700002)
    status, body, _ = await client.raw(
        "GET", "/api/v3/openOrders", query=signed, headers={"X-MEXC-APIKEY": "nope"}
    )
    assert body["code"] == 700002
    async with session.get(f"{base_url}/api/v3/account?{client.signed_query()}") as r:
        assert r.status == 400 and (await r.json())["code"] == 400
    client.clock_offset_ms = -10_000
    status, body = await client.signed("GET", "/api/v3/account")
    assert (status, body["code"]) == (400, 700003)
    client.clock_offset_ms = 2_000
    assert (await client.signed("GET", "/api/v3/account"))[1]["code"] == 700003
    client.clock_offset_ms = -10_000
    status, body = await client.signed("GET", "/api/v3/account", {"recvWindow": 20_000})
    assert status == 200
    status, body = await client.signed("GET", "/api/v3/account", {"recvWindow": 70_000})
    assert body["code"] == 700005


async def test_skewed_server_clock_rejects_stale_timestamps(client, venue):
    venue.faults.skew_clock(30_000)
    status, body = await client.signed("GET", "/api/v3/account")
    assert (status, body["code"]) == (400, 700003)
    status, body = await client.public("/api/v3/time")
    client.clock_offset_ms = body["serverTime"] - venue.clock.now_ms() + 30_000
    assert (await client.signed("GET", "/api/v3/account"))[0] == 200


async def test_cancel_open_orders_on_several_symbols(client, venue):
    for symbol, price, qty in (
        ("BTCUSDT", "50000", "0.01"),
        ("BTCUSDT", "50001", "0.01"),
        ("ETHUSDT", "2000", "1"),
    ):
        p = {"symbol": symbol, "side": "BUY", "type": "LIMIT", "quantity": qty, "price": price}
        assert (await client.signed("POST", "/api/v3/order", p))[0] == 200
    status, canceled = await client.signed("DELETE", "/api/v3/openOrders", {"symbol": "BTCUSDT,ETHUSDT"})
    assert status == 200 and len(canceled) == 3 and {c["status"] for c in canceled} == {"CANCELED"}
    assert venue.open_orders(KEY) == []
    status, all_orders = await client.signed("GET", "/api/v3/allOrders", {"symbol": "BTCUSDT"})
    assert [o["price"] for o in all_orders] == ["50000", "50001"]


async def test_withdraw_config_and_history(client, venue):
    status, coins = await client.signed("GET", "/api/v3/capital/config/getall")
    usdt = next(c for c in coins if c["coin"] == "USDT")
    trc20 = next(n for n in usdt["networkList"] if n["netWork"] == "TRC20")
    assert trc20["withdrawEnable"] is True and float(trc20["withdrawMin"]) > 0
    params = {
        "coin": "USDT",
        "netWork": "TRC20",
        "address": "T" + "A" * 33,
        "amount": "100",
        "withdrawOrderId": "w-1",
    }
    status, body = await client.signed("POST", "/api/v3/capital/withdraw", params)
    assert status == 200 and set(body) == {"id"}
    status, history = await client.signed("GET", "/api/v3/capital/withdraw/history", {"coin": "USDT"})
    (item,) = history
    assert item["id"] == body["id"] and item["amount"] == "100" and item["withdrawOrderId"] == "w-1"
    assert item["status"] in (1, 4, 7) and item["network"] == "TRC20"
    assert venue.balances(KEY)["USDT"].available == pytest.approx(START["USDT"] - 100)
    status, bad = await client.signed("POST", "/api/v3/capital/withdraw", {**params, "address": "nope"})
    assert (status, bad["code"]) == (400, 10212)
    status, bad = await client.signed("POST", "/api/v3/capital/withdraw", {**params, "amount": "1000000"})
    assert bad["code"] == 10101
    # a withdrawal still pending can be canceled: the amount comes back
    status, second = await client.signed(
        "POST", "/api/v3/capital/withdraw", {**params, "withdrawOrderId": "w-2"}
    )
    assert await client.signed("DELETE", "/api/v3/capital/withdraw", {"id": second["id"]}) == (200, second)
    status, history = await client.signed("GET", "/api/v3/capital/withdraw/history", {"coin": "USDT"})
    assert {h["id"]: h["status"] for h in history}[second["id"]] == 9
    assert venue.balances(KEY)["USDT"].available == pytest.approx(START["USDT"] - 100)
    status, bad = await client.signed("DELETE", "/api/v3/capital/withdraw", {"id": "nope"})
    assert (status, bad["code"]) == (400, 22222)


@pytest.mark.parametrize(
    ("method", "path", "params"),
    [
        ("POST", "/api/v3/order", {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "quantity": "0.01"}),
        ("POST", "/api/v3/userDataStream", {}),
        ("PUT", "/api/v3/userDataStream", {"listenKey": "x"}),
        ("DELETE", "/api/v3/openOrders", {"symbol": "BTCUSDT"}),
        ("POST", "/api/v3/capital/withdraw", {"coin": "USDT", "address": "a", "amount": "1"}),
    ],
)
@pytest.mark.parametrize(
    "content_type", [None, "application/octet-stream", "application/x-www-form-urlencoded"]
)
async def test_signed_write_without_json_content_type_is_700013(
    client, venue, method, path, params, content_type
):
    """MEXC (since 2024-02-22) answers a signed write whose Content-Type is not application/json
    with HTTP 400 {"code":700013,"msg":"Invalid content Type."}, before doing anything."""
    headers = {"Content-Type": content_type} if content_type else {"Content-Type": ""}
    status, body, _ = await client.raw(method, path, query=client.signed_query(params), headers=headers)
    assert (status, body["code"], body["msg"]) == (400, 700013, "Invalid content Type.")
    assert venue.open_orders(KEY, BTC) == []
    json_type = {"Content-Type": "application/json; charset=utf-8"}
    _, body, _ = await client.raw(method, path, query=client.signed_query(params), headers=json_type)
    assert not (isinstance(body, dict) and body.get("code") == 700013), body


async def test_trade_fee_and_mx_deduct_status_are_the_accounts_own(client, venue):
    from cexarb.sim.fees import FeeTier

    status, body = await client.signed("GET", "/api/v3/tradeFee", {"symbol": "BTCUSDT"})
    assert status == 200 and body["code"] == 0 and body["msg"] == "success" and body["timestamp"] > 0
    assert body["data"] == {"makerCommission": 0.001, "takerCommission": 0.002}  # the market's default
    status, body = await client.signed("GET", "/api/v3/mxDeduct/enable")
    assert status == 200 and body["data"] == {"mxDeductEnable": False}
    account = venue.account(KEY)
    account.maker_fee, account.taker_fee = 0.0, 0.0005
    account.fee_tier = FeeTier(0.0, 0.0005, token="MX", token_discount=0.2, token_price=2.5)
    status, body = await client.signed("GET", "/api/v3/tradeFee", {"symbol": "BTCUSDT"})
    assert body["data"] == {"makerCommission": 0.0, "takerCommission": 0.0005}
    status, body = await client.signed("GET", "/api/v3/mxDeduct/enable")
    assert body["data"] == {"mxDeductEnable": True}
    status, body = await client.signed("GET", "/api/v3/tradeFee", {"symbol": "NOPEUSDT"})
    assert status == 400 and body["code"] == 10007  # signed endpoints: "symbol not support api"
    status, body = await client.signed("GET", "/api/v3/tradeFee")
    assert status == 400
