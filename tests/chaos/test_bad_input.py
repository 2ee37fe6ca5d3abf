"""Bad input on every stream: malformed JSON, truncated protobuf, unknown channels, unknown
fields, wrong types, an order update for an order that does not exist, a book diff out of
sequence. Each is counted and logged once, the stream goes on, the state is not corrupted,
and a book gap triggers a resync."""

from __future__ import annotations

import asyncio
import logging
from collections import Counter

import pytest

from cexarb.model import Side
from tests.support import eventually

from .frames import FAKE_ORDER_ID, bad_frames, book_gap, unknown_order_update
from .rig import (
    BTC,
    MARKETS,
    QTY,
    SYMBOLS,
    Ledger,
    assert_truth,
    book_mismatches,
    make_exchange,
    quiesce,
    quoted_price,
    trade,
)

REPEAT = 3  # every bad frame is sent this many times: still logged once


def stream_bad_frames(ex) -> int:
    """Frames the streams refused or skipped as unroutable (each one counted)."""
    streams = ex.transport_stats()["ws"]
    stats = [streams["public"], streams["private"]]
    return sum(s.bad_frames + s.errors_by_kind.get("UnroutedChannel", 0) for s in stats)


@pytest.mark.parametrize("market", MARKETS)
async def test_bad_frames_are_counted_logged_once_and_contained(
    sim, exchanges, length, figures, market, caplog
):
    caplog.set_level(logging.WARNING)
    ex = make_exchange(sim, market)
    exchanges.append(ex)
    ledger = Ledger()
    ex.add_private_listener(ledger)
    await asyncio.wait_for(ex.initialize(SYMBOLS), 30)
    await trade(ex, 0.5)
    gaps_before = ex.get_public_stats()["book_gaps"]

    frames = bad_frames(sim, market)
    rounds = REPEAT if not length.long else 30
    for _ in range(rounds):
        for frame in frames.values():
            sim.faults.inject_ws_frame(market, frame)
        await asyncio.sleep(0.05)
    # Every bad frame reaches both streams; each stream counts every one it cannot use.
    assert await eventually(lambda: stream_bad_frames(ex) >= len(frames) * rounds)
    assert ex.transport_stats()["ws"]["private"].bad_frames >= rounds
    price = await quoted_price(ex, BTC, Side.BUY, 0)
    sim.faults.inject_ws_frame(market, unknown_order_update(sim, market, price, QTY[BTC]))
    sim.faults.inject_ws_frame(market, book_gap(sim, market))
    assert await eventually(lambda: ex.get_public_stats()["book_gaps"] > gaps_before)
    assert await eventually(lambda: ex.get_trading_stats()["unknown_order_updates"] >= 1)

    # The streams went on: orders still fill through them, books resync to the venue's.
    await trade(ex, max(1.0, length.seconds / 2))
    await quiesce(ex, sim, market)
    await assert_truth(ex, sim, market, ledger)  # no trace of the order that does not exist
    assert all(FAKE_ORDER_ID not in orders for orders in ex.executed_orders.values())
    await eventually(
        lambda: not book_mismatches(ex, sim, market), what=lambda: book_mismatches(ex, sim, market)
    )
    assert ex.get_public_stats()["book_resyncs"] >= 1

    # Logged once: no stream logged the same kind of bad frame twice.
    logged = Counter(
        (r.name, r.getMessage().split(" error=")[0], r.getMessage().split("error=")[1].split(":")[0])
        for r in caplog.records
        if "ws_bad_frame" in r.getMessage()
    )
    assert logged and max(logged.values()) == 1, logged
    composite_logged = Counter(
        r.getMessage() for r in caplog.records if "logged once per kind" in r.getMessage()
    )
    assert max(composite_logged.values(), default=1) == 1
    stats = ex.get_trading_stats()
    figures.update(
        market=market,
        bad_frames_injected=sim.stats(market)["frames_injected"],
        bad_frames_counted=stream_bad_frames(ex),
        unknown_order_updates=stats["unknown_order_updates"],
        book_gaps=stats["public"]["book_gaps"],
        book_resyncs=stats["public"]["book_resyncs"],
        mismatches=0,
    )
