"""Risk limits, the stale-data guard and the kill switch. Pure state, no I/O.

Every check answers with a reason string (None = allowed), so each skipped
opportunity can say why in the log and on the dashboard.
"""

from __future__ import annotations

import msgspec

from cexarb.arb.config import ArbConfig
from cexarb.arb.opportunity import VenueBook
from cexarb.model import Symbol


class Room(msgspec.Struct, frozen=True):
    """How many base units the limits allow now, and which limit binds."""

    quantity: float
    binding: str


class RiskManager:
    def __init__(self, config: ArbConfig) -> None:
        self.config = config
        self.halted = False
        self.halt_reason = ""

    # -- stale-data guard ------------------------------------------------------------------
    def book_problem(self, book: VenueBook) -> str | None:
        """Never trade on a book that is out of sync, empty or older than stale_ms."""
        if not book.synced:
            return "book_desynced"
        if book.age_ms > self.config.stale_ms:
            return "book_stale"
        if not book.bids or not book.asks:
            return "book_empty"
        return None

    # -- kill switch ------------------------------------------------------------------------
    def check_pnl(self, total_pnl: float) -> bool:
        """Trip the kill switch when the loss limit is reached; True when it just tripped."""
        if not self.halted and total_pnl <= -self.config.loss_limit:
            self.halt(f"loss_limit pnl={total_pnl:.4f} limit=-{self.config.loss_limit:g}")
            return True
        return False

    def halt(self, reason: str) -> None:
        self.halted = True
        self.halt_reason = reason

    # -- limits before a new trade --------------------------------------------------------
    def entry_problem(self, open_orders: int, unhedged_notional: float) -> str | None:
        if self.halted:
            return "kill_switch"
        # Both legs go out at once: they must fit under the open-order cap together.
        if open_orders + 2 > self.config.max_open_orders:
            return "max_open_orders"
        if unhedged_notional >= self.config.max_unhedged_notional:
            return "unhedged_exposure"
        return None

    def room(
        self,
        symbol: Symbol,
        price: float,
        buy_position: float,
        sell_position: float,
        unhedged_notional: float,
        reducing: bool = False,
    ) -> Room:
        """The largest quantity that keeps every limit: order size, per-venue position
        (buy_position/sell_position: base units moved since the start on the buying and the
        selling venue), and the unhedged cap (one leg alone must not exceed what is left of
        it). A reducing trade (a basis close) is not held back by position limits."""
        cfg = self.config
        if price <= 0:
            return Room(0.0, "no_price")
        limits = {
            "max_order_notional": cfg.max_order_notional / price,
            "max_unhedged_notional": (cfg.max_unhedged_notional - unhedged_notional) / price,
        }
        if not reducing:
            cap = cfg.max_position_for(symbol, price)
            limits["max_position_buy_venue"] = cap - buy_position
            limits["max_position_sell_venue"] = cap + sell_position
        binding = min(limits, key=limits.__getitem__)
        return Room(max(0.0, limits[binding]), binding)
