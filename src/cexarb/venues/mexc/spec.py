"""MEXC as the rest of the system knows it before connecting: default endpoints and rate-limit
pools, the credential variables, and its names on the command line and the dashboard.

Data only: config reads it (`cexarb.config.venue_specs`) without loading the connectors.
"""

from __future__ import annotations

from cexarb.config import RateLimitPool, VenueConfig, VenueSpec
from cexarb.model.enums import Market, Venue

SPOT = VenueSpec(
    defaults=VenueConfig(
        venue=Venue.MEXC,
        market=Market.SPOT,
        rest_url="https://api.mexc.com",
        ws_url="wss://wbs-api.mexc.com/ws",
        private_ws_url="wss://wbs-api.mexc.com/ws",
        recv_window_ms=5000,
        # MEXC spot: weight budget per IP / per UID, documented per 10 s.
        rate_limits={"default": RateLimitPool(500, 10.0), "orders": RateLimitPool(500, 10.0)},
    ),
    credentials_env=("CEXARB_MEXC_API_KEY", "CEXARB_MEXC_API_SECRET"),
    label="MEXC-S",
    aliases=("mexc",),
    # GET /api/v3/openOrders requires `symbol` (spot v3 API docs, "Current Open Orders").
    open_orders_need_symbol=True,
)

SPECS = (SPOT,)
