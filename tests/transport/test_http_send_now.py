"""HttpClient's order lane, write_now then follow (the request written in the caller's call;
here through `send_now`, the two in one call as the connectors make them), and
encode_request (its bytes, nothing sent): the same bytes as request(), the same outcome for the same replies,
and None with nothing written, signed or counted whenever writing at once is not possible.
A raw TCP server (conftest.RawServer) records each request whole and gives canned replies."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import aiohttp
import pytest

from cexarb.config import RateLimitPool
from cexarb.model.errors import (
    ExchangeError,
    NetworkError,
    OrderStatusUnknown,
    RateLimitError,
    TimestampError,
)
from cexarb.transport import ticks
from cexarb.transport.clock import Clock
from cexarb.transport.http import HttpClient, PreparedRequest
from cexarb.transport.ratelimit import RateLimiter
from tests.support import eventually

from .conftest import HANG, RawServer, map_error

FROZEN_MS = 1_700_000_000_123
SKEW_MS = 60_000  # the server's clock ahead of ours, for the timestamp-error case


def _reply(status: str, body: bytes, *headers: str) -> bytes:
    head = "".join(f"{h}\r\n" for h in headers)
    return f"HTTP/1.1 {status}\r\n{head}Content-Length: {len(body)}\r\n\r\n".encode() + body


OK = _reply("200 OK", b'{"id":"1"}')
WARM = _reply("200 OK", b"{}")
VENUE_ERROR = _reply("400 Bad Request", b'{"label":"INVALID_PARAM"}')
EXPIRED = _reply("401 Unauthorized", b"REQUEST_EXPIRED")
LIMITED = _reply("429 Too Many Requests", b"slow down", "Retry-After: 0.05")
BUSY = _reply("503 Service Unavailable", b"busy")
ORDER = {"params": {"symbol": "BTC_USDT", "qty": 0.5}, "json_body": {"side": "buy"}, "signed": True}


def _signer(request: PreparedRequest, timestamp_ms: int) -> None:
    if b"unsignable" in request.body:
        raise ValueError("the signer cannot sign this")
    request.query = f"{request.query}&ts={timestamp_ms}" if request.query else f"ts={timestamp_ms}"
    request.headers["X-Sign"] = f"{len(request.body)}:{timestamp_ms}"


async def _server_time() -> int:
    return FROZEN_MS + SKEW_MS


def send_now(client: HttpClient, method: str, path: str, **kwargs: Any):
    """The order lane in one call, as a connector's place_order_now makes it: the request
    written now (HttpClient.write_now), then followed; None when nothing was written."""
    written = client.write_now(method, path, **kwargs)
    return None if written is None else client.follow(written)


@pytest.fixture
async def lane():
    """`server, client, limiter = await lane(replies)`: a raw server giving `replies` in turn
    and a client to it (frozen clock, a signer, a rate limiter), both closed after the test."""
    made: list[tuple[RawServer, HttpClient]] = []

    async def start(replies: list[bytes | None], **kw: Any) -> tuple[RawServer, HttpClient, RateLimiter]:
        server = RawServer(list(replies))
        url = await server.start()
        options: dict[str, Any] = {
            "signer": _signer,
            "clock": Clock(wall_ms=lambda: float(FROZEN_MS)),
            "server_time": _server_time,
            "rate_limiter": RateLimiter({"default": RateLimitPool(100, 60.0)}),
            "timeout_s": 5.0,
            "backoff_initial_s": 0.01,
            "backoff_max_s": 0.02,
            **kw,
        }
        limiter = options["rate_limiter"]
        client = HttpClient("test", url + "/api", error_mapper=map_error, **options)
        made.append((server, client))
        return server, client, limiter

    yield start
    for server, client in made:
        await client.close()
        await server.close()


def _window(limiter: RateLimiter) -> tuple[int, int]:
    """The default pool's weight in flight and counted in its window (the limiter's own state:
    `used()` alone cannot tell a lease never released from one counted)."""
    pool = limiter._pools["default"]
    return pool.in_flight, pool.window_weight


async def test_send_now_writes_in_the_call_the_bytes_request_writes_and_encode_request_gives_them(lane):
    server, client, limiter = await lane([OK] * 4)
    assert await client.request("POST", "/orders", **ORDER) == {"id": "1"}
    assert await client.request("GET", "/orders", params={"symbol": "BTC_USDT"}) == {"id": "1"}
    dry_post = client.encode_request("POST", "/orders", **ORDER)
    dry_get = client.encode_request("GET", "/orders", params={"symbol": "BTC_USDT"})
    assert client.stats.requests == 2
    assert _window(limiter) == (0, 2)  # encode_request took no weight

    origin = ticks.TickOrigin(0)
    token = ticks.ORIGIN.set(origin)
    try:
        post = send_now(client, "POST", "/orders", **ORDER)
        assert post is not None
        assert len(origin.sent_ns) == 1  # written before send_now returned
        assert _window(limiter) == (1, 2)  # in flight from the write
        assert client.stats.requests == 3
    finally:
        ticks.ORIGIN.reset(token)
    assert await post == {"id": "1"}
    get = send_now(client, "GET", "/orders", params={"symbol": "BTC_USDT"})
    assert get is not None
    assert await get == {"id": "1"}

    request_post, request_get, now_post, now_get = server.requests
    assert now_post == request_post == dry_post
    assert now_get == request_get == dry_get
    assert dry_post.startswith(b"POST /api/orders?symbol=BTC_USDT&qty=0.5&ts=1700000000123 HTTP/1.1\r\n")
    assert dry_post.endswith(b'\r\n\r\n{"side":"buy"}')
    assert server.connections == 1
    assert _window(limiter) == (0, 4)


async def test_send_now_is_none_until_the_client_has_an_idle_connection_of_its_own(lane):
    server, client, limiter = await lane([OK])
    assert send_now(client, "POST", "/orders", **ORDER) is None  # no connection pool yet
    client.encode_request("POST", "/orders", **ORDER)  # makes the pool, opens no connection
    assert send_now(client, "POST", "/orders", **ORDER) is None
    assert client.stats.requests == 0
    assert limiter.used() == 0
    assert await client.request("POST", "/orders", **ORDER) == {"id": "1"}
    assert len(server.requests) == 1
    assert server.connections == 1


async def test_send_now_is_none_while_the_only_connection_is_busy(lane):
    server, client, limiter = await lane([WARM, HANG])
    await client.request("GET", "/warm")
    pending = asyncio.create_task(client.request("GET", "/slow"))
    await eventually(lambda: len(server.requests) == 2, what="the slow request at the server")
    assert send_now(client, "POST", "/orders", **ORDER) is None
    assert client.stats.requests == 2
    assert _window(limiter) == (1, 1)  # only the slow request's weight is in flight
    pending.cancel()
    with pytest.raises(asyncio.CancelledError):
        await pending
    assert server.connections == 1  # nothing could have been written elsewhere


async def test_send_now_is_none_once_the_client_is_closed(lane):
    server, client, limiter = await lane([WARM, OK])
    await client.request("GET", "/warm")
    await client.close()
    assert send_now(client, "POST", "/orders", **ORDER) is None
    assert client.stats.requests == 1
    assert _window(limiter) == (0, 1)


async def test_send_now_is_none_with_an_outside_session(lane):
    async with aiohttp.ClientSession() as session:
        server, client, limiter = await lane([WARM, OK], session=session)
        await client.request("GET", "/warm")
        client.encode_request("GET", "/warm")  # the client's own pool exists but is not used
        assert send_now(client, "POST", "/orders", **ORDER) is None
        assert client.stats.requests == 1
        assert _window(limiter) == (0, 1)
        assert len(server.requests) == 1


@pytest.mark.parametrize("why", ["budget spent", "pool paused"])
async def test_send_now_is_none_when_the_limiter_would_make_it_wait(lane, why):
    limiter = RateLimiter({"default": RateLimitPool(1, 60.0), "free": RateLimitPool(100, 60.0)})
    server, client, _ = await lane([WARM, OK], rate_limiter=limiter)
    await client.request("GET", "/warm", pool="free")
    if why == "budget spent":
        limiter.lease("default").enter_now()  # held: the one unit of budget is taken
    else:
        limiter.penalize("default", 60.0)
    used = limiter.used("default")
    assert send_now(client, "POST", "/orders", **ORDER) is None
    assert limiter.used("default") == used
    assert client.stats.requests == 1
    # The same (only) connection carries the next request: had the refused one been written,
    # the server would have read it first.
    assert await client.request("GET", "/next", pool="free") == {"id": "1"}
    assert [r.split(b" ", 2)[1] for r in server.requests] == [b"/api/warm", b"/api/next"]


async def _outcome(call: Any) -> tuple:
    try:
        return ("ok", await call)
    except ExchangeError as exc:
        return (type(exc), str(exc), exc.http_status, exc.code)


async def _parity(lane, replies: list[bytes | None], method: str, path: str, **kw: Any) -> tuple:
    """The same request and replies through request() and through send_now(): the outcome,
    the bytes the server read, the stats and the limiter's accounting must be the same."""
    seen = []
    for now in (False, True):
        server, client, limiter = await lane([WARM, *replies], timeout_s=0.2)
        await client.request("GET", "/warm")
        call = send_now(client, method, path, **kw) if now else client.request(method, path, **kw)
        assert call is not None
        outcome = await _outcome(call)
        stats = client.stats
        counts = (stats.requests, stats.retries, stats.rate_limited, stats.timeouts, stats.clock_resyncs)
        sent = [re.sub(rb"Host: [^\r]*", b"Host: HOST", r) for r in server.requests[1:]]  # the port varies
        paused = limiter._pools["default"].paused_until > 0  # a 429 penalized the pool
        seen.append((outcome, sent, counts, _window(limiter), paused))
    assert seen[0] == seen[1]
    outcome, sent, counts, (in_flight, counted), paused = seen[0]
    assert in_flight == 0
    assert counted == 1 + len(sent)  # the warm-up and each attempt, once
    assert paused == (counts[2] > 0)
    return outcome, len(sent), counts


