"""MEXC spot REST JSON shapes built from core model objects (mexc_spot.md §3, §7).

Everything numeric goes out as a string, formatted exactly to the symbol's tick (prices),
step (quantities) or their product (quote amounts), so no float noise reaches a client.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cexarb.model import (
    AssetBalance,
    BookTicker,
    Execution,
    Order,
    OrderBook,
    OrderStatus,
    OrderType,
    Side,
    Symbol,
    TimeInForce,
    Trade,
    WithdrawalResponse,
    WithdrawalStatus,
)
from cexarb.model.rounding import decimals_of, format_decimal
from cexarb.sim.engine import SimMarket
from cexarb.sim.withdrawals import SimNetwork

# MEXC order `type` <-> core (order type, time in force).
MEXC_TYPES: dict[str, tuple[OrderType, TimeInForce]] = {
    "LIMIT": (OrderType.LIMIT, TimeInForce.GTC),
    "MARKET": (OrderType.MARKET, TimeInForce.IOC),
    "LIMIT_MAKER": (OrderType.LIMIT_MAKER, TimeInForce.POST_ONLY),
    "IMMEDIATE_OR_CANCEL": (OrderType.LIMIT, TimeInForce.IOC),
    "FILL_OR_KILL": (OrderType.LIMIT, TimeInForce.FOK),
}

# WS privateOrders.orderType numbers (mexc_spot.md §7).
WS_ORDER_TYPES = {"LIMIT": 1, "LIMIT_MAKER": 2, "IMMEDIATE_OR_CANCEL": 3, "FILL_OR_KILL": 4, "MARKET": 5}

_TIF_NAMES = {
    TimeInForce.GTC: "GTC",
    TimeInForce.IOC: "IOC",
    TimeInForce.FOK: "FOK",
    TimeInForce.POST_ONLY: "GTC",
}

# Withdraw history status numbers: 1 APPLY ... 7 SUCCESS, 8 FAILED, 9 CANCEL.
WITHDRAW_STATUS = {
    WithdrawalStatus.PENDING: 1,
    WithdrawalStatus.PROCESSING: 4,
    WithdrawalStatus.DONE: 7,
    WithdrawalStatus.FAILED: 8,
    WithdrawalStatus.CANCELED: 9,
}


def mexc_type_of(order: Order) -> str:
    """The MEXC `type` an order was placed as, recovered from its core type and TIF."""
    if order.order_type is OrderType.MARKET:
        return "MARKET"
    if order.order_type is OrderType.LIMIT_MAKER or order.time_in_force is TimeInForce.POST_ONLY:
        return "LIMIT_MAKER"
    if order.time_in_force is TimeInForce.IOC:
        return "IMMEDIATE_OR_CANCEL"
    if order.time_in_force is TimeInForce.FOK:
        return "FILL_OR_KILL"
    return "LIMIT"


def rest_status(order: Order) -> str:
    """MEXC's five REST statuses; a core EXPIRED/REJECTED end reads as (partially) canceled."""
    status = order.status
    if status in (OrderStatus.PENDING_NEW, OrderStatus.NEW, OrderStatus.UNKNOWN):
        return "NEW"
    if status in (OrderStatus.PARTIALLY_FILLED, OrderStatus.PENDING_CANCEL):
        return "PARTIALLY_FILLED" if order.filled_quantity > 0 else "NEW"
    if status is OrderStatus.FILLED:
        return "FILLED"
    return "PARTIALLY_CANCELED" if order.filled_quantity > 0 else "CANCELED"


def ws_status(order: Order) -> int:
    """privateOrders.status: 1 new, 2 filled, 3 partially filled, 4 canceled, 5 partially canceled."""
    return {"NEW": 1, "FILLED": 2, "PARTIALLY_FILLED": 3, "CANCELED": 4, "PARTIALLY_CANCELED": 5}[
        rest_status(order)
    ]


