"""Repairing private state after a stream drop or a REST outage.

Mixed into CompositePrivateExchange. On every private reconnect one REST sweep
restores the truth: open orders, how the orders that left the open set ended
(each queried once), fills since the last one seen, balances (and positions on
futures). While the stream is down the same sweep polls; a stream that closed
for good is recreated; a sweep that fails (REST down) is retried with backoff.
Everything is reported through the connection listeners and the stats.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Coroutine
from typing import Any

from cexarb.exchange.public import now_ms
from cexarb.model import ConnectionState, Execution, Order, Symbol
from cexarb.model.errors import OrderNotFound

log = logging.getLogger("cexarb.exchange")
# The fill floor reaches this far before initialize began (the venue clock's offset is
# measured, not exact).
_FLOOR_MARGIN_MS = 100


class TouchWatch:
    """Keys the stream updated while a REST load was in flight: the stream's value is newer."""

    __slots__ = ("active", "_open")

    def __init__(self) -> None:
        self.active = False
        self._open: list[set[Any]] = []

    def begin(self) -> set[Any]:
        touched: set[Any] = set()
        self._open.append(touched)
        self.active = True
        return touched

    def end(self, touched: set[Any]) -> None:
        self._open.remove(touched)
        self.active = bool(self._open)

    def touch(self, key: Any) -> None:
        for touched in self._open:
            touched.add(key)


