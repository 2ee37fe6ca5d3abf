"""HttpClient.rehearsing: the order lane's write (write_now) run down to the socket's write
against a dry pool of the client's own, with nothing sent, counted or admitted, and the
client exactly as it was after the block. A raw TCP server (conftest.RawServer) records
what really arrives."""

from __future__ import annotations

import pytest

from cexarb.transport.wire import ConnectFailed, DryWirePool
from tests.support import eventually

from .test_http_send_now import OK, ORDER, _window, lane, send_now  # noqa: F401 - lane: a fixture


async def test_a_rehearsed_write_reaches_no_socket_and_leaves_the_client_as_it_was(lane):  # noqa: F811
    server, client, limiter = await lane([OK, OK])
    assert await client.request("POST", "/orders", **ORDER) == {"id": "1"}  # a connection of its own
    wire, before = client._wire, (client.stats.requests, _window(limiter), client._wire.idle)
    written = []
    for _ in range(3):
        with client.rehearsing():
            written.append(client.write_now("POST", "/orders", **ORDER))
    assert all(w is not None for w in written)  # each ran to its write
    # Admitted by the lease's own code against a dry copy of the limiter, cleared after each.
    dry_pool = client._dry_limiter._pools["default"]
    assert all(w.lease is not None and w.lease._pool is dry_pool for w in written)
    assert dry_pool is not limiter._pools["default"]
    assert dry_pool.in_flight == dry_pool.window_weight == 0
    # Answered at the block's end (an empty 200): nothing is left waiting on the dry pool.
    assert all(w.reply.done() and w.reply.result().status == 200 for w in written)
    assert client._wire is wire and client.limiter is limiter
    assert (client.stats.requests, _window(limiter), client._wire.idle) == before
    real = send_now(client, "POST", "/orders", **ORDER)  # the real lane, after: its own connection
    assert real is not None and await real == {"id": "1"}
    assert len(server.requests) == 2 and server.connections == 1  # the rehearsals never arrived


async def test_the_client_is_put_back_when_the_block_raises(lane):  # noqa: F811
    _, client, limiter = await lane([OK])
    assert await client.request("GET", "/orders") == {"id": "1"}
    wire, requests = client._wire, client.stats.requests
    with pytest.raises(RuntimeError, match="inside"):
        with client.rehearsing():
            assert client.write_now("POST", "/orders", **ORDER) is not None
            raise RuntimeError("inside")
    assert client._wire is wire and client.limiter is limiter and client.stats.requests == requests
    assert _window(limiter) == (0, 1)


async def test_a_dry_pool_gives_its_connection_and_slots_back_and_never_connects():
    dry = DryWirePool("http://127.0.0.1:9")  # nothing listens there: it must never be dialled
    limit = dry._slots._value
    with pytest.raises(ConnectFailed, match="opens no connection"):
        await dry.request("GET", "/", {}, b"", 1.0)
    for _ in range(5):
        dry.ready()
        assert dry.can_send_now()
        reply = dry.write_now(b"GET / HTTP/1.1\r\n\r\n", "GET", 1.0)
        dry.answer()
        assert (await reply).status == 200 and dry.idle == 1  # the same connection each time
    await eventually(lambda: dry._slots._value == limit and not dry._deadlines, what="slots back")
    await dry.close()
