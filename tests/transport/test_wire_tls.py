"""transport.wire over TLS: the venues' REST endpoints are HTTPS only, so the pool must speak it,
keep the TLS connection alive, and verify the server's certificate."""

from __future__ import annotations

import ssl
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from cexarb.transport.wire import ConnectFailed, WirePool

TLS = Path(__file__).parent.parent / "data" / "tls"


@pytest.fixture
async def https_origin():
    """An HTTPS server on 127.0.0.1 with the test certificate; yields (origin, requests seen)."""
    seen: list[tuple[str, bytes]] = []

    async def handler(request: web.Request) -> web.Response:
        seen.append((request.path_qs, await request.read()))
        return web.json_response({"n": len(seen), "tls": request.secure})

    app = web.Application()
    app.router.add_route("*", "/api/v3/order", handler)
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_ctx.load_cert_chain(TLS / "localhost.crt", TLS / "localhost.key")
    server = TestServer(app, host="0.0.0.0")  # 0.0.0.0: reachable as 127.0.0.2 too (see below)
    await server.start_server(ssl=server_ctx)
    yield f"https://127.0.0.1:{server.port}", seen
    await server.close()


def trusting_the_test_certificate() -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(TLS / "localhost.crt"))


async def test_requests_go_over_one_kept_alive_tls_connection(https_origin):
    origin, seen = https_origin
    pool = WirePool(origin, ssl_context=trusting_the_test_certificate())
    try:
        for i in range(3):
            reply = await pool.request("POST", f"/api/v3/order?i={i}", {}, b'{"q":1}', 5.0)
            assert reply.status == 200
            assert reply.body == f'{{"n": {i + 1}, "tls": true}}'.encode()
    finally:
        await pool.close()
    assert pool.connects == 1
    assert seen == [(f"/api/v3/order?i={i}", b'{"q":1}') for i in range(3)]


async def test_a_certificate_nobody_trusts_is_refused_before_anything_is_sent(https_origin):
    # The default context verifies against the system's authorities, which never signed the
    # test certificate: the order must not be written to an unverified peer.
    origin, seen = https_origin
    pool = WirePool(origin)
    try:
        with pytest.raises(ConnectFailed, match="TLS certificate rejected: self.signed certificate"):
            await pool.request("POST", "/api/v3/order", {}, b"{}", 5.0)
    finally:
        await pool.close()
    assert seen == []


async def test_the_host_is_checked_against_the_certificate(https_origin):
    # The certificate names localhost and 127.0.0.1 only; 127.0.0.2 is loopback too, so the same
    # server answers there, under a name the certificate does not cover.
    origin, seen = https_origin
    named = WirePool(origin.replace("127.0.0.1", "localhost"), ssl_context=trusting_the_test_certificate())
    try:
        assert (await named.request("GET", "/api/v3/order", {}, b"", 5.0)).status == 200
    finally:
        await named.close()
    other = WirePool(origin.replace("127.0.0.1", "127.0.0.2"), ssl_context=trusting_the_test_certificate())
    try:
        with pytest.raises(ConnectFailed, match="TLS certificate rejected: IP address mismatch"):
            await other.request("POST", "/api/v3/order", {}, b"{}", 5.0)
    finally:
        await other.close()
    assert len(seen) == 1
