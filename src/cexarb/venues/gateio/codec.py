"""Pure functions: Gate wire items -> cexarb.model objects.

Two entry points per item kind: `*_from_msg(struct)` for the WS hot path (frames decoded
by msgspec straight into the Structs of `messages`), and `parse_*(raw)` for already-decoded
JSON (REST replies, samples), which converts the dict into the same Struct first so both
paths share one mapping. Futures sizes arrive in contracts and leave in base units
(x quanto_multiplier) here, at the edge.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec

from cexarb.model import (
    AccountFees,
    AssetBalance,
    BookDiff,
    BookTicker,
    DepositAddress,
    DepositRecord,
    Execution,
    FundingInfo,
    FundingPayment,
    Order,
    OrderBook,
    OrderStatus,
    OrderType,
    Position,
    PositionSide,
    Side,
    Symbol,
    SymbolInfo,
    TimeInForce,
    Trade,
    WithdrawalNetwork,
    WithdrawalResponse,
    WithdrawalStatus,
)
from cexarb.model.errors import ExchangeError, ProtocolError
from cexarb.model.rounding import decimals_of
from cexarb.venues.gateio import messages as m
from cexarb.venues.gateio.errors import VENUE
from cexarb.venues.gateio.errors import parse_error as _parse_error
from cexarb.venues.gateio.symbols import KNOWN_PAIRS, from_venue, to_venue

_SIDE = {"buy": Side.BUY, "sell": Side.SELL}
_TIF = {
    "gtc": TimeInForce.GTC,
    "ioc": TimeInForce.IOC,
    "fok": TimeInForce.FOK,
    "poc": TimeInForce.POST_ONLY,
}
_EPS = 1e-12
# Enum members as module names: `OrderStatus.FILLED` is a class-attribute lookup through
# EnumType (~0.07 us each), and the order codecs read several per frame.
_BUY, _SELL = Side.BUY, Side.SELL
_NEW, _PARTIALLY_FILLED, _FILLED = OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED, OrderStatus.FILLED
_CANCELED, _PARTIALLY_CANCELED, _REJECTED = (
    OrderStatus.CANCELED,
    OrderStatus.PARTIALLY_CANCELED,
    OrderStatus.REJECTED,
)
_GTC, _IOC, _FOK, _POST_ONLY = TimeInForce.GTC, TimeInForce.IOC, TimeInForce.FOK, TimeInForce.POST_ONLY
_LIMIT, _MARKET, _LIMIT_MAKER = OrderType.LIMIT, OrderType.MARKET, OrderType.LIMIT_MAKER


def _convert(raw: Any, kind: type) -> Any:
    try:
        return msgspec.convert(raw, kind, strict=False)
    except msgspec.ValidationError as exc:
        raise ProtocolError(f"cannot read {kind.__name__}: {exc}", venue=VENUE) from None


def _ms(value: float) -> int:
    """Gate mixes seconds (float) and ms; anything below 1e11 is seconds."""
    if value <= 0:
        return 0
    return int(value * 1000) if value < 1e11 else int(value)


# Contract sizes 1, 0.1, ... 1e-12 (parsed as Gate's decimal text is) -> 10**k.
_DIVISORS = {float(f"1e-{k}"): float(f"1e{k}") for k in range(13)}


def _base(contracts: float, contract_size: float) -> float:
    """Contracts -> base units, rounded to 12 decimals (away the float noise of 0.0001 * 3).

    For a whole number of contracts of a power-of-ten size with a result below 1024 the
    division by 10**k is exact-rounded and equals the rounded product (the product is then
    within 2.3e-13 of the 12-decimal result), at a fifth of round()'s cost.
    """
    divisor = _DIVISORS.get(contract_size)
    if divisor is not None and 0.0 <= contracts < 1024.0 * divisor and contracts.is_integer():
        return contracts / divisor
    return round(contracts * contract_size, 12)


def _price(text: str) -> float:
    return float(text) if text else 0.0


def _quote(text: str) -> float | None:
    """A best-price field: Gate sends "" for an empty side, which is no price (None), not 0."""
    return float(text) if text else None


def closed_status(finish_as: str, filled: float, remaining: float | None) -> OrderStatus:
    """Final status of a closed order: never left open, partial fills never lost.

    `remaining` is the unfilled quantity, or None when unknown in base units (spot market buy).
    """
    if finish_as == "filled" or (remaining is not None and remaining <= _EPS and filled > _EPS):
        return _FILLED
    if filled > _EPS:
        return _PARTIALLY_CANCELED
    if finish_as == "poc":  # post-only that would have taken liquidity
        return _REJECTED
    return _CANCELED


def _open_status(filled: float) -> OrderStatus:
    return _PARTIALLY_FILLED if filled > _EPS else _NEW


# ---- reference data ---------------------------------------------------------------------


def symbol_info_from_msg(msg: m.CurrencyPairMsg) -> SymbolInfo:
    fee = msg.fee / 100.0  # Gate gives percent
    return SymbolInfo(
        symbol=from_venue(msg.id),
        venue_symbol=msg.id,
        tick_size=10.0**-msg.precision,
        step_size=10.0**-msg.amount_precision,
        min_quantity=msg.min_base_amount or 0.0,
        min_notional=msg.min_quote_amount or 0.0,
        base_precision=msg.amount_precision,
        quote_precision=msg.precision,
        maker_fee=fee,
        taker_fee=fee,
        active=msg.trade_status == "tradable",
    )


def parse_symbol_info(pair: Mapping) -> SymbolInfo:
    """A /spot/currency_pairs item."""
    return symbol_info_from_msg(_convert(pair, m.CurrencyPairMsg))


def contract_info_from_msg(msg: m.ContractMsg) -> SymbolInfo:
    # quanto_multiplier "0" marks a legacy contract sized in 1 USD
    size = msg.quanto_multiplier or 1.0
    size_step = msg.order_size_min if msg.enable_decimal else 1.0
    step = _base(size_step, size)
    min_qty = _base(max(msg.order_size_min, size_step), size)
    tick = msg.order_price_round or 1e-8
    return SymbolInfo(
        symbol=from_venue(msg.name),
        venue_symbol=msg.name,
        tick_size=tick,
        step_size=step,
        min_quantity=min_qty,
        min_notional=0.0,
        base_precision=decimals_of(step),
        quote_precision=decimals_of(tick),
        maker_fee=msg.maker_fee_rate,
        taker_fee=msg.taker_fee_rate,
        contract_size=size,
        is_futures=True,
        active=msg.status == "trading" and not msg.in_delisting,
    )


def parse_contract_info(contract: Mapping) -> SymbolInfo:
    """A /futures/usdt/contracts item; step/min quantity in base units (contracts x multiplier)."""
    return contract_info_from_msg(_convert(contract, m.ContractMsg))


def parse_funding(contract: Mapping) -> FundingInfo:
    """The funding of a /futures/usdt/contracts item: rate, next settlement, interval."""
    msg = _convert(contract, m.ContractFundingMsg)
    return FundingInfo(
        symbol=from_venue(msg.name),
        rate=msg.funding_rate,
        next_apply_ms=_ms(msg.funding_next_apply),
        interval_s=msg.funding_interval,
    )


def parse_funding_payment(raw: Mapping) -> FundingPayment:
    """A `fund` item of /futures/usdt/account_book. Records without an id (older API versions)
    are keyed by time, contract and amount, which a settlement never repeats."""
    msg = _convert(raw, m.AccountBookMsg)
    if msg.type != "fund":
        raise ProtocolError(f"account book item of type {msg.type!r} is not a funding payment", venue=VENUE)
    contract = msg.contract or msg.text.partition(":")[0]
    if not contract:
        raise ProtocolError(f"funding record names no contract: {raw!r}", venue=VENUE)
    payment_id = str(msg.id) if msg.id != "" else f"{contract}@{msg.time}:{msg.change}"
    return FundingPayment(
        payment_id=payment_id,
        symbol=from_venue(contract),
        amount=msg.change,
        timestamp=_ms(msg.time),
        balance=msg.balance,
    )


# ---- balances ---------------------------------------------------------------------------


def parse_balances(accounts: list) -> dict[str, AssetBalance]:
    """The /spot/accounts list."""
    items = _convert(accounts, list[m.SpotAccountMsg])
    return {a.currency.upper(): AssetBalance(a.currency.upper(), a.available, a.locked) for a in items}


def parse_unified_balances(reply: Mapping) -> dict[str, AssetBalance]:
    """`GET /unified/accounts`: `balances` maps currency -> {available, freeze, ...}."""
    out = {}
    for currency, bal in (reply.get("balances") or {}).items():
        asset = currency.upper()
        out[asset] = AssetBalance(asset, float(bal.get("available") or 0), float(bal.get("freeze") or 0))
    return out


def spot_balance_from_msg(msg: m.SpotBalanceUpdateMsg) -> AssetBalance:
    return AssetBalance(msg.currency.upper(), msg.available, msg.freeze)


def futures_balance_from_msg(msg: m.FuturesAccountMsg) -> AssetBalance:
    # total = wallet balance (without unrealised PnL); what is not available is margin in use
    locked = max(0.0, round(msg.total - msg.available, 12))
    return AssetBalance(msg.currency.upper(), msg.available, locked)


def parse_futures_balance(account: Mapping) -> AssetBalance:
    """The /futures/usdt/accounts object."""
    return futures_balance_from_msg(_convert(account, m.FuturesAccountMsg))


def parse_futures_user_id(account: Mapping) -> int:
    """The UID private futures subscriptions need (accounts 'user')."""
    return int(_convert(account, m.FuturesAccountMsg).user or 0)


# ---- orders -----------------------------------------------------------------------------


def order_from_msg(msg: m.SpotOrderMsg) -> Order:
    side = _SIDE[msg.side]
    is_market = msg.type == "market"
    market_buy = is_market and side is _BUY
    left = msg.left if msg.left is not None else msg.amount
    if msg.filled_amount is not None:
        # base units, a market buy's too (published payload: amount "70.0" quote, filled_amount
        # "0.00299" base; tests/data/protocols/samples/gate_spot_ws_api.json)
        filled = msg.filled_amount
    elif market_buy:
        # amount and left are quote units here; without filled_amount the base bought is only
        # estimated from the average price: the REST client replaces it with the sum of the
        # order's fills (GateioSpotPrivateRest.with_exact_fills).
        filled = msg.filled_total / msg.avg_deal_price if msg.avg_deal_price > 0 else 0.0
    else:
        filled = max(0.0, round(msg.amount - left, 12))
    if market_buy:
        # amount/left are quote units for a market buy: report the base actually bought
        quantity, remaining = filled, 0.0
    else:
        quantity, remaining = msg.amount, left
    if msg.event == "finish" or msg.status in ("closed", "cancelled"):
        # a market buy's `left` is quote: finish_as and the fill decide
        status = closed_status(msg.finish_as, filled, None if market_buy else left)
        remaining = 0.0 if status is _FILLED else remaining
    else:
        status = _PARTIALLY_FILLED if filled > _EPS else _NEW  # _open_status, inlined
    avg = msg.avg_deal_price
    if avg <= 0 and filled > _EPS and msg.filled_total > 0:
        avg = msg.filled_total / filled
    fee, fee_asset = msg.fee, msg.fee_currency
    if fee == 0.0 and msg.gt_fee > 0:
        fee, fee_asset = msg.gt_fee, "GT"
    # The ms fields are the common case; _ms sorts out seconds and zeros otherwise.
    created = msg.create_time_ms
    created = int(created) if created >= 1e11 else (_ms(created) or _ms(msg.create_time))
    updated = msg.update_time_ms
    updated = int(updated) if updated >= 1e11 else (_ms(updated) or _ms(msg.update_time) or created)
    tif = _TIF.get(msg.time_in_force, _GTC)
    if is_market:
        order_type = _MARKET
    elif tif is _POST_ONLY:
        order_type = _LIMIT_MAKER
    else:
        order_type = _LIMIT
    pair = msg.currency_pair
    # Positional, in Order's field order: half the cost of keywords on this per-frame path.
    return Order(
        KNOWN_PAIRS.get(pair) or from_venue(pair),  # symbol (a known pair without a call)
        str(msg.id),  # order_id
        msg.text if msg.text.startswith("t-") else "",  # client_order_id
        side,
        order_type,
        msg.price,
        quantity,
        status,
        tif,  # time_in_force
        filled,  # filled_quantity
        remaining,  # remaining_quantity
        avg,  # average_price
        fee,
        fee_asset,
        created,  # created_at
        updated,  # updated_at
        updated,  # sequence
        False,  # reduce_only
        msg.amount if market_buy else 0.0,  # quote_quantity: what a market buy spends at most
    )


def wire_order_build(contract_sizes: dict[str, float] | None = None) -> tuple:
    """What the compiled frame reader (`_gatewire`) takes to make spot.orders items (or, with
    `contract_sizes`, futures.orders items) into Orders itself: the rules of `order_from_msg`
    and `futures_order_from_msg`, written again in C, pick from these. `contract_sizes` is the
    stream's contract -> size cache; a contract not in it yet sends the frame to this module.
    """
    members = (
        Order,
        (_BUY, _SELL),
        (_NEW, _PARTIALLY_FILLED, _FILLED, _CANCELED, _PARTIALLY_CANCELED, _REJECTED),
        (_GTC, _IOC, _FOK, _POST_ONLY),
        (_LIMIT, _MARKET, _LIMIT_MAKER),
        KNOWN_PAIRS,
        from_venue,
    )
    if contract_sizes is None:
        return (1, *members)
    return (2, *members, contract_sizes)


def parse_order(raw: Mapping) -> Order:
    """A spot order: REST reply (create/get/cancel/list) or a WS spot.orders item."""
    return order_from_msg(_convert(raw, m.SpotOrderMsg))


def futures_order_from_msg(msg: m.FuturesOrderMsg, contract_size: float) -> Order:
    # The sign is the side; abs() without its calls (`+ 0.0` turns -0.0 into 0.0 as abs does).
    size = msg.size
    if size < 0.0:
        side = _SELL
        size = -size
    else:
        side = _BUY
        size += 0.0
    left = msg.left
    left = -left if left < 0.0 else left + 0.0
    filled_contracts = size - left
    divisor = _DIVISORS.get(contract_size)
    # `% 1.0 == 0.0`: is_integer() without a method call (inf and nan fail the range first).
    if divisor is not None and left <= size < 1024.0 * divisor and size % 1.0 == 0.0 and left % 1.0 == 0.0:
        # The common push: whole contracts of a power-of-ten size. Filled and left are then
        # whole and below the size too, so each conversion is _base's exact division, done
        # here without its per-call checks (~0.1 us each, three on a partial fill).
        quantity = size / divisor
        if left == 0.0:
            remaining = 0.0
            filled = quantity if filled_contracts > 0.0 else 0.0
        elif filled_contracts <= 0.0:  # left == size
            filled_contracts = 0.0
            filled = 0.0
            remaining = quantity
        else:
            filled = filled_contracts / divisor
            remaining = left / divisor
    else:
        quantity = _base(size, contract_size)
        # Each conversion rounds (~0.2 us); an untouched or fully filled order needs one.
        if left == 0.0:
            remaining = 0.0
            filled = quantity if filled_contracts > 0.0 else 0.0
        elif filled_contracts <= 0.0:
            filled_contracts = 0.0
            filled = 0.0
            remaining = quantity if left == size else _base(left, contract_size)
        else:
            filled = _base(filled_contracts, contract_size)
            remaining = _base(left, contract_size)
    if msg.status == "finished":
        status = closed_status(msg.finish_as, filled_contracts, left)
        if status is _FILLED:
            remaining = 0.0
    else:
        status = _PARTIALLY_FILLED if filled_contracts > _EPS else _NEW
    tif = _TIF.get(msg.tif, _GTC)
    if tif is _GTC:
        order_type = _LIMIT
    elif msg.price == 0.0 and (tif is _IOC or tif is _FOK):
        order_type = _MARKET
    elif tif is _POST_ONLY:
        order_type = _LIMIT_MAKER
    else:
        order_type = _LIMIT
    # Timestamps: the ms fields are the common case; _ms sorts out seconds and zeros otherwise.
    created = msg.create_time_ms
    created = int(created) if created >= 1e11 else (_ms(created) or _ms(msg.create_time))
    updated = msg.update_time
    if updated >= 1e11:
        updated = int(updated)
    else:
        updated = _ms(updated) or _ms(msg.finish_time_ms) or _ms(msg.finish_time) or created
    contract = msg.contract
    # Positional, in Order's field order (see order_from_msg).
    return Order(
        KNOWN_PAIRS.get(contract) or from_venue(contract),  # symbol (see order_from_msg)
        str(msg.id),  # order_id
        msg.text if msg.text.startswith("t-") else "",  # client_order_id
        side,
        order_type,
        msg.price,
        quantity,
        status,
        tif,  # time_in_force
        filled,  # filled_quantity
        remaining,  # remaining_quantity
        msg.fill_price if filled_contracts > 0 else 0.0,  # average_price
        0.0,  # fee
        "",  # fee_asset
        created,  # created_at
        updated,  # updated_at
        msg.update_id,  # sequence
        msg.is_reduce_only,  # reduce_only
    )


def parse_futures_order(raw: Mapping, contract_size: float) -> Order:
    """A futures order (REST or WS futures.orders item); quantities in base units."""
    return futures_order_from_msg(_convert(raw, m.FuturesOrderMsg), contract_size)


# ---- fills ------------------------------------------------------------------------------


def execution_from_msg(msg: m.SpotUserTradeMsg, symbol: Symbol | None = None) -> Execution:
    if symbol is None:
        symbol = from_venue(msg.currency_pair)
    side = _SIDE[msg.side]
    fee, fee_asset = msg.fee, msg.fee_currency
    if fee == 0.0 and msg.gt_fee > 0:
        fee, fee_asset = msg.gt_fee, "GT"
    elif not fee_asset:  # Gate charges in the currency received
        fee_asset = symbol.base if side is Side.BUY else symbol.quote
    return Execution(
        symbol=symbol,
        trade_id=str(msg.id),
        order_id=str(msg.order_id),
        client_order_id=msg.text if msg.text.startswith("t-") else "",
        side=side,
        price=msg.price,
        quantity=msg.amount,
        fee=fee,
        fee_asset=fee_asset,
        is_maker=msg.role == "maker",
        timestamp=_ms(msg.create_time_ms) or _ms(msg.create_time),
    )


def parse_execution(raw: Mapping, symbol: Symbol | None = None) -> Execution:
    """A spot fill: /spot/my_trades item or WS spot.usertrades item.

    `symbol` is needed only when the item carries no currency_pair (my_trades filtered by pair).
    """
    return execution_from_msg(_convert(raw, m.SpotUserTradeMsg), symbol)


def futures_execution_from_msg(
    msg: m.FuturesUserTradeMsg, contract_size: float, settle: str = "USDT"
) -> Execution:
    return Execution(
        symbol=from_venue(msg.contract),
        trade_id=str(msg.id),
        order_id=str(msg.order_id),
        client_order_id=msg.text if msg.text.startswith("t-") else "",
        side=Side.SELL if msg.size < 0 else Side.BUY,
        price=msg.price,
        quantity=_base(abs(msg.size), contract_size),
        fee=msg.fee,
        fee_asset=settle,
        is_maker=msg.role == "maker",
        timestamp=_ms(msg.create_time_ms) or _ms(msg.create_time),
    )


def parse_futures_execution(raw: Mapping, contract_size: float) -> Execution:
    """A futures fill (/futures/usdt/my_trades or WS futures.usertrades); fee in USDT."""
    return futures_execution_from_msg(_convert(raw, m.FuturesUserTradeMsg), contract_size)


# ---- positions --------------------------------------------------------------------------


def position_from_msg(msg: m.PositionMsg, contract_size: float) -> Position:
    leverage = msg.leverage if msg.leverage is not None else (msg.lever or 0.0)
    if leverage == 0.0:  # 0 = cross margin; its leverage is cross_leverage_limit
        leverage = msg.cross_leverage_limit
    contracts = msg.size
    if contracts > 0:
        side = PositionSide.LONG
    elif contracts < 0:
        side = PositionSide.SHORT
    else:
        side = PositionSide.FLAT
    return Position(
        symbol=from_venue(msg.contract),
        side=side,
        size=_base(contracts, contract_size),
        contracts=contracts,
        entry_price=msg.entry_price,
        mark_price=msg.mark_price,
        unrealized_pnl=msg.unrealised_pnl,
        realized_pnl=msg.realised_pnl,
        leverage=leverage,
        liquidation_price=msg.liq_price,
        margin=msg.margin,
        updated_at=_ms(msg.time_ms) or _ms(msg.update_time),
    )


def parse_position(raw: Mapping, contract_size: float) -> Position:
    """A futures position (REST or WS futures.positions item); size signed, in base units."""
    return position_from_msg(_convert(raw, m.PositionMsg), contract_size)


# ---- market data ------------------------------------------------------------------------


def parse_order_book(raw: Mapping, symbol: Symbol, contract_size: float = 1.0) -> OrderBook:
    """/spot/order_book ([p, s] levels, ms times) or /futures/usdt/order_book ({p, s} levels
    in contracts, float-second times). `update_id` is Gate's book id (request with_id=true)."""
    levels = raw.get("asks") or raw.get("bids") or []
    if levels and isinstance(levels[0], Mapping):
        msg = _convert(raw, m.FuturesOrderBookMsg)
        return OrderBook(
            symbol=symbol,
            bids=[(lv.p, _base(lv.s, contract_size)) for lv in msg.bids],
            asks=[(lv.p, _base(lv.s, contract_size)) for lv in msg.asks],
            update_id=msg.id,
            timestamp=_ms(msg.current),
        )
    msg = _convert(raw, m.SpotOrderBookMsg)
    if contract_size != 1.0:
        bids = [(p, _base(s, contract_size)) for p, s in msg.bids]
        asks_ = [(p, _base(s, contract_size)) for p, s in msg.asks]
    else:
        bids, asks_ = msg.bids, msg.asks
    return OrderBook(symbol=symbol, bids=bids, asks=asks_, update_id=msg.id, timestamp=_ms(msg.current))


