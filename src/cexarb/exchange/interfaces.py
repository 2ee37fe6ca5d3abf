"""The contracts between venue connectors (below) and composite exchanges (above).

Venue packages implement these; composites depend only on them. This module
imports nothing but `cexarb.model` (and re-exports the transport's `StreamStats`),
so `cexarb.venues` may import it without pulling the composite layer in.

Handlers are plain synchronous callables: they run on the hot path (frame ->
state -> handler) and must not block. A handler that needs to await schedules
its own task.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from cexarb.model import (
    AccountFees,
    AssetBalance,
    BookDiff,
    BookTicker,
    ConnectionState,
    DepositAddress,
    DepositRecord,
    Execution,
    FundingInfo,
    FundingPayment,
    Order,
    OrderBook,
    OrderType,
    Position,
    Side,
    Symbol,
    SymbolInfo,
    TimeInForce,
    Trade,
    WithdrawalNetwork,
    WithdrawalRequest,
    WithdrawalResponse,
)

# Defined in the transport (which keeps the counters); re-exported for connectors and composites.
from cexarb.transport.stats import StreamStats as StreamStats


def _ignore(*_args) -> None:
    return None


@dataclass(slots=True)
class PublicWebsocketHandlers:
    book_diff: Callable[[BookDiff], None] = _ignore
    # A venue that streams full snapshots in-band (rather than diffs) delivers them here.
    book_snapshot: Callable[[OrderBook], None] = _ignore
    book_ticker: Callable[[BookTicker], None] = _ignore
    trade: Callable[[Trade], None] = _ignore
    connection: Callable[[ConnectionState], None] = _ignore
    # Bad frames and stream-level failures; the stream goes on after calling it.
    error: Callable[[Exception], None] = _ignore


@dataclass(slots=True)
class PrivateWebsocketHandlers:
    order: Callable[[Order], None] = _ignore
    execution: Callable[[Execution], None] = _ignore
    balance: Callable[[AssetBalance], None] = _ignore
    position: Callable[[Position], None] = _ignore
    connection: Callable[[ConnectionState], None] = _ignore
    error: Callable[[Exception], None] = _ignore


@runtime_checkable
class PublicRest(Protocol):
    venue: str

    async def get_symbols_info(self) -> dict[Symbol, SymbolInfo]: ...

    async def get_order_book(self, symbol: Symbol, limit: int = 100) -> OrderBook:
        """A snapshot whose `update_id` chains with the stream's BookDiff ids."""
        ...

    async def get_book_ticker(self, symbol: Symbol) -> BookTicker: ...

    async def get_server_time(self) -> int:
        """Venue time in ms."""
        ...

    async def close(self) -> None: ...


@runtime_checkable
class PrivateRest(Protocol):
    """Signed trading endpoints. Quantities are always in base units; a futures
    client converts to contracts at its own edge (it knows the contract size)."""

    venue: str

    def new_client_order_id(self) -> str:
        """A fresh venue-legal client id (Gate: 't-' prefix, <= 30 bytes)."""
        ...

    async def get_balances(self) -> dict[str, AssetBalance]: ...

    async def get_account_fees(self, symbol: Symbol) -> AccountFees:
        """The rates this account pays on `symbol` (its tier, discount-token mode)."""
        ...

    async def place_order(
        self,
        symbol: Symbol,
        side: Side,
        order_type: OrderType,
        quantity: float,
        price: float | None = None,
        *,
        time_in_force: TimeInForce = TimeInForce.GTC,
        client_order_id: str,
        reduce_only: bool = False,
    ) -> Order:
        """Send once. A timeout raises OrderStatusUnknown; never resent blindly."""
        ...

    async def cancel_order(
        self, symbol: Symbol, order_id: str | None = None, client_order_id: str | None = None
    ) -> Order: ...

    async def cancel_all_orders(self, symbol: Symbol | None = None) -> list[Order]: ...

    async def get_order(
        self, symbol: Symbol, order_id: str | None = None, client_order_id: str | None = None
    ) -> Order:
        """Raises OrderNotFound when the venue does not know the order."""
        ...

    async def get_open_orders(self, symbol: Symbol | None = None) -> list[Order]:
        """All open orders; across every symbol when `symbol` is None."""
        ...

    async def get_my_trades(
        self, symbol: Symbol, since_ms: int | None = None, limit: int = 100
    ) -> list[Execution]: ...

    async def get_fills_since(self, symbol: Symbol, since_ms: int) -> list[Execution]:
        """Every fill at or after `since_ms`, oldest first: pages as the venue requires (each
        page one request through the rate limiter) until the whole window is covered."""
        ...

    async def close(self) -> None: ...


@runtime_checkable
class WithdrawalRest(Protocol):
    async def withdraw(self, request: WithdrawalRequest) -> WithdrawalResponse: ...

    async def get_withdrawal(self, withdrawal_id: str, asset: str | None = None) -> WithdrawalResponse: ...


@runtime_checkable
class WithdrawalNetworkRest(Protocol):
    """Optional: the venue's per-asset network config, used to validate before sending."""

    async def get_withdrawal_networks(self, asset: str) -> list[WithdrawalNetwork]: ...


@runtime_checkable
class DepositRest(Protocol):
    """Optional (wallets): where to deposit, and what arrived."""

    async def get_deposit_addresses(self, asset: str, network: str | None = None) -> list[DepositAddress]: ...

    async def get_deposits(
        self, asset: str | None = None, since_ms: int | None = None
    ) -> list[DepositRecord]:
        """Oldest first."""
        ...


@runtime_checkable
class FuturesRest(Protocol):
    async def get_positions(self) -> dict[Symbol, Position]: ...

    async def set_leverage(self, symbol: Symbol, leverage: float) -> float:
        """Returns the leverage the venue applied."""
        ...


@runtime_checkable
class FundingRest(Protocol):
    """Optional (perpetuals): funding rates and the account's funding payments."""

    async def get_funding(self) -> dict[Symbol, FundingInfo]: ...

    async def get_funding_payments(self, since_ms: int | None = None) -> list[FundingPayment]:
        """Oldest first, from `since_ms` (inclusive)."""
        ...


@runtime_checkable
class MarginModeRest(Protocol):
    """Optional (futures): isolated or cross margin per contract."""

    async def set_margin_mode(self, symbol: Symbol, cross: bool, leverage: float) -> float:
        """Cross: `leverage` is the cross leverage limit. Returns the leverage the venue applied."""
        ...


@runtime_checkable
class PublicWs(Protocol):
    async def start(self) -> None:
        """Connect; returns once connected (raises a typed error if it cannot)."""
        ...

    async def subscribe(self, symbols: list[Symbol]) -> None:
        """Book diffs, book ticker and trades for these symbols; re-sent after every reconnect."""
        ...

    async def unsubscribe(self, symbols: list[Symbol]) -> None: ...

    @property
    def is_connected(self) -> bool: ...

    async def close(self) -> None: ...


@runtime_checkable
class PrivateWs(Protocol):
    async def start(self) -> None:
        """Connect, authenticate and subscribe to every private channel."""
        ...

    @property
    def is_connected(self) -> bool: ...

    async def close(self) -> None: ...
