"""A local L2 order book kept in sync with a venue's snapshot + diff stream.

Sync rule (Gate and MEXC alike): a diff with last_id <= book id is old (skip);
the next diff must satisfy first_id <= book_id + 1 <= last_id, otherwise there
is a gap and the book must be resynced from a fresh snapshot. While a book is
not synced, diffs are buffered and replayed onto the snapshot when it lands,
so nothing between the snapshot and the live stream is lost.
"""

from __future__ import annotations

import time
from bisect import bisect_left, insort
from enum import IntEnum

from cexarb.model import BookDiff, OrderBook, Symbol

# A snapshot that never comes must not let the buffer grow without bound; past this
# the oldest diffs go, and the chain check then asks for a newer snapshot.
MAX_BUFFERED_DIFFS = 10_000
_monotonic = time.monotonic


class PyLadder:
    """One side: price -> quantity plus the prices kept sorted best-first (pure Python).

    The fallback for the compiled `cexarb.exchange._ladder.Ladder` (same methods, same
    behaviour, same tests), used where the extension could not be built. Bids are stored
    under negated prices so both sides sort ascending.
    """

    __slots__ = ("levels", "keys", "sign")

    def __init__(self, descending: bool) -> None:
        self.levels: dict[float, float] = {}
        self.keys: list[float] = []
        self.sign = -1.0 if descending else 1.0

    def load(self, levels: list[tuple[float, float]]) -> None:
        """Replace every level with these (price, qty) levels (qty <= 0 ones are skipped)."""
        sign = self.sign
        self.levels = {sign * price: qty for price, qty in levels if qty > 0}
        self.keys = sorted(self.levels)

    def update(self, changes: list[tuple[float, float]]) -> None:
        """Apply absolute (price, qty) levels; one loop with local names (the hot path)."""
        sign, levels, keys = self.sign, self.levels, self.keys
        for price, qty in changes:
            key = sign * price
            if qty > 0:
                if key not in levels:
                    insort(keys, key)
                levels[key] = qty
            elif levels.pop(key, None) is not None:
                del keys[bisect_left(keys, key)]

    def best(self) -> tuple[float, float] | None:
        """The best (price, qty), or None when the side is empty."""
        if not self.keys:
            return None
        key = self.keys[0]
        return (self.sign * key, self.levels[key])

    def top(self, depth: int | None) -> list[tuple[float, float]]:
        """The best `depth` levels (all for None), best first."""
        sign, levels = self.sign, self.levels
        keys = self.keys if depth is None else self.keys[:depth]
        return [(sign * key, levels[key]) for key in keys]

    def __len__(self) -> int:
        return len(self.keys)


try:
    # Built by `pip install` (setup.py) where a C compiler is present: ~7x cheaper per level.
    from cexarb.exchange._ladder import Ladder
except ImportError:
    Ladder = PyLadder


class L2Book:
    __slots__ = ("symbol", "bids", "asks", "update_id", "timestamp", "updated_monotonic", "_view")

    def __init__(self, symbol: Symbol) -> None:
        self.symbol = symbol
        self.bids = Ladder(True)
        self.asks = Ladder(False)
        self.update_id = 0
        self.timestamp = 0
        self.updated_monotonic = 0.0
        self._view: OrderBook | None = None

    def load(self, snapshot: OrderBook) -> None:
        self.bids.load(snapshot.bids)
        self.asks.load(snapshot.asks)
        self.update_id = snapshot.update_id
        self.timestamp = snapshot.timestamp
        self.updated_monotonic = time.monotonic()
        self._view = None

    def apply(self, diff: BookDiff) -> None:
        if diff.bids:
            self.bids.update(diff.bids)
        if diff.asks:
            self.asks.update(diff.asks)
        self.update_id = diff.last_id
        if diff.timestamp:
            self.timestamp = diff.timestamp
        self.updated_monotonic = _monotonic()
        self._view = None

    @property
    def best_bid(self) -> tuple[float, float] | None:
        return self.bids.best()

    @property
    def best_ask(self) -> tuple[float, float] | None:
        return self.asks.best()

    def view(self) -> OrderBook:
        """The whole book as an OrderBook; built once per change, then reused."""
        view = self._view
        if view is None:
            view = self._view = OrderBook(
                symbol=self.symbol,
                bids=self.bids.top(None),
                asks=self.asks.top(None),
                update_id=self.update_id,
                timestamp=self.timestamp,
            )
        return view


class DiffResult(IntEnum):
    APPLIED = 0
    OLD = 1
    BUFFERED = 2
    GAP = 3


_APPLIED = DiffResult.APPLIED


class BookSync:
    """One symbol's book and its sync state against the diff stream."""

    __slots__ = ("book", "synced", "buffer", "gaps")

    def __init__(self, symbol: Symbol) -> None:
        self.book = L2Book(symbol)
        self.synced = False
        self.buffer: list[BookDiff] = []
        self.gaps = 0

    def on_diff(self, diff: BookDiff) -> DiffResult:
        if not self.synced:
            buffer = self.buffer
            buffer.append(diff)
            if len(buffer) > MAX_BUFFERED_DIFFS:
                del buffer[: len(buffer) - MAX_BUFFERED_DIFFS]
            return DiffResult.BUFFERED
        book = self.book
        book_id = book.update_id
        if diff.last_id <= book_id:
            return DiffResult.OLD
        if diff.first_id > book_id + 1:
            self.mark_stale()
            self.buffer.append(diff)
            self.gaps += 1
            return DiffResult.GAP
        # L2Book.apply inlined (the live stream's every diff: a Python frame less).
        if diff.bids:
            book.bids.update(diff.bids)
        if diff.asks:
            book.asks.update(diff.asks)
        book.update_id = diff.last_id
        if diff.timestamp:
            book.timestamp = diff.timestamp
        book.updated_monotonic = _monotonic()
        book._view = None
        return _APPLIED

    def mark_stale(self) -> None:
        """Stop serving the book; diffs buffer until the next snapshot."""
        self.synced = False
        self.buffer = []

    def on_snapshot(self, snapshot: OrderBook) -> bool:
        """Load a snapshot and replay buffered diffs that chain onto it.

        Returns False (still stale, buffer kept from the gap on) when the buffered
        diffs start after the snapshot: the snapshot is too old, fetch another.
        """
        book = self.book
        book.load(snapshot)
        buffered, self.buffer = _in_sequence(self.buffer), []
        for i, diff in enumerate(buffered):
            if diff.last_id <= book.update_id:
                continue
            if diff.first_id > book.update_id + 1:
                self.buffer = buffered[i:]
                self.synced = False
                return False
            book.apply(diff)
        self.synced = True
        return True


def _in_sequence(diffs: list[BookDiff]) -> list[BookDiff]:
    """Drop diffs the stream later went back before: they were out of sequence (a stray or
    corrupt frame). Kept, one far ahead would make every snapshot look too old, forever."""
    kept: list[BookDiff] = []
    floor = None
    for diff in reversed(diffs):
        if floor is None or diff.first_id < floor:
            kept.append(diff)
            floor = diff.first_id
    kept.reverse()
    return kept
