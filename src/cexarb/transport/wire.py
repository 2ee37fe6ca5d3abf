"""Keep-alive HTTP/1.1 connections written to directly: one asyncio Protocol per connection.

Why not aiohttp's ClientSession: on the order path it cost ~230 us per request before the
bytes reached the socket (connector, request object, a task for the body write), most of a
tick-to-trade budget. Here a request is one `transport.write` of bytes built in one pass,
on a connection that is already open, and the reply is parsed as it arrives.

What it does: a pool of connections per origin (http or https), reused last-in first-out;
a connection the server closes while idle is replaced in the background, so the next request
finds one open; replies framed by Content-Length, chunked transfer coding or the connection's
close. What it does not: redirects, proxies, compression (none is asked for), pipelining.
The caller decides about retries from the error type: `ConnectFailed` means the request was
never written; `ConnectionLost` and `TimeoutError` mean it may have reached the server.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import math
import ssl
from collections.abc import Mapping
from urllib.parse import urlsplit

from multidict import CIMultiDict, CIMultiDictProxy

from cexarb.transport import ticks
from cexarb.transport.causes import network_cause

_MAX_HEAD_BYTES = 64 * 1024
_NO_BODY_STATUS = frozenset({204, 304})
# Sent when the request's headers name no User-Agent (encode_head's callers add it themselves).
USER_AGENT_LINE = "User-Agent: cexarb\r\n"
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
# How early a timer may fire against the loop's clock (uvloop counts whole milliseconds).
_CLOCK_RESOLUTION_S = 0.001


class WireError(Exception):
    """A failure of the connection, not an HTTP status."""


class ConnectFailed(WireError):
    """No connection could be opened: the request was never written."""


class ConnectionLost(WireError):
    """The connection failed after the request was written (or while it was)."""


class BadReply(ConnectionLost):
    """The server answered with something that is not HTTP/1.x; the request may have acted."""


class Reply:
    """One HTTP reply: status, headers (case-insensitive) and the whole body."""

    __slots__ = ("status", "headers", "body")

    def __init__(self, status: int, headers: CIMultiDictProxy[str], body: bytes) -> None:
        self.status = status
        self.headers = headers
        self.body = body


class _Connection(asyncio.Protocol):
    """One socket; at most one request on it at a time."""

    def __init__(self, pool: WirePool) -> None:
        self._pool = pool
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self.served = 0  # replies read whole on this connection
        self._buf = bytearray()
        self._waiter: asyncio.Future[Reply] | None = None
        self._head: tuple[int, CIMultiDictProxy[str], bool] | None = None  # status, headers, keep-alive
        self._length = -1  # body bytes expected; -1 chunked, -2 until the connection closes
        self._chunks = bytearray()
        self._head_request = False

    # -- asyncio.Protocol --------------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self._buf += data
        if self._waiter is None:
            # Nothing was asked: a server speaking out of turn is not one to reuse.
            self._abort()
            return
        try:
            reply = self._parse()
        except BadReply as exc:
            self._fail(exc)
            self._abort()
            return
        if reply is not None:
            self._finish(reply)

    def eof_received(self) -> bool:
        return False  # close our side too

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.transport = None
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            if self._head is not None and self._length == -2:
                status, headers, _ = self._head
                self._finish(Reply(status, headers, bytes(self._buf)), reusable=False)
            else:
                cause = f": {exc!r}" if exc is not None else ""
                waiter.set_exception(ConnectionLost(f"the server closed the connection{cause}"))
        self._pool._lost(self)

    # -- requests ----------------------------------------------------------------------------
    def send(self, data: bytes, head_request: bool) -> asyncio.Future[Reply]:
        """Write one request; the future gets its reply."""
        self._head = None
        self._head_request = head_request
        self._waiter = waiter = self._pool.loop.create_future()
        self.transport.write(data)  # type: ignore[union-attr]
        return waiter

    def timed_out(self) -> None:
        """No reply in time: the connection cannot carry another request (a late reply would be
        read as the next one's)."""
        self._abort()

    def _abort(self) -> None:
        if self.transport is not None:
            self.transport.abort()
        self.closed = True

    def _fail(self, exc: Exception) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_exception(exc)

    def _finish(self, reply: Reply, reusable: bool = True) -> None:
        keep_alive = reusable and self._head is not None and self._head[2] and not self._buf
        waiter, self._waiter = self._waiter, None
        self._head = None
        self.served += 1
        if waiter is not None and not waiter.done():
            waiter.set_result(reply)
        if keep_alive and not self.closed:
            self._pool._release(self)
        else:
            self._abort()

    # -- reply parsing (incremental: called on every read until the reply is whole) ------------
    def _parse(self) -> Reply | None:
        buf = self._buf
        while self._head is None:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                if len(buf) > _MAX_HEAD_BYTES:
                    raise BadReply(f"reply head longer than {_MAX_HEAD_BYTES} bytes")
                return None
            head = self._parse_head(bytes(buf[:end]))
            del buf[: end + 4]
            if not 100 <= head[0] < 200:  # an interim reply (100 Continue): the real one follows
                self._head = head
                self._chunks.clear()
        status, headers, _ = self._head
        length = self._length
        if length >= 0:
            if len(buf) < length:
                return None
            body = bytes(buf[:length])
            del buf[:length]
            return Reply(status, headers, body)
        if length == -1:
            return self._parse_chunks(status, headers)
        return None  # read until the connection closes (connection_lost finishes it)

    def _parse_head(self, head: bytes) -> tuple[int, CIMultiDictProxy[str], bool]:
        lines = head.decode("latin-1").split("\r\n")
        parts = lines[0].split(" ", 2)
        if len(parts) < 2 or not parts[0].startswith("HTTP/1.") or not parts[1].isdigit():
            raise BadReply(f"not an HTTP/1.x status line: {lines[0][:100]!r}")
        status = int(parts[1])
        headers: CIMultiDict[str] = CIMultiDict()
        for line in lines[1:]:
            name, sep, value = line.partition(":")
            if not sep or not name or name != name.strip():
                raise BadReply(f"malformed header line: {line[:100]!r}")
            headers.add(name, value.strip())
        connection = headers.get("Connection", "").lower()
        keep_alive = "close" not in connection if parts[0] == "HTTP/1.1" else "keep-alive" in connection
        if self._head_request or status in _NO_BODY_STATUS or 100 <= status < 200:
            self._length = 0
        elif "chunked" in headers.get("Transfer-Encoding", "").lower():
            self._length = -1
        elif "Content-Length" in headers:
            text = headers["Content-Length"]
            if not text.isdigit():
                raise BadReply(f"bad Content-Length {text[:40]!r}")
            self._length = int(text)
        else:
            self._length = -2
            keep_alive = False
        return status, CIMultiDictProxy(headers), keep_alive

    def _parse_chunks(self, status: int, headers: CIMultiDictProxy[str]) -> Reply | None:
        buf = self._buf
        while True:
            line_end = buf.find(b"\r\n")
            if line_end < 0:
                return None
            size_text = bytes(buf[:line_end]).split(b";", 1)[0].strip()
            try:
                size = int(size_text, 16)
            except ValueError:
                raise BadReply(f"bad chunk size {size_text[:40]!r}") from None
            if size == 0:
                # Trailers (ignored) end with an empty line.
                end = buf.find(b"\r\n\r\n", line_end)
                if end < 0:
                    return None
                del buf[: end + 4]
                return Reply(status, headers, bytes(self._chunks))
            if len(buf) < line_end + 2 + size + 2:
                return None
            start = line_end + 2
            self._chunks += buf[start : start + size]
            del buf[: start + size + 2]


class _Slots(asyncio.Semaphore):
    """The pool's request slots (one per request under way, so at most `limit` connections)."""

    def free_now(self) -> bool:
        """Whether a slot is free now (`not locked()`), without locked()'s generator over the
        waiters when nobody waits (the lane asks on every order)."""
        if self._value <= 0:
            return False
        return not self._waiters or not self.locked()


def _header_text(headers: Mapping[str, str]) -> str:
    """`headers` as a head writes them ("Name: value\r\n" each, in order), unchecked."""
    return "".join([f"{name}: {value}\r\n" for name, value in headers.items()])


def header_lines(headers: Mapping[str, str]) -> str:
    """`headers` as encode() writes them in a head ("Name: value\r\n" each, in order), for
    WirePool.encode_head. Raises ValueError if a header carries a line break."""
    text = _header_text(headers)
    if text.count("\n") != len(headers) or text.count("\r") != len(headers):
        raise ValueError("a header carries a line break")
    return text


class WirePool:
    """Keep-alive connections to one origin (`scheme://host[:port]`), opened on demand."""

    def __init__(self, origin: str, *, limit: int = 100, ssl_context: ssl.SSLContext | None = None) -> None:
        parts = urlsplit(origin)
        if parts.scheme not in ("http", "https"):
            raise ValueError(f"not an http(s) origin: {origin!r}")
        self._host = parts.hostname or ""
        secure = parts.scheme == "https"
        self._port = parts.port or (443 if secure else 80)
        default_port = parts.port is None or parts.port == (443 if secure else 80)
        host = f"[{self._host}]" if ":" in self._host else self._host
        # The same on every request: formatted once.
        self._host_line = f"Host: {host}" if default_port else f"Host: {host}:{self._port}"
        self._ssl = (ssl_context or ssl.create_default_context()) if secure else None
        self._limit = limit
        self._idle: list[_Connection] = []
        self._open: set[_Connection] = set()
        self._slots = _Slots(limit)
        self._refills: set[asyncio.Task[None]] = set()
        # Each request written and not yet settled: its reply's future -> (deadline, connection).
        # One timer for all of them, armed at the earliest deadline: a timer per request cost
        # the order lane ~3 us (uvloop's call_at, cold after a pause).
        self._deadlines: dict[asyncio.Future[Reply], tuple[float, _Connection]] = {}
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at = math.inf
        self._closed = False
        self.loop = asyncio.get_running_loop()
        self.connects = 0  # connections opened, for stats and tests

    @property
    def idle(self) -> int:
        """Connections open and waiting for a request."""
        return len(self._idle)

    @property
    def closed(self) -> bool:
        return self._closed

    async def request(
        self, method: str, target: str, headers: Mapping[str, str], body: bytes, timeout_s: float
    ) -> Reply:
        """Send one request (`target`: path and query, verbatim) and read its whole reply.
        Raises ConnectFailed (never written), ConnectionLost or TimeoutError (may have been)."""
        data = self.encode(method, target, headers, body)
        deadline = self.loop.time() + timeout_s
        async with self._slots:
            conn = self._take_idle()
            if conn is None:
                conn = await self._connect(deadline)
            waiter = self._write(conn, data, method, deadline)
            try:
                return await waiter
            finally:
                self._settle(waiter, conn)

    def write_now(self, data: bytes, method: str, timeout_s: float) -> asyncio.Future[Reply]:
        """Write a request already encoded (`data`, from encode or encode_head) now, on an idle
        keep-alive connection, once the caller saw can_send_now() true with nothing awaited
        since (the order lane asks first, then signs: asking twice cost it a check per order).
        Returns the future of its reply (the same errors as request(): ConnectionLost,
        TimeoutError after timeout_s; the connection is aborted if the future is cancelled,
        as when its awaiting is)."""
        conn = self._idle.pop()  # open: can_send_now dropped the closed ones
        self._slots._value -= 1  # the slot can_send_now just saw free, taken (acquire's effect)
        waiter = self._write(conn, data, method, self.loop.time() + timeout_s)
        # Settled by a callback, not a coroutine: the slot comes back even if nobody awaits.
        waiter.add_done_callback(functools.partial(self._settled_now, conn))
        return waiter

    def can_send_now(self) -> bool:
        """Whether write_now may write now: the pool open, a slot free, a connection idle."""
        idle = self._idle
        while idle and idle[-1].closed:
            idle.pop()  # aborted, its connection_lost still to come: _take_idle drops it too
        if not idle or self._closed:
            return False
        slots = self._slots
        # free_now's common case inline (asked on every order): a slot left, nobody waiting.
        return (slots._value > 0 and not slots._waiters) or slots.free_now()

    def encode(self, method: str, target: str, headers: Mapping[str, str], body: bytes) -> bytes:
        """The bytes request() writes for this request (`target`: path and query, verbatim):
        head and body. Raises ValueError if a line or header carries a line break."""
        lines, count = _header_text(headers), len(headers)
        if "User-Agent" not in headers:
            lines, count = lines + USER_AGENT_LINE, count + 1
        return self.encode_head(method, target, lines, count, body)  # it checks the line breaks

    def encode_head(self, method: str, target: str, lines: str, count: int, body: bytes) -> bytes:
        """encode() of headers already written as head lines: `lines` is `count` lines of
        "Name: value\r\n" (header_lines' text, in the order sent; a User-Agent line among them
        or it goes without). For a client that states its constant headers' lines once.
        Raises ValueError if the request line or a header carries a line break."""
        # The request line's parts with `in` (memchr) and only the header lines counted: counting
        # line ends over the whole head cost the order lane ~0.5 us. (The Host line holds none:
        # urlsplit drops them.)
        if (
            "\n" in target
            or "\r" in target
            or "\n" in method
            or "\r" in method
            or lines.count("\n") != count
            or lines.count("\r") != count
        ):
            raise ValueError("a request line or header carries a line break")
        if body or method in _BODY_METHODS:
            head = f"{method} {target} HTTP/1.1\r\n{self._host_line}\r\n{lines}Content-Length: {len(body)}\r\n\r\n"
            return head.encode("latin-1") + body if body else head.encode("latin-1")
        return f"{method} {target} HTTP/1.1\r\n{self._host_line}\r\n{lines}\r\n".encode("latin-1")

    def _write(self, conn: _Connection, data: bytes, method: str, deadline: float) -> asyncio.Future[Reply]:
        """Write `data` on `conn`: the future of its reply, which times out at `deadline`."""
        waiter = conn.send(data, method == "HEAD")
        ticks.request_written()  # tick-to-trade: the request's bytes are with the socket now
        self._deadlines[waiter] = (deadline, conn)
        if deadline < self._timer_at:  # not with one timeout for all: deadlines only grow
            self._arm(deadline)
        return waiter

    def _arm(self, at: float) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._timer_at = at
        self._timer = self.loop.call_at(at, self._expire_due)

    def _expire_due(self) -> None:
        """The timer: every request whose deadline has come fails with TimeoutError (and its
        connection is aborted); armed again for the earliest deadline left."""
        self._timer = None
        self._timer_at = math.inf
        # As a timer per request fired: within the loop's clock resolution of its deadline.
        now = self.loop.time() + _CLOCK_RESOLUTION_S
        earliest = math.inf
        for waiter, (deadline, conn) in list(self._deadlines.items()):
            if deadline <= now:
                del self._deadlines[waiter]
                _expire(waiter, conn)
            elif deadline < earliest:
                earliest = deadline
        if earliest < math.inf and not self._closed:
            self._arm(earliest)

    def _settle(self, waiter: asyncio.Future[Reply], conn: _Connection) -> None:
        """A request's end (replied, failed, timed out or cancelled): its deadline dropped, and
        its connection aborted if the reply has nowhere to go (cancelled mid-request)."""
        self._deadlines.pop(waiter, None)
        if not waiter.done() or waiter.cancelled():
            conn.timed_out()

    def _settled_now(self, conn: _Connection, waiter: asyncio.Future[Reply]) -> None:
        self._settle(waiter, conn)
        self._slots.release()

    def _take_idle(self) -> _Connection | None:
        idle = self._idle
        while idle:
            conn = idle.pop()
            if not conn.closed:
                return conn
        return None

    async def _connect(self, deadline: float) -> _Connection:
        if self._closed:
            raise ConnectFailed("the client is closed")
        raw = None
        try:
            async with asyncio.timeout_at(deadline):
                raw, conn = await self.loop.create_connection(
                    lambda: _Connection(self), self._host, self._port
                )
                # No write buffering: uvloop queues a write and sends it when the loop's
                # current batch of callbacks ends, so an order would wait for the rest of the
                # reflex (the next order built, both booked). With no high-water room the
                # socket's send runs inside transport.write, as on asyncio's own loop. Set on
                # the TCP transport, under TLS too: TLS writes its records to it.
                raw.set_write_buffer_limits(high=0)
                if self._ssl is not None:
                    conn.transport = await self.loop.start_tls(
                        raw, conn, self._ssl, server_hostname=self._host
                    )
        except (OSError, TimeoutError, ssl.SSLError) as exc:
            if raw is not None:
                raw.abort()  # a TLS handshake that failed or timed out: no half-open socket left
            raise ConnectFailed(network_cause(exc)) from exc
        self.connects += 1
        self._open.add(conn)
        return conn

    def _release(self, conn: _Connection) -> None:
        if self._closed:
            conn.timed_out()
        else:
            self._idle.append(conn)

    def _lost(self, conn: _Connection) -> None:
        self._open.discard(conn)
        was_idle = conn in self._idle
        if was_idle:
            self._idle.remove(conn)
        if was_idle and conn.served and not self._closed and not self._idle:
            # The server ended a healthy idle connection: have one open before the next request
            # needs it (an order must not pay for a TCP/TLS handshake). One attempt; a request
            # that finds none still connects by itself. Only for one that carried a request: a
            # server closing every new connection at once must not make this loop.
            task = self.loop.create_task(self._refill())
            self._refills.add(task)
            task.add_done_callback(self._refills.discard)

    async def _refill(self) -> None:
        with contextlib.suppress(ConnectFailed):
            conn = await self._connect(self.loop.time() + 10.0)
            self._release(conn)

    async def close(self) -> None:
        """Close every connection; requests under way fail with ConnectionLost."""
        self._closed = True
        if self._timer is not None:
            self._timer.cancel()  # the requests under way fail with their connections
            self._timer = None
        for task in list(self._refills):
            task.cancel()
        await asyncio.gather(*self._refills, return_exceptions=True)
        for conn in list(self._open):
            conn.timed_out()
        self._idle.clear()


def _expire(waiter: asyncio.Future[Reply], conn: _Connection) -> None:
    if not waiter.done():
        waiter.set_exception(TimeoutError())
        conn.timed_out()


class _NullTransport(asyncio.Transport):
    """A socket that is not one: what is written to it goes nowhere (DryWirePool's)."""

    def write(self, data: bytes | bytearray | memoryview) -> None:
        pass

    def abort(self) -> None:
        pass

    def close(self) -> None:
        pass

    def is_closing(self) -> bool:
        return False


# What DryWirePool.answer gives every request: the shortest whole reply that keeps its
# connection open.
_DRY_REPLY = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"


class DryWirePool(WirePool):
    """A WirePool whose connections are no sockets: a request written to it goes nowhere,
    and `answer` gives each one an empty 200. Writing runs WirePool's own write path (the
    slot, the connection, the deadline, the reply's callback), so an order's code can be
    run to its socket write without sending anything (HttpClient.rehearsing). It opens no
    connection, ever: where a WirePool would connect, it raises ConnectFailed."""

    def ready(self) -> None:
        """A connection idle (a dry one made if none is): can_send_now holds after this."""
        if not self._idle:
            conn = _Connection(self)
            conn.connection_made(_NullTransport())
            self._open.add(conn)
            self._idle.append(conn)

    def answer(self) -> None:
        """Every request written and not answered yet, answered now (an empty 200): its
        connection is idle again at once, its slot from the reply's callback on."""
        for waiter, (_, conn) in list(self._deadlines.items()):
            if not waiter.done():
                conn.data_received(_DRY_REPLY)

    async def _connect(self, deadline: float) -> _Connection:
        raise ConnectFailed("a dry pool opens no connection")
