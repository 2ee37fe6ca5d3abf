"""The ground truth of a simulated venue: what chaos and end-to-end tests compare a client's
view against, and the conservation sum every asset's deposits must equal."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import msgspec

from cexarb.model.market import Symbol
from cexarb.model.trading import AssetBalance, Execution, Order, Position, WithdrawalResponse
from cexarb.sim.accounts import BookEntry
from cexarb.sim.transfers import Deposit

if TYPE_CHECKING:
    from cexarb.sim.venue import SimVenue

_copy = msgspec.structs.replace


@dataclass(slots=True)
class AccountTruth:
    """What the venue knows about one account: the ground truth chaos tests compare against."""

    orders: dict[str, Order] = field(default_factory=dict)
    fills: list[Execution] = field(default_factory=list)
    balances: dict[str, AssetBalance] = field(default_factory=dict)
    positions: dict[Symbol, Position] = field(default_factory=dict)
    withdrawals: list[WithdrawalResponse] = field(default_factory=list)
    funding: float = 0.0  # futures: funding received (+) minus paid (-)
    deposits: list[Deposit] = field(default_factory=list)
    book: list[BookEntry] = field(default_factory=list)  # futures: every wallet balance change


def account_truth(venue: SimVenue, api_key: str) -> AccountTruth:
    """Everything `venue` holds for the account, copied (open positions only)."""
    account = venue.account(api_key)
    if account is None:
        raise KeyError(f"no account with that API key on {venue.key}")
    return AccountTruth(
        orders={oid: _copy(o) for oid, o in account.orders.items()},
        fills=list(account.fills),
        balances=venue.balances(api_key),
        positions={s: p for s, p in venue.positions(api_key).items() if p.size},
        withdrawals=venue.withdrawals(api_key),
        funding=account.funding,
        book=list(account.book),
        deposits=list(account.deposits),
    )


def asset_totals(venue: SimVenue) -> dict[str, float]:
    """Per asset: all accounts' totals (synthetic traders included) + fees collected + withdrawn,
    plus, on futures, every position's unrealized PnL at the mark. Equals `deposited` at all times."""
    totals: dict[str, float] = {}
    for source in (
        *({a: b.total for a, b in acc.balances.items()} for acc in venue.accounts()),
        venue.fees_collected,
        venue.withdrawn,
    ):
        for asset, amount in source.items():
            totals[asset] = totals.get(asset, 0.0) + amount
    if venue.is_futures:
        unrealized = venue.ledger.unrealized(venue.mark_price)
        totals[venue.settle_asset] = totals.get(venue.settle_asset, 0.0) + unrealized
    return totals
