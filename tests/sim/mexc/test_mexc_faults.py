"""Each armed fault of the MEXC front-end, as a client sees it; and MEXC's 429 rate limiting."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest
from mexc_sim_helpers import BTC, KEY, barrier, is_pong, next_frame, subscribe, ws_url

from tests.support import eventually

DEPTH = "spot@public.aggre.depth.v3.api.pb@100ms@BTCUSDT"
CLOSED = (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.CLOSING)


async def test_fail_and_delay_next_rest(client, venue):
    venue.faults.fail_next_rest(2, 503, b'{"code":503,"msg":"service not available"}', retry_after=1)
    status, body, headers = await client.raw("GET", "/api/v3/ping")
    assert (status, body["code"], headers["Retry-After"]) == (503, 503, "1")
    assert (await client.raw("GET", "/api/v3/ping"))[0] == 503
    venue.faults.delay_next_rest(1, 0.05)
    assert (await client.raw("GET", "/api/v3/ping"))[:2] == (200, {})
    assert venue.stats.failed_by_fault == 2 and venue.stats.delayed_by_fault == 1


async def test_timeout_after_accept_places_the_order_but_never_answers(client, venue):
    venue.faults.timeout_hold_s = 0.05
    venue.faults.timeout_after_accept(1)
    params = {
        "symbol": "BTCUSDT",
        "side": "BUY",
        "type": "LIMIT",
        "quantity": "0.01",
        "price": "50000",
        "newClientOrderId": "lost-reply",
    }
    with pytest.raises(aiohttp.ClientError):
        await client.signed("POST", "/api/v3/order", params)
    # the order stands: the client resolves the outcome by its client order id
    status, order = await client.signed(
        "GET", "/api/v3/order", {"symbol": "BTCUSDT", "origClientOrderId": "lost-reply"}
    )
    assert status == 200 and order["status"] == "NEW"
    assert [o.client_order_id for o in venue.open_orders(KEY, BTC)] == ["lost-reply"]
    # only once: the next order gets its reply
    params["newClientOrderId"] = "answered"
    assert (await client.signed("POST", "/api/v3/order", params))[0] == 200


async def test_drop_streams_closes_every_websocket(session, base_url, venue):
    async with session.ws_connect(ws_url(base_url)) as a, session.ws_connect(ws_url(base_url)) as b:
        await subscribe(a, DEPTH)
        await barrier(b)
        assert venue.stats.ws_connections == 2
        venue.faults.drop_streams()
        assert await next_frame(a) in CLOSED
        assert await next_frame(b) in CLOSED
    await eventually(lambda: venue.stats.ws_connections == 0, what="both streams closed on the venue")
    assert venue.stats.ws_connections == 0 and venue.stats.streams_dropped == 2


async def test_rejected_handshakes(session, base_url, venue):
    venue.faults.reject_ws_connections(True)
    with pytest.raises(aiohttp.WSServerHandshakeError) as e:
        await session.ws_connect(ws_url(base_url))
    assert e.value.status == 503
    venue.faults.reject_ws_connections(False)
    async with session.ws_connect(ws_url(base_url)) as ws:
        assert await barrier(ws) == []


async def test_stall_holds_every_frame_then_resumes(session, base_url, venue):
    async with session.ws_connect(ws_url(base_url)) as ws:
        await subscribe(ws, DEPTH)
        venue.faults.stall_streams(0.4)
        await ws.send_str('{"method":"PING"}')
        with pytest.raises(asyncio.TimeoutError):
            await ws.receive(timeout=0.2)  # not even the PONG
        assert is_pong(await next_frame(ws, timeout=3))  # delivered once the stall is over
        assert not ws.closed


async def test_injected_raw_frames_reach_the_client(session, base_url, venue):
    async with session.ws_connect(ws_url(base_url)) as ws:
        await subscribe(ws, DEPTH)
        venue.faults.inject_ws_frame(b"\x0a\xff\xff garbage")
        msg = await ws.receive(timeout=3)
        assert msg.type is aiohttp.WSMsgType.BINARY and msg.data == b"\x0a\xff\xff garbage"
        venue.faults.inject_ws_frame('{"half":')
        assert (await ws.receive(timeout=3)).data == '{"half":'
        assert await barrier(ws) == []  # the stream goes on
