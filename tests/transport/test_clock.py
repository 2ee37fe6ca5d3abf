import asyncio

import pytest

from cexarb.transport.clock import Clock
from tests.support import eventually


def test_now_ms_adds_the_offset_to_local_time():
    clock = Clock(offset_ms=2500.0, wall_ms=lambda: 1_000_000.4)
    assert clock.now_ms() == 1_002_500


async def test_sync_measures_offset_against_the_round_trip_midpoint():
    readings = iter([1000.0, 1100.0])  # local time before and after the fetch
    clock = Clock(wall_ms=lambda: next(readings))

    async def server_time() -> int:
        return 6050

    await clock.sync(server_time)
    assert clock.offset_ms == 5000.0  # 6050 - (1000 + 1100) / 2


async def test_concurrent_syncs_share_one_measurement():
    fetches = 0
    release = asyncio.Event()

    async def server_time() -> int:
        nonlocal fetches
        fetches += 1
        await release.wait()
        return 0

    clock = Clock(wall_ms=lambda: 500.0)
    waiters = [asyncio.create_task(clock.sync(server_time)) for _ in range(5)]
    await eventually(lambda: fetches == 1, what="the first sync in flight")  # the others join it
    release.set()
    await asyncio.gather(*waiters)
    assert fetches == 1
    assert clock.offset_ms == -500.0

    await clock.sync(server_time)  # a later sync measures again
    assert fetches == 2


async def test_a_failed_sync_raises_and_keeps_the_old_offset():
    async def broken() -> int:
        raise ConnectionError("down")

    clock = Clock(offset_ms=42.0)
    with pytest.raises(ConnectionError):
        await clock.sync(broken)
    assert clock.offset_ms == 42.0
