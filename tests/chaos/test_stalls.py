"""A stream that goes silent without closing (sim.faults.stall_streams): the watchdog notices,
reconnects, and the reconnect sweep brings the state back to the venue's truth."""

from __future__ import annotations

import asyncio
import logging

import pytest

from tests.support import eventually

from .rig import (
    MARKETS,
    SYMBOLS,
    Ledger,
    assert_truth,
    book_mismatches,
    client_config,
    make_exchange,
    quiesce,
    trade,
)

SILENCE_S = 0.4  # the client's watchdog; each stall lasts longer than this


@pytest.mark.parametrize("market", MARKETS)
async def test_silent_streams_are_noticed_and_resynced(sim, exchanges, length, figures, market, caplog):
    caplog.set_level(logging.WARNING, logger="cexarb.transport")
    config = client_config(sim, silence_timeout_s=SILENCE_S, ping_interval_s=0.15)
    ex = make_exchange(sim, market, config=config)
    exchanges.append(ex)
    ledger = Ledger()
    ex.add_private_listener(ledger)
    await asyncio.wait_for(ex.initialize(SYMBOLS), 30)

    stall_s = 3 * SILENCE_S
    # Orders keep being placed and filled over REST while the streams say nothing.
    done = await trade(
        ex,
        max(length.seconds, 2 * stall_s),
        fault=lambda: sim.faults.stall_streams(market, stall_s),
        fault_every_s=stall_s + (1.0 if not length.long else 4.0),
    )
    await quiesce(ex, sim, market)
    await assert_truth(ex, sim, market, ledger)
    await eventually(
        lambda: not book_mismatches(ex, sim, market), what=lambda: book_mismatches(ex, sim, market)
    )

    # The heartbeat (protocol pings unanswered) or the silence watchdog (no data frame) closed
    # the silent connections; the reconnect sweep repaired what happened meanwhile.
    silent = [r for r in caplog.records if "ws_silent" in r.getMessage()]
    stats = ex.get_trading_stats()
    assert done.faults >= 1
    assert stats["private_disconnects"] >= done.faults, "a silent private stream went unnoticed"
    assert stats["private_reconnects"] >= 1
    assert await eventually(lambda: ex.get_trading_stats()["sweeps"] >= 1)  # may still be running
    # The public stream reconnects on its own; its resync may finish after the snapshot above.
    assert await eventually(
        lambda: ex.get_trading_stats()["public"]["book_resyncs"] >= 1, what="a public book resync"
    )
    truth = sim.truth(market, "k1")
    figures.update(
        market=market,
        stalls=done.faults,
        disconnects=stats["private_disconnects"],
        silence_watchdog=len(silent),
        orders=len(truth.orders),
        fills=len(truth.fills),
        reconnects=stats["private_reconnects"],
        mismatches=0,
    )
