"""Helpers for end-to-end tests against the simulator over real sockets on 127.0.0.1."""

from __future__ import annotations

from typing import Any

from cexarb.model import BookDiff, OrderBook, Symbol
from cexarb.venues.contracts import PrivateWebsocketHandlers, PublicWebsocketHandlers
from tests.support import eventually

GATE_VENUES = ("gateio_spot", "gateio_futures")


class Events:
    """Records every handler call by kind."""

    def __init__(self) -> None:
        self.items: list[tuple[str, object]] = []

    def add(self, kind: str):
        return lambda item: self.items.append((kind, item))

    def of(self, kind: str) -> list:
        return [item for k, item in self.items if k == kind]

    def public(self) -> PublicWebsocketHandlers:
        return PublicWebsocketHandlers(
            book_diff=self.add("diff"),
            book_snapshot=self.add("snapshot"),
            book_ticker=self.add("ticker"),
            trade=self.add("trade"),
            connection=self.add("connection"),
            error=self.add("error"),
        )

    def private(self) -> PrivateWebsocketHandlers:
        return PrivateWebsocketHandlers(
            order=self.add("order"),
            execution=self.add("execution"),
            balance=self.add("balance"),
            position=self.add("position"),
            connection=self.add("connection"),
            error=self.add("error"),
        )


class LocalBook:
    """A minimal L2 book synced by the documented rule (the composite has the real one)."""

    def __init__(self, snapshot: OrderBook) -> None:
        self.bids = dict(snapshot.bids)
        self.asks = dict(snapshot.asks)
        self.id = snapshot.update_id
        self.applied = 0

    def apply(self, diff: BookDiff) -> bool:
        """False on a gap; old diffs are skipped."""
        if diff.last_id <= self.id:
            return True
        if not diff.first_id <= self.id + 1 <= diff.last_id:
            return False
        for side, levels in ((self.bids, diff.bids), (self.asks, diff.asks)):
            for price, qty in levels:
                if qty == 0:
                    side.pop(price, None)
                else:
                    side[price] = qty
        self.id = diff.last_id
        self.applied += 1
        return True

    def top(self, depth: int) -> tuple[list, list]:
        bids = sorted(self.bids.items(), reverse=True)[:depth]
        asks = sorted(self.asks.items())[:depth]
        return bids, asks


async def catch_up(book: LocalBook, events: Events, venue: Any, symbol: Symbol, diffs: int = 10) -> None:
    """Apply the streamed diffs to `book` (a gap fails the test) until `diffs` were applied and
    the book stands at the venue's id; returns with nothing awaited since that check."""
    position = 0

    def drain() -> bool:
        nonlocal position
        received = events.of("diff")
        for diff in received[position:]:
            assert book.apply(diff), f"gap at {diff.first_id}..{diff.last_id} after {book.id}"
        position = len(received)
        return book.applied >= diffs and book.id == venue.book_id(symbol)

    await eventually(drain, what=f"{diffs} diffs applied and caught up with the venue")


def same_levels(ours: list, truth: list) -> bool:
    """Equal prices, quantities equal up to float text round-trips."""
    return len(ours) == len(truth) and all(
        p1 == p2 and abs(q1 - q2) <= 1e-9 * max(1.0, abs(q2))
        for (p1, q1), (p2, q2) in zip(ours, truth, strict=True)
    )
