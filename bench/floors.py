"""Tick-to-trade floors: how fast can a Python bot answer the crossing at all?

The tick-to-trade row's setup (bench/ticktotrade.py: the simulator in its own process opens
a Gate/MEXC crossing every 250 ms), with bots that do less than cexarb's engine, each in a
fresh process of its own with cexarb's connectors for the books, and the ccxt.pro peer in
the same run for the ratio. Each reacts in the callback of the frame that brought the
crossing (the same cross test as the engine's reflex) and stamps each request when it is
handed to the socket, against the frame's read time (`ticks.frame_ns`):

- `write`: two requests built before the run, written to raw sockets. No order at all: the
  least any Python bot does (frame read, codec, book, cross test, two writes).
- `lane`: both composites' `place_limit_order_now` in that callback (two real IOC orders,
  each tracked, built, signed and written before the call returns): the library's order
  lane as a user calls it, with no engine.
- `lane, kept warm`: the same, and while armed, continuously (a loop pass between rounds: a
  core), each composite's `limit_order_bytes` builds and signs both orders without writing
  them, so that code and its data are in the CPU's caches when the crossing comes.
- `connectors`: both composites' `place_limit_order`, each started as an eager task in that
  callback (the coroutine path, which writes as soon as it needs no wait).

The engine's own rows (decide, reserve, then the lane) are the tick-to-trade rows.
"""

from __future__ import annotations

import asyncio
import contextlib
import statistics
import time
from urllib.parse import urlparse

from bench import peers
from bench.harness import Report, Row, percentile
from bench.ticktotrade import BTC, CROSS_QTY, _bot_process, _Child, _sim_process, give_core, trading_venues
from cexarb import eventloop
from cexarb.model import Side, TimeInForce
from cexarb.transport import ticks

MODES = ("write", "lane", "lane, kept warm", "connectors")
# The crossing's prices (ticktotrade's quotes): MEXC's ask is bought, Gate's crossing bid sold.
_BUY_MEXC, _SELL_GATE = 60_010.0, 60_600.0


class _FloorBot:
    """Watches both books through cexarb's composites; on a crossing, sends as its mode says."""

    def __init__(self, venues: dict, mode: str) -> None:
        self.gate, self.mexc = venues["gateio_spot"], venues["mexc_spot"]
        self.mode = mode
        self.armed = False
        self.busy = False
        self.f2o_us: list[float] = []
        self.crossings = 0
        self.errors: list[str] = []
        self._writers: list[asyncio.StreamWriter] = []
        self._loop = asyncio.get_running_loop()
        self._warm: asyncio.Task | None = None

    async def start(self) -> None:
        if self.mode == "write":
            for venue in (self.mexc, self.gate):
                url = urlparse(venue.config.rest_url)
                _, writer = await asyncio.open_connection(url.hostname, url.port)
                self._writers.append(writer)
        if self.mode == "lane, kept warm":
            self._warm = asyncio.create_task(self._keep_warm())
        for venue in (self.gate, self.mexc):
            venue.add_listener(self)

    async def close(self) -> None:
        if self._warm is not None:
            self._warm.cancel()
            await asyncio.gather(self._warm, return_exceptions=True)
        for writer in self._writers:
            writer.close()

    # -- the composites' public callbacks --------------------------------------------------------
    def on_book(self, symbol) -> None:
        self._check()

    def on_book_ticker(self, ticker) -> None:
        self._check()

    def _check(self) -> None:
        if not self.armed or self.busy:
            return
        gate, mexc = self.gate.get_book(BTC), self.mexc.get_book(BTC)
        if gate is None or mexc is None:
            return
        bid, ask = gate.best_bid, mexc.best_ask
        if bid is None or ask is None or bid[0] <= ask[0]:
            return
        self.busy = True
        self.crossings += 1
        frame_ns = ticks.frame_ns or time.perf_counter_ns()
        sent = self._fire()
        self.f2o_us += [(ns - frame_ns) / 1e3 for ns in sent]
        self._loop.call_later(0.1, self._release)

    def _release(self) -> None:
        self.busy = False

    # -- the modes ------------------------------------------------------------------------------
    def _fire(self) -> list[int]:
        if self.mode == "write":
            sent = []
            for writer in self._writers:
                writer.write(b"GET /api/v3/ping HTTP/1.1\r\nHost: sim\r\n\r\n")
                sent.append(time.perf_counter_ns())
            return sent
        origin = ticks.TickOrigin(0)
        token = ticks.ORIGIN.set(origin)  # the writes below note their time in it
        try:
            for venue, side, price in self._legs():
                if self.mode == "connectors":
                    placing = eventloop.start_eager(
                        venue.place_limit_order(BTC, side, CROSS_QTY, price, time_in_force=TimeInForce.IOC)
                    )
                else:
                    placing = venue.place_limit_order_now(
                        BTC, side, CROSS_QTY, price, time_in_force=TimeInForce.IOC
                    )
                    if placing is None:
                        self.errors.append("the lane could not write at once")
                        continue
                    placing = asyncio.ensure_future(placing)
                placing.add_done_callback(self._settled)
        finally:
            ticks.ORIGIN.reset(token)
        return origin.sent_ns

    def _legs(self):
        return ((self.mexc, Side.BUY, _BUY_MEXC), (self.gate, Side.SELL, _SELL_GATE))

    async def _keep_warm(self) -> None:
        while True:
            # A loop pass while armed (a timer below 1 ms is not honoured: uvloop returns at
            # once, which would spin when not armed too); else idle.
            await asyncio.sleep(0 if self.armed else 0.01)
            if self.armed and not self.busy:
                for venue, side, price in self._legs():
                    venue.limit_order_bytes(BTC, side, CROSS_QTY, price, time_in_force=TimeInForce.IOC)

    def _settled(self, future: asyncio.Future) -> None:
        if not future.cancelled() and future.exception() is not None:
            self.errors.append(repr(future.exception())[:200])


