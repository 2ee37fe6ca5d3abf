"""Tickers go stale with their stream (issue 14, defect 5): while the public stream is down the
composite serves no book and no ticker, and nothing sizes an order from them (Gate market buys
are sized from the book or the ticker); once the stream is back both are served again. After
close() every flag says closed (defect 4)."""

from __future__ import annotations

import asyncio

import pytest

from cexarb.model import Side
from cexarb.model.errors import InvalidOrder
from tests.support import eventually

from .rig import BTC, MARKETS, QTY, SYMBOLS, Ledger, assert_truth, make_exchange


@pytest.mark.parametrize("market", MARKETS)
async def test_tickers_go_stale_with_their_stream(sim, exchanges, figures, market):
    ex = make_exchange(sim, market)
    exchanges.append(ex)
    ledger = Ledger()
    ex.add_private_listener(ledger)
    await asyncio.wait_for(ex.initialize(SYMBOLS), 30)
    assert all(s in ex.book_tickers for s in SYMBOLS)

    sim.faults.reject_ws_connections(market, True)
    sim.faults.drop_streams(market)
    assert await eventually(lambda: not ex.is_book_synced(BTC))
    assert ex.book_tickers == {} and ex.get_order_book(BTC) is None
    placed_before = len(sim.truth(market, "k1").orders)
    refused = 0
    if market == "gateio_spot":
        # A Gate market buy is sized in quote from the book or the ticker: neither is current.
        with pytest.raises(InvalidOrder, match="no ask"):
            await ex.place_market_order(BTC, Side.BUY, QTY[BTC])
        refused += 1
        assert len(sim.truth(market, "k1").orders) == placed_before  # nothing reached the venue

    sim.faults.reject_ws_connections(market, False)
    assert await eventually(lambda: all(ex.is_book_synced(s) and s in ex.book_tickers for s in SYMBOLS))
    if market == "gateio_spot":
        order = await ex.place_market_order(BTC, Side.BUY, QTY[BTC])
        assert order.status.is_done
    await assert_truth(ex, sim, market, ledger)
    # After close nothing keeps the state current: everything says so (defect 4).
    await ex.close()
    stats = ex.get_trading_stats()
    assert stats["state"] == "closed" and not ex.private_state_fresh
    assert set(stats["connections"].values()) == {"closed"}
    assert stats["connection_status"] == {"private_rest": False, "private_ws": False}
    assert ex.book_tickers == {} and ex.get_order_book(BTC) is None
    figures.update(market=market, orders_refused_while_stale=refused, mismatches=0)
