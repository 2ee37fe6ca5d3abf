"""`--only reflex`: the tick-to-trade reflex's pieces, each called on its own, hot.

The tick-to-trade rows time the whole reflex in the bot's own process as a crossing comes;
here its pieces are timed one call at a time in a loop (code and data in the CPU's caches),
against the tick-to-trade row's simulator in a process of its own and its books (Gate's
ask above MEXC's, nothing crossing):

- decision: `ArmedDecisions.rehearse`, the prepared decision on the live books with one
  venue's best bid lifted above the other's best ask (each way in turn): what the reflex
  decides in the crossing frame's callback;
- rehearsal: `ArbEngine.rehearse`, that decision, the fleet asked dry and both orders
  written through the order lane to a dry connection (`rehearse_limit_order`: nothing
  sent): what the engine kept warm runs between frames;
- order lane: `place_limit_order_now` on each venue (an IOC order tracked, built, signed and
  written to the simulator; the call only, each after the previous order's reply), and
  `limit_order_bytes` (the same order built and signed, nothing written).

What the reflex costs in the bot beyond the sum of these is the frame's own handling (codec,
book, listeners) and the caches it finds cold.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Callable

from bench.harness import Report, Row, percentile
from bench.ticktotrade import BTC, CROSS_QTY, _cexarb_bot, _Child, _sim_process
from cexarb import eventloop
from cexarb.model import Side, TimeInForce

# Prices that rest on the simulator's books without trading (an IOC there expires at once).
_QUIET = {"mexc_spot": (Side.BUY, 50_000.0), "gateio_spot": (Side.SELL, 70_000.0)}


def _timed(call: Callable[[int], object], n: int) -> list[float]:
    """Microseconds per call of `call(i)` for i in range(n), each timed alone."""
    clock = time.perf_counter_ns
    out = []
    for i in range(n):
        t0 = clock()
        call(i)
        out.append((clock() - t0) / 1e3)
    return out


def _row(report: Report, name: str, values: list[float], note: str) -> None:
    warm = values[len(values) // 10 :]  # the first tenth warms the caches
    report.add(Row(name, "us", statistics.median(warm), percentile(warm, 0.99), len(warm), note=note))


async def _measure(report: Report, quick: bool) -> None:
    n = 500 if quick else 3000
    sim = _Child(_sim_process, eventloop.loop_name())
    try:
        configs = await sim.recv()
        engine, venues = await _cexarb_bot(configs["cexarb"])
        engine.trade = True
        stop = asyncio.Event()
        running = asyncio.create_task(engine.run(stop))
        try:
            await asyncio.sleep(0.2)  # a loop step: the decision prepared (ArmedDecisions.arm)
            armed = engine.armed
            decided = _timed(lambda i: armed.rehearse(BTC, i % 2 == 0), n)
            if armed.rehearse(BTC, False) is None:
                raise RuntimeError("reflex: the prepared decision chose no trade on the lifted book")
            _row(report, "reflex piece: the prepared decision on a crossed book, hot", decided, "")
            rehearsed = _timed(lambda i: engine.rehearse(BTC), n)
            _row(
                report,
                "reflex piece: a whole rehearsal (decision, fleet asked dry, two orders written to a dry connection), hot",
                rehearsed,
                "",
            )
        finally:
            engine.trade = False
            stop.set()
            await asyncio.wait_for(running, 5)
        for name, venue in venues.items():
            side, price = _QUIET[name]
            placed, built = [], []
            clock = time.perf_counter_ns
            for _ in range(n // 5):
                t0 = clock()
                placing = venue.place_limit_order_now(
                    BTC, side, CROSS_QTY, price, time_in_force=TimeInForce.IOC
                )
                took = (clock() - t0) / 1e3
                if placing is None:  # no connection idle yet: open one the usual way, not timed
                    await venue.place_limit_order(BTC, side, CROSS_QTY, price, time_in_force=TimeInForce.IOC)
                    continue
                placed.append(took)
                await placing
                t0 = clock()
                venue.limit_order_bytes(BTC, side, CROSS_QTY, price, time_in_force=TimeInForce.IOC)
                built.append((clock() - t0) / 1e3)
            if len(placed) < n // 10:
                raise RuntimeError(f"reflex: {name} wrote only {len(placed)} orders at once")
            note = "each call after the previous order's reply"
            _row(report, f"reflex piece: order lane, {name} place_limit_order_now (written)", placed, note)
            _row(report, f"reflex piece: order lane, {name} limit_order_bytes (built, signed)", built, note)
        for venue in venues.values():
            await venue.close()
    finally:
        sim.stop()


def run(report: Report, quick: bool) -> None:
    """The reflex piece rows, on cexarb's default event loop."""
    eventloop.run(_measure(report, quick))
