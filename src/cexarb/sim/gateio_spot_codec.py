"""Gate spot v4 wire encoders (REST bodies and WS `result` objects) from core model objects.

Numbers go out as strings, ids as strings, times as Gate prints them (REST seconds as strings plus
`*_ms`, WS `time`/`time_ms`). `market` is the core's SimMarket (tick, step, fees, precisions).
"""

from __future__ import annotations

from typing import Any

from cexarb.model import Execution, Order, OrderStatus, OrderType, Side, TimeInForce, Trade
from cexarb.model.rounding import decimals_of, format_decimal

TIF_OUT = {
    TimeInForce.GTC: "gtc",
    TimeInForce.IOC: "ioc",
    TimeInForce.FOK: "fok",
    TimeInForce.POST_ONLY: "poc",
}
TIF_IN = {v: k for k, v in TIF_OUT.items()}


def pair_id(symbol: Any) -> str:
    return f"{symbol.base}_{symbol.quote}"


def num(value: float, decimals: int = 12) -> str:
    """Gate number text without float noise (rounded to `decimals`)."""
    return format_decimal(round(value, decimals))


GT = "GT"


def usual_fee_asset(market: Any, side: Side) -> str:
    """The asset a spot fee is taken in without GT deduction: what the order receives."""
    return market.symbol.base if side is Side.BUY else market.symbol.quote


def fee_fields(fee: float, fee_asset: str, usual: str) -> dict[str, str]:
    """`fee`/`fee_currency`/`gt_fee` of an order or trade. A fee paid by GT deduction shows as
    `gt_fee` with `fee` "0" (ccxt's gate parseTrade reads the two as separate fees)."""
    if fee_asset == GT:
        return {"fee": "0", "fee_currency": usual, "gt_fee": num(fee)}
    return {"fee": num(fee), "fee_currency": fee_asset, "gt_fee": "0"}


def price_text(market: Any, price: float) -> str:
    return format_decimal(price, market.tick)


def qty_text(market: Any, qty: float) -> str:
    return format_decimal(qty, market.step)


def quote_decimals(market: Any) -> int:
    return decimals_of(market.tick) + decimals_of(market.step)


def currency_pair(market: Any) -> dict[str, Any]:
    pid = pair_id(market.symbol)
    return {
        "id": pid,
        "base": market.symbol.base,
        "base_name": market.symbol.base,
        "quote": market.symbol.quote,
        "quote_name": market.symbol.quote,
        # Gate's deprecated `fee` is the taker fee in percent.
        "fee": num(market.taker_fee * 100, 8),
        "min_base_amount": qty_text(market, market.min_qty) if market.min_qty else None,
        "min_quote_amount": num(market.min_notional) if market.min_notional else None,
        "max_base_amount": None,
        "max_quote_amount": None,
        "amount_precision": decimals_of(market.step),
        "precision": decimals_of(market.tick),
        "trade_status": "tradable",
        "sell_start": 0,
        "buy_start": 0,
        "delisting_time": 0,
        "type": "normal",
        "trade_url": f"https://www.gate.com/trade/{pid}",
        "st_tag": False,
    }


def order_book(market: Any, book: Any, now_ms: int, with_id: bool) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if with_id:
        out["id"] = book.update_id
    out["current"] = now_ms
    out["update"] = book.timestamp or now_ms
    out["asks"] = [[price_text(market, p), qty_text(market, q)] for p, q in book.asks]
    out["bids"] = [[price_text(market, p), qty_text(market, q)] for p, q in book.bids]
    return out


def ticker(market: Any, bt: Any, last: float, single: bool) -> dict[str, Any]:
    out: dict[str, Any] = {
        "currency_pair": pair_id(market.symbol),
        "last": price_text(market, last),
        "lowest_ask": price_text(market, bt.ask_price) if bt.ask_price else "",
        "highest_bid": price_text(market, bt.bid_price) if bt.bid_price else "",
        "change_percentage": "0",
        "base_volume": "0",
        "quote_volume": "0",
        "high_24h": price_text(market, last),
        "low_24h": price_text(market, last),
    }
    if single:
        out["lowest_size"] = qty_text(market, bt.ask_quantity) if bt.ask_price else ""
        out["highest_size"] = qty_text(market, bt.bid_quantity) if bt.bid_price else ""
    return out


