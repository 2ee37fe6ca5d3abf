"""Tunable session rules of the MEXC front-end. Defaults are MEXC's documented values
(mexc_spot.md §3.4, §5, §6.1); tests shorten the timers."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class MexcSpotOptions:
    # A listen key lives this long after its creation or last keepalive (PUT).
    listen_key_ttl_s: float = 3600.0
    max_listen_keys: int = 60  # valid keys per account
    max_connections_per_key: int = 5
    max_subscriptions: int = 30  # per connection
    # A connection with no valid subscription for this long is closed.
    no_subscription_timeout_s: float = 30.0
    # A subscribed connection with no traffic either way (data or PING) for this long is closed.
    idle_timeout_s: float = 60.0
    # More client messages than this within one second closes the connection.
    max_messages_per_s: int = 100
    # A connection lives at most this long.
    max_connection_s: float = 86400.0
    # How often expiry and idle rules are checked.
    housekeeping_interval_s: float = 1.0
