"""Fault injection: what a venue does wrong, on demand.

`VenueFaults` is consulted by a venue's protocol front-end (REST middleware,
WebSocket handlers); `SimFaults` is the harness-level remote control
(`sim.faults.*`) that routes each call to one venue or to all of them.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from typing import Any

from aiohttp import WSCloseCode, web

from cexarb.sim.clock import SimClock

log = logging.getLogger("cexarb.sim.faults")


@dataclass(slots=True)
class SimStats:
    """Counters of one venue. Front-ends bump `frames_sent`; faults count the rest."""

    requests: int = 0
    ws_connections: int = 0  # currently open
    ws_connections_total: int = 0
    ws_rejected: int = 0
    frames_sent: int = 0
    failed_by_fault: int = 0
    delayed_by_fault: int = 0
    timeouts_after_accept: int = 0
    streams_dropped: int = 0
    frames_injected: int = 0
    handshakes_held: int = 0
    rest_hooks_run: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


# A REST hook's match: a path suffix (any method), or a predicate over the request.
RestMatch = str | Callable[[web.Request], bool]


@dataclass(slots=True)
class _RestHook:
    match: RestMatch
    action: Callable[[], Any]
    count: int

    def matches(self, request: web.Request) -> bool:
        if isinstance(self.match, str):
            return request.path.endswith(self.match)
        return bool(self.match(request))


@dataclass(slots=True)
class _ArmedFailure:
    count: int
    status: int
    body: bytes
    retry_after: float | None


class VenueFaults:
    """The faults armed on one venue."""

    def __init__(self, clock: SimClock, stats: SimStats | None = None) -> None:
        self.clock = clock
        self.stats = stats if stats is not None else SimStats()
        self.matching_paused = False
        self.ws_connections_rejected = False
        # How long a timed-out-after-accept reply is held before the connection is closed.
        self.timeout_hold_s = 1.0
        self._failures: list[_ArmedFailure] = []
        self._delays: list[list[float]] = []  # [count, seconds]
        self._timeouts_after_accept = 0
        self._stalled_until = 0.0
        self._handshake_hold_s = 0.0
        self._rest_hooks: list[_RestHook] = []
        self._blocked_channels: set[str] = set()
        self._ws: set[web.WebSocketResponse] = set()
        self._inject_hooks: list[Callable[[str | bytes], None]] = []
        self._tasks: set[asyncio.Task] = set()

    # ---- arming (called by SimFaults / the admin endpoint / tests) ----

    def fail_next_rest(
        self, count: int, status: int, body: bytes | None = None, retry_after: float | None = None
    ) -> None:
        default = b'{"error":"injected fault"}'
        self._failures.append(_ArmedFailure(count, status, default if body is None else body, retry_after))

    def block_channels(self, *parts: str) -> None:
        """Refuse new subscriptions to channels whose name contains any of `parts`, as a venue
        refuses a retired or blocked channel (subscriptions already held keep flowing)."""
        self._blocked_channels.update(parts)

    def unblock_channels(self) -> None:
        self._blocked_channels.clear()

    def channel_blocked(self, name: str) -> bool:
        return any(part in name for part in self._blocked_channels)

    def delay_next_rest(self, count: int, seconds: float) -> None:
        self._delays.append([count, seconds])

    def timeout_after_accept(self, count: int) -> None:
        self._timeouts_after_accept += count

    def hold_ws_handshakes(self, seconds: float) -> None:
        """Every WebSocket handshake waits `seconds` before it is answered (0 disarms): a slow
        stream set-up, so whatever happens meanwhile reaches only REST."""
        self._handshake_hold_s = max(0.0, float(seconds))

    def after_rest(self, match: RestMatch, action: Callable[[], Any], count: int = 1) -> None:
        """Run `action` (sync or async) once a matching request has been answered by the venue
        and before the reply is sent: the client's answer is already out of date when it lands
        (e.g. a fill right after an open-orders snapshot). Runs for the next `count` matches."""
        self._rest_hooks.append(_RestHook(match, action, count))

    def skew_clock(self, ms: int) -> None:
        self.clock.skew_ms = int(ms)

    def pause_matching(self, paused: bool = True) -> None:
        self.matching_paused = paused

    def reject_ws_connections(self, on: bool = True) -> None:
        self.ws_connections_rejected = on

    def stall_streams(self, seconds: float) -> None:
        self._stalled_until = time.monotonic() + seconds

    def drop_streams(self) -> None:
        for ws in list(self._ws):
            self.stats.streams_dropped += 1
            self._spawn(ws.close(code=WSCloseCode.GOING_AWAY, message=b"sim: stream dropped"))

    def inject_ws_frame(self, data: str | bytes) -> None:
        for hook in self._inject_hooks:
            hook(data)
        for ws in list(self._ws):
            if ws.closed:
                continue
            self.stats.frames_injected += 1
            self._spawn(ws.send_str(data) if isinstance(data, str) else ws.send_bytes(data))

    def clear(self) -> None:
        """Disarm everything (clock skew and pause included)."""
        self._failures.clear()
        self._delays.clear()
        self._timeouts_after_accept = 0
        self._stalled_until = 0.0
        self._handshake_hold_s = 0.0
        self._rest_hooks.clear()
        self._blocked_channels.clear()
        self.matching_paused = False
        self.ws_connections_rejected = False
        self.clock.skew_ms = 0

    # ---- consulted by front-ends ----

    async def before_rest(self, request: web.Request) -> web.StreamResponse | None:
        """REST middleware hook: None = handle the request normally, else send this reply."""
        self.stats.requests += 1
        if self._delays:
            armed = self._delays[0]
            armed[0] -= 1
            if armed[0] <= 0:
                self._delays.pop(0)
            self.stats.delayed_by_fault += 1
            await asyncio.sleep(armed[1])
        if self._failures:
            armed = self._failures[0]
            armed.count -= 1
            if armed.count <= 0:
                self._failures.pop(0)
            self.stats.failed_by_fault += 1
            headers = {"Content-Type": "application/json"}
            if armed.retry_after is not None:
                headers["Retry-After"] = _retry_after_text(armed.retry_after)
            return web.Response(status=armed.status, body=armed.body, headers=headers)
        return None

    async def after_rest_reply(self, request: web.Request) -> None:
        """REST middleware hook, called with the reply computed but not yet sent."""
        if not self._rest_hooks:
            return
        for hook in list(self._rest_hooks):
            if hook.count <= 0 or not hook.matches(request):
                continue
            hook.count -= 1
            if hook.count <= 0:
                self._rest_hooks.remove(hook)
            self.stats.rest_hooks_run += 1
            result = hook.action()
            if inspect.isawaitable(result):
                await result

    def take_timeout_after_accept(self) -> bool:
        """True once per armed count: the front-end completes the order, then calls `hold_then_drop`."""
        if self._timeouts_after_accept <= 0:
            return False
        self._timeouts_after_accept -= 1
        self.stats.timeouts_after_accept += 1
        return True

    async def hold_then_drop(self, request: web.Request) -> web.Response:
        """Hold the reply, then close the connection without answering."""
        await asyncio.sleep(self.timeout_hold_s)
        transport = request.transport
        if transport is not None:
            transport.abort()
        return web.Response(status=504)

    def register_ws(self, ws: web.WebSocketResponse) -> None:
        self._ws.add(ws)
        self.stats.ws_connections = len(self._ws)
        self.stats.ws_connections_total += 1

    def unregister_ws(self, ws: web.WebSocketResponse) -> None:
        self._ws.discard(ws)
        self.stats.ws_connections = len(self._ws)

    async def admit_ws_handshake(self) -> web.Response | None:
        """Front-ends await this before preparing a WebSocket: held while armed, then a 503
        while handshakes are refused (else None: go on)."""
        if self._handshake_hold_s > 0:
            self.stats.handshakes_held += 1
            await asyncio.sleep(self._handshake_hold_s)
        return self.reject_ws_handshake()

    def reject_ws_handshake(self) -> web.Response | None:
        """A 503 while handshakes are refused, else None."""
        if not self.ws_connections_rejected:
            return None
        self.stats.ws_rejected += 1
        return web.Response(status=503, text="sim: websocket handshakes refused")

    def ws_stalled(self) -> bool:
        """While True, front-ends send nothing on their streams (not even pongs)."""
        return self._stalled_until > 0 and time.monotonic() < self._stalled_until

    def on_inject(self, hook: Callable[[str | bytes], None]) -> None:
        """Optional: a front-end that writes frames through its own queue sends injected ones itself."""
        self._inject_hooks.append(hook)

    @property
    def websockets(self) -> frozenset[web.WebSocketResponse]:
        return frozenset(self._ws)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        self._tasks.clear()

    def _spawn(self, coro) -> None:
        try:
            task = asyncio.get_running_loop().create_task(coro)
        except RuntimeError:
            coro.close()
            log.warning("fault ignored: no running event loop")
            return
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.debug("fault task failed: %r", task.exception())


def _retry_after_text(seconds: float) -> str:
    return str(int(seconds)) if float(seconds).is_integer() else f"{seconds:g}"


class SimFaults:
    """`sim.faults`: the same faults, addressed by venue key (None = every venue)."""

    def __init__(self, venues: dict[str, VenueFaults]) -> None:
        self._venues = venues

    def venue(self, venue: str) -> VenueFaults:
        try:
            return self._venues[venue]
        except KeyError:
            raise KeyError(f"unknown venue {venue!r}; known: {sorted(self._venues)}") from None

    def _select(self, venue: str | None) -> Iterable[VenueFaults]:
        return self._venues.values() if venue is None else (self.venue(venue),)

    def drop_streams(self, venue: str | None = None) -> None:
        for faults in self._select(venue):
            faults.drop_streams()

    def stall_streams(self, venue: str | None, seconds: float) -> None:
        for faults in self._select(venue):
            faults.stall_streams(seconds)

    def fail_next_rest(
        self,
        venue: str,
        count: int,
        status: int,
        body: bytes | None = None,
        retry_after: float | None = None,
    ) -> None:
        self.venue(venue).fail_next_rest(count, status, body, retry_after)

    def delay_next_rest(self, venue: str, count: int, seconds: float) -> None:
        self.venue(venue).delay_next_rest(count, seconds)

    def timeout_after_accept(self, venue: str, count: int) -> None:
        self.venue(venue).timeout_after_accept(count)

    def skew_clock(self, venue: str, ms: int) -> None:
        self.venue(venue).skew_clock(ms)

    def hold_ws_handshakes(self, venue: str | None, seconds: float) -> None:
        for faults in self._select(venue):
            faults.hold_ws_handshakes(seconds)

    def after_rest(self, venue: str, match: RestMatch, action: Callable[[], Any], count: int = 1) -> None:
        self.venue(venue).after_rest(match, action, count)

    def pause_matching(self, venue: str, paused: bool = True) -> None:
        self.venue(venue).pause_matching(paused)

    def reject_ws_connections(self, venue: str, on: bool = True) -> None:
        self.venue(venue).reject_ws_connections(on)

    def inject_ws_frame(self, venue: str, data: str | bytes) -> None:
        self.venue(venue).inject_ws_frame(data)

    def block_channels(self, venue: str | None, *parts: str) -> None:
        for faults in self._select(venue):
            faults.block_channels(*parts)

    def unblock_channels(self, venue: str | None = None) -> None:
        for faults in self._select(venue):
            faults.unblock_channels()

    def clear(self, venue: str | None = None) -> None:
        for faults in self._select(venue):
            faults.clear()
