"""Execute an opportunity: both legs at once as IOC limit orders, then make it flat.

A leg that fails or fills partially leaves the account long or short the
difference. It is hedged at once: first by trading the missing quantity on the
leg that fell short (completing the arbitrage), then by unwinding on the leg that
filled; every such order is IOC and priced at most `hedge_slippage_bps` through
the planned leg price. What cannot be placed (below a venue's minimum, every
attempt rejected) stays as a residual the engine reports and retries, and it
blocks new trades on the symbol while it lasts.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Awaitable, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from cexarb import eventloop
from cexarb.arb.config import ArbConfig
from cexarb.arb.sizing import Leg, Opportunity, base_step, min_base_quantity
from cexarb.arb.views import TradingVenue
from cexarb.logs import log_kv
from cexarb.model import Order, Side, Symbol, TimeInForce
from cexarb.model.errors import (
    AuthenticationError,
    ExchangeError,
    InvalidOrder,
    OrderStatusUnknown,
)
from cexarb.model.rounding import round_down, round_price
from cexarb.transport.stats import MS_BUCKETS, LatencyHistogram

log = logging.getLogger("cexarb.arb.executor")

# A leg that failed for one of these will fail again: hedge elsewhere first.
_HARD_FAILURES = (InvalidOrder, AuthenticationError)
_POLL_S = 0.01


@dataclass(slots=True)
class LegResult:
    leg: Leg
    order: Order | None = None
    error: str = ""
    hard_failure: bool = False
    rtt_ms: float = 0.0
    # Not the venue's answer but a fault of ours while placing it (a bug): reported, and the
    # engine stops trading once the trade is flat and booked.
    bug: Exception | None = None

    @property
    def filled(self) -> float:
        return self.order.filled_quantity if self.order else 0.0

    @property
    def average_price(self) -> float:
        if not self.order or not self.order.filled_quantity:
            return 0.0
        return self.order.average_price or self.order.price


@dataclass(slots=True)
class Residual:
    """Base units left unhedged on a symbol (+ long, - short) and where to trade them."""

    symbol: Symbol
    quantity: float
    reference_price: float
    # Legs of the trade that left it: the hedge completes on one, unwinds on the other.
    legs: tuple[Leg, Leg]

    @property
    def notional(self) -> float:
        return abs(self.quantity) * self.reference_price


@dataclass(slots=True)
class ExecutionResult:
    opportunity: Opportunity
    buy: LegResult
    sell: LegResult
    hedges: list[LegResult] = field(default_factory=list)
    residual: float = 0.0

    @property
    def bug(self) -> Exception | None:
        """The first fault of ours while placing one of the trade's orders, if any."""
        return next((leg.bug for leg in (self.buy, self.sell, *self.hedges) if leg.bug is not None), None)

    @property
    def outcome(self) -> str:
        if abs(self.residual) > 0:
            return "unhedged"
        if not self.buy.filled and not self.sell.filled:
            return "none_filled"
        if self.hedges:
            return "hedged"
        return "filled" if self.buy.filled == self.sell.filled == self.buy.leg.quantity else "partial"


