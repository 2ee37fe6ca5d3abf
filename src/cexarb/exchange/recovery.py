"""Repairing private state after a stream drop or a REST outage.

`StateRepairer` is built by a private composite once its REST client exists. On every
private reconnect one REST sweep restores the truth: open orders, how the orders that left
the open set ended (each queried once), fills since the last one seen, balances (and
positions on futures). While the stream is down the same sweep polls; a stream that closed
for good is recreated; a sweep that fails (REST down) is retried with backoff. Everything is
reported through the emitter and the stats.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine, Iterable
from typing import Any

from cexarb.exchange.emitter import Emitter
from cexarb.exchange.fills import FillLedger
from cexarb.exchange.orders import OrderTracker
from cexarb.exchange.public import now_ms, run_parallel
from cexarb.exchange.settings import CompositeSettings
from cexarb.exchange.singleflight import SingleFlight
from cexarb.exchange.stats import TradingStats
from cexarb.exchange.streamstate import StreamState
from cexarb.model import ConnectionState, Execution, Order, Symbol
from cexarb.model.errors import OrderNotFound
from cexarb.venues.contracts import PrivateRest

log = logging.getLogger("cexarb.exchange")

_UP = StreamState.UP


class TouchWatch:
    """Keys the stream updated while a REST load was in flight: the stream's value is newer."""

    __slots__ = ("active", "_open")

    def __init__(self) -> None:
        self.active = False
        self._open: list[set[Any]] = []

    def begin(self) -> set[Any]:
        """Start watching for one load; returns the set the stream's updates land in."""
        touched: set[Any] = set()
        self._open.append(touched)
        self.active = True
        return touched

    def end(self, touched: set[Any]) -> None:
        """The load answered: stop watching for it."""
        self._open.remove(touched)
        self.active = bool(self._open)

    def touch(self, key: Any) -> None:
        """The stream updated `key`: every load in flight must keep the stream's value."""
        for touched in self._open:
            touched.add(key)


def lookup_order(lookups: SingleFlight, rest: PrivateRest, symbol: Symbol, order_id: str) -> Awaitable[Order]:
    """The venue's answer for one order id; concurrent askers share one request."""
    return lookups.run(("order", symbol, order_id), lambda: rest.get_order(symbol, order_id=order_id))


