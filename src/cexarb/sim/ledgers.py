"""Where an order's money goes: what it locks, what a fill moves, what fees it pays.

`SimVenue` runs one pipeline for every market (check -> lock -> match -> settle -> emit) and
leaves the money to its ledger: `SpotLedger` locks the asset an order pays with and swaps
assets on a fill; `FuturesLedger` locks margin in the settle asset, keeps positions, realizes
PnL and pays funding. Both report touched balances/positions to the venue's `EventQueue`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from cexarb.model.enums import Side
from cexarb.model.market import Symbol
from cexarb.model.trading import Position
from cexarb.sim.accounts import BookEntry, SimAccountState
from cexarb.sim.clock import SimClock
from cexarb.sim.engine import RejectReason, SimMarket, SimReject
from cexarb.sim.events import FundingEvent
from cexarb.sim.funding import FundingSchedule, funding_cap
from cexarb.sim.futures import DEFAULT_LEVERAGE, MAINTENANCE_RATE, MAX_LEVERAGE, PositionState, order_margin
from cexarb.sim.order_checks import OrderPlan
from cexarb.sim.venue_events import EventQueue
from cexarb.sim.venue_state import MarketState, OrderRecord


class Ledger:
    """What both ledgers share: fee rates, the fee account, trimming a resting order's lock."""

    def __init__(self, events: EventQueue) -> None:
        self.events = events
        self.fees_collected: dict[str, float] = {}

    @staticmethod
    def maker_fee(account: SimAccountState, rules: SimMarket) -> float:
        """The maker rate the account pays on this market: its own, else the market's."""
        return rules.maker_fee if account.maker_fee is None else account.maker_fee

    @staticmethod
    def taker_fee(account: SimAccountState, rules: SimMarket) -> float:
        """The taker rate the account pays on this market: its own, else the market's."""
        return rules.taker_fee if account.taker_fee is None else account.taker_fee

    def opening_balances(self, balances: dict[str, float]) -> dict[str, float]:
        """The balances a new account keeps of the ones it was opened with."""
        return balances

    def opened(self, account: SimAccountState) -> None:
        """A new account's opening balances are in place."""

    def lock(self, account: SimAccountState, market: MarketState, plan: OrderPlan) -> tuple[str, float]:
        """Lock what the whole order may need (raises SimReject when the balance is short);
        returns (asset, amount) locked."""
        raise NotImplementedError

    def need(self, record: OrderRecord) -> float | None:
        """What a resting order's remainder needs locked (None: keep what it has)."""
        raise NotImplementedError

    def settle(
        self,
        record: OrderRecord,
        is_maker: bool,
        units: int,
        qty: float,
        price: float,
        trade_id: str,
        now: int,
    ) -> tuple[float, str]:
        """Move the money of one fill of `record`; returns the (fee, fee asset) it paid."""
        raise NotImplementedError

    def stale_reduce_only(self, symbol: Symbol, accounts: Iterable[SimAccountState]) -> list[OrderRecord]:
        """Resting orders the last fills made invalid (the venue cancels them)."""
        return []

    def unrealized(self, marks: Callable[[Symbol], float]) -> float:
        """Every open position's PnL at the mark (part of the settle asset's total)."""
        return 0.0

    def positions_of(self, account: SimAccountState, symbols: Iterable[Symbol]) -> dict[Symbol, Position]:
        """The account's position on each of `symbols` (none on spot)."""
        return {}

    def trim(self, record: OrderRecord) -> None:
        """After taking, a resting order keeps locked exactly what its remainder needs."""
        need = self.need(record)
        if need is None:
            return
        excess = record.locked - need
        if excess > 1e-12:
            record.account.unlock(record.lock_asset, excess)
            record.locked = need
            self.events.touch_balance(record.account, record.lock_asset)

    def _collect(self, asset: str, fee: float) -> None:
        self.fees_collected[asset] = self.fees_collected.get(asset, 0.0) + fee


def notional_estimate(market: MarketState, side: Side, limit_ticks: int | None, units: int) -> float:
    """Quote needed for `units`: at the limit price, or by walking the book for a market order."""
    rules = market.rules
    if limit_ticks is not None:
        return rules.price_of(limit_ticks) * rules.qty_of(units)
    _, tick_units = market.engine.cost_of(side, units)
    return tick_units * rules.tick * rules.step


