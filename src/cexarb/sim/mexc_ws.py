"""MEXC spot WebSocket endpoint `/ws` (mexc_spot.md §6): JSON control frames in, JSON acks
and binary protobuf pushes out, public market streams and, on `/ws?listenKey=...`, the
private streams of the listen key's account.

One `MexcStreams` per app subscribes to the venue's events and fans each one out to the
connections subscribed to the matching channel, encoding each frame once. Every
connection writes through its own unbounded queue (private frames are never dropped),
and the writer holds frames while the venue's streams are stalled by a fault.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Iterable
from typing import Any

import msgspec
from aiohttp import WSCloseCode, WSMsgType, web

from cexarb.model import AssetBalance, Execution, Order
from cexarb.sim import mexc_push as push
from cexarb.sim.events import (
    BalanceEvent,
    BookDeltaEvent,
    FillEvent,
    OrderEvent,
    SimEvent,
    TickerEvent,
    TradeEvent,
    WalletEvent,
)
from cexarb.sim.mexc_listen_keys import ListenKeys
from cexarb.sim.mexc_options import MexcSpotOptions
from cexarb.sim.mexc_wire import SymbolBook
from cexarb.sim.venue import SimVenue

log = logging.getLogger("cexarb.sim.mexc_ws")

INVALID_LISTEN_KEY = "Invalid listen key"
# Code of a malformed request (unverified: MEXC documents no reply for one).
REFUSED = 1
# A refused subscription comes back with code 0, as a success does: only the msg tells them
# apart (a success echoes the channels). Published replies: JKorf/Mexc.Net#35 (one channel) and a
# public MEXC client quoting a three-channel refusal, where one retired channel sank the whole
# request ("[spot@public.increase.depth.v3.api@BTCUSDT,spot@public.aggre.deals.v3.api.pb@BTCUSDT,
# spot@public.aggre.bookTicker.v3.api.pb@BTCUSDT].  Reason： Blocked! ").
_BLOCKED = "Not Subscribed successfully! [{}].  Reason： Blocked! "
_STALL_POLL_S = 0.02


class _Conn:
    __slots__ = (
        "ws",
        "queue",
        "channels",
        "api_key",
        "listen_key",
        "opened",
        "last_rx",
        "last_tx",
        "idle_since",
        "rx_window",
        "rx_count",
        "writer",
    )

    def __init__(self, ws: web.WebSocketResponse, api_key: str | None, listen_key: str | None) -> None:
        now = time.monotonic()
        self.ws = ws
        self.queue: asyncio.Queue[bytes | str] = asyncio.Queue()
        self.channels: dict[str, push.Channel] = {}
        self.api_key = api_key
        self.listen_key = listen_key
        self.opened = now
        self.last_rx = now
        self.last_tx = now
        # Since when the connection has had no subscription (None while it has one).
        self.idle_since: float | None = now
        # Start of the current one-second window of client messages, and their count in it.
        self.rx_window = now
        self.rx_count = 0
        self.writer: asyncio.Task | None = None


class MexcStreams:
    """The WebSocket side of one simulated MEXC spot venue."""

    def __init__(
        self,
        venue: SimVenue,
        symbols: SymbolBook,
        listen_keys: ListenKeys,
        options: MexcSpotOptions,
    ) -> None:
        self.venue = venue
        self.faults = venue.faults
        self.symbols = symbols
        self.listen_keys = listen_keys
        self.options = options
        # (api key, asset) -> "WITHDRAW"/"DEPOSIT": what the next balance change of it is.
        self._wallet: dict[tuple[str, str], str] = {}
        self._conns: set[_Conn] = set()
        self._names = {s: push.symbol_channels(f.venue_symbol) for s, f in symbols.formats.items()}
        self._public: dict[str, set[_Conn]] = {}  # channel name -> subscribers
        self._private: dict[tuple[str, str], set[_Conn]] = {}  # (api key, channel kind) -> subscribers
        self._balances: dict[str, dict[str, tuple[float, float]]] = {}  # api key -> asset -> (free, locked)
        self._filled: dict[str, float] = {}  # order id -> filled quantity last pushed
        self._unsubscribe_venue = None
        self._housekeeping: asyncio.Task | None = None
        self._closing: set[asyncio.Task] = set()  # closes started by housekeeping (held so they finish)

    # ---- lifecycle ----

    async def start(self) -> None:
        self._unsubscribe_venue = self.venue.subscribe(self._on_event)
        self._housekeeping = asyncio.get_running_loop().create_task(self._housekeep())

    async def stop(self) -> None:
        if self._unsubscribe_venue is not None:
            self._unsubscribe_venue()
            self._unsubscribe_venue = None
        if self._housekeeping is not None:
            self._housekeeping.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._housekeeping
        for conn in list(self._conns):
            await conn.ws.close(code=WSCloseCode.GOING_AWAY, message=b"server shutdown")

    def subscriptions(self, api_key: str | None = None) -> set[str]:
        """The channels subscribed on the open connections (those of `api_key`, or all): what
        a test polls for before it makes the venue push, instead of sleeping."""
        return {
            name
            for conn in self._conns
            if api_key is None or conn.api_key == api_key
            for name in conn.channels
        }

    # ---- connection ----

    async def handle(self, request: web.Request) -> web.StreamResponse:
        refused = await self.faults.admit_ws_handshake()
        if refused is not None:
            return refused
        listen_key = request.query.get("listenKey")
        api_key = self.listen_keys.owner(listen_key) if listen_key is not None else None
        ws = web.WebSocketResponse(autoping=False)
        await ws.prepare(request)
        if listen_key is not None and (api_key is None or self._too_many_on(listen_key)):
            # ccxt knows this exact text frame; the connection is then closed.
            if not self.faults.ws_stalled():
                await ws.send_str(
                    INVALID_LISTEN_KEY if api_key is None else "Too many connections for listen key"
                )
            await ws.close(code=WSCloseCode.POLICY_VIOLATION, message=b"listen key refused")
            return ws
        conn = _Conn(ws, api_key, listen_key)
        if api_key is not None:
            self._track_balances(api_key)
        self._conns.add(conn)
        self.faults.register_ws(ws)
        conn.writer = asyncio.get_running_loop().create_task(self._write(conn))
        try:
            async for msg in ws:
                if self._flooding(conn):
                    await ws.close(code=WSCloseCode.POLICY_VIOLATION, message=b"too many messages")
                    break
                if msg.type is WSMsgType.TEXT:
                    self._on_text(conn, msg.data)
                elif msg.type is WSMsgType.PING:
                    if not self.faults.ws_stalled():
                        await ws.pong(msg.data)
                elif msg.type is WSMsgType.ERROR:
                    break
        finally:
            self._forget(conn)
            self.faults.unregister_ws(ws)
            if conn.writer is not None:
                conn.writer.cancel()
            if not ws.closed:
                await ws.close()
        return ws

    def _flooding(self, conn: _Conn) -> bool:
        """Count one client message; True past MEXC's per-connection message rate."""
        now = time.monotonic()
        conn.last_rx = now
        if now - conn.rx_window >= 1.0:
            conn.rx_window = now
            conn.rx_count = 0
        conn.rx_count += 1
        return conn.rx_count > self.options.max_messages_per_s

    def _too_many_on(self, listen_key: str) -> bool:
        count = sum(1 for c in self._conns if c.listen_key == listen_key)
        return count >= self.options.max_connections_per_key

    async def _write(self, conn: _Conn) -> None:
        ws = conn.ws
        stats = self.faults.stats
        try:
            while True:
                frame = await conn.queue.get()
                while self.faults.ws_stalled():
                    await asyncio.sleep(_STALL_POLL_S)
                if ws.closed:
                    return
                if isinstance(frame, bytes):
                    await ws.send_bytes(frame)
                else:
                    await ws.send_str(frame)
                stats.frames_sent += 1
                conn.last_tx = time.monotonic()
        except (ConnectionError, RuntimeError) as e:  # peer gone while writing
            log.debug("mexc ws writer stopped: %r", e)

    def _forget(self, conn: _Conn) -> None:
        self._conns.discard(conn)
        for channel in conn.channels.values():
            self._index_remove(conn, channel)
        conn.channels.clear()

    # ---- control frames ----

    def _on_text(self, conn: _Conn, text: str) -> None:
        try:
            request = msgspec.json.decode(text)
        except msgspec.DecodeError:
            request = None
        if not isinstance(request, dict):
            self._send_ack(conn, 0, "Invalid request: not a JSON object", REFUSED)
            return
        rid = request.get("id", 0)
        method = str(request.get("method", "")).upper()
        if method == "PING":
            self._send_ack(conn, rid, "PONG")
        elif method in ("SUBSCRIPTION", "UNSUBSCRIPTION"):
            params = request.get("params")
            if not isinstance(params, list) or not all(isinstance(p, str) for p in params):
                self._send_ack(
                    conn, rid, f"Invalid request: params must be a list of channel names: {params!r}"
                )
                return
            if method == "SUBSCRIPTION":
                self._subscribe(conn, rid, params)
            else:
                self._unsubscribe(conn, rid, params)
        else:
            self._send_ack(conn, rid, f"Invalid request: unknown method {request.get('method')!r}", REFUSED)

    def _send_ack(self, conn: _Conn, rid: Any, msg: str, code: int = 0) -> None:
        conn.queue.put_nowait(msgspec.json.encode({"id": rid, "code": code, "msg": msg}).decode())

    def _subscribe(self, conn: _Conn, rid: Any, names: list[str]) -> None:
        """All or nothing, as the published refusals show: one refused channel refuses the
        request, and the reply (code 0) lists every channel of it."""
        new = [n for n in dict.fromkeys(names) if n not in conn.channels]
        if len(conn.channels) + len(new) > self.options.max_subscriptions:
            why = f"over {self.options.max_subscriptions} subscriptions on the connection"
        else:
            why = next((w for w in map(lambda n: self._refusal(conn, n), names) if w is not None), None)
        if why is not None:
            log.info("mexc ws: subscription refused (%s): %s", why, ",".join(names))
            self._send_ack(conn, rid, _BLOCKED.format(",".join(names)))
            return
        for name in new:
            channel = push.parse_channel(name)
            conn.channels[name] = channel
            self._index_add(conn, channel)
        if conn.channels:
            conn.idle_since = None
        self._send_ack(conn, rid, ",".join(names))

    def _refusal(self, conn: _Conn, name: str) -> str | None:
        channel = push.parse_channel(name)
        if channel is None:
            return "unknown or retired channel"
        if self.venue.faults.channel_blocked(name):
            return "blocked (fault)"
        if channel.is_private and conn.api_key is None:
            return "private channels need /ws?listenKey="
        if not channel.is_private and self.symbols.lookup(channel.symbol) is None:
            return "unknown symbol"
        return None

    def _unsubscribe(self, conn: _Conn, rid: Any, names: list[str]) -> None:
        for name in names:
            channel = conn.channels.pop(name, None)
            if channel is not None:
                self._index_remove(conn, channel)
        if not conn.channels and conn.idle_since is None:
            conn.idle_since = time.monotonic()
        self._send_ack(conn, rid, ",".join(names))

    def _index_add(self, conn: _Conn, channel: push.Channel) -> None:
        if channel.is_private:
            self._private.setdefault((conn.api_key, channel.kind), set()).add(conn)
        else:
            self._public.setdefault(channel.name, set()).add(conn)

    def _index_remove(self, conn: _Conn, channel: push.Channel) -> None:
        key = (conn.api_key, channel.kind) if channel.is_private else channel.name
        index = self._private if channel.is_private else self._public
        subscribers = index.get(key)
        if subscribers is not None:
            subscribers.discard(conn)
            if not subscribers:
                del index[key]

    # ---- housekeeping: listen-key expiry and MEXC's idle rules ----

    async def _housekeep(self) -> None:
        interval = self.options.housekeeping_interval_s
        while True:
            await asyncio.sleep(interval)
            self.listen_keys.purge_expired()
            now = time.monotonic()
            for conn in list(self._conns):
                reason = self._close_reason(conn, now)
                if reason is not None and not conn.ws.closed:
                    task = asyncio.get_running_loop().create_task(
                        conn.ws.close(code=WSCloseCode.GOING_AWAY, message=reason.encode())
                    )
                    self._closing.add(task)
                    task.add_done_callback(self._closing.discard)

    def _close_reason(self, conn: _Conn, now: float) -> str | None:
        if conn.listen_key is not None and self.listen_keys.owner(conn.listen_key) is None:
            return "listen key expired"
        if now - conn.opened >= self.options.max_connection_s:
            return "connection lifetime reached"
        if conn.idle_since is not None:
            if now - conn.idle_since >= self.options.no_subscription_timeout_s:
                return "no valid subscription"
        elif now - max(conn.last_rx, conn.last_tx) >= self.options.idle_timeout_s:
            return "no data"
        return None

    # ---- venue events -> pushes ----

    def _on_event(self, event: SimEvent) -> None:
        handler = _HANDLERS.get(type(event))
        if handler is not None:
            handler(self, event)

    def _fanout(self, subscribers: set[_Conn] | None, frame: bytes) -> None:
        if subscribers:
            for conn in subscribers:
                conn.queue.put_nowait(frame)

    def _publish(self, names: Iterable[str], encode: Callable[[str], bytes]) -> None:
        """Each public channel of `names` someone follows gets `encode(channel)`, the channel
        spelled as its subscribers asked for it."""
        public = self._public
        for name in names:
            subscribers = public.get(name)
            if subscribers:
                channel = next(iter(subscribers)).channels[name]
                self._fanout(subscribers, encode(channel))

    def _on_book_delta(self, event: BookDeltaEvent) -> None:
        names = self._names.get(event.symbol)
        if names is None:
            return
        public = self._public
        fmt = self.symbols.formats[event.symbol]
        self._publish(
            names.depth,
            lambda channel: push.encode_depth(
                channel, fmt, event.first_id, event.last_id, event.bids, event.asks, self._now()
            ),
        )
        for levels, name in names.limit_depth:
            subscribers = public.get(name)
            if subscribers:
                channel = next(iter(subscribers)).channels[name]
                book = self.venue.snapshot(event.symbol, levels)
                self._fanout(subscribers, push.encode_limit_depth(channel, fmt, book, self._now()))

    def _on_ticker(self, event: TickerEvent) -> None:
        ticker = event.ticker
        names = self._names.get(ticker.symbol)
        if names is None:
            return
        fmt = self.symbols.formats[ticker.symbol]
        self._publish(
            names.tickers, lambda channel: push.encode_book_ticker(channel, fmt, ticker, self._now())
        )

    def _on_trade(self, event: TradeEvent) -> None:
        trade = event.trade
        names = self._names.get(trade.symbol)
        if names is None:
            return
        fmt = self.symbols.formats[trade.symbol]
        self._publish(names.deals, lambda channel: push.encode_deals(channel, fmt, [trade], self._now()))

    def _on_order(self, event: OrderEvent) -> None:
        order: Order = event.order
        previous = self._filled.get(order.order_id, 0.0)
        last_fill = order.filled_quantity - previous if order.filled_quantity > previous else None
        if order.status.is_done:
            self._filled.pop(order.order_id, None)
        else:
            self._filled[order.order_id] = order.filled_quantity
        subscribers = self._private.get((event.api_key, push.PRIVATE_ORDERS))
        fmt = self.symbols.formats.get(order.symbol)
        if subscribers and fmt is not None:
            self._fanout(subscribers, push.encode_order(fmt, order, last_fill, self._now()))

    def _on_fill(self, event: FillEvent) -> None:
        fill: Execution = event.execution
        subscribers = self._private.get((event.api_key, push.PRIVATE_DEALS))
        fmt = self.symbols.formats.get(fill.symbol)
        if subscribers and fmt is not None:
            self._fanout(subscribers, push.encode_private_deal(fmt, fill, self._now()))

    def _on_balance(self, event: BalanceEvent) -> None:
        balance: AssetBalance = event.balance
        wallet = self._wallet.pop((event.api_key, balance.asset), None)
        known = self._balances.get(event.api_key)
        if known is None:
            return  # nobody has listened to this account yet
        free, locked = known.get(balance.asset, (0.0, 0.0))
        known[balance.asset] = (balance.available, balance.locked)
        d_free, d_locked = balance.available - free, balance.locked - locked
        if abs(d_free) < 1e-12 and abs(d_locked) < 1e-12:
            return
        subscribers = self._private.get((event.api_key, push.PRIVATE_ACCOUNT))
        if subscribers:
            change = wallet or self._change_type(d_free, d_locked)
            self._fanout(subscribers, push.encode_account(balance, d_free, d_locked, change, self._now()))

    def _on_wallet(self, event: WalletEvent) -> None:
        """The balance push that follows is a withdrawal or a deposit (MEXC WITHDRAW / DEPOSIT)."""
        self._wallet[(event.api_key, event.asset)] = event.kind.upper()

    @staticmethod
    def _change_type(d_free: float, d_locked: float) -> str:
        """MEXC's change `type` of a trading change, inferred from how free and frozen moved."""
        if d_locked > 0:
            return "ENTRUST_PLACE"
        if d_locked < 0 and d_free > 0:
            return "ENTRUST_CANCEL"
        return "ENTRUST"

    def _track_balances(self, api_key: str) -> None:
        if api_key not in self._balances:
            self._balances[api_key] = {
                asset: (b.available, b.locked) for asset, b in self.venue.balances(api_key).items()
            }

    def _now(self) -> int:
        return self.venue.clock.now_ms()


_HANDLERS = {
    BookDeltaEvent: MexcStreams._on_book_delta,
    TickerEvent: MexcStreams._on_ticker,
    TradeEvent: MexcStreams._on_trade,
    OrderEvent: MexcStreams._on_order,
    FillEvent: MexcStreams._on_fill,
    BalanceEvent: MexcStreams._on_balance,
    WalletEvent: MexcStreams._on_wallet,
}
