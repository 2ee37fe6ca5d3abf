"""One keep-alive HTTP client per venue: signing, budgets, safe retries, typed errors.

The rule that shapes the retry logic: a request that may have reached the venue is
repeated only if repeating it is harmless (GET, DELETE by id). A POST whose fate the
network hid raises OrderStatusUnknown, and the caller resolves it by client order id.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import logging
import random
import re
import time
from collections.abc import Awaitable, Callable, Coroutine, Iterator, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, NamedTuple, Protocol
from urllib.parse import quote

import aiohttp
import msgspec
from yarl import URL

from cexarb.logs import log_kv
from cexarb.model.errors import (
    ExchangeError,
    NetworkError,
    OrderStatusUnknown,
    ProtocolError,
    RateLimitError,
    TimestampError,
)
from cexarb.model.rounding import format_decimal
from cexarb.transport import ticks
from cexarb.transport.causes import network_cause
from cexarb.transport.clock import Clock
from cexarb.transport.ratelimit import RateLimiter
from cexarb.transport.stats import MS_BUCKETS, LatencyHistogram
from cexarb.transport.wire import (
    USER_AGENT_LINE,
    ConnectFailed,
    ConnectionLost,
    DryWirePool,
    Reply,
    WirePool,
    header_lines,
)

_log = logging.getLogger(__name__)

_IDEMPOTENT = frozenset({"GET", "DELETE", "HEAD"})
_WRITES = frozenset({"POST", "PUT", "DELETE"})
# Characters left as-is in query values: unreserved ones plus those venues use in lists.
_QUERY_SAFE = "-_.~,"
# quote() costs ~0.6 us a call; most keys and values (symbols, numbers, ids) need none.
_needs_no_quoting = re.compile(r"[A-Za-z0-9\-_.~,]*").fullmatch
_encode_json = msgspec.json.Encoder().encode
_decode_json = msgspec.json.Decoder().decode


class PreparedRequest(msgspec.Struct):
    """One request as an attempt sends it (a signer may change its query and headers). A
    Struct, not a dataclass: its __init__ runs no Python frame (one is made per order)."""

    method: str
    path: str  # full URL path as sent, including the base URL's prefix
    query: str  # url-encoded, sent verbatim; "" if none
    body: bytes  # exactly the bytes sent; b"" if none
    headers: dict[str, str] = msgspec.field(default_factory=dict)


class Written(NamedTuple):
    """A request's first attempt written by `HttpClient.write_now`, to be followed
    (`HttpClient.follow`): what its attempts need, and its reply to come."""

    base: PreparedRequest
    path: str
    pool: str
    weight: int
    signed: bool
    lease: Any  # the rate-limit lease it holds (None: no limiter)
    started: float  # perf_counter at the write: the latency clock
    reply: asyncio.Future[Reply]


Signer = Callable[[PreparedRequest, int], None]
ErrorMapper = Callable[[int, bytes, Mapping[str, str]], ExchangeError]


class HeadSigner(Protocol):
    """A `Signer` that can also sign without a request object: it gives the query as sent and
    its headers as head lines, exactly what calling it sets on a request. Our own connections
    then write a signed request's head from text stated once plus these lines (no request
    copy, no header dict: the order lane)."""

    header_names: tuple[str, ...]  # the headers it sets, in the order it sets them

    def __call__(self, request: PreparedRequest, timestamp_ms: int) -> None: ...

    def sign_lines(
        self, method: str, path: str, query: str, body: bytes, timestamp_ms: int
    ) -> tuple[str, str]:
        """The query as sent and the signer's headers as lines ("Name: value\r\n" each)."""
        ...


class _SignedHead:
    """The lines of a signed request's head around the signer's own, for one header template:
    `before` (the client's headers), `after` (User-Agent, unless a header names it) and how
    many lines the head holds in all, the signer's included."""

    __slots__ = ("before", "after", "count")

    def __init__(self, before: str, after: str, count: int) -> None:
        self.before = before
        self.after = after
        self.count = count


