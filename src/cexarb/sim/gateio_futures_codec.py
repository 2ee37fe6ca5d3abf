"""Gate USDT futures v4 wire encoders. Sizes are contracts (base / quanto_multiplier), signed (+ buy,
- sell); JSON integers unless the client sent `X-Gate-Size-Decimal: 1`, then decimal strings.
REST times are float seconds; WS pushes carry numbers as JSON numbers and `*_ms` fields.
"""

from __future__ import annotations

from typing import Any

import msgspec

from cexarb.model import Execution, Order, OrderStatus, OrderType, Position, Side, TimeInForce, Trade
from cexarb.model.rounding import format_decimal
from cexarb.sim.gateio_spot_codec import TIF_OUT, num, pair_id, price_text

LEVERAGE_MAX = 100
FUNDING_CAP_RATIO = "0.75"


class Funding(msgspec.Struct, frozen=True):
    """A contract's funding as served: the rate the next settlement applies, when, how often."""

    rate: float
    interval_s: int
    next_apply: int


def rate_text(rate: float) -> str:
    return format_decimal(round(rate, 8)) if rate else "0"


def contracts_of(market: Any, base_qty: float) -> float:
    """Base units -> contracts, rounded to kill float noise (0.3 / 0.1 -> 3, not 2.9999999999999996)."""
    return round(base_qty / market.contract_size, 8)


def size_out(contracts: float, decimal: bool) -> int | str:
    if decimal:
        return format_decimal(round(contracts, 8))
    return int(round(contracts))


def contract(
    market: Any, mark: float, index: float, last: float, book_id: int, funding: Funding, decimal: bool
) -> dict[str, Any]:
    return {
        "name": pair_id(market.symbol),
        "type": "direct",
        "quanto_multiplier": num(market.contract_size),
        "leverage_min": "1",
        "leverage_max": str(LEVERAGE_MAX),
        "maintenance_rate": "0.005",
        "mark_type": "index",
        "mark_price": price_text(market, mark),
        "index_price": price_text(market, index),
        "last_price": price_text(market, last),
        "maker_fee_rate": num(market.maker_fee),
        "taker_fee_rate": num(market.taker_fee),
        "order_price_round": num(market.tick),
        "mark_price_round": num(market.tick),
        "funding_rate": rate_text(funding.rate),
        "funding_rate_indicative": rate_text(funding.rate),
        "funding_interval": funding.interval_s,
        "funding_next_apply": funding.next_apply,
        "funding_cap_ratio": FUNDING_CAP_RATIO,
        "order_size_min": size_out(max(contracts_of(market, market.min_qty), 1.0), decimal),
        "order_size_max": size_out(1_000_000, decimal),
        "order_price_deviate": "0.5",
        "enable_decimal": False,
        "orders_limit": 500,
        "orderbook_id": book_id,
        "trade_id": 0,
        "in_delisting": False,
        "status": "trading",
        "market_order_slip_ratio": "0.05",
        "market_order_size_max": str(1_000_000),
        "create_time": 1_600_000_000,
    }


def order_book(market: Any, book: Any, now_ms: int, with_id: bool, decimal: bool) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if with_id:
        out["id"] = book.update_id
    out["current"] = now_ms / 1000
    out["update"] = (book.timestamp or now_ms) / 1000
    out["asks"] = [
        {"p": price_text(market, p), "s": size_out(contracts_of(market, q), decimal)} for p, q in book.asks
    ]
    out["bids"] = [
        {"p": price_text(market, p), "s": size_out(contracts_of(market, q), decimal)} for p, q in book.bids
    ]
    return out


