import asyncio
import time

import aiohttp
import pytest
from aiohttp import web

from cexarb.config import RateLimitPool
from cexarb.model.errors import (
    ExchangeError,
    NetworkError,
    OrderStatusUnknown,
    ProtocolError,
    RateLimitError,
    TimestampError,
)
from cexarb.model.rounding import format_decimal
from cexarb.transport.clock import Clock
from cexarb.transport.http import (
    HttpClient,
    PreparedRequest,
    QueryTemplate,
    _retry_after,
    encode_params,
    query_text,
)
from cexarb.transport.ratelimit import RateLimiter
from tests.support import eventually

from .conftest import map_error


def make_client(server, prefix: str = "", **kw) -> HttpClient:
    kw.setdefault("backoff_initial_s", 0.01)
    kw.setdefault("backoff_max_s", 0.05)
    return HttpClient("test", str(server.make_url(prefix)), error_mapper=map_error, **kw)


@pytest.fixture
async def clients():
    made: list[HttpClient] = []
    yield made
    for client in made:
        await client.close()


async def test_limiter_budget_holds_at_the_server_under_500_concurrent_calls(serve, recorder, clients):
    capacity, period_s = 60, 0.1

    async def handler(request: web.Request) -> web.Response:
        recorder.record(request)
        return web.json_response({"w": int(request.query["w"])})

    app = web.Application()
    app.router.add_get("/load", handler)
    server = await serve(app)
    limiter = RateLimiter({"default": RateLimitPool(capacity, period_s)})
    client = make_client(server, rate_limiter=limiter)
    clients.append(client)

    calls = [client.request("GET", "/load", params={"w": 1 + i % 3}, weight=1 + i % 3) for i in range(500)]
    results = await asyncio.gather(*calls)

    assert len(results) == 500
    arrivals = sorted(
        zip(recorder.arrivals["/load"], (int(r.query["w"]) for r in recorder.requests["/load"]), strict=True)
    )
    assert len(arrivals) == 500
    for i, (start, _) in enumerate(arrivals):
        in_window = sum(w for t, w in arrivals[i:] if t < start + period_s)
        assert in_window <= capacity, f"{in_window} weight arrived within {period_s}s of t={start}"


async def test_get_retried_on_503_succeeds(serve, recorder, clients):
    async def handler(request: web.Request) -> web.Response:
        if recorder.record(request) <= 2:
            return web.Response(status=503, text="busy")
        return web.json_response({"ok": True})

    app = web.Application()
    app.router.add_get("/flaky", handler)
    client = make_client(await serve(app))
    clients.append(client)

    assert await client.request("GET", "/flaky") == {"ok": True}
    assert recorder.count("/flaky") == 3
    assert client.stats.retries == 2


async def test_get_gives_up_after_max_retries(serve, recorder, clients):
    async def handler(request: web.Request) -> web.Response:
        recorder.record(request)
        return web.Response(status=503, text="down")

    app = web.Application()
    app.router.add_get("/down", handler)
    client = make_client(await serve(app), max_retries=2)
    clients.append(client)

    with pytest.raises(NetworkError) as info:
        await client.request("GET", "/down")
    assert info.value.http_status == 503
    assert recorder.count("/down") == 3


async def test_post_that_times_out_raises_order_status_unknown_and_is_sent_once(serve, recorder, clients):
    release = asyncio.Event()

    async def handler(request: web.Request) -> web.Response:
        recorder.record(request)
        await asyncio.wait_for(release.wait(), 5)
        return web.json_response({"id": "1"})

    app = web.Application()
    app.router.add_post("/orders", handler)
    client = make_client(await serve(app), timeout_s=0.2)
    clients.append(client)

    with pytest.raises(OrderStatusUnknown):
        await client.request("POST", "/orders", json_body={"side": "buy"})
    release.set()
    assert recorder.count("/orders") == 1
    assert client.stats.timeouts == 1
    assert client.stats.retries == 0


async def test_post_answered_with_503_is_not_resent(serve, recorder, clients):
    async def handler(request: web.Request) -> web.Response:
        recorder.record(request)
        return web.Response(status=503, text="overloaded")

    app = web.Application()
    app.router.add_post("/orders", handler)
    client = make_client(await serve(app))
    clients.append(client)

    with pytest.raises(NetworkError):
        await client.request("POST", "/orders", json_body={})
    assert recorder.count("/orders") == 1


