"""Attach a fleet's shared budgets to a venue configuration's rate-limit pools.

The venue clients build their limiters from the config as always; a pool that
carries a shared budget also takes its weight from the fleet (transport/ratelimit.py).
The scope names the venue, market and pool: every member on the same accounts
shares one bucket per scope.
"""

from __future__ import annotations

from dataclasses import replace

from cexarb.config import Config
from cexarb.coord.base import Coordinator


def share_pools(config: Config, coordinator: Coordinator) -> Config:
    """`config` with every pool of every venue drawing on the coordinator's budgets."""
    venues = {}
    for key, vc in config.venues.items():
        pools = {}
        for name, pool in vc.rate_limits.items():
            scope = f"{vc.venue.value}.{vc.market.value}:{name}"
            pools[name] = replace(pool, shared=coordinator.budget(scope, pool))
        venues[key] = replace(vc, rate_limits=pools)
    return replace(config, venues=venues)