def ticker(
    market: Any, bt: Any, last: float, mark: float, index: float, rate: float, single: bool, decimal: bool
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "contract": pair_id(market.symbol),
        "last": price_text(market, last),
        "low_24h": price_text(market, last),
        "high_24h": price_text(market, last),
        "change_percentage": "0",
        "total_size": "0",
        "volume_24h": "0",
        "volume_24h_base": "0",
        "volume_24h_quote": "0",
        "volume_24h_settle": "0",
        "mark_price": price_text(market, mark),
        "funding_rate": rate_text(rate),
        "funding_rate_indicative": rate_text(rate),
        "index_price": price_text(market, index),
        "highest_bid": price_text(market, bt.bid_price) if bt.bid_price else "",
        "lowest_ask": price_text(market, bt.ask_price) if bt.ask_price else "",
    }
    if single:
        out["highest_size"] = str(size_out(contracts_of(market, bt.bid_quantity), decimal))
        out["lowest_size"] = str(size_out(contracts_of(market, bt.ask_quantity), decimal))
    return out


def public_trade_rest(market: Any, t: Trade, decimal: bool) -> dict[str, Any]:
    c = contracts_of(market, t.quantity) * t.side.sign
    return {
        "id": _int_id(t.trade_id),
        "create_time": t.timestamp / 1000,
        "create_time_ms": t.timestamp / 1000,
        "contract": pair_id(market.symbol),
        "size": size_out(c, decimal),
        "price": price_text(market, t.price),
    }


def _finish_as(o: Order) -> str:
    st = o.status
    if not st.is_done:
        return "_new"
    if st is OrderStatus.FILLED:
        return "filled"
    if o.reduce_only and st is OrderStatus.REJECTED:
        return "reduce_only"
    if o.time_in_force in (TimeInForce.IOC, TimeInForce.FOK) or o.order_type is OrderType.MARKET:
        return "ioc"
    return "cancelled"


def _int_id(text: str) -> int | str:
    return int(text) if text.isdigit() else text


def order(market: Any, o: Order, user_id: int, decimal: bool, *, ws: bool = False) -> dict[str, Any]:
    sign = 1 if o.side is Side.BUY else -1
    size = contracts_of(market, o.quantity) * sign
    left = (
        0.0
        if o.status is OrderStatus.FILLED
        else contracts_of(market, max(o.quantity - o.filled_quantity, 0.0)) * sign
    )
    is_market = o.order_type is OrderType.MARKET
    tif = "poc" if o.order_type is OrderType.LIMIT_MAKER else TIF_OUT.get(o.time_in_force, "gtc")
    if is_market and tif == "gtc":
        tif = "ioc"
    created, updated = o.created_at, o.updated_at or o.created_at
    price = "0" if is_market else price_text(market, o.price)
    fill_price = price_text(market, o.average_price) if o.filled_quantity else "0"
    out: dict[str, Any] = {
        "id": _int_id(o.order_id),
        "user": user_id,
        "contract": pair_id(market.symbol),
        "create_time": created / 1000,
        "size": size_out(size, decimal),
        "iceberg": size_out(0, decimal),
        "left": size_out(left, decimal),
        "price": price,
        "fill_price": fill_price,
        "mkfr": num(market.maker_fee),
        "tkfr": num(market.taker_fee),
        "tif": tif,
        "refu": 0,
        "is_reduce_only": o.reduce_only,
        "is_close": False,
        "is_liq": False,
        "text": o.client_order_id or "api",
        "status": "finished" if o.status.is_done else "open",
        "finish_as": _finish_as(o),
        "stp_id": 0,
        "stp_act": "-",
        "amend_text": "-",
        "update_time": updated / 1000,
    }
    if o.status.is_done:
        out["finish_time"] = updated / 1000
    if ws:
        # WS order pushes: numbers as JSON numbers, `*_ms` fields, update_time in ms.
        out["user"] = str(user_id)
        out["create_time"] = created // 1000
        out["create_time_ms"] = created
        out["finish_time"] = updated // 1000 if o.status.is_done else 0
        out["finish_time_ms"] = updated if o.status.is_done else 0
        out["update_time"] = updated
        out["price"] = 0.0 if is_market else float(price)
        out["fill_price"] = float(fill_price)
        out["mkfr"] = market.maker_fee
        out["tkfr"] = market.taker_fee
        out["refr"] = 0
        out["update_id"] = o.sequence
    return out