async def test_a_reply_is_decoded_alike(lane):
    assert await _parity(lane, [OK], "POST", "/orders", **ORDER) == (("ok", {"id": "1"}), 1, (2, 0, 0, 0, 0))


async def test_a_venue_error_is_the_same_typed_error(lane):
    (kind, message, status, _), sent, _ = await _parity(lane, [VENUE_ERROR], "POST", "/orders", **ORDER)
    assert (kind, status, sent) == (ExchangeError, 400, 1)
    assert "INVALID_PARAM" in message


async def test_a_timestamp_error_resyncs_the_clock_and_resends_once(lane):
    outcome, sent, counts = await _parity(lane, [EXPIRED, OK], "POST", "/orders", **ORDER)
    assert (outcome, sent, counts) == (("ok", {"id": "1"}), 2, (3, 0, 0, 0, 1))


async def test_a_second_timestamp_error_is_raised(lane):
    (kind, *_), sent, _ = await _parity(lane, [EXPIRED, EXPIRED], "POST", "/orders", **ORDER)
    assert (kind, sent) == (TimestampError, 2)


async def test_a_429_penalizes_the_pool_and_is_retried(lane):
    outcome, sent, counts = await _parity(lane, [LIMITED, OK], "POST", "/orders", **ORDER)
    assert (outcome, sent, counts) == (("ok", {"id": "1"}), 2, (3, 1, 1, 0, 0))


