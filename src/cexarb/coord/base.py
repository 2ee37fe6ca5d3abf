"""What a fleet of engines shares, as one interface: budgets, risk ledger, kill switch, events.

`InProcessCoordinator` (coord/local.py) serves a single engine with no server;
`RedisCoordinator` (coord/redis.py) serves a fleet of processes through Redis.
The engine only talks to this interface, so it behaves the same alone or in a fleet.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field

import msgspec

from cexarb.config import RateLimitPool, SharedBudget


@dataclass(frozen=True, slots=True)
class FleetLimits:
    """Fleet-wide risk limits (quote = USDT); each engine keeps its own limits as well."""

    # Trades under way (each may end one-legged) plus residuals left unhedged, all members.
    max_unhedged_notional: float = 2_500.0
    # |net notional moved| per venue and asset by the whole fleet.
    max_exposure_notional: float = 10_000.0
    # Fleet PnL (fills marked at the fleet's last fill price, fees included) at or below
    # -loss_limit trips the kill switch for every member.
    loss_limit: float = 200.0


@dataclass(frozen=True, slots=True)
class Reservation:
    """What a trade may add before it ends: `at_risk` notional (one leg alone) and the
    signed notional each leg moves on its (venue, asset)."""

    id: str
    at_risk: float
    legs: tuple[tuple[str, str, float], ...]  # (venue, asset, signed notional)


@dataclass(frozen=True, slots=True)
class Fill:
    """A trade's effect on the fleet ledger: base moved on a venue's asset at a price."""

    venue: str
    asset: str
    base: float  # signed: + bought / long, - sold / short
    price: float
    fee: float = 0.0  # in quote


class FleetEvent(msgspec.Struct, frozen=True):
    """One record of what happened; `id` is unique per fact, so replays are harmless."""

    id: str
    kind: str  # the journal event's type (OrderUpdate, Fill, DecisionMade ...), or kill, resume, reaped
    member: str
    ts: float
    data: dict = {}
    # An encoded record opaque to the coordinator (the journal's event, see journal/fleet.py).
    body: bytes = b""


@dataclass(slots=True)
class MemberStatus:
    name: str
    alive: bool
    age_s: float  # since its last heartbeat
    info: dict = field(default_factory=dict)  # what it reported (pnl, orders, online ...)
    reservations: int = 0
    unhedged: float = 0.0
    leases: dict[str, int] = field(default_factory=dict)  # scope -> tokens leased in the window


@dataclass(slots=True)
class FleetStatus:
    fleet: str
    halted: bool
    halt_reason: str
    members: list[MemberStatus]
    budgets: dict[str, tuple[int, int]]  # scope -> (tokens counted now, capacity)
    at_risk: float
    unhedged: float
    exposure: dict[str, float]  # "venue:asset" -> signed notional (base x last price)
    pending: dict[str, float]  # "venue:asset" -> signed notional reserved by trades under way
    pnl: float
    events: int  # entries in the event stream


class Coordinator(ABC):
    """A member's view of its fleet. Reads (`online`, `halted`) are local and instant; the
    state behind them is kept current in the background."""

    member: str

    @property
    @abstractmethod
    def online(self) -> bool:
        """False while the shared state cannot be reached: open no new positions then."""

    @property
    @abstractmethod
    def halted(self) -> bool:
        """The fleet's kill switch (any member or an operator may trip it)."""

    @property
    @abstractmethod
    def halt_reason(self) -> str: ...

    async def start(self) -> None:  # noqa: B027 - nothing to join in-process
        """Join the fleet (connect, heartbeat, listen for the kill switch)."""

    async def close(self) -> None:  # noqa: B027
        """Leave the fleet: flush events and settlements, stop the heartbeat."""

    @abstractmethod
    def budget(self, scope: str, pool: RateLimitPool) -> SharedBudget | None:
        """The shared side of one venue pool (None: the local limiter alone is enough)."""

    @abstractmethod
    async def reserve(self, reservation: Reservation) -> str | None:
        """Reserve a trade's risk atomically: None when reserved, else why not."""

    def check_now(self, reservation: Reservation) -> tuple[bool, str | None]:
        """What `reserve` would answer, decided without waiting where the fleet's state is at
        hand (in-process), and nothing booked: (True, the answer). (False, None): it must be
        asked (await `reserve`). A trade it admits is booked by `book_now` with nothing awaited
        in between (the engine writes the trade's orders between the two; its rehearsals ask
        it and book nothing)."""
        return False, None

    def book_now(self, reservation: Reservation) -> None:
        """Book `reservation`, which `check_now` admitted with nothing awaited since."""
        raise NotImplementedError(f"{type(self).__name__} decides nothing at once: await reserve()")

    @abstractmethod
    async def settle(self, reservation_id: str, fills: list[Fill], unhedged: float) -> None:
        """The trade ended: drop its reservation, book its fills, publish this member's
        unhedged notional now. Never fails (kept and retried while offline)."""

    @abstractmethod
    async def halt(self, reason: str) -> None:
        """Trip the kill switch for the whole fleet."""

    @abstractmethod
    async def resume(self) -> None:
        """Clear the kill switch (an operator's decision)."""

    @abstractmethod
    def emit(self, kind: str, event_id: str, data: dict, body: bytes = b"") -> None:
        """Record an event; never blocks (a background writer sends it)."""

    @abstractmethod
    def report(self, info: dict) -> None:
        """What this member shows in its next heartbeat (pnl, orders ...)."""

    @abstractmethod
    async def status(self) -> FleetStatus: ...
