"""The embedded default: one engine is its own fleet, kept in memory, no server needed.

Same rules as the Redis coordinator (coord/scripts.py holds their server-side twin):
a reservation must fit under the fleet's unhedged and per venue/asset exposure caps,
settling books the fills and may trip the kill switch on the loss limit.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

from cexarb.config import RateLimitPool, SharedBudget
from cexarb.coord.base import (
    Coordinator,
    Fill,
    FleetEvent,
    FleetLimits,
    FleetStatus,
    MemberStatus,
    Reservation,
)
from cexarb.transport.ratelimit import SharedWindow

_EVENTS_KEPT = 10_000


class Ledger:
    """Reservations, exposure and PnL of one fleet (the in-memory form of the Redis hashes)."""

    def __init__(self, limits: FleetLimits) -> None:
        self.limits = limits
        self.reservations: dict[str, Reservation] = {}
        self.at_risk = 0.0
        self.unhedged: dict[str, float] = {}  # member -> notional
        self.pending: dict[str, float] = {}  # venue:asset -> signed notional
        self.base: dict[str, float] = {}  # venue:asset -> signed base
        self.mark: dict[str, float] = {}  # asset -> the fleet's last fill price of it
        self.cash = 0.0

    def exposure(self, key: str) -> float:
        return self.base.get(key, 0.0) * self.mark.get(key.rpartition(":")[2], 0.0)

    def refusal(self, r: Reservation) -> str | None:
        """Why `r` does not fit under the fleet's caps now (None: it fits); nothing booked."""
        lim = self.limits
        if self.at_risk + sum(self.unhedged.values()) + r.at_risk > lim.max_unhedged_notional * (1 + 1e-9):
            return "fleet_unhedged"
        base, mark, pending = self.base, self.mark, self.pending
        for venue, asset, notional in r.legs:
            key = f"{venue}:{asset}"
            # exposure(key) without its call: the mark is kept per asset.
            now = base.get(key, 0.0) * mark.get(asset, 0.0) + pending.get(key, 0.0)
            after = now + notional
            if abs(after) > lim.max_exposure_notional and abs(after) > abs(now):
                return f"fleet_exposure:{key}"
        return None

    def book(self, r: Reservation) -> None:
        """Book `r` (its `refusal` said it fits, nothing booked since)."""
        self.reservations[r.id] = r
        self.at_risk += r.at_risk
        pending = self.pending
        for venue, asset, notional in r.legs:
            key = f"{venue}:{asset}"
            pending[key] = pending.get(key, 0.0) + notional

    def settle(self, reservation_id: str, fills: list[Fill], member: str, unhedged: float) -> float:
        """Book the end of a trade; returns the fleet PnL after it."""
        r = self.reservations.pop(reservation_id, None)
        if r is not None:
            self.at_risk -= r.at_risk
            for venue, asset, notional in r.legs:
                key = f"{venue}:{asset}"
                self.pending[key] = self.pending.get(key, 0.0) - notional
        for f in fills:
            key = f"{f.venue}:{f.asset}"
            self.base[key] = self.base.get(key, 0.0) + f.base
            self.mark[f.asset] = f.price
            self.cash += -f.base * f.price - f.fee
        if unhedged:
            self.unhedged[member] = unhedged
        else:
            self.unhedged.pop(member, None)
        return self.pnl()

    def pnl(self) -> float:
        return self.cash + sum(self.exposure(k) for k in self.base)


class InProcessCoordinator(Coordinator):
    def __init__(
        self,
        member: str = "local",
        limits: FleetLimits | None = None,
        sink: Callable[[FleetEvent], None] | None = None,
    ) -> None:
        self.member = member
        self.ledger = Ledger(limits or FleetLimits())
        self.events: deque[FleetEvent] = deque(maxlen=_EVENTS_KEPT)
        self._sink = sink
        self._halt_reason = ""
        self._info: dict = {}
        self._budgets: dict[str, SharedWindow] = {}

    @property
    def online(self) -> bool:
        return True

    @property
    def halted(self) -> bool:
        return bool(self._halt_reason)

    @property
    def halt_reason(self) -> str:
        return self._halt_reason

    def budget(self, scope: str, pool: RateLimitPool) -> SharedBudget | None:
        """The one window of `scope` (venue, market, pool) every limiter of this process counts in:
        the venue's public and private clients on one account together stay under its limit,
        and a 429's pause reaches all of them."""
        b = self._budgets.get(scope)
        if b is None:
            b = self._budgets[scope] = SharedWindow(pool)
        return b

    async def reserve(self, reservation: Reservation) -> str | None:
        why = self.check_now(reservation)[1]
        if why is None:
            self.ledger.book(reservation)
        return why

    def check_now(self, reservation: Reservation) -> tuple[bool, str | None]:
        """Always decided at once: the ledger is in this process."""
        if self._halt_reason:  # halted, without the property's call
            return True, "kill_switch"
        return True, self.ledger.refusal(reservation)

    def book_now(self, reservation: Reservation) -> None:
        self.ledger.book(reservation)

    async def settle(self, reservation_id: str, fills: list[Fill], unhedged: float) -> None:
        pnl = self.ledger.settle(reservation_id, fills, self.member, unhedged)
        if pnl <= -self.ledger.limits.loss_limit and not self.halted:
            await self.halt(f"fleet loss_limit pnl={pnl:.4f}")

    async def halt(self, reason: str) -> None:
        self._halt_reason = reason or "halted"
        self.emit("kill", f"kill:{self.member}:{time.time_ns()}", {"reason": self._halt_reason})

    async def resume(self) -> None:
        self._halt_reason = ""
        self.emit("resume", f"resume:{self.member}:{time.time_ns()}", {})

    def emit(self, kind: str, event_id: str, data: dict, body: bytes = b"") -> None:
        event = FleetEvent(event_id, kind, self.member, time.time(), data, body)
        self.events.append(event)
        if self._sink is not None:
            self._sink(event)

    def report(self, info: dict) -> None:
        self._info = dict(info)

    async def status(self) -> FleetStatus:
        led = self.ledger
        me = MemberStatus(
            self.member,
            True,
            0.0,
            self._info,
            len(led.reservations),
            led.unhedged.get(self.member, 0.0),
        )
        return FleetStatus(
            fleet=self.member,
            halted=self.halted,
            halt_reason=self._halt_reason,
            members=[me],
            budgets={},
            at_risk=led.at_risk,
            unhedged=sum(led.unhedged.values()),
            exposure={k: led.exposure(k) for k in led.base},
            pending={k: v for k, v in led.pending.items() if abs(v) > 1e-9},
            pnl=led.pnl(),
            events=len(self.events),
        )