@dataclass(frozen=True, slots=True)
class SymbolFormat:
    """How one symbol's numbers are written on the wire."""

    symbol: Symbol
    venue_symbol: str
    tick: float
    step: float

    @property
    def amount_increment(self) -> float:
        return 10.0 ** -(decimals_of(self.tick) + decimals_of(self.step))

    def price(self, value: float) -> str:
        return format_decimal(value, self.tick)

    def qty(self, value: float) -> str:
        return format_decimal(value, self.step)

    def amount(self, value: float) -> str:
        return format_decimal(value, self.amount_increment)


def plain_number(value: float) -> str:
    return format_decimal(round(value, 12))


class SymbolBook:
    """MEXC symbol names (`BTCUSDT`) <-> core symbols, and each symbol's number format."""

    def __init__(self, markets: dict[Symbol, SimMarket]) -> None:
        self.formats: dict[Symbol, SymbolFormat] = {}
        self.by_name: dict[str, Symbol] = {}
        for symbol, market in markets.items():
            name = f"{symbol.base}{symbol.quote}"
            self.formats[symbol] = SymbolFormat(symbol, name, market.tick, market.step)
            self.by_name[name] = symbol

    def name(self, symbol: Symbol) -> str:
        return self.formats[symbol].venue_symbol

    def lookup(self, name: str) -> Symbol | None:
        return self.by_name.get(name.upper())

    def fmt(self, symbol: Symbol) -> SymbolFormat:
        return self.formats[symbol]


# --- market data -------------------------------------------------------------------------


def exchange_symbol(market: SimMarket, fmt: SymbolFormat) -> dict[str, Any]:
    price_decimals = decimals_of(market.tick)
    qty_decimals = decimals_of(market.step)
    return {
        "symbol": fmt.venue_symbol,
        "status": "1",
        "baseAsset": market.symbol.base,
        "baseAssetPrecision": qty_decimals,
        "quoteAsset": market.symbol.quote,
        "quotePrecision": price_decimals,
        "quoteAssetPrecision": price_decimals,
        "baseCommissionPrecision": qty_decimals,
        "quoteCommissionPrecision": price_decimals,
        "orderTypes": ["LIMIT", "MARKET", "LIMIT_MAKER"],
        "quoteOrderQtyMarketAllowed": True,
        "isSpotTradingAllowed": True,
        "isMarginTradingAllowed": False,
        "quoteAmountPrecision": format_decimal(market.min_notional),
        "baseSizePrecision": format_decimal(max(market.min_qty, 0.0)),
        "permissions": ["SPOT"],
        "filters": [],
        "maxQuoteAmount": "5000000",
        "makerCommission": format_decimal(market.maker_fee),
        "takerCommission": format_decimal(market.taker_fee),
        "quoteAmountPrecisionMarket": format_decimal(market.min_notional),
        "maxQuoteAmountMarket": "100000",
        "fullName": market.symbol.base,
        "tradeSideType": "1",
    }


def depth(book: OrderBook, fmt: SymbolFormat, now_ms: int) -> dict[str, Any]:
    return {
        "lastUpdateId": book.update_id,
        "bids": [[fmt.price(p), fmt.qty(q)] for p, q in book.bids],
        "asks": [[fmt.price(p), fmt.qty(q)] for p, q in book.asks],
        "timestamp": now_ms,
    }


def empty_side_price(fmt: SymbolFormat, price: float | None) -> str:
    """A best price as text. MEXC documents no form for an empty side; the simulator writes a
    zero price (what it always wrote), and the client reads "", null and zero alike as none."""
    return fmt.price(price if price is not None else 0.0)


def data_reply(data: Any, now_ms: int) -> dict[str, Any]:
    """The envelope of MEXC's newer account endpoints (tradeFee, mxDeduct/enable)."""
    return {"data": data, "code": 0, "msg": "success", "timestamp": now_ms}


def book_ticker(ticker: BookTicker, fmt: SymbolFormat) -> dict[str, Any]:
    return {
        "symbol": fmt.venue_symbol,
        "bidPrice": empty_side_price(fmt, ticker.bid_price),
        "bidQty": fmt.qty(ticker.bid_quantity),
        "askPrice": empty_side_price(fmt, ticker.ask_price),
        "askQty": fmt.qty(ticker.ask_quantity),
    }


