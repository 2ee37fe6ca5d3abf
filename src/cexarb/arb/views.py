"""The small slice of a composite exchange (`cexarb.exchange`) the engine uses.

Protocols rather than imports: the engine is tested against in-test fakes and
runs against CompositePrivateExchange / CompositePrivateFuturesExchange.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TYPE_CHECKING, Any, Protocol

from cexarb.model import (
    AssetBalance,
    BookTicker,
    Execution,
    Order,
    OrderBook,
    Side,
    Symbol,
    SymbolInfo,
    TimeInForce,
)

if TYPE_CHECKING:
    from cexarb.exchange.book import L2Book


class MarketView(Protocol):
    symbols_info: dict[Symbol, SymbolInfo]
    book_tickers: dict[Symbol, BookTicker]

    def get_order_book(self, symbol: Symbol) -> OrderBook | None: ...

    def get_book(self, symbol: Symbol) -> L2Book | None:
        """The live synced book (its ladders' best levels without a view), else None."""
        ...

    def is_book_synced(self, symbol: Symbol) -> bool: ...

    def book_age_ms(self, symbol: Symbol) -> float: ...

    def add_listener(self, listener: Any) -> None: ...


class TradingVenue(MarketView, Protocol):
    balances: dict[str, AssetBalance]
    open_orders: dict[Symbol, dict[str, Order]]

    @property
    def executed_orders(self) -> dict[Symbol, dict[str, Order]]: ...

    async def place_limit_order(
        self,
        symbol: Symbol,
        side: Side,
        quantity: float,
        price: float,
        *,
        time_in_force: TimeInForce = TimeInForce.GTC,
        client_order_id: str | None = None,
        **kwargs: Any,
    ) -> Order: ...

    def write_limit_order_now(
        self,
        symbol: Symbol,
        side: Side,
        quantity: float,
        price: float,
        *,
        time_in_force: TimeInForce = TimeInForce.GTC,
        client_order_id: str | None = None,
        **kwargs: Any,
    ) -> Any:
        """`place_limit_order`'s request written before returning when the venue can, nothing
        else (None: nothing sent); give what it returns to `book_written` before awaiting
        anything."""
        ...

    def book_written(self, written: Any) -> Awaitable[Order]:
        """The order `write_limit_order_now` wrote, tracked from here: awaiting gives what
        `place_limit_order` gives."""
        ...

    def rehearse_limit_order(
        self,
        symbol: Symbol,
        side: Side,
        quantity: float,
        price: float,
        *,
        time_in_force: TimeInForce = TimeInForce.GTC,
        **kwargs: Any,
    ) -> bool:
        """`write_limit_order_now`'s code run to the socket's write with nothing sent, booked
        or counted (keeping the order lane warm); True when it reached the write."""
        ...

    async def cancel_order(self, symbol: Symbol, order_id: str) -> Order: ...

    async def get_active_order(self, symbol: Symbol, order_id: str) -> Order | None: ...

    def taker_fee(self, symbol: Symbol) -> float:
        """The taker rate this account pays on the symbol now (not the public default)."""
        ...

    def fee_value(self, fill: Execution) -> float | None:
        """A fill's fee in quote as the venue charged it (None: an asset it cannot value)."""
        ...

    def add_private_listener(self, listener: Any) -> None: ...


def open_order_count(venue: TradingVenue) -> int:
    return sum(map(len, venue.open_orders.values()))
