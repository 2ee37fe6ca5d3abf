"""An in-test venue implementing the composite-exchange methods the engine uses."""

from __future__ import annotations

import itertools
from collections.abc import Awaitable

from cexarb.exchange.book import L2Book
from cexarb.model import (
    AssetBalance,
    BookTicker,
    Execution,
    Order,
    OrderBook,
    OrderStatus,
    OrderType,
    Side,
    Symbol,
    SymbolInfo,
    TimeInForce,
)
from cexarb.model.errors import OrderNotFound
from cexarb.model.rounding import round_down

_ids = itertools.count(1)


async def _giving(order: Order) -> Order:
    return order


async def _raising(exc: Exception) -> Order:
    raise exc


class FakeVenue:
    """Fills IOC orders by a script: each entry is a fill fraction (1.0 = all, 0 = none), an
    exception to raise, or "later" (reply NEW, done on the next query). Default: fill all."""

    def __init__(self, name: str, infos: list[SymbolInfo], balances: dict[str, float]) -> None:
        self.name = name
        self.symbols_info = {i.symbol: i for i in infos}
        self.balances = {a: AssetBalance(a, q) for a, q in balances.items()}
        self.book_tickers: dict[Symbol, BookTicker] = {}
        self.books: dict[Symbol, OrderBook] = {}
        self.synced: dict[Symbol, bool] = {}
        self.age_ms: dict[Symbol, float] = {}
        self.open_orders: dict[Symbol, dict[str, Order]] = {}
        self._executed: dict[Symbol, dict[str, Order]] = {}
        self.script: list[object] = []
        self.placed: list[tuple[Side, float, float, dict]] = []
        # write_limit_order_now writes at once (True) or cannot (None: the caller falls back).
        self.lane = True
        self.booked: list[Order | Exception] = []  # what book_written was given, in order
        self.rehearsed: list[tuple[Side, float, float, dict]] = []
        self.listeners: list[object] = []
        self.private_listeners: list[object] = []
        self._later: dict[str, Order] = {}
        # The account's own taker rates (its tier); a symbol not here pays the public default.
        self.taker_fees: dict[Symbol, float] = {}

    # -- market data -------------------------------------------------------------------
    def set_book(self, symbol: Symbol, bids, asks, *, synced: bool = True, age_ms: float = 5.0) -> None:
        self.books[symbol] = OrderBook(symbol, list(bids), list(asks))
        bid, ask = (bids[0] if bids else (None, 0.0)), (asks[0] if asks else (None, 0.0))
        self.book_tickers[symbol] = BookTicker(symbol, bid[0], bid[1], ask[0], ask[1])
        self.synced[symbol] = synced
        self.age_ms[symbol] = age_ms
        for listener in self.listeners:
            listener.on_book(symbol)

    def taker_fee(self, symbol: Symbol) -> float:
        return self.taker_fees.get(symbol, self.symbols_info[symbol].taker_fee)

    def fee_value(self, fill: Execution) -> float | None:
        return fill.fee if fill.fee_asset == fill.symbol.quote else None

    def get_order_book(self, symbol: Symbol) -> OrderBook | None:
        return self.books.get(symbol) if self.synced.get(symbol) else None

    def get_book(self, symbol: Symbol) -> L2Book | None:
        book = self.get_order_book(symbol)
        if book is None:
            return None
        live = L2Book(symbol)
        live.load(book)
        return live

    def is_book_synced(self, symbol: Symbol) -> bool:
        return self.synced.get(symbol, False)

    def book_age_ms(self, symbol: Symbol) -> float:
        return self.age_ms.get(symbol, 1e9)

    def add_listener(self, listener) -> None:
        self.listeners.append(listener)

    def add_private_listener(self, listener) -> None:
        self.private_listeners.append(listener)

    # -- trading -------------------------------------------------------------------------
    @property
    def executed_orders(self) -> dict[Symbol, dict[str, Order]]:
        return {s: dict(o) for s, o in self._executed.items()}

    async def place_limit_order(
        self,
        symbol: Symbol,
        side: Side,
        quantity: float,
        price: float,
        *,
        time_in_force: TimeInForce = TimeInForce.GTC,
        client_order_id: str | None = None,
        **kwargs,
    ) -> Order:
        return self._place(symbol, side, quantity, price, time_in_force, client_order_id, kwargs)

    def write_limit_order_now(
        self,
        symbol: Symbol,
        side: Side,
        quantity: float,
        price: float,
        *,
        time_in_force: TimeInForce = TimeInForce.GTC,
        client_order_id: str | None = None,
        **kwargs,
    ) -> Order | Exception | None:
        """Placed (`placed` records it) before returning, like a connector that writes at once:
        the venue's answer, given by `book_written`; None when `lane` is off (the caller must
        use place_limit_order)."""
        if not self.lane:
            return None
        try:
            return self._place(symbol, side, quantity, price, time_in_force, client_order_id, kwargs)
        except Exception as exc:  # noqa: BLE001 - the venue's answer, given when awaited
            return exc

    def book_written(self, written: Order | Exception) -> Awaitable[Order]:
        self.booked.append(written)
        return _raising(written) if isinstance(written, Exception) else _giving(written)

    def rehearse_limit_order(
        self,
        symbol: Symbol,
        side: Side,
        quantity: float,
        price: float,
        *,
        time_in_force: TimeInForce = TimeInForce.GTC,
        **kwargs,
    ) -> bool:
        self.rehearsed.append((side, quantity, price, kwargs))
        return True

    def _place(self, symbol, side, quantity, price, time_in_force, client_order_id, kwargs) -> Order:
        self.placed.append((side, quantity, price, kwargs))
        behaviour = self.script.pop(0) if self.script else 1.0
        if isinstance(behaviour, Exception):
            raise behaviour
        oid = str(next(_ids))
        cid = client_order_id or f"c{oid}"
        if behaviour == "later":
            self._later[oid] = self._finish(symbol, oid, cid, side, quantity, price, 1.0)
            order = Order(
                symbol, oid, cid, side, OrderType.LIMIT, price, quantity, OrderStatus.NEW, time_in_force
            )
            self.open_orders.setdefault(symbol, {})[oid] = order
            return order
        return self._finish(symbol, oid, cid, side, quantity, price, float(behaviour))

    def _finish(self, symbol, oid, cid, side, quantity, price, fraction) -> Order:
        info = self.symbols_info[symbol]
        step = max(info.step_size, info.contract_size) if info.is_futures else info.step_size
        filled = round_down(quantity * fraction, step)
        status = (
            OrderStatus.FILLED
            if filled >= quantity
            else (OrderStatus.PARTIALLY_CANCELED if filled else OrderStatus.CANCELED)
        )
        order = Order(
            symbol,
            oid,
            cid,
            side,
            OrderType.LIMIT,
            price,
            quantity,
            status,
            TimeInForce.IOC,
            filled_quantity=filled,
            average_price=price if filled else 0.0,
        )
        self._executed.setdefault(symbol, {})[oid] = order
        if filled:
            fee = filled * price * self.taker_fee(symbol)
            fill = Execution(
                symbol, f"{self.name}-{oid}", oid, cid, side, price, filled, fee, symbol.quote, False, 0
            )
            for listener in self.private_listeners:
                listener.on_execution(fill)
        return order

    async def get_active_order(self, symbol: Symbol, order_id: str) -> Order:
        if order_id in self._later:
            self.open_orders.get(symbol, {}).pop(order_id, None)
            return self._later.pop(order_id)
        for book in (self.open_orders.get(symbol, {}), self._executed.get(symbol, {})):
            if order_id in book:
                return book[order_id]
        raise OrderNotFound("no such order", venue=self.name)

    async def cancel_order(self, symbol: Symbol, order_id: str) -> Order:
        return await self.get_active_order(symbol, order_id)
