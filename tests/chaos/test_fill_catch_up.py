"""Hundreds of fills per symbol while the private stream is down: the catch-up after the outage
pages through the venue's fill history until the whole window is covered, and every fill
reaches `on_execution` exactly once (issue 14, defect 2: it read one page of 100).

Every venue's fill endpoint pages (MEXC myTrades by startTime, Gate spot my_trades by page,
Gate futures my_trades by offset), each page one request through the client's rate limiter:
the venue counts zero 429s."""

from __future__ import annotations

import asyncio
import math
from dataclasses import replace

import pytest
from aiohttp import web

from cexarb.model import Side
from tests.support import eventually

from .rig import MARKETS, SETTINGS, SYMBOLS, Ledger, assert_truth, make_exchange


def fills_request(request: web.Request) -> bool:
    return request.method == "GET" and request.path.endswith(("/myTrades", "/my_trades"))


def small_take(venue, symbol, price: float) -> float:
    """The smallest quantity the venue accepts from a taker, with some room above its minimum."""
    rules = venue.markets[symbol]
    step = rules.step
    need = max(rules.min_qty, step, 1.2 * rules.min_notional / price if rules.min_notional else 0.0)
    return round(math.ceil(need / step - 1e-9) * step, 10)


@pytest.mark.parametrize("market", MARKETS)
async def test_hundreds_of_fills_during_an_outage_are_each_delivered_once(
    quiet_sim, exchanges, figures, length, market
):
    sim = quiet_sim
    per_symbol = 600 if length.long else 250
    # No polling while down: the one catch-up after the outage must bring every fill.
    ex = make_exchange(sim, market, replace(SETTINGS, degraded_poll_s=3600))
    exchanges.append(ex)
    ledger = Ledger()
    ex.add_private_listener(ledger)
    await asyncio.wait_for(ex.initialize(SYMBOLS), 30)

    venue = sim.venue(market)
    takes = {}
    for symbol in SYMBOLS:
        top = venue.snapshot(symbol, 1)
        tick = venue.markets[symbol].tick
        price = top.bids[0][0] + tick
        takes[symbol] = small_take(venue, symbol, price)
        await ex.place_limit_order(symbol, Side.BUY, round(per_symbol * takes[symbol], 10), price)

    sim.faults.reject_ws_connections(market, True)
    sim.faults.drop_streams(market)
    assert await eventually(lambda: not ex.private_state_fresh)
    for symbol in SYMBOLS:
        for _ in range(per_symbol):
            await sim.take(market, symbol, Side.SELL, takes[symbol])
    truth = sim.truth(market, "k1")
    assert len(truth.fills) == per_symbol * len(SYMBOLS)

    pages = [0]
    sim.faults.after_rest(market, fills_request, lambda: pages.__setitem__(0, pages[0] + 1), count=10**9)
    sim.faults.reject_ws_connections(market, False)
    assert await eventually(lambda: ex.get_trading_stats()["sweeps"] >= 1 and ex.private_state_fresh)
    await assert_truth(ex, sim, market, ledger)
    assert all(n == 1 for n in ledger.fills.values())
    # The one-page catch-up would have read 100 per symbol; this took several pages each.
    assert pages[0] >= len(SYMBOLS) * math.ceil(per_symbol / 100)
    assert sim.stats(market)["rate_limited_429"] == 0
    figures.update(
        market=market,
        fills_during_outage=len(truth.fills),
        fills_delivered=sum(ledger.fills.values()),
        fills_recovered=ex.get_trading_stats()["fills_recovered"],
        fill_pages_read=pages[0],
        venue_429=0,
        mismatches=0,
    )
