"""The venue's clock jumps beyond its receive window: the client detects the rejection,
resyncs its clock offset and succeeds, on REST and on the private stream's signed login."""

from __future__ import annotations

import asyncio

import pytest

from cexarb.model import Side

from .rig import BTC, MARKETS, QTY, SYMBOLS, Ledger, assert_truth, make_exchange, quiesce, quoted_price, trade

SKEW_MS = 90_000  # beyond MEXC's recvWindow (5 s) and Gate's 60 s signature window


@pytest.mark.parametrize("market", MARKETS)
async def test_clock_skew_is_detected_and_resynced(sim, exchanges, figures, market):
    sim.faults.skew_clock(market, SKEW_MS)  # already skewed at initialize
    ex = make_exchange(sim, market)
    exchanges.append(ex)
    ledger = Ledger()
    ex.add_private_listener(ledger)
    await asyncio.wait_for(ex.initialize(SYMBOLS), 30)
    await ex.place_limit_order(BTC, Side.BUY, QTY[BTC], await quoted_price(ex, BTC, Side.BUY, -5))

    sim.faults.skew_clock(market, -SKEW_MS)  # jumps the other way while running
    order = await ex.place_limit_order(BTC, Side.SELL, QTY[BTC], await quoted_price(ex, BTC, Side.SELL, -5))
    assert order.order_id in sim.truth(market, "k1").orders
    sim.faults.drop_streams(market)  # the stream logs in again, signed with the corrected clock
    await trade(ex, 1.0)
    await quiesce(ex, sim, market)
    await assert_truth(ex, sim, market, ledger)

    http = ex.transport_stats()["rest"]["private"]
    assert http.stats.clock_resyncs >= 1
    assert abs(http.clock.offset_ms + SKEW_MS) < 5_000  # the offset now follows the venue
    assert ex.get_trading_stats()["private_reconnects"] >= 1
    figures.update(
        market=market,
        clock_resyncs=http.stats.clock_resyncs,
        offset_ms=round(http.clock.offset_ms),
        mismatches=0,
    )
