"""One simulated venue: markets, accounts, matching, settlement, events.

Venue-neutral: it speaks `cexarb.model` types and base-unit quantities (futures
too); each protocol front-end (`sim/gateio_spot.py`, ...) converts its wire
format at its edge. Every mutating call runs as one operation: state changes
first, then the events it caused are delivered synchronously, in order, to the
subscribers (book deltas first, then trades/ticker, then private events).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field

import msgspec

from cexarb.config import RateLimitPool
from cexarb.model.enums import OrderStatus, OrderType, Side, TimeInForce
from cexarb.model.market import BookTicker, OrderBook, Symbol, Trade
from cexarb.model.trading import AssetBalance, Execution, Order, Position, WithdrawalResponse
from cexarb.sim.accounts import BookEntry, SimAccountState
from cexarb.sim.clock import SimClock
from cexarb.sim.engine import MatchingEngine, RejectReason, Resting, SimMarket, SimReject
from cexarb.sim.events import (
    BalanceEvent,
    BookDeltaEvent,
    FillEvent,
    FundingEvent,
    OrderEvent,
    PositionEvent,
    SimEvent,
    TickerEvent,
    TradeEvent,
    WalletEvent,
)
from cexarb.sim.faults import SimStats, VenueFaults
from cexarb.sim.fees import FeeTier
from cexarb.sim.funding import DEFAULT_INTERVAL_S, FundingSchedule, funding_cap
from cexarb.sim.futures import (
    DEFAULT_LEVERAGE,
    MAINTENANCE_RATE,
    MAX_LEVERAGE,
    PositionState,
    order_margin,
)
from cexarb.sim.limits import SimRateLimits
from cexarb.sim.order_checks import check_order
from cexarb.sim.transfers import AddressOwner, Deposit, TransferNetwork, chain_of, make_address
from cexarb.sim.withdrawals import SimNetwork, WithdrawalDesk

__all__ = [
    "AccountTruth",
    "BalanceEvent",
    "BookDeltaEvent",
    "FillEvent",
    "FundingEvent",
    "OrderEvent",
    "PositionEvent",
    "RejectReason",
    "SimAccountState",
    "SimEvent",
    "SimMarket",
    "SimNetwork",
    "SimReject",
    "SimVenue",
    "TickerEvent",
    "TradeEvent",
]

_copy = msgspec.structs.replace
_RECENT_TRADES = 1000
# First book sequence id: nonzero so "0 = never synced" stays distinguishable on the client.
_FIRST_BOOK_ID = 1000


@dataclass(slots=True)
class AccountTruth:
    """What the venue knows about one account: the ground truth chaos tests compare against."""

    orders: dict[str, Order] = field(default_factory=dict)
    fills: list[Execution] = field(default_factory=list)
    balances: dict[str, AssetBalance] = field(default_factory=dict)
    positions: dict[Symbol, Position] = field(default_factory=dict)
    withdrawals: list[WithdrawalResponse] = field(default_factory=list)
    funding: float = 0.0  # futures: funding received (+) minus paid (-)
    deposits: list[Deposit] = field(default_factory=list)
    book: list[BookEntry] = field(default_factory=list)  # futures: every wallet balance change


class _OrderRecord:
    """The venue's working state of one live order (the model Order is its public face)."""

    __slots__ = ("order", "account", "market", "entry", "lock_asset", "locked", "units_left", "quote_total")

    def __init__(self, order: Order, account: SimAccountState, market: _Market) -> None:
        self.order = order
        self.account = account
        self.market = market
        self.entry: Resting | None = None
        self.lock_asset = ""
        self.locked = 0.0
        self.units_left = 0
        self.quote_total = 0.0  # sum of price * qty of its fills (for the average price)


class _Market:
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


