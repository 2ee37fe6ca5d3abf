"""Shared by the fleet tests: members, polling, and the budget check."""

from __future__ import annotations

import asyncio

from cexarb.coord.base import FleetLimits
from cexarb.coord.redis import RedisCoordinator
from cexarb.sim import SimConfig

# Recording happens a few microseconds after a token is taken; allow that much.
_SLACK_S = 1e-3


async def member(
    url: str, fleet: str, name: str, limits: FleetLimits | None = None, **kw
) -> RedisCoordinator:
    kw.setdefault("heartbeat_s", 0.05)
    kw.setdefault("heartbeat_ttl_s", 0.5)
    coord = RedisCoordinator(url, fleet, name, limits, **kw)
    await coord.start()
    return coord


async def crash(coord: RedisCoordinator) -> None:
    """The member dies without leaving: its loops stop, its heartbeat is no longer renewed,
    nothing it holds is given back."""
    coord._closing.set()
    for task in coord._tasks:
        task.cancel()
    await asyncio.gather(*coord._tasks, return_exceptions=True)
    await coord.redis.aclose()


def max_in_any_window(times: list[float], period_s: float) -> int:
    """The most tokens spent inside any window of `period_s` (what a venue would count)."""
    times = sorted(times)
    worst, j = 0, 0
    for i, start in enumerate(times):
        while j < len(times) and times[j] < start + period_s - _SLACK_S:
            j += 1
        worst = max(worst, j - i)
    return worst


def start_btc(api_key: str = "k1") -> float:
    """The BTC the simulator's default account starts with on every venue."""
    (account,) = [a for a in SimConfig().accounts if a.api_key == api_key]
    return account.balances["BTC"]
