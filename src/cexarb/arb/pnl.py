"""PnL and inventory per venue and in total, realized and unrealized, fees included.

Fed with the account's own fills (deduplicated by venue + trade id). Each
(venue, symbol) keeps an average-cost ledger of what was traded since the start;
spot inventory is the starting balance plus every fill's asset movements.

Transfers between venues (the rebalancer's withdrawals and deposits) move inventory from one
venue to another and are no PnL; their withdrawal fees are, valued at the venue's mark.

Perpetual funding payments (deduplicated by venue + payment id) move the futures margin
balance and count in PnL as their own column: received adds, paid subtracts.

A fee charged in base is booked as that much base sold at the fill price, with
the proceeds spent on the fee: the ledger's quantity then matches the wallet,
and realized + unrealized - fees equals the wallet's change marked to market.
A fee taken in another asset (a discount token: MEXC MX, Gate GT) leaves that asset's
inventory and counts at the quote value the venue charged (given by the caller).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from cexarb.model import Execution, FundingPayment, Side, Symbol

_ZERO = 1e-12


class Ledger:
    """Average-cost position of one symbol on one venue."""

    __slots__ = ("net", "avg_price", "realized")

    def __init__(self, net: float = 0.0, avg_price: float = 0.0) -> None:
        self.net = net
        self.avg_price = avg_price
        self.realized = 0.0

    def trade(self, side: Side, quantity: float, price: float) -> float:
        """Apply a fill; returns the PnL it realized."""
        signed = side.sign * quantity
        net = self.net
        if abs(net) <= _ZERO or (net > 0) == (signed > 0):
            new = net + signed
            self.avg_price = (
                (self.avg_price * abs(net) + price * quantity) / abs(new) if abs(new) > _ZERO else 0.0
            )
            self.net = new
            return 0.0
        closing = min(quantity, abs(net))
        pnl = closing * (price - self.avg_price) * (1.0 if net > 0 else -1.0)
        self.realized += pnl
        new = net + signed
        if abs(new) <= _ZERO:
            new, self.avg_price = 0.0, 0.0
        elif (new > 0) != (net > 0):
            self.avg_price = price  # flipped: the rest is a new position opened here
        self.net = new
        return pnl

    def unrealized(self, mark: float) -> float:
        return self.net * (mark - self.avg_price) if self.net else 0.0


@dataclass(frozen=True, slots=True)
class VenuePnl:
    venue: str
    realized: float
    unrealized: float
    fees: float
    fills: int
    funding: float = 0.0  # received (+) minus paid (-)
    transfer_fees: float = 0.0  # withdrawal fees of rebalancing transfers, in quote

    @property
    def total(self) -> float:
        return self.realized + self.unrealized - self.fees + self.funding - self.transfer_fees


@dataclass(frozen=True, slots=True)
class PnlSnapshot:
    venues: dict[str, VenuePnl]

    @property
    def realized(self) -> float:
        return sum(v.realized for v in self.venues.values())

    @property
    def unrealized(self) -> float:
        return sum(v.unrealized for v in self.venues.values())

    @property
    def fees(self) -> float:
        return sum(v.fees for v in self.venues.values())

    @property
    def funding(self) -> float:
        return sum(v.funding for v in self.venues.values())

    @property
    def transfer_fees(self) -> float:
        return sum(v.transfer_fees for v in self.venues.values())

    @property
    def total(self) -> float:
        return sum(v.total for v in self.venues.values())

    @property
    def fills(self) -> int:
        return sum(v.fills for v in self.venues.values())


class PnlBook:
    def __init__(self) -> None:
        self._initial: dict[str, dict[str, float]] = {}
        self._delta: dict[str, dict[str, float]] = {}
        self._futures: set[str] = set()
        self._ledgers: dict[tuple[str, Symbol], Ledger] = {}
        self._fees: dict[str, float] = {}
        self._fills: dict[str, int] = {}
        self._seen: set[tuple[str, str]] = set()
        self._funding: dict[str, float] = {}
        self._funding_seen: set[tuple[str, str]] = set()
        self._transfers: dict[str, dict[str, float]] = {}
        self._transfer_fees: dict[str, dict[str, float]] = {}

    def add_venue(self, venue: str, balances: Mapping[str, float], *, is_futures: bool = False) -> None:
        """Start tracking a venue from its current total balances (available + locked)."""
        self._initial[venue] = dict(balances)
        self._delta[venue] = {}
        self._fees[venue] = 0.0
        self._fills[venue] = 0
        self._funding[venue] = 0.0
        self._transfers[venue] = {}
        self._transfer_fees[venue] = {}
        if is_futures:
            self._futures.add(venue)

    @property
    def venues(self) -> list[str]:
        return list(self._initial)

    def is_futures(self, venue: str) -> bool:
        return venue in self._futures

    def on_fill(self, venue: str, fill: Execution, fee_value: float | None = None) -> bool:
        """Book one fill; False (and nothing booked) when it was seen before. `fee_value`:
        the fee's quote value when it was taken in an asset other than base or quote."""
        key = (venue, fill.trade_id)
        if fill.trade_id and key in self._seen:
            return False
        self._seen.add(key)
        symbol = fill.symbol
        ledger = self._ledgers.get((venue, symbol))
        if ledger is None:
            ledger = self._ledgers[(venue, symbol)] = Ledger()
        delta = self._delta[venue]
        realized = ledger.trade(fill.side, fill.quantity, fill.price)
        other_fee_value, fee_value = fee_value, 0.0
        if venue in self._futures:
            # Futures settle in quote: realized PnL and fees move the margin balance.
            delta[symbol.quote] = delta.get(symbol.quote, 0.0) + realized
        else:
            signed = fill.side.sign * fill.quantity
            delta[symbol.base] = delta.get(symbol.base, 0.0) + signed
            delta[symbol.quote] = delta.get(symbol.quote, 0.0) - signed * fill.price
        if fill.fee:
            asset = fill.fee_asset or symbol.quote
            delta[asset] = delta.get(asset, 0.0) - fill.fee
            if asset == symbol.quote:
                fee_value = fill.fee
            elif asset == symbol.base:
                fee_value = fill.fee * fill.price
                if venue not in self._futures:
                    ledger.trade(Side.SELL, fill.fee, fill.price)
            else:
                # A discount token: its inventory drops; the fee counts at what it was worth.
                fee_value = other_fee_value or 0.0
        self._fees[venue] += fee_value
        self._fills[venue] += 1
        return True

    def on_funding(self, venue: str, payment: FundingPayment) -> bool:
        """Book one funding payment; False (nothing booked) when it was seen before."""
        key = (venue, payment.payment_id)
        if key in self._funding_seen:
            return False
        self._funding_seen.add(key)
        asset = payment.symbol.quote
        delta = self._delta[venue]
        delta[asset] = delta.get(asset, 0.0) + payment.amount
        self._funding[venue] += payment.amount
        return True

    def ignore_funding(self, venue: str, payment_id: str) -> None:
        """A payment already in the starting balances: never book it."""
        self._funding_seen.add((venue, payment_id))

    def on_transfer(self, venue: str, asset: str, amount: float, *, fee: float = 0.0) -> None:
        """Inventory moved by a transfer: out (-, the fee included) or in (+); `fee` is a cost."""
        delta = self._delta[venue]
        delta[asset] = delta.get(asset, 0.0) + amount
        moved = self._transfers[venue]
        moved[asset] = moved.get(asset, 0.0) + amount
        if fee:
            fees = self._transfer_fees[venue]
            fees[asset] = fees.get(asset, 0.0) + fee

    def transfers(self, venue: str) -> dict[str, float]:
        """Net amount per asset that transfers moved in (+) or out (-) of this venue."""
        return dict(self._transfers.get(venue, {}))

    def transfer_fees(self, venue: str) -> dict[str, float]:
        return dict(self._transfer_fees.get(venue, {}))

    def funding(self, venue: str) -> float:
        return self._funding.get(venue, 0.0)

    def position(self, venue: str, symbol: Symbol) -> float:
        """Base units bought minus sold (minus base fees) on this venue since the start."""
        ledger = self._ledgers.get((venue, symbol))
        return ledger.net if ledger else 0.0

    def realized(self, venue: str, symbol: Symbol) -> float:
        """PnL realized so far on one venue and symbol (the report splits it per day)."""
        ledger = self._ledgers.get((venue, symbol))
        return ledger.realized if ledger else 0.0

    def fees(self, venue: str) -> float:
        """Fees paid so far on a venue, valued in quote."""
        return self._fees.get(venue, 0.0)

    def inventory(self, venue: str) -> dict[str, float]:
        """Balances now (spot assets; the margin balance on futures): start plus fills."""
        out = dict(self._initial.get(venue, {}))
        for asset, change in self._delta.get(venue, {}).items():
            out[asset] = out.get(asset, 0.0) + change
        return out

    def inventory_change(self, venue: str) -> dict[str, float]:
        return dict(self._delta.get(venue, {}))

    def positions(self, venue: str) -> dict[Symbol, float]:
        return {s: lg.net for (v, s), lg in self._ledgers.items() if v == venue}

    def snapshot(self, marks: Mapping[tuple[str, Symbol], float]) -> PnlSnapshot:
        """PnL per venue; a ledger is marked at its venue's mark (mid) for the symbol."""
        realized: dict[str, float] = dict.fromkeys(self._initial, 0.0)
        unrealized: dict[str, float] = dict.fromkeys(self._initial, 0.0)
        for (venue, symbol), ledger in self._ledgers.items():
            realized[venue] += ledger.realized
            mark = marks.get((venue, symbol))
            if mark:
                unrealized[venue] += ledger.unrealized(mark)
        return PnlSnapshot(
            {
                v: VenuePnl(
                    v,
                    realized[v],
                    unrealized[v],
                    self._fees[v],
                    self._fills[v],
                    self._funding[v],
                    sum(
                        amount * asset_value(v, asset, marks)
                        for asset, amount in self._transfer_fees[v].items()
                    ),
                )
                for v in self._initial
            }
        )


def asset_value(venue: str, asset: str, marks: Mapping[tuple[str, Symbol], float]) -> float:
    """Quote value of one unit of `asset` on `venue`: 1 for a quote asset, else the venue's
    mark of a symbol with it as base (0 when there is none)."""
    if any(v == venue and symbol.quote == asset for v, symbol in marks):
        return 1.0
    for (v, symbol), mark in marks.items():
        if v == venue and symbol.base == asset:
            return mark
    return 1.0 if asset in ("USDT", "USDC", "USD") else 0.0
