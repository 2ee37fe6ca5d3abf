"""Gate spot REST front-end over real sockets on 127.0.0.1."""

from __future__ import annotations

import time

import aiohttp
import pytest
from gate_sim_helpers import BTC, KEY, MAKER, GateClient, close, make_spot_venue, serve

from cexarb.config import RateLimitPool
from cexarb.model import OrderType, Side, TimeInForce
from cexarb.sim.gateio_spot import create_app


def rest_maker(venue, side: Side, price: float, qty: float, symbol=BTC):
    return venue.place_order(MAKER, symbol, side, OrderType.LIMIT, qty, price, TimeInForce.GTC)


def limit(pair="BTC_USDT", side="buy", amount="0.01", price="50000", **kw):
    return {"currency_pair": pair, "side": side, "amount": amount, "price": price, "type": "limit", **kw}


async def test_public_market_data(spot_srv):
    c = spot_srv.public
    status, body, _ = await c.call("GET", "/spot/time", signed=False)
    assert status == 200 and abs(body["server_time"] - time.time() * 1000) < 60_000
    status, pairs, _ = await c.call("GET", "/spot/currency_pairs", signed=False)
    btc = next(p for p in pairs if p["id"] == "BTC_USDT")
    assert btc["precision"] == 1 and btc["amount_precision"] == 4 and btc["min_quote_amount"] == "1"
    status, one, _ = await c.call("GET", "/spot/currency_pairs/ETH_USDT", signed=False)
    assert status == 200 and one["base"] == "ETH"
    status, err, _ = await c.call("GET", "/spot/currency_pairs/FOO_USDT", signed=False)
    assert status == 400 and err["label"] == "INVALID_CURRENCY_PAIR"

    rest_maker(spot_srv.venue, Side.BUY, 59999.9, 0.5)
    rest_maker(spot_srv.venue, Side.SELL, 60000.1, 0.25)
    status, book, _ = await c.call(
        "GET", "/spot/order_book", {"currency_pair": "BTC_USDT", "with_id": "true"}, signed=False
    )
    assert book["id"] == spot_srv.venue.book_id(BTC)
    assert book["bids"][0] == ["59999.9", "0.5"] and book["asks"][0] == ["60000.1", "0.25"]
    _, no_id, _ = await c.call("GET", "/spot/order_book", {"currency_pair": "BTC_USDT"}, signed=False)
    assert "id" not in no_id
    _, tickers, _ = await c.call("GET", "/spot/tickers", {"currency_pair": "BTC_USDT"}, signed=False)
    assert tickers[0]["highest_bid"] == "59999.9" and tickers[0]["lowest_ask"] == "60000.1"
    assert tickers[0]["lowest_size"] == "0.25"


async def test_place_query_cancel_limit_order(spot_srv):
    c = spot_srv.client
    status, order, _ = await c.call("POST", "/spot/orders", body=limit(text="t-my1"))
    assert status == 201, order
    assert order["status"] == "open" and order["text"] == "t-my1" and order["left"] == "0.01"
    oid = order["id"]
    for ref in (oid, "t-my1"):
        status, got, _ = await c.call("GET", f"/spot/orders/{ref}", {"currency_pair": "BTC_USDT"})
        assert status == 200 and got["id"] == oid
    _, listed, _ = await c.call("GET", "/spot/orders", {"currency_pair": "BTC_USDT", "status": "open"})
    assert [o["id"] for o in listed] == [oid]
    await c.call("POST", "/spot/orders", body=limit(pair="ETH_USDT", amount="1", price="2000"))
    _, grouped, _ = await c.call("GET", "/spot/open_orders")
    assert sorted((g["currency_pair"], g["total"]) for g in grouped) == [("BTC_USDT", 1), ("ETH_USDT", 1)]
    status, err, _ = await c.call("GET", "/spot/orders", {"status": "open"})
    assert status == 400 and err["label"] == "MISSING_REQUIRED_PARAM"

    _, accounts, _ = await c.call("GET", "/spot/accounts", {"currency": "USDT"})
    assert accounts == [
        {"currency": "USDT", "available": "97500", "locked": "2500", "update_id": accounts[0]["update_id"]}
    ]

    status, cancelled, _ = await c.call("DELETE", f"/spot/orders/{oid}", {"currency_pair": "BTC_USDT"})
    assert status == 200 and cancelled["status"] == "cancelled" and cancelled["finish_as"] == "cancelled"
    status, err, _ = await c.call("DELETE", f"/spot/orders/{oid}", {"currency_pair": "BTC_USDT"})
    assert status == 404 and err["label"] == "ORDER_NOT_FOUND"
    _, finished, _ = await c.call("GET", "/spot/orders", {"currency_pair": "BTC_USDT", "status": "finished"})
    assert [o["id"] for o in finished] == [oid]
    status, all_cancelled, _ = await c.call("DELETE", "/spot/orders", {"currency_pair": "ETH_USDT"})
    assert status == 200 and len(all_cancelled) == 1 and all_cancelled[0]["succeeded"] is True
    _, accounts, _ = await c.call("GET", "/spot/accounts")
    usdt = next(a for a in accounts if a["currency"] == "USDT")
    assert (usdt["available"], usdt["locked"]) == ("100000", "0")


