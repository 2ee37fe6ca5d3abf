"""A REST-tier order lookup costs about one round trip whatever else is pending on the symbol
(issue 14, defect 3: resolving a lost place held the symbol's lock through its lookups and
sleeps, and a lookup for another order of the symbol waited behind all of it).

The venue holds a place request past the client's timeout, so the client resolves it by client
id, sleeping between lookups; meanwhile the client looks up an order it never saw."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest

from cexarb.model import OrderType, Side, TimeInForce
from cexarb.model.errors import OrderStatusUnknown
from tests.support import eventually

from .rig import BTC, MARKETS, QTY, SETTINGS, SYMBOLS, Ledger, assert_truth, client_config, make_exchange


@pytest.mark.parametrize("market", MARKETS)
async def test_a_lookup_does_not_wait_behind_a_lost_place_being_resolved(
    quiet_sim, exchanges, figures, market
):
    sim = quiet_sim
    # Long sleeps between the lost place's lookups, a short client timeout.
    settings = replace(SETTINGS, place_lookup_delay_s=1.0, lost_place_settle_s=0.5)
    ex = make_exchange(sim, market, settings, config=client_config(sim, request_timeout_s=0.3))
    exchanges.append(ex)
    ledger = Ledger()
    ex.add_private_listener(ledger)
    await asyncio.wait_for(ex.initialize(SYMBOLS), 30)
    venue = sim.venue(market)
    price = venue.snapshot(BTC, 1).bids[0][0] - 50 * venue.markets[BTC].tick
    elsewhere = venue.place_order("k1", BTC, Side.BUY, OrderType.LIMIT, QTY[BTC], price, TimeInForce.GTC)

    sim.faults.delay_next_rest(market, 1, 1.0)  # the place: held past the client's timeout
    placing = asyncio.create_task(ex.place_limit_order(BTC, Side.BUY, QTY[BTC], price))
    assert await eventually(lambda: ex.get_trading_stats()["places_unknown"] == 1)  # now resolving
    found = await asyncio.wait_for(ex.get_active_order(BTC, elsewhere.order_id), 30)
    resolving_meanwhile = not placing.done()
    assert found is not None and found.order_id == elsewhere.order_id
    assert resolving_meanwhile  # answered while the lost place was still being resolved
    try:
        placed = await placing
    except OrderStatusUnknown:
        placed = None  # it may land later: settled on the timer
    assert await eventually(lambda: not ex.pending_orders)
    await assert_truth(ex, sim, market, ledger)
    figures.update(market=market, lookup_answered_while_resolving=resolving_meanwhile,
                   lost_place_resolved=placed is not None, mismatches=0)  # fmt: skip