class PrivateRecovery:
    """Needs the attributes CompositePrivateExchange sets (tracker, rest, stats, ...)."""

    def _init_recovery(self) -> None:
        self._balance_watch = TouchWatch()
        self._sweep_task: asyncio.Task | None = None
        self._poll_task: asyncio.Task | None = None
        self._seen_trades: dict[tuple[Symbol, str], None] = {}
        self._last_fill_ms: dict[Symbol, int] = {}
        # The venue clock's measured offset when each last fill (and the floor) was recorded.
        self._last_fill_offset: dict[Symbol, float] = {}
        self._venue_clock: Any = None
        self._reset_recovery()

    def _reset_recovery(self) -> None:
        self._private_up = False
        self._private_was_down = False
        self._private_ws_lost = False
        self._rest_status = "unknown"
        self._sweep_again = False
        self._seen_trades.clear()
        self._last_fill_ms.clear()
        self._last_fill_offset.clear()
        self._fill_floor_ms = 0
        self._floor_offset = 0.0
        # Venue time the private stream was last known complete (None: it is, now).
        self._gap_since_ms: int | None = None
        self._gap_offset = 0.0

    def _mark_fill_floor(self) -> None:
        """Fills from when initialize began are news (earlier ones are not): the floor of the
        first fill catch-up, in venue time, with the gap open until a confirmed sweep."""
        rest = self._private_rest
        # The connector's clock (venue time = local + measured offset), if it exposes one.
        self._venue_clock = getattr(rest, "clock", None) or getattr(
            getattr(rest, "http", None), "clock", None
        )
        clock = self._venue_clock
        venue_now = clock.now_ms() if clock is not None else now_ms()
        since_init = max(0, now_ms() - self._init_started_ms)
        self._fill_floor_ms = venue_now - since_init - _FLOOR_MARGIN_MS
        self._floor_offset = self._clock_offset()
        self._gap_since_ms = self._fill_floor_ms
        self._gap_offset = self._floor_offset

    def _venue_now_ms(self) -> int:
        clock = self._venue_clock
        return clock.now_ms() if clock is not None else now_ms()

    def _open_gap(self) -> None:
        """The stream broke: fills from here on may be missing until a confirmed sweep."""
        if self._gap_since_ms is None:
            self._gap_since_ms = self._venue_now_ms() - self.settings.fills_lookback_ms
            self._gap_offset = self._clock_offset()

    def _clock_offset(self) -> float:
        clock = self._venue_clock
        return clock.offset_ms if clock is not None else 0.0

    def _record_fill(self, execution: Execution) -> bool:
        """False for a fill already seen (stream and REST catch-up overlap)."""
        if execution.trade_id:
            key = (execution.symbol, execution.trade_id)
            seen = self._seen_trades
            if key in seen:
                return False
            seen[key] = None
            if len(seen) > self.settings.seen_trades:
                del seen[next(iter(seen))]
        if execution.timestamp > self._last_fill_ms.get(execution.symbol, 0):
            self._last_fill_ms[execution.symbol] = execution.timestamp
            self._last_fill_offset[execution.symbol] = self._clock_offset()
        return True

    # -- stream state -----------------------------------------------------------------

    def _on_private_state(self, state: ConnectionState) -> None:
        stats = self._stats
        if state is ConnectionState.DISCONNECTED:
            self._open_gap()
            if self._private_up:
                stats.private_disconnects += 1
            self._private_up = False
            self._private_was_down = True
            self._start_polling()
        elif state is ConnectionState.RECONNECTED or (
            state is ConnectionState.CONNECTED and self._private_was_down
        ):
            self._private_up = True
            self._private_was_down = False
            stats.private_reconnects += 1
            stats.last_reconnect_ms = now_ms()
            self._schedule_sweep()
        elif state is ConnectionState.CONNECTED:
            self._private_up = True
        elif state is ConnectionState.CLOSED and not self._closed:
            # The stream gave up on its own: poll over REST and recreate it.
            self._open_gap()
            self._private_up = False
            self._private_was_down = True
            self._private_ws_lost = True
            self._start_polling()

    @property
    def private_state_fresh(self) -> bool:
        """True while the private stream is up and the last sweep (if any) succeeded."""
        return self._private_up and self._rest_status != "failing"

    def _start_polling(self) -> None:
        if not self._closed and (self._poll_task is None or self._poll_task.done()):
            self._poll_task = self._spawn(self._poll_while_down())

    async def _poll_while_down(self) -> None:
        while True:
            await asyncio.sleep(self.settings.degraded_poll_s)
            if self._closed or self._private_up:
                return
            self._stats.degraded_polls += 1
            try:
                if self._private_ws_lost:
                    await self._restart_private_ws()
                self._schedule_sweep()
            except Exception as exc:  # keep polling: this task is what brings the state back
                self._count_error(exc)

    async def _restart_private_ws(self) -> None:
        old = self._private_ws
        try:
            ws = self._create_private_ws_with_handlers(self._private_handlers())
            if inspect.isawaitable(ws):
                ws = await ws
        except Exception as exc:
            self._count_error(exc)
            return
        try:
            await ws.start()
        except Exception as exc:
            self._count_error(exc)
            await _close_quietly(ws)
            return
        self._clients = [(step, c) for step, c in self._clients if c is not old] + [("private_ws", ws)]
        self._private_ws = ws
        await _close_quietly(old)
        self._private_ws_lost = False
        self._stats.private_stream_restarts += 1
        self._on_private_state(ConnectionState.RECONNECTED)
        self._on_connection(ConnectionState.RECONNECTED)

    # -- the sweep ----------------------------------------------------------------------

    def _schedule_sweep(self, *, confirm: bool = False) -> None:
        """A sweep (then its confirming pass); `confirm`: only the confirming pass."""
        if self._closed:
            return
        if self._sweep_task is not None and not self._sweep_task.done():
            self._sweep_again = True  # one more pass after the running one
            return
        self._sweep_task = self._spawn(self._sweep_until_done(confirm))

    async def _sweep_until_done(self, confirming: bool = False) -> None:
        settings = self.settings
        delay = settings.resync_confirm_s if confirming else settings.resync_delay_s
        confirmed = confirming
        while not self._closed:
            await asyncio.sleep(delay)
            self._sweep_again = False
            try:
                await self.resync_private_state()
            except Exception as exc:
                # REST is the missing side now: keep trying until it answers.
                stats = self._stats
                stats.sweep_failures += 1
                stats.last_sweep_error = f"{type(exc).__name__}: {exc}"
                self._rest_status = "failing"
                self._count_error(exc)
                delay = min(max(delay * 2, 0.1), settings.sweep_retry_max_s)
                continue
            if self._sweep_again:
                # Another break meanwhile: it needs its own pass and confirmation.
                delay = settings.resync_delay_s
                confirmed = False
                continue
            if confirmed or not self._private_up:
                if confirmed:
                    self._gap_since_ms = None  # the stream has carried everything since
                return
            # One more pass once the stream surely carries everything: an update the venue sent
            # after this pass's REST reads but before it applied our re-subscription reached
            # neither the stream nor the sweep.
            confirmed = True
            delay = settings.resync_confirm_s

    async def resync_private_state(self) -> None:
        """One REST sweep of everything private; raises if REST fails (state is then partial)."""
        await self._run_parallel(
            [self._sweep_orders(), self.reload_balances(), self._catch_up_fills(), *self._reloads()]
        )
        self._rest_status = "ok"
        self._stats.sweeps += 1
        self._stats.last_resync_ms = now_ms()

    def _reloads(self) -> list[Coroutine[Any, Any, Any]]:
        """More private state a sweep reloads (futures: positions)."""
        return []

    async def _sweep_orders(self) -> None:
        listed: set[tuple[Symbol, str]] = set()
        for order in await self._private_rest.get_open_orders():
            listed.add((order.symbol, order.order_id))
            self._apply_order(order)
        tracker = self._tracker
        vanished = [key for key in tracker.open_ids() if key not in listed]
        unacknowledged = [o for cid, o in tracker.pending.items() if cid not in self._placing]
        await asyncio.gather(
            *(self._settle_vanished(symbol, order_id) for symbol, order_id in vanished),
            *(self._settle_pending(order) for order in unacknowledged),
        )

    async def _settle_vanished(self, symbol: Symbol, order_id: str) -> None:
        """Query once how an order that left the open set ended."""
        if self._tracker.get_open(symbol, order_id) is None:
            return  # settled meanwhile (stream or another query)
        try:
            order = await self._lookup_order(symbol, order_id)
        except OrderNotFound:
            if self._tracker.discard_open(symbol, order_id) is not None:
                self._stats.orders_lost += 1
                log.warning("%s: open order %s %s unknown to the venue; dropped", self.name, symbol, order_id)
            return
        self._stats.vanished_queried += 1
        self._apply_order(order)

    async def _settle_pending(self, pending: Order) -> None:
        cid = pending.client_order_id
        symbol = pending.symbol
        if cid not in self._tracker.pending or cid in self._placing:
            return
        try:
            order = await self._lookups.run(
                ("cid", symbol, cid), lambda: self._private_rest.get_order(symbol, client_order_id=cid)
            )
        except OrderNotFound:
            if cid not in self._placing:
                self._tracker.drop_pending(cid)
            return
        if not order.client_order_id:
            order.client_order_id = cid
        self._apply_order(order)

    def _fills_since(self, symbol: Symbol) -> int:
        """From a little before the last fill seen (clocks differ; duplicates are dropped), or
        from initialize when none was seen: fills from before it are not news."""
        last = self._last_fill_ms.get(symbol)
        if last is None:
            since, offset = self._fill_floor_ms, self._floor_offset
        else:
            since, offset = last - self.settings.fills_lookback_ms, self._last_fill_offset.get(symbol, 0.0)
        now_offset = self._clock_offset()
        # A venue clock measured to have gone back since then stamps its later fills earlier.
        since += int(min(0.0, now_offset - offset))
        if self._gap_since_ms is not None:
            # Fills delivered after the break do not prove the earlier ones arrived: reach back
            # to when the stream was last known complete.
            since = min(since, self._gap_since_ms + int(min(0.0, now_offset - self._gap_offset)))
        return since

    async def _catch_up_fills(self) -> None:
        tracker = self._tracker
        symbols = set(self._symbols) | set(self._last_fill_ms) | {s for s, o in tracker.open.items() if o}
        batches = await asyncio.gather(
            *(
                self._private_rest.get_fills_since(symbol, self._fills_since(symbol))
                for symbol in sorted(symbols)
            )
        )
        for batch in batches:
            for execution in sorted(batch, key=_by_time):
                if self._record_fill(execution):
                    self._stats.fills_recovered += 1
                    self._on_execution(execution)


def _by_time(execution: Execution) -> int:
    return execution.timestamp


async def _close_quietly(client: Any) -> None:
    if client is None:
        return
    try:
        await client.close()
    except Exception as exc:
        log.warning("closing %r failed: %r", type(client).__name__, exc)
