"""Enumerations shared by every layer."""

from __future__ import annotations

from enum import Enum


class Venue(str, Enum):
    MEXC = "mexc"
    GATEIO = "gateio"


class Market(str, Enum):
    SPOT = "spot"
    FUTURES = "futures"


class Side(str, Enum):
    BUY = "BUY"
    SELL = "SELL"

    @property
    def opposite(self) -> Side:
        return Side.SELL if self is Side.BUY else Side.BUY

    @property
    def sign(self) -> int:
        return 1 if self is Side.BUY else -1


class OrderType(str, Enum):
    LIMIT = "LIMIT"
    MARKET = "MARKET"
    # Post-only limit: rejected by the venue if it would take liquidity.
    LIMIT_MAKER = "LIMIT_MAKER"


class TimeInForce(str, Enum):
    GTC = "GTC"
    IOC = "IOC"
    FOK = "FOK"
    # Post-only ("poc" on Gate, LIMIT_MAKER on MEXC).
    POST_ONLY = "POST_ONLY"


class OrderStatus(str, Enum):
    PENDING_NEW = "PENDING_NEW"
    NEW = "NEW"
    PARTIALLY_FILLED = "PARTIALLY_FILLED"
    PENDING_CANCEL = "PENDING_CANCEL"
    FILLED = "FILLED"
    CANCELED = "CANCELED"
    PARTIALLY_CANCELED = "PARTIALLY_CANCELED"
    EXPIRED = "EXPIRED"
    REJECTED = "REJECTED"
    UNKNOWN = "UNKNOWN"

    @property
    def is_done(self) -> bool:
        return self in DONE_STATUSES

    @property
    def rank(self) -> int:
        """Lifecycle rank: an update may only keep or raise it (see OrderTracker)."""
        return _RANK[self]


# Finished statuses: no further update reopens these (exported for the hot path's set lookups).
DONE_STATUSES = frozenset(
    {
        OrderStatus.FILLED,
        OrderStatus.CANCELED,
        OrderStatus.PARTIALLY_CANCELED,
        OrderStatus.EXPIRED,
        OrderStatus.REJECTED,
    }
)

_RANK = {
    OrderStatus.UNKNOWN: 0,
    OrderStatus.PENDING_NEW: 1,
    OrderStatus.NEW: 2,
    OrderStatus.PARTIALLY_FILLED: 3,
    OrderStatus.PENDING_CANCEL: 4,
    OrderStatus.FILLED: 5,
    OrderStatus.CANCELED: 5,
    OrderStatus.PARTIALLY_CANCELED: 5,
    OrderStatus.EXPIRED: 5,
    OrderStatus.REJECTED: 5,
}


class PositionSide(str, Enum):
    LONG = "LONG"
    SHORT = "SHORT"
    FLAT = "FLAT"


class WithdrawalStatus(str, Enum):
    PENDING = "PENDING"
    PROCESSING = "PROCESSING"
    DONE = "DONE"
    FAILED = "FAILED"
    CANCELED = "CANCELED"

    @property
    def is_done(self) -> bool:
        return self in (WithdrawalStatus.DONE, WithdrawalStatus.FAILED, WithdrawalStatus.CANCELED)


class ConnectionState(str, Enum):
    CONNECTED = "CONNECTED"
    DISCONNECTED = "DISCONNECTED"
    RECONNECTED = "RECONNECTED"
    CLOSED = "CLOSED"
