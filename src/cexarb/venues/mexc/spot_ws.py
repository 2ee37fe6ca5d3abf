"""MEXC spot public WebSocket: protobuf aggregated depth, book ticker and deals.

Each symbol takes three topics; a connection carries at most 30 (MEXC's limit), so
symbols are spread over as many connections as needed. Depth pushes become
`BookDiff(first_id=fromVersion, last_id=toVersion)`; the composite chains them onto
`get_order_book().update_id`. A malformed frame goes to `handlers.error` as a
`ProtocolError` and the stream goes on.
"""

from __future__ import annotations

import asyncio

import aiohttp

from cexarb.config import VenueConfig
from cexarb.model import BookDiff, BookTicker, ConnectionState, OrderBook, Symbol, SymbolInfo, Trade
from cexarb.model.errors import ExchangeError
from cexarb.transport.stats import StreamStats
from cexarb.transport.ws import WsClient
from cexarb.venues.contracts import PublicWebsocketHandlers
from cexarb.venues.mexc.channels import (
    MAX_TOPICS_PER_CONNECTION,
    PING,
    public_channels,
    subscription,
    unsubscription,
)
from cexarb.venues.mexc.errors import VENUE
from cexarb.venues.mexc.pb import PushDataV3ApiWrapper
from cexarb.venues.mexc.push_codec import PushDecoder
from cexarb.venues.mexc.push_stream import PushStream
from cexarb.venues.mexc.subscriptions import REJECTED_KIND, ChannelSubscriptions
from cexarb.venues.mexc.symbols import MexcSymbols

_TOPICS_PER_SYMBOL = 3


