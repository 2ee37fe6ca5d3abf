"""Bugs the chaos scenarios found, each pinned by the smallest reproduction."""

from __future__ import annotations

import asyncio

from cexarb.model import Side

from .rig import BTC, QTY, SYMBOLS, assert_truth, inside_price, make_exchange


async def test_gate_futures_margin_moves_reach_the_balance(quiet_sim, exchanges):
    # Gate pushes futures.balances only when the wallet total changes; an order's margin moving
    # between available and locked must still reach the client (it used to stay stale).
    sim = quiet_sim
    ex = make_exchange(sim, "gateio_futures")
    exchanges.append(ex)
    await asyncio.wait_for(ex.initialize(SYMBOLS), 30)
    before = sim.truth("gateio_futures", "k1").balances["USDT"]
    order = await ex.place_limit_order(BTC, Side.BUY, QTY[BTC], inside_price(ex, BTC, Side.BUY, -50))
    assert sim.truth("gateio_futures", "k1").balances["USDT"].locked > before.locked
    await assert_truth(ex, sim, "gateio_futures")
    await ex.cancel_order(BTC, order.order_id)
    await assert_truth(ex, sim, "gateio_futures")