def book_ticker_from_msg(msg: m.BookTickerMsg, contract_size: float = 1.0) -> BookTicker:
    bid_q, ask_q = msg.B, msg.A
    if contract_size != 1.0:
        bid_q, ask_q = _base(bid_q, contract_size), _base(ask_q, contract_size)
    # Positional, in BookTicker's field order (keywords cost more on this per-frame path).
    b, a = msg.b, msg.a
    # Inline `_quote`: this runs once per book-ticker frame.
    return BookTicker(
        from_venue(msg.s), float(b) if b else None, bid_q, float(a) if a else None, ask_q, msg.t, msg.u
    )


def parse_book_ticker(raw: Mapping, contract_size: float = 1.0) -> BookTicker:
    """A spot.book_ticker / futures.book_ticker result."""
    return book_ticker_from_msg(_convert(raw, m.BookTickerMsg), contract_size)


def spot_book_diff_from_msg(msg: m.SpotBookUpdateMsg) -> BookDiff:
    # Positional: symbol, first_id, last_id, bids, asks, timestamp.
    return BookDiff(from_venue(msg.s), msg.U, msg.u, msg.b, msg.a, msg.t)


def futures_book_diff_from_msg(msg: m.FuturesBookUpdateMsg, contract_size: float) -> BookDiff:
    return BookDiff(
        symbol=from_venue(msg.s),
        first_id=msg.U,
        last_id=msg.u,
        bids=[(lv.p, _base(lv.s, contract_size)) for lv in msg.b],
        asks=[(lv.p, _base(lv.s, contract_size)) for lv in msg.a],
        timestamp=msg.t,
    )