def my_trade(market: Any, e: Execution, decimal: bool, close_contracts: float = 0.0) -> dict[str, Any]:
    sign = 1 if e.side is Side.BUY else -1
    return {
        "id": _int_id(e.trade_id),
        "create_time": e.timestamp / 1000,
        "contract": pair_id(market.symbol),
        "order_id": e.order_id,
        "size": size_out(contracts_of(market, e.quantity) * sign, decimal),
        "close_size": size_out(close_contracts, decimal),
        "price": price_text(market, e.price),
        "role": "maker" if e.is_maker else "taker",
        "text": e.client_order_id or "api",
        "fee": num(e.fee),
        "point_fee": "0",
    }


def position(
    market: Any, p: Position | None, user_id: int, leverage: float, now_ms: int, decimal: bool
) -> dict[str, Any]:
    """REST Position; `p` None means flat. leverage 0 = cross (Gate's convention)."""
    size = contracts_of(market, p.size) if p else 0.0
    mark = p.mark_price if p else 0.0
    entry = p.entry_price if p and p.size else 0.0
    value = abs(p.size) * mark if p else 0.0
    updated_ms = (p.updated_at if p else 0) or now_ms
    return {
        "user": user_id,
        "contract": pair_id(market.symbol),
        "size": size_out(size, decimal),
        "leverage": num(leverage),
        "risk_limit": "1000000",
        "leverage_max": str(LEVERAGE_MAX),
        "maintenance_rate": "0.005",
        "value": num(value, 8),
        "margin": num(p.margin if p else 0.0, 8),
        "entry_price": price_text(market, entry) if entry else "0",
        "liq_price": price_text(market, p.liquidation_price) if p and p.liquidation_price else "0",
        "mark_price": price_text(market, mark) if mark else "0",
        "unrealised_pnl": num(p.unrealized_pnl if p else 0.0, 8),
        "realised_pnl": num(p.realized_pnl if p else 0.0, 8),
        "history_pnl": "0",
        "last_close_pnl": "0",
        "realised_point": "0",
        "history_point": "0",
        "adl_ranking": 5,
        "pending_orders": 0,
        "mode": "single",
        "cross_leverage_limit": "0",
        "update_time": updated_ms // 1000,
        "open_time": updated_ms // 1000 if size else 0,
    }


def ws_position(
    market: Any, p: Position, user_id: int, leverage: float, update_id: int, decimal: bool
) -> dict[str, Any]:
    size = contracts_of(market, p.size)
    return {
        "contract": pair_id(market.symbol),
        "cross_leverage_limit": 0,
        "entry_price": p.entry_price if p.size else 0,
        "history_pnl": 0,
        "history_point": 0,
        "last_close_pnl": 0,
        "leverage": leverage,
        "leverage_max": LEVERAGE_MAX,
        "liq_price": p.liquidation_price,
        "maintenance_rate": 0.005,
        "margin": p.margin,
        "mode": "single",
        "realised_pnl": p.realized_pnl,
        "realised_point": 0,
        "risk_limit": 1000000,
        "size": size_out(size, decimal),
        "time": p.updated_at // 1000,
        "time_ms": p.updated_at,
        "user": str(user_id),
        "update_id": update_id,
    }


def account(
    user_id: int, available: float, locked: float, positions: list[Position], fund: float = 0.0
) -> dict[str, Any]:
    position_margin = sum(p.margin for p in positions)
    order_margin = max(locked - position_margin, 0.0)
    upnl = sum(p.unrealized_pnl for p in positions)
    total = available + locked
    return {
        "user": user_id,
        "currency": "USDT",
        "total": num(total, 8),
        "unrealised_pnl": num(upnl, 8),
        "position_margin": num(position_margin, 8),
        "order_margin": num(order_margin, 8),
        "available": num(available, 8),
        "point": "0",
        "bonus": "0",
        "in_dual_mode": False,
        "enable_evolved_classic": False,
        "margin_mode": 0,
        "position_mode": "single",
        "history": {
            "dnw": "0",
            "pnl": "0",
            "fee": "0",
            "refr": "0",
            "fund": num(fund, 8),
            "point_dnw": "0",
            "point_fee": "0",
            "point_refr": "0",
            "bonus_dnw": "0",
            "bonus_offset": "0",
        },
    }