async def test_connection_lost_after_sending_post_is_unknown_but_get_is_retried(serve, recorder, clients):
    async def drop(request: web.Request) -> web.Response:
        if recorder.record(request) == 1 or request.method == "POST":
            request.transport.close()  # the reply never comes
            await asyncio.sleep(1)
        return web.json_response({"ok": True})

    app = web.Application()
    app.router.add_route("*", "/drop", drop)
    client = make_client(await serve(app))
    clients.append(client)

    assert await client.request("GET", "/drop") == {"ok": True}
    assert recorder.count("/drop") == 2
    with pytest.raises(OrderStatusUnknown):
        await client.request("POST", "/drop", json_body={})
    assert recorder.count("/drop") == 3


async def test_get_that_times_out_is_retried(serve, recorder, clients):
    release = asyncio.Event()

    async def handler(request: web.Request) -> web.Response:
        if recorder.record(request) == 1:
            await asyncio.wait_for(release.wait(), 5)
        return web.json_response([1, 2])

    app = web.Application()
    app.router.add_get("/slow", handler)
    client = make_client(await serve(app), timeout_s=0.2)
    clients.append(client)

    assert await client.request("GET", "/slow") == [1, 2]
    release.set()
    assert recorder.count("/slow") == 2
    assert client.stats.timeouts == 1


async def test_post_is_retried_when_the_connection_was_refused(closed_port, clients):
    client = HttpClient(
        "test",
        f"http://127.0.0.1:{closed_port}",
        error_mapper=map_error,
        max_retries=2,
        backoff_initial_s=0.01,
    )
    clients.append(client)
    with pytest.raises(NetworkError) as info:
        await client.request("POST", "/orders", json_body={})
    assert not isinstance(info.value, OrderStatusUnknown)
    assert client.stats.retries == 2


async def test_429_retry_after_pauses_the_pool_then_the_request_is_retried(serve, recorder, clients):
    async def limited(request: web.Request) -> web.Response:
        if recorder.record(request) == 1:
            return web.Response(status=429, text="TOO_MANY_REQUESTS", headers={"Retry-After": "0.3"})
        return web.json_response({"placed": True})

    async def other(request: web.Request) -> web.Response:
        recorder.record(request)
        return web.json_response({})

    app = web.Application()
    app.router.add_post("/orders", limited)
    app.router.add_get("/other", other)
    limiter = RateLimiter({"default": RateLimitPool(100, 1.0)})
    client = make_client(await serve(app), rate_limiter=limiter)
    clients.append(client)

    first = asyncio.create_task(client.request("POST", "/orders", json_body={}))
    await eventually(
        lambda: client.stats.rate_limited == 1, what="the 429 reached the client and paused the pool"
    )
    await client.request("GET", "/other")  # same pool: held back too
    assert await first == {"placed": True}

    rejected_at, retried_at = recorder.arrivals["/orders"]
    assert retried_at - rejected_at >= 0.3
    assert recorder.arrivals["/other"][0] - rejected_at >= 0.3
    assert client.stats.rate_limited == 1


async def test_429_without_limiter_still_waits_retry_after(serve, recorder, clients):
    async def limited(request: web.Request) -> web.Response:
        if recorder.record(request) == 1:
            return web.Response(status=429, headers={"Retry-After": "0.2"})
        return web.json_response({})

    app = web.Application()
    app.router.add_get("/x", limited)
    client = make_client(await serve(app))
    clients.append(client)

    await client.request("GET", "/x")
    first, second = recorder.arrivals["/x"]
    assert second - first >= 0.2


async def test_persistent_429_raises_rate_limit_error(serve, recorder, clients):
    async def limited(request: web.Request) -> web.Response:
        recorder.record(request)
        return web.Response(status=429, headers={"Retry-After": "0"})

    app = web.Application()
    app.router.add_get("/x", limited)
    client = make_client(await serve(app), max_retries=1)
    clients.append(client)

    with pytest.raises(RateLimitError):
        await client.request("GET", "/x")
    assert recorder.count("/x") == 2


def _timestamp_app(recorder, skew_ms: int, always_reject: bool = False) -> web.Application:
    async def server_time(request: web.Request) -> web.Response:
        recorder.record(request)
        return web.json_response({"server_time": int(time.time() * 1000) + skew_ms})

    async def private(request: web.Request) -> web.Response:
        recorder.record(request)
        sent = int(request.headers["X-Ts"])
        if always_reject or abs(sent - (time.time() * 1000 + skew_ms)) > 5_000:
            return web.Response(status=401, text="REQUEST_EXPIRED")
        return web.json_response({"ok": True})

    app = web.Application()
    app.router.add_get("/time", server_time)
    app.router.add_post("/private", private)
    return app


def _ts_signer(request: PreparedRequest, timestamp_ms: int) -> None:
    request.headers["X-Ts"] = str(timestamp_ms)


