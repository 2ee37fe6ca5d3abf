"""A MEXC spot front-end served on 127.0.0.1 over a bare SimVenue, and signed clients for it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web
from mexc_sim_helpers import KEY, OTHER_KEY, OTHER_SECRET, SECRET, MexcClient, make_venue

from cexarb.sim.mexc_options import MexcSpotOptions
from cexarb.sim.mexc_spot import create_app
from cexarb.sim.venue import SimVenue


@pytest.fixture
def options() -> MexcSpotOptions:
    return MexcSpotOptions(housekeeping_interval_s=0.05)


@pytest.fixture
def venue() -> SimVenue:
    return make_venue()


@pytest.fixture
def app(venue: SimVenue, options: MexcSpotOptions) -> web.Application:
    return create_app(venue, options=options)


@pytest.fixture
async def base_url(app: web.Application) -> AsyncIterator[str]:
    runner = web.AppRunner(app, shutdown_timeout=0.5)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as s:
        yield s


@pytest.fixture
def client(session, base_url) -> MexcClient:
    return MexcClient(session, base_url, KEY, SECRET)


@pytest.fixture
def other(session, base_url) -> MexcClient:
    return MexcClient(session, base_url, OTHER_KEY, OTHER_SECRET)
