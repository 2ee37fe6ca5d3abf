"""A run alone (no Redis coordinator): the public and private clients of one venue account
count in one window per pool, and a 429 seen by one pauses the other."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import replace
from types import SimpleNamespace

import pytest

from cexarb.arb.config import ArbConfig
from cexarb.cli.runner import RunOptions, _coordinate
from cexarb.config import Secret, default_config
from cexarb.model import Market, Venue
from cexarb.transport import ratelimit
from cexarb.transport.ratelimit import RateLimiter
from cexarb.venues.mexc import MexcSpotPrivateRest, MexcSpotPublicRest


class FrozenClock:
    """The limiter's clock: it moves only when the test says (nothing frees up meanwhile)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch) -> FrozenClock:
    c = FrozenClock()
    monkeypatch.setattr(ratelimit, "time", SimpleNamespace(monotonic=c.monotonic))
    return c


async def _admitted_now(limiter: RateLimiter) -> bool:
    """Whether an acquire of one token on `default` is admitted without waiting for the clock."""
    task = asyncio.create_task(limiter.acquire("default"))
    for _ in range(5):
        await asyncio.sleep(0)
    if task.done():
        return True
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    return False


async def _granted(limiters: list[RateLimiter], most: int) -> int:
    """Tokens admitted, taking turns between the limiters, until one has to wait."""
    for n in range(most):
        if not await _admitted_now(limiters[n % len(limiters)]):
            return n
    return most


@contextlib.asynccontextmanager
async def _mexc_clients():
    config = default_config()
    mexc = replace(config.get(Venue.MEXC, Market.SPOT), api_key=Secret("k"), api_secret=Secret("s"))
    config = replace(config, venues={**config.venues, (Venue.MEXC, Market.SPOT): mexc})
    fleet, _, config = await _coordinate(RunOptions(), ArbConfig(), config)
    assert fleet is None  # alone
    mexc = config.get(Venue.MEXC, Market.SPOT)
    public, private = MexcSpotPublicRest(mexc), MexcSpotPrivateRest(mexc, {})
    try:
        yield mexc.rate_limits["default"], public.http.limiter, private.http.limiter
    finally:
        await public.close()
        await private.close()


async def test_alone_mexc_public_and_private_clients_together_get_the_pools_rate(clock):
    async with _mexc_clients() as (pool, public, private):
        # A frozen clock: the window admits exactly its capacity, whoever asks.
        assert await _granted([public, private], 3 * pool.capacity) == pool.capacity
        # A period later the window has refilled by its capacity, again for both together.
        clock.now += pool.period_s
        assert await _granted([private, public], 3 * pool.capacity) == pool.capacity
        assert public.used("default") == private.used("default") == pool.capacity


async def test_alone_a_429_on_one_mexc_client_pauses_the_other(clock):
    async with _mexc_clients() as (_, public, private):
        assert await _admitted_now(public)
        private.penalize("default", 30.0)  # what the HTTP client does on a 429 with Retry-After
        assert not await _admitted_now(public)
        clock.now += 30.0
        assert await _admitted_now(public) and await _admitted_now(private)
