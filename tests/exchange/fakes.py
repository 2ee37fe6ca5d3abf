"""A tiny in-memory venue and clients implementing the venues/contracts.py Protocols.

Unit tests of the composite base classes only; the bar is the simulator e2e suite.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools

from cexarb.config import Secret, VenueConfig
from cexarb.exchange.futures import CompositePrivateFuturesExchange
from cexarb.exchange.settings import CompositeSettings
from cexarb.exchange.withdrawals import WithdrawingPrivateExchange
from cexarb.model import (
    AccountFees,
    AssetBalance,
    BookDiff,
    BookTicker,
    ConnectionState,
    Execution,
    Market,
    Order,
    OrderBook,
    OrderRequest,
    OrderStatus,
    OrderType,
    Position,
    PositionSide,
    Side,
    Symbol,
    SymbolInfo,
    TimeInForce,
    Venue,
    WithdrawalNetwork,
    WithdrawalResponse,
    WithdrawalStatus,
)
from cexarb.model.errors import OrderNotFound, OrderStatusUnknown
from cexarb.venues.contracts import PrivateWebsocketHandlers, PublicWebsocketHandlers

BTC = Symbol("BTC", "USDT")
ETH = Symbol("ETH", "USDT")

FAST = CompositeSettings(
    resync_delay_s=0.0,
    degraded_poll_s=0.02,
    place_lookup_delay_s=0.0,
    book_retry_delay_s=0.0,
    sweep_retry_max_s=0.02,
)


def resting(venue: FakeVenue, order_id: str, symbol: Symbol = BTC) -> Order:
    """An order the venue has that the client never saw (placed elsewhere, or while it was away)."""
    order = Order(symbol, order_id, f"x{order_id}", Side.BUY, OrderType.LIMIT, 90.0, 1.0, OrderStatus.NEW,
                  TimeInForce.GTC, remaining_quantity=1.0, updated_at=1)  # fmt: skip
    venue.orders[order_id] = order
    return order


class Boom(Exception):
    pass


class FakeVenue:
    def __init__(self) -> None:
        self.info = {
            s: SymbolInfo(s, f"{s.base}_{s.quote}", tick_size=0.1, step_size=0.001) for s in (BTC, ETH)
        }
        self.book_ids = {BTC: 100, ETH: 200}
        self.orders: dict[str, Order] = {}
        self.trades: list[Execution] = []
        self.balances = {"USDT": AssetBalance("USDT", 1000.0), "BTC": AssetBalance("BTC", 1.0)}
        self.positions: dict[Symbol, Position] = {}
        self.account_fees: dict[Symbol, tuple[float, float]] = {}  # symbol -> (maker, taker)
        self.withdrawals: dict[str, WithdrawalResponse] = {}
        self._ids = itertools.count(1)
        self.fail: dict[str, BaseException] = {}  # method name -> raised once
        self.public_ws: FakePublicWs | None = None
        self.private_ws: FakePrivateWs | None = None
        self.ws_first = False  # push the order update before the place reply
        self.lose_next_reply = False
        self.lane_open = True  # place_order_now writes (False: it returns None, as with no idle connection)
        self.rehearsed: list[OrderRequest] = []  # written while rehearsing: the venue never saw them
        self.calls: list[str] = []
        self.closed: list[str] = []
        self.on_snapshot = None  # hook run while a snapshot request is in flight

    def check(self, name: str) -> None:
        self.calls.append(name)
        exc = self.fail.pop(name, None)
        if exc is not None:
            raise exc

    # venue-side actions
    def push_private(self, kind: str, obj) -> None:
        ws = self.private_ws
        if ws is not None and ws.up:
            getattr(ws.handlers, kind)(obj)

    def fill(self, order_id: str, qty: float, price: float = 100.0) -> None:
        order = self.orders[order_id]
        filled = order.filled_quantity + qty
        done = filled >= order.quantity - 1e-12
        new = Order(
            **{
                **{f: getattr(order, f) for f in order.__struct_fields__},
                "filled_quantity": filled,
                "remaining_quantity": order.quantity - filled,
                "status": OrderStatus.FILLED if done else OrderStatus.PARTIALLY_FILLED,
                "updated_at": order.updated_at + 1,
            }
        )
        self.orders[order_id] = new
        trade = Execution(
            order.symbol, f"t{next(self._ids)}", order_id, order.client_order_id, order.side, price, qty,
            0.0, "USDT", True, 1_000 + len(self.trades),
        )  # fmt: skip
        self.trades.append(trade)
        usdt = self.balances["USDT"]
        self.balances["USDT"] = AssetBalance("USDT", usdt.available - qty * price)
        self.push_private("order", new)
        self.push_private("execution", trade)
        self.push_private("balance", self.balances["USDT"])

    def diff(self, symbol: Symbol, bids=(), asks=(), skip: int = 0) -> None:
        first = self.book_ids[symbol] + 1 + skip
        self.book_ids[symbol] = first
        if self.public_ws is not None and self.public_ws.up:
            self.public_ws.handlers.book_diff(BookDiff(symbol, first, first, list(bids), list(asks)))


class _Client:
    def __init__(self, venue: FakeVenue, name: str) -> None:
        self.venue = venue
        self.name = name
        self.closes = 0

    async def close(self) -> None:
        self.closes += 1
        self.venue.closed.append(self.name)


class FakePublicRest(_Client):
    venue_name = "fake"

    async def get_symbols_info(self):
        self.venue.check("symbols_info")
        return dict(self.venue.info)

    async def get_order_book(self, symbol, limit=100):
        self.venue.check("order_book")
        snapshot = OrderBook(symbol, [(99.0, 1.0)], [(101.0, 1.0)], update_id=self.venue.book_ids[symbol])
        await asyncio.sleep(0)
        if self.venue.on_snapshot is not None:
            self.venue.on_snapshot(symbol)
        return snapshot

    async def get_book_ticker(self, symbol):
        self.venue.check("book_ticker")
        return BookTicker(symbol, 99.0, 1.0, 101.0, 1.0)

    async def get_server_time(self):
        return 0


class _FakeStream(_Client):
    """A stream the test drops and restores; `handlers` hears each state change."""

    def __init__(self, venue: FakeVenue, name: str, handlers) -> None:
        super().__init__(venue, name)
        self.handlers = handlers
        self.up = False

    @property
    def is_connected(self):
        return self.up

    def drop(self):
        self.up = False
        self.handlers.connection(ConnectionState.DISCONNECTED)

    def restore(self):
        self.up = True
        self.handlers.connection(ConnectionState.RECONNECTED)


class FakePublicWs(_FakeStream):
    def __init__(self, venue, handlers: PublicWebsocketHandlers) -> None:
        super().__init__(venue, "public_ws", handlers)
        self.subscribed: list[Symbol] = []
        venue.public_ws = self

    async def start(self):
        self.venue.check("public_ws_start")
        self.up = True
        self.handlers.connection(ConnectionState.CONNECTED)

    async def subscribe(self, symbols):
        self.subscribed += symbols

    async def unsubscribe(self, symbols):
        self.subscribed = [s for s in self.subscribed if s not in symbols]


class FakePrivateRest(_Client):
    venue_name = "fake"

    def __init__(self, venue) -> None:
        super().__init__(venue, "private_rest")
        self._cids = itertools.count(1)
        self._rehearsing = False

    def new_client_order_id(self):
        return f"c{next(self._cids)}"

    async def get_balances(self):
        self.venue.check("balances")
        await asyncio.sleep(0)
        return dict(self.venue.balances)

    async def get_account_fees(self, symbol):
        self.venue.check("account_fees")
        await asyncio.sleep(0)
        return AccountFees(symbol, *self.venue.account_fees.get(symbol, (0.001, 0.002)))

    async def place_order(self, request: OrderRequest):
        return await self._reply(self._accept(request))

    def place_order_now(self, request: OrderRequest):
        """Written at once (the venue acts on it now) unless the venue has the lane closed."""
        written = self.write_order_now(request)
        return None if written is None else self.follow_order(request, written)

    def write_order_now(self, request: OrderRequest):
        """place_order_now's write: the venue acts on it now (its answer kept for follow_order),
        unless rehearsing (kept in venue.rehearsed, never seen by the venue)."""
        if not self.venue.lane_open:
            return None
        if self._rehearsing:
            self.venue.rehearsed.append(request)
            return "rehearsed"
        return self._accept(request)

    @contextlib.contextmanager
    def rehearsing(self):
        self._rehearsing = True
        try:
            yield
        finally:
            self._rehearsing = False

    def follow_order(self, request: OrderRequest, written):
        return self._reply(written)

    def order_bytes(self, request: OrderRequest) -> bytes:
        return f"PLACE {request.symbol} {request.side} {request.quantity}@{request.price} {request.client_order_id}".encode()

    def _accept(self, request: OrderRequest) -> Order | BaseException:
        """The venue's side of the write: the order it made, or its refusal (raised with the reply)."""
        venue = self.venue
        try:
            venue.check("place")
        except BaseException as exc:
            return exc
        oid = str(next(venue._ids))
        quantity, cid = request.quantity, request.client_order_id
        order = Order(request.symbol, oid, cid, request.side, request.order_type, request.price or 0.0, quantity,
                      OrderStatus.NEW, request.time_in_force, remaining_quantity=quantity, updated_at=1,
                      reduce_only=request.reduce_only)  # fmt: skip
        venue.orders[oid] = order
        if venue.ws_first:
            # The venue's stream tells of the order and its fill before its reply, read at the
            # loop's next pass at the earliest (as over a socket): never inside the write.
            asyncio.get_running_loop().call_soon(venue.push_private, "order", order)
            asyncio.get_running_loop().call_soon(venue.fill, oid, quantity)
        return order

    async def _reply(self, accepted: Order | BaseException) -> Order:
        venue = self.venue
        if isinstance(accepted, BaseException):
            raise accepted
        order = accepted
        await asyncio.sleep(0)
        if venue.lose_next_reply:
            venue.lose_next_reply = False
            raise OrderStatusUnknown("reply lost", venue="fake", client_order_id=order.client_order_id)
        if not venue.ws_first:
            venue.push_private("order", order)
        return Order(**{f: getattr(order, f) for f in order.__struct_fields__})

    def _find(self, order_id=None, client_order_id=None):
        for order in self.venue.orders.values():
            if order.order_id == order_id or (client_order_id and order.client_order_id == client_order_id):
                return order
        raise OrderNotFound(f"no order {order_id or client_order_id}", venue="fake")

    async def cancel_order(self, symbol, order_id=None, client_order_id=None):
        self.venue.check("cancel")
        order = self._find(order_id, client_order_id)
        if order.status.is_done:
            raise OrderNotFound("already finished", venue="fake")
        canceled = Order(**{f: getattr(order, f) for f in order.__struct_fields__})
        canceled.status = OrderStatus.CANCELED
        canceled.updated_at += 1
        self.venue.orders[order.order_id] = canceled
        self.venue.push_private("order", canceled)
        return canceled

    async def cancel_all_orders(self, symbol=None):
        return [
            await self.cancel_order(o.symbol, o.order_id)
            for o in list(self.venue.orders.values())
            if not o.status.is_done and (symbol is None or o.symbol == symbol)
        ]

    async def get_order(self, symbol, order_id=None, client_order_id=None):
        self.venue.check("get_order")
        await asyncio.sleep(0)
        return self._find(order_id, client_order_id)

    async def get_open_orders(self, symbol=None):
        self.venue.check("open_orders")
        await asyncio.sleep(0)
        return [o for o in self.venue.orders.values() if not o.status.is_done]

    async def get_my_trades(self, symbol, since_ms=None, limit=100):
        self.venue.check("my_trades")
        return [
            t
            for t in self.venue.trades
            if t.symbol == symbol and (since_ms is None or t.timestamp >= since_ms)
        ]

    async def get_fills_since(self, symbol, since_ms):
        return await self.get_my_trades(symbol, since_ms)

    # WithdrawalRest + WithdrawalNetworkRest
    async def withdraw(self, request):
        self.venue.check("withdraw")
        wid = f"w{len(self.venue.withdrawals) + 1}"
        resp = WithdrawalResponse(wid, request.asset, request.amount, request.address, request.network,
                                  WithdrawalStatus.PENDING)  # fmt: skip
        self.venue.withdrawals[wid] = resp
        return resp

    async def get_withdrawal(self, withdrawal_id=None, asset=None, *, client_id=None):
        return self.venue.withdrawals[withdrawal_id]

    async def get_withdrawal_networks(self, asset):
        return [WithdrawalNetwork(asset, "TRX", min_amount=5.0, address_regex=r"T[0-9A-Za-z]{33}")]


