"""Tunables of the composite layer (defaults suit production; tests shorten the delays)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class CompositeSettings:
    # Finished orders kept per symbol; when full the least recently touched fraction goes.
    executed_cache_size: int = 1000
    executed_evict_fraction: float = 0.2
    # Order-book snapshot depth (0: the venue's own default: MEXC 1000 as its book-maintenance
    # guide asks, Gate 100), and how many snapshots a sync tries before backing off.
    book_depth: int = 0
    book_sync_attempts: int = 5
    book_retry_delay_s: float = 0.2
    # After a private reconnect, give the stream's re-subscription a head start before the
    # REST sweep, so nothing falls between the sweep's snapshot and the live stream.
    resync_delay_s: float = 0.05
    # ... and a second sweep this long after a reconnect's first (closes that race for good).
    resync_confirm_s: float = 1.0
    # A failed sweep (REST down) is retried with doubling delays up to this.
    sweep_retry_max_s: float = 5.0
    # While the private stream is down, private state is polled over REST this often.
    degraded_poll_s: float = 2.0
    # A place whose reply was lost: client-id lookups (the venue may lag behind the accept).
    place_lookup_attempts: int = 3
    place_lookup_delay_s: float = 0.2
    # A lost place the lookups did not find stays pending this long (the request may still
    # land: held by a proxy, or queued within the venue's receive window), then is settled.
    lost_place_settle_s: float = 10.0
    # Recent trade ids remembered to drop duplicate fills (stream + REST catch-up).
    seen_trades: int = 4096
    # Futures: funding rates and the account book's funding payments are read this often.
    funding_poll_s: float = 2.0
    # Fill catch-up looks back this far before the last fill seen (venue clocks differ).
    fills_lookback_ms: int = 2000
    # The account's own fee rates are reloaded this often (tiers move with volume; discount-
    # token deduction can be switched on the venue's site).
    fee_refresh_s: float = 600.0
