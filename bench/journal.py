"""Journal rows: what journaling costs the hot path (one `record` per event), and how fast
the background writer drains batches into SQLite (off the hot path, for scale)."""

from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path

from bench.harness import Report, Row, time_per_call_us
from cexarb.arb import journaling
from cexarb.arb.opportunity import Candidate, Chunk, Kind, VenueBook
from cexarb.journal import Fill, Journal, JournalListener
from cexarb.journal.backends import SqliteBackend
from cexarb.model import Execution, Order, OrderStatus, OrderType, Side, Symbol, SymbolInfo

BTC = Symbol("BTC", "USDT")
_GOAL = "<= 1 us"


def _execution(i: int) -> Execution:
    return Execution(
        BTC, str(i), "o1", "c1", Side.BUY, 60_000.0, 0.01, 0.012, "USDT", False, 1_700_000_000_000
    )


def _candidate() -> Candidate:
    info = SymbolInfo(BTC, "BTCUSDT", 0.01, 0.0001)
    buy = VenueBook("mexc_spot", info, [(59_990.0, 1.0)], [(60_000.0, 1.0)], 5.0, True)
    sell = VenueBook("gateio_spot", info, [(60_300.0, 1.0)], [(60_310.0, 1.0)], 5.0, True)
    return Candidate(Kind.SPOT_SPOT, BTC, buy, sell, 10.0, (Chunk(1.0, 60_000.0, 60_300.0),))


def run(report: Report, quick: bool) -> None:
    samples = 2_000 if quick else 20_000
    with tempfile.TemporaryDirectory() as tmp:
        # Never started: `record` only queues; the queue is large enough never to drop here.
        journal = Journal(SqliteBackend(Path(tmp) / "j.db"), max_queue=10**8)
        listener = JournalListener(journal, "mexc_spot")
        fill = _execution(1)
        order = Order(
            BTC,
            "o1",
            "c1",
            Side.BUY,
            OrderType.LIMIT,
            60_000.0,
            0.01,
            OrderStatus.FILLED,
            filled_quantity=0.01,
        )
        cand = _candidate()
        rows = (
            ("journal: fill recorded by the composite's listener", lambda: listener.on_execution(fill)),
            ("journal: order update recorded by the listener", lambda: listener.on_order(order)),
            (
                "journal: skipped decision built and recorded",
                lambda: journal.record(journaling.skipped(cand, "cooldown", 1.0)),
            ),
        )
        for name, fn in rows:
            med, p99, n = time_per_call_us(fn, samples, batch=10)
            journal._queue.clear()
            report.add(Row(name, "us", med, p99, n, goal=_GOAL, note="hot path: wrap the event and queue it"))
        report.add(_drain_row(Path(tmp) / "drain.db", 5_000 if quick else 50_000))


def _drain_row(path: Path, events: int) -> Row:
    async def drain() -> float:
        journal = Journal(SqliteBackend(path), batch_size=1000)
        await journal.start()
        fills = [Fill(ts=1.0, venue="mexc_spot", fill=_execution(i)) for i in range(events)]
        started = time.perf_counter()
        for ev in fills:
            journal.record(ev)
        await journal.flush()
        took = time.perf_counter() - started
        await journal.close()
        assert journal.stats.written == events
        return events / took

    rate = asyncio.run(drain())
    return Row(
        "journal: fills written to SQLite by the drainer",
        "ops/s",
        rate,
        None,
        events,
        note="background task: what is queued, one transaction per wake-up (off the hot path)",
    )
