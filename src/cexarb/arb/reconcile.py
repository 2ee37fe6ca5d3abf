"""Compare the engine's books with a venue's own account (the simulator's ground truth).

Independent arithmetic on purpose: the truth side values the change of the
venue's balances, plus its futures positions at their entry price, at the same
marks the engine uses; it never reuses the engine's ledgers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from cexarb.arb.pnl import PnlBook
from cexarb.model import Execution, Symbol

TOLERANCE = 1e-6


@dataclass(frozen=True, slots=True)
class Row:
    venue: str
    item: str  # "USDT", "BTC", "position BTC/USDT", "fees", "pnl"
    engine: float
    truth: float

    @property
    def diff(self) -> float:
        return self.engine - self.truth

    @property
    def agrees(self) -> bool:
        return abs(self.diff) <= TOLERANCE * max(1.0, abs(self.truth))


@dataclass(frozen=True, slots=True)
class VenueTruth:
    """A venue's view of the account: start balances, balances now, positions, fills."""

    initial: Mapping[str, float]
    balances: Mapping[str, float]
    # symbol -> (signed size in base, entry price)
    positions: Mapping[Symbol, tuple[float, float]]
    fills: Sequence[Execution]
    funding: float = 0.0  # perpetual funding received (+) minus paid (-), per the venue's book
    # Per asset: what withdrawals took out (-, fee included) and credited deposits brought in (+),
    # and the withdrawal fees: inventory moved between venues is no PnL, its fees are.
    transfers: Mapping[str, float] = field(default_factory=dict)
    transfer_fees: Mapping[str, float] = field(default_factory=dict)
    # Quote price of assets no symbol marks (a discount token fees were taken in), as the
    # venue converted them.
    asset_prices: Mapping[str, float] = field(default_factory=dict)


def _fee_value(fill: Execution, asset_prices: Mapping[str, float]) -> float:
    if fill.fee_asset == fill.symbol.base:
        return fill.fee * fill.price
    if fill.fee_asset in ("", fill.symbol.quote):
        return fill.fee
    return fill.fee * asset_prices.get(fill.fee_asset, 0.0)


def reconcile(
    book: PnlBook, marks: Mapping[tuple[str, Symbol], float], truth: Mapping[str, VenueTruth]
) -> list[Row]:
    """Rows per venue: every asset's balance, futures positions, fees and PnL, engine vs truth."""
    snapshot = book.snapshot(marks)
    rows: list[Row] = []
    for venue, t in truth.items():
        engine_inventory = book.inventory(venue)
        asset_marks = {"USDT": 1.0, **t.asset_prices}
        for (v, symbol), mark in marks.items():
            if v == venue:
                asset_marks[symbol.base] = mark
                asset_marks[symbol.quote] = 1.0
        truth_pnl = 0.0
        for asset in sorted(set(t.balances) | set(engine_inventory)):
            now = t.balances.get(asset, 0.0)
            rows.append(Row(venue, asset, engine_inventory.get(asset, 0.0), now))
            moved = t.transfers.get(asset, 0.0)
            truth_pnl += (now - t.initial.get(asset, 0.0) - moved) * asset_marks.get(asset, 0.0)
            truth_pnl -= t.transfer_fees.get(asset, 0.0) * asset_marks.get(asset, 0.0)
        engine_positions = book.positions(venue) if venue in _futures_venues(book, truth) else {}
        for symbol in sorted(set(t.positions) | set(engine_positions)):
            size, entry = t.positions.get(symbol, (0.0, 0.0))
            rows.append(Row(venue, f"position {symbol}", engine_positions.get(symbol, 0.0), size))
            mark = marks.get((venue, symbol))
            if size and mark:
                truth_pnl += size * (mark - entry)
        venue_pnl = snapshot.venues.get(venue)
        rows.append(
            Row(
                venue,
                "fees",
                venue_pnl.fees if venue_pnl else 0.0,
                sum(_fee_value(f, t.asset_prices) for f in t.fills),
            )
        )
        rows.append(Row(venue, "fills", float(venue_pnl.fills if venue_pnl else 0), float(len(t.fills))))
        engine_moved = book.transfers(venue)
        for asset in sorted(set(t.transfers) | set(engine_moved)):
            rows.append(
                Row(venue, f"transfers {asset}", engine_moved.get(asset, 0.0), t.transfers.get(asset, 0.0))
            )
        if t.funding or book.funding(venue):
            rows.append(Row(venue, "funding", book.funding(venue), t.funding))
        rows.append(Row(venue, "pnl", venue_pnl.total if venue_pnl else 0.0, truth_pnl))
    return rows


def _futures_venues(book: PnlBook, truth: Mapping[str, VenueTruth]) -> set[str]:
    return {v for v, t in truth.items() if t.positions or book.is_futures(v)}
