"""Streams dropped again and again while orders are placed, filled by the flow and canceled:
afterwards every order, fill, balance, position and book equals the simulator's truth."""

from __future__ import annotations

import asyncio

import pytest

from tests.support import eventually

from .rig import MARKETS, SYMBOLS, Ledger, assert_truth, book_mismatches, make_exchange, quiesce, trade


@pytest.mark.parametrize("market", MARKETS)
async def test_streams_dropped_repeatedly_lose_nothing(sim, exchanges, length, figures, market):
    ex = make_exchange(sim, market)
    exchanges.append(ex)
    ledger = Ledger()
    ex.add_private_listener(ledger)
    await asyncio.wait_for(ex.initialize(SYMBOLS), 30)

    every = 0.5 if not length.long else 3.0
    done = await trade(ex, length.seconds, fault=lambda: sim.faults.drop_streams(market), fault_every_s=every)

    await quiesce(ex, sim, market)
    await assert_truth(ex, sim, market, ledger)
    await eventually(
        lambda: not book_mismatches(ex, sim, market), what=lambda: book_mismatches(ex, sim, market)
    )
    assert await eventually(lambda: ex.get_trading_stats()["sweeps"] >= 1)
    truth = sim.truth(market, "k1")
    stats = ex.get_trading_stats()
    assert done.faults >= 1 and stats["private_reconnects"] >= 1
    assert truth.fills, "the flow filled none of our orders: the scenario proved nothing"
    assert not done.errors
    assert sim.stats(market)["rate_limited_429"] == 0, "our own pacing ran into the venue's limits"
    figures.update(
        market=market,
        seconds=length.seconds,
        drops=sim.stats(market)["streams_dropped"],
        orders=len(truth.orders),
        fills=len(truth.fills),
        reconnects=stats["private_reconnects"],
        fills_recovered=stats["fills_recovered"],
        book_resyncs=stats["public"]["book_resyncs"],
        events=stats["events_processed"],
        mismatches=0,
    )
