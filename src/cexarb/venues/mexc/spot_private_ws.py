"""MEXC spot private WebSocket: orders, deals and account pushes on a listen-key URL.

The URL is `<private_ws_url>?listenKey=<key>`; the key is confirmed (or replaced) before
every (re)connect and kept alive every 30 minutes. Pushes are decoded straight into
`Order`, `Execution` and `AssetBalance` and handed to the injected handlers in
arrival order; none is dropped.
"""

from __future__ import annotations

import asyncio

import aiohttp

from cexarb.config import VenueConfig
from cexarb.model import AssetBalance, ConnectionState, Execution, Order, Symbol, SymbolInfo
from cexarb.model.errors import ExchangeError
from cexarb.transport.stats import StreamStats
from cexarb.transport.ws import WsClient
from cexarb.venues.contracts import PrivateWebsocketHandlers
from cexarb.venues.mexc.channels import PING, PRIVATE_CHANNELS, subscription
from cexarb.venues.mexc.errors import VENUE
from cexarb.venues.mexc.listen_key import ListenKeyKeeper
from cexarb.venues.mexc.push_codec import PushDecoder
from cexarb.venues.mexc.push_stream import PushStream
from cexarb.venues.mexc.spot_rest import MexcSpotPrivateRest
from cexarb.venues.mexc.subscriptions import REJECTED_KIND, ChannelSubscriptions
from cexarb.venues.mexc.symbols import MexcSymbols

_INVALID_KEY = "invalid listen key"


class MexcSpotPrivateWs(PushStream):
    """`PrivateWs` for MEXC spot."""

    def __init__(
        self,
        config: VenueConfig,
        handlers: PrivateWebsocketHandlers,
        symbols_info: dict[Symbol, SymbolInfo],
        rest: MexcSpotPrivateRest,
        *,
        keepalive_interval_s: float = 1800.0,
        session: aiohttp.ClientSession | None = None,
    ) -> None:
        self.config = config
        self._handlers = handlers
        self._decoder = PushDecoder(MexcSymbols(symbols_info).from_venue)
        self._keeper = ListenKeyKeeper(rest, self._reconnect, keepalive_interval_s=keepalive_interval_s)
        self._ws = WsClient(
            "mexc-spot-private",
            self._url,
            on_message=self._on_message,
            on_state=self._on_state,
            app_ping=lambda: PING,
            ping_interval_s=config.ping_interval_s,
            silence_timeout_s=config.silence_timeout_s,
            backoff_max_s=config.reconnect_max_s,
            session=session,
        )
        self._route = {
            Order: handlers.order,
            Execution: handlers.execution,
            AssetBalance: handlers.balance,
        }
        self._started = False
        self._tasks: set[asyncio.Task[None]] = set()
        self._subs = ChannelSubscriptions("mexc-spot-private", self._resend, handlers.error)

    @property
    def listen_key(self) -> ListenKeyKeeper:
        return self._keeper

    @property
    def stats(self) -> StreamStats:
        stats = self._ws.stats
        if self._subs.rejected:
            stats.errors_by_kind[REJECTED_KIND] = self._subs.rejected
        stats.failed_subscriptions = dict(self._subs.failed)
        return stats

    async def start(self) -> None:
        """Connect and subscribe; returns once MEXC confirmed the private channels by name
        (raises SubscriptionRejected naming those it refused)."""
        if self._started:
            return
        self._started = True
        confirmed = self._subs.want(PRIVATE_CHANNELS)
        await self._ws.subscribe("private", lambda: subscription(PRIVATE_CHANNELS))
        await self._ws.start()
        self._keeper.start()
        await self._subs.wait(confirmed, self.config.request_timeout_s)

    async def _resend(self, channels: list[str]) -> None:
        await self._ws.send(subscription(channels))

    @property
    def is_connected(self) -> bool:
        return self._ws.connected

    async def close(self) -> None:
        # The socket first: closing the key first could let a reconnect create a new one.
        self._subs.close()
        await self._ws.close()
        await self._keeper.close()

    async def _url(self) -> str:
        base = self.config.private_ws_url or self.config.ws_url
        sep = "&" if "?" in base else "?"
        return f"{base}{sep}listenKey={await self._keeper.current()}"

    async def _reconnect(self) -> None:
        await self._ws.reconnect()

    def _on_state(self, state: ConnectionState) -> None:
        self._handlers.connection(state)

    def _on_text(self, text: str) -> None:
        if _INVALID_KEY in text.lower():
            # The venue refused the key: replace it and reconnect (a new key is made on connect).
            self._keeper.invalidate()
            self._handlers.error(ExchangeError("listen key refused by the stream", venue=VENUE))
            task = asyncio.get_running_loop().create_task(self._reconnect())
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
            return
        reply = self._control(text)
        # MEXC refuses with code 0 too: the reply's msg says which channels it took.
        if self._subs.on_reply(reply.msg or ""):
            return
        if reply.code:
            self._handlers.error(
                ExchangeError(f"private subscription rejected: {reply.msg}", venue=VENUE, code=reply.code)
            )