def _signed_head(signer: Signer | HeadSigner | None, headers: Mapping[str, str]) -> _SignedHead | None:
    """`headers`' part of a signed head written from lines (HeadSigner); None: the request is
    signed on a copy and encoded from its header dict, the only way to give the same bytes
    when the signer cannot give lines or replaces one of `headers` (a dict keeps its place)."""
    names = getattr(signer, "header_names", None)
    if names is None or not hasattr(signer, "sign_lines"):
        return None
    if len(set(names)) != len(names) or any(name in headers for name in names):
        return None
    try:
        before = header_lines(headers)
    except ValueError:
        return None  # encode() refuses every such request, as ever
    after = "" if "User-Agent" in headers or "User-Agent" in names else USER_AGENT_LINE
    return _SignedHead(before, after, len(headers) + len(names) + (1 if after else 0))


@dataclass(slots=True)
class HttpStats:
    requests: int = 0  # attempts actually started, retries included
    retries: int = 0
    rate_limited: int = 0
    timeouts: int = 0
    clock_resyncs: int = 0
    # Request to reply (rate-limit wait excluded), every attempt that got an answer.
    latency_ms: LatencyHistogram = field(default_factory=lambda: LatencyHistogram(MS_BUCKETS))


def encode_params(params: Mapping[str, Any] | None) -> str:
    """Query string in the caller's order: None dropped, bools lower-case, floats without noise."""
    if not params:
        return ""
    parts = []
    for key, value in params.items():
        if value is None:
            continue
        if type(value) is str:  # the common case first (a str Enum is not exactly str)
            text = value
        elif isinstance(value, bool):
            text = "true" if value else "false"
        elif isinstance(value, float):
            text = format_decimal(value)
        elif isinstance(value, Enum):
            text = str(value.value)
        else:
            text = str(value)
        # query_text's rule, inline: two calls per parameter would cost more than the tests.
        # isascii() is O(1) and ASCII isalnum() is [A-Za-z0-9]: a cheaper test than the regex.
        if not (key.isascii() and key.isalnum()) and not _needs_no_quoting(key):
            key = quote(key, safe=_QUERY_SAFE)
        if not (text.isascii() and text.isalnum()) and not _needs_no_quoting(text):
            text = quote(text, safe=_QUERY_SAFE)
        parts.append(f"{key}={text}")
    return "&".join(parts)


def query_text(text: str) -> str:
    """`text` as a query key or value carries it: url-encoded, except the characters venues
    read as-is (what encode_params does to each key and value)."""
    if (text.isascii() and text.isalnum()) or _needs_no_quoting(text):
        return text
    return quote(text, safe=_QUERY_SAFE)


class QueryTemplate:
    """A query string stated once as params (encode_params' rules) whose `slots` are filled
    per request: the parts between them encoded once. For a request sent many times with a
    few values changing (an order's quantity, price and client id), at the cost of one format.

    `fill(*values)` puts `values` in the slots, in the slots' order, as given: each must be
    text that needs no url-encoding (a decimal number's) or have been through query_text.
    Then it gives exactly encode_params(params with the slots set to the values). A slot is
    always sent (a parameter that may be absent is part of what a template is made for)."""

    __slots__ = ("fill",)

    def __init__(self, params: Mapping[str, Any], slots: tuple[str, ...]) -> None:
        missing = [slot for slot in slots if slot not in params]
        if missing:  # it would go last, wherever the request states it
            raise ValueError(f"query slot {missing} is not one of the parameters {list(params)}")
        # Marked with text encode_params leaves alone and that no key or value holds.
        marks = [f"CEXARBSLOT{i}X" for i in range(len(slots))]
        encoded = encode_params({**params, **dict(zip(slots, marks, strict=True))})
        # A str.format pattern: encoded text holds no braces (quote() escapes them).
        for mark in marks:
            if encoded.count(mark) != 1:
                raise ValueError(f"query slot {mark} of {slots} not found once in {encoded!r}")
            encoded = encoded.replace(mark, "{}")
        # The pattern's own format(), called directly: no Python frame per request.
        self.fill: Callable[..., str] = encoded.format


class _NotSent(Exception):
    """The request surely never reached the venue (no connection was made)."""


class _MaybeSent(Exception):
    """The connection failed after the request may have been written."""


