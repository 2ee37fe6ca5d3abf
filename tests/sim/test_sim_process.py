"""The simulator in a process of its own answers like the in-process one."""

from __future__ import annotations

import aiohttp
import pytest

from cexarb.sim import SimConfig
from cexarb.sim.process import SimProcess


async def test_child_process_serves_config_and_truth_then_ends():
    async with SimProcess(SimConfig(seed=5, symbols=("BTC/USDT",), flow=False)) as sim:
        assert set(sim.venue_names) == {"mexc_spot", "gateio_spot", "gateio_futures"}
        config = await sim.client_config("k1")
        mexc = config.get("mexc", "spot")
        async with aiohttp.ClientSession() as session, session.get(mexc.rest_url + "/api/v3/ping") as resp:
            assert resp.status == 200  # served from the child, on 127.0.0.1
        truth = await sim.truth("mexc_spot", "k1")
        assert truth.balances["USDT"].total > 0 and truth.fills == []
        await sim.stop_funding()
        with pytest.raises(RuntimeError, match="unknown venue"):
            await sim.truth("nowhere", "k1")
        proc = sim._proc
    assert not proc.is_alive() and proc.exitcode == 0
