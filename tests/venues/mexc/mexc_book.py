"""A minimal test-side L2 book that syncs MEXC diffs onto REST snapshots (mexc_spot.md 6.5).

The composite owns the real book; this one exists so the connector's own tests can
prove that its diff ids chain with `get_order_book().update_id` and never gap.
"""

from __future__ import annotations

from cexarb.model import BookDiff, OrderBook, Symbol


class LocalBook:
    def __init__(self, symbol: Symbol, rest) -> None:
        self.symbol = symbol
        self._rest = rest
        self.bids: dict[float, float] = {}
        self.asks: dict[float, float] = {}
        self.update_id = 0
        self.synced = False
        self.buffer: list[BookDiff] = []
        self.applied = 0
        self.gaps = 0
        self.snapshots = 0

    def on_diff(self, diff: BookDiff) -> None:
        if diff.symbol != self.symbol:
            return
        if not self.synced:
            self.buffer.append(diff)
        elif diff.last_id <= self.update_id:
            return
        elif diff.first_id > self.update_id + 1:
            self.gaps += 1
            self.synced = False
            self.buffer = [diff]
        else:
            self._apply(diff)

    def unsync(self) -> None:
        """The stream broke: whatever comes next must be resynced onto a new snapshot."""
        self.synced = False
        self.buffer = []

    async def sync(self, attempts: int = 10) -> None:
        for _ in range(attempts):
            snap = await self._rest.get_order_book(self.symbol, 5000)
            self.snapshots += 1
            if self._load(snap):
                return
        raise AssertionError(f"{self.symbol}: could not sync in {attempts} snapshots")

    def _load(self, snap: OrderBook) -> bool:
        pending = [d for d in self.buffer if d.last_id > snap.update_id]
        if pending and pending[0].first_id > snap.update_id + 1:
            return False  # the snapshot is older than the first diff we kept: take another
        self.bids = dict(snap.bids)
        self.asks = dict(snap.asks)
        self.update_id = snap.update_id
        for diff in pending:
            if diff.first_id > self.update_id + 1:
                return False
            self._apply(diff)
        self.buffer = []
        self.synced = True
        return True

    def _apply(self, diff: BookDiff) -> None:
        for side, levels in ((self.bids, diff.bids), (self.asks, diff.asks)):
            for price, qty in levels:
                if qty == 0:
                    side.pop(price, None)
                else:
                    side[price] = qty
        self.update_id = diff.last_id
        self.applied += 1

    def top(self, depth: int = 5) -> tuple[list, list]:
        bids = sorted(self.bids.items(), reverse=True)[:depth]
        asks = sorted(self.asks.items())[:depth]
        return bids, asks