def _floor_process(conn, mode: str, config, loop: str) -> None:
    eventloop.run(_floor_main(conn, mode, config), loop)


async def _floor_main(conn, mode: str, config) -> None:
    """Connect, then obey the parent: ("arm", bool), ("stats",), None to stop."""
    venues = trading_venues(config)
    bot = None
    try:
        await asyncio.gather(*(ex.initialize([BTC]) for ex in venues.values()))
        bot = _FloorBot(venues, mode)
        await bot.start()
        conn.send("up")
        loop = asyncio.get_running_loop()
        while True:
            command = await loop.run_in_executor(None, conn.recv)
            if command is None:
                return
            if command[0] == "arm":
                bot.armed = command[1]
                conn.send("ok")
            elif command[0] == "stats":
                conn.send({"f2o": bot.f2o_us, "errors": bot.errors, "crossings": bot.crossings})
    finally:
        if bot is not None:
            await bot.close()
        for ex in venues.values():
            with contextlib.suppress(Exception):
                await ex.close()


async def _measure(report: Report, quick: bool) -> None:
    loop_name = eventloop.loop_name()
    events, interval_s = (10, 0.25) if quick else (30, 0.25)
    children: list[_Child] = []
    figures: dict[str, dict] = {}
    try:
        sim = _Child(_sim_process, loop_name)
        children.append(sim)
        configs = await sim.recv()
        peer = None
        if peers.AVAILABLE:
            peer = _Child(_bot_process, "ccxt", configs["ccxt"], loop_name)
            children.append(peer)
            if await peer.recv() != "up":
                raise RuntimeError("the peer bot did not come up")
            await sim.ask(("warm",))
            async with asyncio.timeout(15):
                while not await peer.ask(("synced",)):
                    await asyncio.sleep(0.05)
            give_core(peer, children)
            await peer.ask(("arm", True))
            await sim.ask(("run", "ccxt", events, interval_s))
            await peer.ask(("arm", False))
            figures["peer"] = await peer.ask(("stats",))
        for mode in MODES:
            bot = _Child(_floor_process, mode, configs["cexarb"], loop_name)
            children.append(bot)
            if await bot.recv() != "up":
                raise RuntimeError(f"the {mode} bot did not come up")
            give_core(bot, children)
            await bot.ask(("arm", True))
            await sim.ask(("run", "cexarb", events, interval_s))
            await bot.ask(("arm", False))
            figures[mode] = await bot.ask(("stats",))
            bot.stop()
            children.remove(bot)
    finally:
        for child in reversed(children):
            child.stop()
    peer_f2o = figures.get("peer", {}).get("f2o") or []
    for mode in MODES:
        f2o, errors, crossings = (figures[mode][k] for k in ("f2o", "errors", "crossings"))
        # A request not written in the frame's callback (an eager task that had to wait) is
        # not stamped: say how many.
        late = 2 * crossings - len(f2o)
        if not f2o:
            raise RuntimeError(f"floor {mode}: nothing sent ({errors[:1]})")
        row = Row(
            f"tick to trade floor, {mode}: frame read -> request written, per request",
            "us",
            statistics.median(f2o),
            percentile(f2o, 0.99),
            len(f2o),
            note=f"{crossings} crossings, one every {interval_s * 1000:.0f} ms; max {max(f2o):,.0f} us"
            + (f"; {late} requests not written in the frame's callback (not counted)" if late else "")
            + (f"; {len(errors)} errors (first: {errors[0]})" if errors else ""),
        )
        if peer_f2o:
            row.peer = "the ccxt.pro bot of the tick-to-trade row, same run"
            row.peer_median, row.peer_p99 = statistics.median(peer_f2o), percentile(peer_f2o, 0.99)
        report.add(row)


def run(report: Report, quick: bool) -> None:
    """The floor rows, on cexarb's default event loop."""
    eventloop.run(_measure(report, quick))
