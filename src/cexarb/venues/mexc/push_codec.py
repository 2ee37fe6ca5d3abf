"""MEXC spot protobuf pushes (`PushDataV3ApiWrapper`) -> `cexarb.model` objects.

Hot path: one reusable wrapper message is parsed per frame (upb backend), and
the body is turned straight into model structs. proto3 omits default values,
so absent strings read as "" and are treated as 0.
"""

from __future__ import annotations

from collections.abc import Callable
from operator import attrgetter

import msgspec
from google.protobuf.message import DecodeError

from cexarb.model import (
    AssetBalance,
    BookDiff,
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
)
from cexarb.model.errors import ProtocolError
from cexarb.venues.mexc.pb import PushDataV3ApiWrapper

try:
    # Aggregated depth, book ticker and order pushes read off the wire in C (built by `pip
    # install` where a compiler is present); it returns None for any frame it does not fully
    # understand.
    from cexarb.venues.mexc._pushwire import decode as wire_decode
except ImportError:
    wire_decode = None

# privateOrders.status: 1 new, 2 filled, 3 partially filled, 4 canceled, 5 partially canceled
# (0 appears for pending OCO/stop orders).
WS_ORDER_STATUS: dict[int, OrderStatus] = {
    0: OrderStatus.NEW,
    1: OrderStatus.NEW,
    2: OrderStatus.FILLED,
    3: OrderStatus.PARTIALLY_FILLED,
    4: OrderStatus.CANCELED,
    5: OrderStatus.PARTIALLY_CANCELED,
}

# privateOrders.orderType: 1 LIMIT, 2 LIMIT_MAKER, 3 IOC, 4 FOK, 5 MARKET, 100+ stop/OCO (limit).
WS_ORDER_TYPE: dict[int, tuple[OrderType, TimeInForce]] = {
    1: (OrderType.LIMIT, TimeInForce.GTC),
    2: (OrderType.LIMIT_MAKER, TimeInForce.POST_ONLY),
    3: (OrderType.LIMIT, TimeInForce.IOC),
    4: (OrderType.LIMIT, TimeInForce.FOK),
    5: (OrderType.MARKET, TimeInForce.IOC),
}
_LIMIT_GTC = (OrderType.LIMIT, TimeInForce.GTC)

PushEvent = BookDiff | OrderBook | BookTicker | Trade | Order | Execution | AssetBalance


_BUY, _SELL = Side.BUY, Side.SELL  # module names: Enum class attributes cost a lookup each


def _f(text: str) -> float:
    return float(text) if text else 0.0


def _quote(text: str) -> float | None:
    """A best price: "" or 0 is an empty side, no price (None)."""
    price = float(text) if text else 0.0
    return price if price > 0.0 else None


# Several decimal strings at once: one JSON array parsed by msgspec in C costs less than one
# float() each (~0.18 us here). msgspec's parse is correctly rounded like float(); text that is
# not a plain JSON number ("1_000", "nan", " 1 ", a comma) fails the typed decode, and the
# caller then falls back to float(), which accepts or rejects it exactly as before. (Only "-0"
# differs: 0.0 instead of -0.0, which compares equal.)
_four_floats = msgspec.json.Decoder(tuple[float, float, float, float]).decode
_five_floats = msgspec.json.Decoder(tuple[float, float, float, float, float]).decode
_NotNumbers = msgspec.DecodeError


def _side(trade_type: int) -> Side:
    if trade_type == 1:
        return _BUY
    if trade_type == 2:
        return _SELL
    raise ValueError(f"tradeType {trade_type} is neither 1 (buy) nor 2 (sell)")


_price_qty = attrgetter("price", "quantity")
_LEVELS = list[tuple[float, float]]
_convert = msgspec.convert


def _levels(items) -> list[tuple[float, float]]:
    # msgspec turns the decimal strings into floats in C: a third cheaper than float() per field.
    return _convert(list(map(_price_qty, items)), _LEVELS, strict=False)


