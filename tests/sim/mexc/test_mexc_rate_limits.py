"""MEXC's rate limiting as the simulator answers it: HTTP 429, code 429, Retry-After."""

from __future__ import annotations

import pytest
from mexc_sim_helpers import KEY, MexcClient, make_venue

from cexarb.config import RateLimitPool


@pytest.fixture
def venue():
    # tight budgets so that the 429 path is reached in a few requests
    return make_venue({"default": RateLimitPool(5, 10.0), "orders": RateLimitPool(3, 10.0)})


async def test_rate_limit_answers_429_with_retry_after(client: MexcClient, venue):
    for _ in range(5):
        assert (await client.raw("GET", "/api/v3/ping"))[0] == 200
    status, body, headers = await client.raw("GET", "/api/v3/ping")
    assert (status, body["code"]) == (429, 429) and 1 <= int(headers["Retry-After"]) <= 10
    params = {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "quantity": "0.01", "price": "50000"}
    for _ in range(3):
        assert (await client.signed("POST", "/api/v3/order", params))[0] == 200
    status, body = await client.signed("POST", "/api/v3/order", params)
    assert (status, body["code"]) == (429, 429)
    assert len(venue.open_orders(KEY)) == 3
    assert venue.limits.rejected == 2
