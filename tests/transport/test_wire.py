"""The keep-alive HTTP/1.1 connections the REST clients write to directly (transport.wire)."""

from __future__ import annotations

import asyncio

import pytest
from aiohttp import web

from cexarb.transport.wire import BadReply, ConnectFailed, ConnectionLost, WirePool
from tests.support import eventually

from .conftest import HANG, RawServer


@pytest.fixture
async def raw():
    servers: list[RawServer] = []

    async def start(replies: list[bytes | None]) -> tuple[RawServer, WirePool]:
        server = RawServer(replies)
        servers.append(server)
        pool = WirePool(await server.start())
        pools.append(pool)
        return server, pool

    pools: list[WirePool] = []
    yield start
    for pool in pools:
        await pool.close()
    for server in servers:
        await server.close()


async def test_requests_reuse_one_kept_alive_connection_and_send_exact_bytes(serve):
    seen: list[tuple[str, str, bytes, str]] = []

    async def handler(request: web.Request) -> web.Response:
        seen.append((request.method, request.path_qs, await request.read(), request.headers["X-A"]))
        return web.json_response({"n": len(seen)})

    app = web.Application()
    app.router.add_route("*", "/p", handler)
    server = await serve(app)
    pool = WirePool(str(server.make_url("")).rstrip("/"))
    try:
        for i in range(5):
            reply = await pool.request("POST", f"/p?i={i}&x=a%2Cb", {"X-A": str(i)}, b'{"k":1}', 5.0)
            assert reply.status == 200
            assert reply.body == f'{{"n": {i + 1}}}'.encode()
            assert reply.headers["content-type"].startswith("application/json")
        get = await pool.request("GET", "/p", {"X-A": "g"}, b"", 5.0)
        assert get.status == 200
    finally:
        await pool.close()
    assert pool.connects == 1
    assert seen[0] == ("POST", "/p?i=0&x=a%2Cb", b'{"k":1}', "0")
    assert seen[-1] == ("GET", "/p", b"", "g")


async def test_concurrent_requests_take_a_connection_each(serve):
    release = asyncio.Event()

    async def handler(request: web.Request) -> web.Response:
        await asyncio.wait_for(release.wait(), 5)
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_get("/slow", handler)
    server = await serve(app)
    pool = WirePool(str(server.make_url("")).rstrip("/"))
    try:
        calls = asyncio.gather(*(pool.request("GET", "/slow", {}, b"", 5.0) for _ in range(3)))
        await eventually(lambda: pool.connects == 3, what="three connections")
        release.set()
        assert [r.body for r in await calls] == [b"ok"] * 3
        assert pool.idle == 3
    finally:
        await pool.close()


async def test_a_chunked_reply_after_an_interim_one_is_joined(raw):
    chunked = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-T: 1\r\n\r\n"
    server, pool = await raw([chunked, b"HTTP/1.1 204 No Content\r\n\r\n"])
    assert (await pool.request("GET", "/a", {}, b"", 5.0)).body == b"hello world"
    reply = await pool.request("DELETE", "/b", {}, b"", 5.0)
    assert (reply.status, reply.body) == (204, b"")
    assert server.connections == 1  # both on the same connection