class PushDecoder:
    """Decodes one binary frame into model events.

    `symbol_of` maps a venue symbol ("BTCUSDT") to a `Symbol` (from exchangeInfo);
    it may raise `ProtocolError` for a symbol it does not know.
    """

    __slots__ = ("_wrapper", "_symbol_of", "_handlers", "_wire")

    def __init__(self, symbol_of: Callable[[str], Symbol]) -> None:
        self._wrapper = PushDataV3ApiWrapper()
        self._symbol_of = symbol_of
        self._wire = wire_decode
        self._handlers: dict[str, Callable[[PushDataV3ApiWrapper], list]] = {
            "publicAggreDepths": self._aggre_depths,
            "publicIncreaseDepths": self._increase_depths,
            "publicIncreaseDepthsBatch": self._increase_depths_batch,
            "publicLimitDepths": self._limit_depths,
            "publicAggreBookTicker": self._aggre_book_ticker,
            "publicBookTicker": self._book_ticker,
            "publicBookTickerBatch": self._book_ticker_batch,
            "publicAggreDeals": self._aggre_deals,
            "publicDeals": self._deals,
            "privateOrders": self._private_order,
            "privateDeals": self._private_deal,
            "privateAccount": self._private_account,
        }

    def decode(self, data: bytes) -> list[PushEvent]:
        """Events of one frame; [] for bodies with no model (kline, mini tickers).

        Raises ProtocolError for a frame that is not a valid push.
        """
        wire = self._wire
        if wire is not None:
            fast = wire(data)
            if fast is not None:
                return self._from_wire(fast)
        wrapper = self._wrapper
        try:
            wrapper.ParseFromString(data)
            body = wrapper.WhichOneof("body")
            if body is None:
                raise ValueError("push without a body")
            handler = self._handlers.get(body)
            return handler(wrapper) if handler is not None else []
        except ProtocolError:
            raise
        except (DecodeError, ValueError, TypeError) as exc:
            raise ProtocolError(f"bad MEXC push frame ({len(data)} bytes): {exc}", venue="mexc") from None

    def _from_wire(self, fast: tuple) -> list[PushEvent]:
        """The event of an aggregated depth (313), book ticker (315) or order (304) read by
        `wire_decode`, the same one the upb path below builds from that frame."""
        kind = fast[0]
        if kind == 313:
            _, name, channel, from_version, to_version, bids, asks, sent = fast
            symbol = self._symbol_of(name if name is not None else channel.rpartition("@")[2])
            return [BookDiff(symbol, from_version, to_version, bids, asks, sent)]
        if kind == 304:
            return [self._wire_order(fast)]
        _, name, channel, bid, bid_qty, ask, ask_qty, version, sent = fast
        symbol = self._symbol_of(name if name is not None else channel.rpartition("@")[2])
        # The reader gives an empty side's price as 0: no price (None), as the upb path.
        return [
            BookTicker(
                symbol,
                bid if bid > 0.0 else None,
                bid_qty,
                ask if ask > 0.0 else None,
                ask_qty,
                sent,
                version,
            )
        ]

    def _wire_order(self, fast: tuple) -> Order:
        """`_private_order` for the reader's tuple (status 0..5 and tradeType 1/2 by then)."""
        (
            _,
            name,
            channel,
            order_id,
            client_id,
            price,
            quantity,
            filled,
            remaining,
            avg,
            order_type,
            trade_type,
            status,
            created,
            sent,
        ) = fast
        order_type, tif = WS_ORDER_TYPE.get(order_type, _LIMIT_GTC)
        if not order_id:
            order_id, client_id = client_id, ""
        return Order(
            self._symbol_of(name if name is not None else channel.rpartition("@")[2]),
            order_id,
            client_id,
            _BUY if trade_type == 1 else _SELL,
            order_type,
            price,
            quantity,
            WS_ORDER_STATUS[status],
            tif,  # time_in_force
            filled,  # filled_quantity
            remaining,  # remaining_quantity
            avg,  # average_price
            0.0,  # fee
            "",  # fee_asset
            created,  # created_at
            sent or created,  # updated_at
        )

    def _symbol(self, wrapper: PushDataV3ApiWrapper) -> Symbol:
        # Data pushes carry `symbol`; fall back to the channel's last segment. A non-empty
        # symbol is present by definition, so HasField is asked only about an empty one.
        name = wrapper.symbol
        if not name and not wrapper.HasField("symbol"):
            name = wrapper.channel.rpartition("@")[2]
        return self._symbol_of(name)

    # --- public ---------------------------------------------------------------

    def _aggre_depths(self, w: PushDataV3ApiWrapper) -> list:
        d = w.publicAggreDepths
        return [
            BookDiff(
                self._symbol(w),
                int(d.fromVersion),
                int(d.toVersion),
                _levels(d.bids),
                _levels(d.asks),
                w.sendTime,
            )
        ]

    def _increase_depths(self, w: PushDataV3ApiWrapper) -> list:
        d = w.publicIncreaseDepths
        version = int(d.version)
        return [BookDiff(self._symbol(w), version, version, _levels(d.bids), _levels(d.asks), w.sendTime)]

    def _increase_depths_batch(self, w: PushDataV3ApiWrapper) -> list:
        symbol = self._symbol(w)
        out = []
        for d in w.publicIncreaseDepthsBatch.items:
            version = int(d.version)
            out.append(BookDiff(symbol, version, version, _levels(d.bids), _levels(d.asks), w.sendTime))
        return out

    def _limit_depths(self, w: PushDataV3ApiWrapper) -> list:
        d = w.publicLimitDepths
        return [OrderBook(self._symbol(w), _levels(d.bids), _levels(d.asks), int(d.version), w.sendTime)]

    def _aggre_book_ticker(self, w: PushDataV3ApiWrapper) -> list:
        t = w.publicAggreBookTicker
        bp, bq, ap, aq = t.bidPrice, t.bidQuantity, t.askPrice, t.askQuantity
        try:
            bid, bid_qty, ask, ask_qty = _four_floats(f"[{bp or 0},{bq or 0},{ap or 0},{aq or 0}]")
        except _NotNumbers:
            bid, bid_qty, ask, ask_qty = _f(bp), _f(bq), _f(ap), _f(aq)
        version = t.version
        # An empty side comes as "" (or 0): no price, never a price of 0.
        return [
            BookTicker(
                self._symbol(w),
                bid if bid > 0.0 else None,
                bid_qty,
                ask if ask > 0.0 else None,
                ask_qty,
                w.sendTime,
                int(version) if version else 0,
            )
        ]

    def _book_ticker(self, w: PushDataV3ApiWrapper) -> list:
        t = w.publicBookTicker
        return [
            BookTicker(
                self._symbol(w),
                _quote(t.bidPrice),
                _f(t.bidQuantity),
                _quote(t.askPrice),
                _f(t.askQuantity),
                w.sendTime,
            )
        ]

    def _book_ticker_batch(self, w: PushDataV3ApiWrapper) -> list:
        batch = w.publicBookTickerBatch
        symbol = self._symbol(w)
        version = int(batch.version) if batch.version else 0
        return [
            BookTicker(
                symbol,
                _quote(t.bidPrice),
                _f(t.bidQuantity),
                _quote(t.askPrice),
                _f(t.askQuantity),
                w.sendTime,
                version,
            )
            for t in batch.items
        ]

    def _aggre_deals(self, w: PushDataV3ApiWrapper) -> list:
        symbol = self._symbol(w)
        return [
            Trade(symbol, float(d.price), float(d.quantity), _side(d.tradeType), d.time, d.tradeId)
            for d in w.publicAggreDeals.deals
        ]

    def _deals(self, w: PushDataV3ApiWrapper) -> list:
        symbol = self._symbol(w)
        return [
            Trade(symbol, float(d.price), float(d.quantity), _side(d.tradeType), d.time)
            for d in w.publicDeals.deals
        ]

    # --- private --------------------------------------------------------------

    def _private_order(self, w: PushDataV3ApiWrapper) -> list:
        o = w.privateOrders
        order_type, tif = WS_ORDER_TYPE.get(o.orderType, _LIMIT_GTC)
        status = WS_ORDER_STATUS.get(o.status)
        if status is None:
            raise ValueError(f"unknown order status {o.status}")
        order_id, client_id = o.id, o.clientId
        if not order_id:
            # Some doc revisions print the order id under clientId (tag 2) with no id.
            order_id, client_id = client_id, ""
        p, q, c, r, a = o.price, o.quantity, o.cumulativeQuantity, o.remainQuantity, o.avgPrice
        try:
            price, quantity, filled, remaining, avg = _five_floats(
                f"[{p or 0},{q or 0},{c or 0},{r or 0},{a or 0}]"
            )
        except _NotNumbers:
            price, quantity, filled, remaining, avg = _f(p), _f(q), _f(c), _f(r), _f(a)
        trade_type = o.tradeType
        side = _BUY if trade_type == 1 else _side(trade_type)
        created = o.createTime
        # Positional, in Order's field order: half the cost of keywords on this per-frame path.
        return [
            Order(
                self._symbol(w),
                order_id,
                client_id,
                side,
                order_type,
                price,
                quantity,
                status,
                tif,  # time_in_force
                filled,  # filled_quantity
                remaining,  # remaining_quantity
                avg,  # average_price
                0.0,  # fee
                "",  # fee_asset
                created,  # created_at
                w.sendTime or created,  # updated_at
            )
        ]

    def _private_deal(self, w: PushDataV3ApiWrapper) -> list:
        d = w.privateDeals
        return [
            Execution(
                symbol=self._symbol(w),
                trade_id=d.tradeId,
                order_id=d.orderId,
                client_order_id=d.clientOrderId,
                side=_side(d.tradeType),
                price=float(d.price),
                quantity=float(d.quantity),
                fee=_f(d.feeAmount),
                fee_asset=d.feeCurrency,
                is_maker=d.isMaker,
                timestamp=d.time,
            )
        ]

    def _private_account(self, w: PushDataV3ApiWrapper) -> list:
        a = w.privateAccount
        if not a.vcoinName:
            raise ValueError("account push without vcoinName")
        # balanceAmount is the available balance after the change, frozenAmount the locked one.
        return [AssetBalance(a.vcoinName, _f(a.balanceAmount), _f(a.frozenAmount))]
