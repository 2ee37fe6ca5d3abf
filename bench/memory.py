"""Resident memory: the tracker's caches stay bounded, and what an open order and a synced
book cost.

Each lifecycle is what a placed order goes through in the composite: recorded as pending
by client id, adopted by its first update (NEW), finished (FILLED) and moved to the bounded
executed cache, over three symbols, through the composite's own order handler.

The per-item rows hold many items at once and divide the RSS growth (after gc) by their
number; ccxt's equivalent (its unified order dicts, its OrderBook) is measured the same way
in the same process, on fewer items (they are larger), then scaled.
"""

from __future__ import annotations

import gc
import time

from bench import frames, peers
from bench.harness import Report, Row
from bench.hotpath import _config
from cexarb.exchange import book as book_module
from cexarb.exchange.book import BookSync
from cexarb.exchange.gateio_spot import GateioSpotPrivateExchange
from cexarb.model import Market, Order, OrderBook, OrderStatus, OrderType, Side, Symbol, TimeInForce, Venue

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


def _grown_mb(build) -> tuple[float, object]:
    """RSS growth (MB) while `build()` runs, and what it built (kept alive until measured)."""
    gc.collect()
    before = rss_mb()
    kept = build()
    gc.collect()
    return rss_mb() - before, kept


def _open_orders(count: int) -> GateioSpotPrivateExchange:
    ex = GateioSpotPrivateExchange(_config(Venue.GATEIO, Market.SPOT))
    handle = ex._handle_order
    for i in range(count):
        cid = f"t-open{i:09d}"
        ex._tracker.add_pending(Order(SYMBOLS[i % 3], "", cid, Side.BUY, OrderType.LIMIT, 100.0, 1.0, OrderStatus.PENDING_NEW))  # fmt: skip
        handle(Order(SYMBOLS[i % 3], str(500_000_000 + i), cid, Side.BUY, OrderType.LIMIT, 100.0 + i % 1000 * 0.1,
                     1.0, OrderStatus.NEW, TimeInForce.GTC, 0.0, 1.0, 0.0, 0.0, "", 1_760_000_000_000 + i,
                     1_760_000_000_000 + i))  # fmt: skip
    if ex._tracker.open_count() != count:
        raise RuntimeError(f"{ex._tracker.open_count()} of {count} orders open")
    return ex


def _ccxt_orders(count: int) -> dict:
    """ccxt's unified order dicts (parse_order of the same spot.orders items), kept by id."""
    ex = peers.gate()
    market = ex.market("BTC/USDT")
    items = [peers.json_loads(f)["result"][0] for f in frames.gate_spot_orders(count)[::3]]
    return {o["id"]: o for o in (ex.parse_order(item, market) for item in items)}


def _books(count: int, script: frames.BookScript) -> list[BookSync]:
    snapshot = OrderBook(SYMBOLS[0], list(script.bids), list(script.asks), script.snapshot_id)
    out = []
    for _ in range(count):
        sync = BookSync(SYMBOLS[0])
        if not sync.on_snapshot(snapshot):
            raise RuntimeError("bench book did not sync")
        out.append(sync)
    return out


def _ccxt_books(count: int, script: frames.BookScript) -> list:
    ex = peers.gate()
    snap = {"bids": [[p, q] for p, q in script.bids], "asks": [[p, q] for p, q in script.asks], "nonce": 1}
    return [ex.order_book(snap) for _ in range(count)]


def per_item_rows(report: Report, quick: bool) -> None:
    script = frames.gate_book_updates(1, 2)
    count = 5_000  # books first: RSS freed by an earlier row would be reused and hide their cost
    for ladder, title in (
        (book_module.Ladder, "compiled ladder"),
        (book_module.PyLadder, "pure-Python ladder"),
    ):
        if ladder is book_module.PyLadder and book_module.Ladder is book_module.PyLadder:
            continue
        saved, book_module.Ladder = book_module.Ladder, ladder
        try:
            grown, kept = _grown_mb(lambda: _books(count, script))
        finally:
            book_module.Ladder = saved
        row = Row(
            f"memory: RSS per synced 100-level book ({title})",
            "KB",
            grown * 1024 / count,
            None,
            count,
            goal="(reported)",
            note=f"{count:,} BookSync objects, each synced to a 100-level snapshot per side",
        )
        if peers.AVAILABLE:
            theirs, _ = _grown_mb(lambda: _ccxt_books(count, script))
            row.peer = "ccxt OrderBook from the same snapshot"
            row.peer_median = theirs * 1024 / count
        del kept  # only now: memory freed before the peer's row would be reused by it
        report.add(row)

    orders = 100_000
    grown, kept = _grown_mb(lambda: _open_orders(orders))
    row = Row(
        "memory: RSS per 100,000 open orders in the tracker",
        "MB",
        grown,
        None,
        orders,
        goal="(reported)",
        note=f"{grown * 1024 * 1024 / orders:,.0f} bytes per order (Order struct, its strings, the dict entries)",
    )
    if peers.AVAILABLE:
        n = 10_000 if quick else 30_000
        theirs, _ = _grown_mb(lambda: _ccxt_orders(n))
        row.peer = f"ccxt parse_order dicts by id ({n:,}, scaled to 100,000)"
        row.peer_median = theirs * orders / n
    del kept
    report.add(row)


def run(report: Report, quick: bool) -> None:
    per_item_rows(report, quick)
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
