"""The engine's side of a fleet: reserve a trade's risk before it starts, settle it when
it ends, stop opening positions while the fleet is halted or out of reach, tell the
fleet when this engine's own kill switch trips, and report in each heartbeat.

Alone, the engine uses the in-process coordinator (same rules, no server), so the
code path is the same with or without a fleet.
"""

from __future__ import annotations

import asyncio
import itertools
import time

from cexarb.arb.config import ArbConfig
from cexarb.arb.executor import ExecutionResult, LegResult
from cexarb.arb.sizing import Opportunity
from cexarb.coord import Coordinator, Fill, FleetLimits, InProcessCoordinator, Reservation

_REPORT_EVERY_S = 1.0


def limits_of(config: ArbConfig) -> FleetLimits:
    """The fleet's caps are the engine's own, applied to everything the fleet does."""
    return FleetLimits(
        max_unhedged_notional=config.max_unhedged_notional,
        max_exposure_notional=config.max_position_notional,
        loss_limit=config.loss_limit,
    )


def _fee_in_quote(leg: LegResult) -> float:
    order = leg.order
    if order is None or not order.fee:
        return 0.0
    symbol = leg.leg.symbol
    if order.fee_asset == symbol.quote:
        return order.fee
    if order.fee_asset == symbol.base:
        return order.fee * leg.average_price
    return 0.0  # paid in a third asset (GT, MX): not in the fleet's quote ledger


def _fills(legs: list[LegResult]) -> list[Fill]:
    return [
        Fill(
            leg.leg.venue,
            leg.leg.symbol.base,
            leg.leg.side.sign * leg.filled,
            leg.average_price,
            _fee_in_quote(leg),
        )
        for leg in legs
        if leg.filled
    ]


class FleetGuard:
    def __init__(self, coordinator: Coordinator | None, config: ArbConfig) -> None:
        self.coordinator = coordinator or InProcessCoordinator("local", limits_of(config))
        # Unique across this member's restarts: its settled ids are remembered by the fleet.
        self._prefix = f"{self.coordinator.member}.{time.time_ns():x}"
        self._ids = itertools.count(1)
        self._next_report = 0.0
        self._tasks: set[asyncio.Task] = set()
        self.refused = 0

    def entry_problem(self) -> str | None:
        """Why no new position may be opened now (None: it may)."""
        c = self.coordinator
        if c.halted:
            return "kill_switch"
        if not c.online:
            return "fleet_offline"
        return None

    async def reserve(self, opp: Opportunity) -> Reservation | str:
        """The trade's reservation, or why the fleet refused it."""
        base = opp.symbol.base
        r = Reservation(
            f"{self._prefix}.{next(self._ids)}",
            max(opp.buy.notional, opp.sell.notional),
            ((opp.buy.venue, base, opp.buy.notional), (opp.sell.venue, base, -opp.sell.notional)),
        )
        why = await self.coordinator.reserve(r)
        if why is not None:
            self.refused += 1
            return why
        return r

    async def settle(self, r: Reservation, result: ExecutionResult | None, unhedged: float) -> None:
        """The trade ended (result None: it failed before knowing): book what it filled."""
        legs = [] if result is None else [result.buy, result.sell, *result.hedges]
        await self.coordinator.settle(r.id, _fills(legs), unhedged)

    async def settle_legs(self, legs: list[LegResult], unhedged: float) -> None:
        """Orders placed outside a trade (residual retries): book them, with the unhedged left."""
        if legs:
            await self.coordinator.settle(f"{self._prefix}.{next(self._ids)}", _fills(legs), unhedged)

    def trip(self, reason: str) -> None:
        """This engine's kill switch tripped: halt the whole fleet (in the background)."""
        if not self.coordinator.halted:
            task = asyncio.get_running_loop().create_task(self.coordinator.halt(reason))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    def report(self, info: dict) -> None:
        """What this member shows in its heartbeat, at most once a second."""
        now = time.monotonic()
        if now >= self._next_report:
            self._next_report = now + _REPORT_EVERY_S
            self.coordinator.report(info)
