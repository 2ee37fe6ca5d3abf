"""Order state: merge rules that never go backwards, and the bounded executed cache.

Updates about one order come from several places (the place reply, WebSocket
pushes, REST queries, reconnect sweeps) and in any order. `merge` keeps the
newest truth: filled quantity never decreases, a finished order never reopens,
a stale or duplicate update is ignored, and between equal fills the newer
venue timestamp / sequence wins. A fill may still land on a finished order.

`OrderTracker.apply` runs on the hot path (frame -> state -> handler): no
awaits, no logging, no copies on the common path.
"""

from __future__ import annotations

from collections import OrderedDict

import msgspec

from cexarb.model import Order, OrderStatus, Symbol
from cexarb.model.enums import DONE_STATUSES

# OrderStatus.rank is a property over a dict; the hot path reads the dict directly.
_RANK = {status: status.rank for status in OrderStatus}
# Fills closer than this fraction of the order's size are the same fill (float noise
# between a venue's "filled" and "amount - left").
_FILL_TOLERANCE = 1e-9


class _Untracked:
    """`OrderTracker.apply(..., adopt=False)`'s answer for an order nothing here tracks."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "UNTRACKED"


UNTRACKED = _Untracked()


def _with_fill_of(order: Order, source: Order) -> Order:
    """`order` carrying `source`'s fill fields (a new object: `order` may be shared)."""
    return msgspec.structs.replace(
        order,
        filled_quantity=source.filled_quantity,
        remaining_quantity=source.remaining_quantity,
        average_price=source.average_price,
        fee=source.fee,
        fee_asset=source.fee_asset or order.fee_asset,
        updated_at=max(order.updated_at, source.updated_at),
    )


def merge(current: Order, update: Order) -> Order | None:
    """The order after `update`, or None when `update` adds nothing (stale or duplicate).

    The result is `update` itself (blanks filled from `current`) whenever the
    update wins outright, so the common path allocates nothing.
    """
    status = update.status
    cur_status = current.status
    cur_done = cur_status in DONE_STATUSES
    upd_done = status in DONE_STATUSES
    tolerance = _FILL_TOLERANCE * (current.quantity or 1.0)
    fill_delta = update.filled_quantity - current.filled_quantity
    if cur_done and not upd_done:
        # Never reopen; but a fill that lands after the cancel still counts.
        return _with_fill_of(current, update) if fill_delta > tolerance else None
    if upd_done and not cur_done:
        if fill_delta < -tolerance:
            # The final status wins, the larger fill we already saw stays.
            update = _with_fill_of(update, current)
    elif fill_delta < -tolerance:
        return None
    elif fill_delta <= tolerance:
        if not upd_done:
            rank, cur_rank = _RANK[status], _RANK[cur_status]
            if rank < cur_rank:
                return None
            if rank == cur_rank and not _is_newer(update, current):
                return None
        elif not _is_newer(update, current):
            return None
    if not (update.order_id and update.client_order_id and update.created_at and update.price) or (
        current.reduce_only or (not update.fee_asset and current.fee_asset)
    ):
        _fill_blanks(update, current)
    return update


def _is_newer(update: Order, current: Order) -> bool:
    if update.updated_at != current.updated_at:
        return update.updated_at > current.updated_at
    return update.sequence > current.sequence


def _fill_blanks(update: Order, current: Order) -> None:
    """Identity fields some sources leave empty (e.g. a push without the client id)."""
    if not update.order_id:
        update.order_id = current.order_id
    if not update.client_order_id:
        update.client_order_id = current.client_order_id
    if not update.created_at:
        update.created_at = current.created_at
    if not update.price:
        update.price = current.price
    if not update.fee_asset:
        update.fee_asset = current.fee_asset
    if current.reduce_only:
        update.reduce_only = True


