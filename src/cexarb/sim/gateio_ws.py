"""Gate WebSocket v4 server framing, shared by the spot and futures front-ends.

Frames are JSON: requests `{"time", "id"?, "channel", "event", "payload"?, "auth"?}`, replies and pushes
`{"time", "time_ms", "channel", "event", "error", "result"}`. `<prefix>.ping` answers `<prefix>.pong`.
Private channels authenticate per subscription (HMAC-SHA512 over channel/event/time).

The hub keeps subscriptions and fans pushes out: a push is encoded once per size format (futures
clients may ask for decimal sizes on the handshake) and queued to each subscriber; one writer task per
connection sends its queue, and sends nothing while the venue's streams are stalled.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import msgspec
from aiohttp import WSMsgType, web

from cexarb.sim.gateio_auth import TIMESTAMP_WINDOW_S, verify_ws_auth
from cexarb.sim.gateio_errors import GateError

log = logging.getLogger(__name__)

ALL = "!all"
# How long the writer naps between checks while the venue's streams are stalled.
_STALL_POLL_S = 0.02

# Error codes of WS v4 replies.
ERR_BAD_FORMAT = 1
ERR_BAD_ARGUMENT = 2
ERR_SERVER = 3
ERR_AUTH = 4


class WsError(Exception):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Subscription:
    """What a subscribe request asks for: topics (pairs/contracts or '!all') and, if private, the key."""

    topics: tuple[str, ...]
    api_key: str | None = None


@dataclass(frozen=True)
class ChannelSpec:
    """One channel: whether it needs auth, and how to read its payload into topics.

    `parse(payload, api_key)` returns the topics or raises WsError(ERR_BAD_ARGUMENT, ...).
    """

    private: bool
    parse: Callable[[list[Any], str | None], tuple[str, ...]]
    # How an unsubscribe payload is read, when it differs from a subscribe's.
    parse_unsubscribe: Callable[[list[Any], str | None], tuple[str, ...]] | None = None


@dataclass(eq=False)
class Conn:
    ws: web.WebSocketResponse
    conn_id: str
    decimal: bool
    queue: deque[bytes | str] = field(default_factory=deque)
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    # channel -> (topics, api_key)
    subs: dict[str, tuple[set[str], str | None]] = field(default_factory=dict)

    def put(self, frame: bytes | str) -> None:
        self.queue.append(frame)
        self.wake.set()


class Push:
    """A push whose `result` is built lazily, at most once per size format."""

    __slots__ = ("_channel", "_make", "_cache", "_hub")

    def __init__(self, hub: GateWsHub, channel: str, make: Callable[[bool], Any]) -> None:
        self._hub = hub
        self._channel = channel
        self._make = make
        self._cache: dict[bool, bytes] = {}

    def frame(self, decimal: bool) -> bytes:
        data = self._cache.get(decimal)
        if data is None:
            now_ms = self._hub.now_ms()
            data = msgspec.json.encode(
                {
                    "time": now_ms // 1000,
                    "time_ms": now_ms,
                    "channel": self._channel,
                    "event": "update",
                    "result": self._make(decimal),
                }
            )
            self._cache[decimal] = data
        return data


class GateWsHub:
    def __init__(self, venue: Any, prefix: str, channels: dict[str, ChannelSpec]) -> None:
        self.venue = venue
        self.prefix = prefix  # "spot" or "futures"
        self.channels = channels
        self.conns: set[Conn] = set()
        self._public: dict[tuple[str, str], set[Conn]] = {}
        self._private: dict[tuple[str, str], set[Conn]] = {}
        self._ids = itertools.count(1)

    def now_ms(self) -> int:
        return int(self.venue.clock.now_ms())

    def _secret_of(self, key: str) -> str | None:
        acct = self.venue.account(key)
        return acct.api_secret if acct is not None else None

    # ---- publishing (called synchronously from the venue's event callback) ------------------------

    def has_public(self, channel: str, topic: str) -> bool:
        return bool(self._public.get((channel, topic)))

    def publish(self, channel: str, topic: str, make: Callable[[bool], Any]) -> None:
        conns = self._public.get((channel, topic))
        if conns:
            push = Push(self, channel, make)
            for c in conns:
                c.put(push.frame(c.decimal))

    def publish_private(
        self, channel: str, api_key: str, topic: str | None, make: Callable[[bool], Any]
    ) -> None:
        """Push to connections that subscribed `channel` with `api_key` (topic None: no topic filter)."""
        conns = self._private.get((channel, api_key))
        if not conns:
            return
        push = Push(self, channel, make)
        for c in conns:
            topics = c.subs[channel][0]
            if topic is None or topic in topics or ALL in topics:
                c.put(push.frame(c.decimal))

    def broadcast_raw(self, data: bytes | str) -> None:
        for c in self.conns:
            c.put(data)

    # ---- connection handling ----------------------------------------------------------------------

    async def handle(self, request: web.Request) -> web.StreamResponse:
        faults = self.venue.faults
        refused = await faults.admit_ws_handshake()
        if refused is not None:
            return refused
        ws = web.WebSocketResponse(autoping=False, max_msg_size=1 << 20)
        await ws.prepare(request)
        conn = Conn(
            ws=ws,
            conn_id=f"{next(self._ids):016x}",
            decimal=request.headers.get("X-Gate-Size-Decimal") == "1",
        )
        self.conns.add(conn)
        faults.register_ws(ws)
        writer = asyncio.create_task(self._write_loop(conn))
        try:
            async for msg in ws:
                if msg.type == WSMsgType.TEXT:
                    self._on_text(conn, msg.data)
                elif msg.type == WSMsgType.PING:
                    if not faults.ws_stalled():
                        await ws.pong(msg.data)
                elif msg.type in (WSMsgType.CLOSE, WSMsgType.ERROR):
                    break
        finally:
            writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await writer
            self._forget(conn)
            faults.unregister_ws(ws)
            if not ws.closed:
                await ws.close()
        return ws

    async def _write_loop(self, conn: Conn) -> None:
        faults = self.venue.faults
        ws = conn.ws
        try:
            while not ws.closed:
                if not conn.queue:
                    conn.wake.clear()
                    await conn.wake.wait()
                    continue
                while faults.ws_stalled():
                    await asyncio.sleep(_STALL_POLL_S)
                frame = conn.queue.popleft()
                if isinstance(frame, bytes):
                    # Pushes are JSON text on Gate; bytes here are UTF-8 JSON from msgspec.
                    await ws.send_str(frame.decode())
                else:
                    await ws.send_str(frame)
                faults.stats.frames_sent += 1
        except (ConnectionResetError, RuntimeError):
            pass

    def _forget(self, conn: Conn) -> None:
        self.conns.discard(conn)
        for channel, (topics, key) in conn.subs.items():
            if key is not None:
                self._private.get((channel, key), set()).discard(conn)
            else:
                for t in topics:
                    self._public.get((channel, t), set()).discard(conn)
        conn.subs.clear()

    # ---- request handling -------------------------------------------------------------------------

    def _reply(
        self, conn: Conn, req: dict[str, Any], channel: str, event: str, error: WsError | None, result: Any
    ) -> None:
        now_ms = self.now_ms()
        out: dict[str, Any] = {"time": now_ms // 1000, "time_ms": now_ms}
        if "id" in req:
            out["id"] = req["id"]
        out["conn_id"] = conn.conn_id
        out["channel"] = channel
        out["event"] = event
        if "payload" in req:
            out["payload"] = req["payload"]
        out["error"] = None if error is None else {"code": error.code, "message": error.message}
        out["result"] = result
        conn.put(msgspec.json.encode(out))

    def _on_text(self, conn: Conn, text: str) -> None:
        try:
            req = json.loads(text)
        except ValueError:
            req = None
        if not isinstance(req, dict) or not isinstance(req.get("channel"), str):
            self._reply(conn, {}, "", "", WsError(ERR_BAD_FORMAT, "invalid request body format"), None)
            return
        channel: str = req["channel"]
        event = req.get("event", "")
        if channel == f"{self.prefix}.ping":
            now_ms = self.now_ms()
            pong = {
                "time": now_ms // 1000,
                "time_ms": now_ms,
                "channel": f"{self.prefix}.pong",
                "event": "",
                "error": None,
                "result": None,
            }
            if "id" in req:
                pong["id"] = req["id"]
            conn.put(msgspec.json.encode(pong))
            return
        try:
            spec = self.channels.get(channel)
            if spec is None:
                raise WsError(ERR_BAD_ARGUMENT, f"unknown channel {channel}")
            if event not in ("subscribe", "unsubscribe"):
                raise WsError(ERR_BAD_ARGUMENT, f"unknown event {event!r}")
            payload = req.get("payload") or []
            if not isinstance(payload, list):
                raise WsError(ERR_BAD_FORMAT, "invalid argument struct: payload must be a list")
            api_key = self._authenticate(req, channel, event) if spec.private else None
            parse = (
                spec.parse_unsubscribe if event == "unsubscribe" and spec.parse_unsubscribe else spec.parse
            )
            topics = parse(payload, api_key)
            if event == "subscribe":
                self._subscribe(conn, channel, topics, api_key)
            else:
                self._unsubscribe(conn, channel, topics)
        except WsError as err:
            self._reply(conn, req, channel, event, err, {"status": "fail"})
            return
        self._reply(conn, req, channel, event, None, {"status": "success"})

    def _authenticate(self, req: dict[str, Any], channel: str, event: str) -> str:
        try:
            time_s = int(req.get("time"))  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise WsError(ERR_AUTH, _auth_message("INVALID_SIGNATURE", "invalid time")) from None
        if abs(self.venue.clock.now_s() - time_s) > TIMESTAMP_WINDOW_S:
            raise WsError(ERR_AUTH, _auth_message("REQUEST_EXPIRED", "Signature expired"))
        try:
            return verify_ws_auth(self._secret_of, channel, event, time_s, req.get("auth"))
        except GateError as err:
            raise WsError(ERR_AUTH, _auth_message(err.label, err.message)) from None

    def _subscribe(self, conn: Conn, channel: str, topics: tuple[str, ...], api_key: str | None) -> None:
        current, old_key = conn.subs.get(channel, (set(), api_key))
        if old_key != api_key:
            # Re-subscribing a private channel with another key replaces the old subscription.
            self._unsubscribe(conn, channel, tuple(current))
            current = set()
        current.update(topics)
        conn.subs[channel] = (current, api_key)
        if api_key is not None:
            self._private.setdefault((channel, api_key), set()).add(conn)
        else:
            for t in topics:
                self._public.setdefault((channel, t), set()).add(conn)

    def _unsubscribe(self, conn: Conn, channel: str, topics: tuple[str, ...]) -> None:
        entry = conn.subs.get(channel)
        if entry is None:
            return
        current, key = entry
        for t in topics or tuple(current):
            current.discard(t)
            if key is None:
                self._public.get((channel, t), set()).discard(conn)
        if not current:
            del conn.subs[channel]
            if key is not None:
                self._private.get((channel, key), set()).discard(conn)


def _auth_message(label: str, message: str) -> str:
    return json.dumps({"label": label, "message": message})