class MexcSpotPublicWs(PushStream):
    """`PublicWs` for MEXC spot."""

    def __init__(
        self,
        config: VenueConfig,
        handlers: PublicWebsocketHandlers,
        symbols_info: dict[Symbol, SymbolInfo],
        *,
        interval: str = "100ms",
        max_topics_per_connection: int = MAX_TOPICS_PER_CONNECTION,
        session: aiohttp.ClientSession | None = None,
        resubscribe_backoff_s: float = 1.0,
    ) -> None:
        self.config = config
        self._handlers = handlers
        self._symbols = MexcSymbols(symbols_info)
        self._decoder = PushDecoder(self._symbols.from_venue)
        self._interval = interval
        self._per_connection = max(1, max_topics_per_connection // _TOPICS_PER_SYMBOL)
        self._session = session
        self._connections: list[WsClient] = []
        self._members: dict[WsClient, set[Symbol]] = {}
        self._where: dict[Symbol, WsClient] = {}
        self._opened = 0
        self._closed = False
        self._lock = asyncio.Lock()  # (un)subscribe calls must not open connections in parallel
        self.acks = 0  # (un)subscription replies received: the venue has applied that many requests
        self._subs = ChannelSubscriptions(
            "mexc-spot-public", self._resend, handlers.error, backoff_initial_s=resubscribe_backoff_s
        )
        # Per symbol: (update id, the rehearsal frame at that id), see rehearse_book_frame.
        self._rehearsals: dict[Symbol, tuple[int, bytes]] = {}
        self._route = {
            BookDiff: handlers.book_diff,
            BookTicker: handlers.book_ticker,
            Trade: handlers.trade,
            OrderBook: handlers.book_snapshot,
        }

    # --- PublicWs --------------------------------------------------------------------------

    async def start(self) -> None:
        async with self._lock:
            if not self._connections:
                await self._open_connection()

    async def subscribe(self, symbols: list[Symbol]) -> None:
        """Subscribe, and return once MEXC confirmed every channel by name; raises
        SubscriptionRejected naming the channels it refused."""
        async with self._lock:
            waits = [w for w in [await self._subscribe_one(symbol) for symbol in symbols] if w is not None]
        try:
            for wait in waits:
                await self._subs.wait(wait, self.config.request_timeout_s)
        finally:
            for wait in waits:
                self._subs.forget(wait)

    async def _subscribe_one(self, symbol: Symbol) -> asyncio.Future[None] | None:
        if symbol in self._where:
            return None
        channels = public_channels(self._symbols.to_venue(symbol), self._interval)
        conn = self._connection_with_room() or await self._open_connection()
        self._members[conn].add(symbol)
        self._where[symbol] = conn
        wait = self._subs.want(channels)
        await conn.subscribe(symbol, lambda: subscription(channels))
        return wait

    async def _resend(self, channels: list[str]) -> None:
        """Ask again for channels the venue refused (the subscriptions' retry)."""
        for symbol, conn in list(self._where.items()):
            mine = [
                c for c in public_channels(self._symbols.to_venue(symbol), self._interval) if c in channels
            ]
            if mine:
                await conn.send(subscription(mine))

    async def unsubscribe(self, symbols: list[Symbol]) -> None:
        async with self._lock:
            for symbol in symbols:
                await self._unsubscribe_one(symbol)

    async def _unsubscribe_one(self, symbol: Symbol) -> None:
        conn = self._where.pop(symbol, None)
        if conn is None:
            return
        members = self._members[conn]
        members.discard(symbol)
        channels = public_channels(self._symbols.to_venue(symbol), self._interval)
        self._subs.drop(channels)
        await conn.unsubscribe(symbol, unsubscription(channels))
        # MEXC closes a connection left without subscriptions; keep at least one open.
        if not members and len(self._connections) > 1:
            self._connections.remove(conn)
            del self._members[conn]
            await conn.close()

    @property
    def is_connected(self) -> bool:
        return bool(self._connections) and all(c.connected for c in self._connections)

    @property
    def stats(self) -> StreamStats:
        """Counters summed over every connection."""
        total = StreamStats()
        for conn in self._connections:
            s = conn.stats
            total.frames += s.frames
            total.bad_frames += s.bad_frames
            total.reconnects += s.reconnects
            total.last_reconnect_ms = max(total.last_reconnect_ms, s.last_reconnect_ms)
            for kind, n in s.errors_by_kind.items():
                total.errors_by_kind[kind] = total.errors_by_kind.get(kind, 0) + n
        if self._subs.rejected:
            total.errors_by_kind[REJECTED_KIND] = self._subs.rejected
        total.failed_subscriptions = dict(self._subs.failed)
        return total

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._subs.close()
        connections, self._connections = self._connections, []
        self._members.clear()
        self._where.clear()
        for conn in connections:
            await conn.close()
        self._handlers.connection(ConnectionState.CLOSED)

    def rehearse_book_frame(self, symbol: Symbol, update_id: int) -> None:
        """Read an aggregated depth push for `symbol` whose versions end at `update_id` (one the
        book holds already: the composite skips it) through this stream's own frame path: the
        keep-warm step of `CompositePublicExchange.rehearse_book`."""
        cached = self._rehearsals.get(symbol)
        if cached is None or cached[0] != update_id:
            cached = self._rehearsals[symbol] = (update_id, self._depth_frame(symbol, update_id))
        self._on_message(cached[1])

    def _depth_frame(self, symbol: Symbol, update_id: int) -> bytes:
        """An aggregated depth push as MEXC frames it (one level each side) at versions update_id."""
        name = self._symbols.to_venue(symbol)
        channel = public_channels(name, self._interval)[0]
        msg = PushDataV3ApiWrapper(channel=channel, symbol=name, sendTime=0)
        body = msg.publicAggreDepths
        body.asks.add(price="1", quantity="0")
        body.bids.add(price="1", quantity="0")
        body.eventType = channel.rpartition("@")[0]
        body.fromVersion = body.toVersion = str(update_id)
        return msg.SerializeToString()

    # --- connections -----------------------------------------------------------------------

    def _connection_with_room(self) -> WsClient | None:
        for conn in self._connections:
            if len(self._members[conn]) < self._per_connection:
                return conn
        return None

    async def _open_connection(self) -> WsClient:
        self._opened += 1
        first = self._opened == 1
        conn = WsClient(
            f"mexc-spot-public-{self._opened}",
            self.config.ws_url,
            on_message=self._on_message,
            on_state=lambda state, first=first: self._on_state(state, first),
            app_ping=lambda: PING,
            ping_interval_s=self.config.ping_interval_s,
            silence_timeout_s=self.config.silence_timeout_s,
            backoff_max_s=self.config.reconnect_max_s,
            session=self._session,
        )
        try:
            await conn.start()
        except BaseException:
            await conn.close()  # it was never listed, so close() below would not reach it
            raise
        self._connections.append(conn)
        self._members[conn] = set()
        return conn

    def _on_state(self, state: ConnectionState, first: bool) -> None:
        # One logical stream: CONNECTED once (first connection), CLOSED once (close()).
        if state is ConnectionState.CLOSED or (state is ConnectionState.CONNECTED and not first):
            return
        self._handlers.connection(state)

    def _on_text(self, text: str) -> None:
        reply = self._control(text)
        msg = reply.msg or ""
        if msg == "PONG":
            return
        # MEXC refuses with code 0 too: the reply's msg says which channels it took.
        if self._subs.on_reply(msg) or not reply.code:
            self.acks += 1
            return
        self._handlers.error(
            ExchangeError(
                f"subscription rejected: {reply.msg}",
                venue=VENUE,
                code=reply.code,
                hint="check the channel name and MEXC's 30-topics-per-connection limit",
            )
        )
