"""Gate USDT-perpetual WebSockets. Sizes arrive in contracts and are delivered in base
units (x the contract's quanto_multiplier from `symbols_info`)."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import aiohttp
import msgspec

from cexarb.config import VenueConfig
from cexarb.model import AssetBalance, Order, OrderBook, Symbol, SymbolInfo
from cexarb.model.errors import AuthenticationError
from cexarb.transport import Clock
from cexarb.venues.contracts import PrivateWebsocketHandlers, PublicWebsocketHandlers
from cexarb.venues.gateio import codec
from cexarb.venues.gateio import messages as m
from cexarb.venues.gateio.auth import GateSigner
from cexarb.venues.gateio.errors import VENUE
from cexarb.venues.gateio.symbols import from_venue
from cexarb.venues.gateio.ws_common import GatePrivateStream, GatePublicStream, result_decoder

if TYPE_CHECKING:
    from cexarb.venues.gateio.futures_rest import GateioFuturesPrivateRest

BOOK_TICKER = "futures.book_ticker"
BOOK_UPDATE = "futures.order_book_update"
TRADES = "futures.trades"
ORDERS = "futures.orders"
USER_TRADES = "futures.usertrades"
POSITIONS = "futures.positions"
BALANCES = "futures.balances"
BOOK_INTERVAL, BOOK_LEVELS = "100ms", "100"
# Futures sizes as decimal strings (contracts with enable_decimal), asked for on the handshake.
SIZE_DECIMAL_HEADERS = {"X-Gate-Size-Decimal": "1"}

_book_ticker = result_decoder(m.BookTickerMsg)
_book_update = result_decoder(m.FuturesBookUpdateMsg)
_trades = result_decoder(list[m.FuturesPublicTradeMsg] | m.FuturesPublicTradeMsg)
_positions = result_decoder(list[m.PositionMsg])
_futures_order_from_msg = codec.futures_order_from_msg  # per order push: no module look-up
_balances = result_decoder(list[m.FuturesBalanceUpdateMsg])
# Least time between two coalesced account reads while pushes keep arriving.
BALANCE_REFRESH_GAP_S = 0.2


class _ContractSizes:
    """Contract name -> quanto_multiplier, read from the (shared, growing) symbols_info."""

    __slots__ = ("_info", "known")

    def __init__(self, symbols_info: dict[Symbol, SymbolInfo]) -> None:
        self._info = symbols_info
        # Sizes already read; the order path looks here first (no call) and calls on a miss.
        self.known: dict[str, float] = {}

    def __call__(self, contract: str) -> float:
        size = self.known.get(contract)
        if size is None:
            info = self._info.get(from_venue(contract))
            if info is None:
                raise KeyError(f"contract {contract} is not in symbols_info: its size is unknown")
            size = self.known[contract] = info.contract_size
        return size


class GateioFuturesPublicWs(GatePublicStream):
    venue = "gateio"

    def __init__(
        self,
        config: VenueConfig,
        handlers: PublicWebsocketHandlers,
        symbols_info: dict[Symbol, SymbolInfo],
        *,
        session: aiohttp.ClientSession | None = None,
    ) -> None:
        self.handlers = handlers
        self.symbols_info = symbols_info
        self._size = _ContractSizes(symbols_info)
        self._ws = self._open(
            "gateio-futures-public", config, "futures", session=session, headers=SIZE_DECIMAL_HEADERS
        )
        self._ws.route(BOOK_TICKER, self._on_book_ticker)
        self._ws.route(BOOK_UPDATE, self._on_book_update)
        self._ws.route(TRADES, self._on_trades)

    def _topics(self, name: str) -> tuple[tuple[str, list], ...]:
        return ((BOOK_UPDATE, [name, BOOK_INTERVAL, BOOK_LEVELS]), (BOOK_TICKER, [name]), (TRADES, [name]))

    def _unsubscribe_payload(self, channel: str, payload: list) -> list:
        # Gate's futures WS docs unsubscribe order_book_update with [contract, frequency]: no level.
        return payload[:2] if channel == BOOK_UPDATE else payload

    def _on_book_ticker(self, raw: msgspec.Raw) -> None:
        msg = _book_ticker(raw)
        self.handlers.book_ticker(codec.book_ticker_from_msg(msg, self._size(msg.s)))

    def _on_book_update(self, raw: msgspec.Raw) -> None:
        msg = _book_update(raw)
        diff = codec.futures_book_diff_from_msg(msg, self._size(msg.s))
        if msg.full:
            book = OrderBook(diff.symbol, diff.bids, diff.asks, update_id=msg.u, timestamp=msg.t)
            self.handlers.book_snapshot(book)
        else:
            self.handlers.book_diff(diff)

    def _on_trades(self, raw: msgspec.Raw) -> None:
        decoded = _trades(raw)
        for msg in decoded if isinstance(decoded, list) else (decoded,):
            self.handlers.trade(codec.futures_trade_from_msg(msg, self._size(msg.contract)))


class GateioFuturesPrivateWs(GatePrivateStream):
    """futures.orders / usertrades / positions / balances for `user_id` (all contracts).

    user_id: the argument, else config.user_id, else learned from `rest` (accounts 'user')
    in start(). futures.balances pushes carry only the wallet total: with `rest` given each
    push triggers one coalesced REST read of the account (available/locked); without it the
    total is delivered as available. Gate pushes no balance when margin merely moves between
    available and locked (an order placed, canceled or filled), so order pushes trigger the
    same read.
    """

    venue = "gateio"

    def __init__(
        self,
        config: VenueConfig,
        handlers: PrivateWebsocketHandlers,
        symbols_info: dict[Symbol, SymbolInfo],
        user_id: int = 0,
        *,
        rest: GateioFuturesPrivateRest | None = None,
        clock: Clock | None = None,
        session: aiohttp.ClientSession | None = None,
    ) -> None:
        self.handlers = handlers
        self.symbols_info = symbols_info
        self.user_id = user_id or config.user_id
        self._rest = rest
        self._size = _ContractSizes(symbols_info)
        self._timeout_s = config.request_timeout_s
        self._balance_refresh: asyncio.Task | None = None
        self._balance_dirty = False
        self._ws = self._open(
            "gateio-futures-private",
            config,
            "futures",
            signer=GateSigner(config.api_key, config.api_secret),
            clock=clock if clock is not None else (rest.clock if rest is not None else None),
            session=session,
            headers=SIZE_DECIMAL_HEADERS,
        )
        self._ws.route_orders(
            ORDERS,
            m.FuturesOrderMsg,
            self._on_orders,
            self._on_wire_orders,
            codec.wire_order_build(self._size.known),
        )
        self._ws.route_list(USER_TRADES, m.FuturesUserTradeMsg, self._on_user_trades)
        self._ws.route(POSITIONS, self._on_positions)
        self._ws.route(BALANCES, self._on_balances)

    async def start(self) -> None:
        if not self.user_id:
            if self._rest is None:
                raise AuthenticationError(
                    "Gate futures private streams need the user id",
                    venue=VENUE,
                    hint="set user_id in [gateio.futures] or pass rest= so it is read from the futures account",
                )
            self.user_id = await self._rest.get_user_id()
        uid = str(self.user_id)
        mine = [uid, "!all"]
        await self._subscribe_all({ORDERS: mine, USER_TRADES: mine, POSITIONS: mine, BALANCES: [uid]})

    async def close(self) -> None:
        task, self._balance_refresh = self._balance_refresh, None
        if task is not None:
            task.cancel()
        await self._ws.close()

    def _on_orders(self, msgs: list[m.FuturesOrderMsg]) -> None:
        sizes = self._size
        for msg in msgs:
            contract = msg.contract
            size = sizes.known.get(contract) or sizes(contract)
            self.handlers.order(_futures_order_from_msg(msg, size))
        if self._rest is not None:
            self._schedule_balance_refresh()  # the order's margin moved; no balance push says so

    def _on_wire_orders(self, orders: list[Order]) -> None:
        """The Orders the compiled reader made (what `_on_orders` makes of the same frame)."""
        for order in orders:
            self.handlers.order(order)
        if self._rest is not None:
            self._schedule_balance_refresh()

    def _on_user_trades(self, msgs: list[m.FuturesUserTradeMsg]) -> None:
        for msg in msgs:
            self.handlers.execution(codec.futures_execution_from_msg(msg, self._size(msg.contract)))

    def _on_positions(self, raw: msgspec.Raw) -> None:
        for msg in _positions(raw):
            self.handlers.position(codec.position_from_msg(msg, self._size(msg.contract)))

    def _on_balances(self, raw: msgspec.Raw) -> None:
        items = _balances(raw)
        if self._rest is None:
            for msg in items:
                self.handlers.balance(AssetBalance(msg.currency.upper(), msg.balance, 0.0))
            return
        self._schedule_balance_refresh()

    def _schedule_balance_refresh(self) -> None:
        self._balance_dirty = True
        if self._balance_refresh is None or self._balance_refresh.done():
            self._balance_refresh = asyncio.get_running_loop().create_task(self._refresh_balance())

    async def _refresh_balance(self) -> None:
        assert self._rest is not None
        first = True
        while self._balance_dirty:
            if not first:
                # pushes kept coming during the read: one more read, paced to spare the REST budget
                await asyncio.sleep(BALANCE_REFRESH_GAP_S)
            first = False
            self._balance_dirty = False
            try:
                balances = await self._rest.get_balances()
            except Exception as exc:  # noqa: BLE001 - reported to the owner, the stream goes on
                self.handlers.error(exc)
                return
            for balance in balances.values():
                self.handlers.balance(balance)
