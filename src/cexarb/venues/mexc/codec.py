"""Pure functions: MEXC spot REST JSON (decoded dicts) -> `cexarb.model` objects.

Numbers arrive as strings (sometimes numbers, sometimes null); ids as strings
or numbers. Functions that take an optional `symbol` resolve the venue symbol
("BTCUSDT") through the symbols exchangeInfo has loaded when it is omitted.
"""

from __future__ import annotations

from typing import Any

import msgspec

from cexarb.model import (
    AccountFees,
    AssetBalance,
    BookTicker,
    DepositAddress,
    DepositRecord,
    Execution,
    Order,
    OrderBook,
    OrderStatus,
    OrderType,
    Side,
    Symbol,
    SymbolInfo,
    TimeInForce,
    WithdrawalResponse,
    WithdrawalStatus,
)
from cexarb.model.errors import ProtocolError
from cexarb.venues.mexc.errors import parse_error
from cexarb.venues.mexc.symbols import remember, seen_symbol

__all__ = [
    "AssetNetwork",
    "ORDER_STATUS",
    "ORDER_TYPE",
    "order_type_param",
    "parse_asset_networks",
    "parse_balances",
    "parse_book_ticker",
    "parse_trade_fee",
    "parse_error",
    "parse_execution",
    "parse_order",
    "parse_order_book",
    "parse_server_time",
    "parse_symbol_info",
    "parse_withdrawal",
]

ORDER_STATUS: dict[str, OrderStatus] = {
    "NEW": OrderStatus.NEW,
    "PARTIALLY_FILLED": OrderStatus.PARTIALLY_FILLED,
    "FILLED": OrderStatus.FILLED,
    "CANCELED": OrderStatus.CANCELED,
    "PARTIALLY_CANCELED": OrderStatus.PARTIALLY_CANCELED,
}

# REST `type` -> (order type, time in force); MEXC encodes the TIF in the type.
ORDER_TYPE: dict[str, tuple[OrderType, TimeInForce]] = {
    "LIMIT": (OrderType.LIMIT, TimeInForce.GTC),
    "MARKET": (OrderType.MARKET, TimeInForce.IOC),
    "LIMIT_MAKER": (OrderType.LIMIT_MAKER, TimeInForce.POST_ONLY),
    "IMMEDIATE_OR_CANCEL": (OrderType.LIMIT, TimeInForce.IOC),
    "FILL_OR_KILL": (OrderType.LIMIT, TimeInForce.FOK),
}

# Withdraw history `status`: 1 APPLY, 2 AUDITING, 3 WAIT, 4 PROCESSING, 5 WAIT_PACKAGING,
# 6 WAIT_CONFIRM, 7 SUCCESS, 8 FAILED, 9 CANCEL, 10 MANUAL (held for manual review).
WITHDRAW_STATUS: dict[int, WithdrawalStatus] = {
    1: WithdrawalStatus.PENDING,
    2: WithdrawalStatus.PENDING,
    3: WithdrawalStatus.PENDING,
    4: WithdrawalStatus.PROCESSING,
    5: WithdrawalStatus.PROCESSING,
    6: WithdrawalStatus.PROCESSING,
    7: WithdrawalStatus.DONE,
    8: WithdrawalStatus.FAILED,
    9: WithdrawalStatus.CANCELED,
    10: WithdrawalStatus.PROCESSING,
}


class AssetNetwork(msgspec.Struct, frozen=True):
    """One withdrawal network of an asset (`/api/v3/capital/config/getall`)."""

    asset: str
    network: str  # the `netWork` value to send when withdrawing
    name: str = ""
    withdraw_enabled: bool = False
    deposit_enabled: bool = False
    withdraw_fee: float = 0.0
    withdraw_min: float = 0.0
    withdraw_max: float = 0.0
    withdraw_multiple: float = 0.0


def _num(value: Any) -> float:
    """A MEXC number: string, number, "" or null (-> 0.0)."""
    if value is None or value == "":
        return 0.0
    return float(value)


