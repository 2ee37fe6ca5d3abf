"""USDT-perpetual positions: signed size, average entry, isolated margin, realized PnL.

One position per (account, contract), in base units. A fill that reduces the
position realizes PnL against the average entry and frees margin in proportion;
a fill that crosses zero closes first, then opens the rest at the fill price.
Summed over all accounts, realized + unrealized PnL is zero at any common mark,
because every fill moves the same size and notional between two positions.
"""

from __future__ import annotations

from cexarb.model.enums import PositionSide
from cexarb.model.market import Symbol
from cexarb.model.trading import Position

DEFAULT_LEVERAGE = 10.0
MAX_LEVERAGE = 100.0
# Maintenance margin rate of the simple isolated-margin liquidation formula.
MAINTENANCE_RATE = 0.005


class PositionState:
    __slots__ = ("symbol", "size", "entry_price", "realized_pnl", "margin", "leverage", "updated_at")

    def __init__(self, symbol: Symbol, leverage: float = DEFAULT_LEVERAGE) -> None:
        self.symbol = symbol
        self.size = 0.0  # base units, + long / - short
        self.entry_price = 0.0
        self.realized_pnl = 0.0
        self.margin = 0.0  # isolated position margin, held in the account's locked USDT
        self.leverage = leverage
        self.updated_at = 0

    def apply_fill(self, signed_qty: float, price: float, qty_decimals: int) -> tuple[float, float]:
        """Apply a fill; returns (realized pnl, change of position margin)."""
        realized = 0.0
        margin_delta = 0.0
        size = self.size
        if size and (size > 0) != (signed_qty > 0):
            closing = min(abs(signed_qty), abs(size))
            direction = 1.0 if size > 0 else -1.0
            realized = (price - self.entry_price) * closing * direction
            freed = self.margin * closing / abs(size)
            margin_delta -= freed
            self.margin -= freed
            size = round(size - direction * closing, qty_decimals)
            signed_qty = round(signed_qty + direction * closing, qty_decimals)
            if size == 0:
                self.entry_price = 0.0
                self.margin = 0.0
        if signed_qty:
            new_size = round(size + signed_qty, qty_decimals)
            self.entry_price = (abs(size) * self.entry_price + abs(signed_qty) * price) / abs(new_size)
            opened = abs(signed_qty) * price / self.leverage
            self.margin += opened
            margin_delta += opened
            size = new_size
        self.size = size
        self.realized_pnl += realized
        return realized, margin_delta

    def unrealized(self, mark: float) -> float:
        return (mark - self.entry_price) * self.size if self.size else 0.0

    def liquidation_price(self) -> float:
        if not self.size:
            return 0.0
        if self.size > 0:
            return max(0.0, self.entry_price * (1.0 - 1.0 / self.leverage + MAINTENANCE_RATE))
        return self.entry_price * (1.0 + 1.0 / self.leverage - MAINTENANCE_RATE)

    def to_model(self, mark: float, contract_size: float, price_decimals: int) -> Position:
        side = (
            PositionSide.FLAT
            if not self.size
            else (PositionSide.LONG if self.size > 0 else PositionSide.SHORT)
        )
        return Position(
            symbol=self.symbol,
            side=side,
            size=self.size,
            contracts=round(self.size / contract_size, 8),
            entry_price=self.entry_price,
            mark_price=mark,
            unrealized_pnl=self.unrealized(mark),
            realized_pnl=self.realized_pnl,
            leverage=self.leverage,
            liquidation_price=round(self.liquidation_price(), price_decimals),
            margin=self.margin,
            updated_at=self.updated_at,
        )


def order_margin(notional: float, leverage: float, taker_fee: float) -> float:
    """Initial margin an opening order locks: notional / leverage plus a taker-fee reserve."""
    return notional / leverage + notional * max(taker_fee, 0.0)