class OrderTracker:
    """Open, pending and recently finished orders of one account on one venue.

    - `pending`: orders sent but not yet acknowledged, keyed by client order id
      (status PENDING_NEW); the first update carrying that client id adopts it.
    - `open`: symbol -> order id -> Order, only unfinished orders.
    - executed cache: symbol -> order id -> Order, finished orders only, bounded
      per symbol; when full, the least recently touched `evict_fraction` go.
    """

    __slots__ = (
        "open",
        "pending",
        "_executed",
        "_capacity",
        "_evict_count",
        "updates",
        "ignored",
        "transitions",
        "evicted",
    )

    def __init__(self, executed_capacity: int = 1000, evict_fraction: float = 0.2) -> None:
        if executed_capacity < 1:
            raise ValueError(f"executed_capacity must be >= 1, got {executed_capacity}")
        self.open: dict[Symbol, dict[str, Order]] = {}
        self.pending: dict[str, Order] = {}
        self._executed: dict[Symbol, OrderedDict[str, Order]] = {}
        self._capacity = executed_capacity
        self._evict_count = max(1, int(executed_capacity * evict_fraction))
        self.updates = 0
        self.ignored = 0
        self.transitions = 0
        self.evicted = 0

    # -- pending (sent, not yet acknowledged) ------------------------------------------

    def add_pending(self, order: Order) -> None:
        self.pending[order.client_order_id] = order

    def drop_pending(self, client_order_id: str) -> Order | None:
        return self.pending.pop(client_order_id, None)

    # -- updates --------------------------------------------------------------------

    def apply(self, update: Order, *, adopt: bool = True) -> Order | _Untracked | None:
        """Merge one update; returns the tracked order when it changed, else None.

        With `adopt=False` an update that carries an order id nothing here tracks (not open,
        not in the executed cache, no pending order with its client id) is left alone and
        UNTRACKED returned: a stream checks and applies in one lookup.
        """
        self.updates += 1
        symbol = update.symbol
        order_id = update.order_id
        opened = self.open.get(symbol)
        fresh = opened is None
        if fresh:
            opened = self.open[symbol] = {}
        current = opened.get(order_id)
        if current is None:
            executed = self._executed.get(symbol)
            if executed is not None:
                finished = executed.get(order_id)
                if finished is not None:
                    merged = merge(finished, update)
                    if merged is None:
                        self.ignored += 1
                        return None
                    executed[order_id] = merged
                    executed.move_to_end(order_id)
                    return merged
            if self.pending and update.client_order_id:
                current = self.pending.pop(update.client_order_id, None)
            if current is None:
                if not order_id:
                    self.ignored += 1
                    return None
                if not adopt:
                    # Not an update of a tracked order: leave everything as it was.
                    self.updates -= 1
                    if fresh:
                        del self.open[symbol]
                    return UNTRACKED
                merged = update
            else:
                merged = merge(current, update)
                if merged is None:
                    _fill_blanks(update, current)
                    merged = update
                if not merged.order_id:
                    # Still unacknowledged: nothing to key it by yet.
                    self.pending[merged.client_order_id] = merged
                    return merged
                order_id = merged.order_id
        else:
            merged = merge(current, update)
            if merged is None:
                self.ignored += 1
                return None
        if merged.status in DONE_STATUSES:
            # Only an order that was in the open set makes the open -> executed transition (not
            # one first learned finished, nor a pending one that finished unacknowledged).
            if opened.pop(order_id, None) is not None:
                self.transitions += 1
            self._store_executed(symbol, order_id, merged)
        else:
            opened[order_id] = merged
        return merged

    def _store_executed(self, symbol: Symbol, order_id: str, order: Order) -> None:
        executed = self._executed.get(symbol)
        if executed is None:
            executed = self._executed[symbol] = OrderedDict()
        elif len(executed) >= self._capacity:
            count = min(self._evict_count, len(executed))
            for _ in range(count):
                executed.popitem(last=False)
            self.evicted += count
        executed[order_id] = order

    def discard_open(self, symbol: Symbol, order_id: str) -> Order | None:
        """Forget an open order the venue no longer knows (it cannot be queried)."""
        opened = self.open.get(symbol)
        return opened.pop(order_id, None) if opened else None

    # -- lookups --------------------------------------------------------------------

    def get_open(self, symbol: Symbol, order_id: str) -> Order | None:
        opened = self.open.get(symbol)
        return opened.get(order_id) if opened else None

    def get_executed(self, symbol: Symbol, order_id: str) -> Order | None:
        """A finished order from the cache; a hit counts as a touch (kept longer)."""
        executed = self._executed.get(symbol)
        if executed:
            order = executed.get(order_id)
            if order is not None:
                executed.move_to_end(order_id)
                return order
        return None

    def find(self, symbol: Symbol, order_id: str) -> Order | None:
        return self.get_open(symbol, order_id) or self.get_executed(symbol, order_id)

    def find_by_client_id(self, symbol: Symbol, client_order_id: str) -> Order | None:
        """An acknowledged order by its client id (a scan: only for rare recovery paths)."""
        for orders in (self.open.get(symbol), self._executed.get(symbol)):
            if orders:
                for order in orders.values():
                    if order.client_order_id == client_order_id:
                        return order
        return None

    def open_ids(self) -> set[tuple[Symbol, str]]:
        return {(s, oid) for s, orders in self.open.items() for oid in orders}

    def executed_copy(self) -> dict[Symbol, dict[str, Order]]:
        return {symbol: dict(orders) for symbol, orders in self._executed.items() if orders}

    def open_count(self) -> int:
        return sum(len(orders) for orders in self.open.values())

    def executed_count(self) -> int:
        return sum(len(orders) for orders in self._executed.values())

    def executed_symbols(self) -> list[Symbol]:
        return [symbol for symbol, orders in self._executed.items() if orders]

    def clear(self) -> None:
        self.open.clear()
        self.pending.clear()
        self._executed.clear()
