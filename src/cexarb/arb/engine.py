"""The arbitrage engine: listens to every venue's books, decides, executes, accounts.

Market-data callbacks mark a symbol dirty and wake the loop. The loop evaluates each
dirty symbol once: builds a `VenueBook` per venue, finds spot-spot and basis
candidates, applies the stale-data guard and risk limits, sizes, and executes (or only
records the signal when not trading). Every decision is recorded with its reason and
logged as key=value; a repeated skip for the same reason is logged at DEBUG only.

The reflex: while trading, a book change after which one venue's best bid is above
another's best ask (a few microseconds to check) is evaluated at once, in the callback
of the frame that brought it: by the decision prepared while nothing crossed (arb/armed.py:
the same answer as the full decision, from size caps kept per venue pair) when it can tell,
else by the full decision. The trade chosen is started there too: the fleet's
reservation (in-process: decided at once) and both orders written to their sockets by
the venues' `write_limit_order_now`, back to back, with no coroutine, task or bookkeeping
before the second write (each order is booked right after: `book_written`); the rest of
the trade (replies, hedges, booking) runs as a task. Everything else (PnL and
kill-switch check on marks, snapshots, spread stats of quiet books, residual retries)
stays in the loop, which the reflex leaves one step behind on marks; fills check the PnL
at once either way. `keep_warm_s` has the engine rehearse the reflex while trading so that
a crossing after a quiet spell does not find its code cold.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass

import msgspec

from cexarb import eventloop
from cexarb.arb import journaling
from cexarb.arb.armed import ArmedDecisions
from cexarb.arb.attribution import StrategyBooks
from cexarb.arb.config import ArbConfig
from cexarb.arb.executor import ExecutionResult, Executor, LegResult
from cexarb.arb.fleet import FleetGuard
from cexarb.arb.funding import expected_funding_bps
from cexarb.arb.opportunity import (
    Candidate,
    Kind,
    VenueBook,
    basis_close_candidate,
    basis_open_candidates,
    spot_spot_candidates,
    top_edge_bps,
)
from cexarb.arb.pnl import PnlBook, PnlSnapshot
from cexarb.arb.rebalance import Rebalancer
from cexarb.arb.risk import RiskManager
from cexarb.arb.sizing import Opportunity, balance_cap, size_candidate
from cexarb.arb.stats import Decision, EngineStats, Spread
from cexarb.arb.strategies import strategy_for
from cexarb.arb.views import TradingVenue, open_order_count
from cexarb.coord import Coordinator, Reservation
from cexarb.journal import FundingBooked, Recorder, RiskEvent
from cexarb.logs import log_kv
from cexarb.model import ConnectionState, Execution, FundingPayment, Side, Symbol, TimeInForce
from cexarb.transport import ticks
from cexarb.transport.warmth import SendPathWarmer

log = logging.getLogger("cexarb.arb.engine")

_IDLE_TICK_S = 0.25
# keep_warm_s below this rehearses continuously; while not trading, the rehearsals wait this.
_KEEP_WARM_CONTINUOUS_BELOW_S = 0.001
_KEEP_WARM_IDLE_S = 0.01
# After the fleet refused a trade: how long its symbol waits before it is decided on again.
_FLEET_REFUSED_WAIT_S = 0.25


def _wake_once(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)


@dataclass(slots=True)
class BasisPosition:
    """Spot held long against a perp short, opened by the engine, and its entry edge."""

    quantity: float = 0.0
    entry_edge_bps: float = 0.0

    def add(self, quantity: float, edge_bps: float) -> None:
        total = self.quantity + quantity
        if total > 0:
            self.entry_edge_bps = (self.entry_edge_bps * self.quantity + edge_bps * quantity) / total
        self.quantity = total


def _crossed_copy(books: list[VenueBook], flip: bool = False) -> list[VenueBook] | None:
    """`books` with the second spot book's best bid lifted 1 % above the first's best ask (the
    rehearsal's crossing; `flip`: the first's above the second's); None when two synced spot
    books with both sides are not there."""
    spots = [b for b in books if b.synced and not b.is_futures and b.bids and b.asks]
    if len(spots) < 2:
        return None
    buy, sell = (spots[1], spots[0]) if flip else (spots[0], spots[1])
    ask_price, ask_quantity = buy.asks[0]
    lifted = msgspec.structs.replace(sell, bids=[(ask_price * 1.01, ask_quantity), *sell.bids])
    return [lifted if b is sell else b for b in books]


class _PublicListener:
    # Only the callbacks the engine needs: a composite calls nothing else.
    def __init__(self, engine: ArbEngine) -> None:
        self._engine = engine

    def on_book(self, symbol: Symbol) -> None:
        self._engine.mark_dirty(symbol)

    def on_book_ticker(self, ticker) -> None:
        self._engine.mark_dirty(ticker.symbol)


class _PrivateListener:
    def __init__(self, engine: ArbEngine, venue: str) -> None:
        self._engine = engine
        self._venue = venue

    def on_execution(self, fill: Execution) -> None:
        self._engine.on_fill(self._venue, fill)

    def on_funding(self, payment: FundingPayment) -> None:
        self._engine.on_funding(self._venue, payment)

    def on_connection(self, state: ConnectionState) -> None:
        self._engine.connection[self._venue] = state.value
        # Up again, or closed by the shutdown: news, not a warning.
        normal = state in (ConnectionState.CONNECTED, ConnectionState.RECONNECTED) or (
            state is ConnectionState.CLOSED and self._engine.stopped
        )
        level = logging.INFO if normal else logging.WARNING
        log_kv(log, level, "connection", venue=self._venue, state=state.value)
        self._engine.risk_event("connection", venue=self._venue, detail=state.value)


class ArbEngine:
    def __init__(
        self,
        venues: Mapping[str, TradingVenue],
        config: ArbConfig,
        *,
        trade: bool = True,
        journal: Recorder | None = None,
        snapshot_interval_s: float = 1.0,
        coordinator: Coordinator | None = None,
    ) -> None:
        self.venues = dict(venues)
        self.config = config
        self.trade = trade
        self.risk = RiskManager(config)
        self.executor = Executor(self.venues, config)
        # What the fleet shares (alone: an in-process coordinator with the same rules).
        self.fleet = FleetGuard(coordinator, config)
        self.pnl = PnlBook()
        self.stats = EngineStats()
        self.connection: dict[str, str] = {}
        # Set once run() has ended: the venues' streams closing after that is the normal shutdown.
        self.stopped = False
        self.basis: dict[tuple[str, str, Symbol], BasisPosition] = {}
        self._marks: dict[tuple[str, Symbol], float] = {}
        # Moves inventory between spot venues when one runs low (config.rebalance_targets).
        self.rebalancer = (
            Rebalancer(self.venues, config, self.pnl, self.risk) if config.rebalance_targets else None
        )
        # Expected funding (bps) a new perp short on (venue, symbol) collects until its close.
        self.funding_bps: dict[tuple[str, Symbol], float] = {}
        self._symbols = set(config.symbols)
        self._dirty: dict[Symbol, int] = {}
        # Set by mark_dirty; the loop sleeps on `_waiter`, which mark_dirty resolves directly.
        self._woken = False
        self._waiter: asyncio.Future[None] | None = None
        # The stop event of run() while it decides: the reflex acts only then.
        self._running: asyncio.Event | None = None
        self._reacting = False
        self._cooldown_until: dict[Symbol, float] = {}
        # Last decision logged per (symbol, kind, pair): repeats go to DEBUG.
        self._last_skip: dict[tuple[Symbol, str, str], str] = {}
        # Trades under way run as tasks so the loop keeps deciding on other symbols.
        self._tasks: set[asyncio.Task] = set()
        self._busy: set[Symbol] = set()
        # Where decisions, trades, PnL snapshots and risk events are recorded (None: nowhere).
        self.journal = journal
        if self.rebalancer is not None:
            self.rebalancer.journal = journal
        self.snapshot_interval_s = snapshot_interval_s
        self._next_snapshot = 0.0
        self._trade_no = 0
        # PnL per named strategy (set up in attach, once the venues' markets are known).
        self.by_strategy = StrategyBooks(config.strategies, {})
        # Symbol -> (trade number, strategy, prices its decision saw) of the trade that left the
        # residual the executor retries: the retries' orders are that trade's.
        self._residual_trade: dict[Symbol, tuple[int, str, dict[str, float]]] = {}
        self._rehearsals = 0
        # The reflex's decisions prepared while nothing crosses (size caps per venue pair).
        self.armed = ArmedDecisions(self)

    @property
    def trades_in_flight(self) -> int:
        """Trades under way (started and not finished)."""
        return len(self._tasks)

    # -- wiring ------------------------------------------------------------------------------
    def attach(self) -> None:
        """Start accounting from the venues' current balances and subscribe to their events."""
        self.by_strategy = StrategyBooks(
            self.config.strategies,
            {n: any(i.is_futures for i in v.symbols_info.values()) for n, v in self.venues.items()},
        )
        for name, venue in self.venues.items():
            is_futures = any(i.is_futures for i in venue.symbols_info.values())
            self.pnl.add_venue(name, {a: b.total for a, b in venue.balances.items()}, is_futures=is_futures)
            funding = getattr(venue, "funding", None)
            for payment_id in funding.payments if funding is not None else ():
                self.pnl.ignore_funding(name, payment_id)  # already in the starting balance
            self.connection[name] = ConnectionState.CONNECTED.value
            venue.add_listener(_PublicListener(self))
            venue.add_private_listener(_PrivateListener(self, name))
        self.armed.attach()
        for symbol in self._symbols:
            self.mark_dirty(symbol)

    def mark_dirty(self, symbol: Symbol) -> None:
        """Hot path (a book changed): decide at once if the books cross while trading (the
        reflex), else remember when the first unprocessed update for the symbol arrived (when
        the transport read its frame; now, outside a frame) and wake the loop."""
        if symbol not in self._symbols:
            return
        running = self._running
        # The reflex acts while trading inside run(), one crossing at a time, on a free symbol.
        if (
            self.trade
            and running is not None
            and not running.is_set()
            and not self._reacting
            and symbol not in self._busy
        ):
            # The prepared decision first: it is its own crossing test.
            chosen = self.armed.decide(symbol)
            if chosen is not None or self._crossed(symbol):
                self._react(symbol, ticks.frame_ns or time.perf_counter_ns(), chosen)
                return
        if symbol not in self._dirty:
            self._queue(symbol)

    def _queue(self, symbol: Symbol) -> None:
        """For the loop's next step."""
        self._dirty[symbol] = ticks.frame_ns or time.perf_counter_ns()
        self._woken = True
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _crossed(self, symbol: Symbol) -> bool:
        """Is some venue's best bid above another's best ask (synced books only)? The cheap
        test that sends a book change to the reflex; `evaluate` does the real one (fees,
        thresholds, risk)."""
        tops = []
        for venue in self.venues.values():
            book = venue.get_book(symbol)
            if book is None:
                continue
            bid, ask = book.best_bid, book.best_ask
            if bid is not None and ask is not None:
                tops.append((bid[0], ask[0], venue.symbols_info[symbol].is_futures))
        for bid, _, sell_futures in tops:
            for _, ask, buy_futures in tops:
                if bid > ask and not (sell_futures and buy_futures):
                    return True
        return False

    def _react(self, symbol: Symbol, first_update_ns: int, chosen: Opportunity | None) -> None:
        """The reflex: start the trade `chosen` by the prepared decision, or (None) evaluate
        `symbol` now and start the trade chosen, if any."""
        self._dirty.pop(symbol, None)
        self._reacting = True
        try:
            if chosen is None:
                self._decide_then_trade(symbol, first_update_ns)
            else:
                # What the full decision would choose, told from the prepared cap; its time
                # is recorded once the orders are written.
                decided_ns = time.perf_counter_ns()
                self._start_trade(chosen, first_update_ns)
                self._decided(first_update_ns, decided_ns)
                self._update_spreads(symbol, self.venue_books(symbol))
        finally:
            self._reacting = False

    def has_basis_position(self, symbol: Symbol) -> bool:
        """Does the engine hold a basis on `symbol` (its close is a candidate)?"""
        if not self.basis:  # the reflex asks on every crossing; mostly there is none
            return False
        return any(sym == symbol and pos.quantity > 0 for (_, _, sym), pos in self.basis.items())

    def on_fill(self, venue: str, fill: Execution) -> None:
        fee_value = self.venues[venue].fee_value(fill)
        if self.pnl.on_fill(venue, fill, fee_value):
            self.by_strategy.on_fill(venue, fill, fee_value)
            self.fleet.on_fill(venue, fill, fee_value)  # the fees the fleet's ledger books
            self.stats.fills.append((venue, fill))
            self.check_pnl()

    def on_funding(self, venue: str, payment: FundingPayment) -> None:
        if self.pnl.on_funding(venue, payment):
            self.by_strategy.on_funding(venue, payment)
            if self.journal is not None:
                owner = self.by_strategy.perp_owner(venue, payment.symbol)
                self.journal.record(
                    FundingBooked(ts=time.time(), venue=venue, payment=payment, strategy=owner)
                )
            log_kv(
                log,
                logging.INFO,
                "funding",
                venue=venue,
                symbol=payment.symbol,
                amount=payment.amount,
                id=payment.payment_id,
            )
            self.check_pnl()

    def expected_funding_bps(self, venue: str, symbol: Symbol) -> float:
        """What a perp short opened now on `venue` expects from funding until its close (bps)."""
        funding_info = getattr(self.venues[venue], "funding_info", None)
        info = funding_info(symbol) if funding_info is not None else None
        bps = expected_funding_bps(info, int(time.time() * 1000), self.config.basis_hold_s, short=True)
        self.funding_bps[(venue, symbol)] = bps
        return bps

    # -- loop --------------------------------------------------------------------------------
    async def run(self, stop: asyncio.Event) -> None:
        """Decide until `stop`, then let trades under way finish (never leave a leg behind)."""
        rebalancing = (
            asyncio.create_task(self.rebalancer.run(stop), name="arb-rebalance") if self.rebalancer else None
        )
        warming = (
            asyncio.create_task(self._keep_warm(stop), name="arb-keep-warm")
            if self.config.keep_warm_s
            else None
        )
        self._running = stop
        try:
            while not stop.is_set():
                await self._sleep_until_woken(_IDLE_TICK_S)
                self._woken = False
                await self.step()
        finally:
            self._running = None
            if warming is not None:
                warming.cancel()
                await asyncio.gather(warming, return_exceptions=True)
            await self.drain()
            if rebalancing is not None:
                if not stop.is_set():
                    rebalancing.cancel()  # the engine itself was cancelled
                await asyncio.gather(rebalancing, return_exceptions=True)
            self.stopped = True

    async def _sleep_until_woken(self, timeout: float) -> None:
        """Until mark_dirty wakes the loop, or `timeout`. One future resolved straight from the
        hot path: wait_for(event.wait()) costs a task and two more loop passes per wake-up,
        which showed as ~0.1-0.3 ms of frame -> decision on a busy loop (tick-to-trade)."""
        if self._woken:
            # Still one pass: a trade started eagerly may have ended without ever waiting
            # (and re-marked its symbol), and the loop must not decide again without yielding.
            await asyncio.sleep(0)
            return
        loop = asyncio.get_running_loop()
        waiter = self._waiter = loop.create_future()
        timer = loop.call_later(timeout, _wake_once, waiter)
        try:
            await waiter
        finally:
            timer.cancel()
            self._waiter = None

    async def _keep_warm(self, stop: asyncio.Event) -> None:
        """While trading, every `keep_warm_s` (below a millisecond: continuously, one loop pass
        between rehearsals): keep the kernel's TCP send path warm (`SendPathWarmer`: a
        loopback pair of the engine's own), then rehearse the reflex on each symbol not trading."""
        period = self.config.keep_warm_s
        # Event loops do not honour shorter timers: uvloop returns at once (a spin that never
        # stops, trading or not), asyncio waits a millisecond. Continuous is said, not implied.
        trading_wait = 0.0 if period < _KEEP_WARM_CONTINUOUS_BELOW_S else period
        wait = trading_wait
        warmer = SendPathWarmer()
        try:
            while not stop.is_set():
                await asyncio.sleep(wait)
                if not self.trade or self.risk.halted:
                    wait = max(period, _KEEP_WARM_IDLE_S)
                    continue
                wait = trading_wait
                # The kernel's path first: what runs last before a crossing is the warmest, and
                # the reflex runs its Python before its send (alternated runs, docs/performance.md).
                warmer.warm()
                for symbol in self._symbols:
                    if symbol in self._busy:
                        continue
                    try:
                        self.rehearse(symbol)
                    except Exception:
                        # Warmth is only speed: a rehearsal that fails must never touch trading.
                        log.exception("rehearsal of %s failed; the reflex is no longer kept warm", symbol)
                        return
        finally:
            warmer.close()

    def rehearse(self, symbol: Symbol) -> int:
        """The reflex's work on `symbol` as if its books crossed, without any of its effects:
        each venue's book-update frame path (`rehearse_book`: a frame the book holds already,
        read and skipped), the decision on the live books with one venue's best bid lifted 1 % above another's
        best ask (each way in turn; the prepared decision, else the cross test and the full
        decision, as the reflex takes them), the fleet asked dry, then the chosen trade's two
        orders written by their venues' order lanes to a dry connection (`rehearse_limit_order`:
        built, signed, written as an order is, and nothing sent, tracked or counted).
        Nothing is recorded. Returns how many order requests were rehearsed (0: no trade would
        be chosen)."""
        # The frame path first, as a crossing comes: each venue's book update read and skipped.
        for venue in self.venues.values():
            rehearse_book = getattr(venue, "rehearse_book", None)
            if rehearse_book is not None:
                rehearse_book(symbol)
        # Each direction in turn: a crossing may come either way.
        self._rehearsals += 1
        flip = self._rehearsals % 2 == 0
        opp = self.armed.rehearse(symbol, flip)
        if opp is None:
            self._crossed(symbol)  # the reflex's test when the prepared one cannot tell (answer unused)
            opp = self._rehearse_full(symbol, flip)
            if opp is None:
                return 0
        self.fleet.rehearse(opp)
        for leg in (opp.buy, opp.sell):
            flags = {"reduce_only": True} if leg.reduce_only else {}
            self.venues[leg.venue].rehearse_limit_order(
                leg.symbol, leg.side, leg.quantity, leg.price, time_in_force=TimeInForce.IOC, **flags
            )
        return 2

    def _rehearse_full(self, symbol: Symbol, flip: bool) -> Opportunity | None:
        """The full decision (candidates, guard, risk, sizing) on a crossed copy of the books."""
        crossed = _crossed_copy(self.venue_books(symbol), flip=flip)
        if crossed is None:
            return None
        for cand in self.candidates(symbol, crossed):
            opp = self._admit(cand)
            if not isinstance(opp, str):
                return opp
        return None

    async def step(self) -> None:
        """Evaluate every symbol updated since the last step; start the trades chosen."""
        if self.executor.residuals and not self.risk.halted and not self._tasks:
            hedges = await self.executor.retry_residuals()
            await self.fleet.settle_legs(hedges, self.executor.unhedged_notional)
            self._retried(hedges)
        self.check_pnl()
        if self.journal is not None and time.monotonic() >= self._next_snapshot:
            self._next_snapshot = time.monotonic() + self.snapshot_interval_s
            self.journal_snapshot()
        dirty, self._dirty = self._dirty, {}
        for symbol, first_update_ns in dirty.items():
            if symbol in self._busy:
                continue  # re-marked when its trade ends
            self._decide_then_trade(symbol, first_update_ns)
        if self.trade and not self.risk.halted:
            for symbol in self._symbols:
                if symbol not in self._busy:
                    self.armed.arm(symbol)

    def _start_trade(self, opp: Opportunity, first_update_ns: int) -> None:
        """Run the trade now up to its orders' socket writes, the rest as a task of its own.
        With the fleet's state at hand (the in-process coordinator) the risk is checked, both
        orders are written, then the reservation is booked, here, in this call; a fleet that
        must be asked over the network is asked from the trade's task, started eagerly (it
        writes once answered)."""
        self._busy.add(opp.symbol)
        # This trade's requests (the legs, then any hedges) note when they are written; the
        # first two are the legs: frame -> order sent.
        origin = ticks.TickOrigin(first_update_ns)
        reserved = self.fleet.check_now(opp)
        if reserved is None:
            task = eventloop.start_eager(self._trade(opp, origin), name=f"arb-{opp.symbol}")
        else:
            running = None
            if not isinstance(reserved, str):
                token = ticks.ORIGIN.set(origin)  # the writes below happen in this context
                try:
                    running = self._begin(opp)
                except Exception as exc:  # a bug: the trade's task reports it (and frees the symbol)
                    running = asyncio.get_running_loop().create_future()
                    running.set_exception(exc)
                finally:
                    ticks.ORIGIN.reset(token)
                    # Booked once the orders are out (their writes do not wait for it), on the
                    # ledger it was checked against: nothing was awaited since. Settled as any.
                    self.fleet.book_now(reserved)
            coro = self._trade(opp, origin, reserved, running)
            task = asyncio.get_running_loop().create_task(coro, name=f"arb-{opp.symbol}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def drain(self) -> None:
        """Wait for every trade under way to end (legs resolved, hedges done)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def _trade(
        self,
        opp: Opportunity,
        origin: ticks.TickOrigin,
        reserved: Reservation | str | None = None,
        running: asyncio.Future[ExecutionResult] | None = None,
    ) -> None:
        """The trade to its end: the fleet's reservation (`reserved`, or asked now when None),
        the execution (`running` when already started), the settlement, then the symbol freed."""
        ticks.ORIGIN.set(origin)  # the hedges' requests too
        try:
            if reserved is None:
                reserved = await self.fleet.reserve(opp)
            if isinstance(reserved, str):
                self._fleet_refused(opp, reserved)
                return
            result = None
            try:
                result = await self._finish(opp, running or self._begin(opp))
            finally:
                await self.fleet.settle(reserved, result, self.executor.unhedged_notional)
            if result.bug is not None:
                raise result.bug  # flat and booked: now stop trading (below)
        except Exception as exc:
            # A bug, not a venue error (those are handled inside): stop trading until looked at.
            log.exception("execution of %s %s failed", opp.kind.value, opp.symbol)
            self.risk.halt(f"execution_error {type(exc).__name__}: {exc}")
            self.risk_event("kill_switch", detail=self.risk.halt_reason)
            self.fleet.trip(self.risk.halt_reason)
        finally:
            for sent in origin.sent_ns[:2]:
                took_us = (sent - origin.frame_ns) / 1e3
                self.stats.frame_to_order_sent_us.append(took_us)
                self.stats.frame_to_order_sent_hist.observe(took_us)
            self._busy.discard(opp.symbol)
            self._dirty.pop(opp.symbol, None)
            self._queue(opp.symbol)

    # -- accounting ------------------------------------------------------------------------
    def marks(self) -> dict[tuple[str, Symbol], float]:
        """Mid per (venue, symbol). A one-sided ticker has no mid: the last two-sided mid
        stands (a swept side must not make the position's value jump to its cost)."""
        for name, venue in self.venues.items():
            for symbol, t in venue.book_tickers.items():
                mid = t.mid
                if mid is not None:
                    self._marks[(name, symbol)] = mid
        return dict(self._marks)

    def pnl_snapshot(self) -> PnlSnapshot:
        return self.pnl.snapshot(self.marks())

    def check_pnl(self) -> None:
        total = self.pnl_snapshot().total
        if self.risk.check_pnl(total):
            log_kv(log, logging.ERROR, "kill_switch", reason=self.risk.halt_reason, pnl=total)
            self.risk_event("kill_switch", detail=self.risk.halt_reason, value=total)
            self.fleet.trip(self.risk.halt_reason)
        self.fleet.report(
            {"pnl": total, "taken": self.stats.taken, "unhedged": self.executor.unhedged_notional}
        )

    # -- journal ---------------------------------------------------------------------------
    def journal_snapshot(self, *, final: bool = False) -> None:
        """Record every venue's PnL, inventory and positions now (`final`: the run's summary)."""
        if self.journal is not None:
            for event in journaling.snapshots(self.pnl, self.marks(), time.time(), final=final):
                self.journal.record(event)

    def risk_event(self, kind: str, *, venue: str = "", detail: str = "", value: float = 0.0) -> None:
        if self.journal is not None:
            self.journal.record(RiskEvent(ts=time.time(), kind=kind, venue=venue, detail=detail, value=value))

    # -- decisions -------------------------------------------------------------------------
    def venue_books(self, symbol: Symbol) -> list[VenueBook]:
        """One view per venue listing the symbol; a desynced book shows only its ticker (so
        the guard can name why it is not traded) and is marked unsynced."""
        levels = self.config.depth_levels
        out: list[VenueBook] = []
        for name, venue in self.venues.items():
            info = venue.symbols_info.get(symbol)
            if info is None:
                continue
            live = venue.get_book(symbol)  # the top levels only, not the whole book's view
            synced = live is not None
            if live is not None:
                bids, asks = live.bids.top(levels), live.asks.top(levels)
            else:
                t = venue.book_tickers.get(symbol)
                # An empty side has no price: it shows no level, never one at 0.
                bids = [(t.bid_price, t.bid_quantity)] if t and t.bid_price is not None else []
                asks = [(t.ask_price, t.ask_quantity)] if t and t.ask_price is not None else []
                synced = False
            fee = venue.taker_fee(symbol)
            out.append(VenueBook(name, info, bids, asks, venue.book_age_ms(symbol), synced, fee))
        return out

    def candidates(self, symbol: Symbol, books: list[VenueBook]) -> list[Candidate]:
        cfg = self.config
        found: list[Candidate] = []
        by_name = {b.venue: b for b in books}
        # Closing an open basis comes first: it frees risk.
        for (spot, perp, sym), pos in self.basis.items():
            if sym == symbol and pos.quantity > 0 and spot in by_name and perp in by_name:
                threshold = cfg.basis_close_bps - pos.entry_edge_bps
                c = basis_close_candidate(symbol, by_name[spot], by_name[perp], threshold, cfg.depth_levels)
                if c is not None:
                    found.append(c)
        opens: list[Candidate] = []
        if cfg.enable_spot_spot:
            opens += spot_spot_candidates(symbol, books, cfg.min_edge_bps, cfg.depth_levels)
        if cfg.enable_basis:
            funding = {b.venue: self.expected_funding_bps(b.venue, symbol) for b in books if b.is_futures}
            opens += basis_open_candidates(symbol, books, cfg.basis_open_bps, cfg.depth_levels, funding)
        # Only what a configured strategy runs (spot-spot, basis on any or on named venues).
        opens = [c for c in opens if strategy_for(cfg.strategies, c.kind, c.buy.venue, c.sell.venue)]
        found += sorted(opens, key=lambda c: c.edge_bps, reverse=True)
        return found

    def _update_spreads(self, symbol: Symbol, books: list[VenueBook]) -> None:
        spreads = []
        for buy in books:
            for sell in books:
                if buy.venue == sell.venue or (buy.is_futures and sell.is_futures):
                    continue
                kind = Kind.SPOT_SPOT if not (buy.is_futures or sell.is_futures) else Kind.BASIS_OPEN
                if buy.is_futures:
                    kind = Kind.BASIS_CLOSE
                if strategy_for(self.config.strategies, kind, buy.venue, sell.venue) is None:
                    continue  # a pair no configured strategy trades
                edge = top_edge_bps(buy, sell)
                if edge != float("-inf"):
                    spreads.append(Spread(f"{buy.venue}>{sell.venue}", kind.value, edge))
        spreads.sort(key=lambda s: s.edge_bps, reverse=True)
        self.stats.best_spreads[symbol] = spreads

    def evaluate(self, symbol: Symbol, first_update_ns: int | None = None) -> Opportunity | None:
        """Decide on one symbol now: the opportunity to execute, or None (skips are recorded)."""
        chosen, books = self._decide(symbol, first_update_ns)
        self._update_spreads(symbol, books)
        return chosen

    def _decide_then_trade(self, symbol: Symbol, first_update_ns: int) -> None:
        """Decide on `symbol` and start the trade chosen; the spread statistics after it."""
        chosen, books = self._decide(symbol, first_update_ns)
        if chosen is not None:
            self._start_trade(chosen, first_update_ns)
        self._update_spreads(symbol, books)

    def _decide(
        self, symbol: Symbol, first_update_ns: int | None
    ) -> tuple[Opportunity | None, list[VenueBook]]:
        """`evaluate` without the spread statistics: the decision and the books it saw."""
        books = self.venue_books(symbol)
        chosen: Opportunity | None = None
        for cand in self.candidates(symbol, books):
            result = self._admit(cand)
            if isinstance(result, str):
                self._skip(cand, result)
                continue
            if not self.trade:
                self._record(result, "signal")
                continue
            chosen = result
            break
        if first_update_ns is not None:
            self._decided(first_update_ns, time.perf_counter_ns())
        else:
            self.stats.evaluations += 1
        return chosen, books

    def _decided(self, first_update_ns: int, decided_ns: int) -> None:
        """Count a decision and its time from the frame that asked for it (`decided_ns`: when
        it was made)."""
        self.stats.evaluations += 1
        took_us = (decided_ns - first_update_ns) / 1e3
        self.stats.frame_to_decision_us.append(took_us)
        self.stats.frame_to_decision_hist.observe(took_us)

    def _admit(self, cand: Candidate) -> Opportunity | str:
        """Guard, risk and sizing for one candidate: a sized opportunity or the reason not."""
        for book in (cand.buy, cand.sell):
            problem = self.risk.book_problem(book)
            if problem:
                return f"{problem}:{book.venue}"
        problem = self.entry_refusal(cand.symbol)
        if problem:
            return problem
        binding, cap = self.size_cap(cand)
        return self.sized(cand, binding, cap)

    def entry_refusal(self, symbol: Symbol) -> str | None:
        """Why no trade on `symbol` may start now whatever its books say (None: it may): the
        kill switch, the open-order and exposure limits, the fleet, a residual, the cooldown."""
        executor = self.executor
        open_orders = executor.in_flight
        for venue in self.venues.values():  # a loop, not a generator: asked on every crossing
            open_orders += open_order_count(venue)
        problem = self.risk.entry_problem(open_orders, executor.exposure_notional)
        problem = problem or self.fleet.entry_problem()
        if problem:
            return problem
        if symbol in executor.residuals:
            return "unhedged_exposure"
        if time.monotonic() < self._cooldown_until.get(symbol, 0.0):
            return "cooldown"
        return None

    def size_cap(self, cand: Candidate) -> tuple[str, float]:
        """The tightest of the risk room and both legs' balances for `cand`: (which binds, how
        many base units). Reads only the buy venue's best ask and each leg's worst chunk price
        from the books; the rest is account state (positions, exposure, balances, fees).
        ArmedDecisions keeps its answers keyed by what it reads (`_inputs`): a new input
        read here must be added there (tests/arb/test_armed.py changes each one)."""
        closing = cand.kind is Kind.BASIS_CLOSE
        price = cand.buy.asks[0][0]
        room = self.risk.room(
            cand.symbol,
            price,
            self.pnl.position(cand.buy.venue, cand.symbol),
            self.pnl.position(cand.sell.venue, cand.symbol),
            self.executor.exposure_notional,
            reducing=closing,
        )
        caps = {room.binding: room.quantity}
        for book, side in ((cand.buy, Side.BUY), (cand.sell, Side.SELL)):
            venue = self.venues[book.venue]
            if closing and book.is_futures:
                continue  # buying the perp back needs no margin
            worst = cand.chunks[-1].buy_price if side is Side.BUY else cand.chunks[-1].sell_price
            caps[f"balance:{book.venue}"] = balance_cap(
                book, side, worst, venue.balances, self.config.futures_leverage
            )
        if closing:
            caps["basis_position"] = self.basis[(cand.sell.venue, cand.buy.venue, cand.symbol)].quantity
        binding = min(caps, key=caps.__getitem__)
        return binding, caps[binding]

    def sized(self, cand: Candidate, binding: str, cap: float) -> Opportunity | str:
        """`cand` sized up to `cap` base units (`binding`: the limit that set it), or why not."""
        sized = size_candidate(cand, cap)
        if isinstance(sized, str):
            depth = sum(ch.quantity for ch in cand.chunks)
            return f"{sized}({binding})" if cap < depth else sized
        if sized.kind is Kind.BASIS_OPEN:
            funding = self.funding_bps.get((sized.sell.venue, sized.symbol), 0.0)
            sized = msgspec.structs.replace(
                sized, expected_pnl=sized.expected_pnl + sized.sell.notional * funding / 1e4
            )
        return sized

    def _skip(self, cand: Candidate, reason: str) -> None:
        pair = f"{cand.buy.venue}>{cand.sell.venue}"
        self.stats.record(
            Decision(time.time(), cand.symbol, cand.kind.value, pair, cand.edge_bps, 0.0, "skipped", reason)
        )
        if self.journal is not None:
            self.journal.record(journaling.skipped(cand, reason, time.time()))
        key = (cand.symbol, cand.kind.value, pair)
        level = logging.DEBUG if self._last_skip.get(key) == reason else logging.INFO
        self._last_skip[key] = reason
        log_kv(
            log,
            level,
            "skipped",
            symbol=cand.symbol,
            kind=cand.kind.value,
            pair=pair,
            edge_bps=cand.edge_bps,
            reason=reason,
        )

    def _record(
        self, opp: Opportunity, action: str, outcome: str = "", trade_no: int = 0, strategy: str = ""
    ) -> None:
        if self.journal is not None:
            self.journal.record(journaling.decided(opp, action, outcome, trade_no, time.time(), strategy))
        self.stats.record(
            Decision(
                time.time(),
                opp.symbol,
                opp.kind.value,
                opp.pair,
                opp.edge_bps,
                opp.quantity,
                action,
                expected_pnl=opp.expected_pnl,
                outcome=outcome,
            )
        )
        # A signal repeats on every update while it lasts: log it once at INFO, then DEBUG.
        key = (opp.symbol, opp.kind.value, opp.pair)
        level = logging.DEBUG if action == "signal" and self._last_skip.get(key) == "signal" else logging.INFO
        self._last_skip[key] = action
        log_kv(
            log,
            level,
            action,
            symbol=opp.symbol,
            kind=opp.kind.value,
            pair=opp.pair,
            edge_bps=opp.edge_bps,
            qty=opp.quantity,
            buy_px=opp.buy.price,
            sell_px=opp.sell.price,
            expected_pnl=opp.expected_pnl,
            outcome=outcome,
        )

    def _fleet_refused(self, opp: Opportunity, reason: str) -> None:
        """The fleet had no room for the trade chosen (another member took it first). The
        symbol waits before it is tried again: the books still cross, and asking the fleet
        again at once would only be refused again (thousands of times a second)."""
        retry_at = time.monotonic() + _FLEET_REFUSED_WAIT_S
        self._cooldown_until[opp.symbol] = max(self._cooldown_until.get(opp.symbol, 0.0), retry_at)
        self.stats.record(
            Decision(time.time(), opp.symbol, opp.kind.value, opp.pair, opp.edge_bps, 0.0, "skipped", reason)
        )
        log_kv(
            log, logging.INFO, "skipped", symbol=opp.symbol, kind=opp.kind.value, pair=opp.pair, reason=reason
        )

    # -- execution -------------------------------------------------------------------------
    async def execute(self, opp: Opportunity) -> ExecutionResult:
        """Execute `opp` (its cooldown starts now) and account for it."""
        return await self._finish(opp, self._begin(opp))

    def _begin(self, opp: Opportunity) -> asyncio.Task[ExecutionResult]:
        """The execution started: both orders written where the venues can (Executor.start),
        then the symbol's cooldown set (also when starting failed)."""
        try:
            return self.executor.start(opp)
        finally:
            self._cooldown_until[opp.symbol] = time.monotonic() + self.config.cooldown_s

    async def _finish(self, opp: Opportunity, running: asyncio.Future[ExecutionResult]) -> ExecutionResult:
        """Wait for the execution, then attribute, record and journal it."""
        result = await running
        strategy = self.strategy_of(opp)
        self._attribute(opp, result, strategy)
        self._trade_no += 1
        if result.residual:
            self._residual_trade[opp.symbol] = (self._trade_no, strategy, journaling.seen_prices(opp))
        self._record(opp, "taken", result.outcome, self._trade_no, strategy)
        if self.journal is not None:
            for event in journaling.legs(self._trade_no, result, time.time(), strategy):
                self.journal.record(event)
            if result.residual:
                self.risk_event("unhedged", detail=str(opp.symbol), value=result.residual)
        if opp.kind is not Kind.SPOT_SPOT:
            self._update_basis(opp, result)
        self.check_pnl()
        return result

    def strategy_of(self, opp: Opportunity) -> str:
        return strategy_for(self.config.strategies, opp.kind, opp.buy.venue, opp.sell.venue) or "other"

    def _attribute(self, opp: Opportunity, result: ExecutionResult, name: str) -> None:
        """Book the trade's orders (legs and hedges) under its strategy."""
        if name not in self.by_strategy.books:
            return
        for leg in (result.buy, result.sell, *result.hedges):
            if leg.order is not None:
                self.by_strategy.claim(name, leg.leg.venue, leg.order.order_id)
        if opp.kind is not Kind.SPOT_SPOT:
            perp = opp.sell if opp.kind is Kind.BASIS_OPEN else opp.buy
            self.by_strategy.own_perp(name, perp.venue, opp.symbol)

    def _retried(self, hedges: list[LegResult]) -> None:
        """A residual retry's orders belong to the trade that left the residual: book them under
        its strategy and journal them under its number."""
        for hedge in hedges:
            trade = self._residual_trade.get(hedge.leg.symbol)
            if trade is None:
                continue
            trade_no, name, seen = trade
            if hedge.order is not None and name in self.by_strategy.books:
                self.by_strategy.claim(name, hedge.leg.venue, hedge.order.order_id)
            if self.journal is not None:
                self.journal.record(journaling.retry(trade_no, name, hedge, seen, time.time()))
        for symbol, (_, name, _) in list(self._residual_trade.items()):
            if name in self.by_strategy.books:
                self.by_strategy.claim_symbol(name, symbol)  # a retry whose order id was never known
            if symbol not in self.executor.residuals:
                del self._residual_trade[symbol]

    def _update_basis(self, opp: Opportunity, result: ExecutionResult) -> None:
        """Track what is really held as a basis: the smaller of spot bought and perp sold."""
        change: dict[str, float] = {opp.buy.venue: 0.0, opp.sell.venue: 0.0}
        for leg in (result.buy, result.sell, *result.hedges):
            if leg.leg.venue in change:
                change[leg.leg.venue] += leg.leg.side.sign * leg.filled
        if opp.kind is Kind.BASIS_OPEN:
            key = (opp.buy.venue, opp.sell.venue, opp.symbol)
            held = min(change[opp.buy.venue], -change[opp.sell.venue])
            if held > 0:
                # The price edge only: the close threshold is about the basis reverting, and the
                # funding counted in the opening edge is earned by holding, not by closing.
                funding = self.funding_bps.get((opp.sell.venue, opp.symbol), 0.0)
                self.basis.setdefault(key, BasisPosition()).add(held, opp.edge_bps - funding)
        else:
            key = (opp.sell.venue, opp.buy.venue, opp.symbol)
            closed = min(-change[opp.sell.venue], change[opp.buy.venue])
            pos = self.basis[key]
            pos.quantity = max(0.0, pos.quantity - max(0.0, closed))
