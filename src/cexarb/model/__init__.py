"""The shared vocabulary: msgspec structs, enums and typed errors."""

from cexarb.model.enums import (
    ConnectionState,
    Market,
    OrderStatus,
    OrderType,
    PositionSide,
    Side,
    TimeInForce,
    Venue,
    WithdrawalStatus,
)
from cexarb.model.market import BookDiff, BookTicker, OrderBook, Symbol, SymbolInfo, Trade
from cexarb.model.trading import (
    AssetBalance,
    Execution,
    FundingInfo,
    FundingPayment,
    Order,
    Position,
    WithdrawalNetwork,
    WithdrawalRequest,
    WithdrawalResponse,
)

__all__ = [
    "AssetBalance",
    "BookDiff",
    "BookTicker",
    "ConnectionState",
    "Execution",
    "FundingInfo",
    "FundingPayment",
    "Market",
    "Order",
    "OrderBook",
    "OrderStatus",
    "OrderType",
    "Position",
    "PositionSide",
    "Side",
    "Symbol",
    "SymbolInfo",
    "TimeInForce",
    "Trade",
    "Venue",
    "WithdrawalNetwork",
    "WithdrawalRequest",
    "WithdrawalResponse",
    "WithdrawalStatus",
]