async def test_fill_updates_order_trades_and_balances(spot_srv):
    venue, c = spot_srv.venue, spot_srv.client
    rest_maker(venue, Side.SELL, 60000.0, 0.05)
    status, order, _ = await c.call(
        "POST", "/spot/orders", body=limit(amount="0.02", price="60010", text="t-fill")
    )
    assert status == 201
    assert order["status"] == "closed" and order["finish_as"] == "filled" and order["left"] == "0"
    assert (
        order["filled_amount"] == "0.02"
        and order["avg_deal_price"] == "60000"
        and order["filled_total"] == "1200"
    )
    assert order["fee_currency"] == "BTC" and order["fee"] == "0.00004"
    _, trades, _ = await c.call("GET", "/spot/my_trades", {"currency_pair": "BTC_USDT"})
    assert len(trades) == 1 and trades[0]["order_id"] == order["id"] and trades[0]["role"] == "taker"
    assert trades[0]["text"] == "t-fill" and trades[0]["amount"] == "0.02" and trades[0]["price"] == "60000"
    _, by_order, _ = await c.call("GET", "/spot/my_trades", {"currency_pair": "BTC_USDT", "order_id": "nope"})
    assert by_order == []
    _, accounts, _ = await c.call("GET", "/spot/accounts")
    bal = {a["currency"]: (float(a["available"]), float(a["locked"])) for a in accounts}
    assert bal["USDT"] == pytest.approx((100_000 - 1200, 0.0))
    assert bal["BTC"] == pytest.approx((2.0 + 0.02 - 0.00004, 0.0))


async def test_market_buy_amount_is_quote(spot_srv):
    venue, c = spot_srv.venue, spot_srv.client
    rest_maker(venue, Side.SELL, 60000.0, 1.0)
    body = {
        "currency_pair": "BTC_USDT",
        "side": "buy",
        "type": "market",
        "amount": "600",
        "time_in_force": "ioc",
    }
    status, order, _ = await c.call("POST", "/spot/orders", body=body)
    assert status == 201, order
    assert order["type"] == "market" and order["amount"] == "600" and order["filled_total"] == "600"
    assert order["filled_amount"] == "0.01" and order["status"] == "closed"
    status, err, _ = await c.call("POST", "/spot/orders", body={**body, "time_in_force": "gtc"})
    assert status == 400 and err["label"] == "INVALID_PARAM_VALUE"


