"""Account and trading structs: order requests, orders, fills, balances, positions, withdrawals."""

from __future__ import annotations

import math

import msgspec

from cexarb.model.enums import (
    OrderStatus,
    OrderType,
    PositionSide,
    Side,
    TimeInForce,
    WithdrawalStatus,
)
from cexarb.model.errors import InvalidOrder
from cexarb.model.market import Symbol

_INF = math.inf
_LOCAL = "fix the order's numbers: the request was refused locally, before reaching any venue"


class OrderRequest(msgspec.Struct, frozen=True, gc=False):
    """One order to place, as it flows from a composite to its venue connector.

    Built once (the composite's place_* methods build it); every layer below takes it whole,
    so the parameters are stated here and nowhere else. Its numbers are checked on
    construction: a request that exists is locally valid (the venue's own rules, tick, step
    and minimums, are the connector's and the venue's to check).

    `price` is None for a market order, except a Gate spot market buy, where it is the price
    the quote amount is sized at (quantity x price). The composite sets `client_order_id`
    (a fresh one when its caller gave none) before the request reaches a connector."""

    symbol: Symbol
    side: Side
    order_type: OrderType
    quantity: float
    price: float | None = None
    time_in_force: TimeInForce = TimeInForce.GTC
    client_order_id: str = ""
    reduce_only: bool = False

    def __post_init__(self) -> None:
        # inf / nan / <= 0 would reach the venue as text it rejects at best: refuse here.
        # One chained comparison per number (no call): nan fails both sides, inf the right one.
        quantity, price = self.quantity, self.price
        if not 0 < quantity < _INF:
            raise InvalidOrder(f"quantity must be a finite number > 0, got {quantity}", hint=_LOCAL)
        if price is None:
            if self.order_type is not OrderType.MARKET:
                raise InvalidOrder(f"a {self.order_type.value} order needs a price", hint=_LOCAL)
        elif not 0 < price < _INF:
            raise InvalidOrder(f"price must be a finite number > 0, got {price}", hint=_LOCAL)


class Order(msgspec.Struct, gc=False):
    symbol: Symbol
    order_id: str
    client_order_id: str
    side: Side
    order_type: OrderType
    price: float
    quantity: float
    status: OrderStatus
    time_in_force: TimeInForce = TimeInForce.GTC
    filled_quantity: float = 0.0
    remaining_quantity: float = 0.0
    average_price: float = 0.0
    fee: float = 0.0
    fee_asset: str = ""
    created_at: int = 0
    updated_at: int = 0
    # Venue sequence/version when the venue gives one; newer wins between equal fills.
    sequence: int = 0
    reduce_only: bool = False
    # Quote amount asked by a market buy sized in quote (Gate spot market buys); 0 otherwise.
    quote_quantity: float = 0.0


class Execution(msgspec.Struct, gc=False):
    symbol: Symbol
    trade_id: str
    order_id: str
    client_order_id: str
    side: Side
    price: float
    quantity: float
    fee: float
    fee_asset: str
    is_maker: bool
    timestamp: int


class AssetBalance(msgspec.Struct, gc=False):
    asset: str
    available: float
    locked: float = 0.0

    @property
    def total(self) -> float:
        return self.available + self.locked


class Position(msgspec.Struct, gc=False):
    symbol: Symbol
    side: PositionSide
    # Signed size in base units (+ long, - short) and in contracts.
    size: float
    contracts: float
    entry_price: float = 0.0
    mark_price: float = 0.0
    unrealized_pnl: float = 0.0
    realized_pnl: float = 0.0
    leverage: float = 0.0
    liquidation_price: float = 0.0
    margin: float = 0.0
    updated_at: int = 0


class WithdrawalRequest(msgspec.Struct, frozen=True):
    asset: str
    amount: float
    address: str
    network: str
    memo: str | None = None
    client_id: str | None = None


class WithdrawalResponse(msgspec.Struct):
    withdrawal_id: str
    asset: str
    amount: float
    address: str
    network: str
    status: WithdrawalStatus
    fee: float = 0.0
    tx_id: str = ""
    timestamp: int = 0


class WithdrawalNetwork(msgspec.Struct, frozen=True):
    """One network an asset can be withdrawn on, as the venue configures it."""

    asset: str
    network: str
    min_amount: float = 0.0
    fee: float = 0.0
    # Full-match pattern of a valid address on this network; "" when the venue gives none.
    address_regex: str = ""
    withdraw_enabled: bool = True
    memo_required: bool = False


class FundingInfo(msgspec.Struct, frozen=True):
    """A perpetual's funding: the rate the next settlement applies, when, and how often."""

    symbol: Symbol
    rate: float  # per interval; positive: longs pay shorts
    next_apply_ms: int
    interval_s: int


class FundingPayment(msgspec.Struct, frozen=True):
    """One funding settlement of the account's position: received (+) or paid (-), in settle asset."""

    payment_id: str
    symbol: Symbol
    amount: float
    timestamp: int
    balance: float = 0.0  # wallet balance after it, when the venue says


class DepositAddress(msgspec.Struct, frozen=True):
    """Where to send `asset` on `network` (the venue's name for it) to credit this account."""

    asset: str
    network: str
    address: str
    memo: str = ""


class DepositRecord(msgspec.Struct, frozen=True):
    """A deposit as the venue lists it; `credited` once it is in the balance."""

    deposit_id: str  # the venue's id, else the transaction id
    asset: str
    amount: float
    network: str
    address: str
    tx_id: str
    credited: bool
    timestamp: int = 0


class AccountFees(msgspec.Struct, frozen=True):
    """The fee rates this account pays on one symbol, as the venue reports them (its tier),
    next to the public default in SymbolInfo. A negative maker rate is a rebate.

    `token` names the discount token the venue takes fees in while the account has enabled
    it ("MX": MEXC's MX deduction, "GT": Gate's GT deduction; "" when off); token_maker and
    token_taker are then the rates charged, as a fraction of the trade's quote value (the
    venue converts that value to the token at its price)."""

    symbol: Symbol
    maker: float
    taker: float
    token: str = ""
    token_maker: float = 0.0
    token_taker: float = 0.0