def public_trade(trade: Trade, fmt: SymbolFormat) -> dict[str, Any]:
    return {
        "id": trade.trade_id or None,
        "price": fmt.price(trade.price),
        "qty": fmt.qty(trade.quantity),
        "quoteQty": fmt.amount(trade.price * trade.quantity),
        "time": trade.timestamp,
        # The maker was the buyer when the taker sold.
        "isBuyerMaker": trade.side is Side.SELL,
        "isBestMatch": True,
    }


def ticker_24hr(ticker: BookTicker, trades: list[Trade], fmt: SymbolFormat, now_ms: int) -> dict[str, Any]:
    """A 24h summary over the trades the core still remembers (the simulator keeps no candles)."""
    last = trades[-1].price if trades else (ticker.mid or ticker.bid_price or ticker.ask_price or 0.0)
    first = trades[0].price if trades else last
    volume = sum(t.quantity for t in trades)
    quote_volume = sum(t.quantity * t.price for t in trades)
    change = last - first
    return {
        "symbol": fmt.venue_symbol,
        "priceChange": fmt.price(change),
        "priceChangePercent": format_decimal(round(change / first, 6) if first else 0.0),
        "prevClosePrice": fmt.price(first),
        "lastPrice": fmt.price(last),
        "bidPrice": empty_side_price(fmt, ticker.bid_price),
        "bidQty": fmt.qty(ticker.bid_quantity),
        "askPrice": empty_side_price(fmt, ticker.ask_price),
        "askQty": fmt.qty(ticker.ask_quantity),
        "openPrice": fmt.price(first),
        "highPrice": fmt.price(max((t.price for t in trades), default=last)),
        "lowPrice": fmt.price(min((t.price for t in trades), default=last)),
        "volume": fmt.qty(volume),
        "quoteVolume": fmt.amount(quote_volume),
        "openTime": now_ms - 86_400_000,
        "closeTime": now_ms,
        "count": len(trades),
    }


# --- trading ------------------------------------------------------------------------------


def new_order_ack(order: Order, fmt: SymbolFormat, now_ms: int) -> dict[str, Any]:
    """POST /api/v3/order reply: no status (mexc_spot.md §3.2). MEXC may answer with only
    `symbol`, `orderId`, `orderListId` and `transactTime` (the ACK shape its API shares with
    Binance's spot API: binance-spot-api-docs "Response ACK"); the sim always does, so a client
    must take side, type, price and quantity from its own request."""
    return {
        "symbol": fmt.venue_symbol,
        "orderId": order.order_id,
        "orderListId": -1,
        "transactTime": order.created_at or now_ms,
    }


def _order_fields(order: Order, fmt: SymbolFormat) -> dict[str, Any]:
    """The fields every order reply carries, in MEXC's order (after the symbol)."""
    return {
        "orderId": order.order_id,
        "orderListId": -1,
        "clientOrderId": order.client_order_id or None,
        "price": "0" if order.order_type is OrderType.MARKET else fmt.price(order.price),
        "origQty": fmt.qty(order.quantity),
        "executedQty": fmt.qty(order.filled_quantity),
        "cummulativeQuoteQty": fmt.amount(order.filled_quantity * order.average_price),
        "status": rest_status(order),
        "timeInForce": _TIF_NAMES.get(order.time_in_force, "GTC"),
        "type": mexc_type_of(order),
        "side": order.side.value,
    }


def order(order: Order, fmt: SymbolFormat) -> dict[str, Any]:
    """GET /api/v3/order, openOrders, allOrders element."""
    return {
        "symbol": fmt.venue_symbol,
        **_order_fields(order, fmt),
        "stopPrice": "",
        "icebergQty": "",
        "time": order.created_at,
        "updateTime": order.updated_at or order.created_at,
        "isWorking": not order.status.is_done,
        "stpMode": "",
        "origQuoteOrderQty": fmt.amount(order.quote_quantity) if order.quote_quantity else "0",
    }


def canceled_order(order: Order, fmt: SymbolFormat) -> dict[str, Any]:
    """DELETE /api/v3/order and openOrders element (mexc_spot.md §3.2 "Cancel")."""
    return {
        "symbol": fmt.venue_symbol,
        "origClientOrderId": order.client_order_id or None,
        **_order_fields(order, fmt),
    }