class SimVenue:
    """A venue's whole state. All methods are synchronous and must run on one thread."""

    def __init__(
        self,
        key: str,
        markets: Mapping[Symbol, SimMarket] | list[SimMarket],
        *,
        is_futures: bool = False,
        rate_limits: Mapping[str, RateLimitPool] | None = None,
        rate_limits_enabled: bool = True,
        networks: dict[str, list[SimNetwork]] | None = None,
        withdrawal_delay_s: float = 1.0,
        order_id_prefix: str = "",
        settle_asset: str = "USDT",
        funding_interval_s: int = DEFAULT_INTERVAL_S,
        clock: SimClock | None = None,
    ) -> None:
        self.key = key
        self.is_futures = is_futures
        self.settle_asset = settle_asset
        # Venues served by one host (Gate spot and futures) share its clock, and its skew.
        self.clock = clock if clock is not None else SimClock()
        self.stats = SimStats()
        self.faults = VenueFaults(self.clock, self.stats)
        self.limits = SimRateLimits(rate_limits, enabled=rate_limits_enabled)
        items = markets.values() if isinstance(markets, Mapping) else markets
        self.markets: dict[Symbol, SimMarket] = {m.symbol: m for m in items}
        self._books: dict[Symbol, _Market] = {s: _Market(m) for s, m in self.markets.items()}
        self._accounts: dict[str, SimAccountState] = {}
        self._positions: dict[tuple[str, Symbol], PositionState] = {}
        self._withdrawals = WithdrawalDesk({} if is_futures else (networks or {}), withdrawal_delay_s)
        self._order_id_prefix = order_id_prefix
        self._next_order_id = 100_000_001
        self._next_trade_id = 1_000_001
        self._next_book_id = 1
        # Futures funding; the index a premium is measured against comes from `index_source`
        # (the harness points it at the market's fundamental), else the venue's own reference.
        self.funding: FundingSchedule | None = (
            FundingSchedule(
                funding_interval_s, funding_cap(MAX_LEVERAGE, MAINTENANCE_RATE), self.clock.now_s()
            )
            if is_futures
            else None
        )
        self.index_source: Callable[[Symbol], float] | None = None
        # The chain to the other simulated venues (set by the harness): withdrawals to their
        # deposit addresses arrive there.
        self.transfer_network: TransferNetwork | None = None
        self._addresses: dict[tuple[str, str, str], str] = {}
        self._next_deposit_id = 7_000_001
        self._version = 0  # venue-wide update counter, stamped into Order.sequence
        # Conservation accounting per asset: what came in with the accounts, what left their balances.
        self.deposited: dict[str, float] = {}
        self.fees_collected: dict[str, float] = {}
        self.withdrawn: dict[str, float] = {}
        # Event delivery.
        self._subscribers: list[Callable[[SimEvent], None]] = []
        self._depth = 0
        self._flushing = False
        self._pending: list[SimEvent] = []
        self._dirty_books: dict[Symbol, _Market] = {}
        self._dirty_balances: dict[tuple[str, str], SimAccountState] = {}
        self._dirty_positions: dict[tuple[str, Symbol], SimAccountState] = {}

    def __repr__(self) -> str:
        return f"SimVenue({self.key!r}, markets={len(self.markets)}, accounts={len(self._accounts)})"

    # ---- accounts ----

    def add_account(
        self,
        api_key: str,
        api_secret: str,
        user_id: int,
        balances: Mapping[str, float] | None = None,
        *,
        internal: bool = False,
        maker_fee: float | None = None,
        taker_fee: float | None = None,
        fee_tier: FeeTier | None = None,
    ) -> SimAccountState:
        """Open an account. A futures venue keeps only its settle asset (margin) balance."""
        if api_key in self._accounts:
            raise ValueError(f"account {api_key[:3]}*** already exists on {self.key}")
        bals = dict(balances or {})
        if self.is_futures:
            bals = {self.settle_asset: float(bals.get(self.settle_asset, 0.0))}
        account = SimAccountState(api_key, api_secret, user_id, bals, internal=internal)
        for asset, amount in bals.items():
            self.deposited[asset] = self.deposited.get(asset, 0.0) + float(amount)
        account.maker_fee = maker_fee
        account.taker_fee = taker_fee
        if fee_tier is not None:
            account.fee_tier = fee_tier
        self._accounts[api_key] = account
        opening = bals.get(self.settle_asset, 0.0)
        if self.is_futures and not internal and opening:
            self._book(account, opening, "dnw")
        return account

    def account(self, api_key: str) -> SimAccountState | None:
        return self._accounts.get(api_key)

    def accounts(self) -> list[SimAccountState]:
        return list(self._accounts.values())

    def _need_account(self, api_key: str) -> SimAccountState:
        account = self._accounts.get(api_key)
        if account is None:
            raise KeyError(f"no account with that API key on {self.key}")
        return account

    def _need_market(self, symbol: Symbol) -> _Market:
        book = self._books.get(symbol)
        if book is None:
            raise SimReject(RejectReason.UNKNOWN_SYMBOL, f"{symbol} is not listed on {self.key}")
        return book

    # ---- events ----

    def subscribe(self, callback: Callable[[SimEvent], None]) -> Callable[[], None]:
        self._subscribers.append(callback)

        def unsubscribe() -> None:
            if callback in self._subscribers:
                self._subscribers.remove(callback)

        return unsubscribe

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Group several calls into one operation: one book delta per symbol, events at the end."""
        self._depth += 1
        try:
            yield
        finally:
            self._depth -= 1
            if not self._depth:
                self._flush()

    def _flush(self) -> None:
        if self._flushing:
            return  # a subscriber called back into the venue; the running loop delivers the rest
        self._flushing = True
        try:
            while self._dirty_books or self._pending or self._dirty_balances or self._dirty_positions:
                events: list[SimEvent] = []
                if self._dirty_books:
                    books = list(self._dirty_books.values())
                    self._dirty_books.clear()
                    now = self.clock.now_ms()
                    for book in books:
                        self._book_events(book, now, events)
                if self._pending:
                    events.extend(self._pending)
                    self._pending.clear()
                if self._dirty_balances:
                    for (_, asset), account in self._dirty_balances.items():
                        events.append(BalanceEvent(account.api_key, _copy(account.balance(asset))))
                    self._dirty_balances.clear()
                if self._dirty_positions:
                    for (_, symbol), account in self._dirty_positions.items():
                        events.append(PositionEvent(account.api_key, self._position_model(account, symbol)))
                    self._dirty_positions.clear()
                if self._subscribers:
                    for event in events:
                        for callback in tuple(self._subscribers):
                            callback(event)
        finally:
            self._flushing = False

    def _book_events(self, book: _Market, now: int, events: list) -> None:
        """Pending trades, then one delta (one new id), then the ticker if the top changed."""
        engine = book.engine
        if engine.has_changes():
            rules = book.rules
            bids, asks = engine.take_changes()
            book.seq += 1
            events.append(
                BookDeltaEvent(
                    rules.symbol,
                    book.seq,
                    book.seq,
                    [(rules.price_of(t), rules.qty_of(u)) for t, u in bids],
                    [(rules.price_of(t), rules.qty_of(u)) for t, u in asks],
                    now,
                )
            )
            top = self._top_key(book)
            if top != book.ticker_key:
                book.ticker_key = top
                events.append(TickerEvent(self._ticker(book, now)))

    def _op(self) -> _Op:
        return _Op(self)

    def _touch_balance(self, account: SimAccountState, asset: str) -> None:
        if not account.internal:
            self._dirty_balances[(account.api_key, asset)] = account

    def _emit_order(self, record: _OrderRecord) -> None:
        if not record.account.internal:
            self._pending.append(OrderEvent(record.account.api_key, _copy(record.order)))

    # ---- market data ----

    def snapshot(self, symbol: Symbol, depth: int = 100) -> OrderBook:
        book = self._need_market(symbol)
        rules = book.rules
        return OrderBook(
            symbol=symbol,
            bids=[(rules.price_of(t), rules.qty_of(u)) for t, u in book.engine.bids.depth(depth)],
            asks=[(rules.price_of(t), rules.qty_of(u)) for t, u in book.engine.asks.depth(depth)],
            update_id=book.seq,
            timestamp=self.clock.now_ms(),
        )

    def book_id(self, symbol: Symbol) -> int:
        """The id of the last emitted book delta (equal to `snapshot().update_id`)."""
        return self._need_market(symbol).seq

    def ticker(self, symbol: Symbol) -> BookTicker:
        return self._ticker(self._need_market(symbol), self.clock.now_ms())

    def _top_key(self, book: _Market) -> tuple[int, int, int, int]:
        engine = book.engine
        bid = engine.best_bid()
        ask = engine.best_ask()
        return (
            bid or 0,
            engine.bids.units_at(bid) if bid is not None else 0,
            ask or 0,
            engine.asks.units_at(ask) if ask is not None else 0,
        )

    def _ticker(self, book: _Market, now: int) -> BookTicker:
        rules = book.rules
        bid, bid_units, ask, ask_units = self._top_key(book)
        return BookTicker(
            symbol=rules.symbol,
            # An empty side (key 0) has no price: None, as the client model has it.
            bid_price=rules.price_of(bid) if bid else None,
            bid_quantity=rules.qty_of(bid_units),
            ask_price=rules.price_of(ask) if ask else None,
            ask_quantity=rules.qty_of(ask_units),
            timestamp=now,
            update_id=book.seq,
        )

    def recent_trades(self, symbol: Symbol, limit: int = 100) -> list[Trade]:
        trades = self._need_market(symbol).trades
        if limit >= len(trades):
            return list(trades)
        return list(trades)[-limit:]

    def mark_price(self, symbol: Symbol) -> float:
        """Mid of the book; else the last trade; else the flow's reference price."""
        book = self._need_market(symbol)
        bid = book.engine.best_bid()
        ask = book.engine.best_ask()
        rules = book.rules
        if bid is not None and ask is not None:
            return round((bid + ask) * rules.tick / 2, rules.price_precision + 1)
        return book.last_price or book.reference

    def reference_price(self, symbol: Symbol) -> float:
        return self._need_market(symbol).reference

    def set_reference_price(self, symbol: Symbol, price: float) -> None:
        self._need_market(symbol).reference = price

    # ---- trading ----

    def place_order(
        self,
        api_key: str,
        symbol: Symbol,
        side: Side,
        order_type: OrderType,
        quantity: float,
        price: float | None,
        tif: TimeInForce = TimeInForce.GTC,
        client_order_id: str = "",
        reduce_only: bool = False,
        quote_quantity: float | None = None,
    ) -> Order:
        """Validate, lock funds, match, then rest or finish the order. Raises SimReject."""
        account = self._need_account(api_key)
        if self.faults.matching_paused:
            raise SimReject(RejectReason.MATCHING_PAUSED, f"{self.key} matching engine is paused")
        book = self._need_market(symbol)
        rules = book.rules
        engine = book.engine
        if client_order_id and client_order_id in account.client_ids:
            raise SimReject(
                RejectReason.DUPLICATE_CLIENT_ID, f"client order id {client_order_id!r} already used"
            )
        position = self._position(account, symbol) if self.is_futures else None
        plan = check_order(
            rules,
            engine,
            side,
            order_type,
            quantity,
            price,
            tif,
            reduce_only=reduce_only,
            quote_quantity=quote_quantity,
            position_size=position.size if position is not None else None,
        )
        if isinstance(plan, SimReject):
            raise plan
        tif, is_market, limit_ticks, units, quote_budget = (
            plan.tif,
            plan.is_market,
            plan.limit_ticks,
            plan.units,
            plan.quote_budget,
        )

        # Funds to lock for the whole order.
        if self.is_futures:
            lock_asset = self.settle_asset
            if reduce_only:
                lock = 0.0
            else:
                notional = self._notional_estimate(book, side, limit_ticks, units)
                lock = order_margin(notional, position.leverage, self._taker_fee(account, rules))
        elif side is Side.BUY:
            lock_asset = symbol.quote
            if quote_budget is not None:
                lock = quote_budget
            else:
                lock = self._notional_estimate(book, side, limit_ticks, units)
        else:
            lock_asset = symbol.base
            lock = rules.qty_of(units)

        with self._op():
            if lock > 0:
                account.lock(lock_asset, lock)
                self._touch_balance(account, lock_asset)
            now = self.clock.now_ms()
            order = Order(
                symbol=symbol,
                order_id=self._new_order_id(),
                client_order_id=client_order_id,
                side=side,
                order_type=order_type,
                price=rules.price_of(limit_ticks) if limit_ticks is not None else 0.0,
                quantity=rules.qty_of(units) if quote_budget is None else 0.0,
                status=OrderStatus.NEW,
                time_in_force=tif,
                remaining_quantity=rules.qty_of(units) if quote_budget is None else 0.0,
                created_at=now,
                updated_at=now,
                sequence=self._bump(),
                reduce_only=reduce_only,
            )
            if quote_budget is not None:
                order.quote_quantity = quote_budget
            record = _OrderRecord(order, account, book)
            record.lock_asset = lock_asset
            record.locked = lock
            record.units_left = units
            account.orders[order.order_id] = order
            if client_order_id:
                account.client_ids[client_order_id] = order.order_id
            self._emit_order(record)

            fills = engine.match(side, limit_ticks, units, quote_budget)
            if fills:
                self._dirty_books[symbol] = book
                for fill in fills:
                    self._settle_fill(book, record, fill.maker.owner, fill.units, fill.ticks, now)
            rests = (
                not is_market
                and record.units_left > 0
                and tif in (TimeInForce.GTC, TimeInForce.POST_ONLY)
                and quote_budget is None
            )
            if rests:
                entry = Resting(record, side, limit_ticks, record.units_left)
                record.entry = entry
                engine.add(entry)
                self._dirty_books[symbol] = book
                account.open_orders[order.order_id] = record
                self._trim_lock(record)
                if fills:
                    self._emit_order(record)
            else:
                self._finish(record, cancel=record.units_left > 0 and quote_budget is None)
            if fills and self.is_futures:
                touched = {id(f.maker.owner.account): f.maker.owner.account for f in fills}
                touched[id(account)] = account
                self._enforce_reduce_only(book, touched)
            return _copy(order)

    def _enforce_reduce_only(self, book: _Market, accounts: dict[int, SimAccountState]) -> None:
        """Cancel resting reduce-only orders that a position change made opening or too large."""
        symbol = book.rules.symbol
        for account in accounts.values():
            size = self._position(account, symbol).size
            for record in list(account.open_orders.values()):
                order = record.order
                if not order.reduce_only or order.symbol != symbol:
                    continue
                opens = not size or (size > 0) == (order.side is Side.BUY)
                if opens or order.remaining_quantity > abs(size) + 1e-12:
                    self._cancel(record)

    def _notional_estimate(self, book: _Market, side: Side, limit_ticks: int | None, units: int) -> float:
        """Quote needed for `units`: at the limit price, or by walking the book for a market order."""
        rules = book.rules
        if limit_ticks is not None:
            return rules.price_of(limit_ticks) * rules.qty_of(units)
        _, tick_units = book.engine.cost_of(side, units)
        return tick_units * rules.tick * rules.step

    def _trim_lock(self, record: _OrderRecord) -> None:
        """After taking, a resting order keeps locked exactly what its remainder needs."""
        book = record.market
        rules = book.rules
        order = record.order
        if self.is_futures:
            if order.reduce_only:
                return
            position = self._position(record.account, rules.symbol)
            need = order_margin(
                order.price * rules.qty_of(record.units_left),
                position.leverage,
                self._taker_fee(record.account, rules),
            )
        elif order.side is Side.BUY:
            need = order.price * rules.qty_of(record.units_left)
        else:
            need = rules.qty_of(record.units_left)
        excess = record.locked - need
        if excess > 1e-12:
            record.account.unlock(record.lock_asset, excess)
            record.locked = need
            self._touch_balance(record.account, record.lock_asset)

    def _settle_fill(
        self, book: _Market, taker: _OrderRecord, maker: _OrderRecord, units: int, ticks: int, now: int
    ) -> None:
        rules = book.rules
        qty = rules.qty_of(units)
        price = rules.price_of(ticks)
        trade_id = str(self._next_trade_id)
        self._next_trade_id += 1
        trade = Trade(rules.symbol, price, qty, taker.order.side, now, trade_id)
        book.trades.append(trade)
        book.last_price = price
        self._pending.append(TradeEvent(trade))
        for record, is_maker in ((maker, True), (taker, False)):
            self._apply_fill(record, is_maker, units, qty, price, trade_id, now)
        if maker.units_left == 0:
            maker.account.open_orders.pop(maker.order.order_id, None)
            self._finish(maker, cancel=False)

    def _apply_fill(
        self,
        record: _OrderRecord,
        is_maker: bool,
        units: int,
        qty: float,
        price: float,
        trade_id: str,
        now: int,
    ) -> None:
        account = record.account
        order = record.order
        rules = record.market.rules
        symbol = rules.symbol
        notional = price * qty
        rate = self._maker_fee(account, rules) if is_maker else self._taker_fee(account, rules)
        if self.is_futures:
            fee_asset = self.settle_asset
            fee = notional * rate
            if record.locked and record.units_left:
                share = record.locked * units / record.units_left
                account.unlock(fee_asset, share)
                record.locked -= share
            position = self._position(account, symbol)
            realized, margin_delta = position.apply_fill(order.side.sign * qty, price, rules.qty_precision)
            position.updated_at = now
            account.credit(fee_asset, realized - margin_delta - fee)
            account.add_locked(fee_asset, margin_delta)
            self._touch_balance(account, fee_asset)
            if not account.internal:
                self._dirty_positions[(account.api_key, symbol)] = account
                if realized:
                    self._book(account, realized, "pnl", symbol, trade_id, balance_after=fee)
                self._book(account, -fee, "fee", symbol, trade_id)
        else:
            # Spot: pay from what the order locked, receive the other asset less the fee.
            if order.side is Side.BUY:
                paid_asset, paid, fee_asset, received = symbol.quote, notional, symbol.base, qty
            else:
                paid_asset, paid, fee_asset, received = symbol.base, qty, symbol.quote, notional
            fee = received * rate
            account.spend_locked(paid_asset, paid)
            record.locked -= paid
            token = self._fee_in_token(account, notional * rate) if fee > 0 else None
            if token is not None:
                # Discount-token mode: the full amount received, the fee taken in the token.
                account.credit(fee_asset, received)
                self._touch_balance(account, fee_asset)
                fee_asset, fee = token
                account.credit(fee_asset, -fee)
            else:
                account.credit(fee_asset, received - fee)
            self._touch_balance(account, paid_asset)
            self._touch_balance(account, fee_asset)
        self.fees_collected[fee_asset] = self.fees_collected.get(fee_asset, 0.0) + fee

        record.units_left -= units
        record.quote_total += notional
        filled = round(order.filled_quantity + qty, rules.qty_precision)
        order.filled_quantity = filled
        if order.quote_quantity:
            order.quantity = filled
        else:
            order.remaining_quantity = rules.qty_of(record.units_left)
        order.average_price = record.quote_total / filled
        order.fee += fee
        order.fee_asset = fee_asset
        order.status = OrderStatus.FILLED if record.units_left == 0 else OrderStatus.PARTIALLY_FILLED
        order.updated_at = now
        order.sequence = self._bump()
        execution = Execution(
            symbol=symbol,
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
        account.fills.append(execution)
        if not account.internal:
            self._pending.append(FillEvent(account.api_key, execution))
            if is_maker:
                self._emit_order(record)

    def _finish(self, record: _OrderRecord, *, cancel: bool) -> None:
        """Close the order: release what it still locks, set its final status, emit it."""
        order = record.order
        account = record.account
        if record.locked:
            account.unlock(record.lock_asset, record.locked)
            record.locked = 0.0
            self._touch_balance(account, record.lock_asset)
        if cancel:
            order.status = (
                OrderStatus.PARTIALLY_CANCELED if order.filled_quantity > 0 else OrderStatus.CANCELED
            )
        elif order.quote_quantity or order.status is not OrderStatus.FILLED:
            # A quote-sized market buy is done when its budget is spent (or the book ran dry).
            order.status = OrderStatus.FILLED if order.filled_quantity > 0 else OrderStatus.CANCELED
        order.remaining_quantity = 0.0 if order.status is OrderStatus.FILLED else order.remaining_quantity
        order.updated_at = self.clock.now_ms()
        order.sequence = self._bump()
        self._emit_order(record)
        if account.internal:
            account.orders.pop(order.order_id, None)
            if order.client_order_id:
                account.client_ids.pop(order.client_order_id, None)

    def cancel_order(
        self,
        api_key: str,
        symbol: Symbol,
        order_id: str | None = None,
        client_order_id: str | None = None,
    ) -> Order:
        account = self._need_account(api_key)
        order = self._lookup(account, symbol, order_id, client_order_id)
        record = account.open_orders.get(order.order_id)
        if record is None:
            raise SimReject(
                RejectReason.ORDER_NOT_FOUND, f"order {order.order_id} is already {order.status.value}"
            )
        with self._op():
            self._cancel(record)
        return _copy(order)

    def _cancel(self, record: _OrderRecord) -> None:
        book = record.market
        if record.entry is not None:
            book.engine.remove(record.entry)
            record.entry = None
            self._dirty_books[book.rules.symbol] = book
        record.account.open_orders.pop(record.order.order_id, None)
        self._finish(record, cancel=True)

    def cancel_all(self, api_key: str, symbol: Symbol | None = None, side: Side | None = None) -> list[Order]:
        account = self._need_account(api_key)
        if symbol is not None:
            self._need_market(symbol)
        victims = [
            r
            for r in account.open_orders.values()
            if (symbol is None or r.order.symbol == symbol) and (side is None or r.order.side is side)
        ]
        with self._op():
            for record in victims:
                self._cancel(record)
        return [_copy(r.order) for r in victims]

    def get_order(
        self,
        api_key: str,
        symbol: Symbol,
        order_id: str | None = None,
        client_order_id: str | None = None,
    ) -> Order:
        return _copy(self._lookup(self._need_account(api_key), symbol, order_id, client_order_id))

    def _lookup(
        self, account: SimAccountState, symbol: Symbol, order_id: str | None, client_order_id: str | None
    ) -> Order:
        if order_id is None and client_order_id:
            order_id = account.client_ids.get(client_order_id)
        order = account.orders.get(order_id) if order_id else None
        if order is None or order.symbol != symbol:
            wanted = order_id or client_order_id
            raise SimReject(RejectReason.ORDER_NOT_FOUND, f"no order {wanted!r} on {symbol}")
        return order

    def open_orders(self, api_key: str, symbol: Symbol | None = None) -> list[Order]:
        account = self._need_account(api_key)
        return [
            _copy(r.order) for r in account.open_orders.values() if symbol is None or r.order.symbol == symbol
        ]

    def my_trades(
        self,
        api_key: str,
        symbol: Symbol | None = None,
        since_ms: int | None = None,
        limit: int = 100,
    ) -> list[Execution]:
        """Oldest first: the first `limit` fills at/after `since_ms`, or the latest `limit` without it."""
        fills = [
            f
            for f in self._need_account(api_key).fills
            if (symbol is None or f.symbol == symbol) and (since_ms is None or f.timestamp >= since_ms)
        ]
        return fills[:limit] if since_ms is not None else fills[-limit:] if limit else []

    def balances(self, api_key: str) -> dict[str, AssetBalance]:
        return {a: _copy(b) for a, b in self._need_account(api_key).balances.items()}

    # ---- futures ----

    def _position(self, account: SimAccountState, symbol: Symbol) -> PositionState:
        key = (account.api_key, symbol)
        position = self._positions.get(key)
        if position is None:
            leverage = account.leverage.get(symbol, DEFAULT_LEVERAGE)
            position = self._positions[key] = PositionState(symbol, leverage)
        return position

    def _position_model(self, account: SimAccountState, symbol: Symbol) -> Position:
        rules = self.markets[symbol]
        return self._position(account, symbol).to_model(
            self.mark_price(symbol), rules.contract_size, rules.price_precision
        )

    def positions(self, api_key: str) -> dict[Symbol, Position]:
        """Every contract's position of the account (flat ones included), futures only."""
        account = self._need_account(api_key)
        if not self.is_futures:
            return {}
        return {symbol: self._position_model(account, symbol) for symbol in self.markets}

    def set_leverage(self, api_key: str, symbol: Symbol, leverage: float) -> float:
        account = self._need_account(api_key)
        self._need_market(symbol)
        if not self.is_futures:
            raise SimReject(RejectReason.INVALID_LEVERAGE, "leverage applies to futures only")
        if not 1.0 <= leverage <= MAX_LEVERAGE:
            raise SimReject(RejectReason.INVALID_LEVERAGE, f"leverage must be within 1..{MAX_LEVERAGE:g}")
        position = self._position(account, symbol)
        with self._op():
            if position.size:
                new_margin = abs(position.size) * position.entry_price / leverage
                delta = new_margin - position.margin
                if delta > 0:
                    account.lock(self.settle_asset, delta)
                else:
                    account.unlock(self.settle_asset, -delta)
                position.margin = new_margin
                self._touch_balance(account, self.settle_asset)
            position.leverage = float(leverage)
            account.leverage[symbol] = float(leverage)
            if not account.internal:
                self._dirty_positions[(api_key, symbol)] = account
        return position.leverage

    def fee_rates(self, api_key: str, symbol: Symbol) -> tuple[float, float]:
        """(maker, taker) this account pays on `symbol`: its own tier, else the market's."""
        account = self._need_account(api_key)
        rules = self._need_market(symbol).rules
        return self._maker_fee(account, rules), self._taker_fee(account, rules)

    @staticmethod
    def _fee_in_token(account: SimAccountState, quote_value: float) -> tuple[str, float] | None:
        """(token, amount) when the account pays this fee (worth `quote_value` at the full
        rate) in its discount token; None when off or the token balance does not cover it
        (both venues then charge the normal rate in the usual asset)."""
        tier = account.fee_tier
        if not tier.token:
            return None
        amount = tier.token_amount(quote_value)
        held = account.balances.get(tier.token)
        if amount <= 0 or held is None or held.available < amount:
            return None
        return tier.token, amount

    def _maker_fee(self, account: SimAccountState, rules: SimMarket) -> float:
        return rules.maker_fee if account.maker_fee is None else account.maker_fee

    def _taker_fee(self, account: SimAccountState, rules: SimMarket) -> float:
        return rules.taker_fee if account.taker_fee is None else account.taker_fee

    def _book(
        self,
        account: SimAccountState,
        change: float,
        kind: str,
        symbol: Symbol | None = None,
        trade_id: str = "",
        *,
        balance_after: float = 0.0,
    ) -> None:
        """Record a wallet change; `balance_after` = changes already applied but booked later."""
        total = account.balance(self.settle_asset).total + balance_after
        account.book.append(
            BookEntry(self._next_book_id, self.clock.now_ms(), change, total, kind, symbol, trade_id)
        )
        self._next_book_id += 1

    # ---- funding ----

    def index_price(self, symbol: Symbol) -> float:
        """The price a perpetual's premium is measured against."""
        if self.index_source is not None:
            price = self.index_source(symbol)
            if price > 0:
                return price
        return self.reference_price(symbol)

    def sample_funding(self) -> None:
        """Record every contract's premium over its index now (the rate follows their average)."""
        if self.funding is None:
            return
        for symbol in self.markets:
            self.funding.sample(symbol, self.mark_price(symbol), self.index_price(symbol))

    def funding_rate(self, symbol: Symbol) -> float:
        return self.funding.rate(symbol) if self.funding is not None else 0.0

    def settle_funding(self) -> dict[Symbol, float]:
        """Apply every contract's current rate to every open position now: value at the mark
        times the rate, longs pay shorts when it is positive. Returns the rates applied."""
        schedule = self.funding
        if schedule is None:
            return {}
        rates = {symbol: schedule.rate(symbol) for symbol in self.markets}
        now = self.clock.now_ms()
        with self._op():
            for (api_key, symbol), position in self._positions.items():
                if not position.size or not rates[symbol]:
                    continue
                account = self._accounts[api_key]
                amount = -position.size * self.mark_price(symbol) * rates[symbol]
                account.credit(self.settle_asset, amount)
                account.funding += amount
                self._touch_balance(account, self.settle_asset)
                if not account.internal:
                    self._book(account, amount, "fund", symbol)
                    total = account.balance(self.settle_asset).total
                    self._pending.append(FundingEvent(api_key, symbol, amount, total, rates[symbol], now))
            schedule.settled(now / 1000)
        return rates

    # ---- withdrawals ----

    def network_config(self, asset: str) -> list[SimNetwork]:
        return self._withdrawals.network_config(asset)

    def withdraw(
        self,
        api_key: str,
        asset: str,
        amount: float,
        address: str,
        network: str,
        memo: str | None = None,
        client_id: str | None = None,
    ) -> WithdrawalResponse:
        account = self._need_account(api_key)
        net = self._withdrawals.validate(asset, amount, address, network)
        asset = asset.upper()
        bal = account.balance(asset)
        if amount > bal.available + 1e-12:
            raise SimReject(
                RejectReason.INSUFFICIENT_BALANCE,
                f"{asset}: withdraw {amount:g}, available {bal.available:g}",
            )
        with self._op():
            account.credit(asset, -amount)
            self.withdrawn[asset] = self.withdrawn.get(asset, 0.0) + amount
            if not account.internal:
                self._pending.append(WalletEvent(api_key, asset, "withdraw"))
            record = self._withdrawals.create(asset, amount, address, net, self.clock.now_ms())
            account.withdrawals.append(record)
            self._touch_balance(account, asset)
        if self.transfer_network is not None:
            self.transfer_network.on_withdrawal(self, _copy(record), self._withdrawals.delay_s)
        return _copy(record)

    def withdrawals(self, api_key: str, asset: str | None = None) -> list[WithdrawalResponse]:
        account = self._need_account(api_key)
        return [
            _copy(self._withdrawals.refresh(w))
            for w in account.withdrawals
            if asset is None or w.asset == asset.upper()
        ]

    def cancel_withdrawal(self, api_key: str, withdrawal_id: str) -> WithdrawalResponse:
        """Cancel a withdrawal still PENDING and refund it; otherwise return it unchanged."""
        account = self._need_account(api_key)
        record = next((w for w in account.withdrawals if w.withdrawal_id == withdrawal_id), None)
        if record is None:
            raise SimReject(RejectReason.ORDER_NOT_FOUND, f"no withdrawal {withdrawal_id!r}")
        if self._withdrawals.cancel(record):
            with self._op():
                account.credit(record.asset, record.amount)
                self.withdrawn[record.asset] -= record.amount
                self._touch_balance(account, record.asset)
        return _copy(record)

    # ---- deposits ----

    def deposit_networks(self, asset: str) -> list[SimNetwork]:
        """The networks `asset` can be deposited on here (the ones it withdraws on)."""
        return self._withdrawals.network_config(asset)

    def deposit_address(self, api_key: str, asset: str, network: str) -> str:
        """The account's address for `asset` on `network` (stable; registered with the chain)."""
        account = self._need_account(api_key)
        asset = asset.upper()
        net = next((n for n in self.deposit_networks(asset) if n.network.upper() == network.upper()), None)
        if net is None:
            known = ", ".join(n.network for n in self.deposit_networks(asset)) or "none"
            raise SimReject(
                RejectReason.WITHDRAW_INVALID_NETWORK,
                f"{asset} cannot be deposited on {network!r} here; networks: {known}",
            )
        key = (api_key, asset, net.network)
        address = self._addresses.get(key)
        if address is None:
            chain = chain_of(net.network)
            address = make_address(chain, f"{self.key}|{account.user_id}|{asset}|{chain}")
            self._addresses[key] = address
            if self.transfer_network is not None:
                self.transfer_network.register(
                    address, AddressOwner(self.key, api_key, asset, chain, net.network)
                )
        return address

    def begin_deposit(
        self, api_key: str, asset: str, amount: float, network: str, address: str, tx_id: str
    ) -> Deposit:
        """A deposit seen on chain, not yet confirmed (nothing credited yet)."""
        account = self._need_account(api_key)
        deposit = Deposit(
            str(self._next_deposit_id), asset, amount, network, address, tx_id, self.clock.now_ms()
        )
        self._next_deposit_id += 1
        account.deposits.append(deposit)
        return deposit

    def complete_deposit(self, api_key: str, deposit_id: str) -> Deposit:
        """Confirmed: credit the deposit to the account's available balance."""
        account = self._need_account(api_key)
        deposit = next(d for d in account.deposits if d.deposit_id == deposit_id)
        if deposit.done:
            return deposit
        with self._op():
            deposit.done = True
            deposit.confirmations = 12
            account.credit(deposit.asset, deposit.amount)
            self.deposited[deposit.asset] = self.deposited.get(deposit.asset, 0.0) + deposit.amount
            self._pending.append(WalletEvent(api_key, deposit.asset, "deposit"))
            self._touch_balance(account, deposit.asset)
        return deposit

    def deposits(self, api_key: str, asset: str | None = None) -> list[Deposit]:
        return [d for d in self._need_account(api_key).deposits if asset is None or d.asset == asset.upper()]

    # ---- ground truth ----

    def truth(self, api_key: str) -> AccountTruth:
        account = self._need_account(api_key)
        return AccountTruth(
            orders={oid: _copy(o) for oid, o in account.orders.items()},
            fills=list(account.fills),
            balances=self.balances(api_key),
            positions={s: p for s, p in self.positions(api_key).items() if p.size} if self.is_futures else {},
            withdrawals=self.withdrawals(api_key),
            funding=account.funding,
            book=list(account.book),
            deposits=list(account.deposits),
        )

    def asset_totals(self) -> dict[str, float]:
        """Per asset: all accounts' totals (synthetic traders included) + fees collected + withdrawn,
        plus, on futures, every position's unrealized PnL at the mark. Equals `deposited` at all times."""
        totals: dict[str, float] = {}
        for source in (
            *({a: b.total for a, b in acc.balances.items()} for acc in self._accounts.values()),
            self.fees_collected,
            self.withdrawn,
        ):
            for asset, amount in source.items():
                totals[asset] = totals.get(asset, 0.0) + amount
        if self.is_futures:
            marks = {symbol: self.mark_price(symbol) for symbol in self.markets}
            unrealized = sum(p.unrealized(marks[p.symbol]) for p in self._positions.values())
            totals[self.settle_asset] = totals.get(self.settle_asset, 0.0) + unrealized
        return totals

    # ---- helpers ----

    def _new_order_id(self) -> str:
        oid = f"{self._order_id_prefix}{self._next_order_id}"
        self._next_order_id += 1
        return oid

    def _bump(self) -> int:
        self._version += 1
        return self._version


class _Op:
    """One venue operation: events are delivered when the outermost one ends."""

    __slots__ = ("venue",)

    def __init__(self, venue: SimVenue) -> None:
        self.venue = venue

    def __enter__(self) -> None:
        self.venue._depth += 1

    def __exit__(self, *exc) -> None:
        venue = self.venue
        venue._depth -= 1
        if not venue._depth:
            venue._flush()
