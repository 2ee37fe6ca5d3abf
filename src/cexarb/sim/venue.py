"""One simulated venue: markets, accounts, the order pipeline, public and private reads.

Venue-neutral: it speaks `cexarb.model` types and base-unit quantities (futures too); each
protocol front-end (`sim/gateio_spot.py`, ...) converts its wire format at its edge. An order
runs check (`order_checks`) -> lock -> match (`engine`) -> settle (the market kind's ledger,
`ledgers`) -> emit (`venue_events`). Every mutating call is one operation: state changes first,
then the events it caused are delivered synchronously, in order, to the subscribers.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import msgspec

from cexarb.config import RateLimitPool
from cexarb.model.enums import OrderType, Side, TimeInForce
from cexarb.model.market import BookTicker, OrderBook, Symbol, Trade
from cexarb.model.trading import AssetBalance, Execution, Order, Position
from cexarb.sim.accounts import SimAccountState
from cexarb.sim.clock import SimClock
from cexarb.sim.engine import Fill, RejectReason, Resting, SimMarket, SimReject
from cexarb.sim.events import FillEvent, TradeEvent
from cexarb.sim.faults import SimStats, VenueFaults
from cexarb.sim.fees import FeeTier
from cexarb.sim.funding import DEFAULT_INTERVAL_S
from cexarb.sim.ledgers import FuturesLedger, Ledger, SpotLedger
from cexarb.sim.limits import SimRateLimits
from cexarb.sim.order_checks import OrderPlan, check_order
from cexarb.sim.truth import AccountTruth, account_truth, asset_totals
from cexarb.sim.venue_events import EventQueue
from cexarb.sim.venue_state import MarketState, OrderRecord
from cexarb.sim.venue_wallet import VenueWallet
from cexarb.sim.withdrawals import SimNetwork, WithdrawalDesk

_copy = msgspec.structs.replace


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
        self._books: dict[Symbol, MarketState] = {s: MarketState(m) for s, m in self.markets.items()}
        self._accounts: dict[str, SimAccountState] = {}
        self._events = EventQueue(self.clock)
        # Futures funding: the index a premium is measured against comes from `index_source`
        # (the harness points it at the market's fundamental), else the venue's own reference.
        self.index_source: Callable[[Symbol], float] | None = None
        self.ledger: Ledger = (
            FuturesLedger(
                self._events,
                self.clock,
                self.markets,
                settle_asset,
                self.mark_price,
                self.index_price,
                funding_interval_s,
            )
            if is_futures
            else SpotLedger(self._events)
        )
        self.funding = self.ledger.funding if isinstance(self.ledger, FuturesLedger) else None
        self._order_id_prefix = order_id_prefix
        self._next_order_id = 100_000_001
        self._next_trade_id = 1_000_001
        self._version = 0  # venue-wide update counter, stamped into Order.sequence
        # Conservation accounting per asset: what came in with the accounts, what left their balances.
        self.deposited: dict[str, float] = {}
        self.fees_collected = self.ledger.fees_collected
        self.withdrawn: dict[str, float] = {}
        desk = WithdrawalDesk({} if is_futures else (networks or {}), withdrawal_delay_s)
        wallet = self.wallet = VenueWallet(
            key, self._need_account, self.clock, self._events, desk, self.deposited, self.withdrawn
        )
        self.subscribe = self._events.subscribe
        # The wallet's methods are the venue's (composition: no mixin, no restated signatures).
        self.network_config = wallet.network_config
        self.withdraw = wallet.withdraw
        self.withdrawals = wallet.withdrawals
        self.cancel_withdrawal = wallet.cancel_withdrawal
        self.deposit_networks = wallet.deposit_networks
        self.deposit_address = wallet.deposit_address
        self.begin_deposit = wallet.begin_deposit
        self.complete_deposit = wallet.complete_deposit
        self.deposits = wallet.deposits

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
        bals = self.ledger.opening_balances(dict(balances or {}))
        account = SimAccountState(api_key, api_secret, user_id, bals, internal=internal)
        for asset, amount in bals.items():
            self.deposited[asset] = self.deposited.get(asset, 0.0) + float(amount)
        account.maker_fee, account.taker_fee = maker_fee, taker_fee
        if fee_tier is not None:
            account.fee_tier = fee_tier
        self._accounts[api_key] = account
        self.ledger.opened(account)
        return account

    def account(self, api_key: str) -> SimAccountState | None:
        """The account with that API key, if any."""
        return self._accounts.get(api_key)

    def accounts(self) -> list[SimAccountState]:
        """Every account (synthetic traders included)."""
        return list(self._accounts.values())

    def _need_account(self, api_key: str) -> SimAccountState:
        account = self._accounts.get(api_key)
        if account is None:
            raise KeyError(f"no account with that API key on {self.key}")
        return account

    def _need_market(self, symbol: Symbol) -> MarketState:
        book = self._books.get(symbol)
        if book is None:
            raise SimReject(RejectReason.UNKNOWN_SYMBOL, f"{symbol} is not listed on {self.key}")
        return book

    def batch(self) -> EventQueue:
        """Group several calls into one operation: one book delta per symbol, events at the end."""
        return self._events

    # ---- market data ----

    def snapshot(self, symbol: Symbol, depth: int = 100) -> OrderBook:
        return self._need_market(symbol).snapshot(depth, self.clock.now_ms())

    def book_id(self, symbol: Symbol) -> int:
        """The id of the last emitted book delta (equal to `snapshot().update_id`)."""
        return self._need_market(symbol).seq

    def ticker(self, symbol: Symbol) -> BookTicker:
        return self._need_market(symbol).ticker(self.clock.now_ms())

    def recent_trades(self, symbol: Symbol, limit: int = 100) -> list[Trade]:
        return list(self._need_market(symbol).trades)[-limit:]

    def mark_price(self, symbol: Symbol) -> float:
        """Mid of the book; else the last trade; else the flow's reference price."""
        return self._need_market(symbol).mark_price()

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
        """Check, lock funds, match, settle, then rest or finish the order. Raises SimReject."""
        account = self._need_account(api_key)
        if self.faults.matching_paused:
            raise SimReject(RejectReason.MATCHING_PAUSED, f"{self.key} matching engine is paused")
        book = self._need_market(symbol)
        if client_order_id and client_order_id in account.client_ids:
            raise SimReject(
                RejectReason.DUPLICATE_CLIENT_ID, f"client order id {client_order_id!r} already used"
            )
        ledger = self.ledger
        position = ledger.position(account, symbol) if isinstance(ledger, FuturesLedger) else None
        size = position.size if position is not None else None
        plan = check_order(
            book.rules, book.engine, side, order_type, quantity, price, tif, reduce_only, quote_quantity, size
        )
        if isinstance(plan, SimReject):
            raise plan
        with self._events:
            lock = ledger.lock(account, book, plan)
            oid, now, seq = self._new_order_id(), self.clock.now_ms(), self._bump()
            record = OrderRecord.open(oid, account, book, plan, client_order_id, lock, now, seq)
            account.orders[oid] = record.order
            if client_order_id:
                account.client_ids[client_order_id] = oid
            self._events.order(record)
            fills = book.engine.match(side, plan.limit_ticks, plan.units, plan.quote_budget)
            if fills:
                self._events.dirty_books[symbol] = book
                for fill in fills:
                    self._settle_fill(book, record, fill.maker.owner, fill.units, fill.ticks)
            if plan.rests and record.units_left > 0:
                self._rest(record, plan, fills)
            else:
                self._finish(record, cancel=record.units_left > 0 and plan.quote_budget is None)
            if fills:
                self._cancel_stale(book, account, fills)
            return _copy(record.order)

    def _rest(self, record: OrderRecord, plan: OrderPlan, fills: list[Fill]) -> None:
        """Put the unfilled remainder on the book, locking only what it still needs."""
        record.entry = entry = Resting(record, record.order.side, plan.limit_ticks, record.units_left)
        book = record.market
        book.engine.add(entry)
        self._events.dirty_books[book.rules.symbol] = book
        record.account.open_orders[record.order.order_id] = record
        self.ledger.trim(record)
        if fills:
            self._events.order(record)

    def _cancel_stale(self, book: MarketState, taker: SimAccountState, fills: list[Fill]) -> None:
        """Cancel what the fills made invalid (futures reduce-only orders of the traders)."""
        touched = {id(f.maker.owner.account): f.maker.owner.account for f in fills}
        touched[id(taker)] = taker
        for record in self.ledger.stale_reduce_only(book.rules.symbol, touched.values()):
            self._cancel(record)

    def _settle_fill(
        self, book: MarketState, taker: OrderRecord, maker: OrderRecord, units: int, ticks: int
    ) -> None:
        """One trade between the taker and a resting maker: print it, settle both sides."""
        rules = book.rules
        now = taker.order.created_at
        qty = rules.qty_of(units)
        price = rules.price_of(ticks)
        trade_id = str(self._next_trade_id)
        self._next_trade_id += 1
        trade = Trade(rules.symbol, price, qty, taker.order.side, now, trade_id)
        book.trades.append(trade)
        book.last_price = price
        self._events.pending.append(TradeEvent(trade))
        for record, is_maker in ((maker, True), (taker, False)):
            fee, fee_asset = self.ledger.settle(record, is_maker, units, qty, price, trade_id, now)
            execution = record.fill(units, qty, price, fee, fee_asset, trade_id, is_maker, now, self._bump())
            record.account.fills.append(execution)
            if not record.account.internal:
                self._events.pending.append(FillEvent(record.account.api_key, execution))
                if is_maker:
                    self._events.order(record)
        if maker.units_left == 0:
            maker.account.open_orders.pop(maker.order.order_id, None)
            self._finish(maker, cancel=False)

    def _finish(self, record: OrderRecord, *, cancel: bool) -> None:
        """Close the order: release what it still locks, set its final status, emit it."""
        order = record.order
        account = record.account
        if record.locked:
            account.unlock(record.lock_asset, record.locked)
            record.locked = 0.0
            self._events.touch_balance(account, record.lock_asset)
        record.close(cancel=cancel, now=self.clock.now_ms(), sequence=self._bump())
        self._events.order(record)
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
        order = account.lookup(symbol, order_id, client_order_id)
        record = account.open_orders.get(order.order_id)
        if record is None:
            raise SimReject(
                RejectReason.ORDER_NOT_FOUND, f"order {order.order_id} is already {order.status.value}"
            )
        with self._events:
            self._cancel(record)
        return _copy(order)

    def _cancel(self, record: OrderRecord) -> None:
        book = record.market
        if record.entry is not None:
            book.engine.remove(record.entry)
            record.entry = None
            self._events.dirty_books[book.rules.symbol] = book
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
        with self._events:
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
        """The order by order id, else by client order id (raises SimReject ORDER_NOT_FOUND)."""
        return _copy(self._need_account(api_key).lookup(symbol, order_id, client_order_id))

    def open_orders(self, api_key: str, symbol: Symbol | None = None) -> list[Order]:
        account = self._need_account(api_key)
        return [
            _copy(r.order) for r in account.open_orders.values() if symbol is None or r.order.symbol == symbol
        ]

    def my_trades(
        self, api_key: str, symbol: Symbol | None = None, since_ms: int | None = None, limit: int = 100
    ) -> list[Execution]:
        """Oldest first: the first `limit` fills at/after `since_ms`, or the latest `limit` without it."""
        return self._need_account(api_key).trades(symbol, since_ms, limit)

    def balances(self, api_key: str) -> dict[str, AssetBalance]:
        return {a: _copy(b) for a, b in self._need_account(api_key).balances.items()}

    # ---- futures ----

    def positions(self, api_key: str) -> dict[Symbol, Position]:
        """Every contract's position of the account (flat ones included), futures only."""
        return self.ledger.positions_of(self._need_account(api_key), self.markets)

    def set_leverage(self, api_key: str, symbol: Symbol, leverage: float) -> float:
        """Set the account's leverage on a contract, re-margining an open position."""
        account = self._need_account(api_key)
        self._need_market(symbol)
        if not isinstance(self.ledger, FuturesLedger):
            raise SimReject(RejectReason.INVALID_LEVERAGE, "leverage applies to futures only")
        with self._events:
            return self.ledger.set_leverage(account, symbol, leverage)

    def fee_rates(self, api_key: str, symbol: Symbol) -> tuple[float, float]:
        """(maker, taker) this account pays on `symbol`: its own tier, else the market's."""
        account = self._need_account(api_key)
        rules = self._need_market(symbol).rules
        return self.ledger.maker_fee(account, rules), self.ledger.taker_fee(account, rules)

    def index_price(self, symbol: Symbol) -> float:
        """The price a perpetual's premium is measured against."""
        if self.index_source is not None:
            price = self.index_source(symbol)
            if price > 0:
                return price
        return self.reference_price(symbol)

    def sample_funding(self) -> None:
        """Record every contract's premium over its index now (the rate follows their average)."""
        if isinstance(self.ledger, FuturesLedger):
            self.ledger.sample_funding()

    def funding_rate(self, symbol: Symbol) -> float:
        return self.funding.rate(symbol) if self.funding is not None else 0.0

    def settle_funding(self) -> dict[Symbol, float]:
        """Pay every open position's funding now; returns the rates applied (none on spot)."""
        if not isinstance(self.ledger, FuturesLedger):
            return {}
        with self._events:
            return self.ledger.settle_funding(self._accounts)

    # ---- ground truth ----

    def truth(self, api_key: str) -> AccountTruth:
        """Everything the venue holds for the account, copied."""
        return account_truth(self, api_key)

    def asset_totals(self) -> dict[str, float]:
        """Per asset, everything held, collected and withdrawn: equals `deposited` at all times."""
        return asset_totals(self)

    def _new_order_id(self) -> str:
        oid = f"{self._order_id_prefix}{self._next_order_id}"
        self._next_order_id += 1
        return oid

    def _bump(self) -> int:
        self._version += 1
        return self._version