async def test_429_until_the_retries_run_out_is_a_rate_limit_error(lane):
    (kind, *_), sent, _ = await _parity(lane, [LIMITED] * 4, "GET", "/orders")
    assert (kind, sent) == (RateLimitError, 4)


async def test_a_5xx_is_retried_for_a_get_and_raised_for_a_post(lane):
    outcome, sent, counts = await _parity(lane, [BUSY, OK], "GET", "/orders")
    assert (outcome, sent, counts) == (("ok", {"id": "1"}), 2, (3, 1, 0, 0, 0))
    (kind, _, status, _), sent, _ = await _parity(lane, [BUSY, OK], "POST", "/orders", **ORDER)
    assert (kind, status, sent) == (NetworkError, 503, 1)


async def test_a_connection_closed_without_reply_is_order_status_unknown_for_a_post(lane):
    (kind, message, *_), sent, _ = await _parity(lane, [None, OK], "POST", "/orders", **ORDER)
    assert (kind, sent) == (OrderStatusUnknown, 1)
    assert "closed the connection" in message
    outcome, sent, counts = await _parity(lane, [None, OK], "GET", "/orders")
    assert (outcome, sent, counts) == (("ok", {"id": "1"}), 2, (3, 1, 0, 0, 0))


async def test_no_reply_in_time_is_order_status_unknown_for_a_post_and_retried_for_a_get(lane):
    (kind, message, *_), sent, counts = await _parity(lane, [HANG, OK], "POST", "/orders", **ORDER)
    assert (kind, sent, counts) == (OrderStatusUnknown, 1, (2, 0, 0, 1, 0))
    assert "no reply within 0.2s" in message
    outcome, sent, counts = await _parity(lane, [HANG, OK], "GET", "/orders")
    assert (outcome, sent, counts) == (("ok", {"id": "1"}), 2, (3, 1, 0, 1, 0))


async def test_the_lease_of_a_written_request_is_released_once_even_if_nobody_awaits_it(lane):
    server, client, limiter = await lane([WARM, OK, WARM])
    await client.request("GET", "/warm")
    call = send_now(client, "POST", "/orders", **ORDER)
    assert call is not None
    call.close()  # dropped unawaited: the reply still ends the lease
    await eventually(lambda: _window(limiter) == (0, 2), what="the lease released into the window")
    await client.request("GET", "/warm")  # the connection and its slot are free again
    assert server.connections == 1