def parse_book_diff(raw: Mapping, contract_size: float | None = None) -> BookDiff:
    """A spot.order_book_update result, or futures.order_book_update when contract_size is given."""
    if contract_size is None:
        return spot_book_diff_from_msg(_convert(raw, m.SpotBookUpdateMsg))
    return futures_book_diff_from_msg(_convert(raw, m.FuturesBookUpdateMsg), contract_size)


def spot_trade_from_msg(msg: m.SpotPublicTradeMsg) -> Trade:
    return Trade(
        symbol=from_venue(msg.currency_pair),
        price=msg.price,
        quantity=msg.amount,
        side=_SIDE[msg.side],
        timestamp=_ms(msg.create_time_ms) or _ms(msg.create_time),
        trade_id=str(msg.id),
    )


def futures_trade_from_msg(msg: m.FuturesPublicTradeMsg, contract_size: float) -> Trade:
    return Trade(
        symbol=from_venue(msg.contract),
        price=msg.price,
        quantity=_base(abs(msg.size), contract_size),
        side=Side.SELL if msg.size < 0 else Side.BUY,  # sign = taker side
        timestamp=_ms(msg.create_time_ms) or _ms(msg.create_time),
        trade_id=str(msg.id),
    )


def parse_trade(raw: Mapping, contract_size: float | None = None) -> Trade:
    """A spot.trades result, or a futures.trades item when contract_size is given."""
    if contract_size is None:
        return spot_trade_from_msg(_convert(raw, m.SpotPublicTradeMsg))
    return futures_trade_from_msg(_convert(raw, m.FuturesPublicTradeMsg), contract_size)


