"""One keep-alive HTTP client per venue: signing, budgets, safe retries, typed errors.

The rule that shapes the retry logic: a request that may have reached the venue is
repeated only if repeating it is harmless (GET, DELETE by id). A POST whose fate the
network hid raises OrderStatusUnknown, and the caller resolves it by client order id.
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
import random
import re
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any
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
from cexarb.transport.wire import ConnectFailed, ConnectionLost, Reply, WirePool

_log = logging.getLogger(__name__)

_IDEMPOTENT = frozenset({"GET", "DELETE", "HEAD"})
_WRITES = frozenset({"POST", "PUT", "DELETE"})
# Characters left as-is in query values: unreserved ones plus those venues use in lists.
_QUERY_SAFE = "-_.~,"
# quote() costs ~0.6 us a call; most keys and values (symbols, numbers, ids) need none.
_needs_no_quoting = re.compile(r"[A-Za-z0-9\-_.~,]*").fullmatch
_encode_json = msgspec.json.Encoder().encode
_decode_json = msgspec.json.Decoder().decode


@dataclass(slots=True)
class PreparedRequest:
    method: str
    path: str  # full URL path as sent, including the base URL's prefix
    query: str  # url-encoded, sent verbatim; "" if none
    body: bytes  # exactly the bytes sent; b"" if none
    headers: dict[str, str] = field(default_factory=dict)


Signer = Callable[[PreparedRequest, int], None]
ErrorMapper = Callable[[int, bytes, Mapping[str, str]], ExchangeError]


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
        # isascii() is O(1) and ASCII isalnum() is [A-Za-z0-9]: a cheaper test than the regex.
        if not (key.isascii() and key.isalnum()) and not _needs_no_quoting(key):
            key = quote(key, safe=_QUERY_SAFE)
        if not (text.isascii() and text.isalnum()) and not _needs_no_quoting(text):
            text = quote(text, safe=_QUERY_SAFE)
        parts.append(f"{key}={text}")
    return "&".join(parts)


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
        self._backoff_initial_s = backoff_initial_s
        self._backoff_max_s = backoff_max_s
        # Sent with every request, also through a shared session; the signer sees them. Built
        # once: a request copies one of these two (the signer adds to its copy).
        self._default_headers = dict(headers or {})
        # MEXC refuses a write without it, bodyless ones too (700013), and Gate's docs send it
        # on every write; it costs nothing on venues that ignore it.
        self._write_headers = {**self._default_headers, "Content-Type": "application/json"}
        self.stats = HttpStats()

    @property
    def limiter(self) -> RateLimiter | None:
        return self._limiter

    async def request(
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
    ) -> Any:
        method = method.upper()
        if idempotent is None:
            idempotent = method in _IDEMPOTENT
        if signed and self._signer is None:
            raise ExchangeError(f"{method} {path} needs signing but no signer was given", venue=self.venue)
        query = encode_params(params)
        body = b"" if json_body is None else _encode_json(json_body)
        headers = self._write_headers if body or method in _WRITES else self._default_headers
        full_path = self._prefix + path
        retries = 0
        resynced = False
        while True:
            # A fresh copy per attempt: the signer adds to it, and a retry signs anew.
            prepared = PreparedRequest(method, full_path, query, body, dict(headers))
            try:
                return await self._send(prepared, pool, weight, signed)
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
                        f"{method} {self._origin}{full_path}: cannot connect ({exc})", venue=self.venue
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

    async def _send(self, prepared: PreparedRequest, pool: str, weight: int, signed: bool = False) -> Any:
        limiter = self._limiter
        self.stats.requests += 1
        try:
            if limiter is None:
                started = time.perf_counter()
                reply = await self._exchange(prepared, self._target(prepared, signed))
                self.stats.latency_ms.observe((time.perf_counter() - started) * 1e3)
            else:
                async with limiter.lease(pool, weight):
                    # Signed once admitted: a long wait for budget must not age the timestamp
                    # past the venue's receive window.
                    target = self._target(prepared, signed)
                    started = time.perf_counter()
                    reply = await self._exchange(prepared, target)
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
                f"{prepared.method} {prepared.path}: reply is not JSON: {body[:200]!r}",
                venue=self.venue,
                http_status=status,
            ) from exc

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
            wire = self._wire
            if wire is None:
                wire = self._wire = WirePool(self._origin)
            return wire.request(prepared.method, target, prepared.headers, prepared.body, self._timeout_s)
        return self._session_exchange(session, prepared, target)

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
        if wire is not None:
            await wire.close()


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
