"""Tick-to-trade timestamps: the frame being handled, and when a traced request is written."""

from __future__ import annotations

import asyncio
import time

from aiohttp import web

from cexarb.transport import ticks
from cexarb.transport.ws import WsClient
from tests.support import eventually

from .test_http_client import make_client
from .test_ws_client import FAST


async def test_ws_client_marks_the_frame_being_handled_and_clears_it_after(serve):
    async def handler(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        for i in range(3):
            await ws.send_str(str(i))
        async for _ in ws:
            pass
        return ws

    app = web.Application()
    app.router.add_get("/ws", handler)
    server = await serve(app)
    seen: list[tuple[int, int]] = []
    client = WsClient(
        "test",
        str(server.make_url("/ws")),
        on_message=lambda _data: seen.append((ticks.frame_ns, time.perf_counter_ns())),
        **FAST,
    )
    started = time.perf_counter_ns()
    try:
        await client.start()
        await eventually(lambda: len(seen) == 3, what="three frames")
    finally:
        await client.close()
    for frame_ns, handled_ns in seen:
        assert started < frame_ns <= handled_ns
    assert [f for f, _ in seen] == sorted(f for f, _ in seen)
    assert ticks.frame_ns == 0  # outside a frame nothing claims to react to one


async def test_http_client_notes_when_each_traced_request_is_written(serve):
    async def handler(request: web.Request) -> web.Response:
        return web.json_response({"ok": True})

    app = web.Application()
    app.router.add_post("/order", handler)
    server = await serve(app)
    client = make_client(server)
    try:
        assert await client.request("POST", "/order", json_body={"a": 1}) == {"ok": True}  # untraced

        async def trade() -> ticks.TickOrigin:
            origin = ticks.TickOrigin(time.perf_counter_ns())
            ticks.ORIGIN.set(origin)
            # two legs at once, in child tasks that inherit the origin
            await asyncio.gather(*(client.request("POST", "/order", json_body={"leg": i}) for i in range(2)))
            return origin

        before = time.perf_counter_ns()
        origin = await asyncio.create_task(trade())
        after = time.perf_counter_ns()
    finally:
        await client.close()
    assert len(origin.sent_ns) == 2
    assert all(before <= ns <= after for ns in origin.sent_ns)
    assert ticks.ORIGIN.get() is None  # the trade's task kept it to itself