def parse_ticker(raw: Mapping, symbol: Symbol, contract_size: float = 1.0) -> BookTicker:
    """A /spot/tickers or /futures/usdt/tickers item -> best bid/ask (sizes only when Gate sends them)."""
    msg = _convert(raw, m.SpotTickerMsg if "currency_pair" in raw else m.FuturesTickerMsg)
    return BookTicker(
        symbol=symbol,
        bid_price=_quote(msg.highest_bid),
        bid_quantity=_base(_price(msg.highest_size), contract_size),
        ask_price=_quote(msg.lowest_ask),
        ask_quantity=_base(_price(msg.lowest_size), contract_size),
    )


# ---- withdrawals ------------------------------------------------------------------------

_WITHDRAWAL_STATUS = {
    "DONE": WithdrawalStatus.DONE,
    "CANCEL": WithdrawalStatus.CANCELED,
    "FAIL": WithdrawalStatus.FAILED,
    "INVALID": WithdrawalStatus.FAILED,
    "REQUEST": WithdrawalStatus.PENDING,
    "VERIFY": WithdrawalStatus.PENDING,
    "FVERIFY": WithdrawalStatus.PENDING,
    "MANUAL": WithdrawalStatus.PENDING,
    "REVIEW": WithdrawalStatus.PENDING,
    "BCODE": WithdrawalStatus.PENDING,
    "LOCKED": WithdrawalStatus.PENDING,
    "PEND": WithdrawalStatus.PROCESSING,
    "PROCES": WithdrawalStatus.PROCESSING,
    "EXTPEND": WithdrawalStatus.PROCESSING,
    "DMOVE": WithdrawalStatus.PROCESSING,
    "CANCELPEND": WithdrawalStatus.PROCESSING,
}