async def test_cancelling_the_awaiting_of_a_written_request_aborts_its_connection(lane):
    server, client, limiter = await lane([WARM, HANG, OK])
    await client.request("GET", "/warm")
    call = send_now(client, "POST", "/orders", **ORDER)
    assert call is not None
    task = asyncio.create_task(call)
    await eventually(lambda: len(server.requests) == 2, what="the order at the server")
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await eventually(lambda: _window(limiter) == (0, 2), what="the lease released")
    # The connection was aborted (a late reply must not be read as the next request's).
    assert await client.request("GET", "/next") == {"id": "1"}
    assert server.connections == 2


async def test_bad_input_raises_at_once_and_a_failing_signer_leaves_the_same_accounting_as_request(lane):
    _, unsigned, _ = await lane([WARM], signer=None)
    await unsigned.request("GET", "/warm")
    with pytest.raises(ExchangeError, match="signer"):
        send_now(unsigned, "POST", "/orders", **ORDER)
    assert unsigned.stats.requests == 1
    server, client, limiter = await lane([WARM])
    await client.request("GET", "/warm")
    bad = {**ORDER, "json_body": {"note": "unsignable"}}
    with pytest.raises(ValueError, match="cannot sign"):
        await client.request("POST", "/orders", **bad)
    assert (client.stats.requests, _window(limiter)) == (2, (0, 2))
    with pytest.raises(ValueError, match="cannot sign"):
        send_now(client, "POST", "/orders", **bad)
    assert (client.stats.requests, _window(limiter)) == (3, (0, 3))  # as request() counts it
    assert len(server.requests) == 1


class _LineSigner:
    """A HeadSigner like the venues' (sign_lines gives the query and its headers as lines):
    adds `ts` to the query and each of `header_names` with the body's length and the time."""

    def __init__(self, *header_names: str) -> None:
        self.header_names = header_names

    def __call__(self, request: PreparedRequest, timestamp_ms: int) -> None:
        request.query, _ = self.sign_lines(request.method, request.path, request.query, request.body, timestamp_ms)  # fmt: skip
        for name in self.header_names:
            request.headers[name] = f"{len(request.body)}:{timestamp_ms}"

    def sign_lines(self, method: str, path: str, query: str, body: bytes, timestamp_ms: int) -> tuple[str, str]:  # fmt: skip
        lines = "".join(f"{name}: {len(body)}:{timestamp_ms}\r\n" for name in self.header_names)
        return (f"{query}&ts={timestamp_ms}" if query else f"ts={timestamp_ms}"), lines


@pytest.mark.parametrize(
    ("names", "headers"),
    [
        (("X-Sign", "X-Key"), None),
        (("X-Sign", "User-Agent"), None),  # the signer's User-Agent: no default one
        (("X-Sign",), {"User-Agent": "mine", "X-Default": "1"}),
        (("X-Default", "X-Sign"), {"X-Default": "1"}),  # replaces a client header: kept in place
        (("X-Sign", "X-Sign"), None),  # set twice: sent once
    ],
)
async def test_a_signer_giving_head_lines_writes_the_bytes_of_one_signing_a_copy(lane, names, headers):
    server, client, _ = await lane([OK] * 6, signer=_LineSigner(*names), headers=headers)
    get = {"params": {"symbol": "BTC_USDT"}, "signed": True}
    await client.request("POST", "/orders", **ORDER)  # through WirePool.request: a signed copy
    await client.request("GET", "/orders", **get)
    dry_post = client.encode_request("POST", "/orders", **ORDER)
    dry_get = client.encode_request("GET", "/orders", **get)
    await send_now(client, "POST", "/orders", **ORDER)
    await send_now(client, "GET", "/orders", **get)
    request_post, request_get, now_post, now_get = server.requests
    assert now_post == request_post == dry_post
    assert now_get == request_get == dry_get
    assert b"X-Sign: 14:1700000000123\r\n" in dry_post and b"X-Sign: 0:1700000000123\r\n" in dry_get


async def test_a_signer_line_with_a_line_break_is_refused_before_anything_is_sent(lane):
    server, client, limiter = await lane([WARM], signer=_LineSigner("X-Sign\r\nX-Injected"))
    await client.request("GET", "/warm")
    with pytest.raises(ValueError, match="line break"):
        client.encode_request("POST", "/orders", **ORDER)
    with pytest.raises(ValueError, match="line break"):
        send_now(client, "POST", "/orders", **ORDER)
    assert (client.stats.requests, _window(limiter)) == (2, (0, 2))  # as a failing signer's
    assert len(server.requests) == 1