def my_trade(fill: Execution, fmt: SymbolFormat) -> dict[str, Any]:
    return {
        "symbol": fmt.venue_symbol,
        "id": fill.trade_id,
        "orderId": fill.order_id,
        "orderListId": -1,
        "price": fmt.price(fill.price),
        "qty": fmt.qty(fill.quantity),
        "quoteQty": fmt.amount(fill.price * fill.quantity),
        "commission": plain_number(fill.fee),
        "commissionAsset": fill.fee_asset,
        "time": fill.timestamp,
        "isBuyer": fill.side is Side.BUY,
        "isMaker": fill.is_maker,
        "isBestMatch": True,
        "isSelfTrade": False,
        "clientOrderId": fill.client_order_id or None,
    }


def account(
    balances: dict[str, AssetBalance], now_ms: int, maker_fee: float, taker_fee: float
) -> dict[str, Any]:
    return {
        "makerCommission": round(maker_fee * 10_000),
        "takerCommission": round(taker_fee * 10_000),
        "buyerCommission": 0,
        "sellerCommission": 0,
        "canTrade": True,
        "canWithdraw": True,
        "canDeposit": True,
        "updateTime": now_ms,
        "accountType": "SPOT",
        "balances": [
            {"asset": b.asset, "free": plain_number(b.available), "locked": plain_number(b.locked)}
            for b in sorted(balances.values(), key=lambda b: b.asset)
            if b.available or b.locked
        ],
        "permissions": ["SPOT"],
    }


# --- wallet ---------------------------------------------------------------------------------


def coin_config(asset: str, networks: list[SimNetwork]) -> dict[str, Any]:
    return {
        "coin": asset,
        "Name": asset,
        "networkList": [
            {
                "coin": asset,
                "depositDesc": None,
                "depositEnable": True,
                "minConfirm": 1,
                "Name": f"{asset}-{n.network}",
                "network": n.network,
                "withdrawEnable": bool(n.withdraw_enabled),
                "withdrawFee": format_decimal(n.fee),
                "withdrawIntegerMultiple": None,
                "withdrawMax": "100000000",
                "withdrawMin": format_decimal(n.min_amount),
                "sameAddress": False,
                "contract": "",
                "withdrawTips": None,
                "depositTips": None,
                "netWork": n.network,
            }
            for n in networks
        ],
    }


# Deposit `status` (MEXC docs "Deposit History"): 4 PENDING while confirming, 5 SUCCESS credited.
DEPOSIT_PENDING, DEPOSIT_SUCCESS = 4, 5


def deposit_address(coin: str, network: str, address: str) -> dict[str, Any]:
    return {"coin": coin, "network": network, "address": address, "memo": None}


def deposit(d: Any) -> dict[str, Any]:
    return {
        "amount": format_decimal(d.amount),
        "coin": d.asset,
        "network": d.network,
        "status": DEPOSIT_SUCCESS if d.done else DEPOSIT_PENDING,
        "address": d.address,
        "addressTag": None,
        "txId": d.tx_id,
        "insertTime": d.timestamp,
        "unlockConfirm": "12",
        "confirmTimes": str(d.confirmations),
        "memo": None,
    }


def withdrawal(
    w: WithdrawalResponse, memo: str | None = None, client_id: str | None = None
) -> dict[str, Any]:
    return {
        "id": w.withdrawal_id,
        "txId": w.tx_id or None,
        "coin": w.asset,
        "network": w.network,
        "netWork": w.network,
        "address": w.address,
        "amount": format_decimal(w.amount),
        "transferType": 0,
        "status": WITHDRAW_STATUS.get(w.status, 1),
        "transactionFee": format_decimal(w.fee),
        "confirmNo": None,
        "applyTime": w.timestamp,
        "remark": "",
        "memo": memo,
        "withdrawOrderId": client_id,
        "transHash": w.tx_id or None,
        "updateTime": w.timestamp,
        "coinId": w.asset,
        "vcoinId": w.asset,
    }