class SpotLedger(Ledger):
    """Spot: an order locks what it pays with; a fill pays from the lock and credits the other
    asset less the fee (or the full amount, with the fee in the account's discount token)."""

    def lock(self, account: SimAccountState, market: MarketState, plan: OrderPlan) -> tuple[str, float]:
        symbol = market.rules.symbol
        side = plan.side
        if side is Side.BUY:
            asset = symbol.quote
            if plan.quote_budget is not None:
                amount = plan.quote_budget
            else:
                amount = notional_estimate(market, side, plan.limit_ticks, plan.units)
        else:
            asset = symbol.base
            amount = market.rules.qty_of(plan.units)
        if amount > 0:
            account.lock(asset, amount)
            self.events.touch_balance(account, asset)
        return asset, amount

    def need(self, record: OrderRecord) -> float | None:
        qty = record.market.rules.qty_of(record.units_left)
        return record.order.price * qty if record.order.side is Side.BUY else qty

    def settle(
        self,
        record: OrderRecord,
        is_maker: bool,
        units: int,
        qty: float,
        price: float,
        trade_id: str,
        now: int,
    ) -> tuple[float, str]:
        account = record.account
        rules = record.market.rules
        symbol = rules.symbol
        notional = price * qty
        rate = self.maker_fee(account, rules) if is_maker else self.taker_fee(account, rules)
        if record.order.side is Side.BUY:
            paid_asset, paid, fee_asset, received = symbol.quote, notional, symbol.base, qty
        else:
            paid_asset, paid, fee_asset, received = symbol.base, qty, symbol.quote, notional
        fee = received * rate
        account.spend_locked(paid_asset, paid)
        record.locked -= paid
        token = self.fee_in_token(account, notional * rate) if fee > 0 else None
        if token is not None:
            # Discount-token mode: the full amount received, the fee taken in the token.
            account.credit(fee_asset, received)
            self.events.touch_balance(account, fee_asset)
            fee_asset, fee = token
            account.credit(fee_asset, -fee)
        else:
            account.credit(fee_asset, received - fee)
        self.events.touch_balance(account, paid_asset)
        self.events.touch_balance(account, fee_asset)
        self._collect(fee_asset, fee)
        return fee, fee_asset

    @staticmethod
    def fee_in_token(account: SimAccountState, quote_value: float) -> tuple[str, float] | None:
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


