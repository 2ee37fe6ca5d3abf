"""MEXC spot WebSocket channels and their binary protobuf pushes (mexc_spot.md §6.2-6.4).

`parse_channel` reads a subscription string; the `encode_*` functions build one
PushDataV3ApiWrapper frame each, from core model objects, as bytes ready to send.
"""

from __future__ import annotations

from dataclasses import dataclass

from cexarb.model import AssetBalance, BookTicker, Execution, Order, OrderBook, OrderType, Side, Trade
from cexarb.sim import mexc_wire as wire
from cexarb.sim.mexc_wire import SymbolFormat, empty_side_price
from cexarb.sim.pb import mexc_push_pb2 as pb

DEPTH = "spot@public.aggre.depth.v3.api.pb"
DEALS = "spot@public.aggre.deals.v3.api.pb"
BOOK_TICKER = "spot@public.aggre.bookTicker.v3.api.pb"
LIMIT_DEPTH = "spot@public.limit.depth.v3.api.pb"
BOOK_TICKER_BATCH = "spot@public.bookTicker.batch.v3.api.pb"
PRIVATE_ORDERS = "spot@private.orders.v3.api.pb"
PRIVATE_DEALS = "spot@private.deals.v3.api.pb"
PRIVATE_ACCOUNT = "spot@private.account.v3.api.pb"

PRIVATE_CHANNELS = frozenset({PRIVATE_ORDERS, PRIVATE_DEALS, PRIVATE_ACCOUNT})
_INTERVAL_KINDS = frozenset({DEPTH, DEALS, BOOK_TICKER})
_INTERVALS = frozenset({"100ms", "10ms"})
_LIMIT_LEVELS = frozenset({5, 10, 20})


@dataclass(frozen=True, slots=True)
class Channel:
    """One parsed subscription: `kind` is the channel family (the constants above)."""

    name: str  # exactly as subscribed; pushes carry it back
    kind: str
    symbol: str = ""  # MEXC symbol name, upper case
    interval: str = ""  # "100ms" / "10ms" for the aggregated families
    levels: int = 0  # limit depth

    @property
    def is_private(self) -> bool:
        return self.kind in PRIVATE_CHANNELS

    @property
    def event_type(self) -> str:
        return f"{self.kind}@{self.interval}" if self.interval else self.kind


@dataclass(frozen=True, slots=True)
class SymbolChannels:
    """Every public channel name one symbol can be subscribed under, by event kind."""

    depth: tuple[str, ...]
    limit_depth: tuple[tuple[int, str], ...]
    tickers: tuple[str, ...]
    deals: tuple[str, ...]


def symbol_channels(venue_symbol: str) -> SymbolChannels:
    intervals = sorted(_INTERVALS)
    return SymbolChannels(
        depth=tuple(f"{DEPTH}@{i}@{venue_symbol}" for i in intervals),
        limit_depth=tuple((n, f"{LIMIT_DEPTH}@{venue_symbol}@{n}") for n in sorted(_LIMIT_LEVELS)),
        tickers=(
            *(f"{BOOK_TICKER}@{i}@{venue_symbol}" for i in intervals),
            f"{BOOK_TICKER_BATCH}@{venue_symbol}",
        ),
        deals=tuple(f"{DEALS}@{i}@{venue_symbol}" for i in intervals),
    )


def parse_channel(name: str) -> Channel | None:
    """The channel a subscription string names, or None if MEXC would not serve it."""
    if name in PRIVATE_CHANNELS:
        return Channel(name, name)
    parts = name.split("@")
    if len(parts) < 3:
        return None
    kind = "@".join(parts[:2])
    rest = parts[2:]
    if kind in _INTERVAL_KINDS and len(rest) == 2 and rest[0] in _INTERVALS and _is_symbol(rest[1]):
        return Channel(name, kind, symbol=rest[1], interval=rest[0])
    if kind == LIMIT_DEPTH and len(rest) == 2 and _is_symbol(rest[0]) and rest[1].isdigit():
        levels = int(rest[1])
        if levels in _LIMIT_LEVELS:
            return Channel(name, kind, symbol=rest[0], levels=levels)
    if kind == BOOK_TICKER_BATCH and len(rest) == 1 and _is_symbol(rest[0]):
        return Channel(name, kind, symbol=rest[0])
    return None


def _is_symbol(text: str) -> bool:
    # Channel names must use the upper-case symbol (mexc_spot.md §6.1).
    return bool(text) and text.isalnum() and text.upper() == text


def _wrapper(channel: str, now_ms: int, symbol: str | None = None) -> pb.PushDataV3ApiWrapper:
    msg = pb.PushDataV3ApiWrapper(channel=channel, sendTime=now_ms)
    if symbol is not None:
        msg.symbol = symbol
    return msg


def _trade_type(side: Side) -> int:
    return 1 if side is Side.BUY else 2


# --- public -------------------------------------------------------------------------------


def encode_depth(
    channel: Channel,
    fmt: SymbolFormat,
    first_id: int,
    last_id: int,
    bids: list[tuple[float, float]],
    asks: list[tuple[float, float]],
    now_ms: int,
) -> bytes:
    msg = _wrapper(channel.name, now_ms, fmt.venue_symbol)
    body = msg.publicAggreDepths
    for price, qty in asks:
        body.asks.add(price=fmt.price(price), quantity=fmt.qty(qty))
    for price, qty in bids:
        body.bids.add(price=fmt.price(price), quantity=fmt.qty(qty))
    body.eventType = channel.event_type
    body.fromVersion = str(first_id)
    body.toVersion = str(last_id)
    return msg.SerializeToString()


