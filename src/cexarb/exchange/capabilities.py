"""What a composite can do, as runtime-checkable Protocols.

A venue that lacks a capability simply does not implement it, so callers ask
`isinstance(exchange, WithdrawalCapability)` instead of catching errors.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any, Protocol, runtime_checkable

from cexarb.model import (
    AssetBalance,
    Order,
    Position,
    Side,
    Symbol,
    TimeInForce,
    WithdrawalRequest,
    WithdrawalResponse,
)


@runtime_checkable
class TradingCapability(Protocol):
    open_orders: dict[Symbol, dict[str, Order]]

    async def place_limit_order(
        self,
        symbol: Symbol,
        side: Side,
        quantity: float,
        price: float,
        *,
        time_in_force: TimeInForce = TimeInForce.GTC,
        client_order_id: str | None = None,
    ) -> Order: ...

    def place_limit_order_now(
        self,
        symbol: Symbol,
        side: Side,
        quantity: float,
        price: float,
        *,
        time_in_force: TimeInForce = TimeInForce.GTC,
        client_order_id: str | None = None,
    ) -> Awaitable[Order] | None: ...

    def write_limit_order_now(
        self,
        symbol: Symbol,
        side: Side,
        quantity: float,
        price: float,
        *,
        time_in_force: TimeInForce = TimeInForce.GTC,
        client_order_id: str | None = None,
    ) -> Any: ...

    def book_written(self, written: Any) -> Awaitable[Order]: ...

    def limit_order_bytes(
        self,
        symbol: Symbol,
        side: Side,
        quantity: float,
        price: float,
        *,
        time_in_force: TimeInForce = TimeInForce.GTC,
    ) -> bytes: ...

    def rehearse_limit_order(
        self,
        symbol: Symbol,
        side: Side,
        quantity: float,
        price: float,
        *,
        time_in_force: TimeInForce = TimeInForce.GTC,
    ) -> bool: ...

    async def place_market_order(
        self, symbol: Symbol, side: Side, quantity: float, *, client_order_id: str | None = None
    ) -> Order: ...

    async def cancel_order(self, symbol: Symbol, order_id: str) -> Order: ...

    async def cancel_all_orders(self, symbol: Symbol | None = None) -> list[Order]: ...

    async def get_active_order(self, symbol: Symbol, order_id: str) -> Order | None: ...


@runtime_checkable
class BalanceCapability(Protocol):
    balances: dict[str, AssetBalance]

    async def reload_balances(self) -> dict[str, AssetBalance]: ...


@runtime_checkable
class WithdrawalCapability(Protocol):
    async def withdraw(self, request: WithdrawalRequest) -> WithdrawalResponse: ...

    async def get_withdrawal_status(
        self, withdrawal_id: str | None = None, asset: str | None = None, *, client_id: str | None = None
    ) -> WithdrawalResponse: ...


@runtime_checkable
class PositionCapability(Protocol):
    positions: dict[Symbol, Position]

    async def close_position(self, symbol: Symbol) -> Order | None: ...


@runtime_checkable
class LeverageCapability(Protocol):
    async def set_leverage(self, symbol: Symbol, leverage: float) -> float: ...