async def test_timestamp_error_resyncs_the_clock_and_retries_once(serve, recorder, clients):
    server = await serve(_timestamp_app(recorder, skew_ms=60_000))
    public = make_client(server)
    clock = Clock()

    async def fetch_time() -> int:
        return (await public.request("GET", "/time"))["server_time"]

    client = make_client(server, signer=_ts_signer, clock=clock, server_time=fetch_time)
    clients.extend([public, client])

    # A POST too: the venue rejected the first attempt, so the retry cannot duplicate anything.
    assert await client.request("POST", "/private", json_body={}, signed=True) == {"ok": True}
    assert recorder.count("/private") == 2
    assert recorder.count("/time") == 1
    assert clock.offset_ms > 50_000
    assert client.stats.clock_resyncs == 1


async def test_repeated_timestamp_error_is_raised_after_one_resync(serve, recorder, clients):
    server = await serve(_timestamp_app(recorder, skew_ms=0, always_reject=True))
    public = make_client(server)

    async def fetch_time() -> int:
        return (await public.request("GET", "/time"))["server_time"]

    client = make_client(server, signer=_ts_signer, server_time=fetch_time)
    clients.extend([public, client])

    with pytest.raises(TimestampError):
        await client.request("POST", "/private", json_body={}, signed=True)
    assert recorder.count("/private") == 2
    assert recorder.count("/time") == 1


async def test_signer_sees_exactly_what_is_sent(serve, recorder, clients):
    async def handler(request: web.Request) -> web.Response:
        recorder.record(request)
        return web.json_response({"raw": request.raw_path, "body": (await request.read()).decode()})

    seen: list[tuple[PreparedRequest, int]] = []

    def signer(request: PreparedRequest, timestamp_ms: int) -> None:
        seen.append(
            (PreparedRequest(request.method, request.path, request.query, request.body), timestamp_ms)
        )
        request.query += "&signature=a%2Bb%3D%3D"
        request.headers["SIGN"] = "s"

    app = web.Application()
    app.router.add_post("/api/v4/spot/orders", handler)
    clock = Clock(offset_ms=1500.0, wall_ms=lambda: 1_000_000.0)
    client = make_client(await serve(app), "/api/v4", signer=signer, clock=clock)
    clients.append(client)

    params = {
        "currency_pair": "BTC_USDT",
        "skip": None,
        "limit": 10,
        "flag": True,
        "price": 0.29,
        "ids": "1,2",
    }
    reply = await client.request(
        "POST", "/spot/orders", params=params, json_body={"amount": "0.5"}, signed=True
    )

    ((prepared, timestamp_ms),) = seen
    assert timestamp_ms == 1_001_500
    assert prepared.path == "/api/v4/spot/orders"
    assert prepared.query == "currency_pair=BTC_USDT&limit=10&flag=true&price=0.29&ids=1,2"
    assert reply["raw"] == "/api/v4/spot/orders?" + prepared.query + "&signature=a%2Bb%3D%3D"
    assert reply["body"].encode() == prepared.body == b'{"amount":"0.5"}'
    request = recorder.requests["/api/v4/spot/orders"][0]
    assert request.headers["SIGN"] == "s"
    assert request.headers["Content-Type"] == "application/json"


async def test_signed_request_without_signer_is_refused(serve, clients):
    client = make_client(await serve(web.Application()))
    clients.append(client)
    with pytest.raises(ExchangeError, match="signer"):
        await client.request("GET", "/x", signed=True)


async def test_replies_are_decoded_and_errors_mapped(serve, clients):
    async def empty(request: web.Request) -> web.Response:
        return web.Response(status=204)

    async def garbage(request: web.Request) -> web.Response:
        return web.Response(text="<html>")

    async def bad(request: web.Request) -> web.Response:
        return web.Response(status=400, text='{"label":"INVALID_PARAM"}')

    app = web.Application()
    app.router.add_get("/empty", empty)
    app.router.add_get("/garbage", garbage)
    app.router.add_get("/bad", bad)
    client = make_client(await serve(app))
    clients.append(client)

    assert await client.request("GET", "/empty") is None
    with pytest.raises(ProtocolError):
        await client.request("GET", "/garbage")
    with pytest.raises(ExchangeError) as info:
        await client.request("GET", "/bad")
    assert info.value.http_status == 400
    assert "INVALID_PARAM" in info.value.message


def test_encode_params_keeps_order_drops_none_and_formats_values():
    assert encode_params(None) == ""
    assert encode_params({"b": 1, "a": None, "c": False, "d": 0.1 + 0.2, "e": 1e-7, "f": "x y/z"}) == (
        "b=1&c=false&d=0.30000000000000004&e=0.0000001&f=x%20y%2Fz"
    )


