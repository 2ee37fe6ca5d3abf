"""The exchange simulator: venue-neutral core (`venue.SimVenue`) plus protocol front-ends.

`Simulator`, `SimConfig` and `SimAccount` are imported lazily so that a front-end
importing `cexarb.sim.venue` does not pull in the harness (and vice versa).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cexarb.sim.harness import SimAccount, SimConfig, Simulator

__all__ = ["SimAccount", "SimConfig", "Simulator"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from cexarb.sim import harness

        return getattr(harness, name)
    raise AttributeError(f"module 'cexarb.sim' has no attribute {name!r}")
