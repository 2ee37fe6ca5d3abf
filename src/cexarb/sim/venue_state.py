"""A simulated venue's working state: one market's book and public data, one live order."""

from __future__ import annotations

from collections import deque

from cexarb.model.enums import OrderStatus
from cexarb.model.market import BookTicker, OrderBook, Trade
from cexarb.model.trading import Execution, Order
from cexarb.sim.accounts import SimAccountState
from cexarb.sim.engine import MatchingEngine, Resting, SimMarket
from cexarb.sim.events import BookDeltaEvent, SimEvent, TickerEvent
from cexarb.sim.order_checks import OrderPlan

_RECENT_TRADES = 1000
# First book sequence id: nonzero so "0 = never synced" stays distinguishable on the client.
_FIRST_BOOK_ID = 1000


class MarketState:
    """A market's book and public state."""

    __slots__ = ("rules", "engine", "seq", "trades", "reference", "last_price", "ticker_key")

    def __init__(self, rules: SimMarket) -> None:
        self.rules = rules
        self.engine = MatchingEngine(rules)
        self.seq = _FIRST_BOOK_ID
        self.trades: deque[Trade] = deque(maxlen=_RECENT_TRADES)
        self.reference = rules.initial_mid  # flow centre, the mark price of an empty book
        self.last_price = 0.0
        self.ticker_key: tuple[int, int, int, int] | None = None

    def snapshot(self, depth: int, now: int) -> OrderBook:
        """The book's top `depth` levels per side, stamped with the last delta's id."""
        rules = self.rules
        return OrderBook(
            symbol=rules.symbol,
            bids=[(rules.price_of(t), rules.qty_of(u)) for t, u in self.engine.bids.depth(depth)],
            asks=[(rules.price_of(t), rules.qty_of(u)) for t, u in self.engine.asks.depth(depth)],
            update_id=self.seq,
            timestamp=now,
        )

    def mark_price(self) -> float:
        """Mid of the book; else the last trade; else the flow's reference price."""
        bid = self.engine.best_bid()
        ask = self.engine.best_ask()
        if bid is not None and ask is not None:
            return round((bid + ask) * self.rules.tick / 2, self.rules.price_precision + 1)
        return self.last_price or self.reference

    def top_key(self) -> tuple[int, int, int, int]:
        """(bid ticks, bid units, ask ticks, ask units) of the top of the book, 0 for an empty side."""
        engine = self.engine
        bid = engine.best_bid()
        ask = engine.best_ask()
        return (
            bid or 0,
            engine.bids.units_at(bid) if bid is not None else 0,
            ask or 0,
            engine.asks.units_at(ask) if ask is not None else 0,
        )

    def ticker(self, now: int) -> BookTicker:
        """The best bid and ask now."""
        rules = self.rules
        bid, bid_units, ask, ask_units = self.top_key()
        return BookTicker(
            symbol=rules.symbol,
            # An empty side (key 0) has no price: None, as the client model has it.
            bid_price=rules.price_of(bid) if bid else None,
            bid_quantity=rules.qty_of(bid_units),
            ask_price=rules.price_of(ask) if ask else None,
            ask_quantity=rules.qty_of(ask_units),
            timestamp=now,
            update_id=self.seq,
        )

    def change_events(self, now: int, events: list[SimEvent]) -> None:
        """The book's pending changes as one delta (one new id), then the ticker if the top moved."""
        engine = self.engine
        if not engine.has_changes():
            return
        rules = self.rules
        bids, asks = engine.take_changes()
        self.seq += 1
        events.append(
            BookDeltaEvent(
                rules.symbol,
                self.seq,
                self.seq,
                [(rules.price_of(t), rules.qty_of(u)) for t, u in bids],
                [(rules.price_of(t), rules.qty_of(u)) for t, u in asks],
                now,
            )
        )
        top = self.top_key()
        if top != self.ticker_key:
            self.ticker_key = top
            events.append(TickerEvent(self.ticker(now)))


class OrderRecord:
    """The venue's working state of one live order (the model Order is its public face)."""

    __slots__ = ("order", "account", "market", "entry", "lock_asset", "locked", "units_left", "quote_total")

    def __init__(self, order: Order, account: SimAccountState, market: MarketState) -> None:
        self.order = order
        self.account = account
        self.market = market
        self.entry: Resting | None = None
        self.lock_asset = ""
        self.locked = 0.0
        self.units_left = 0
        self.quote_total = 0.0  # sum of price * qty of its fills (for the average price)

    @classmethod
    def open(
        cls,
        order_id: str,
        account: SimAccountState,
        market: MarketState,
        plan: OrderPlan,
        client_order_id: str,
        lock: tuple[str, float],
        now: int,
        sequence: int,
    ) -> OrderRecord:
        """A NEW order for `plan` holding `lock` (asset, amount); a quote-sized market buy has
        no quantity until it fills."""
        rules = market.rules
        sized = plan.quote_budget is None
        qty = rules.qty_of(plan.units) if sized else 0.0
        order = Order(
            symbol=rules.symbol,
            order_id=order_id,
            client_order_id=client_order_id,
            side=plan.side,
            order_type=plan.order_type,
            price=rules.price_of(plan.limit_ticks) if plan.limit_ticks is not None else 0.0,
            quantity=qty,
            status=OrderStatus.NEW,
            time_in_force=plan.tif,
            remaining_quantity=qty,
            created_at=now,
            updated_at=now,
            sequence=sequence,
            reduce_only=plan.reduce_only,
        )
        if not sized:
            order.quote_quantity = plan.quote_budget
        record = cls(order, account, market)
        record.units_left = plan.units
        record.lock_asset, record.locked = lock
        return record

    def fill(
        self,
        units: int,
        qty: float,
        price: float,
        fee: float,
        fee_asset: str,
        trade_id: str,
        is_maker: bool,
        now: int,
        sequence: int,
    ) -> Execution:
        """Apply one fill to the order's quantities, average price, fee and status."""
        order = self.order
        rules = self.market.rules
        self.units_left -= units
        self.quote_total += price * qty
        filled = round(order.filled_quantity + qty, rules.qty_precision)
        order.filled_quantity = filled
        if order.quote_quantity:
            order.quantity = filled
        else:
            order.remaining_quantity = rules.qty_of(self.units_left)
        order.average_price = self.quote_total / filled
        order.fee += fee
        order.fee_asset = fee_asset
        order.status = OrderStatus.FILLED if self.units_left == 0 else OrderStatus.PARTIALLY_FILLED
        order.updated_at = now
        order.sequence = sequence
        return Execution(
            symbol=rules.symbol,
            trade_id=trade_id,
            order_id=order.order_id,
            client_order_id=order.client_order_id,
            side=order.side,
            price=price,
            quantity=qty,
            fee=fee,
            fee_asset=fee_asset,
            is_maker=is_maker,
            timestamp=now,
        )

    def close(self, *, cancel: bool, now: int, sequence: int) -> None:
        """Set the final status: canceled (partly filled or not), else filled or, for a
        quote-sized market buy that got nothing, canceled."""
        order = self.order
        if cancel:
            order.status = (
                OrderStatus.PARTIALLY_CANCELED if order.filled_quantity > 0 else OrderStatus.CANCELED
            )
        elif order.quote_quantity or order.status is not OrderStatus.FILLED:
            # A quote-sized market buy is done when its budget is spent (or the book ran dry).
            order.status = OrderStatus.FILLED if order.filled_quantity > 0 else OrderStatus.CANCELED
        order.remaining_quantity = 0.0 if order.status is OrderStatus.FILLED else order.remaining_quantity
        order.updated_at = now
        order.sequence = sequence
