"""A venue's event delivery: what an operation changed, delivered when the operation ends.

Using the queue as a context manager (`with events:`) is one operation; nested uses join the
outermost. At its end the changes go to the subscribers synchronously, in order: book deltas
first, then trades/ticker/orders/fills as they happened, then balances and positions.
"""

from __future__ import annotations

from collections.abc import Callable

import msgspec

from cexarb.model.market import Symbol
from cexarb.model.trading import Position
from cexarb.sim.accounts import SimAccountState
from cexarb.sim.clock import SimClock
from cexarb.sim.events import BalanceEvent, OrderEvent, PositionEvent, SimEvent
from cexarb.sim.venue_state import MarketState, OrderRecord

_copy = msgspec.structs.replace


class EventQueue:
    """Collects one operation's events and delivers them when the outermost operation ends."""

    __slots__ = (
        "subscribers",
        "pending",
        "dirty_books",
        "dirty_balances",
        "dirty_positions",
        "position_model",
        "_clock",
        "_depth",
        "_flushing",
    )

    def __init__(self, clock: SimClock) -> None:
        self._clock = clock
        self.subscribers: list[Callable[[SimEvent], None]] = []
        self.pending: list[SimEvent] = []
        self.dirty_books: dict[Symbol, MarketState] = {}
        self.dirty_balances: dict[tuple[str, str], SimAccountState] = {}
        self.dirty_positions: dict[tuple[str, Symbol], SimAccountState] = {}
        # How a touched position is reported (set by a futures venue's ledger).
        self.position_model: Callable[[SimAccountState, Symbol], Position] | None = None
        self._depth = 0
        self._flushing = False

    def subscribe(self, callback: Callable[[SimEvent], None]) -> Callable[[], None]:
        """Deliver every event to `callback`; returns the function that stops it."""
        self.subscribers.append(callback)

        def unsubscribe() -> None:
            if callback in self.subscribers:
                self.subscribers.remove(callback)

        return unsubscribe

    def __enter__(self) -> None:
        self._depth += 1

    def __exit__(self, *exc: object) -> None:
        self._depth -= 1
        if not self._depth:
            self._flush()

    def touch_balance(self, account: SimAccountState, asset: str) -> None:
        """Report the account's `asset` balance at the end of the operation."""
        if not account.internal:
            self.dirty_balances[(account.api_key, asset)] = account

    def touch_position(self, account: SimAccountState, symbol: Symbol) -> None:
        """Report the account's `symbol` position at the end of the operation."""
        if not account.internal:
            self.dirty_positions[(account.api_key, symbol)] = account

    def order(self, record: OrderRecord) -> None:
        """Report the order as it is now."""
        if not record.account.internal:
            self.pending.append(OrderEvent(record.account.api_key, _copy(record.order)))

    def _flush(self) -> None:
        if self._flushing:
            return  # a subscriber called back into the venue; the running loop delivers the rest
        self._flushing = True
        try:
            while self.dirty_books or self.pending or self.dirty_balances or self.dirty_positions:
                events: list[SimEvent] = []
                if self.dirty_books:
                    books = list(self.dirty_books.values())
                    self.dirty_books.clear()
                    now = self._clock.now_ms()
                    for book in books:
                        book.change_events(now, events)
                if self.pending:
                    events.extend(self.pending)
                    self.pending.clear()
                if self.dirty_balances:
                    for (_, asset), account in self.dirty_balances.items():
                        events.append(BalanceEvent(account.api_key, _copy(account.balance(asset))))
                    self.dirty_balances.clear()
                if self.dirty_positions:
                    assert self.position_model is not None  # only a futures ledger touches positions
                    for (_, symbol), account in self.dirty_positions.items():
                        events.append(PositionEvent(account.api_key, self.position_model(account, symbol)))
                    self.dirty_positions.clear()
                if self.subscribers:
                    for event in events:
                        for callback in tuple(self.subscribers):
                            callback(event)
        finally:
            self._flushing = False