class StateRepairer:
    """The private stream's state, the sweeps that repair what it missed, and the polling and
    stream recreation while it is down."""

    def __init__(
        self,
        tracker: OrderTracker,
        rest: PrivateRest,
        settings: CompositeSettings,
        emitter: Emitter,
        *,
        stats: TradingStats,
        fills: FillLedger,
        lookups: SingleFlight,
        placing: set[str],
        reload_balances: Callable[[], Coroutine[Any, Any, Any]],
        reloads: Callable[[], list[Coroutine[Any, Any, Any]]] = list,
        symbols: Callable[[], Iterable[Symbol]] = tuple,
        restart_stream: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self._tracker = tracker
        self._rest = rest
        self._settings = settings
        self._emit = emitter
        self._stats = stats
        self._fills = fills
        self._lookups = lookups
        # Client ids whose place request is in flight: their outcome is that call's job.
        self._placing = placing
        self._reload_balances = reload_balances
        # More private state a sweep reloads (futures: positions).
        self._reloads = reloads
        self._symbols = symbols
        self._restart_stream = restart_stream
        self.state = StreamState.NEW
        # "unknown" until the first load or sweep; then "ok", "failing", "closed".
        self.rest_status = "unknown"
        self._sweep_task: asyncio.Task | None = None
        self._poll_task: asyncio.Task | None = None
        self._sweep_again = False

    @property
    def fresh(self) -> bool:
        """True while the stream is up and the last sweep (if any) succeeded."""
        return self.state is _UP and self.rest_status != "failing"

    def started(self, *, streaming: bool) -> None:
        """The initial loads answered (REST is as proven as after a sweep). A venue may apply a
        subscription a little after confirming it, and fills made during initialize before it
        reach only REST: one confirming sweep closes both gaps. Without a stream, poll."""
        self.rest_status = "ok"
        if streaming and self.state is StreamState.NEW:
            self.state = _UP
        self.schedule_sweep(confirm=True)
        if not streaming:
            # REST-only (the factory made no stream): private state is polled, never "fresh".
            self.start_polling()

    def close(self) -> None:
        """Nothing keeps private state current any more: say so."""
        if self.state is _UP:
            self.state = StreamState.DOWN
        self.rest_status = "closed"

    # -- stream state -----------------------------------------------------------------

    def on_stream_state(self, state: ConnectionState) -> None:
        """Follow the private stream: a drop opens the fill gap and polls, a reconnect sweeps,
        a stream that closed on its own is polled over and recreated."""
        stats = self._stats
        current = self.state
        if state is ConnectionState.DISCONNECTED:
            self._fills.open_gap()
            if current is _UP:
                stats.private_disconnects += 1
            if current is not StreamState.LOST:
                self.state = StreamState.DOWN
            self.start_polling()
        elif state is ConnectionState.RECONNECTED or (state is ConnectionState.CONNECTED and current.broken):
            self.state = _UP
            stats.private_reconnects += 1
            stats.last_reconnect_ms = now_ms()
            self.schedule_sweep()
        elif state is ConnectionState.CONNECTED:
            self.state = _UP
        elif state is ConnectionState.CLOSED and not self._emit.closed():
            # The stream gave up on its own: poll over REST and recreate it.
            self._fills.open_gap()
            self.state = StreamState.LOST
            self.start_polling()

    def start_polling(self) -> None:
        """Poll private state over REST until the stream is up again (one poller at a time)."""
        if not self._emit.closed() and (self._poll_task is None or self._poll_task.done()):
            self._poll_task = self._emit.spawn(self._poll_while_down())

    async def _poll_while_down(self) -> None:
        emit = self._emit
        while True:
            await asyncio.sleep(self._settings.degraded_poll_s)
            if emit.closed() or self.state is _UP:
                return
            self._stats.degraded_polls += 1
            try:
                if self.state is StreamState.LOST and self._restart_stream is not None:
                    await self._restart_stream()
                self.schedule_sweep()
            except Exception as exc:  # keep polling: this task is what brings the state back
                emit.count_error(exc)

    # -- the sweep ----------------------------------------------------------------------

    def schedule_sweep(self, *, confirm: bool = False) -> None:
        """A sweep (then its confirming pass); `confirm`: only the confirming pass."""
        if self._emit.closed():
            return
        if self._sweep_task is not None and not self._sweep_task.done():
            self._sweep_again = True  # one more pass after the running one
            return
        self._sweep_task = self._emit.spawn(self._sweep_until_done(confirm))

    async def _sweep_until_done(self, confirming: bool = False) -> None:
        settings = self._settings
        emit = self._emit
        delay = settings.resync_confirm_s if confirming else settings.resync_delay_s
        confirmed = confirming
        while not emit.closed():
            await asyncio.sleep(delay)
            self._sweep_again = False
            try:
                await self.resync()
            except Exception as exc:
                # REST is the missing side now: keep trying until it answers.
                stats = self._stats
                stats.sweep_failures += 1
                stats.last_sweep_error = f"{type(exc).__name__}: {exc}"
                self.rest_status = "failing"
                emit.count_error(exc)
                delay = min(max(delay * 2, 0.1), settings.sweep_retry_max_s)
                continue
            if self._sweep_again:
                # Another break meanwhile: it needs its own pass and confirmation.
                delay = settings.resync_delay_s
                confirmed = False
                continue
            if confirmed or self.state is not _UP:
                if confirmed:
                    self._fills.close_gap()  # the stream has carried everything since
                return
            # One more pass once the stream surely carries everything: an update the venue sent
            # after this pass's REST reads but before it applied our re-subscription reached
            # neither the stream nor the sweep.
            confirmed = True
            delay = settings.resync_confirm_s

    async def resync(self) -> None:
        """One REST sweep of everything private; raises if REST fails (state is then partial)."""
        await run_parallel(
            [self._sweep_orders(), self._reload_balances(), self._catch_up_fills(), *self._reloads()]
        )
        self.rest_status = "ok"
        self._stats.sweeps += 1
        self._stats.last_resync_ms = now_ms()

    async def _sweep_orders(self) -> None:
        listed: set[tuple[Symbol, str]] = set()
        apply = self._emit.apply_order
        for order in await self._rest.get_open_orders():
            listed.add((order.symbol, order.order_id))
            apply(order)
        tracker = self._tracker
        vanished = [key for key in tracker.open_ids() if key not in listed]
        unacknowledged = [o for cid, o in tracker.pending.items() if cid not in self._placing]
        await asyncio.gather(
            *(self._settle_vanished(symbol, order_id) for symbol, order_id in vanished),
            *(self.settle_pending(order) for order in unacknowledged),
        )

    async def _settle_vanished(self, symbol: Symbol, order_id: str) -> None:
        """Query once how an order that left the open set ended."""
        if self._tracker.get_open(symbol, order_id) is None:
            return  # settled meanwhile (stream or another query)
        try:
            order = await lookup_order(self._lookups, self._rest, symbol, order_id)
        except OrderNotFound:
            if self._tracker.discard_open(symbol, order_id) is not None:
                self._stats.orders_lost += 1
                log.warning("%s: open order %s %s unknown to the venue; dropped", self._emit.venue, symbol, order_id)  # fmt: skip
            return
        self._stats.vanished_queried += 1
        self._emit.apply_order(order)

    async def settle_pending(self, pending: Order) -> None:
        """Ask the venue, by client id, how an unacknowledged order ended; not found (and not
        being placed): it never reached the venue, so it is no longer pending."""
        cid = pending.client_order_id
        symbol = pending.symbol
        if cid not in self._tracker.pending or cid in self._placing:
            return
        rest = self._rest
        try:
            order = await self._lookups.run(
                ("cid", symbol, cid), lambda: rest.get_order(symbol, client_order_id=cid)
            )
        except OrderNotFound:
            if cid not in self._placing:
                self._tracker.drop_pending(cid)
            return
        if not order.client_order_id:
            order.client_order_id = cid
        self._emit.apply_order(order)

    async def _catch_up_fills(self) -> None:
        fills = self._fills
        symbols = (
            set(self._symbols()) | set(fills.symbols()) | {s for s, o in self._tracker.open.items() if o}
        )
        batches = await asyncio.gather(
            *(self._rest.get_fills_since(symbol, fills.since(symbol)) for symbol in sorted(symbols))
        )
        for batch in batches:
            for execution in sorted(batch, key=_by_time):
                if fills.record(execution):
                    self._stats.fills_recovered += 1
                    self._emit.execution(execution)


def _by_time(execution: Execution) -> int:
    return execution.timestamp