def parse_withdrawal(raw: Mapping) -> WithdrawalResponse:
    """A POST /withdrawals reply or a /wallet/withdrawals record."""
    msg = _convert(raw, m.WithdrawalMsg)
    return WithdrawalResponse(
        withdrawal_id=str(msg.id),
        asset=msg.currency.upper(),
        amount=msg.amount,
        address=msg.address,
        network=msg.chain,
        status=_WITHDRAWAL_STATUS.get(msg.status.upper(), WithdrawalStatus.PENDING),
        fee=msg.fee,
        tx_id=msg.txid,
        timestamp=_ms(msg.timestamp),
    )


def parse_withdraw_status(raw: list, asset: str) -> tuple[float, dict[str, float]]:
    """GET /wallet/withdraw_status -> (the currency's minimum, fixed fee by chain); a chain
    missing from `withdraw_fix_on_chains` pays `withdraw_fix` (under key "")."""
    for msg in _convert(raw, list[m.WithdrawStatusMsg]):
        if msg.currency.upper() == asset.upper():
            return msg.withdraw_amount_mini, {"": msg.withdraw_fix, **msg.withdraw_fix_on_chains}
    return 0.0, {}


def parse_deposit_addresses(raw: Mapping) -> list[DepositAddress]:
    """GET /wallet/deposit_address -> one address per chain (failed ones left out)."""
    msg = _convert(raw, m.DepositAddressMsg)
    return [
        DepositAddress(msg.currency.upper(), c.chain, c.address, c.payment_id)
        for c in msg.multichain_addresses
        if c.address and not c.obtain_failed
    ]


