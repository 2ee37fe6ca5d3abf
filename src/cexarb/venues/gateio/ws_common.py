"""One Gate v4 WebSocket (spot or futures): request frames, envelope decoding, dispatch.

Frames are decoded in two msgspec passes that never build dicts: the envelope first, with
`result` kept as raw bytes, then the result straight into the channel's typed Struct by the
channel's own handler. Channels routed with `route_list` (a list of flat Structs, e.g. the
user trades) are first offered to the compiled one-pass reader (`_gatewire`, where it was
built), which gives the same Structs or declines the frame to the msgspec path; for the
order channels (`route_orders`) it gives the codec's Orders instead. Subscribe
acks and errors are matched by channel. Private requests carry a fresh `auth` signature each
time they are sent, so a reconnect re-authenticates.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from typing import Any

import aiohttp
import msgspec

from cexarb.config import VenueConfig
from cexarb.logs import log_kv
from cexarb.model import ConnectionState, Order, Symbol
from cexarb.model.errors import ExchangeError, ProtocolError, TimestampError
from cexarb.transport import Clock, WsClient
from cexarb.transport.stats import StreamStats
from cexarb.venues.gateio.auth import GateSigner
from cexarb.venues.gateio.errors import VENUE, ws_error
from cexarb.venues.gateio.messages import Envelope
from cexarb.venues.gateio.symbols import to_venue

try:
    # Built by `pip install` where a compiler is present; declines what it does not fully read.
    from cexarb.venues.gateio import _gatewire
    from cexarb.venues.gateio._gatewire import read as _wire_read
except ImportError:
    _gatewire = _wire_read = None

_log = logging.getLogger(__name__)

ResultHandler = Callable[[msgspec.Raw], None]
_decode_envelope = msgspec.json.Decoder(Envelope).decode
_encode = msgspec.json.Encoder().encode
_CAUGHT = (msgspec.DecodeError, msgspec.ValidationError, KeyError, ValueError)

_CONSTRAINTS = ("ge", "gt", "le", "lt", "multiple_of", "min_length", "max_length", "pattern")
# `_gatewire` field kinds, by the Struct field's type
_KINDS = {
    msgspec.inspect.FloatType: 0,
    (msgspec.inspect.FloatType, msgspec.inspect.NoneType): 1,
    msgspec.inspect.StrType: 2,
    (msgspec.inspect.StrType, msgspec.inspect.IntType): 3,
    (msgspec.inspect.IntType, msgspec.inspect.StrType): 3,
    msgspec.inspect.IntType: 4,
    msgspec.inspect.BoolType: 5,
}


# list[tuple[float, float]] (book levels), read into a `_gatewire.Levels` (a read-only sequence
# equal to that list, applied by the compiled ladder without a tuple per level); absent -> []
_LEVELS = 6


def _kind(t: msgspec.inspect.Type) -> int | None:
    if isinstance(t, msgspec.inspect.UnionType):
        if any(getattr(u, name, None) is not None for u in t.types for name in _CONSTRAINTS):
            return None
        return _KINDS.get(tuple(type(u) for u in t.types))
    if isinstance(t, msgspec.inspect.ListType) and isinstance(t.item_type, msgspec.inspect.TupleType):
        items = t.item_type.item_types
        plain = all(type(u) is msgspec.inspect.FloatType and _kind(u) == 0 for u in items)
        return _LEVELS if len(items) == 2 and plain and t.min_length is t.max_length is None else None
    if any(getattr(t, name, None) is not None for name in _CONSTRAINTS):
        return None
    return _KINDS.get(type(t))


def wire_spec(channel: str, item_type: type, *, single: bool = False, build: tuple | None = None) -> tuple:
    """What `_gatewire.compile` takes for one channel whose result is a list of `item_type`
    (or one, `single`): the JSON keys, each field's kind and its default (the type itself
    marks a required one); with `build` (`codec.wire_order_build`) each item becomes its
    Order instead. Raises TypeError for a Struct the reader cannot build exactly
    (another field type, a constraint, a default factory other than a levels list,
    array-like/tagged Structs)."""
    info = msgspec.inspect.type_info(item_type)
    if info.array_like or info.forbid_unknown_fields or info.tag_field is not None:
        raise TypeError(f"{item_type.__name__}: only plain Structs are read off the wire")
    keys, kinds, defaults = [], bytearray(), []
    for field in info.fields:
        kind = _kind(field.type)
        factory = field.default_factory
        if kind is None or (factory is not msgspec.NODEFAULT and not (kind == _LEVELS and factory is list)):
            raise TypeError(f"{item_type.__name__}.{field.name}: {field.type} is not read off the wire")
        keys.append(field.encode_name.encode())
        kinds.append(kind)
        defaults.append(item_type if field.required else field.default)
    return (channel.encode(), item_type, tuple(keys), bytes(kinds), tuple(defaults), single, build)


class GateWs:
    """A WsClient plus Gate's framing. `prefix` is "spot" or "futures"."""

    def __init__(
        self,
        name: str,
        config: VenueConfig,
        prefix: str,
        *,
        on_error: Callable[[Exception], None],
        on_state: Callable[[ConnectionState], None],
        signer: GateSigner | None = None,
        clock: Clock | None = None,
        session: aiohttp.ClientSession | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.prefix = prefix
        self._signer = signer
        self._clock = clock
        self._on_error = on_error
        self._routes: dict[str, ResultHandler] = {}
        # Channels read by `_gatewire` when it is built, by reader index: their handlers and
        # (apart, read only when a handler fails) their names.
        self._wire_handlers: list[Callable[[Any], None]] = []
        self._wire_channels: list[str] = []
        self._wire_specs: list[tuple] = []
        self.wire_reader: Any = None
        self._acks: dict[str, asyncio.Future[None]] = {}
        # Private subscriptions by channel (payload), to resend once after a clock resync.
        self._private: dict[str, list | None] = {}
        self._resent: set[str] = set()
        self._ping_frame = f'{{"channel":"{prefix}.ping","time":%d}}'
        self._tasks: set[asyncio.Task] = set()
        self._name = name
        self._config = config
        self._on_state = on_state
        self._session = session
        self._headers = headers  # sent on every handshake, whoever owns the session
        self._client: WsClient | None = None

    @property
    def client(self) -> WsClient:
        """Built on first use, inside the event loop (where WsClient creates its own session)."""
        if self._client is None:
            cfg = self._config
            self._client = WsClient(
                self._name,
                cfg.ws_url,
                on_message=self.on_message,
                on_state=self._on_state,
                app_ping=self._app_ping,
                ping_interval_s=cfg.ping_interval_s,
                silence_timeout_s=cfg.silence_timeout_s,
                backoff_max_s=cfg.reconnect_max_s,
                session=self._session,
                headers=self._headers,
            )
        return self._client

    @property
    def stats(self) -> StreamStats:
        return self._client.stats if self._client is not None else StreamStats()

    @property
    def connected(self) -> bool:
        return self._client is not None and self._client.connected

    # ---- requests ---------------------------------------------------------------------------

    def now_s(self) -> int:
        return (self._clock.now_ms() if self._clock is not None else int(time.time() * 1000)) // 1000

    def request(self, channel: str, event: str, payload: list | None = None, *, private: bool = False) -> str:
        """A subscribe/unsubscribe frame; private ones are signed with the current time."""
        now = self.now_s()
        frame: dict[str, Any] = {"time": now, "channel": channel, "event": event}
        if payload is not None:
            frame["payload"] = payload
        if private:
            if self._signer is None:
                raise ExchangeError(f"{channel} needs API credentials", venue=VENUE)
            frame["auth"] = self._signer.ws_auth(channel, event, now)
        return _encode(frame).decode()

    def _app_ping(self) -> str:
        return self._ping_frame % self.now_s()

    def route(self, channel: str, handler: ResultHandler) -> None:
        self._routes[channel] = handler

    def route_list(self, channel: str, item_type: type, handler: Callable[[list], None]) -> None:
        """`handler(items)` for each update of a channel whose result is a list of flat
        `item_type` Structs: read in one pass by `_gatewire` where it is built, else (and for
        any frame it declines) decoded by msgspec into the same Structs."""
        self._route_read(channel, list[item_type], handler, wire_spec(channel, item_type))

    def route_struct(self, channel: str, item_type: type, handler: Callable[[Any], None]) -> None:
        """`handler(item)` for each update of a channel whose result is one flat `item_type`
        Struct (book levels allowed), read as `route_list` reads its items."""
        self._route_read(channel, item_type, handler, wire_spec(channel, item_type, single=True))

    def route_orders(
        self,
        channel: str,
        item_type: type,
        handler: Callable[[list], None],
        on_orders: Callable[[list[Order]], None],
        build: tuple,
    ) -> None:
        """`route_list` for an order channel whose items `_gatewire`, where it is built, makes
        into Orders itself (`build`: `codec.wire_order_build`): `on_orders(orders)` for each
        frame it reads; the frames it declines reach `handler(items)` as Structs, for the
        Python codec (the same Orders, exactly)."""
        spec = wire_spec(channel, item_type, build=build)
        self._route_read(channel, list[item_type], handler, spec, on_orders)

    def _route_read(
        self,
        channel: str,
        kind: Any,
        handler: Callable[[Any], None],
        spec: tuple,
        wire_handler: Callable[[Any], None] | None = None,
    ) -> None:
        decode = result_decoder(kind)
        self._routes[channel] = lambda raw: handler(decode(raw))
        if _gatewire is not None:
            self._wire_handlers.append(wire_handler or handler)
            self._wire_channels.append(channel)
            self._wire_specs.append(spec)
            self.wire_reader = _gatewire.compile(tuple(self._wire_specs))

    async def subscribe(
        self, key: Any, channel: str, payload: list | None = None, *, private: bool = False
    ) -> None:
        if private:
            self._private[channel] = payload
        await self.client.subscribe(key, lambda: self.request(channel, "subscribe", payload, private=private))

    async def unsubscribe(
        self, key: Any, channel: str, payload: list | None = None, *, private: bool = False
    ) -> None:
        await self.client.unsubscribe(key, self.request(channel, "unsubscribe", payload, private=private))

    def expect_ack(self, channel: str) -> asyncio.Future[None]:
        fut = asyncio.get_running_loop().create_future()
        self._acks[channel] = fut
        return fut

    # ---- frames -----------------------------------------------------------------------------

    def on_message(self, data: str | bytes) -> None:
        reader = self.wire_reader
        if reader is not None:
            read = _wire_read(data, reader)
            if read is not None:
                index, items = read
                try:
                    self._wire_handlers[index](items)
                except _CAUGHT as exc:
                    self._bad(f"{self._wire_channels[index]}: {type(exc).__name__}: {exc}", data)
                return
        try:
            env = _decode_envelope(data)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            self._bad(f"undecodable frame: {exc}", data)
            return
        if env.event == "update" or env.event == "all":
            handler = self._routes.get(env.channel)
            if handler is None:
                self._unrouted(env.channel)
                return
            try:
                handler(env.result)
            except _CAUGHT as exc:
                self._bad(f"{env.channel}: {type(exc).__name__}: {exc}", data)
        elif env.event == "subscribe" or env.event == "unsubscribe":
            self._on_ack(env)
        elif env.type == "upgrade":
            # the venue is about to close this connection for maintenance: move now
            log_kv(_log, logging.INFO, "ws_upgrade_notice", stream=self._name)
            self._spawn(self.client.reconnect())

    def _on_ack(self, env: Envelope) -> None:
        if env.error is None and env.event == "subscribe":
            self._resent.discard(env.channel)
        fut = self._acks.pop(env.channel, None) if env.event == "subscribe" else None
        if env.error is not None:
            err = ws_error(env.error.code, env.error.message, env.channel)
            if isinstance(err, TimestampError) and self._resync_and_resend(env):
                if fut is not None:
                    self._acks[env.channel] = fut  # the resent request answers it
                return
            if fut is not None and not fut.done():
                fut.set_exception(err)
            self._on_error(err)
        elif fut is not None and not fut.done():
            fut.set_result(None)

    def _resync_and_resend(self, env: Envelope) -> bool:
        """A private login refused for its timestamp: take the venue's time from the reply and
        sign the subscription again, once per channel (else the stream would run logged out)."""
        channel = env.channel
        if self._clock is None or not env.time_ms or channel not in self._private or channel in self._resent:
            return False
        self._resent.add(channel)
        server_ms = env.time_ms

        async def server_time() -> int:
            return server_ms

        async def resend() -> None:
            await self._clock.sync(server_time)
            log_kv(
                _log, logging.WARNING, "ws_clock_resynced", stream=self._name, offset_ms=self._clock.offset_ms
            )
            with contextlib.suppress(ExchangeError):  # the connection went down: a reconnect resubscribes
                await self.client.send(
                    self.request(channel, "subscribe", self._private[channel], private=True)
                )

        self._spawn(resend())
        return True

    def _unrouted(self, channel: str) -> None:
        """An update on a channel this stream has no route for: skipped, counted (stats
        errors_by_kind["UnroutedChannel"]) and logged once per stream."""
        counts = self.stats.errors_by_kind
        seen = counts.get("UnroutedChannel", 0)
        counts["UnroutedChannel"] = seen + 1
        if not seen:
            log_kv(_log, logging.WARNING, "ws_unrouted_channel", stream=self._name, channel=channel)

    def _bad(self, reason: str, data: str | bytes) -> None:
        err = ProtocolError(f"{self._name}: {reason}", venue=VENUE)
        self._on_error(err)
        # re-raised so the transport counts it (stats.bad_frames) and logs it once per kind
        raise err

    def _spawn(self, coro) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        for fut in self._acks.values():
            fut.cancel()
        self._acks.clear()
        if self._client is not None:
            await self._client.close()


def result_decoder(kind: Any) -> Callable[[msgspec.Raw], Any]:
    """Lax decoder for one channel's `result` (numeric strings into float fields)."""
    return msgspec.json.Decoder(kind, strict=False).decode


class GateStream:
    """What every Gate stream object offers over its one GateWs: stats, state, frames, close.
    Subclasses keep `handlers` (errors and connection states go there) and `_ws`."""

    handlers: Any
    _ws: GateWs

    def _open(self, name: str, config: VenueConfig, prefix: str, **options: Any) -> GateWs:
        return GateWs(
            name,
            config,
            prefix,
            on_error=lambda e: self.handlers.error(e),
            on_state=lambda s: self.handlers.connection(s),
            **options,
        )

    @property
    def stats(self) -> StreamStats:
        return self._ws.stats

    @property
    def is_connected(self) -> bool:
        return self._ws.connected

    def on_message(self, data: str | bytes) -> None:
        """Feed one raw frame (the transport does this; tests may too)."""
        self._ws.on_message(data)

    async def close(self) -> None:
        await self._ws.close()


class GatePublicStream(GateStream):
    """Market data of a list of symbols: every symbol's topics (`_topics`) subscribed by name;
    the transport replays them after every reconnect."""

    def _topics(self, name: str) -> tuple[tuple[str, list], ...]:
        """(channel, payload) of each channel followed for the market `name`."""
        raise NotImplementedError

    async def start(self) -> None:
        await self._ws.client.start()

    async def subscribe(self, symbols: list[Symbol]) -> None:
        for symbol in symbols:
            name = to_venue(symbol)
            for channel, payload in self._topics(name):
                await self._ws.subscribe((channel, name), channel, payload)

    async def unsubscribe(self, symbols: list[Symbol]) -> None:
        for symbol in symbols:
            name = to_venue(symbol)
            for channel, payload in self._topics(name):
                await self._ws.unsubscribe(
                    (channel, name), channel, self._unsubscribe_payload(channel, payload)
                )

    def _unsubscribe_payload(self, channel: str, payload: list) -> list:
        """What an unsubscribe names (by default what the subscribe named)."""
        return payload


class GatePrivateStream(GateStream):
    """Account channels, each authenticated per subscription."""

    _timeout_s: float

    async def _subscribe_all(self, payloads: dict[str, list | None]) -> None:
        """Subscribe every channel (channel -> payload, in order), connect, and return once each
        acknowledged (or raise the typed error, e.g. AuthenticationError, closed)."""
        acks = [self._ws.expect_ack(channel) for channel in payloads]
        for channel, payload in payloads.items():
            await self._ws.subscribe(channel, channel, payload, private=True)
        await self._ws.client.start()
        try:
            async with asyncio.timeout(self._timeout_s):
                await asyncio.gather(*acks)
        except BaseException:
            await self.close()
            raise