class FakeFuturesRest(FakePrivateRest):
    async def get_positions(self):
        self.venue.check("positions")
        return dict(self.venue.positions)

    async def set_leverage(self, symbol, leverage):
        return min(leverage, 50.0)

    async def set_margin_mode(self, symbol, cross, leverage):
        self.venue.calls.append(f"margin:{'cross' if cross else 'isolated'}")
        return leverage


class FakePrivateWs(_FakeStream):
    def __init__(self, venue, handlers: PrivateWebsocketHandlers) -> None:
        super().__init__(venue, "private_ws", handlers)
        venue.private_ws = self

    async def start(self):
        self.venue.check("private_ws_start")
        await asyncio.sleep(0)
        self.up = True
        self.handlers.connection(ConnectionState.CONNECTED)


class _FakeFactories:
    """Only the factory methods: the base classes do the rest."""

    fake: FakeVenue

    def _create_public_rest(self):
        return FakePublicRest(self.fake, "public_rest")

    def _create_public_ws_with_handlers(self, handlers):
        return FakePublicWs(self.fake, handlers)

    def _create_private_rest(self):
        return FakePrivateRest(self.fake)

    def _create_private_ws_with_handlers(self, handlers):
        return FakePrivateWs(self.fake, handlers)


def _config(market: Market) -> VenueConfig:
    return VenueConfig(
        Venue.GATEIO, market, "http://x", "ws://x", api_key=Secret("k"), api_secret=Secret("s")
    )


class FakeSpotExchange(_FakeFactories, WithdrawingPrivateExchange):
    def __init__(self, fake: FakeVenue, settings: CompositeSettings = FAST) -> None:
        self.fake = fake
        super().__init__(_config(Market.SPOT), settings=settings)


class FakeFuturesExchange(_FakeFactories, CompositePrivateFuturesExchange):
    def __init__(self, fake: FakeVenue, settings: CompositeSettings = FAST) -> None:
        self.fake = fake
        super().__init__(_config(Market.FUTURES), settings=settings)

    def _create_private_rest(self):
        return FakeFuturesRest(self.fake)


def long_position(symbol: Symbol, size: float) -> Position:
    return Position(symbol, PositionSide.LONG if size > 0 else PositionSide.SHORT, size, size * 10)
