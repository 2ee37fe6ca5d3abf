"""A third-party MEXC client (ccxt, REST and pro WebSocket) against the simulator, base URLs changed only."""

from __future__ import annotations

import asyncio

import ccxt.pro as ccxt_pro  # a dev dependency: missing means a broken venv, not a skip
import pytest
from mexc_sim_helpers import BTC, KEY, MAKER, SECRET, rest_quote

from cexarb.model import Side
from cexarb.sim.mexc_push import PRIVATE_ORDERS
from cexarb.sim.mexc_spot import FRONT_END
from tests.support import eventually


@pytest.fixture
async def exchange(base_url):
    ex = ccxt_pro.mexc(
        {
            "apiKey": KEY,
            "secret": SECRET,
            "enableRateLimit": False,
        }
    )
    # Every URL ccxt knows is pointed at 127.0.0.1: spot at the simulator, the rest at a dead port,
    # so nothing can ever reach a real venue; ccxt always loads swap markets too, so skip that call.
    dead = "http://127.0.0.1:9"
    for section, urls in ex.urls["api"].items():
        ex.urls["api"][section] = {name: dead for name in urls}
    ex.urls["api"]["spot"] = {"public": base_url, "private": base_url}
    ex.urls["api"]["ws"] = {"spot": base_url.replace("http://", "ws://") + "/ws", "swap": "ws://127.0.0.1:9/"}

    async def no_swap_markets(params=None):
        return []

    ex.fetch_swap_markets = no_swap_markets
    try:
        yield ex
    finally:
        await ex.close()


async def test_ccxt_rest_round_trip(exchange, venue):
    rest_quote(venue, Side.SELL, 60000.0, 0.05)
    rest_quote(venue, Side.BUY, 59000.0, 0.05)
    markets = await exchange.load_markets()
    market = markets["BTC/USDT"]
    assert (
        market["active"] and market["precision"]["price"] == 0.1 and market["precision"]["amount"] == 0.0001
    )
    book = await exchange.fetch_order_book("BTC/USDT", 5)
    assert book["nonce"] == venue.book_id(BTC)
    assert book["asks"][0] == [60000.0, 0.05] and book["bids"][0] == [59000.0, 0.05]
    order = await exchange.create_order("BTC/USDT", "limit", "buy", 0.01, 58000, {"clientOrderId": "ccxt-1"})
    fetched = await exchange.fetch_order(order["id"], "BTC/USDT")
    assert fetched["status"] == "open" and fetched["clientOrderId"] == "ccxt-1" and fetched["amount"] == 0.01
    assert [o["id"] for o in await exchange.fetch_open_orders("BTC/USDT")] == [order["id"]]
    await exchange.cancel_order(order["id"], "BTC/USDT")
    assert (await exchange.fetch_order(order["id"], "BTC/USDT"))["status"] == "canceled"
    taker = await exchange.create_order("BTC/USDT", "limit", "buy", 0.02, 60000)
    assert (await exchange.fetch_order(taker["id"], "BTC/USDT"))["status"] == "closed"
    trades = await exchange.fetch_my_trades("BTC/USDT")
    assert [(t["price"], t["amount"], t["side"]) for t in trades] == [(60000.0, 0.02, "buy")]
    balance = await exchange.fetch_balance()
    assert balance["USDT"]["free"] == pytest.approx(100_000 - 1200)
    assert balance["BTC"]["total"] == pytest.approx(2.0 + 0.02 * (1 - 0.002))


async def test_ccxt_errors_are_typed(exchange):
    import ccxt

    await exchange.load_markets()
    with pytest.raises(ccxt.InsufficientFunds):
        await exchange.create_order("BTC/USDT", "limit", "buy", 10, 50000)
    with pytest.raises(ccxt.InvalidOrder):
        await exchange.create_order("BTC/USDT", "limit", "buy", 0.0001, 5000)
    exchange.secret = "wrong"
    with pytest.raises(ccxt.AuthenticationError):
        await exchange.fetch_balance()


async def test_ccxt_pro_order_book_and_private_orders(exchange, venue, app):
    rest_quote(venue, Side.SELL, 60000.0, 0.05)
    rest_quote(venue, Side.BUY, 59000.0, 0.05)
    await exchange.load_markets()

    # ccxt buffers 25 pushes before it fetches the REST snapshot, so move the book more than that
    moves = 40

    async def move_book():
        for i in range(moves):
            await asyncio.sleep(0.01)
            rest_quote(venue, Side.BUY, 59100.0 + i, 0.01)

    mover = asyncio.get_running_loop().create_task(move_book())
    book = await asyncio.wait_for(exchange.watch_order_book("BTC/USDT"), 5)
    while not (book["bids"] and book["bids"][0][0] == 59100.0 + moves - 1):
        book = await asyncio.wait_for(exchange.watch_order_book("BTC/USDT"), 5)
    await mover
    truth = venue.snapshot(BTC, 100)
    assert book["nonce"] == truth.update_id
    assert [tuple(level[:2]) for level in book["bids"]] == truth.bids

    watcher = asyncio.get_running_loop().create_task(exchange.watch_orders("BTC/USDT"))
    # ccxt fetches a listen key, connects and subscribes: the venue pushes only to subscribers.
    streams = app[FRONT_END].streams
    assert await eventually(
        lambda: PRIVATE_ORDERS in streams.subscriptions(KEY), what="ccxt's orders subscription"
    )
    venue.place_order(MAKER, BTC, Side.SELL, *_limit(60500.0))  # another account: not ours
    placed = await exchange.create_order("BTC/USDT", "limit", "sell", 0.01, 61000)
    orders = await asyncio.wait_for(watcher, 5)
    assert orders[-1]["id"] == placed["id"] and orders[-1]["status"] == "open"


def _limit(price: float):
    from cexarb.model import OrderType, TimeInForce

    return OrderType.LIMIT, 0.01, price, TimeInForce.GTC
