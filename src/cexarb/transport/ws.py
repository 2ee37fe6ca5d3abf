"""A WebSocket that stays up: pings, a silence watchdog, endless reconnects, resubscription.

Per connection: one task receives (the hot path: count, call on_message, nothing else),
one keeper task sends application pings and closes the socket when the stream has been
silent too long. A supervisor task reconnects with capped, jittered exponential backoff
and replays every active subscription. Frames are handed over synchronously and in
order; none is ever dropped.

The watchdog counts data frames only (protocol pongs are invisible to it), so a quiet
channel needs an `app_ping` the venue answers, with ping_interval_s < silence_timeout_s.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Awaitable, Callable, Hashable, Mapping

import aiohttp

from cexarb.logs import log_kv
from cexarb.model.enums import ConnectionState
from cexarb.model.errors import NetworkError
from cexarb.transport import ticks
from cexarb.transport.causes import network_cause
from cexarb.transport.stats import StreamStats

_log = logging.getLogger(__name__)

Payload = str | bytes
SubscriptionFactory = Callable[[], Payload | list[Payload]]

_TEXT = aiohttp.WSMsgType.TEXT
_BINARY = aiohttp.WSMsgType.BINARY
# A dead peer never answers our close frame; don't wait the default 10 s for it.
_WS_TIMEOUT = aiohttp.ClientWSTimeout(ws_close=1.0)
_MAX_FRAME_BYTES = 64 * 1024 * 1024


class WsClient:
    def __init__(
        self,
        name: str,
        url: str | Callable[[], Awaitable[str]],
        *,
        on_message: Callable[[Payload], None],
        on_state: Callable[[ConnectionState], None] | None = None,
        on_connect: Callable[[], Awaitable[None]] | None = None,
        app_ping: Callable[[], Payload] | None = None,
        ping_interval_s: float = 15.0,
        silence_timeout_s: float = 30.0,
        backoff_initial_s: float = 0.1,
        backoff_max_s: float = 5.0,
        session: aiohttp.ClientSession | None = None,
        connect_timeout_s: float = 10.0,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.name = name
        self._url = url
        self._on_message = on_message
        self._on_state = on_state
        self._on_connect = on_connect
        self._app_ping = app_ping
        self._ping_interval_s = ping_interval_s
        self._silence_timeout_s = silence_timeout_s
        self._backoff_initial_s = backoff_initial_s
        self._backoff_max_s = backoff_max_s
        self._connect_timeout_s = connect_timeout_s
        # Sent on every handshake, also through a shared session.
        self._headers = dict(headers) if headers else None
        self._session = session
        self._owns_session = session is None
        self._subscriptions: dict[Hashable, SubscriptionFactory] = {}
        self._ws: aiohttp.ClientWebSocketResponse | None = None  # open socket, maybe not yet subscribed
        self._subscribed = False  # subscriptions replayed on self._ws: subscribe() sends directly
        self._receiver: asyncio.Task[None] | None = None
        self._keeper: asyncio.Task[None] | None = None
        self._supervisor: asyncio.Task[None] | None = None
        self._closing = False
        self.stats = StreamStats()

    @property
    def connected(self) -> bool:
        return self._subscribed and self._ws is not None and not self._ws.closed

    async def start(self) -> None:
        """Connect (raises NetworkError if the first attempt fails), then stay connected."""
        if self._supervisor is not None:
            raise RuntimeError(f"{self.name}: already started")
        self._closing = False
        try:
            await self._open()
        except BaseException:
            # _open already dropped the socket and its tasks; a failed start leaves nothing open.
            await self._close_own_session()
            raise
        self._supervisor = asyncio.create_task(self._supervise(), name=f"ws-supervisor:{self.name}")
        self._emit(ConnectionState.CONNECTED)

    async def send(self, data: Payload) -> None:
        ws = self._ws
        if ws is None or ws.closed:
            raise NetworkError(f"{self.name}: not connected", venue=self.name)
        try:
            if isinstance(data, str):
                await ws.send_str(data)
            else:
                await ws.send_bytes(data)
        except (aiohttp.ClientError, ConnectionError) as exc:
            raise NetworkError(f"{self.name}: send failed: {exc!r}", venue=self.name) from exc

    async def subscribe(self, key: Hashable, message: SubscriptionFactory) -> None:
        """Remember `key`; send `message()` now if subscribed and again after every reconnect."""
        self._subscriptions[key] = message
        if self._subscribed:
            try:
                await self._send_all(message())
            except NetworkError:
                pass  # the connection is going down; the reconnect replays this subscription

    async def unsubscribe(self, key: Hashable, message: Payload | None = None) -> None:
        self._subscriptions.pop(key, None)
        if message is not None and self._subscribed:
            with contextlib.suppress(NetworkError):
                await self.send(message)

    async def reconnect(self) -> None:
        """Drop the current connection; the supervisor reconnects and resubscribes at once."""
        ws = self._ws
        if ws is not None:
            await ws.close()

    async def close(self) -> None:
        was_closing, self._closing = self._closing, True
        ws = self._ws
        if ws is not None:
            await ws.close()
        supervisor, self._supervisor = self._supervisor, None
        if supervisor is not None:
            supervisor.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await supervisor
        await self._teardown()
        await self._close_own_session()
        if not was_closing:
            self._emit(ConnectionState.CLOSED)

    async def _close_own_session(self) -> None:
        if self._owns_session and self._session is not None:
            session, self._session = self._session, None
            await session.close()

    # -- connection lifecycle -------------------------------------------------------------

    async def _open(self) -> None:
        """One connection: socket, receiver + keeper, on_connect, replay subscriptions."""
        if self._session is None:
            self._session = aiohttp.ClientSession()
        # Named in errors without its query (MEXC's carries the listen key).
        target = self._url.split("?")[0] if isinstance(self._url, str) else "the stream URL"
        try:
            async with asyncio.timeout(self._connect_timeout_s):
                url = self._url if isinstance(self._url, str) else await self._url()
                target = url.split("?")[0]
                ws = await self._session.ws_connect(
                    url,
                    heartbeat=self._ping_interval_s,
                    timeout=_WS_TIMEOUT,
                    max_msg_size=_MAX_FRAME_BYTES,
                    headers=self._headers,
                )
                self._ws = ws
                self._receiver = asyncio.create_task(self._receive(ws), name=f"ws-receive:{self.name}")
                self._keeper = asyncio.create_task(self._keep(ws), name=f"ws-keeper:{self.name}")
                if self._on_connect is not None:
                    await self._on_connect()
                # From here subscribe() sends by itself; the snapshot below holds all earlier keys.
                self._subscribed = True
                for factory in list(self._subscriptions.values()):
                    await self._send_all(factory())
        except BaseException as exc:
            await self._teardown()
            if isinstance(exc, aiohttp.ClientError | OSError | TimeoutError):
                raise NetworkError(
                    f"{self.name}: cannot connect to {target} ({network_cause(exc)})", venue=self.name
                ) from exc
            raise

    async def _supervise(self) -> None:
        attempt = 0
        while True:
            started = time.monotonic()
            receiver = self._receiver
            if receiver is not None:
                # wait, not await: a receiver that crashed is one more lost connection.
                await asyncio.wait((receiver,))
                if not receiver.cancelled() and receiver.exception() is not None:
                    self._count_error(receiver.exception())
            await self._teardown()
            if self._closing:
                return
            self._emit(ConnectionState.DISCONNECTED)
            if time.monotonic() - started > self._backoff_max_s:
                attempt = 0  # it was a healthy connection: the first retry is immediate
            while True:
                if attempt:
                    await asyncio.sleep(self._backoff(attempt))
                attempt += 1
                try:
                    await self._open()
                    break
                except Exception as exc:  # noqa: BLE001 - any failure means: try again later
                    self._count_error(exc)
                    log_kv(
                        _log,
                        logging.WARNING,
                        "ws_connect_failed",
                        stream=self.name,
                        attempt=attempt,
                        error=str(exc),
                    )
            self.stats.reconnects += 1
            self.stats.last_reconnect_ms = int(time.time() * 1000)
            log_kv(_log, logging.INFO, "ws_reconnected", stream=self.name, attempt=attempt)
            self._emit(ConnectionState.RECONNECTED)

    async def _teardown(self) -> None:
        self._subscribed = False
        ws, self._ws = self._ws, None
        tasks = [t for t in (self._keeper, self._receiver) if t is not None]
        self._keeper = self._receiver = None
        for task in tasks:
            task.cancel()
        if ws is not None:
            with contextlib.suppress(Exception):
                await ws.close()
        await asyncio.gather(*tasks, return_exceptions=True)

    def _backoff(self, attempt: int) -> float:
        ceiling = min(self._backoff_max_s, self._backoff_initial_s * (2 ** (attempt - 1)))
        return ceiling / 2 + random.uniform(0, ceiling / 2)

    # -- per-connection tasks ---------------------------------------------------------------

    async def _receive(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        on_message = self._on_message
        stats = self.stats
        clock = time.perf_counter_ns
        while True:
            msg = await ws.receive()
            kind = msg.type
            if kind is _TEXT or kind is _BINARY:
                stats.frames += 1
                ticks.frame_ns = clock()  # tick-to-trade: when this frame was read
                try:
                    on_message(msg.data)
                except Exception as exc:  # noqa: BLE001 - a bad frame must not stop the stream
                    self._bad_frame(exc, msg.data)
                ticks.frame_ns = 0
            else:
                return  # CLOSE / CLOSING / CLOSED / ERROR: the connection is over

    async def _keep(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        """Application pings, and close the socket once no frame arrived for silence_timeout_s."""
        tick = min(self._ping_interval_s, self._silence_timeout_s / 4)
        loop = asyncio.get_running_loop()
        next_ping = loop.time() + self._ping_interval_s
        seen_frames = self.stats.frames
        last_frame_at = loop.time()
        while not ws.closed:
            await asyncio.sleep(tick)
            now = loop.time()
            if self.stats.frames != seen_frames:
                seen_frames = self.stats.frames
                last_frame_at = now
            elif now - last_frame_at >= self._silence_timeout_s:
                log_kv(
                    _log,
                    logging.WARNING,
                    "ws_silent",
                    stream=self.name,
                    silent_s=round(now - last_frame_at, 3),
                )
                await ws.close()
                return
            if self._app_ping is not None and now >= next_ping:
                next_ping = now + self._ping_interval_s
                with contextlib.suppress(aiohttp.ClientError, ConnectionError):
                    data = self._app_ping()
                    await (ws.send_str(data) if isinstance(data, str) else ws.send_bytes(data))

    async def _send_all(self, payload: Payload | list[Payload]) -> None:
        if isinstance(payload, list):
            for item in payload:
                await self.send(item)
        else:
            await self.send(payload)

    def _count_error(self, exc: BaseException) -> int:
        """Count `exc` by kind; returns how many of that kind were seen before."""
        kind = type(exc).__name__
        seen = self.stats.errors_by_kind.get(kind, 0)
        self.stats.errors_by_kind[kind] = seen + 1
        return seen

    def _bad_frame(self, exc: Exception, data: Payload) -> None:
        self.stats.bad_frames += 1
        kind = type(exc).__name__
        if not self._count_error(exc):  # once per kind: a flood of bad frames must not flood the log
            log_kv(
                _log,
                logging.WARNING,
                "ws_bad_frame",
                stream=self.name,
                error=f"{kind}: {exc}",
                frame=data[:200],
            )

    def _emit(self, state: ConnectionState) -> None:
        if self._on_state is None:
            return
        try:
            self._on_state(state)
        except Exception as exc:  # noqa: BLE001 - a listener's bug must not kill the connection
            log_kv(
                _log,
                logging.ERROR,
                "ws_state_callback_failed",
                stream=self.name,
                state=state.value,
                error=repr(exc),
            )
