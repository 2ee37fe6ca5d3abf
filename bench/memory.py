"""Resident memory across many order lifecycles: the tracker's caches must stay bounded.

Each lifecycle is what a placed order goes through in the composite: recorded as pending
by client id, adopted by its first update (NEW), finished (FILLED) and moved to the bounded
executed cache, over three symbols, through the composite's own order handler.
"""

from __future__ import annotations

import gc
import time

from bench.harness import Report, Row
from bench.hotpath import _config
from cexarb.exchange.gateio_spot import GateioSpotPrivateExchange
from cexarb.model import Market, Order, OrderStatus, OrderType, Side, Symbol, TimeInForce, Venue

SYMBOLS = [Symbol("BTC", "USDT"), Symbol("ETH", "USDT"), Symbol("SOL", "USDT")]


def rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    return float("nan")


def _lifecycles(ex, start: int, count: int) -> None:
    handle, tracker = ex._handle_order, ex._tracker
    for i in range(start, start + count):
        symbol = SYMBOLS[i % 3]
        cid, oid = f"t-mem{i}", str(i)
        tracker.add_pending(
            Order(symbol, "", cid, Side.BUY, OrderType.LIMIT, 100.0, 1.0, OrderStatus.PENDING_NEW)
        )
        handle(Order(symbol, oid, cid, Side.BUY, OrderType.LIMIT, 100.0, 1.0, OrderStatus.NEW,
                     TimeInForce.GTC, 0.0, 1.0, 0.0, 0.0, "", i, i))  # fmt: skip
        handle(Order(symbol, oid, cid, Side.BUY, OrderType.LIMIT, 100.0, 1.0, OrderStatus.FILLED,
                     TimeInForce.GTC, 1.0, 0.0, 100.0, 0.001, "USDT", i, i + 1))  # fmt: skip


def run(report: Report, quick: bool) -> None:
    total = 100_000 if quick else 1_000_000
    ex = GateioSpotPrivateExchange(_config(Venue.GATEIO, Market.SPOT))
    gc.collect()
    before = rss_mb()
    warm = 10_000  # fills every executed cache once, so "before" already holds them at capacity
    _lifecycles(ex, 0, warm)
    gc.collect()
    at_capacity = rss_mb()
    t0 = time.perf_counter()
    _lifecycles(ex, warm, total - warm)
    seconds = time.perf_counter() - t0
    gc.collect()
    after = rss_mb()
    tracker = ex._tracker
    report.add(
        Row(
            f"memory: RSS after {total:,} order lifecycles through the tracker",
            "MB",
            after,
            None,
            total,
            goal="bounded (flat after the caches fill)",
            note=(
                f"RSS {before:.1f} MB before, {at_capacity:.1f} MB with the executed caches full "
                f"(after {warm:,}), {after:.1f} MB after {total:,}; tracker holds {tracker.open_count()} open, "
                f"{tracker.executed_count()} executed, {len(tracker.pending)} pending; "
                f"{tracker.evicted:,} evicted; {total / seconds:,.0f} lifecycles/s"
                + ("; QUICK: 100,000 lifecycles instead of 1,000,000" if quick else "")
            ),
        )
    )