# Values a template's slots may get: plain, needing url-encoding, empty, non-ASCII, braces.
ODD_VALUES = ["0.0015", "cx1", "", "x y/z", "a&b=c", "{0}", "é€", "~-_.,", "%41", "1e-05"]


def test_a_query_template_fills_in_what_encode_params_writes():
    params = {"symbol": "BTC_USDT", "quantity": "", "note": None, "price": "", "id": "", "flag": True}
    template = QueryTemplate(params, ("quantity", "price", "id"))
    for quantity in ODD_VALUES:
        for price in ODD_VALUES:
            for cid in ODD_VALUES:
                filled = {**params, "quantity": quantity, "price": price, "id": cid}
                texts = map(query_text, (quantity, price, cid))
                assert template.fill(*texts) == encode_params(filled)
    odd_key = QueryTemplate({"a b": "{x}", "q": ""}, ("q",))
    assert (
        odd_key.fill(query_text("1 2"))
        == encode_params({"a b": "{x}", "q": "1 2"})
        == "a%20b=%7Bx%7D&q=1%202"
    )
    # Decimal text, as format_decimal writes it, is its own url-encoding.
    for value in (0.0015, 60012.5, 1e-10, 123456789.0, -0.5, 2.5e-7):
        assert query_text(format_decimal(value)) == format_decimal(value)
        assert query_text(format_decimal(value, 1e-8)) == format_decimal(value, 1e-8)


def test_a_query_template_slot_must_be_sent():
    with pytest.raises(ValueError, match="slot"):
        QueryTemplate({"a": "1"}, ("b",))  # not a parameter: where would it go
    with pytest.raises(ValueError, match="slot"):
        QueryTemplate({"a": "1", "b": "CEXARBSLOT0X"}, ("a",))  # its mark not once: no template


async def test_an_encoded_query_is_sent_as_is_and_excludes_params(serve, recorder, clients):
    async def handler(request: web.Request) -> web.Response:
        recorder.record(request)
        return web.json_response({})

    app = web.Application()
    app.router.add_route("*", "/q", handler)
    server = await serve(app)
    client = make_client(server)
    clients.append(client)
    await client.request("GET", "/q", query="a=1&b=x%20y")
    assert recorder.requests["/q"][-1].raw_path == "/q?a=1&b=x%20y"
    with pytest.raises(TypeError, match="not both"):
        await client.request("GET", "/q", params={"a": 1}, query="a=1")
    assert client.encode_request("GET", "/q", query="a=1").startswith(b"GET /q?a=1 HTTP/1.1\r\n")


def test_retry_after_header_forms():
    assert _retry_after({"Retry-After": "1.5"}) == 1.5
    assert _retry_after({}) is None
    assert _retry_after({"Retry-After": "soon"}) is None
    future = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(time.time() + 30))
    assert 20 < _retry_after({"Retry-After": future}) <= 30


async def test_default_headers_go_with_every_request_even_through_a_shared_session(serve, recorder, clients):
    async def handler(request: web.Request) -> web.Response:
        recorder.record(request)
        return web.json_response({})

    app = web.Application()
    app.router.add_route("*", "/h", handler)
    server = await serve(app)

    def signer(request: PreparedRequest, timestamp_ms: int) -> None:
        request.headers["SIGN"] = "s"

    async with aiohttp.ClientSession() as shared:
        client = make_client(server, signer=signer, session=shared, headers={"X-Default": "1"})
        clients.append(client)
        await client.request("GET", "/h")
        await client.request("POST", "/h", json_body={"a": 1}, signed=True)

    plain, signed = recorder.requests["/h"]
    assert plain.headers["X-Default"] == "1"
    assert signed.headers["X-Default"] == "1"
    assert signed.headers["SIGN"] == "s"
    assert signed.headers["Content-Type"] == "application/json"


async def test_every_write_says_json_content_type_even_without_a_body(serve, recorder, clients):
    """MEXC refuses a signed POST/PUT/DELETE without `Content-Type: application/json` (code 700013),
    bodyless ones included (listen keys, query-string orders); Gate's docs send it on every write."""

    async def handler(request: web.Request) -> web.Response:
        recorder.record(request)
        return web.json_response({})

    app = web.Application()
    app.router.add_route("*", "/w", handler)
    server = await serve(app)
    client = make_client(server, signer=lambda request, ts: None)
    clients.append(client)
    for method in ("POST", "PUT", "DELETE", "GET"):
        await client.request(method, "/w", params={"a": 1}, signed=True)
    post, put, delete, get = recorder.requests["/w"]
    for request in (post, put, delete):
        assert request.headers.get("Content-Type") == "application/json", request.method
    assert "Content-Type" not in get.headers
