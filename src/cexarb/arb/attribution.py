"""PnL per named strategy: each fill is booked under the strategy whose order it filled.

The engine learns which orders a trade placed when its execution ends (the IOC legs and any
hedges); a fill can arrive before that (the stream beats the REST reply), so fills of orders
not yet claimed wait here and are booked when the claim comes. Orders of residual retries are
claimed by symbol for the strategy that left the residual. Funding goes to the strategy that
holds the perpetual position. Whatever no strategy claimed is reported as unattributed, so the
lines always add up to the engine's total.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from cexarb.arb.pnl import PnlBook, PnlSnapshot
from cexarb.model import Execution, FundingPayment, Symbol


class StrategyBooks:
    def __init__(self, names: Iterable[str], venues: Mapping[str, bool]) -> None:
        """`venues`: venue name -> whether it is a futures venue."""
        self.books: dict[str, PnlBook] = {}
        for name in names:
            book = self.books[name] = PnlBook()
            for venue, is_futures in venues.items():
                book.add_venue(venue, {}, is_futures=is_futures)
        self._orders: dict[tuple[str, str], str] = {}
        # Fills waiting for their order's claim, each with its fee's quote value (a discount
        # token's, as the venue charged it; None otherwise).
        self._pending: dict[tuple[str, str], list[tuple[Execution, float | None]]] = {}
        self._perp_owner: dict[tuple[str, Symbol], str] = {}
        self.unattributed_funding = 0.0

    def on_fill(self, venue: str, fill: Execution, fee_value: float | None = None) -> None:
        key = (venue, fill.order_id)
        name = self._orders.get(key)
        if name is None:
            self._pending.setdefault(key, []).append((fill, fee_value))
        else:
            self.books[name].on_fill(venue, fill, fee_value)

    def claim(self, name: str, venue: str, order_id: str) -> None:
        """`order_id` on `venue` was placed for strategy `name`: book its fills there."""
        key = (venue, order_id)
        self._orders[key] = name
        for fill, fee_value in self._pending.pop(key, ()):
            self.books[name].on_fill(venue, fill, fee_value)

    def claim_symbol(self, name: str, symbol: Symbol) -> None:
        """Every unclaimed order on `symbol` (residual retries) belongs to `name`."""
        for venue, order_id in [k for k, fills in self._pending.items() if fills[0][0].symbol == symbol]:
            self.claim(name, venue, order_id)

    def own_perp(self, name: str, venue: str, symbol: Symbol) -> None:
        self._perp_owner[(venue, symbol)] = name

    def perp_owner(self, venue: str, symbol: Symbol) -> str:
        """The strategy its funding is booked under ("": none, it is unattributed)."""
        return self._perp_owner.get((venue, symbol), "")

    def on_funding(self, venue: str, payment: FundingPayment) -> None:
        name = self._perp_owner.get((venue, payment.symbol))
        if name is None:
            self.unattributed_funding += payment.amount
        else:
            self.books[name].on_funding(venue, payment)

    @property
    def unattributed_fills(self) -> int:
        return sum(len(f) for f in self._pending.values())

    def snapshots(self, marks: Mapping[tuple[str, Symbol], float]) -> dict[str, PnlSnapshot]:
        return {name: book.snapshot(marks) for name, book in self.books.items()}