# ---- WS `result` objects -------------------------------------------------------------------------


def ws_book_ticker(market: Any, bt: Any, decimal: bool) -> dict[str, Any]:
    return {
        "t": bt.timestamp,
        "u": bt.update_id,
        "s": pair_id(market.symbol),
        "b": price_text(market, bt.bid_price) if bt.bid_price else "",
        "B": size_out(contracts_of(market, bt.bid_quantity), decimal)
        if bt.bid_price
        else size_out(0, decimal),
        "a": price_text(market, bt.ask_price) if bt.ask_price else "",
        "A": size_out(contracts_of(market, bt.ask_quantity), decimal)
        if bt.ask_price
        else size_out(0, decimal),
    }


def ws_book_update(market: Any, delta: Any, decimal: bool) -> dict[str, Any]:
    return {
        "t": delta.ts_ms,
        "s": pair_id(market.symbol),
        "U": delta.first_id,
        "u": delta.last_id,
        "b": [
            {"p": price_text(market, p), "s": size_out(contracts_of(market, q), decimal)}
            for p, q in delta.bids
        ],
        "a": [
            {"p": price_text(market, p), "s": size_out(contracts_of(market, q), decimal)}
            for p, q in delta.asks
        ],
    }


def ws_trade(market: Any, t: Trade, decimal: bool) -> dict[str, Any]:
    return {
        "size": size_out(contracts_of(market, t.quantity) * t.side.sign, decimal),
        "id": _int_id(t.trade_id),
        "create_time": t.timestamp // 1000,
        "create_time_ms": t.timestamp,
        "price": price_text(market, t.price),
        "contract": pair_id(market.symbol),
        "is_internal": False,
    }


def ws_usertrade(market: Any, e: Execution, decimal: bool) -> dict[str, Any]:
    sign = 1 if e.side is Side.BUY else -1
    return {
        "id": e.trade_id,
        "create_time": e.timestamp // 1000,
        "create_time_ms": e.timestamp,
        "contract": pair_id(market.symbol),
        "order_id": e.order_id,
        "size": size_out(contracts_of(market, e.quantity) * sign, decimal),
        "price": price_text(market, e.price),
        "role": "maker" if e.is_maker else "taker",
        "text": e.client_order_id or "api",
        "fee": e.fee,
        "point_fee": 0,
    }


def ws_balance(
    balance: float, change: float, text: str, kind: str, now_ms: int, user_id: int
) -> dict[str, Any]:
    return {
        "balance": balance,
        "change": change,
        "text": text,
        "time": now_ms // 1000,
        "time_ms": now_ms,
        "type": kind,
        "user": str(user_id),
        "currency": "usdt",
    }


def ws_ticker(market: Any, last: float, mark: float, index: float, rate: float) -> dict[str, Any]:
    """One item of a futures.tickers push (Gate WS v4 docs: strings, as the REST ticker)."""
    return {
        "contract": pair_id(market.symbol),
        "last": price_text(market, last),
        "change_percentage": "0",
        "funding_rate": rate_text(rate),
        "funding_rate_indicative": rate_text(rate),
        "mark_price": price_text(market, mark),
        "index_price": price_text(market, index),
        "total_size": "0",
        "volume_24h": "0",
        "volume_24h_base": "0",
        "volume_24h_quote": "0",
        "volume_24h_settle": "0",
        "low_24h": price_text(market, last),
        "high_24h": price_text(market, last),
    }


def account_book_entry(entry: Any) -> dict[str, Any]:
    """One GET /futures/usdt/account_book item (gateapi FuturesAccountBook)."""
    return {
        "time": entry.time_ms / 1000,
        "change": num(entry.change, 8),
        "balance": num(entry.balance, 8),
        "type": entry.kind,
        "text": f"{pair_id(entry.symbol)}:{entry.trade_id}"
        if entry.trade_id
        else (pair_id(entry.symbol) if entry.symbol else ""),
        "contract": pair_id(entry.symbol) if entry.symbol else "",
        "trade_id": entry.trade_id,
        "id": str(entry.entry_id),
    }
