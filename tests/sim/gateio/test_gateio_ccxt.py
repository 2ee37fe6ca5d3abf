"""A third-party Gate client (ccxt, installed in the venv) works against the simulator by URL alone."""

from __future__ import annotations

import ccxt.async_support as ccxt_async  # a dev dependency: missing means a broken venv, not a skip
import pytest
from gate_sim_helpers import BTC, KEY, MAKER, SECRET

from cexarb.model import OrderType, Side, TimeInForce


def make_gate(base: str, market_type: str):
    api = f"{base}/api/v4"
    ex = ccxt_async.gate(
        {
            "apiKey": KEY,
            "secret": SECRET,
            "enableRateLimit": False,
            "options": {
                "fetchMarkets": {"types": [market_type]},
                "swap": {"fetchMarkets": {"settlementCurrencies": ["usdt"]}},
                "unifiedAccount": False,
            },
        }
    )
    ex.has["fetchCurrencies"] = False
    for scope in ("public", "private"):
        ex.urls["api"][scope] = {k: api for k in ex.urls["api"][scope]}
    return ex


async def test_ccxt_spot_round_trip(spot_srv):
    spot_srv.venue.place_order(MAKER, BTC, Side.SELL, OrderType.LIMIT, 0.05, 60000.0, TimeInForce.GTC)
    ex = make_gate(spot_srv.base, "spot")
    try:
        await ex.load_markets()
        assert ex.markets["BTC/USDT"]["precision"]["price"] == 0.1
        book = await ex.fetch_order_book("BTC/USDT")
        assert book["asks"][0] == [60000.0, 0.05]
        resting = await ex.create_order("BTC/USDT", "limit", "buy", 0.01, 59000, {"text": "t-ccxt1"})
        fetched = await ex.fetch_order(resting["id"], "BTC/USDT")
        assert fetched["status"] == "open" and fetched["clientOrderId"] == "t-ccxt1"
        assert [o["id"] for o in await ex.fetch_open_orders("BTC/USDT")] == [resting["id"]]
        assert [o["id"] for o in await ex.fetch_open_orders()] == [resting["id"]]  # GET /spot/open_orders
        cancelled = await ex.cancel_order(resting["id"], "BTC/USDT")
        assert cancelled["status"] == "canceled"
        filled = await ex.create_order("BTC/USDT", "limit", "buy", 0.01, 60000)
        assert filled["status"] == "closed" and filled["filled"] == 0.01
        trades = await ex.fetch_my_trades("BTC/USDT")
        assert [t["order"] for t in trades] == [filled["id"]]
        balance = await ex.fetch_balance()
        assert balance["USDT"]["free"] == pytest.approx(100_000 - 600)
    finally:
        await ex.close()


async def test_ccxt_swap_round_trip(fut_srv):
    fut_srv.venue.place_order(MAKER, BTC, Side.BUY, OrderType.LIMIT, 0.01, 60000.0, TimeInForce.GTC)
    ex = make_gate(fut_srv.base, "swap")
    try:
        await ex.load_markets()
        market = ex.markets["BTC/USDT:USDT"]
        assert market["contractSize"] == 0.0001
        order = await ex.create_order("BTC/USDT:USDT", "limit", "sell", 20, 60000)
        assert order["status"] == "closed" and order["filled"] == 20
        positions = await ex.fetch_positions(["BTC/USDT:USDT"])
        assert positions[0]["contracts"] == 20 and positions[0]["side"] == "short"
        resting = await ex.create_order("BTC/USDT:USDT", "limit", "buy", 5, 50000)
        cancelled = await ex.cancel_order(resting["id"], "BTC/USDT:USDT")
        assert cancelled["status"] == "canceled"
    finally:
        await ex.close()


async def test_ccxt_one_base_url_loads_spot_and_swap_and_trades_both(gate_host):
    """ccxt configured with Gate's one REST base URL (as for the live venue) loads spot and swap
    markets and currencies, reads both books, and places, queries and cancels on both."""
    gate_host.venue.place_order(MAKER, BTC, Side.SELL, OrderType.LIMIT, 0.05, 60000.0, TimeInForce.GTC)
    gate_host.futures_venue.place_order(MAKER, BTC, Side.BUY, OrderType.LIMIT, 0.01, 59000.0, TimeInForce.GTC)
    ex = make_gate(gate_host.base, "spot")
    ex.options["fetchMarkets"]["types"] = ["spot", "swap"]
    ex.has["fetchCurrencies"] = True
    try:
        await ex.load_markets()
        assert {"BTC/USDT", "BTC/USDT:USDT"} <= set(ex.markets)
        assert "USDT" in ex.currencies
        assert (await ex.fetch_order_book("BTC/USDT"))["asks"][0] == [60000.0, 0.05]
        assert (await ex.fetch_order_book("BTC/USDT:USDT"))["bids"][0] == [59000.0, 100]
        for symbol, amount, price in (("BTC/USDT", 0.01, 50000), ("BTC/USDT:USDT", 3, 50000)):
            order = await ex.create_order(symbol, "limit", "buy", amount, price)
            fetched = await ex.fetch_order(order["id"], symbol)
            assert fetched["status"] == "open" and fetched["amount"] == amount
            cancelled = await ex.cancel_order(order["id"], symbol)
            assert cancelled["status"] == "canceled"
    finally:
        await ex.close()