def encode_limit_depth(channel: Channel, fmt: SymbolFormat, book: OrderBook, now_ms: int) -> bytes:
    msg = _wrapper(channel.name, now_ms, fmt.venue_symbol)
    body = msg.publicLimitDepths
    for price, qty in book.asks[: channel.levels]:
        body.asks.add(price=fmt.price(price), quantity=fmt.qty(qty))
    for price, qty in book.bids[: channel.levels]:
        body.bids.add(price=fmt.price(price), quantity=fmt.qty(qty))
    body.eventType = channel.kind
    body.version = str(book.update_id)
    return msg.SerializeToString()


def encode_book_ticker(channel: Channel, fmt: SymbolFormat, ticker: BookTicker, now_ms: int) -> bytes:
    msg = _wrapper(channel.name, now_ms, fmt.venue_symbol)
    if channel.kind == BOOK_TICKER_BATCH:
        body = msg.publicBookTickerBatch
        body.items.add(
            bidPrice=empty_side_price(fmt, ticker.bid_price),
            bidQuantity=fmt.qty(ticker.bid_quantity),
            askPrice=empty_side_price(fmt, ticker.ask_price),
            askQuantity=fmt.qty(ticker.ask_quantity),
        )
        if ticker.update_id:
            body.version = str(ticker.update_id)
    else:
        body = msg.publicAggreBookTicker
        body.bidPrice = empty_side_price(fmt, ticker.bid_price)
        body.bidQuantity = fmt.qty(ticker.bid_quantity)
        body.askPrice = empty_side_price(fmt, ticker.ask_price)
        body.askQuantity = fmt.qty(ticker.ask_quantity)
        if ticker.update_id:
            body.version = str(ticker.update_id)
    return msg.SerializeToString()


def encode_deals(channel: Channel, fmt: SymbolFormat, trades: list[Trade], now_ms: int) -> bytes:
    msg = _wrapper(channel.name, now_ms, fmt.venue_symbol)
    body = msg.publicAggreDeals
    for trade in trades:
        body.deals.add(
            price=fmt.price(trade.price),
            quantity=fmt.qty(trade.quantity),
            tradeType=_trade_type(trade.side),
            time=trade.timestamp,
            tradeId=trade.trade_id,
        )
    body.eventType = channel.event_type
    return msg.SerializeToString()


# --- private ------------------------------------------------------------------------------


def encode_order(fmt: SymbolFormat, order: Order, last_fill_qty: float | None, now_ms: int) -> bytes:
    msg = _wrapper(PRIVATE_ORDERS, now_ms, fmt.venue_symbol)
    body = msg.privateOrders
    is_market = order.order_type is OrderType.MARKET
    filled_amount = order.filled_quantity * order.average_price
    if is_market:
        # A quote-sized market buy has an amount, not a quantity.
        amount = order.quote_quantity
        remain_amount = 0.0 if order.status.is_done else max(amount - filled_amount, 0.0)
    else:
        amount = order.price * order.quantity
        remain_amount = order.price * max(order.quantity - order.filled_quantity, 0.0)
    body.id = order.order_id
    body.clientId = order.client_order_id
    body.price = "0" if is_market else fmt.price(order.price)
    body.quantity = fmt.qty(order.quantity)
    body.amount = fmt.amount(amount)
    body.avgPrice = fmt.price(order.average_price) if order.filled_quantity else "0"
    body.orderType = wire.WS_ORDER_TYPES[wire.mexc_type_of(order)]
    body.tradeType = _trade_type(order.side)
    body.remainAmount = fmt.amount(remain_amount)
    body.remainQuantity = fmt.qty(
        0.0 if order.status.is_done else max(order.quantity - order.filled_quantity, 0.0)
    )
    if last_fill_qty:
        body.lastDealQuantity = fmt.qty(last_fill_qty)
    body.cumulativeQuantity = fmt.qty(order.filled_quantity)
    body.cumulativeAmount = fmt.amount(filled_amount)
    body.status = wire.ws_status(order)
    body.createTime = order.created_at
    return msg.SerializeToString()


def encode_private_deal(fmt: SymbolFormat, fill: Execution, now_ms: int) -> bytes:
    msg = _wrapper(PRIVATE_DEALS, now_ms, fmt.venue_symbol)
    body = msg.privateDeals
    body.price = fmt.price(fill.price)
    body.quantity = fmt.qty(fill.quantity)
    body.amount = fmt.amount(fill.price * fill.quantity)
    body.tradeType = _trade_type(fill.side)
    body.isMaker = fill.is_maker
    body.tradeId = fill.trade_id
    body.clientOrderId = fill.client_order_id
    body.orderId = fill.order_id
    body.feeAmount = wire.plain_number(fill.fee)
    body.feeCurrency = fill.fee_asset
    body.time = fill.timestamp
    return msg.SerializeToString()


def encode_account(
    balance: AssetBalance, available_change: float, locked_change: float, change_type: str, now_ms: int
) -> bytes:
    # The account push carries no symbol (mexc_spot.md §6.4).
    msg = pb.PushDataV3ApiWrapper(channel=PRIVATE_ACCOUNT, createTime=now_ms, sendTime=now_ms)
    body = msg.privateAccount
    body.vcoinName = balance.asset
    body.coinId = balance.asset
    body.balanceAmount = wire.plain_number(balance.available)
    body.balanceAmountChange = wire.plain_number(available_change)
    body.frozenAmount = wire.plain_number(balance.locked)
    body.frozenAmountChange = wire.plain_number(locked_change)
    body.type = change_type
    body.time = now_ms
    return msg.SerializeToString()
