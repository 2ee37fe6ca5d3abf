"""Tick to trade against a peer bot: the simulator, in its own process, opens a cross-venue
spread on a fixed schedule; cexarb's engine and a minimal ccxt.pro bot each trade it.

The figure is the exchange's view, the same for both bots: from just before the simulator
publishes the crossing quote (a Gate spot bid ~1 % above MEXC's ask) to the arrival of
the bot's first order at the simulator's venue (its REST handler has the parsed, signed
request), on CLOCK_MONOTONIC (perf_counter_ns), which both processes share. It therefore
includes the simulator's own publishing and request parsing, equally for both bots.

The simulator and each bot run in a process of their own: cexarb's engine, the peer, and
cexarb's engine kept warm two ways (`ArbConfig.keep_warm_s`: it rehearses its reflex while
trading, every millisecond, or continuously: a core while trading).
Every bot stays connected and reads every frame for the whole run; only the one whose block
it is may trade (cexarb: `engine.trade`, which also stops the rehearsals; the peer: an armed
flag), in alternating blocks, so all see the same load; the bot whose block it is has the
machine's last CPU to itself (`give_core`). cexarb's own client-side figures (frame read ->
decision, frame read -> order request written: right after the socket's send, for the peer
too) come from its engine's stats over its blocks; each bot's CPU while trading from its own
process's CPU time over them.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import os
import statistics
import time
from collections.abc import Iterable
from dataclasses import replace

from bench import peers
from bench.harness import Report, Row, percentile
from cexarb import eventloop
from cexarb.arb.config import ArbConfig
from cexarb.arb.engine import ArbEngine
from cexarb.config import RateLimitPool
from cexarb.exchange.registry import create_exchange
from cexarb.model import Side, Symbol
from cexarb.sim import SimAccount, SimConfig, Simulator
from cexarb.transport import ticks

BTC = Symbol("BTC", "USDT")
# Gate's ask sits above the crossing bid, so the crossing quote rests instead of trading.
BASE_BID, BASE_ASK, GATE_ASK, CROSS_BID = 59_990.0, 60_010.0, 61_000.0, 60_600.0
DEPTH_QTY, CROSS_QTY = 5.0, 0.01
BOTS = {
    "cexarb": ("k1", "s1"),
    "ccxt": ("k2", "s2"),
    "cexarb-warm": ("k3", "s3"),
    "cexarb-continuous": ("k4", "s4"),
}
# The kept-warm engine's rehearsal period (ArbConfig.keep_warm_s); the environment may set
# another (CEXARB_BENCH_KEEP_WARM_MS=0.2: faster answers, most of a core spent on them).
KEEP_WARM_S = float(os.environ.get("CEXARB_BENCH_KEEP_WARM_MS", "1")) / 1e3
# The engine that rehearses continuously while trading (keep_warm_s below 1 ms: a whole core).
CONTINUOUS_S = 0.0001
_KEEP_WARM = {"cexarb": 0.0, "cexarb-warm": KEEP_WARM_S, "cexarb-continuous": CONTINUOUS_S}
VENUES = ("gateio_spot", "mexc_spot")
_UNLIMITED = {name: RateLimitPool(1_000_000, 1.0) for name in ("public", "default", "orders", "cancel")}


# ---- the simulator's process ----------------------------------------------------------------


def _sim_process(conn, loop: str) -> None:
    eventloop.run(_sim_main(conn), loop)


async def _base_quotes(sim: Simulator) -> None:
    for venue in VENUES:
        await sim.clear_quotes(venue, BTC)
        await sim.quote(venue, BTC, Side.BUY, BASE_BID, DEPTH_QTY)
        await sim.quote(venue, BTC, Side.SELL, GATE_ASK if venue == "gateio_spot" else BASE_ASK, DEPTH_QTY)


async def _sim_main(conn) -> None:
    accounts = tuple(
        SimAccount(key, secret, {"USDT": 10_000_000.0, "BTC": 100.0}) for key, secret in BOTS.values()
    )
    config = SimConfig(flow=False, seed_books=False, rate_limits=False, venues=VENUES, accounts=accounts)
    async with Simulator(config) as sim:
        arrivals: list[tuple[int, str]] = []
        keys = {key for key, _ in BOTS.values()}
        for name in VENUES:
            venue = sim.venue(name)
            place = venue.place_order

            def timed(key, *args, _place=place, **kwargs):
                if key in keys:
                    arrivals.append((time.perf_counter_ns(), key))
                return _place(key, *args, **kwargs)

            venue.place_order = timed  # this process only: the bench's clock on order arrival
        await _base_quotes(sim)
        conn.send({bot: sim.client_config(key) for bot, (key, _) in BOTS.items()})
        loop = asyncio.get_running_loop()
        while True:
            command = await loop.run_in_executor(None, conn.recv)
            if command is None:
                return
            if command[0] == "warm":  # book changes enough for ccxt to fetch its snapshots
                for i in range(40):
                    for venue in VENUES:
                        await sim.quote(venue, BTC, Side.BUY, 50_000.0 + i, 0.01)
                    await asyncio.sleep(0.01)
                conn.send("warm")
                continue
            _, bot, events, interval_s = command
            key = BOTS[bot][0]
            out = []
            next_at = time.monotonic()
            for _ in range(events):
                next_at += interval_s
                await asyncio.sleep(max(0.0, next_at - time.monotonic()))
                arrivals.clear()
                t0 = time.perf_counter_ns()
                await sim.quote("gateio_spot", BTC, Side.BUY, CROSS_BID, CROSS_QTY)
                deadline = time.monotonic() + interval_s * 0.8
                while len([a for a in arrivals if a[1] == key]) < 2 and time.monotonic() < deadline:
                    await asyncio.sleep(0.001)
                legs = sorted(t for t, k in arrivals if k == key)
                out.append([(t - t0) / 1e3 for t in legs[:2]])
                await asyncio.sleep(0.02)  # let the IOC legs and any hedge finish before resetting
                await _base_quotes(sim)
            conn.send(out)


# ---- the bots -----------------------------------------------------------------------------------


def trading_venues(config) -> dict:
    """Gate and MEXC spot composites on the simulator, without rate limits (not initialized)."""
    for key in ("gateio", "mexc"):
        cfg = config.get(key, "spot")
        config = config.with_venue(replace(cfg, rate_limits=dict(_UNLIMITED)))
    return {
        "gateio_spot": create_exchange("gateio", "spot", config),
        "mexc_spot": create_exchange("mexc", "spot", config),
    }


async def _cexarb_bot(config, keep_warm_s: float = 0.0):
    venues = trading_venues(config)
    await asyncio.gather(*(ex.initialize([BTC]) for ex in venues.values()))
    # Every crossing is bought on MEXC and sold on Gate, and Gate's mid sits ~80 bps above
    # MEXC's in these books (its wide ask), so each leg marked at its own venue's mid shows a
    # small loss after fees: neither the position limit nor the loss limit may end the run
    # (the peer has neither).
    arb = ArbConfig(
        symbols=(BTC,),
        enable_basis=False,
        cooldown_s=0.0,
        max_order_notional=1_000.0,
        max_position_notional=1e9,
        loss_limit=1e9,
        keep_warm_s=keep_warm_s,
    )
    engine = ArbEngine(venues, arb, trade=False)
    engine.attach()
    return engine, venues


class _PeerBot:
    """The minimal ccxt.pro arbitrage bot: watch_order_book on both venues; when Gate's best
    bid is above MEXC's best ask, create_order on both (IOC limit at those prices)."""

    def __init__(self, gate, mexc, frames: list[int]) -> None:
        self.gate, self.mexc = gate, mexc
        self._frames = frames
        self.books: dict[str, dict] = {}
        self.armed = False
        self.busy = False
        self.trades = 0
        self.errors: list[str] = []
        # Measured like cexarb's engine: from when ccxt's WS client was handed the frame the
        # bot reacts to (the last one before its decision) to each order request written.
        self.frame_ns = 0
        self.frame_to_decision_us: list[float] = []
        self.frame_to_order_sent_us: list[float] = []

    async def watch(self, name: str, ex) -> None:
        while True:
            self.books[name] = await ex.watch_order_book("BTC/USDT")
            self.check()

    def check(self) -> None:
        self.frame_ns = self._frames[0]
        gate, mexc = self.books.get("gate"), self.books.get("mexc")
        if not (self.armed and not self.busy and gate and mexc and gate["bids"] and mexc["asks"]):
            return
        bid, ask = gate["bids"][0][0], mexc["asks"][0][0]
        if bid > ask * 1.002:
            self.busy = True
            frame_ns = self.frame_ns
            self.frame_to_decision_us.append((time.perf_counter_ns() - frame_ns) / 1e3)
            asyncio.get_running_loop().create_task(self.trade(bid, ask, frame_ns))

    async def trade(self, bid: float, ask: float, frame_ns: int) -> None:
        origin = ticks.TickOrigin(frame_ns)
        ticks.ORIGIN.set(origin)
        try:
            await asyncio.gather(
                self.mexc.create_order("BTC/USDT", "limit", "buy", CROSS_QTY, ask, {"timeInForce": "IOC"}),
                self.gate.create_order("BTC/USDT", "limit", "sell", CROSS_QTY, bid, {"timeInForce": "IOC"}),
            )
            self.trades += 1
        except Exception as exc:  # noqa: BLE001 - recorded; the row says how many failed
            self.errors.append(repr(exc)[:200])
        finally:
            self.frame_to_order_sent_us += [(ns - frame_ns) / 1e3 for ns in origin.sent_ns[:2]]
            await asyncio.sleep(0.05)  # the crossing quote is gone by then
            self.busy = False


