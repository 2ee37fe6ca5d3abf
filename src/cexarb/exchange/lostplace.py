"""Resolving a place whose reply was lost (timeout, dropped connection, 5xx).

The client order id tells whether the venue has the order: it is looked up a few times (the
venue may lag behind its accept). Not found after a timeout proves nothing (the request may
still land), so the order stays pending and is settled once the venue can no longer accept
it; not found after the venue answered (5xx) means it was not placed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

from cexarb.exchange.emitter import Emitter
from cexarb.exchange.orders import OrderTracker
from cexarb.exchange.settings import CompositeSettings
from cexarb.exchange.stats import TradingStats
from cexarb.model import Order, Symbol
from cexarb.model.errors import ExchangeError, NetworkError, OrderNotFound, OrderStatusUnknown
from cexarb.venues.contracts import PrivateRest


class LostPlaceResolver:
    """Looks a lost place up by client id, and settles the ones left pending later."""

    def __init__(
        self,
        tracker: OrderTracker,
        rest: PrivateRest,
        settings: CompositeSettings,
        emitter: Emitter,
        *,
        stats: TradingStats,
        settle_pending: Callable[[Order], Coroutine[Any, Any, None]],
    ) -> None:
        self._tracker = tracker
        self._rest = rest
        self._settings = settings
        self._emit = emitter
        self._stats = stats
        # Asks the venue how a pending order ended (the repairer's sweep does the same).
        self._settle_pending = settle_pending

    async def resolve(self, symbol: Symbol, cid: str, error: ExchangeError) -> Order:
        """The reply was lost: the client id tells whether the venue has the order.

        Holds no lock: its sleeps between lookups must not delay anything else on the symbol."""
        stats = self._stats
        stats.places_unknown += 1
        tracker = self._tracker
        settings = self._settings
        venue = self._emit.venue
        for attempt in range(settings.place_lookup_attempts):
            seen = tracker.find_by_client_id(symbol, cid)
            if seen is not None:  # the stream told us meanwhile
                stats.places_resolved += 1
                return seen
            try:
                order = await self._rest.get_order(symbol, client_order_id=cid)
            except OrderNotFound:
                await asyncio.sleep(settings.place_lookup_delay_s * (attempt + 1))
                continue
            except ExchangeError as exc:
                self.settle_later(cid)
                raise OrderStatusUnknown(
                    f"place of {cid} on {symbol}: reply lost and lookup failed ({exc.message})",
                    venue=venue,
                    client_order_id=cid,
                ) from exc
            stats.places_resolved += 1
            if not order.client_order_id:
                order.client_order_id = cid
            self._emit.apply_order(order)
            return tracker.find(order.symbol, order.order_id) or order
        if isinstance(error, OrderStatusUnknown):
            # The request may still be on its way (held by a proxy, queued at the venue): not
            # found yet proves nothing. It stays pending, matched by client id if it lands, and
            # is settled for good once the venue can no longer accept it.
            self.settle_later(cid)
            raise OrderStatusUnknown(
                f"place of {cid} on {symbol}: reply lost and the venue does not know the client id yet",
                venue=venue,
                client_order_id=cid,
            ) from error
        # The venue answered (5xx) and then did not know the client id: it was not placed.
        tracker.drop_pending(cid)
        raise NetworkError(
            f"order {cid} on {symbol} was not placed: {error.message}",
            venue=venue,
            code=error.code,
            hint="the venue does not know the client id; it is safe to place the order again",
        ) from error

    def settle_later(self, cid: str) -> None:
        """Settle the pending order `cid` once the venue can no longer accept it."""
        pending = self._tracker.pending.get(cid)
        if pending is not None and not self._emit.closed():
            self._emit.spawn(self._settle_lost_place(pending))

    async def _settle_lost_place(self, pending: Order) -> None:
        """Settle a lost place once the venue can no longer accept it; on failure retry on a
        timer (a stream drop, whose sweep would also settle it, may never come)."""
        cid = pending.client_order_id
        delay = self._settings.lost_place_settle_s
        emit = self._emit
        while not emit.closed():
            await asyncio.sleep(delay)
            if cid not in self._tracker.pending:
                return  # settled meanwhile (stream, sweep)
            try:
                await self._settle_pending(pending)
                return
            except Exception as exc:
                self._stats.settle_retries += 1
                emit.count_error(exc)
                delay = self._settings.degraded_poll_s
