"""Gate spot WebSockets: public market data and private account streams."""

from __future__ import annotations

import aiohttp
import msgspec

from cexarb.config import VenueConfig
from cexarb.model import Order, OrderBook, Symbol, SymbolInfo
from cexarb.transport import Clock
from cexarb.venues.contracts import PrivateWebsocketHandlers, PublicWebsocketHandlers
from cexarb.venues.gateio import codec
from cexarb.venues.gateio import messages as m
from cexarb.venues.gateio.auth import GateSigner
from cexarb.venues.gateio.symbols import from_venue, to_venue
from cexarb.venues.gateio.ws_common import GatePrivateStream, GatePublicStream, result_decoder

BOOK_TICKER = "spot.book_ticker"
BOOK_UPDATE = "spot.order_book_update"
TRADES = "spot.trades"
ORDERS = "spot.orders"
USER_TRADES = "spot.usertrades"
BALANCES = "spot.balances"
# 100 levels per update, matching the 100-level REST snapshot the composite syncs against
BOOK_INTERVAL = "100ms"

_trades = result_decoder(m.SpotPublicTradeMsg | list[m.SpotPublicTradeMsg])
_balances = result_decoder(list[m.SpotBalanceUpdateMsg])
_order_from_msg = codec.order_from_msg  # per order push: no module look-up
_ORDER_BUILD = codec.wire_order_build()
# A book update as Gate frames it (one level each side, as the compiled reader reads them), for
# rehearse_book_frame: pair, first id, last id.
_REHEARSAL = (
    '{"time":0,"time_ms":0,"channel":"spot.order_book_update","event":"update","result":'
    '{"t":0,"s":"%s","U":%d,"u":%d,"b":[["1","0"]],"a":[["1","0"]]}}'
)


class GateioSpotPublicWs(GatePublicStream):
    """book_ticker -> BookTicker, order_book_update -> BookDiff(U, u) (or OrderBook when
    `full`), trades -> Trade. Subscriptions are replayed after every reconnect."""

    venue = "gateio"

    def __init__(
        self,
        config: VenueConfig,
        handlers: PublicWebsocketHandlers,
        symbols_info: dict[Symbol, SymbolInfo] | None = None,
        *,
        session: aiohttp.ClientSession | None = None,
    ) -> None:
        self.handlers = handlers
        self.symbols_info = symbols_info if symbols_info is not None else {}
        self._ws = self._open("gateio-spot-public", config, "spot", session=session)
        self._ws.route_struct(BOOK_TICKER, m.BookTickerMsg, self._on_book_ticker)
        self._ws.route_struct(BOOK_UPDATE, m.SpotBookUpdateMsg, self._on_book_update)
        self._ws.route(TRADES, self._on_trades)

    def _topics(self, pair: str) -> tuple[tuple[str, list], ...]:
        return ((BOOK_UPDATE, [pair, BOOK_INTERVAL]), (BOOK_TICKER, [pair]), (TRADES, [pair]))

    def rehearse_book_frame(self, symbol: Symbol, update_id: int) -> None:
        """Read a spot.order_book_update frame for `symbol` whose ids end at `update_id` (one
        the book holds already: the composite skips it) through this stream's own frame path:
        the keep-warm step of `CompositePublicExchange.rehearse_book`."""
        self._ws.on_message(_REHEARSAL % (to_venue(symbol), update_id, update_id))

    # hot path ---------------------------------------------------------------------------------

    def _on_book_ticker(self, msg: m.BookTickerMsg) -> None:
        self.handlers.book_ticker(codec.book_ticker_from_msg(msg))

    def _on_book_update(self, msg: m.SpotBookUpdateMsg) -> None:
        if msg.full:
            # the venue re-sent the whole book: it replaces the local one at id u (as lists:
            # an OrderBook's levels are lists, whatever sequence the reader gave)
            book = OrderBook(from_venue(msg.s), list(msg.b), list(msg.a), update_id=msg.u, timestamp=msg.t)
            self.handlers.book_snapshot(book)
        else:
            self.handlers.book_diff(codec.spot_book_diff_from_msg(msg))

    def _on_trades(self, raw: msgspec.Raw) -> None:
        decoded = _trades(raw)
        for msg in decoded if isinstance(decoded, list) else (decoded,):
            self.handlers.trade(codec.spot_trade_from_msg(msg))


class GateioSpotPrivateWs(GatePrivateStream):
    """spot.orders, spot.usertrades ('!all') and spot.balances, each authenticated per
    subscription; `start()` returns once every channel acknowledged (or raises the typed
    error, e.g. AuthenticationError). Re-authenticates and resubscribes after reconnects."""

    venue = "gateio"

    def __init__(
        self,
        config: VenueConfig,
        handlers: PrivateWebsocketHandlers,
        symbols_info: dict[Symbol, SymbolInfo] | None = None,
        *,
        clock: Clock | None = None,
        session: aiohttp.ClientSession | None = None,
    ) -> None:
        self.handlers = handlers
        self.symbols_info = symbols_info if symbols_info is not None else {}
        self._timeout_s = config.request_timeout_s
        self._ws = self._open(
            "gateio-spot-private",
            config,
            "spot",
            signer=GateSigner(config.api_key, config.api_secret),
            clock=clock,
            session=session,
        )
        self._ws.route_orders(ORDERS, m.SpotOrderMsg, self._on_orders, self._on_wire_orders, _ORDER_BUILD)
        self._ws.route_list(USER_TRADES, m.SpotUserTradeMsg, self._on_user_trades)
        self._ws.route(BALANCES, self._on_balances)

    async def start(self) -> None:
        await self._subscribe_all({ORDERS: ["!all"], USER_TRADES: ["!all"], BALANCES: None})

    def _on_orders(self, msgs: list[m.SpotOrderMsg]) -> None:
        for msg in msgs:
            self.handlers.order(_order_from_msg(msg))

    def _on_wire_orders(self, orders: list[Order]) -> None:
        """The Orders the compiled reader made (what `_on_orders` makes of the same frame)."""
        for order in orders:
            self.handlers.order(order)

    def _on_user_trades(self, msgs: list[m.SpotUserTradeMsg]) -> None:
        for msg in msgs:
            self.handlers.execution(codec.execution_from_msg(msg))

    def _on_balances(self, raw: msgspec.Raw) -> None:
        for msg in _balances(raw):
            self.handlers.balance(codec.spot_balance_from_msg(msg))