def _stamp_first_socket_write() -> None:
    """This process's aiohttp requests note (ticks.request_written) when their first bytes go
    to the socket: aiohttp buffers the head and writes it with the body from a task of its
    own, one loop pass after its headers-sent trace fires, so that trace would stamp early.
    Its transport is given no write-buffer room first, as cexarb's own connections have
    (transport.wire): on uvloop a buffered write reaches the socket only when the loop's batch
    of callbacks ends, so a stamp after transport.write would be early. Both bots' orders are
    stamped right after the socket's send."""
    from aiohttp.http_writer import StreamWriter

    def stamped(write):
        def wrapper(self, data):
            transport = self.transport
            if transport is not None and transport.get_write_buffer_limits()[1]:
                transport.set_write_buffer_limits(high=0)
            write(self, data)
            if not getattr(self, "_tick_stamped", False):
                self._tick_stamped = True
                ticks.request_written()

        return wrapper

    StreamWriter._write = stamped(StreamWriter._write)  # the peer's own process only
    StreamWriter._writelines = stamped(StreamWriter._writelines)


def _ccxt_exchanges(config, peer_frames: list[int]):
    """ccxt.pro gate and mexc on the simulator, their REST requests stamped when written to
    the socket, and every frame their WS clients take stamped into peer_frames[0]."""
    import aiohttp
    import ccxt.pro as ccxt_pro
    from ccxt.async_support.base.ws.client import Client

    handle = Client.handle_message

    def stamped(client, message):
        peer_frames[0] = time.perf_counter_ns()
        return handle(client, message)

    Client.handle_message = stamped  # this bot's own process only

    dead = "http://127.0.0.1:9"
    gate_cfg, mexc_cfg = config.get("gateio", "spot"), config.get("mexc", "spot")

    _stamp_first_socket_write()

    def session() -> aiohttp.ClientSession:
        return aiohttp.ClientSession()

    gate = ccxt_pro.gate(
        {
            "session": session(),
            "apiKey": gate_cfg.api_key.reveal(),
            "secret": gate_cfg.api_secret.reveal(),
            "enableRateLimit": False,
            "options": {"fetchMarkets": {"types": ["spot"]}, "unifiedAccount": False},
        }
    )
    gate.has["fetchCurrencies"] = False
    for scope in ("public", "private"):
        gate.urls["api"][scope] = {k: gate_cfg.rest_url for k in gate.urls["api"][scope]}
    # ccxt subscribes Gate's newer spot.obu channel, which the simulator does not serve; for a
    # URL that names gateeu it takes spot.order_book_update (cexarb's channel) instead.
    gate.urls["api"]["spot"] = gate_cfg.ws_url + "?gateeu"
    mexc = ccxt_pro.mexc(
        {"session": session(), "apiKey": mexc_cfg.api_key.reveal(), "secret": mexc_cfg.api_secret.reveal()}
    )
    mexc.options["enableRateLimit"] = False
    mexc.enableRateLimit = False
    for section, urls in mexc.urls["api"].items():
        if isinstance(urls, dict):
            mexc.urls["api"][section] = {name: dead for name in urls}
    mexc.urls["api"]["spot"] = {"public": mexc_cfg.rest_url, "private": mexc_cfg.rest_url}
    mexc.urls["api"]["ws"] = {"spot": mexc_cfg.ws_url, "swap": "ws://127.0.0.1:9/"}

    async def no_swap_markets(params=None):
        return []

    mexc.fetch_swap_markets = no_swap_markets
    return gate, mexc


