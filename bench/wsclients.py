"""WebSocket client candidates on loopback: aiohttp (what `WsClient` uses) vs picows.

A server in its own process (aiohttp, the same for both) sends text frames shaped like a
Gate book update (~1.2 kB). Throughput: a burst of frames as fast as the server can write,
counted by the client until the last one (frames/s). Latency: frames paced at 2,000/s, each
carrying the server's perf_counter_ns at send; the client takes the difference when the
frame reaches its handler (CLOCK_MONOTONIC is shared by both processes). Each client only
hands the frame's text to a no-op handler, as `WsClient` hands it to `on_message`.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import statistics
import time

import aiohttp
from aiohttp import web

from bench.harness import Report, Row, percentile
from cexarb import eventloop

_PAD = "x" * 1150  # a 50-level Gate book update is ~1.2 kB


def _server_process(conn, loop: str) -> None:
    eventloop.run(_serve(conn), loop)


async def _serve(conn) -> None:
    async def handler(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(max_msg_size=0)
        await ws.prepare(request)
        async for msg in ws:
            kind, count, rate = msg.data.split(",")
            count, rate = int(count), float(rate)
            if kind == "burst":
                for i in range(count):
                    await ws.send_str(f'{{"i":{i},"pad":"{_PAD}"}}')
            else:
                gap = 1.0 / rate
                next_at = time.perf_counter()
                for _ in range(count):
                    next_at += gap
                    while time.perf_counter() < next_at:
                        await asyncio.sleep(0)
                    await ws.send_str(f'{{"t":{time.perf_counter_ns()},"pad":"{_PAD}"}}')
            await ws.send_str("end")
        return ws

    app = web.Application()
    app.router.add_get("/ws", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    conn.send(site._server.sockets[0].getsockname()[1])
    await asyncio.get_running_loop().run_in_executor(None, conn.recv)
    await runner.cleanup()


def _latency(data: str, out: list[float]) -> None:
    if data.startswith('{"t":'):
        out.append((time.perf_counter_ns() - int(data[5 : data.index(",")])) / 1e3)


async def _aiohttp_client(url: str, command: str) -> tuple[float, list[float]]:
    lat: list[float] = []
    handle = (lambda data: _latency(data, lat)) if command.startswith("paced") else (lambda data: None)
    count = 0
    async with aiohttp.ClientSession() as session, session.ws_connect(url, max_msg_size=0) as ws:
        await ws.send_str(command)
        t0 = time.perf_counter()
        while True:
            msg = await ws.receive()  # as WsClient._receive
            if msg.data == "end":
                break
            count += 1
            handle(msg.data)
        return count / (time.perf_counter() - t0), lat


async def _picows_client(url: str, command: str) -> tuple[float, list[float]]:
    from picows import WSListener, WSMsgType, ws_connect

    lat: list[float] = []
    paced = command.startswith("paced")
    done = asyncio.get_running_loop().create_future()

    class Listener(WSListener):
        count = 0

        def on_ws_frame(self, transport, frame) -> None:
            if frame.msg_type is not WSMsgType.TEXT:
                return
            data = frame.get_payload_as_ascii_text()  # the text, as aiohttp's msg.data
            if data == "end":
                done.set_result(None)
                return
            Listener.count += 1
            if paced:
                _latency(data, lat)

    transport, _ = await ws_connect(Listener, url, max_frame_size=64 * 1024 * 1024)
    try:
        transport.send(WSMsgType.TEXT, command.encode())
        t0 = time.perf_counter()
        await done
        return Listener.count / (time.perf_counter() - t0), lat
    finally:
        transport.disconnect()
        await transport.wait_disconnected()


async def _run(report: Report, quick: bool) -> None:
    try:
        import picows  # noqa: F401
    except ImportError:
        report.add(Row("ws client: picows", "ops/s", 0.0, None, 0, note="picows not installed: not measured"))
        return
    ctx = multiprocessing.get_context("spawn")
    parent, child = ctx.Pipe()
    proc = ctx.Process(target=_server_process, args=(child, eventloop.loop_name()), daemon=True)
    proc.start()
    loop = asyncio.get_running_loop()
    try:
        port = await loop.run_in_executor(None, parent.recv)
        url = f"ws://127.0.0.1:{port}/ws"
        burst, paced = (20_000, 2_000) if quick else (100_000, 10_000)
        clients = {"aiohttp": _aiohttp_client, "picows": _picows_client}
        rates: dict[str, list[float]] = {name: [] for name in clients}
        lats: dict[str, list[float]] = {name: [] for name in clients}
        for _ in range(3):  # alternated, so both see the same machine load
            for name, client in clients.items():
                rates[name].append((await client(url, f"burst,{burst},0"))[0])
                lats[name] += (await client(url, f"paced,{paced // 3},2000"))[1]
    finally:
        with contextlib.suppress(OSError):
            parent.send(None)
        proc.join(5)
        if proc.is_alive():
            proc.kill()
    ours, theirs = statistics.median(rates["aiohttp"]), statistics.median(rates["picows"])
    row = Row(
        "ws client: frames/s received on loopback, 1.2 kB text (aiohttp, as WsClient)",
        "ops/s",
        ours,
        None,
        3 * burst,
        goal="adopt picows if >= 1.5x",
        note=f"median of 3 bursts of {burst:,}, alternated; the server (aiohttp, own process) is the same",
    )
    row.peer, row.peer_median = "picows (on_ws_frame -> text)", theirs
    report.add(row)
    med, p99 = statistics.median(lats["aiohttp"]), percentile(lats["aiohttp"], 0.99)
    row = Row(
        "ws client: per-frame latency on loopback, server send -> handler (aiohttp, as WsClient)",
        "us",
        med,
        p99,
        len(lats["aiohttp"]),
        goal="adopt picows if >= 1.5x",
        note="frames paced at 2,000/s; server's perf_counter_ns in each frame",
    )
    row.peer, row.peer_median, row.peer_p99 = (
        "picows",
        statistics.median(lats["picows"]),
        percentile(lats["picows"], 0.99),
    )
    report.add(row)


def run(report: Report, quick: bool) -> None:
    eventloop.run(_run(report, quick))