def _quote(value: Any) -> float | None:
    """A best price: "", null or 0 is an empty side, no price (None)."""
    price = _num(value)
    return price if price > 0.0 else None


def _int(value: Any) -> int:
    if value is None or value == "":
        return 0
    return int(value)


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _fail(what: str, raw: Any, exc: Exception) -> ProtocolError:
    return ProtocolError(f"cannot parse MEXC {what}: {exc!r} in {str(raw)[:300]}", venue="mexc")


def _symbol(raw: dict, symbol: Symbol | None) -> Symbol:
    return symbol if symbol is not None else seen_symbol(raw["symbol"])


def order_type_param(order_type: OrderType, time_in_force: TimeInForce) -> str:
    """The REST `type` for an order type and TIF (MEXC has no separate TIF parameter)."""
    if order_type is OrderType.MARKET:
        return "MARKET"
    if order_type is OrderType.LIMIT_MAKER or time_in_force is TimeInForce.POST_ONLY:
        return "LIMIT_MAKER"
    if time_in_force is TimeInForce.IOC:
        return "IMMEDIATE_OR_CANCEL"
    if time_in_force is TimeInForce.FOK:
        return "FILL_OR_KILL"
    return "LIMIT"


def _power_of_ten(digits: int) -> float:
    return float(f"1e-{digits}")


