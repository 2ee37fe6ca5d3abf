"""Counters of a private composite (plain attributes: bumped on the hot path)."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any


@dataclass(slots=True)
class TradingStats:
    events: int = 0
    # Which tier answered get_active_order, and the last one (tests assert it).
    tier_open: int = 0
    tier_executed: int = 0
    tier_rest: int = 0
    tier_none: int = 0  # no tier knew the order (get_active_order returned None)
    last_tier: str = ""
    orders_placed: int = 0
    orders_canceled: int = 0
    # Places whose reply was lost, and how many the client-id lookup settled.
    places_unknown: int = 0
    places_resolved: int = 0
    private_disconnects: int = 0
    private_reconnects: int = 0
    private_stream_restarts: int = 0
    last_reconnect_ms: int = 0
    sweeps: int = 0
    sweep_failures: int = 0
    last_resync_ms: int = 0
    last_sweep_error: str = ""
    degraded_polls: int = 0
    vanished_queried: int = 0
    orders_lost: int = 0
    fills_recovered: int = 0
    # Stream updates about orders not tracked here, and those the venue said do not exist.
    unknown_order_updates: int = 0
    unknown_orders_refuted: int = 0
    # ... and those whose confirmation failed (given up: the next sweep finds real ones).
    unknown_orders_unconfirmed: int = 0
    # Delayed settles of a lost place that failed and were retried on the timer.
    settle_retries: int = 0

    def recovery_dict(self) -> dict[str, Any]:
        return {
            "orders_placed": self.orders_placed,
            "orders_canceled": self.orders_canceled,
            "places_unknown": self.places_unknown,
            "places_resolved": self.places_resolved,
            "private_disconnects": self.private_disconnects,
            "private_reconnects": self.private_reconnects,
            "private_stream_restarts": self.private_stream_restarts,
            "last_reconnect_ms": self.last_reconnect_ms,
            "sweeps": self.sweeps,
            "sweep_failures": self.sweep_failures,
            "last_resync_ms": self.last_resync_ms,
            "last_sweep_error": self.last_sweep_error,
            "degraded_polls": self.degraded_polls,
            "vanished_queried": self.vanished_queried,
            "orders_lost": self.orders_lost,
            "fills_recovered": self.fills_recovered,
            "unknown_order_updates": self.unknown_order_updates,
            "unknown_orders_refuted": self.unknown_orders_refuted,
            "unknown_orders_unconfirmed": self.unknown_orders_unconfirmed,
            "settle_retries": self.settle_retries,
        }


class RepeatLookups:
    """get_active_order lookups repeated for the same order, and how many of those about a
    finished order the executed cache answered (the seed plan's "hit rate for repeat lookups":
    a first lookup of an order this composite never saw can only be a miss)."""

    __slots__ = ("_seen", "_capacity", "lookups", "hits")

    def __init__(self, capacity: int = 4096) -> None:
        self._seen: OrderedDict[Hashable, None] = OrderedDict()
        self._capacity = capacity
        self.lookups = 0
        self.hits = 0

    def note(self, key: Hashable, tier: str) -> None:
        """One lookup of `key`, answered by `tier` ("open", "executed", "rest" or "none")."""
        seen = self._seen
        if key not in seen:
            seen[key] = None
            if len(seen) > self._capacity:
                seen.popitem(last=False)
            return
        seen.move_to_end(key)
        if tier != "open":  # an open order is the open set's job, not the cache's
            self.lookups += 1
            if tier == "executed":
                self.hits += 1

    @property
    def hit_rate(self) -> float:
        return self.hits / self.lookups if self.lookups else 0.0