@pytest.mark.parametrize(
    ("body", "label"),
    [
        (limit(text="abc"), "INVALID_PARAM_VALUE"),
        (limit(text="t-" + "x" * 29), "INVALID_PARAM_VALUE"),
        (limit(text="t-bad char"), "INVALID_PARAM_VALUE"),
        (limit(amount="100"), "BALANCE_NOT_ENOUGH"),
        (limit(price="50000.05"), "INVALID_PRECISION"),
        (limit(amount="0.00001"), "INVALID_PRECISION"),
        (limit(amount="0.0001", price="100"), "INVALID_PARAM_VALUE"),
        (limit(pair="FOO_USDT"), "INVALID_CURRENCY_PAIR"),
        ({"currency_pair": "BTC_USDT", "side": "buy"}, "MISSING_REQUIRED_PARAM"),
    ],
)
async def test_order_rejections(spot_srv, body, label):
    status, err, _ = await spot_srv.client.call("POST", "/spot/orders", body=body)
    assert (status, err["label"]) == (400, label), err
    assert err["message"]


async def test_post_only_and_duplicate_text(spot_srv):
    venue, c = spot_srv.venue, spot_srv.client
    rest_maker(venue, Side.SELL, 60000.0, 0.05)
    status, err, _ = await c.call("POST", "/spot/orders", body=limit(price="60000", time_in_force="poc"))
    assert (status, err["label"]) == (400, "POC_FILL_IMMEDIATELY")
    status, ok, _ = await c.call(
        "POST", "/spot/orders", body=limit(price="59000", time_in_force="poc", text="t-d")
    )
    assert status == 201 and ok["time_in_force"] == "poc"
    status, err, _ = await c.call("POST", "/spot/orders", body=limit(price="59000", text="t-d"))
    assert (status, err["label"]) == (400, "REPEATED_CREATION")
    status, err, _ = await c.call(
        "POST", "/spot/orders", body=limit(price="59000", amount="1", time_in_force="fok")
    )
    assert (status, err["label"]) == (400, "FOK_NOT_FILL")


async def test_auth_failures(spot_srv):
    c = spot_srv.client
    status, err, _ = await c.call("GET", "/spot/accounts", ts=time.time() - 120)
    assert (status, err["label"]) == (401, "REQUEST_EXPIRED")
    url = f"{spot_srv.base}/api/v4/spot/accounts"
    headers = {"KEY": KEY, "Timestamp": str(int(time.time())), "SIGN": "0" * 128}
    async with spot_srv.session.get(url, headers=headers) as resp:
        assert resp.status == 401 and (await resp.json())["label"] == "INVALID_SIGNATURE"
    async with spot_srv.session.get(url) as resp:
        assert resp.status == 401 and (await resp.json())["label"] == "MISSING_REQUIRED_HEADER"
    status, err, _ = await GateClient(spot_srv.session, spot_srv.base, "nobody", "x").call(
        "GET", "/spot/accounts"
    )
    assert (status, err["label"]) == (401, "INVALID_KEY")
    # A skewed venue clock makes an honest client's timestamp stale.
    spot_srv.venue.faults.skew_clock(90_000)
    status, err, _ = await c.call("GET", "/spot/accounts")
    assert (status, err["label"]) == (401, "REQUEST_EXPIRED")


async def test_rate_limit_answers_429_like_gate():
    pools = {
        "public": RateLimitPool(3, 10.0),
        "default": RateLimitPool(200, 10.0),
        "orders": RateLimitPool(2, 10.0),
    }
    served = await serve(create_app, make_spot_venue(pools))
    try:
        c = served.client
        codes = [
            (await c.call("POST", "/spot/orders", body=limit(price="1000", amount="0.01")))[0]
            for _ in range(3)
        ]
        assert codes == [201, 201, 429]
        status, err, headers = await c.call("POST", "/spot/orders", body=limit(price="1000", amount="0.01"))
        assert (status, err["label"]) == (429, "TOO_MANY_REQUESTS")
        assert headers["X-Gate-RateLimit-Requests-Remain"] == "0" and headers["X-Gate-RateLimit-Limit"] == "2"
        assert int(headers["X-Gate-RateLimit-Reset-Timestamp"]) >= int(time.time())
        # Public limits count per endpoint: another endpoint still answers.
        p = served.public
        codes = [(await p.call("GET", "/spot/tickers", signed=False))[0] for _ in range(4)]
        assert codes == [200, 200, 200, 429]
        assert (await p.call("GET", "/spot/time", signed=False))[0] == 200
    finally:
        await close(served)


