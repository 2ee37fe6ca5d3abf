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
