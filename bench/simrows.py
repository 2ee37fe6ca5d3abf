"""Rows against the simulator on 127.0.0.1: initialize, place round trip, sustained throughput.

The simulator shares the machine (and, for the first two rows, the event loop) with the
client, so these figures include its work too; they compare like with like (parallel vs
one-after-another initialize, composite vs bare aiohttp to the same endpoint). The
throughput row runs the simulator in its own process so the client's CPU time can be
measured on its own.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import statistics
import time
from dataclasses import replace

import aiohttp

from bench.harness import Report, Row, percentile
from cexarb import eventloop
from cexarb.config import Config, RateLimitPool, Secret, default_config
from cexarb.exchange.handlers import PrivateListener
from cexarb.exchange.registry import COMPOSITES, create_exchange
from cexarb.model import Market, Order, OrderStatus, Side, Symbol, Venue
from cexarb.sim import SimAccount, SimConfig, Simulator
from cexarb.transport.http import PreparedRequest, encode_params
from cexarb.venues.gateio.auth import GateSigner
from cexarb.venues.mexc.auth import API_KEY_HEADER, MexcSigner

SYMBOLS = [Symbol("BTC", "USDT"), Symbol("ETH", "USDT"), Symbol("SOL", "USDT")]
BTC = SYMBOLS[0]
VENUES = [("gateio", "spot"), ("gateio", "futures"), ("mexc", "spot")]
# A network round trip stand-in for the parallel-vs-sequential comparison (loopback has none).
REST_LATENCY_MS = 5
# The venues' own request budgets (Gate spot: 10 orders/s) are lifted: the simulator's limits are
# off too, and the round-trip row would otherwise measure the client's throttle.
_UNLIMITED = {name: RateLimitPool(1_000_000, 1.0) for name in ("public", "default", "orders", "cancel")}


def _client_config(sim: Simulator, api_key: str) -> Config:
    config = sim.client_config(api_key)
    for cfg in list(config.venues.values()):
        config = config.with_venue(replace(cfg, rate_limits=dict(_UNLIMITED)))
    return config


async def _sequential(coros) -> None:
    for coro in coros:
        await coro


def _one_after_another(cls: type) -> type:
    """The same composite with every parallel init group awaited step by step."""
    return type(f"Sequential{cls.__name__}", (cls,), {"_run_parallel": staticmethod(_sequential)})


async def _initialize_ms(config: Config, venue: str, market: str, sequential: bool) -> float:
    cls = COMPOSITES[(Venue(venue), Market(market))][1]
    ex = (_one_after_another(cls) if sequential else cls)(config.get(venue, market))
    t0 = time.perf_counter()
    await ex.initialize(SYMBOLS)
    elapsed = (time.perf_counter() - t0) * 1000.0
    await ex.close()
    return elapsed


async def initialize_rows(report: Report, sim: Simulator, runs: int) -> None:
    config = _client_config(sim, "k1")
    for venue, market in VENUES:
        key = f"{venue}_{market}"
        await _initialize_ms(config, venue, market, False)  # warm imports, connections, caches
        for latency_ms in (0, REST_LATENCY_MS):
            par, seq = [], []
            for _ in range(runs):  # alternated so both see the same machine load
                for sequential, out in ((False, par), (True, seq)):
                    if latency_ms:
                        sim.faults.delay_next_rest(key, 100_000, latency_ms / 1000.0)
                    out.append(await _initialize_ms(config, venue, market, sequential))
                    sim.venue(key).faults.clear()
            where = "loopback" if not latency_ms else f"+{latency_ms} ms per REST reply (injected)"
            report.add(
                Row(
                    f"initialize private composite, 3 symbols: {venue} {market}, {where}",
                    "ms",
                    statistics.median(par),
                    max(par),
                    runs,
                    peer="same steps one after another",
                    peer_median=statistics.median(seq),
                    peer_p99=max(seq),
                    goal="<= 50 ms" if not latency_ms else ">= 2x faster than sequential",
                    note="p99 column = worst run; ratio = sequential / parallel; simulator in the same loop",
                )
            )


# ---- place round trip ----------------------------------------------------------------------------


def _bare_gate(config, session: aiohttp.ClientSession, price: float):
    signer = GateSigner(config.api_key, config.api_secret)
    url_path = "/api/v4/spot/orders"
    origin = config.rest_url[: config.rest_url.index("/api/v4")]
    counter = iter(range(10**9))

    async def place() -> dict:
        body = (
            '{"currency_pair":"BTC_USDT","type":"limit","account":"spot","side":"buy",'
            f'"amount":"0.001","price":"{price}","time_in_force":"gtc","text":"t-bare{next(counter)}"}}'
        ).encode()
        prepared = PreparedRequest("POST", url_path, "", body, {"Content-Type": "application/json"})
        signer(prepared, int(time.time() * 1000))
        async with session.post(origin + url_path, data=body, headers=prepared.headers) as resp:
            return await resp.json()

    return place


def _bare_mexc(config, session: aiohttp.ClientSession, price: float):
    signer = MexcSigner(config.api_key, config.api_secret)
    counter = iter(range(10**9))

    async def place() -> dict:
        params = {
            "symbol": "BTCUSDT",
            "side": "BUY",
            "type": "LIMIT",
            "quantity": "0.001",
            "price": f"{price}",
            "newClientOrderId": f"bare{next(counter)}",
        }
        prepared = PreparedRequest("POST", "/api/v3/order", encode_params(params), b"", {})
        signer(prepared, int(time.time() * 1000))
        url = f"{config.rest_url}/api/v3/order?{prepared.query}"
        # MEXC answers 700013 to a write without this Content-Type, body or not (as the client sends)
        headers = {API_KEY_HEADER: prepared.headers[API_KEY_HEADER], "Content-Type": "application/json"}
        async with session.post(url, headers=headers) as resp:
            return await resp.json()

    return place


async def place_rows(report: Report, sim: Simulator, samples: int) -> None:
    config = _client_config(sim, "k1")
    # The bare requests trade on another account, so their pushes never reach the composite.
    bare_config = _client_config(sim, "k2")
    for venue, make_bare in (("gateio", _bare_gate), ("mexc", _bare_mexc)):
        ex = create_exchange(venue, "spot", config)
        await ex.initialize([BTC])
        price = round(sim.venue(f"{venue}_spot").mark_price(BTC) * 0.5, 1)  # far below any bid
        async with aiohttp.ClientSession() as session:
            bare = make_bare(bare_config.get(venue, "spot"), session, price)
            ours_us, bare_us = [], []
            for i in range(samples + 10):  # alternated; the first 10 warm both up
                t0 = time.perf_counter_ns()
                order = await ex.place_limit_order(BTC, Side.BUY, 0.001, price)
                t1 = time.perf_counter_ns()
                reply = await bare()
                t2 = time.perf_counter_ns()
                if (
                    order.status is not OrderStatus.NEW
                    or "code" in reply
                    and reply.get("code") not in (0, 200)
                ):
                    raise RuntimeError(f"place round trip on {venue}: {order.status} / {reply}")
                if i >= 10:
                    ours_us.append((t1 - t0) / 1000.0)
                    bare_us.append((t2 - t1) / 1000.0)
                if i % 50 == 49:  # keep the open-order count (and the sim's work per place) low
                    await ex.cancel_all_orders(BTC)
            await ex.cancel_all_orders(BTC)
        await ex.close()
        ours, peer = statistics.median(ours_us), statistics.median(bare_us)
        report.add(
            Row(
                f"place limit order round trip: {venue} spot (composite)",
                "us",
                ours,
                percentile(ours_us, 0.99),
                samples,
                peer="bare aiohttp POST, same endpoint, signed",
                peer_median=peer,
                peer_p99=percentile(bare_us, 0.99),
                goal="overhead ratio <= 1.3",
                note=f"overhead ratio (ours / bare) = {ours / peer:.2f}; simulator in the same event loop",
            )
        )


# ---- sustained throughput (simulator in its own process) -----------------------------------------


def _sim_process(conn, loop: str) -> None:
    eventloop.run(_sim_main(conn), loop)


async def _sim_main(conn) -> None:
    async with Simulator(SimConfig(flow=False, rate_limits=False, venues=("gateio_spot",))) as sim:
        urls = sim.urls["gateio_spot"]
        conn.send({"rest": urls.rest, "ws": urls.ws})
        loop = asyncio.get_running_loop()
        while True:
            command = await loop.run_in_executor(None, conn.recv)
            if command is None:
                return
            seconds = float(command)
            takes = 0
            end = time.monotonic() + seconds
            side = Side.BUY
            while time.monotonic() < end:
                # sim.take yields to the loop after each order, so every push is flushed.
                await sim.take("gateio_spot", BTC, side, 0.0001)
                side = Side.SELL if side is Side.BUY else Side.BUY
                takes += 1
            conn.send(takes)


class _Lag(PrivateListener):
    """Event-to-handler lag of order updates (venue timestamp -> handler), in ms."""

    def __init__(self) -> None:
        self.lags: list[tuple[float, float]] = []

    def on_order(self, order: Order) -> None:
        now = time.time() * 1000.0
        self.lags.append((now, now - order.updated_at))


async def throughput_row(report: Report, seconds: float) -> None:
    ctx = multiprocessing.get_context("spawn")
    parent, child = ctx.Pipe()
    proc = ctx.Process(target=_sim_process, args=(child, eventloop.loop_name()), daemon=True)
    proc.start()
    try:
        urls = await asyncio.get_running_loop().run_in_executor(None, parent.recv)
        base = default_config().get("gateio", "spot")
        cfg = replace(
            base, rest_url=urls["rest"], ws_url=urls["ws"], api_key=Secret("k1"), api_secret=Secret("s1")
        )
        cfg = replace(cfg, rate_limits=dict(_UNLIMITED))
        ex = create_exchange("gateio", "spot", default_config().with_venue(cfg))
        await ex.initialize([BTC])
        book = ex.get_book(BTC)
        bid, ask = book.best_bid[0], book.best_ask[0]
        # Our own resting orders inside the spread: every synthetic take fills one of them.
        await ex.place_limit_order(BTC, Side.SELL, 1.5, round(ask - 0.1, 1))
        await ex.place_limit_order(BTC, Side.BUY, 1.5, round(bid + 0.1, 1))
        lag = _Lag()
        ex.add_private_listener(lag)
        events0 = ex.get_trading_stats()["events_processed"]
        cpu0, wall0 = time.process_time(), time.perf_counter()
        parent.send(seconds)
        loop = asyncio.get_running_loop()
        takes = await loop.run_in_executor(None, parent.recv)
        await asyncio.sleep(0.3)  # let the last frames land
        wall = time.perf_counter() - wall0 - 0.3
        cpu = time.process_time() - cpu0
        events = ex.get_trading_stats()["events_processed"] - events0
        await ex.cancel_all_orders(BTC)
        await ex.close()
    finally:
        parent.send(None)
        proc.join(5)
        if proc.is_alive():
            proc.kill()
    quarter = max(1, len(lag.lags) // 4)
    early = statistics.median(x for _, x in lag.lags[:quarter]) if lag.lags else float("nan")
    late = statistics.median(x for _, x in lag.lags[-quarter:]) if lag.lags else float("nan")
    rate = events / wall
    report.add(
        Row(
            "sustained: events/s absorbed by one Gate spot composite from the simulator",
            "ops/s",
            rate,
            None,
            events,
            goal="no backlog growth",
            note=(
                f"{takes:,} synthetic takes in {seconds:.0f} s filling our resting orders; client CPU "
                f"{cpu / wall:.0%} of one core -> capacity ~{events / cpu:,.0f} events per CPU-second; "
                f"order-update lag median {early:.1f} ms (first quarter) vs {late:.1f} ms (last quarter)"
            ),
        )
    )


async def _run(report: Report, quick: bool) -> None:
    accounts = tuple(
        SimAccount(key, secret, {"USDT": 1_000_000.0, "BTC": 10.0, "ETH": 100.0, "SOL": 1000.0})
        for key, secret in (("k1", "s1"), ("k2", "s2"))
    )
    async with Simulator(SimConfig(flow=False, rate_limits=False, accounts=accounts)) as sim:
        await initialize_rows(report, sim, runs=3 if quick else 10)
        await place_rows(report, sim, samples=100 if quick else 500)
    await throughput_row(report, seconds=3.0 if quick else 10.0)


def run(report: Report, quick: bool, loop: str | None = None) -> None:
    """Every row on the event loop `loop` ("uvloop"/"asyncio"; None: cexarb's default), the
    simulator's own process included."""
    saved = os.environ.get("CEXARB_LOOP")
    os.environ["CEXARB_LOOP"] = eventloop.loop_name(loop)  # the spawned simulator reads it too
    try:
        eventloop.run(_run(report, quick))
    finally:
        if saved is None:
            os.environ.pop("CEXARB_LOOP", None)
        else:
            os.environ["CEXARB_LOOP"] = saved
