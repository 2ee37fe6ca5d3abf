"""Fixtures of the Gate front-end tests: the spot and futures apps served on 127.0.0.1."""

from __future__ import annotations

import pytest
from gate_sim_helpers import close, make_futures_venue, make_spot_venue, serve


@pytest.fixture
async def spot_srv():
    from cexarb.sim.gateio_spot import create_app

    served = await serve(create_app, make_spot_venue())
    yield served
    await close(served)


@pytest.fixture
async def fut_srv():
    from cexarb.sim.gateio_futures import create_app

    served = await serve(create_app, make_futures_venue())
    yield served
    await close(served)


@pytest.fixture
async def gate_host():
    """Gate as the real venue lays it out: one REST host (spot + futures + wallet + account, and
    the spot WS) and the futures WS on a host of its own. Yields (rest Served, futures WS base)."""
    from aiohttp.test_utils import TestServer
    from gate_sim_helpers import Served

    from cexarb.sim.gateio_host import GateHost

    spot, futures = make_spot_venue(), make_futures_venue()
    host = GateHost(spot, futures)
    rest = TestServer(host.rest_app(), host="127.0.0.1")
    fws = TestServer(host.futures_ws_app(), host="127.0.0.1")
    await rest.start_server()
    await fws.start_server()
    import aiohttp

    served = Served(spot, rest, aiohttp.ClientSession())
    served.futures_venue = futures
    served.futures_ws = f"ws://127.0.0.1:{fws.port}/v4/ws/usdt"
    yield served
    await close(served)
    await fws.close()