class Executor:
    def __init__(self, venues: Mapping[str, TradingVenue], config: ArbConfig) -> None:
        self.venues = venues
        self.config = config
        self.residuals: dict[Symbol, Residual] = {}
        self.order_rtt_ms: deque[float] = deque(maxlen=5000)
        self.order_rtt_hist = LatencyHistogram(MS_BUCKETS)
        self.in_flight = 0
        # Notional of trades under way: until both legs are known, each may end one-legged.
        self.at_risk_notional = 0.0

    @property
    def unhedged_notional(self) -> float:
        residuals = self.residuals
        # Read on every decision; mostly there is none.
        return sum(r.notional for r in residuals.values()) if residuals else 0.0

    @property
    def exposure_notional(self) -> float:
        """What could be unhedged now: residuals plus every trade still under way."""
        return self.unhedged_notional + self.at_risk_notional

    async def execute(self, opp: Opportunity) -> ExecutionResult:
        """Execute `opp` (both legs, then any hedge) and return how it ended."""
        return await self.start(opp)

    def start(self, opp: Opportunity) -> asyncio.Task[ExecutionResult]:
        """Start executing `opp` now: before this returns, both legs' orders are written where
        the venues can write at once (else their tasks are started eagerly), then its risk is
        counted (nothing awaited in between: no decision sees the trade without it); the task
        gives how the trade ended."""
        legs = self.start_legs(opp.buy, opp.sell)
        at_risk = max(opp.buy.notional, opp.sell.notional)
        self.at_risk_notional += at_risk
        return asyncio.get_running_loop().create_task(self._execute(opp, *legs, at_risk))

    async def _execute(
        self,
        opp: Opportunity,
        first: asyncio.Future[LegResult],
        second: asyncio.Future[LegResult],
        at_risk: float,
    ) -> ExecutionResult:
        """Both legs' outcomes, then flat: hedge whatever they left unbalanced."""
        try:
            buy, sell = await self._both(first, second)
            result = ExecutionResult(opp, buy, sell)
            imbalance = buy.filled - sell.filled
            if imbalance:
                # Complete on the leg that fell short unless it failed for good; else unwind first.
                short_leg, filled_leg = (sell, buy) if imbalance > 0 else (buy, sell)
                order = [short_leg.leg, filled_leg.leg]
                if short_leg.hard_failure:
                    order.reverse()
                result.hedges, left = await self._flatten(opp.symbol, imbalance, order)
                result.residual = left
                self._set_residual(opp.symbol, left, opp.buy.price, (opp.buy, opp.sell))
            log_kv(
                log,
                logging.INFO,
                "executed",
                kind=opp.kind.value,
                symbol=opp.symbol,
                pair=opp.pair,
                qty=opp.quantity,
                buy_filled=buy.filled,
                buy_px=buy.average_price,
                sell_filled=sell.filled,
                sell_px=sell.average_price,
                hedges=len(result.hedges),
                residual=result.residual,
                outcome=result.outcome,
                buy_error=buy.error,
                sell_error=sell.error,
            )
            return result
        finally:
            self.at_risk_notional -= at_risk

    def start_legs(
        self, first: Leg, second: Leg
    ) -> tuple[asyncio.Future[LegResult], asyncio.Future[LegResult]]:
        """Both legs on their way, `first` written first, before this returns wherever the
        venue can write at once. Both requests are written before either order is booked
        (tracked, its reply followed, its task made): the second leaves without waiting for
        the first's bookkeeping, and nothing is awaited in between. The first is booked even
        when writing the second fails."""
        sent = self._write_leg(first)
        try:
            other = self._write_leg(second)
        finally:
            followed = self._follow(first, sent)
        return followed, self._follow(second, other)

    async def _both(
        self, leg: asyncio.Future[LegResult], other: asyncio.Future[LegResult]
    ) -> tuple[LegResult, LegResult]:
        try:
            done = await leg
        except BaseException:
            # The second leg is not abandoned half-way: it ends on its own (its outcome is
            # the venue's; this failure is the one reported).
            await asyncio.wait((other,))
            if not other.cancelled():
                other.exception()
            raise
        return done, await other

    async def retry_residuals(self) -> list[LegResult]:
        """Try again to flatten what earlier hedges could not; returns the orders placed."""
        placed: list[LegResult] = []
        for symbol, residual in list(self.residuals.items()):
            hedges, left = await self._flatten(symbol, residual.quantity, list(residual.legs))
            placed += hedges
            self._set_residual(symbol, left, residual.reference_price, residual.legs)
        return placed

    def _set_residual(self, symbol: Symbol, left: float, price: float, legs: tuple[Leg, Leg]) -> None:
        if left:
            self.residuals[symbol] = Residual(symbol, left, price, legs)
            log_kv(log, logging.WARNING, "unhedged", symbol=symbol, qty=left, notional=abs(left) * price)
        else:
            self.residuals.pop(symbol, None)

    async def _flatten(
        self, symbol: Symbol, imbalance: float, legs: list[Leg]
    ) -> tuple[list[LegResult], float]:
        """Trade `-imbalance` on the given legs' venues in turn, IOC within the slippage cap.
        Returns the hedge orders and what is left (same sign as imbalance, 0 when flat)."""
        hedges: list[LegResult] = []
        left = imbalance
        slip = self.config.hedge_slippage_bps / 1e4
        for attempt in range(self.config.hedge_attempts * len(legs)):
            if not left:
                break
            leg = legs[attempt % len(legs)]
            side = Side.SELL if left > 0 else Side.BUY
            info = leg.info
            quantity = round_down(abs(left), base_step(info))
            cap = leg.price * (1.0 - slip) if side is Side.SELL else leg.price * (1.0 + slip)
            price = round_price(cap, info.tick_size, side)
            if quantity < min_base_quantity(info) or quantity <= 0 or quantity * price < info.min_notional:
                continue
            # Keep reduce-only only when repeating the same side on the same leg (a basis close).
            reduce_only = leg.reduce_only and side is leg.side
            hedge_leg = Leg(leg.venue, symbol, side, price, quantity, info, reduce_only)
            result = await self.place_ioc(hedge_leg)
            hedges.append(result)
            left += side.sign * result.filled
            if abs(left) < 1e-12:
                left = 0.0
            log_kv(
                log,
                logging.INFO,
                "hedge",
                symbol=symbol,
                venue=leg.venue,
                side=side.value,
                qty=quantity,
                price=price,
                filled=result.filled,
                left=left,
                error=result.error,
            )
        return hedges, left

    async def place_ioc(self, leg: Leg) -> LegResult:
        """Place one IOC limit order and wait until the venue says how it ended."""
        return await self._follow(leg, self._write_leg(leg))

    def _write_leg(self, leg: Leg) -> _Written | asyncio.Future[LegResult]:
        """One IOC limit order written now by the venue's `write_limit_order_now` when it can,
        to be booked by `_follow`; else already followed: `place_limit_order` in a task started
        eagerly (it writes as soon as it needs no wait), or the leg failed."""
        venue = self.venues[leg.venue]
        kwargs = {"reduce_only": True} if leg.reduce_only else {}
        try:
            written = venue.write_limit_order_now(
                leg.symbol, leg.side, leg.quantity, leg.price, time_in_force=TimeInForce.IOC, **kwargs
            )
        except ExchangeError:
            written = None  # refused before sending: the usual path raises it again, where it is handled
        except Exception as exc:
            # Not sent: the leg fails (its trade is made flat like any failed leg), and says why.
            log.exception("placing the %s leg on %s failed", leg.side.value, leg.venue)
            return _failed(leg, exc)
        # Counted now, not when the task runs: a decision in between must see this order.
        self.in_flight += 1
        started = time.perf_counter()
        if written is not None:
            return _Written(venue, written, started)
        placing = venue.place_limit_order(
            leg.symbol, leg.side, leg.quantity, leg.price, time_in_force=TimeInForce.IOC, **kwargs
        )
        return eventloop.start_eager(self._leg_outcome(leg, venue, placing, started))

    def _follow(self, leg: Leg, sent: _Written | asyncio.Future[LegResult]) -> asyncio.Future[LegResult]:
        """A written leg booked with its venue, and the task that waits for its outcome (a leg
        already followed as it is)."""
        if isinstance(sent, asyncio.Future):
            return sent
        venue, written, started = sent
        try:
            placing = venue.book_written(written)
        except Exception as exc:
            # A bug: the order is at the venue, untracked (its stream's updates adopt it once
            # the venue confirms it); the leg fails, and its bug stops trading.
            self.in_flight -= 1
            log.exception("booking the %s leg on %s failed", leg.side.value, leg.venue)
            return _failed(leg, exc)
        return asyncio.get_running_loop().create_task(self._leg_outcome(leg, venue, placing, started))

    async def _leg_outcome(
        self, leg: Leg, venue: TradingVenue, placing: Awaitable[Order], started: float
    ) -> LegResult:
        """Wait for the order's acknowledgement, then for its end (an IOC ends at once)."""
        result = LegResult(leg)
        try:
            order = await placing
            result.rtt_ms = (time.perf_counter() - started) * 1e3
            self.order_rtt_ms.append(result.rtt_ms)
            self.order_rtt_hist.observe(result.rtt_ms)
            result.order = await self._resolve(venue, leg.symbol, order)
        except OrderStatusUnknown as exc:
            result.error = f"{type(exc).__name__}: {exc.message}"
            result.order = await self._find_by_client_id(venue, leg.symbol, exc.client_order_id)
        except ExchangeError as exc:
            result.error = f"{type(exc).__name__}: {exc.message}"
            result.hard_failure = isinstance(exc, _HARD_FAILURES)
        finally:
            self.in_flight -= 1
        return result

    async def _resolve(self, venue: TradingVenue, symbol: Symbol, order: Order) -> Order:
        """Wait for the order to be done (an IOC ends at once; the update may trail the reply)."""
        deadline = time.monotonic() + self.config.order_resolve_timeout_s
        while not order.status.is_done:
            if time.monotonic() > deadline:
                # Should not happen with IOC; cancel so nothing rests unseen, then read the end.
                try:
                    return await venue.cancel_order(symbol, order.order_id)
                except ExchangeError:
                    return await venue.get_active_order(symbol, order.order_id) or order
            await asyncio.sleep(_POLL_S)
            # None: no tier knows it any more; keep what we last knew until the deadline.
            order = await venue.get_active_order(symbol, order.order_id) or order
        return order

    async def _find_by_client_id(
        self, venue: TradingVenue, symbol: Symbol, client_id: str | None
    ) -> Order | None:
        """After a reply was lost: the private stream tells whether the order exists."""
        if not client_id:
            return None
        deadline = time.monotonic() + self.config.order_resolve_timeout_s
        while time.monotonic() < deadline:
            for book in (venue.open_orders.get(symbol, {}), venue.executed_orders.get(symbol, {})):
                for order in book.values():
                    if order.client_order_id == client_id:
                        return await self._resolve(venue, symbol, order)
            await asyncio.sleep(_POLL_S)
        return None


class _Written(NamedTuple):
    """A leg's order written by its venue, not booked yet: the venue, what it gave back, when."""

    venue: TradingVenue
    written: Any
    started: float


def _failed(leg: Leg, exc: Exception) -> asyncio.Future[LegResult]:
    """The leg's outcome when placing it raised `exc` (a bug, not a venue's answer)."""
    failed = asyncio.get_running_loop().create_future()
    failed.set_result(LegResult(leg, error=f"{type(exc).__name__}: {exc}", hard_failure=True, bug=exc))
    return failed
