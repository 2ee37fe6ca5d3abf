"""Gate.io as the rest of the system knows it before connecting: default endpoints and rate-limit
pools of spot and USDT perpetual futures, the credential variables (one pair for both markets),
and their names on the command line and the dashboard.

Data only: config reads it (`cexarb.config.venue_specs`) without loading the connectors.
"""

from __future__ import annotations

from cexarb.config import RateLimitPool, VenueConfig, VenueSpec
from cexarb.model.enums import Market, Venue

_CREDENTIALS = ("CEXARB_GATEIO_API_KEY", "CEXARB_GATEIO_API_SECRET")
_REST_URL = "https://api.gateio.ws/api/v4"

SPOT = VenueSpec(
    defaults=VenueConfig(
        venue=Venue.GATEIO,
        market=Market.SPOT,
        rest_url=_REST_URL,
        ws_url="wss://api.gateio.ws/ws/v4/",
        rate_limits={
            "public": RateLimitPool(200, 10.0),
            "default": RateLimitPool(200, 10.0),
            "orders": RateLimitPool(10, 1.0),
            "cancel": RateLimitPool(200, 1.0),
            # POST /withdrawals: one per 3 s per UID.
            "withdraw": RateLimitPool(1, 3.0),
        },
    ),
    credentials_env=_CREDENTIALS,
    label="GATE-S",
    aliases=("gateio", "gate"),
)

FUTURES = VenueSpec(
    defaults=VenueConfig(
        venue=Venue.GATEIO,
        market=Market.FUTURES,
        rest_url=_REST_URL,
        ws_url="wss://fx-ws.gateio.ws/v4/ws/usdt",
        rate_limits={
            "public": RateLimitPool(200, 10.0),
            "default": RateLimitPool(200, 10.0),
            "orders": RateLimitPool(100, 1.0),
            "cancel": RateLimitPool(200, 1.0),
        },
    ),
    credentials_env=_CREDENTIALS,
    label="GATE-F",
    aliases=("gate_futures",),
)

SPECS = (SPOT, FUTURES)
