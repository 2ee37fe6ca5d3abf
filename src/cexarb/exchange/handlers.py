"""Listeners a strategy registers on a composite, and the fan-out that calls them.

Listener methods run on the hot path, synchronously, as each update lands:
they must not block. A listener that raises is counted and logged once per
kind; the other listeners and the composite's own state are not affected.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from cexarb.model import (
    AssetBalance,
    BookTicker,
    ConnectionState,
    Execution,
    FundingPayment,
    Order,
    Position,
    Symbol,
    Trade,
)

log = logging.getLogger("cexarb.exchange")


class PublicListener:
    """Override what you need; the defaults are never called (no cost)."""

    def on_book(self, symbol: Symbol) -> None: ...

    def on_book_ticker(self, ticker: BookTicker) -> None: ...

    def on_trade(self, trade: Trade) -> None: ...


class PrivateListener:
    def on_order(self, order: Order) -> None: ...

    def on_execution(self, execution: Execution) -> None: ...

    def on_balance(self, balance: AssetBalance) -> None: ...

    def on_connection(self, state: ConnectionState) -> None: ...

    # Futures composites only.
    def on_position(self, position: Position) -> None: ...

    def on_funding(self, payment: FundingPayment) -> None: ...


class Fanout:
    """Calls every registered callback with one argument; a failing one is isolated."""

    __slots__ = ("event", "callbacks", "errors", "_logged")

    def __init__(self, event: str) -> None:
        self.event = event
        self.callbacks: list[Callable[[Any], None]] = []
        self.errors = 0
        self._logged: set[str] = set()

    def add_from(self, listener: object, defaults: type) -> None:
        """Register `listener.<event>` unless it is missing or the no-op default."""
        method = getattr(listener, self.event, None)
        if method is None or getattr(type(listener), self.event, None) is getattr(defaults, self.event, None):
            return
        self.callbacks.append(method)

    def __call__(self, arg: Any) -> None:
        for callback in self.callbacks:
            try:
                callback(arg)
            except Exception as exc:
                self._failed(callback, exc)

    def _failed(self, callback: Callable[[Any], None], exc: Exception) -> None:
        self.errors += 1
        kind = f"{getattr(callback, '__qualname__', callback)}:{type(exc).__name__}"
        if kind not in self._logged:
            self._logged.add(kind)
            log.warning("listener %s raised in %s: %r (logged once per kind)", kind, self.event, exc)