def public_trade_rest(market: Any, t: Trade) -> dict[str, Any]:
    return {
        "id": t.trade_id,
        "create_time": str(t.timestamp // 1000),
        "create_time_ms": f"{t.timestamp}.000",
        "currency_pair": pair_id(market.symbol),
        "side": t.side.value.lower(),
        "role": "taker",
        "amount": qty_text(market, t.quantity),
        "price": price_text(market, t.price),
        "sequence_id": t.trade_id,
    }


def _status_and_finish(o: Order) -> tuple[str, str]:
    st = o.status
    if not st.is_done:
        return "open", "open"
    if st is OrderStatus.FILLED:
        return "closed", "filled"
    tif = o.time_in_force
    if o.order_type is OrderType.LIMIT_MAKER or tif is TimeInForce.POST_ONLY:
        # A post-only order only ends unfilled by the user's cancel or by refusing to take.
        return "cancelled", "poc" if st in (OrderStatus.REJECTED, OrderStatus.EXPIRED) else "cancelled"
    if tif is TimeInForce.IOC or o.order_type is OrderType.MARKET:
        return "cancelled", "ioc"
    if tif is TimeInForce.FOK:
        return "cancelled", "fok"
    return "cancelled", "cancelled"


def order(
    market: Any,
    o: Order,
    *,
    quote_amount: float | None = None,
    user_id: int | None = None,
    event: str | None = None,
) -> dict[str, Any]:
    """Gate spot Order. `quote_amount`: a market buy's amount, which Gate states in quote."""
    status, finish_as = _status_and_finish(o)
    qd = quote_decimals(market)
    filled_total = o.filled_quantity * o.average_price
    if quote_amount is not None:
        amount = num(quote_amount, qd)
        left = "0" if o.status.is_done else num(max(quote_amount - filled_total, 0.0), qd)
    else:
        amount = qty_text(market, o.quantity)
        left = (
            "0"
            if o.status is OrderStatus.FILLED
            else qty_text(market, max(o.quantity - o.filled_quantity, 0.0))
        )
    is_market = o.order_type is OrderType.MARKET
    fee_currency = o.fee_asset or (market.symbol.base if o.side is Side.BUY else market.symbol.quote)
    tif = "ioc" if is_market and o.time_in_force is TimeInForce.GTC else TIF_OUT.get(o.time_in_force, "gtc")
    if o.order_type is OrderType.LIMIT_MAKER:
        tif = "poc"
    created = o.created_at
    updated = o.updated_at or created
    out: dict[str, Any] = {
        "id": o.order_id,
        "text": o.client_order_id or "apiv4",
        "amend_text": "-",
        "create_time": str(created // 1000),
        "update_time": str(updated // 1000),
        "create_time_ms": created,
        "update_time_ms": updated,
        "status": status,
        "currency_pair": pair_id(market.symbol),
        "type": "market" if is_market else "limit",
        "account": "spot",
        "side": o.side.value.lower(),
        "amount": amount,
        "price": "0" if is_market else price_text(market, o.price),
        "time_in_force": tif,
        "iceberg": "0",
        "left": left,
        "filled_amount": qty_text(market, o.filled_quantity),
        "fill_price": num(filled_total, qd),
        "filled_total": num(filled_total, qd),
        "avg_deal_price": price_text(market, o.average_price) if o.filled_quantity else "0",
        **fee_fields(o.fee, fee_currency, usual_fee_asset(market, o.side)),
        "point_fee": "0",
        "gt_maker_fee": "0",
        "gt_taker_fee": "0",
        "gt_discount": fee_currency == GT,
        "rebated_fee": "0",
        "rebated_fee_currency": market.symbol.quote,
        "stp_id": 0,
        "stp_act": "-",
        "finish_as": finish_as,
    }
    if event is not None:
        # WS records: ms times as strings, the user id, and the put/update/finish event.
        out["create_time_ms"] = str(created)
        out["update_time_ms"] = str(updated)
        out["user"] = user_id or 0
        out["event"] = event
        out["biz_info"] = "-"
    return out


def my_trade(market: Any, e: Execution) -> dict[str, Any]:
    return {
        "id": e.trade_id,
        "create_time": str(e.timestamp // 1000),
        "create_time_ms": f"{e.timestamp}.000",
        "currency_pair": pair_id(market.symbol),
        "side": e.side.value.lower(),
        "role": "maker" if e.is_maker else "taker",
        "amount": qty_text(market, e.quantity),
        "price": price_text(market, e.price),
        "order_id": e.order_id,
        **fee_fields(e.fee, e.fee_asset, usual_fee_asset(market, e.side)),
        "point_fee": "0",
        "amend_text": "-",
        "sequence_id": e.trade_id,
        "text": e.client_order_id or "apiv4",
        "deal": num(e.quantity * e.price, quote_decimals(market)),
    }


def _int_id(text: str) -> int | str:
    return int(text) if text.isdigit() else text


# ---- WS `result` objects -------------------------------------------------------------------------


def ws_book_ticker(market: Any, bt: Any) -> dict[str, Any]:
    return {
        "t": bt.timestamp,
        "u": bt.update_id,
        "s": pair_id(market.symbol),
        "b": price_text(market, bt.bid_price) if bt.bid_price else "",
        "B": qty_text(market, bt.bid_quantity) if bt.bid_price else "0",
        "a": price_text(market, bt.ask_price) if bt.ask_price else "",
        "A": qty_text(market, bt.ask_quantity) if bt.ask_price else "0",
    }


def ws_book_update(market: Any, delta: Any) -> dict[str, Any]:
    return {
        "t": delta.ts_ms,
        "e": "depthUpdate",
        "E": delta.ts_ms // 1000,
        "s": pair_id(market.symbol),
        "U": delta.first_id,
        "u": delta.last_id,
        "b": [[price_text(market, p), qty_text(market, q)] for p, q in delta.bids],
        "a": [[price_text(market, p), qty_text(market, q)] for p, q in delta.asks],
    }


def ws_trade(market: Any, t: Trade) -> dict[str, Any]:
    tid = _int_id(t.trade_id)
    return {
        "id": tid,
        "create_time": t.timestamp // 1000,
        "create_time_ms": f"{t.timestamp}.000",
        "side": t.side.value.lower(),
        "currency_pair": pair_id(market.symbol),
        "amount": qty_text(market, t.quantity),
        "price": price_text(market, t.price),
        "range": f"{t.trade_id}-{t.trade_id}",
        "id_market": tid,
    }


def ws_usertrade(market: Any, e: Execution, user_id: int) -> dict[str, Any]:
    tid = _int_id(e.trade_id)
    return {
        "id": tid,
        "user_id": user_id,
        "order_id": e.order_id,
        "currency_pair": pair_id(market.symbol),
        "create_time": e.timestamp // 1000,
        "create_time_ms": f"{e.timestamp}.000",
        "side": e.side.value.lower(),
        "amount": qty_text(market, e.quantity),
        "role": "maker" if e.is_maker else "taker",
        "price": price_text(market, e.price),
        **fee_fields(e.fee, e.fee_asset, usual_fee_asset(market, e.side)),
        "point_fee": "0",
        "text": e.client_order_id or "apiv4",
        "id_market": tid,
    }


def ws_balance(
    asset: str,
    available: float,
    locked: float,
    change: float,
    freeze_change: float,
    now_ms: int,
    user_id: int,
    wallet: str | None = None,
) -> dict[str, Any]:
    if wallet is not None:
        change_type = wallet  # "deposit" / "withdraw" (gateio_spot.md spot.balances change_type)
    elif change:
        change_type = "order-match"
    elif freeze_change > 0:
        change_type = "order-create"
    else:
        change_type = "order-update"
    return {
        "timestamp": str(now_ms // 1000),
        "timestamp_ms": str(now_ms),
        "user": str(user_id),
        "currency": asset,
        "change": num(change),
        "total": num(available + locked),
        "available": num(available),
        "freeze": num(locked),
        "freeze_change": num(freeze_change),
        "change_type": change_type,
    }
