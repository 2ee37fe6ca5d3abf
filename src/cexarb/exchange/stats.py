"""Counters of a private composite (plain attributes: bumped on the hot path), and the typed
report get_trading_stats is built from."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any

import msgspec


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

    def recovery(self) -> RecoveryCounters:
        """A snapshot of the order and recovery counters the trading stats report."""
        return RecoveryCounters(**{name: getattr(self, name) for name in RecoveryCounters.__struct_fields__})


class RecoveryCounters(msgspec.Struct, kw_only=True):
    """Orders placed and canceled, lost places, and how the private state was repaired."""

    orders_placed: int
    orders_canceled: int
    places_unknown: int
    places_resolved: int
    private_disconnects: int
    private_reconnects: int
    private_stream_restarts: int
    last_reconnect_ms: int
    sweeps: int
    sweep_failures: int
    last_resync_ms: int
    last_sweep_error: str
    degraded_polls: int
    vanished_queried: int
    orders_lost: int
    fills_recovered: int
    unknown_order_updates: int
    unknown_orders_refuted: int
    unknown_orders_unconfirmed: int
    settle_retries: int


class FeeCounters(msgspec.Struct, kw_only=True):
    """Fee-rate loads, failed loads, and how many symbols have this account's own rates."""

    fee_loads: int
    fee_load_errors: int
    symbols_with_account_fees: int


class ConnectionFlags(msgspec.Struct, kw_only=True):
    """The seed's connection_status: is each private channel working."""

    private_rest: bool
    private_ws: bool


class ExecutedCacheStats(msgspec.Struct, kw_only=True):
    """The seed plan's executed-orders cache metrics: size, bound, hits and misses (a lookup
    the open set did not answer), and the hit rate of repeated lookups."""

    size: int
    capacity_per_symbol: int
    hits: int
    misses: int
    hit_rate: float
    repeat_lookups: int
    repeat_hits: int
    repeat_hit_rate: float
    evicted: int


class TierCounts(msgspec.Struct, kw_only=True):
    """Which tier answered get_active_order, by tier."""

    open: int
    executed: int
    rest: int
    none: int


# Fields whose own fields sit at the top level of the dict (the dict predates the struct).
_FLATTENED = ("recovery", "fees")


class TradingStatsReport(msgspec.Struct, kw_only=True):
    """A private composite's trading stats, typed; `as_dict()` is get_trading_stats's dict."""

    # The seed interface's keys (CompositePrivateExchange spec, get_trading_stats).
    total_balances: int
    open_orders_count: int
    executed_orders_count: int
    has_credentials: bool
    connection_status: ConnectionFlags
    # The richer ones.
    venue: str
    state: str
    balances: int
    open_orders: int
    pending_orders: int
    executed_orders: int
    executed_symbols: list[str]
    executed_cache_hit_rate: float
    executed_evicted: int
    executed_cache: ExecutedCacheStats
    active_order_tiers: TierCounts
    last_active_order_tier: str
    events_processed: int
    order_updates: int
    order_updates_ignored: int
    open_to_executed: int
    connections: dict[str, str]
    background_failures: int
    recovery: RecoveryCounters
    fees: FeeCounters
    public: dict[str, Any]
    listener_errors: int

    def as_dict(self) -> dict[str, Any]:
        """The spec's dict: nested structs as dicts, the recovery and fee counters at the top level."""
        out: dict[str, Any] = {}
        for name in self.__struct_fields__:
            value = getattr(self, name)
            if name in _FLATTENED:
                out.update(msgspec.structs.asdict(value))
            elif isinstance(value, msgspec.Struct):
                out[name] = msgspec.structs.asdict(value)
            else:
                out[name] = value
        return out


class FuturesTradingStatsReport(TradingStatsReport, kw_only=True):
    """The private stats plus position metrics (futures only, as the seed plan moves them)."""

    active_positions: int
    positions: dict[str, float]


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
