"""Gate futures funding on the wire: contract and ticker fields, the account book, the pushes."""

from __future__ import annotations

import time

from gate_sim_helpers import BTC, KEY, MAKER, SECRET, UID, sign_ws

from cexarb.model import OrderType, Side, TimeInForce

# gateapi-python FuturesAccountBook (docs/FuturesAccountBook.md) plus the record id.
BOOK_FIELDS = {"time", "change", "balance", "type", "text", "contract", "trade_id", "id"}


def open_long(venue, qty=0.01, price=60000.0):
    venue.place_order(MAKER, BTC, Side.SELL, OrderType.LIMIT, qty, price, TimeInForce.GTC)
    venue.place_order(KEY, BTC, Side.BUY, OrderType.LIMIT, qty, price, TimeInForce.IOC)


async def test_contract_and_ticker_serve_the_live_rate_and_schedule(fut_srv):
    venue = fut_srv.venue
    venue.funding.sample(BTC, 60120.0, 60000.0)  # +0.2% premium -> 0.15% after the band
    _, contract, _ = await fut_srv.public.call("GET", "/futures/usdt/contracts/BTC_USDT", signed=False)
    assert contract["funding_rate"] == "0.0015" == contract["funding_rate_indicative"]
    assert contract["funding_interval"] == venue.funding.interval_s == 28800
    assert contract["funding_next_apply"] == venue.funding.next_apply > time.time()
    assert contract["funding_next_apply"] % 28800 == 0 and contract["funding_cap_ratio"] == "0.75"
    _, tickers, _ = await fut_srv.public.call(
        "GET", "/futures/usdt/tickers", {"contract": "BTC_USDT"}, signed=False
    )
    assert tickers[0]["funding_rate"] == "0.0015"


async def test_account_book_lists_funding_in_gates_shape(fut_srv):
    venue = fut_srv.venue
    open_long(venue)
    venue.funding.sample(BTC, 60120.0, 60000.0)
    venue.settle_funding()
    status, book, _ = await fut_srv.client.call("GET", "/futures/usdt/account_book")
    assert status == 200
    assert [e["type"] for e in book] == ["fund", "fee", "dnw"]  # newest first
    for entry in book:
        assert set(entry) == BOOK_FIELDS and isinstance(entry["time"], float)
    fund = book[0]
    paid = 0.01 * venue.mark_price(BTC) * 0.0015
    assert float(fund["change"]) == -round(paid, 8) and fund["contract"] == "BTC_USDT"
    assert float(fund["balance"]) == venue.balances(KEY)["USDT"].total
    _, only_fund, _ = await fut_srv.client.call("GET", "/futures/usdt/account_book", {"type": "fund"})
    assert only_fund == [fund]
    _, none_later, _ = await fut_srv.client.call(
        "GET", "/futures/usdt/account_book", {"from": int(time.time()) + 60}
    )
    assert none_later == []
    _, eth, _ = await fut_srv.client.call("GET", "/futures/usdt/account_book", {"contract": "ETH_USDT"})
    assert eth == []
    status, err, _ = await fut_srv.client.call("GET", "/futures/usdt/account_book", {"type": "bogus"})
    assert status == 400 and err["label"] == "INVALID_PARAM_VALUE"
    _, account, _ = await fut_srv.client.call("GET", "/futures/usdt/accounts")
    assert float(account["history"]["fund"]) == -round(paid, 8)


async def test_settlement_pushes_a_fund_balance_and_the_ticker(fut_srv):
    venue = fut_srv.venue
    open_long(venue)
    ws = await fut_srv.session.ws_connect(f"{fut_srv.base}/v4/ws/usdt")
    t = int(time.time())
    for channel, payload, private in (
        ("futures.tickers", ["BTC_USDT"], False),
        ("futures.balances", [str(UID)], True),
    ):
        req = {"time": t, "channel": channel, "event": "subscribe", "payload": payload}
        if private:
            req["auth"] = {"method": "api_key", "KEY": KEY, "SIGN": sign_ws(SECRET, channel, "subscribe", t)}
        await ws.send_json(req)
        ack = await ws.receive_json(timeout=2)
        assert ack["error"] is None, ack
    venue.funding.sample(BTC, 60120.0, 60000.0)
    venue.settle_funding()
    frames: list[dict] = []
    while {f["channel"] for f in frames} != {"futures.tickers", "futures.balances"}:
        frames.append(await ws.receive_json(timeout=2))
    balances = [f["result"][0] for f in frames if f["channel"] == "futures.balances"]
    assert [b["type"] for b in balances] == ["fund"]
    assert balances[0]["text"] == "BTC_USDT" and balances[0]["change"] < 0
    ticker = next(f["result"][0] for f in frames if f["channel"] == "futures.tickers")
    assert ticker["contract"] == "BTC_USDT" and ticker["funding_rate"] == "0.0015"
    assert {"last", "mark_price", "index_price", "funding_rate_indicative", "total_size"} <= set(ticker)
    await ws.close()