# ---- each bot in a process of its own -------------------------------------------------------------


def _bot_process(conn, bot: str, config, loop: str) -> None:
    eventloop.run(_bot_main(conn, bot, config), loop)


async def _bot_main(conn, bot: str, config) -> None:
    """Connect, then obey the parent: ("arm", bool) lets the bot trade or not, ("stats",)
    returns its own figures, None stops it."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    tasks: list[asyncio.Task] = []
    closing: list = []
    engine = peer = None
    # CPU time this process used while it was armed, and for how long it was (wall).
    armed = {"cpu_s": 0.0, "wall_s": 0.0, "since": None}
    try:
        if bot.startswith("cexarb"):
            engine, venues = await _cexarb_bot(config, _KEEP_WARM[bot])
            closing += venues.values()
            tasks.append(asyncio.create_task(engine.run(stop)))
        else:
            frames = [0]
            gate, mexc = _ccxt_exchanges(config, frames)
            closing += (gate, mexc, gate.session, mexc.session)
            await asyncio.gather(gate.load_markets(), mexc.load_markets())
            peer = _PeerBot(gate, mexc, frames)
            tasks += [
                asyncio.create_task(peer.watch("gate", gate)),
                asyncio.create_task(peer.watch("mexc", mexc)),
            ]
        conn.send("up")
        while True:
            command = await loop.run_in_executor(None, conn.recv)
            if command is None:
                return
            if command[0] == "arm":
                if command[1]:
                    armed["since"] = (time.process_time(), time.monotonic())
                elif armed["since"] is not None:
                    cpu0, wall0 = armed["since"]
                    armed["cpu_s"] += time.process_time() - cpu0
                    armed["wall_s"] += time.monotonic() - wall0
                    armed["since"] = None
                if engine is not None:
                    engine.trade = command[1]
                else:
                    peer.armed = command[1]
                conn.send("ok")
            elif command[0] == "synced":
                synced = peer is None or len(peer.books) == 2
                for task in tasks:
                    if task.done() and not task.cancelled() and task.exception() is not None:
                        raise RuntimeError(f"{bot} bot: {task.exception()!r}")
                conn.send(synced)
            elif command[0] == "stats":
                if engine is not None:
                    conn.send(
                        {
                            "f2d": list(engine.stats.frame_to_decision_us),
                            "f2o": list(engine.stats.frame_to_order_sent_us),
                            "taken": engine.stats.taken,
                            "skipped": dict(engine.stats.skipped),
                            "halted": engine.risk.halt_reason if engine.risk.halted else "",
                            "pnl": {
                                name: (round(v.realized, 2), round(v.unrealized, 2), round(v.fees, 2))
                                for name, v in engine.pnl_snapshot().venues.items()
                            },
                            "outcomes": dict(engine.stats.outcomes),
                            "cpu": armed["cpu_s"] / max(armed["wall_s"], 1e-9),
                        }
                    )
                else:
                    conn.send(
                        {
                            "f2d": peer.frame_to_decision_us,
                            "f2o": peer.frame_to_order_sent_us,
                            "trades": peer.trades,
                            "errors": peer.errors,
                            "cpu": armed["cpu_s"] / max(armed["wall_s"], 1e-9),
                        }
                    )
    finally:
        stop.set()
        for task in tasks[1:] if engine is not None else tasks:
            task.cancel()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), 5)
        for ex in closing:
            with contextlib.suppress(Exception):
                await ex.close()


# ---- the row ------------------------------------------------------------------------------------


def _stats(values: list[float]) -> tuple[float, float, float]:
    return statistics.median(values), percentile(values, 0.99), max(values)


class _Child:
    """A spawned process and its pipe."""

    def __init__(self, target, *args) -> None:
        ctx = multiprocessing.get_context("spawn")
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=target, args=(child, *args), daemon=True)
        self.proc.start()

    async def recv(self):
        return await asyncio.get_running_loop().run_in_executor(None, self.conn.recv)

    async def ask(self, command):
        self.conn.send(command)
        return await self.recv()

    def stop(self) -> None:
        with contextlib.suppress(OSError):
            self.conn.send(None)
        self.proc.join(10)
        if self.proc.is_alive():
            self.proc.kill()


def give_core(active: _Child, children: Iterable[_Child]) -> None:
    """The bot about to trade alone on the machine's last CPU; the simulator and every other
    bot of the run on the others (nothing on a single-CPU machine). A real venue runs on other
    machines; here an order written to the socket wakes the simulator at once, and sharing the
    trading bot's core it took that core mid-reflex (docs/performance.md, part 8). The idle
    bots, which read the same crossing frames, would too."""
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) < 2:
        return
    for child in children:
        os.sched_setaffinity(child.proc.pid, cpus[-1:] if child is active else cpus[:-1])


async def bring_up(sim: _Child, bots: dict[str, _Child]) -> None:
    """Wait for every bot to connect, warm the simulator's books, then wait until every bot
    has both books."""
    for bot in bots.values():
        if await bot.recv() != "up":
            raise RuntimeError("a bot did not come up")
    await sim.ask(("warm",))
    async with asyncio.timeout(15):
        while not all([await bot.ask(("synced",)) for bot in bots.values()]):
            await asyncio.sleep(0.05)


async def _run(report: Report, quick: bool) -> None:
    loop_name = eventloop.loop_name()
    children: list[_Child] = []
    try:
        sim = _Child(_sim_process, loop_name)
        children.append(sim)
        configs = await sim.recv()
        bots = {"cexarb": _Child(_bot_process, "cexarb", configs["cexarb"], loop_name)}
        if peers.AVAILABLE:
            bots["ccxt"] = _Child(_bot_process, "ccxt", configs["ccxt"], loop_name)
        for name in ("cexarb-warm", "cexarb-continuous"):
            bots[name] = _Child(_bot_process, name, configs[name], loop_name)
        children += bots.values()
        await bring_up(sim, bots)
        events, blocks, interval_s = (10, 2, 0.25) if quick else (50, 2, 0.25)
        crossings: dict[str, list[list[float]]] = {name: [] for name in bots}
        for _ in range(blocks):
            for name, bot in bots.items():
                give_core(bot, children)
                await bot.ask(("arm", True))
                crossings[name] += await sim.ask(("run", name, events, interval_s))
                await bot.ask(("arm", False))
        figures = {name: await bot.ask(("stats",)) for name, bot in bots.items()}
    finally:
        for child in reversed(children):  # the bots first: the simulator's exit is no disconnect to them
            child.stop()
    setup = f"one crossing every {interval_s * 1000:.0f} ms; simulator and each bot in a process of their own"
    theirs, peer = crossings.get("ccxt"), figures.get("ccxt")
    _engine_rows(report, "", crossings["cexarb"], figures["cexarb"], theirs, peer, setup)
    label = f", kept warm (keep_warm_s {KEEP_WARM_S * 1e3:g} ms)"
    _engine_rows(report, label, crossings["cexarb-warm"], figures["cexarb-warm"], theirs, peer, setup)
    label = ", kept warm continuously (keep_warm_s below 1 ms: a core while trading)"
    _engine_rows(
        report, label, crossings["cexarb-continuous"], figures["cexarb-continuous"], theirs, peer, setup
    )


def _traded(legs: list[list[float]]) -> str:
    return f"{sum(1 for x in legs if x)} of {len(legs)} crossings traded"


def _engine_rows(
    report: Report, label: str, ours, engine: dict, theirs, peer: dict | None, setup: str
) -> None:
    """The client's and the venue's rows of one cexarb engine, the peer beside each."""
    if not engine["f2o"]:
        raise RuntimeError(
            f"tick to trade{label}: cexarb sent no order in {len(ours)} crossings: {engine['skipped']}"
        )
    med, p99, worst = _stats(engine["f2o"])
    f2d = engine["f2d"]
    row = Row(
        f"tick to trade (client){label}: frame read -> order request written, per order",
        "us",
        med,
        p99,
        len(engine["f2o"]),
        goal="p50 >= 10x lower than the peer, p99 < 1 ms",
        note=(
            f"{_traded(ours)} (engine skips: {engine['skipped'] or 'none'}"
            f"{'; halted: ' + engine['halted'] if engine['halted'] else ''}; outcomes {engine['outcomes']}; "
            f"pnl (realized, unrealized, fees) {engine['pnl']}); max {worst:,.0f} us; "
            f"frame read -> decision (every decision, the loop's after the crossing too) p50 {statistics.median(f2d):,.0f} / "
            f"p99 {percentile(f2d, 0.99):,.0f} us; CPU while trading {engine['cpu']:.0%} of a core; {setup}"
        ),
    )
    if peer is not None and peer["f2o"]:
        pmed, pp99, pworst = _stats(peer["f2o"])
        row.peer = (
            f"ccxt.pro bot (watch_order_book x2, create_order x2, frame stamped when its WS client takes it): "
            f"{_traded(theirs)}, p99 {pp99:,.0f} us, max {pworst:,.0f} us, frame -> decision p50 "
            f"{statistics.median(peer['f2d']):,.0f} us, CPU while trading {peer['cpu']:.0%} of a core"
            + (f", {len(peer['errors'])} order errors (first: {peer['errors'][0]})" if peer["errors"] else "")
        )
        row.peer_median, row.peer_p99 = pmed, pp99
    report.add(row)

    first = [legs[0] for legs in ours if legs]
    med, p99, worst = _stats(first)
    row = Row(
        f"tick to trade (venue's view){label}: crossing quote published -> first order at the simulator",
        "us",
        med,
        p99,
        len(first),
        note=f"{_traded(ours)}; max {worst:,.0f} us; includes the simulator publishing and parsing; {setup}",
    )
    peer_first = [legs[0] for legs in theirs or [] if legs]
    if peer_first:
        pmed, pp99, pworst = _stats(peer_first)
        row.peer = f"the ccxt.pro bot: {_traded(theirs)}, p99 {pp99:,.0f} us, max {pworst:,.0f} us"
        row.peer_median, row.peer_p99 = pmed, pp99
    report.add(row)


def run(report: Report, quick: bool, loop: str | None = None) -> None:
    """The tick-to-trade row on event loop `loop` (None: cexarb's default), the simulator's too."""
    saved = os.environ.get("CEXARB_LOOP")
    os.environ["CEXARB_LOOP"] = eventloop.loop_name(loop)
    try:
        eventloop.run(_run(report, quick))
    finally:
        if saved is None:
            os.environ.pop("CEXARB_LOOP", None)
        else:
            os.environ["CEXARB_LOOP"] = saved