def parse_symbol_info(entry: dict) -> SymbolInfo:
    """One exchangeInfo `symbols[]` item; also remembered for venue-symbol lookups."""
    try:
        base_digits = int(entry["baseAssetPrecision"])
        quote_digits = int(entry.get("quoteAssetPrecision", entry.get("quotePrecision")))
        status = str(entry.get("status", "1"))
        info = SymbolInfo(
            symbol=Symbol(entry["baseAsset"].upper(), entry["quoteAsset"].upper()),
            venue_symbol=entry["symbol"],
            tick_size=_power_of_ten(quote_digits),
            step_size=_power_of_ten(base_digits),
            # baseSizePrecision is the minimum quantity (a decimal), quoteAmountPrecision
            # the minimum notional -- despite their names.
            min_quantity=_num(entry.get("baseSizePrecision")),
            min_notional=_num(entry.get("quoteAmountPrecision")),
            base_precision=base_digits,
            quote_precision=quote_digits,
            maker_fee=_num(entry.get("makerCommission")),
            taker_fee=_num(entry.get("takerCommission")),
            active=status in ("1", "ENABLED") and bool(entry.get("isSpotTradingAllowed", True)),
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise _fail("exchangeInfo symbol", entry, exc) from None
    remember(info)
    return info


def parse_balances(account: dict) -> dict[str, AssetBalance]:
    """`GET /api/v3/account` -> balances by asset (free = available, locked = in orders)."""
    try:
        return {
            b["asset"]: AssetBalance(b["asset"], _num(b.get("free")), _num(b.get("locked")))
            for b in account["balances"]
        }
    except (KeyError, TypeError, ValueError) as exc:
        raise _fail("account", account, exc) from None


def parse_order(raw: dict, symbol: Symbol | None = None) -> Order:
    """An order from create/cancel/query/openOrders/allOrders responses.

    The create response carries no status: the order is NEW as far as it tells.
    On a cancel response `origClientOrderId` is the order's client id (the
    `clientOrderId` there names the cancel request).
    """
    try:
        order_type, tif = ORDER_TYPE.get(raw.get("type") or "LIMIT", (OrderType.LIMIT, TimeInForce.GTC))
        quantity = _num(raw["origQty"] if "origQty" in raw else raw.get("Qty"))
        filled = _num(raw.get("executedQty"))
        quote_filled = _num(raw.get("cummulativeQuoteQty"))
        created = _int(raw.get("time") or raw.get("transactTime"))
        status_text = raw.get("status")
        return Order(
            symbol=_symbol(raw, symbol),
            order_id=str(raw["orderId"]),
            client_order_id=_text(raw.get("origClientOrderId") or raw.get("clientOrderId")),
            side=Side(raw["side"]),
            order_type=order_type,
            price=_num(raw.get("price")),
            quantity=quantity,
            status=ORDER_STATUS[status_text] if status_text else OrderStatus.NEW,
            time_in_force=tif,
            filled_quantity=filled,
            remaining_quantity=max(quantity - filled, 0.0) if quantity else 0.0,
            average_price=quote_filled / filled if filled else 0.0,
            created_at=created,
            updated_at=_int(raw.get("updateTime")) or created,
        )
    except (KeyError, TypeError, ValueError, ProtocolError) as exc:
        raise _fail("order", raw, exc) from None


def parse_new_order(raw: Any, sent: Order) -> Order:
    """The order a create reply confirms. MEXC may answer with only `symbol`, `orderId`,
    `orderListId` and `transactTime`; what the reply lacks is what was sent (`sent`, with
    no order id yet). Only a reply without `orderId` is a ProtocolError."""
    try:
        order_id = str(raw["orderId"])
        created = _int(raw.get("transactTime"))
        if raw.get("side"):
            full = parse_order(raw, sent.symbol)
            return msgspec.structs.replace(
                full,
                client_order_id=full.client_order_id or sent.client_order_id,
                quantity=full.quantity or sent.quantity,
                remaining_quantity=full.remaining_quantity or sent.quantity,
            )
    except (KeyError, TypeError, ValueError) as exc:
        raise _fail("new order", raw, exc) from None
    return msgspec.structs.replace(sent, order_id=order_id, created_at=created, updated_at=created)


def parse_execution(raw: dict, symbol: Symbol | None = None) -> Execution:
    """A `GET /api/v3/myTrades` item."""
    try:
        return Execution(
            symbol=_symbol(raw, symbol),
            trade_id=str(raw["id"]),
            order_id=str(raw["orderId"]),
            client_order_id=_text(raw.get("clientOrderId")),
            side=Side.BUY if raw["isBuyer"] else Side.SELL,
            price=_num(raw["price"]),
            quantity=_num(raw["qty"]),
            fee=_num(raw.get("commission")),
            fee_asset=_text(raw.get("commissionAsset")),
            is_maker=bool(raw.get("isMaker")),
            timestamp=_int(raw.get("time")),
        )
    except (KeyError, TypeError, ValueError, ProtocolError) as exc:
        raise _fail("trade", raw, exc) from None


def _levels(rows: list) -> list[tuple[float, float]]:
    return [(float(p), float(q)) for p, q, *_ in rows]


def parse_order_book(raw: dict, symbol: Symbol) -> OrderBook:
    """`GET /api/v3/depth`: `lastUpdateId` chains with the stream's fromVersion/toVersion."""
    try:
        return OrderBook(
            symbol=symbol,
            bids=_levels(raw["bids"]),
            asks=_levels(raw["asks"]),
            update_id=int(raw["lastUpdateId"]),
            timestamp=_int(raw.get("timestamp")),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise _fail("depth", raw, exc) from None


def parse_book_ticker(raw: dict, symbol: Symbol | None = None) -> BookTicker:
    """`GET /api/v3/ticker/bookTicker?symbol=...`."""
    try:
        return BookTicker(
            symbol=_symbol(raw, symbol),
            bid_price=_quote(raw.get("bidPrice")),
            bid_quantity=_num(raw.get("bidQty")),
            ask_price=_quote(raw.get("askPrice")),
            ask_quantity=_num(raw.get("askQty")),
        )
    except (KeyError, TypeError, ValueError, ProtocolError) as exc:
        raise _fail("book ticker", raw, exc) from None


def parse_server_time(raw: dict) -> int:
    try:
        return int(raw["serverTime"])
    except (KeyError, TypeError, ValueError) as exc:
        raise _fail("server time", raw, exc) from None


def parse_withdrawal(raw: dict) -> WithdrawalResponse:
    """A `GET /api/v3/capital/withdraw/history` item; `amount` includes the fee."""
    try:
        return WithdrawalResponse(
            withdrawal_id=str(raw["id"]),
            asset=raw["coin"],
            amount=_num(raw.get("amount")),
            address=_text(raw.get("address")),
            network=_text(raw.get("netWork") or raw.get("network")),
            status=WITHDRAW_STATUS.get(_int(raw.get("status")), WithdrawalStatus.PENDING),
            fee=_num(raw.get("transactionFee")),
            tx_id=_text(raw.get("txId") or raw.get("transHash")),
            timestamp=_int(raw.get("applyTime")),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise _fail("withdrawal", raw, exc) from None


# Deposit statuses that mean credited: 5 SUCCESS, 12 COMPLETED (MEXC docs "Deposit History").
_DEPOSIT_CREDITED = frozenset((5, 12))


def parse_deposit_address(raw: dict) -> DepositAddress:
    """A `GET /api/v3/capital/deposit/address` item."""
    try:
        return DepositAddress(
            asset=raw["coin"],
            network=_text(raw.get("netWork") or raw.get("network")),
            address=raw["address"],
            memo=_text(raw.get("memo") or raw.get("tag")),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise _fail("deposit address", raw, exc) from None


def parse_deposit(raw: dict) -> DepositRecord:
    """A `GET /api/v3/capital/deposit/hisrec` item (MEXC gives no id: the tx id keys it)."""
    try:
        tx_id = _text(raw.get("txId"))
        return DepositRecord(
            deposit_id=tx_id,
            asset=raw["coin"],
            amount=_num(raw.get("amount")),
            network=_text(raw.get("netWork") or raw.get("network")),
            address=_text(raw.get("address")),
            tx_id=tx_id,
            credited=_int(raw.get("status")) in _DEPOSIT_CREDITED,
            timestamp=_int(raw.get("insertTime")),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise _fail("deposit", raw, exc) from None


def parse_asset_networks(raw: list) -> dict[str, list[AssetNetwork]]:
    """`GET /api/v3/capital/config/getall` -> networks by asset."""
    try:
        out: dict[str, list[AssetNetwork]] = {}
        for coin in raw:
            asset = coin["coin"]
            out[asset] = [
                AssetNetwork(
                    asset=asset,
                    network=_text(net.get("netWork") or net.get("network")),
                    name=_text(net.get("name") or net.get("Name")),
                    withdraw_enabled=bool(net.get("withdrawEnable")),
                    deposit_enabled=bool(net.get("depositEnable")),
                    withdraw_fee=_num(net.get("withdrawFee")),
                    withdraw_min=_num(net.get("withdrawMin")),
                    withdraw_max=_num(net.get("withdrawMax")),
                    withdraw_multiple=_num(net.get("withdrawIntegerMultiple")),
                )
                for net in coin.get("networkList") or ()
            ]
        return out
    except (KeyError, TypeError, ValueError) as exc:
        raise _fail("capital config", raw, exc) from None


# MX deduction takes the fee in MX at 20% off (mexc.com/learn "spot trading fee discount";
# blog.mexc.com "calculation of spot trading fees": rate x amount x 80% / MX price).
MX_DEDUCT_DISCOUNT = 0.2


def parse_trade_fee(raw: dict, mx_deduct: dict, symbol: Symbol) -> AccountFees:
    """`GET /api/v3/tradeFee?symbol=` and `GET /api/v3/mxDeduct/enable` -> the account's rates
    on `symbol`, with MX-deduction rates when the account has it on."""
    try:
        data = raw["data"]
        maker, taker = _num(data["makerCommission"]), _num(data["takerCommission"])
        if not mx_deduct["data"]["mxDeductEnable"]:
            return AccountFees(symbol, maker, taker)
    except (KeyError, TypeError, ValueError) as exc:
        raise _fail("trade fee", {"fee": raw, "mxDeduct": mx_deduct}, exc) from None
    keep = 1.0 - MX_DEDUCT_DISCOUNT
    return AccountFees(symbol, maker, taker, "MX", maker * keep, taker * keep)
