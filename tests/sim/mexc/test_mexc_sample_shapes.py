"""Every field of MEXC's published REST samples is present in the simulator's replies."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from mexc_sim_helpers import rest_quote

from cexarb.model import Side

SAMPLES = Path(__file__).resolve().parents[2] / "data" / "protocols" / "samples"
# Documentation typos, not fields (mexc_spot.md §3.2: "one docs example spells the quantity Qty").
_TYPOS = {"Qty"}


def _sample(file: str, path: str, method: str = "GET", having: str = "") -> dict:
    for entry in json.loads((SAMPLES / file).read_text()):
        req = entry.get("request") or {}
        if req.get("path") == path and req.get("http_method") == method and entry.get("response") is not None:
            response = entry["response"]
            response = response[0] if isinstance(response, list) else response
            if not having or having in response:
                return response
    raise LookupError(f"no sample for {method} {path} in {file}")


def _assert_has_fields(reply: dict, sample: dict) -> None:
    missing = set(sample) - set(reply) - _TYPOS
    assert not missing, f"reply lacks {sorted(missing)}"


@pytest.fixture
async def traded(client, venue):
    """One resting order, one fill, one withdrawal on the test account."""
    rest_quote(venue, Side.SELL, 60000.0, 0.01)
    buy = {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "quantity": "0.01", "price": "60000"}
    status, fill = await client.signed("POST", "/api/v3/order", buy)
    rest = {**buy, "price": "50000", "newClientOrderId": "shape-1"}
    status, resting = await client.signed("POST", "/api/v3/order", rest)
    withdraw = {"coin": "USDT", "netWork": "TRC20", "address": "T" + "B" * 33, "amount": "10"}
    await client.signed("POST", "/api/v3/capital/withdraw", withdraw)
    return {"fill": fill, "resting": resting}


async def test_order_replies(client, traded):
    # The create reply may be the bare ACK (symbol, orderId, orderListId, transactTime), the sim's
    # strictest reading; whatever it carries is a field of the published full reply.
    created = _sample("mexc_spot_rest_orders.json", "/api/v3/order", "POST")
    assert {"symbol", "orderId", "orderListId", "transactTime"} <= set(traded["resting"]) <= set(created)
    ref = {"symbol": "BTCUSDT", "orderId": traded["resting"]["orderId"]}
    status, order = await client.signed("GET", "/api/v3/order", ref)
    _assert_has_fields(order, _sample("mexc_spot_rest_orders.json", "/api/v3/order"))
    status, opened = await client.signed("GET", "/api/v3/openOrders", {"symbol": "BTCUSDT"})
    _assert_has_fields(opened[0], _sample("mexc_spot_rest_orders.json", "/api/v3/openOrders"))
    status, orders = await client.signed("GET", "/api/v3/allOrders", {"symbol": "BTCUSDT"})
    _assert_has_fields(orders[0], _sample("mexc_spot_rest_orders.json", "/api/v3/allOrders"))
    status, canceled = await client.signed("DELETE", "/api/v3/order", ref)
    _assert_has_fields(canceled, _sample("mexc_spot_rest_orders.json", "/api/v3/order", "DELETE"))


async def test_account_trades_wallet_replies(client, traded):
    status, account = await client.signed("GET", "/api/v3/account")
    sample = _sample("mexc_spot_rest_account.json", "/api/v3/account")
    _assert_has_fields(account, sample)
    _assert_has_fields(account["balances"][0], sample["balances"][0])
    status, trades = await client.signed("GET", "/api/v3/myTrades", {"symbol": "BTCUSDT"})
    _assert_has_fields(trades[0], _sample("mexc_spot_rest_mytrades.json", "/api/v3/myTrades"))
    status, history = await client.signed("GET", "/api/v3/capital/withdraw/history")
    _assert_has_fields(history[0], _sample("mexc_spot_rest_wallet.json", "/api/v3/capital/withdraw/history"))
    status, coins = await client.signed("GET", "/api/v3/capital/config/getall")
    sample = _sample("mexc_spot_rest_wallet.json", "/api/v3/capital/config/getall")
    _assert_has_fields(coins[0], sample)
    _assert_has_fields(coins[0]["networkList"][0], sample["networkList"][0])


async def test_market_data_replies(client, traded):
    status, info = await client.public("/api/v3/exchangeInfo")
    sample = _sample("mexc_spot_rest_exchangeinfo.json", "/api/v3/exchangeInfo", having="symbols")
    _assert_has_fields(info, sample)
    _assert_has_fields(info["symbols"][0], sample["symbols"][0])
    # the official doc's symbol object (printed alone)
    _assert_has_fields(
        info["symbols"][0], _sample("mexc_spot_rest_exchangeinfo.json", "/api/v3/exchangeInfo")
    )
    status, depth = await client.public("/api/v3/depth", {"symbol": "BTCUSDT"})
    _assert_has_fields(depth, _sample("mexc_spot_rest_marketdata.json", "/api/v3/depth"))
    status, trades = await client.public("/api/v3/trades", {"symbol": "BTCUSDT"})
    _assert_has_fields(trades[0], _sample("mexc_spot_rest_marketdata.json", "/api/v3/trades"))
    status, ticker = await client.public("/api/v3/ticker/24hr", {"symbol": "BTCUSDT"})
    _assert_has_fields(ticker, _sample("mexc_spot_rest_marketdata.json", "/api/v3/ticker/24hr"))
    status, ticker = await client.public("/api/v3/ticker/bookTicker", {"symbol": "BTCUSDT"})
    _assert_has_fields(ticker, _sample("mexc_spot_rest_marketdata.json", "/api/v3/ticker/bookTicker"))
    status, body = await client.public("/api/v3/defaultSymbols")
    assert body["code"] == 200 and "BTCUSDT" in body["data"]
