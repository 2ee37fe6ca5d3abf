"""What a fleet of engines on the same accounts shares: rate-limit budgets, the risk
ledger, the kill switch and the event stream. Sits above transport/ (it imports only
model/, config and transport-level code); exchange/ and arb/ use it.

`InProcessCoordinator` is the embedded default (one engine, no server);
`RedisCoordinator` joins a fleet through Redis (`cexarb run --coordinator redis://...`).
"""

from cexarb.coord.base import (
    Coordinator,
    Fill,
    FleetEvent,
    FleetLimits,
    FleetStatus,
    MemberStatus,
    Reservation,
)
from cexarb.coord.local import InProcessCoordinator

__all__ = [
    "Coordinator",
    "Fill",
    "FleetEvent",
    "FleetLimits",
    "FleetStatus",
    "InProcessCoordinator",
    "MemberStatus",
    "Reservation",
]