class FuturesLedger(Ledger):
    """USDT-settled perpetuals: one margin balance in the settle asset, a position per
    (account, contract); fills realize PnL and move margin, funding is paid between positions,
    and every wallet change is written to the account's book (Gate's account_book)."""

    def __init__(
        self,
        events: EventQueue,
        clock: SimClock,
        markets: dict[Symbol, SimMarket],
        settle_asset: str,
        mark_price: Callable[[Symbol], float],
        index_price: Callable[[Symbol], float],
        funding_interval_s: int,
    ) -> None:
        super().__init__(events)
        self.clock = clock
        self.markets = markets
        self.settle_asset = settle_asset
        self.mark_price = mark_price
        self.index_price = index_price
        self.funding = FundingSchedule(
            funding_interval_s, funding_cap(MAX_LEVERAGE, MAINTENANCE_RATE), clock.now_s()
        )
        self.positions: dict[tuple[str, Symbol], PositionState] = {}
        self._next_book_id = 1
        events.position_model = self.position_model

    def position(self, account: SimAccountState, symbol: Symbol) -> PositionState:
        """The account's position on `symbol` (flat at the account's leverage when new)."""
        key = (account.api_key, symbol)
        position = self.positions.get(key)
        if position is None:
            leverage = account.leverage.get(symbol, DEFAULT_LEVERAGE)
            position = self.positions[key] = PositionState(symbol, leverage)
        return position

    def position_model(self, account: SimAccountState, symbol: Symbol) -> Position:
        """The position as the client model has it, valued at the mark now."""
        rules = self.markets[symbol]
        return self.position(account, symbol).to_model(
            self.mark_price(symbol), rules.contract_size, rules.price_precision
        )

    def positions_of(self, account: SimAccountState, symbols: Iterable[Symbol]) -> dict[Symbol, Position]:
        return {symbol: self.position_model(account, symbol) for symbol in symbols}

    def opening_balances(self, balances: dict[str, float]) -> dict[str, float]:
        return {self.settle_asset: float(balances.get(self.settle_asset, 0.0))}

    def opened(self, account: SimAccountState) -> None:
        opening = account.balance(self.settle_asset).total
        if not account.internal and opening:
            self.book(account, opening, "dnw")

    def lock(self, account: SimAccountState, market: MarketState, plan: OrderPlan) -> tuple[str, float]:
        if plan.reduce_only:
            return self.settle_asset, 0.0  # closing releases margin; it needs none
        rules = market.rules
        notional = notional_estimate(market, plan.side, plan.limit_ticks, plan.units)
        leverage = self.position(account, rules.symbol).leverage
        amount = order_margin(notional, leverage, self.taker_fee(account, rules))
        if amount > 0:
            account.lock(self.settle_asset, amount)
            self.events.touch_balance(account, self.settle_asset)
        return self.settle_asset, amount

    def need(self, record: OrderRecord) -> float | None:
        order = record.order
        if order.reduce_only:
            return None
        rules = record.market.rules
        position = self.position(record.account, rules.symbol)
        return order_margin(
            order.price * rules.qty_of(record.units_left),
            position.leverage,
            self.taker_fee(record.account, rules),
        )

    def settle(
        self,
        record: OrderRecord,
        is_maker: bool,
        units: int,
        qty: float,
        price: float,
        trade_id: str,
        now: int,
    ) -> tuple[float, str]:
        account = record.account
        rules = record.market.rules
        symbol = rules.symbol
        asset = self.settle_asset
        rate = self.maker_fee(account, rules) if is_maker else self.taker_fee(account, rules)
        fee = price * qty * rate
        if record.locked and record.units_left:
            # The order margin of the filled part is released; the position takes its own.
            share = record.locked * units / record.units_left
            account.unlock(asset, share)
            record.locked -= share
        position = self.position(account, symbol)
        realized, margin_delta = position.apply_fill(record.order.side.sign * qty, price, rules.qty_precision)
        position.updated_at = now
        account.credit(asset, realized - margin_delta - fee)
        account.add_locked(asset, margin_delta)
        self.events.touch_balance(account, asset)
        if not account.internal:
            self.events.touch_position(account, symbol)
            if realized:
                self.book(account, realized, "pnl", symbol, trade_id, balance_after=fee)
            self.book(account, -fee, "fee", symbol, trade_id)
        self._collect(asset, fee)
        return fee, asset

    def stale_reduce_only(self, symbol: Symbol, accounts: Iterable[SimAccountState]) -> list[OrderRecord]:
        """Resting reduce-only orders that a position change made opening or too large."""
        stale = []
        for account in accounts:
            size = self.position(account, symbol).size
            for record in account.open_orders.values():
                order = record.order
                if not order.reduce_only or order.symbol != symbol:
                    continue
                opens = not size or (size > 0) == (order.side is Side.BUY)
                if opens or order.remaining_quantity > abs(size) + 1e-12:
                    stale.append(record)
        return stale

    def set_leverage(self, account: SimAccountState, symbol: Symbol, leverage: float) -> float:
        """Re-margin an open position at `leverage` (locking or releasing the difference)."""
        if not 1.0 <= leverage <= MAX_LEVERAGE:
            raise SimReject(RejectReason.INVALID_LEVERAGE, f"leverage must be within 1..{MAX_LEVERAGE:g}")
        position = self.position(account, symbol)
        if position.size:
            new_margin = abs(position.size) * position.entry_price / leverage
            delta = new_margin - position.margin
            if delta > 0:
                account.lock(self.settle_asset, delta)
            else:
                account.unlock(self.settle_asset, -delta)
            position.margin = new_margin
            self.events.touch_balance(account, self.settle_asset)
        position.leverage = float(leverage)
        account.leverage[symbol] = float(leverage)
        self.events.touch_position(account, symbol)
        return position.leverage

    def sample_funding(self) -> None:
        """Record every contract's premium over its index now (the rate follows their average)."""
        for symbol in self.markets:
            self.funding.sample(symbol, self.mark_price(symbol), self.index_price(symbol))

    def settle_funding(self, accounts: dict[str, SimAccountState]) -> dict[Symbol, float]:
        """Pay every open position's funding at its contract's current rate: value at the mark
        times the rate, longs pay shorts when it is positive. Returns the rates applied."""
        rates = {symbol: self.funding.rate(symbol) for symbol in self.markets}
        now = self.clock.now_ms()
        for (api_key, symbol), position in self.positions.items():
            if not position.size or not rates[symbol]:
                continue
            account = accounts[api_key]
            amount = -position.size * self.mark_price(symbol) * rates[symbol]
            account.credit(self.settle_asset, amount)
            account.funding += amount
            self.events.touch_balance(account, self.settle_asset)
            if not account.internal:
                self.book(account, amount, "fund", symbol)
                total = account.balance(self.settle_asset).total
                self.events.pending.append(FundingEvent(api_key, symbol, amount, total, rates[symbol], now))
        self.funding.settled(now / 1000)
        return rates

    def unrealized(self, marks: Callable[[Symbol], float]) -> float:
        prices = {symbol: marks(symbol) for symbol in self.markets}
        return sum(p.unrealized(prices[p.symbol]) for p in self.positions.values())

    def book(
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
