"""A bounded soak at a high event rate: the simulator's flow requotes six books and trades
every millisecond or so while the client places, gets filled and cancels. The client's state
is measured after a warm-up that fills the bounded caches, and at the end: it does not grow,
no task piles up, and not one event is lost (the state and books end equal to the venue's).

Memory is measured as the bytes reachable from the composite (its books, trackers, caches,
streams and clients), not as RSS: the simulator shares the process and its ground truth
grows by design; and tracemalloc would slow the run down fourfold, far from the event rate
that matters."""

from __future__ import annotations

import asyncio
import gc
import sys
import types
from collections import Counter
from dataclasses import replace

import pytest

from cexarb.model import Symbol
from cexarb.sim import SimConfig, Simulator
from cexarb.sim.flow import FlowParams
from tests.support import eventually

from .rig import BTC, MARKETS, SETTINGS, Ledger, assert_truth, book_mismatches, make_exchange, quiesce, trade

BOOKS = ("BTC/USDT", "ETH/USDT", "SOL/USDT", "XRP/USDT", "DOGE/USDT", "ADA/USDT")
# Small bounded caches, so that the warm-up fills them and any later growth is a leak.
SOAK_SETTINGS = replace(SETTINGS, executed_cache_size=5, seen_trades=20)
HEAVY_FLOW = FlowParams(interval_s=0.001, levels=10, requote_probability=1.0, take_probability=0.8)
# Far below what one retained object per event would add (thousands of events per second).
GROWTH_LIMIT_BYTES = 256 * 1024
_NOT_STATE = (type, types.ModuleType, types.FunctionType, types.BuiltinFunctionType, types.CodeType, asyncio.AbstractEventLoop)  # fmt: skip


def reachable_bytes(root, *skip) -> Counter[str]:
    """Bytes of every object reachable from `root` by type, stopping at code, classes, the loop
    and `skip` (the test's own listeners, which keep everything on purpose)."""
    gc.collect()
    seen = {id(root), *map(id, skip)}
    stack = [root]
    sizes: Counter[str] = Counter()
    while stack:
        obj = stack.pop()
        sizes[type(obj).__name__] += sys.getsizeof(obj, 0)
        for ref in gc.get_referents(obj):
            if id(ref) not in seen and not isinstance(ref, _NOT_STATE):
                seen.add(id(ref))
                stack.append(ref)
    return sizes


class EventCounter:
    """What the venue core emitted, by kind."""

    def __init__(self) -> None:
        self.counts: dict[str, int] = {}

    def __call__(self, event) -> None:
        kind = type(event).__name__
        self.counts[kind] = self.counts.get(kind, 0) + 1

    def since(self, before: dict[str, int]) -> dict[str, int]:
        return {k: v - before.get(k, 0) for k, v in self.counts.items()}


def book_lag(ex, sim, market) -> int:
    """Sequence ids the venue is ahead of the client's BTC book (-1: not synced)."""
    book = ex.get_book(BTC)
    return sim.venue(market).book_id(BTC) - book.update_id if book is not None else -1


@pytest.mark.parametrize("market", MARKETS)
async def test_soak_at_high_event_rate(exchanges, length, figures, market):
    config = SimConfig(
        seed=5, symbols=BOOKS, venues=(market,), admin=False, flow=True, flow_params=HEAVY_FLOW
    )
    async with Simulator(config) as sim:
        events = EventCounter()
        sim.venue(market).subscribe(events)
        ex = make_exchange(sim, market, SOAK_SETTINGS)
        exchanges.append(ex)
        ledger = Ledger()
        ex.add_private_listener(ledger)
        await asyncio.wait_for(ex.initialize([Symbol.parse(s) for s in BOOKS]), 30)

        warm = await trade(ex, max(1.0, length.seconds / 6), pace_s=0.01)
        await eventually(lambda: ex.get_trading_stats()["executed_evicted"] > 0, what="caches not full yet")
        start_bytes, start_tasks = reachable_bytes(ex, ledger), len(asyncio.all_tasks())
        start_events, start_client = dict(events.counts), ex.get_trading_stats()["events_processed"]
        start_lag = book_lag(ex, sim, market)
        loop = asyncio.get_running_loop()
        began = loop.time()
        done = await trade(ex, 2 * length.seconds if length.long else length.seconds, pace_s=0.01, seed=2)
        elapsed = loop.time() - began
        end_lag = book_lag(ex, sim, market)
        end_bytes, end_tasks = reachable_bytes(ex, ledger), len(asyncio.all_tasks())
        soak_events = events.since(start_events)
        client_events = ex.get_trading_stats()["events_processed"] - start_client

        await quiesce(ex, sim, market)
        await assert_truth(ex, sim, market, ledger)
        await eventually(
            lambda: not book_mismatches(ex, sim, market), what=lambda: book_mismatches(ex, sim, market)
        )
        growth = end_bytes.total() - start_bytes.total()
        grew = (end_bytes - start_bytes).most_common(5)
        assert growth < GROWTH_LIMIT_BYTES, f"client state grew by {growth} bytes: {grew}"
        assert end_tasks <= start_tasks + 5, f"tasks piled up: {start_tasks} -> {end_tasks}"
        assert sim.stats(market)["rate_limited_429"] == 0, "our own pacing ran into the venue's limits"
        truth = sim.truth(market, "k1")
        total = sum(soak_events.values())
        figures.update(
            market=market,
            seconds=round(elapsed, 1),
            venue_events=total,
            venue_events_per_s=round(total / elapsed),
            client_events_per_s=round(client_events / elapsed),
            by_kind=soak_events,
            orders=len(truth.orders),
            fills=len(truth.fills),
            placed=warm.placed + done.placed,
            state_kib_start=start_bytes.total() // 1024,
            state_growth_kib=growth // 1024,
            tasks=(start_tasks, end_tasks),
            book_lag_ids=(start_lag, end_lag),
            mismatches=0,
        )