def parse_deposit(raw: Mapping) -> DepositRecord:
    """A GET /wallet/deposits record; DONE means credited."""
    msg = _convert(raw, m.LedgerRecordMsg)
    return DepositRecord(
        deposit_id=str(msg.id),
        asset=msg.currency.upper(),
        amount=msg.amount,
        network=msg.chain,
        address=msg.address,
        tx_id=msg.txid,
        credited=msg.status.upper() == "DONE",
        timestamp=_ms(msg.timestamp),
    )


def parse_currency_chain(raw: Mapping, asset: str) -> WithdrawalNetwork:
    """A /wallet/currency_chains item: the chain name (POST /withdrawals `chain`) and whether
    it withdraws. Gate gives minimums and fees elsewhere, so they stay 0 (unknown) here."""
    msg = _convert(raw, m.CurrencyChainMsg)
    return WithdrawalNetwork(
        asset=asset.upper(),
        network=msg.chain,
        withdraw_enabled=not (msg.is_disabled or msg.is_withdraw_disabled),
    )


# ---- errors -----------------------------------------------------------------------------


def parse_error(status: int, body: bytes | str | Mapping | None) -> ExchangeError:
    """An HTTP error reply ({"label", "message"|"detail"}) -> typed error (see errors.py)."""
    return _parse_error(status, body)


# ---- account fee rates ------------------------------------------------------------------


def parse_spot_fee(raw: Mapping, symbol: Symbol) -> AccountFees:
    """`GET /spot/fee?currency_pair=` (SpotFee): the account's rates on the pair, with the GT
    rates when GT deduction is on (`gt_*_fee` are 0 while it is off)."""
    msg = _convert(raw, m.SpotFeeMsg)
    if not msg.gt_discount:
        return AccountFees(symbol, msg.maker_fee, msg.taker_fee)
    return AccountFees(symbol, msg.maker_fee, msg.taker_fee, "GT", msg.gt_maker_fee, msg.gt_taker_fee)


def parse_futures_fee(raw: Mapping, symbol: Symbol) -> AccountFees:
    """`GET /futures/usdt/fee?contract=`: {contract: {taker_fee, maker_fee}}."""
    entry = raw.get(to_venue(symbol)) if isinstance(raw, Mapping) else None
    if entry is None:
        raise ProtocolError(f"no fee rates for {symbol} in {str(raw)[:200]}", venue=VENUE)
    msg = _convert(entry, m.FuturesFeeMsg)
    return AccountFees(symbol, msg.maker_fee, msg.taker_fee)