class HttpClient:
    def __init__(
        self,
        venue: str,
        base_url: str,
        *,
        error_mapper: ErrorMapper,
        signer: Signer | None = None,
        rate_limiter: RateLimiter | None = None,
        clock: Clock | None = None,
        timeout_s: float = 10.0,
        max_retries: int = 3,
        server_time: Callable[[], Awaitable[int]] | None = None,
        session: aiohttp.ClientSession | None = None,
        backoff_initial_s: float = 0.1,
        backoff_max_s: float = 2.0,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.venue = venue
        base = URL(base_url)
        self._origin = str(base.origin())
        self._prefix = base.raw_path.rstrip("/")
        self._error_mapper = error_mapper
        self._signer = signer
        self._limiter = rate_limiter
        self.clock = clock if clock is not None else Clock()
        self._timeout_s = timeout_s
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._max_retries = max_retries
        self._server_time = server_time
        # A session from outside is used as given; without one, requests go over our own
        # keep-alive connections (transport.wire), the fast path for orders.
        self._session = session
        self._wire: WirePool | None = None
        # rehearsing()'s pool and limiter, made on first use.
        self._dry_wire: DryWirePool | None = None
        self._dry_limiter: RateLimiter | None = None
        self._backoff_initial_s = backoff_initial_s
        self._backoff_max_s = backoff_max_s
        # Sent with every request, also through a shared session; the signer sees them. Built
        # once: a request copies one of these two (the signer adds to its copy).
        self._default_headers = dict(headers or {})
        # MEXC refuses a write without it, bodyless ones too (700013), and Gate's docs send it
        # on every write; it costs nothing on venues that ignore it.
        self._write_headers = {**self._default_headers, "Content-Type": "application/json"}
        # Their lines around the signer's in a signed head on our own connections, stated once.
        self._write_head = _signed_head(signer, self._write_headers)
        self._default_head = _signed_head(signer, self._default_headers)
        self.stats = HttpStats()

    @property
    def limiter(self) -> RateLimiter | None:
        return self._limiter

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json_body: Any = None,
        signed: bool = False,
        pool: str = "default",
        weight: int = 1,
        idempotent: bool | None = None,
        query: str = "",
    ) -> Coroutine[Any, Any, Any]:
        """Send one request (await what this returns) and give its reply's decoded JSON (None
        if empty), retrying what is safe to retry; the venue's errors typed by the error mapper,
        a lost reply to a non-idempotent request as OrderStatusUnknown. Bad input (a signed
        request without a signer, a body JSON cannot hold) raises at once. `query`: the query
        string already encoded (encode_params, QueryTemplate), sent as is, instead of `params`."""
        base = self._prepare(method, path, params, json_body, signed, query)
        return self._attempts(base, path, pool, weight, signed, idempotent, None)

    def write_now(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json_body: Any = None,
        signed: bool = False,
        pool: str = "default",
        weight: int = 1,
        query: str = "",
    ) -> Written | None:
        """request()'s first attempt written before this returns when that needs no wait: one
        of the client's own connections idle (WirePool.can_send_now), the rate limit admitting
        it now (enter_now), no outside aiohttp session; nothing else. `follow` it before
        anything is awaited. Two requests written back to back, then followed, leave with
        nothing between them. None: nothing was sent, signed or counted; call request().
        Bad input (a signed request without a signer, a body JSON cannot hold) raises at once."""
        session = self._session
        wire = self._wire
        if (session is not None and not session.closed) or wire is None or not wire.can_send_now():
            return None
        base = self._prepare(method, path, params, json_body, signed, query)
        lease = None if self._limiter is None else self._limiter.lease(pool, weight)
        if lease is not None and not lease.enter_now():
            return None
        try:
            started, reply = self._start(base, signed, wire)
        except BaseException:
            if lease is not None:
                lease.exit_now()  # as request()'s lease ends when its signer or encoding fails
            raise
        return Written(base, path, pool, weight, signed, lease, started, reply)

    @contextlib.contextmanager
    def rehearsing(self) -> Iterator[None]:
        """Within this block, `write_now` writes to a dry pool of this client's own
        (DryWirePool: no socket) instead of its connections, admitted by a dry copy of its
        rate limiter (RateLimiter.dry): the order lane's code runs down to the socket's write
        as an order's does, the lease's included, and nothing is sent, counted in `stats` or
        taken from the real budget. The block must be synchronous (nothing awaited in it):
        its writes are answered (an empty 200) and everything put back at its end.
        For keeping the order lane's code warm (ArbEngine's keep_warm_s); follow nothing
        written inside it."""
        dry = self._dry_wire
        if dry is None:
            dry = self._dry_wire = DryWirePool(self._origin)
        wire, limiter, requests = self._wire, self._limiter, self.stats.requests
        dry_limiter = self._dry_limiter
        if dry_limiter is None and limiter is not None:
            dry_limiter = self._dry_limiter = limiter.dry()
        dry.ready()
        self._wire, self._limiter = dry, dry_limiter
        try:
            yield
        finally:
            self._wire, self._limiter, self.stats.requests = wire, limiter, requests
            dry.answer()
            if dry_limiter is not None:
                dry_limiter.clear()

    def follow(self, written: Written) -> Coroutine[Any, Any, Any]:
        """The rest of a request `write_now` wrote: it holds the rate-limit weight until the
        reply, and awaiting it gives exactly what request() would give for the same request
        and the same replies: the decoded JSON, the same typed errors, and the same retries
        after the first attempt (a TimestampError resyncs the clock and sends again, a
        RateLimitError penalizes the pool and retries, a lost reply on a non-idempotent
        request is OrderStatusUnknown, ...)."""
        lease, reply = written.lease, written.reply
        if lease is not None:
            # Held until the reply, as request() holds it; a callback: released even if the
            # attempt is never awaited.
            reply.add_done_callback(lambda _: lease.exit_now())
        return self._attempts(
            written.base,
            written.path,
            written.pool,
            written.weight,
            written.signed,
            None,
            (written.started, reply),
        )

    def encode_request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json_body: Any = None,
        signed: bool = False,
        query: str = "",
    ) -> bytes:
        """The bytes request() would write for this request now over the client's own
        connections (signed with the clock's current time): nothing sent, no rate-limit weight
        taken, no stats counted. For rehearsing the order path (keeping its code warm) and for
        tests. Makes the client's connection pool if it has none yet (no connection opened)."""
        base = self._prepare(method, path, params, json_body, signed, query)
        wire = self._own_wire()
        head = self._head(base) if signed else None
        if head is not None:  # as _start writes it
            return self._encode_signed(base, head, wire)
        prepared = PreparedRequest(base.method, base.path, base.query, base.body, base.headers.copy())
        target = self._target(prepared, signed)
        return wire.encode(prepared.method, target, prepared.headers, prepared.body)

    def _prepare(
        self,
        method: str,
        path: str,
        params: Mapping[str, Any] | None,
        json_body: Any,
        signed: bool,
        query: str = "",
    ) -> PreparedRequest:
        """The request as every attempt starts it: its headers the shared defaults (an attempt
        signs a copy)."""
        method = method.upper()
        if signed and self._signer is None:
            raise ExchangeError(f"{method} {path} needs signing but no signer was given", venue=self.venue)
        if params:
            if query:
                raise TypeError("give params or an encoded query, not both")
            query = encode_params(params)
        body = b"" if json_body is None else _encode_json(json_body)
        headers = self._write_headers if body or method in _WRITES else self._default_headers
        return PreparedRequest(method, self._prefix + path, query, body, headers)

    async def _attempts(
        self,
        base: PreparedRequest,
        path: str,
        pool: str,
        weight: int,
        signed: bool,
        idempotent: bool | None,
        written: tuple[float, Awaitable[Reply]] | None,
    ) -> Any:
        """request()'s attempts until one settles it; `written`: the first one's start and
        reply when write_now wrote it already."""
        method = base.method
        if idempotent is None:
            idempotent = method in _IDEMPOTENT
        retries = 0
        resynced = False
        while True:
            try:
                attempt = self._send(base, pool, weight, signed, written)
                written = None  # a retry is sent anew
                return await attempt
            except TimestampError:
                if resynced or self._server_time is None:
                    raise
                # The venue rejected it outright, so resending is safe even for a POST.
                resynced = True
                self.stats.clock_resyncs += 1
                await self.clock.sync(self._server_time)
                log_kv(
                    _log, logging.WARNING, "clock_resynced", venue=self.venue, offset_ms=self.clock.offset_ms
                )
                continue
            except RateLimitError as exc:
                self.stats.rate_limited += 1
                if retries >= self._max_retries:
                    raise
                # The limiter now holds the whole pool back for retry_after; the retry waits there.
                delay = exc.retry_after if exc.retry_after else self._backoff(retries)
                if self._limiter is not None:
                    self._limiter.penalize(pool, delay)
                else:
                    await asyncio.sleep(delay)
                error: Exception = exc
            except _NotSent as exc:
                if retries >= self._max_retries:
                    raise NetworkError(
                        f"{method} {self._origin}{base.path}: cannot connect ({exc})", venue=self.venue
                    ) from exc.__cause__
                error = exc
                await asyncio.sleep(self._backoff(retries))
            except _MaybeSent as exc:
                if not idempotent:
                    raise OrderStatusUnknown(
                        f"{method} {path}: {exc}; the venue may have executed it", venue=self.venue
                    ) from exc.__cause__
                if retries >= self._max_retries:
                    raise NetworkError(f"{method} {path}: {exc}", venue=self.venue) from exc.__cause__
                error = exc
                await asyncio.sleep(self._backoff(retries))
            except NetworkError as exc:
                # The venue answered (5xx): it may have acted, so only safe requests are repeated.
                if not idempotent or retries >= self._max_retries:
                    raise
                error = exc
                await asyncio.sleep(self._backoff(retries))
            retries += 1
            self.stats.retries += 1
            log_kv(
                _log,
                logging.INFO,
                "http_retry",
                venue=self.venue,
                method=method,
                path=path,
                attempt=retries,
                error=str(error),
            )

    async def _send(
        self,
        base: PreparedRequest,
        pool: str,
        weight: int,
        signed: bool,
        written: tuple[float, Awaitable[Reply]] | None = None,
    ) -> Any:
        """One attempt, from admission to the decoded reply; `written`: its start and reply when
        write_now wrote it (admitted, counted and signed there)."""
        limiter = self._limiter
        try:
            if written is None and limiter is not None:
                lease = limiter.lease(pool, weight)
                if not lease.enter_now():  # its fast path without the coroutine of `async with`
                    await lease.__aenter__()
                try:
                    # Signed once admitted: a long wait for budget must not age the timestamp
                    # past the venue's receive window.
                    started, pending = self._start(base, signed, None)
                    reply = await pending
                finally:
                    lease.exit_now()
            else:
                started, pending = written or self._start(base, signed, None)
                reply = await pending
            self.stats.latency_ms.observe((time.perf_counter() - started) * 1e3)
        except ConnectFailed as exc:
            raise _NotSent(str(exc)) from exc
        except (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError) as exc:
            raise _NotSent(network_cause(exc)) from exc
        except TimeoutError as exc:
            self.stats.timeouts += 1
            raise _MaybeSent(f"no reply within {self._timeout_s}s") from exc
        except (aiohttp.ClientError, ConnectionLost) as exc:
            raise _MaybeSent(f"connection failed: {network_cause(exc)}") from exc
        status, body = reply.status, reply.body
        if status >= 400:
            raise self._error(status, body, reply.headers)
        if not body:
            return None
        try:
            return _decode_json(body)
        except msgspec.DecodeError as exc:
            raise ProtocolError(
                f"{base.method} {base.path}: reply is not JSON: {body[:200]!r}",
                venue=self.venue,
                http_status=status,
            ) from exc

    def _start(
        self, base: PreparedRequest, signed: bool, wire: WirePool | None
    ) -> tuple[float, Awaitable[Reply]]:
        """An attempt counted, signed and handed over: written at once by `wire` (write_now's,
        which the caller saw able to), else on its way (`_exchange`). Gives when it started
        (the latency clock) and its reply."""
        self.stats.requests += 1
        head = None
        if signed and wire is not None:  # _head, inline: a frame less on the order lane
            head = self._write_head if base.headers is self._write_headers else self._default_head
        if head is not None:  # the order lane: no request copy, the head from lines
            data = self._encode_signed(base, head, wire)
            # write_now saw wire.can_send_now() with nothing awaited since: no second check.
            return time.perf_counter(), wire.write_now(data, base.method, self._timeout_s)
        # A copy: the signer adds to it, and a retry signs anew.
        prepared = PreparedRequest(base.method, base.path, base.query, base.body, base.headers.copy())
        target = self._target(prepared, signed)
        if wire is None:
            return time.perf_counter(), self._exchange(prepared, target)
        data = wire.encode(prepared.method, target, prepared.headers, prepared.body)
        return time.perf_counter(), wire.write_now(data, prepared.method, self._timeout_s)

    def _head(self, base: PreparedRequest) -> _SignedHead | None:
        """The lines around the signer's of `base`'s head, signed (None: signed on a copy)."""
        return self._write_head if base.headers is self._write_headers else self._default_head

    def _encode_signed(self, base: PreparedRequest, head: _SignedHead, wire: WirePool) -> bytes:
        """The bytes of `base` signed now, what encode() gives for it signed on a copy: its
        head from `head`'s lines and the signer's (HeadSigner.sign_lines)."""
        method, path, body = base.method, base.path, base.body
        query, lines = self._signer.sign_lines(method, path, base.query, body, self.clock.now_ms())
        target = path + "?" + query if query else path
        return wire.encode_head(method, target, f"{head.before}{lines}{head.after}", head.count, body)

    def _target(self, prepared: PreparedRequest, signed: bool) -> str:
        """Path and query as sent (signed first: a retry gets a fresh timestamp)."""
        if signed:
            self._signer(prepared, self.clock.now_ms())
        return prepared.path + "?" + prepared.query if prepared.query else prepared.path

    def _exchange(self, prepared: PreparedRequest, target: str) -> Awaitable[Reply]:
        """The request on its way: our own connections' coroutine itself (no wrapping one on
        the order path), or an exchange through the session from outside."""
        session = self._session
        if session is None or session.closed:
            return (self._wire or self._own_wire()).request(
                prepared.method, target, prepared.headers, prepared.body, self._timeout_s
            )
        return self._session_exchange(session, prepared, target)

    def _own_wire(self) -> WirePool:
        """Our connection pool, made on first use (it opens connections only when asked to)."""
        wire = self._wire
        if wire is None:
            wire = self._wire = WirePool(self._origin)
        return wire

    async def _session_exchange(
        self, session: aiohttp.ClientSession, prepared: PreparedRequest, target: str
    ) -> Reply:
        ticks.request_written()  # a session from outside: the hand-off time
        async with session.request(
            prepared.method,
            URL(self._origin + target, encoded=True),  # verbatim: the bytes the signer saw are sent
            data=prepared.body or None,
            headers=prepared.headers,
            timeout=self._timeout,
        ) as resp:
            return Reply(resp.status, resp.headers, await resp.read())

    def _error(self, status: int, body: bytes, headers: Mapping[str, str]) -> ExchangeError:
        error = self._error_mapper(status, body, headers)
        if isinstance(error, RateLimitError) and error.retry_after is None:
            error.retry_after = _retry_after(headers)
        return error

    def _backoff(self, attempt: int) -> float:
        ceiling = min(self._backoff_max_s, self._backoff_initial_s * (2**attempt))
        # Half fixed, half random: spreads clients that failed together without ever not waiting.
        return ceiling / 2 + random.uniform(0, ceiling / 2)

    async def close(self) -> None:
        """Close our own connections (a session from outside stays open: its owner closes it)."""
        wire, self._wire = self._wire, None
        dry, self._dry_wire = self._dry_wire, None
        for pool in (wire, dry):
            if pool is not None:
                await pool.close()


def _retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds from a Retry-After header: a number, or an HTTP date."""
    value = headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, email.utils.parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None