async def test_withdrawals(spot_srv):
    c = spot_srv.client
    body = {
        "withdraw_order_id": "w-1",
        "currency": "USDT",
        "address": "T" + "1" * 33,
        "amount": "50",
        "chain": "TRX",
    }
    status, w, _ = await c.call("POST", "/withdrawals", body=body)
    assert status == 200, w
    assert (
        w["currency"] == "USDT"
        and w["amount"] == "50"
        and w["chain"] == "TRX"
        and w["withdraw_order_id"] == "w-1"
    )
    assert w["status"] in ("REQUEST", "PROCES", "DONE")
    _, history, _ = await c.call("GET", "/wallet/withdrawals", {"currency": "USDT"})
    assert [h["id"] for h in history] == [w["id"]]
    status, err, _ = await c.call("POST", "/withdrawals", body={**body, "chain": "NOPE"})
    assert status == 400 and err["label"] == "INVALID_PARAM_VALUE"
    status, err, _ = await c.call("POST", "/withdrawals", body={**body, "amount": "0.5"})
    assert status == 400 and err["label"] == "AMOUNT_TOO_LITTLE"
    _, accounts, _ = await c.call("GET", "/spot/accounts", {"currency": "USDT"})
    assert accounts[0]["available"] == "99950"


async def test_rest_faults_are_observable(spot_srv):
    venue, c = spot_srv.venue, spot_srv.client
    venue.faults.fail_next_rest(1, 502, b'{"label":"SERVER_ERROR","message":"bad gateway"}')
    status, body, _ = await c.call("GET", "/spot/accounts")
    assert status == 502 and body["label"] == "SERVER_ERROR"
    assert (await c.call("GET", "/spot/accounts"))[0] == 200

    venue.faults.timeout_hold_s = 0.05
    venue.faults.timeout_after_accept(1)
    with pytest.raises(aiohttp.ClientError):
        await c.call("POST", "/spot/orders", body=limit(text="t-lost"))
    # The order was placed even though the reply never came: the client id finds it.
    status, got, _ = await c.call("GET", "/spot/orders/t-lost", {"currency_pair": "BTC_USDT"})
    assert status == 200 and got["status"] == "open"

    venue.faults.pause_matching(True)
    status, err, _ = await c.call("POST", "/spot/orders", body=limit())
    assert (status, err["label"]) == (503, "TOO_BUSY")


async def test_unknown_path_is_gate_shaped(spot_srv):
    status, err, _ = await spot_srv.public.call("GET", "/spot/nothing", signed=False)
    assert status == 404 and err["label"] == "NOT_FOUND"


async def test_unified_account_mode_balances_and_order_account(spot_srv):
    """`/account/detail` key.mode 1 (classic) or 2 (unified); a unified account's balances are
    under /unified/accounts and its orders name account=unified (stricter than published)."""
    client = spot_srv.client
    assert (await client.call("GET", "/account/detail"))[1]["key"]["mode"] == 1
    status, err, _ = await client.call("GET", "/unified/accounts")
    assert status == 400
    spot_srv.venue.account("k1").unified = True
    assert (await client.call("GET", "/account/detail"))[1]["key"]["mode"] == 2
    status, acct, _ = await client.call("GET", "/unified/accounts")
    assert status == 200 and float(acct["balances"]["USDT"]["available"]) > 0
    assert (await client.call("GET", "/spot/accounts"))[1] == []
    body = {"currency_pair": "BTC_USDT", "side": "buy", "amount": "0.001", "price": "40000"}
    status, err, _ = await client.call("POST", "/spot/orders", body={**body, "account": "spot"})
    assert (status, err["label"]) == (400, "INVALID_PARAM_VALUE")
    status, order, _ = await client.call("POST", "/spot/orders", body={**body, "account": "unified"})
    assert status == 201, order
