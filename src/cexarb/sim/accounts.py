"""Simulated accounts: balances with available/locked, and the account's own records."""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cexarb.model.market import Symbol
from cexarb.model.trading import AssetBalance, Execution, Order, WithdrawalResponse
from cexarb.sim.engine import RejectReason, SimReject
from cexarb.sim.fees import FeeTier

# Amounts this close to zero are float residue of lock/release arithmetic.
_DUST = 1e-9
# Internal (synthetic) accounts keep only this many fills: nobody reads them back.
_INTERNAL_FILLS = 1000


@dataclass(frozen=True, slots=True)
class BookEntry:
    """One change of a futures account's wallet balance (Gate's /futures/usdt/account_book)."""

    entry_id: int
    time_ms: int
    change: float
    balance: float  # wallet balance after the change
    kind: str  # dnw, pnl, fee, fund
    symbol: Symbol | None = None
    trade_id: str = ""


class SimAccountState:
    """One API key's account on one venue."""

    __slots__ = (
        "api_key",
        "api_secret",
        "user_id",
        "internal",
        "balances",
        "orders",
        "open_orders",
        "client_ids",
        "fills",
        "withdrawals",
        "leverage",
        "maker_fee",
        "taker_fee",
        "book",
        "funding",
        "deposits",
        "fee_tier",
        "fee_tiers",
        "unified",
    )

    def __init__(
        self,
        api_key: str,
        api_secret: str,
        user_id: int,
        balances: dict[str, float] | None = None,
        *,
        internal: bool = False,
    ) -> None:
        self.api_key = api_key
        self.api_secret = api_secret
        self.user_id = user_id
        # Synthetic traders: their orders are forgotten once finished and they get no events.
        self.internal = internal
        # Gate: the key's account is a unified account (`/account/detail` key.mode 2).
        self.unified = False
        self.balances: dict[str, AssetBalance] = {
            asset: AssetBalance(asset, float(amount)) for asset, amount in (balances or {}).items()
        }
        self.orders: dict[str, Order] = {}
        # Live orders by order id: the venue's working records (opaque here).
        self.open_orders: dict[str, Any] = {}
        self.client_ids: dict[str, str] = {}  # client order id -> order id
        self.fills: list[Execution] | deque[Execution] = deque(maxlen=_INTERNAL_FILLS) if internal else []
        self.withdrawals: list[WithdrawalResponse] = []
        self.leverage: dict[Symbol, float] = {}
        # Per-account fee rates; None = the market's.
        self.maker_fee: float | None = None
        self.taker_fee: float | None = None
        # This venue's terms (discount-token mode), and every venue's of the same owner (Gate's
        # /wallet/fee reports spot and futures rates in one reply).
        self.fee_tier = FeeTier()
        self.fee_tiers: Mapping[str, FeeTier] = {}
        # Futures: every change of the wallet balance, oldest first; funding received (+) / paid (-).
        self.book: list[BookEntry] = []
        self.funding = 0.0
        self.deposits: list[Any] = []  # transfers.Deposit, oldest first

    def __repr__(self) -> str:
        return f"SimAccountState(api_key={self.api_key[:3]}***, user_id={self.user_id})"

    def lookup(self, symbol: Symbol, order_id: str | None, client_order_id: str | None) -> Order:
        """The account's order on `symbol` by order id, else by client order id (raises
        SimReject ORDER_NOT_FOUND)."""
        if order_id is None and client_order_id:
            order_id = self.client_ids.get(client_order_id)
        order = self.orders.get(order_id) if order_id else None
        if order is None or order.symbol != symbol:
            wanted = order_id or client_order_id
            raise SimReject(RejectReason.ORDER_NOT_FOUND, f"no order {wanted!r} on {symbol}")
        return order

    def trades(self, symbol: Symbol | None, since_ms: int | None, limit: int) -> list[Execution]:
        """Oldest first: the first `limit` fills at/after `since_ms`, or the latest `limit` without it."""
        fills = [
            f
            for f in self.fills
            if (symbol is None or f.symbol == symbol) and (since_ms is None or f.timestamp >= since_ms)
        ]
        return fills[:limit] if since_ms is not None else fills[-limit:] if limit else []

    def balance(self, asset: str) -> AssetBalance:
        bal = self.balances.get(asset)
        if bal is None:
            bal = self.balances[asset] = AssetBalance(asset, 0.0)
        return bal

    def lock(self, asset: str, amount: float) -> AssetBalance:
        bal = self.balance(asset)
        if amount > bal.available + _DUST * max(1.0, amount):
            raise SimReject(
                RejectReason.INSUFFICIENT_BALANCE,
                f"{asset}: need {amount:.10g}, available {bal.available:.10g}",
            )
        bal.available = _clean(bal.available - amount)
        bal.locked = _clean(bal.locked + amount)
        return bal

    def unlock(self, asset: str, amount: float) -> AssetBalance:
        bal = self.balance(asset)
        bal.locked = _clean(bal.locked - amount)
        bal.available = _clean(bal.available + amount)
        return bal

    def spend_locked(self, asset: str, amount: float) -> AssetBalance:
        bal = self.balance(asset)
        bal.locked = _clean(bal.locked - amount)
        return bal

    def credit(self, asset: str, amount: float) -> AssetBalance:
        """Add to available (negative amounts debit it; may go below zero for futures losses)."""
        bal = self.balance(asset)
        bal.available = _clean(bal.available + amount)
        return bal

    def add_locked(self, asset: str, amount: float) -> AssetBalance:
        bal = self.balance(asset)
        bal.locked = _clean(bal.locked + amount)
        return bal


def _clean(value: float) -> float:
    return 0.0 if -_DUST < value < _DUST else value