async def test_a_reply_without_length_ends_with_the_connection_which_is_not_reused(raw):
    server, pool = await raw(
        [b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nall of it", b"HTTP/1.1 200 OK\r\n"]
    )
    assert (await pool.request("GET", "/a", {}, b"", 5.0)).body == b"all of it"
    server.replies[:] = [b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"]
    assert (await pool.request("GET", "/a", {}, b"", 5.0)).body == b"ok"
    assert pool.connects == 2


async def test_connection_closed_before_the_reply_is_connection_lost(raw):
    _, pool = await raw([None])
    with pytest.raises(ConnectionLost):
        await pool.request("POST", "/order", {}, b"{}", 5.0)


async def test_garbage_instead_of_http_is_a_bad_reply(raw):
    _, pool = await raw([b"SSH-2.0-OpenSSH\r\n\r\n"])
    with pytest.raises(BadReply):
        await pool.request("GET", "/", {}, b"", 5.0)


async def test_no_reply_in_time_is_a_timeout_and_the_connection_is_dropped(serve):
    release = asyncio.Event()

    async def handler(request: web.Request) -> web.Response:
        if request.query.get("slow"):
            await asyncio.wait_for(release.wait(), 5)
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_get("/", handler)
    server = await serve(app)
    pool = WirePool(str(server.make_url("")).rstrip("/"))
    try:
        with pytest.raises(TimeoutError):
            await pool.request("GET", "/?slow=1", {}, b"", 0.1)
        release.set()
        # A late reply to the first request must never be read as the second one's.
        assert (await pool.request("GET", "/", {}, b"", 5.0)).body == b"ok"
        assert pool.connects == 2
    finally:
        await pool.close()


async def test_each_request_times_out_at_its_own_deadline_a_later_one_first_if_shorter(raw):
    # One timer serves every request in flight, armed at the earliest deadline.
    server, pool = await raw([HANG, HANG, HANG])
    slow = asyncio.create_task(pool.request("GET", "/slow", {}, b"", 30.0))
    await eventually(lambda: len(server.requests) == 1, what="the first request at the server")
    with pytest.raises(TimeoutError):
        await pool.request("GET", "/quick", {}, b"", 0.05)  # written later, due earlier
    assert not slow.done()
    with pytest.raises(TimeoutError):
        await pool.request("GET", "/third", {}, b"", 0.05)  # the timer armed earlier again
    assert not slow.done()
    slow.cancel()
    with pytest.raises(asyncio.CancelledError):
        await slow
    assert pool.connects == 3  # none of them reused


async def test_connection_refused_is_connect_failed(closed_port):
    pool = WirePool(f"http://127.0.0.1:{closed_port}")
    with pytest.raises(ConnectFailed, match="refused"):
        await pool.request("POST", "/order", {}, b"{}", 5.0)
    await pool.close()


async def test_an_idle_connection_the_server_closes_is_replaced_before_the_next_request(raw):
    server, pool = await raw([b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"] * 2)
    await pool.request("GET", "/", {}, b"", 5.0)
    server.writers[0].close()  # the server ends the kept-alive connection while it is idle
    await eventually(lambda: server.connections == 2 and pool.idle == 1, what="a fresh idle connection")
    await pool.request("GET", "/", {}, b"", 5.0)
    assert pool.connects == 2  # the request did not open one itself


async def test_a_connection_the_server_closes_before_any_request_is_not_replaced(raw):
    server, pool = await raw([b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"] * 2)
    await pool.request("GET", "/", {}, b"", 5.0)
    server.writers[0].close()
    await eventually(lambda: server.connections == 2 and pool.idle == 1, what="the replacement")
    server.writers[1].close()  # the replacement, never used, is closed too
    await eventually(lambda: pool.idle == 0, what="the replacement seen closed")
    await pool.request("GET", "/", {}, b"", 5.0)  # opens its own
    assert server.connections == 3


async def test_a_header_with_a_line_break_is_refused_before_anything_is_sent(raw):
    server, pool = await raw([b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"])
    with pytest.raises(ValueError, match="line break"):
        await pool.request("GET", "/", {"X-A": "1\r\nX-Injected: 1"}, b"", 5.0)
    assert server.requests == []


@pytest.mark.parametrize(
    "part", ["target", "target cr", "target lf", "method", "name", "value", "lone cr", "lone lf"]
)
async def test_encode_refuses_a_line_break_in_any_part_of_the_head(part):
    pool = WirePool("http://h")  # opens nothing until a request is sent
    method, target, headers = "POST", "/o?a=1", {"X-A": "1"}
    if part == "target":
        target = "/o?a=1 HTTP/1.1\r\nX-Injected: 1\r\nX-B:"
    elif part in ("target cr", "target lf"):
        target = "/o?a=1\rX" if part == "target cr" else "/o?a=1\nX"
    elif part == "method":
        method = "POST /x HTTP/1.1\r\nX-Injected: 1\r\nX"
    elif part == "name":
        headers = {"X-A\r\nX-Injected": "1"}
    elif part == "value":
        headers = {"X-A": "1\r\nX-Injected: 1"}
    else:
        headers = {"X-A": "1\r" if part == "lone cr" else "1\n"}
    assert pool.encode("POST", "/o?a=1", {"X-A": "1"}, b"{}").startswith(
        b"POST /o?a=1 HTTP/1.1\r\nHost: h\r\n"
    )
    with pytest.raises(ValueError, match="line break"):
        pool.encode(method, target, headers, b"{}")


def send_now(pool: WirePool, method: str, target: str, headers: dict, body: bytes, timeout_s: float):
    """One request written now, as HttpClient.write_now writes it (asked, then written): the
    future of its reply, or None when the pool cannot write it now (nothing written)."""
    if not pool.can_send_now():
        return None
    return pool.write_now(pool.encode(method, target, headers, body), method, timeout_s)


async def test_send_now_writes_on_an_idle_connection_the_bytes_request_writes(raw):
    ok = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
    server, pool = await raw([ok, ok])
    assert send_now(pool, "POST", "/o?a=1", {"X-A": "1"}, b"{}", 5.0) is None  # no connection yet
    assert (await pool.request("POST", "/o?a=1", {"X-A": "1"}, b"{}", 5.0)).body == b"ok"
    waiter = send_now(pool, "POST", "/o?a=1", {"X-A": "1"}, b"{}", 5.0)
    assert waiter is not None
    assert pool.idle == 0
    assert send_now(pool, "GET", "/", {}, b"", 5.0) is None  # the one connection is busy
    assert (await waiter).body == b"ok"
    first, second = server.requests
    assert first == second == pool.encode("POST", "/o?a=1", {"X-A": "1"}, b"{}")
    await eventually(lambda: pool.idle == 1, what="the connection back in the pool")
    assert pool.connects == 1


async def test_send_now_errors_are_request_errors_and_a_closed_pool_sends_nothing(raw):
    ok = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
    server, pool = await raw([ok, None, ok, HANG, ok])
    await pool.request("GET", "/", {}, b"", 5.0)
    with pytest.raises(ConnectionLost):
        await send_now(pool, "POST", "/order", {}, b"{}", 5.0)
    await pool.request("GET", "/", {}, b"", 5.0)
    with pytest.raises(TimeoutError):
        await send_now(pool, "POST", "/order", {}, b"{}", 0.1)
    await pool.request("GET", "/", {}, b"", 5.0)
    assert pool.connects == 3  # neither failed connection was reused
    await pool.close()
    assert send_now(pool, "GET", "/", {}, b"", 5.0) is None
    assert len(server.requests) == 5
