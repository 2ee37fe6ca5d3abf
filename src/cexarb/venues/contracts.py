"""The contracts between venue connectors (this layer) and composite exchanges (above).

Venue packages implement these; composites in `cexarb.exchange` depend only on them and
import them from here (downward). This module imports nothing but `cexarb.model`, so the
venue layer owns its contracts without depending on the composite layer.

Handlers are plain synchronous callables: they run on the hot path (frame ->
state -> handler) and must not block. A handler that needs to await schedules
its own task; `PrivateWebsocketHandlers` does that for a coroutine function it
is given (the seed interface's `order_handler=` style).
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Awaitable, Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

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
    OrderRequest,
    Position,
    Symbol,
    SymbolInfo,
    Trade,
    WithdrawalNetwork,
    WithdrawalRequest,
    WithdrawalResponse,
)


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


# The seed interface's name for a composite's symbol rules: initialize() accepts one (its keys
# are the symbols) as well as a plain list of symbols.
SymbolsInfo = Mapping[Symbol, SymbolInfo]

_log = logging.getLogger("cexarb.exchange")


class _Scheduled:
    """A coroutine function used as a stream handler: each call schedules it as a task (the
    stream never awaits a handler), in arrival order; a failure is logged, never lost."""

    __slots__ = ("func", "_tasks")

    def __init__(self, func: Callable[[Any], Any]) -> None:
        self.func = func
        self._tasks: set[asyncio.Task] = set()

    def __call__(self, arg: Any) -> None:
        task = asyncio.get_running_loop().create_task(self.func(arg))
        self._tasks.add(task)  # a strong reference until it ran
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            _log.error(
                "handler %s raised", getattr(self.func, "__qualname__", self.func), exc_info=task.exception()
            )


def _balances_dict(func: Callable[[Any], Any]) -> Callable[[AssetBalance], Any]:
    """The seed's balance_handler takes {asset: AssetBalance}; streams deliver one balance."""

    def call(balance: AssetBalance) -> Any:
        return func({balance.asset: balance})

    call.__qualname__ = getattr(func, "__qualname__", "balance_handler")
    return call


def _handler(ours: Any, seeds: Any, name: str, wrap: Callable[[Any], Any] | None = None) -> Callable:
    if ours is not None and seeds is not None:
        raise TypeError(f"give {name}= or {name}_handler=, not both")
    func = ours if ours is not None else seeds
    if func is None:
        return _ignore
    is_coroutine = inspect.iscoroutinefunction(func)
    if seeds is not None and wrap is not None:
        func = wrap(func)  # still returns the coroutine when `func` is a coroutine function
    return _Scheduled(func) if is_coroutine else func


class PrivateWebsocketHandlers:
    """What a private stream calls: `order`, `execution`, `balance`, `position` (futures),
    `connection`, `error`, each with one argument.

    Built with our names (`order=`) or the seed interface's (`order_handler=`,
    `balance_handler=`, `execution_handler=`, ...); each may be a plain function (called
    synchronously on the hot path) or a coroutine function (scheduled as a task per update).
    `balance_handler=` receives `{asset: AssetBalance}` as the seed specifies; `balance=` one
    AssetBalance."""

    __slots__ = ("order", "execution", "balance", "position", "connection", "error")

    def __init__(
        self,
        order: Callable[[Order], Any] | None = None,
        execution: Callable[[Execution], Any] | None = None,
        balance: Callable[[AssetBalance], Any] | None = None,
        position: Callable[[Position], Any] | None = None,
        connection: Callable[[ConnectionState], Any] | None = None,
        error: Callable[[Exception], Any] | None = None,
        *,
        order_handler: Callable[[Order], Any] | None = None,
        execution_handler: Callable[[Execution], Any] | None = None,
        balance_handler: Callable[[dict[str, AssetBalance]], Any] | None = None,
        position_handler: Callable[[Position], Any] | None = None,
        connection_handler: Callable[[ConnectionState], Any] | None = None,
        error_handler: Callable[[Exception], Any] | None = None,
    ) -> None:
        self.order = _handler(order, order_handler, "order")
        self.execution = _handler(execution, execution_handler, "execution")
        self.balance = _handler(balance, balance_handler, "balance", _balances_dict)
        self.position = _handler(position, position_handler, "position")
        self.connection = _handler(connection, connection_handler, "connection")
        self.error = _handler(error, error_handler, "error")

    # The seed interface reads them by these names.
    @property
    def order_handler(self) -> Callable[[Order], Any]:
        return self.order

    @property
    def execution_handler(self) -> Callable[[Execution], Any]:
        return self.execution

    @property
    def balance_handler(self) -> Callable[[AssetBalance], Any]:
        return self.balance

    @property
    def position_handler(self) -> Callable[[Position], Any]:
        return self.position

    @property
    def connection_handler(self) -> Callable[[ConnectionState], Any]:
        return self.connection

    @property
    def error_handler(self) -> Callable[[Exception], Any]:
        return self.error


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

    async def place_order(self, request: OrderRequest) -> Order:
        """Send once. A timeout raises OrderStatusUnknown; never resent blindly."""
        ...

    def place_order_now(self, request: OrderRequest) -> Awaitable[Order] | None:
        """place_order with its request written before returning when the transport can
        (HttpClient.write_now, then follow); awaiting gives what place_order gives, errors included (Gate's
        OrderStatusUnknown carries the client id, as from place_order). None: nothing sent
        (call place_order). Gate spot returns None until its account kind is known."""
        ...

    def write_order_now(self, request: OrderRequest) -> Any:
        """place_order_now's first half: the request written now (HttpClient.write_now), what
        is given back opaque to the caller; None: nothing sent. Give it to `follow_order`
        before anything is awaited (the order is live at the venue from the write)."""
        ...

    def follow_order(self, request: OrderRequest, written: Any) -> Awaitable[Order]:
        """place_order_now's second half: awaiting gives what place_order_now's awaitable gives."""
        ...

    def rehearsing(self) -> AbstractContextManager[None]:
        """A synchronous block in which `write_order_now` runs as an order's write runs, down
        to the socket's write, and sends nothing: nothing counted, nothing admitted against the
        rate limit (HttpClient.rehearsing). Follow nothing written in it. For keeping the
        order path warm."""
        ...

    def order_bytes(self, request: OrderRequest) -> bytes:
        """The bytes place_order would write for `request` now (HttpClient.encode_request):
        nothing sent, nothing counted."""
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

    async def get_withdrawal(
        self, withdrawal_id: str | None = None, asset: str | None = None, *, client_id: str | None = None
    ) -> WithdrawalResponse:
        """By the venue's withdrawal id, or by the client id it was sent with."""
        ...


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
