"""Fills while the composite initializes: nothing that happens between its REST loads and a
live private stream may be lost (issue 14, defect 1).

The venue holds every stream handshake, so the private stream cannot be live early, and fills
an order of ours at two moments: while the symbol rules load (before the private stream
exists) and right after the venue answered the open-orders load (the answer says NEW, the
order is FILLED before the reply even leaves)."""

from __future__ import annotations

import asyncio

import pytest
from aiohttp import web

from cexarb.model import OrderType, Side, TimeInForce
from tests.support import eventually

from .rig import BTC, MARKETS, QTY, SYMBOLS, Ledger, assert_truth, make_exchange

# The first public REST call of initialize (symbol rules), per venue.
RULES = ("/exchangeInfo", "/spot/currency_pairs", "/futures/usdt/contracts")


def open_orders_request(request: web.Request) -> bool:
    path = request.path
    return request.method == "GET" and (
        path.endswith("/openOrders")
        or path.endswith("/open_orders")
        or (path.endswith("/orders") and request.query.get("status") == "open")
    )


def rules_request(request: web.Request) -> bool:
    return request.method == "GET" and request.path.endswith(RULES)


@pytest.mark.parametrize("market", MARKETS)
async def test_fills_during_initialize_are_not_lost(quiet_sim, exchanges, figures, market):
    sim = quiet_sim
    venue = sim.venue(market)
    top = venue.snapshot(BTC, 1)
    tick = venue.markets[BTC].tick
    # Resting orders of ours at the top of each side, placed before the client starts.
    bought = venue.place_order(
        "k1", BTC, Side.BUY, OrderType.LIMIT, QTY[BTC], top.bids[0][0] + tick, TimeInForce.GTC
    )
    sold = venue.place_order(
        "k1", BTC, Side.SELL, OrderType.LIMIT, 2 * QTY[BTC], top.asks[0][0] - tick, TimeInForce.GTC
    )
    sim.faults.hold_ws_handshakes(market, 0.3)
    # Half of `sold` fills while the rules load (the private stream does not exist yet) ...
    sim.faults.after_rest(market, rules_request, lambda: sim.take(market, BTC, Side.BUY, QTY[BTC]))
    # ... and all of `bought` right after the venue answered the open-orders load.
    sim.faults.after_rest(market, open_orders_request, lambda: sim.take(market, BTC, Side.SELL, QTY[BTC]))

    ex = make_exchange(sim, market)
    exchanges.append(ex)
    ledger = Ledger()
    ex.add_private_listener(ledger)
    await asyncio.wait_for(ex.initialize(SYMBOLS), 30)
    sim.faults.hold_ws_handshakes(market, 0)
    assert sim.stats(market)["rest_hooks_run"] == 2

    truth = sim.truth(market, "k1")
    assert truth.orders[bought.order_id].status.is_done
    assert len(truth.fills) == 2
    await assert_truth(ex, sim, market, ledger)
    assert bought.order_id in ex.executed_orders[BTC]
    assert ex.open_orders[BTC][sold.order_id].filled_quantity == pytest.approx(QTY[BTC])
    # The confirming sweep ran and closed the gap; the state says fresh only once it is.
    assert await eventually(lambda: ex.get_trading_stats()["sweeps"] >= 1)
    assert ex.private_state_fresh
    figures.update(
        market=market,
        fills_during_init=len(truth.fills),
        fills_delivered=sum(ledger.fills.values()),
        fills_recovered=ex.get_trading_stats()["fills_recovered"],
        mismatches=0,
    )
