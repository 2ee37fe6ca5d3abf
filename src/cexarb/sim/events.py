"""What a SimVenue tells its subscribers (the protocol front-ends): one event per state change,
delivered in order after the operation that caused it."""

from __future__ import annotations

import msgspec

from cexarb.model.market import BookTicker, Symbol, Trade
from cexarb.model.trading import AssetBalance, Execution, Order, Position


class BookDeltaEvent(msgspec.Struct, gc=False):
    """Changed levels with absolute quantities (0 = level removed). Ids chain with no gaps."""

    symbol: Symbol
    first_id: int
    last_id: int
    bids: list[tuple[float, float]]
    asks: list[tuple[float, float]]
    ts_ms: int


class TickerEvent(msgspec.Struct, gc=False):
    ticker: BookTicker


class TradeEvent(msgspec.Struct, gc=False):
    trade: Trade


class OrderEvent(msgspec.Struct, gc=False):
    api_key: str
    order: Order


class FillEvent(msgspec.Struct, gc=False):
    api_key: str
    execution: Execution


class BalanceEvent(msgspec.Struct, gc=False):
    api_key: str
    balance: AssetBalance


class PositionEvent(msgspec.Struct, gc=False):
    api_key: str
    position: Position


class FundingEvent(msgspec.Struct, gc=False):
    """A funding settlement paid to (+) or from (-) one account's position."""

    api_key: str
    symbol: Symbol
    amount: float
    balance: float  # wallet balance after the payment
    rate: float
    ts_ms: int


class WalletEvent(msgspec.Struct, gc=False):
    """A withdrawal left or a deposit was credited; the balance event that follows is its change."""

    api_key: str
    asset: str
    kind: str  # "withdraw" or "deposit"


SimEvent = (
    BookDeltaEvent
    | TickerEvent
    | TradeEvent
    | OrderEvent
    | FillEvent
    | BalanceEvent
    | PositionEvent
    | FundingEvent
    | WalletEvent
)
