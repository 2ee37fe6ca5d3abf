"""The engine's side of a fleet: reserve a trade's risk before it starts, settle it when
it ends, stop opening positions while the fleet is halted or out of reach, tell the
fleet when this engine's own kill switch trips, and report in each heartbeat.

Alone, the engine uses the in-process coordinator (same rules, no server), so the
code path is the same with or without a fleet.

A trade is booked from the venue's fills of its orders, not from the orders alone: an
order says how much filled at what price, but only its fills say what the fees were
(MEXC's and Gate futures' orders carry none) and that a fee taken in base left the wallet
with less base. So the fleet's ledger holds what the accounts hold, and its PnL is net of
every fee, a discount token's (MX, GT) at what the venue charged.

A perpetual's position is booked under its own name (`BTC-PERP`), so the fleet marks it at
the perpetual's price, not at the spot's: a basis (long spot, short the perp) is worth what
the two legs are worth each at its own market, not the whole basis at once.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections import deque
from dataclasses import dataclass, field

from cexarb.arb.config import ArbConfig
from cexarb.arb.executor import ExecutionResult, LegResult
from cexarb.arb.sizing import Leg, Opportunity
from cexarb.coord import Coordinator, Fill, FleetLimits, InProcessCoordinator, Reservation
from cexarb.model import Execution

_REPORT_EVERY_S = 1.0
# A fill waits this long for the trade of its order (fills of other members' orders on the
# same account, and fills booked already, are dropped after it).
_FILLS_KEPT_S = 60.0
# An order booked with fewer of its fills here than it filled waits this long for the rest:
# a private stream down for minutes gives them late (recovered on reconnect), and their fees
# are still this member's to book.
_OWED_KEPT_S = 86_400.0
_EPS = 1e-9


def instrument(leg: Leg) -> str:
    """What the fleet books a leg's position under (and marks at its own last price): the base
    asset on spot, wherever it is held; the contract on a perpetual."""
    base = leg.symbol.base
    return f"{base}-PERP" if leg.info.is_futures else base


def limits_of(config: ArbConfig) -> FleetLimits:
    """The fleet's caps are the engine's own, applied to everything the fleet does."""
    return FleetLimits(
        max_unhedged_notional=config.max_unhedged_notional,
        max_exposure_notional=config.max_position_notional,
        loss_limit=config.loss_limit,
    )


@dataclass(slots=True)
class _OrderFills:
    """The venue's fills of one order, as they arrive, and how its trade was booked."""

    fills: list[tuple[Execution, float | None]] = field(default_factory=list)
    quantity: float = 0.0
    # (venue, instrument, base asset, price, spot) once its trade was booked: a fill arriving
    # after that is booked on its own.
    booked: tuple[str, str, str, float, bool] | None = None
    # The quantity the order filled, as its trade was booked: kept until its fills reach it.
    owed: float = 0.0


def _fees(
    base: str, spot: bool, fills: list[tuple[Execution, float | None]], price: float
) -> tuple[float, float]:
    """(base the fees took from a spot wallet, every fee's quote value) over `fills`; a fee in
    base counts at `price`, the price the trade booked that base at."""
    base_fee = quote = 0.0
    for fill, value in fills:
        if not fill.fee:
            continue
        if spot and fill.fee_asset == base:
            base_fee += fill.fee
        else:
            quote += value or 0.0
    return base_fee, quote + base_fee * price


class FleetGuard:
    def __init__(self, coordinator: Coordinator | None, config: ArbConfig) -> None:
        self.coordinator = coordinator or InProcessCoordinator("local", limits_of(config))
        # Unique across this member's restarts: its settled ids are remembered by the fleet.
        self._prefix = f"{self.coordinator.member}.{time.time_ns():x}"
        self._ids = itertools.count(1)
        self._next_report = 0.0
        self._tasks: set[asyncio.Task] = set()
        self.refused = 0
        # The account's fills by (venue, order id), until their trade books them or they age out.
        self._fills: dict[tuple[str, str], _OrderFills] = {}
        self._arrived: deque[tuple[float, tuple[str, str]]] = deque()
        # Orders booked while still owed fills, oldest first: (booked at, key, its entry).
        self._owed: deque[tuple[float, tuple[str, str], _OrderFills]] = deque()
        self._unhedged = 0.0
        self.late_fills = 0  # fills that came after their trade was booked (their fees booked then)

    def on_fill(self, venue: str, fill: Execution, fee_value: float | None) -> None:
        """A new fill of the account (`fee_value`: its fee in quote, as the engine values it)."""
        entry = self._entry((venue, fill.order_id))
        entry.fills.append((fill, fee_value))
        entry.quantity += fill.quantity
        if entry.booked is not None:
            # Its trade was booked before this fill came: its fee is booked now.
            self.late_fills += 1
            venue_, asset, base, price, spot = entry.booked
            base_fee, fee = _fees(base, spot, [(fill, fee_value)], price)
            late = Fill(venue_, asset, -base_fee, price, fee)
            self._spawn(self.coordinator.settle(self._next_id(), [late], self._unhedged))
            if entry.quantity >= entry.owed - _EPS:  # every fill of it is here now
                del self._fills[(venue, fill.order_id)]

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
        r = self._reservation(opp)
        return self._answer(r, await self.coordinator.reserve(r))

    def check_now(self, opp: Opportunity) -> Reservation | str | None:
        """`reserve`'s first half, without waiting where the coordinator can decide at once
        (in-process): the reservation the fleet admits, not booked yet (`book_now` it with
        nothing awaited in between: the engine writes the trade's orders first), or why
        refused. None: nothing checked, the fleet must be asked (`reserve`)."""
        r = self._reservation(opp)
        decided, why = self.coordinator.check_now(r)
        if why is None:  # admitted (decided) or to be asked (not): _answer without its call
            return r if decided else None
        return self._answer(r, why)

    def book_now(self, r: Reservation) -> None:
        """`reserve`'s second half: book `r`, which `check_now` admitted with nothing awaited
        since."""
        self.coordinator.book_now(r)

    def rehearse(self, opp: Opportunity) -> str | None:
        """What `check_now` would answer for `opp` (a reservation id, the reason refused, or
        None: the fleet must be asked), with no id used."""
        r = self._reservation(opp, "rehearsal")
        decided, why = self.coordinator.check_now(r)
        return None if not decided else (why or r.id)

    def _reservation(self, opp: Opportunity, rid: str | None = None) -> Reservation:
        buy, sell = opp.buy, opp.sell
        # Each leg's notional (Leg.notional) computed once.
        bought, sold = buy.price * buy.quantity, sell.price * sell.quantity
        return Reservation(
            self._next_id() if rid is None else rid,
            max(bought, sold),
            ((buy.venue, instrument(buy), bought), (sell.venue, instrument(sell), -sold)),
        )

    def _answer(self, r: Reservation, why: str | None) -> Reservation | str:
        if why is not None:
            self.refused += 1
            return why
        return r

    async def settle(self, r: Reservation, result: ExecutionResult | None, unhedged: float) -> None:
        """The trade ended (result None: it failed before knowing): book what it filled."""
        legs = [] if result is None else [result.buy, result.sell, *result.hedges]
        self._unhedged = unhedged
        await self.coordinator.settle(r.id, self._book(legs), unhedged)

    async def settle_legs(self, legs: list[LegResult], unhedged: float) -> None:
        """Orders placed outside a trade (residual retries): book them, with the unhedged left."""
        if legs:
            self._unhedged = unhedged
            await self.coordinator.settle(self._next_id(), self._book(legs), unhedged)

    def _book(self, legs: list[LegResult]) -> list[Fill]:
        """What the legs moved: each order's quantity at its price, less the fees of its fills
        already here; a fill still on its way (it may trail its order's end) is booked when
        it comes (on_fill)."""
        out = []
        for leg in legs:
            if not leg.filled or leg.order is None:
                continue
            venue, base, price = leg.leg.venue, leg.leg.symbol.base, leg.average_price
            spot, asset = not leg.leg.info.is_futures, instrument(leg.leg)
            key = (venue, leg.order.order_id)
            entry = self._entry(key)
            complete = entry.quantity >= leg.filled - _EPS
            if complete:  # the fills' own prices: an order's average may be rounded (MEXC)
                price = sum(f.price * f.quantity for f, _ in entry.fills) / entry.quantity
            base_fee, fee = _fees(base, spot, entry.fills, price)
            out.append(Fill(venue, asset, leg.leg.side.sign * leg.filled - base_fee, price, fee))
            if complete:
                del self._fills[key]
            else:
                entry.booked, entry.owed = (venue, asset, base, price, spot), leg.filled
                self._owed.append((time.monotonic(), key, entry))
        return out

    def _entry(self, key: tuple[str, str]) -> _OrderFills:
        entry = self._fills.get(key)
        if entry is None:
            entry = self._fills[key] = _OrderFills()
            now = time.monotonic()
            self._arrived.append((now, key))
            while self._arrived[0][0] < now - _FILLS_KEPT_S:
                old = self._arrived.popleft()[1]
                kept = self._fills.get(old)
                if kept is not None and kept.booked is None:  # a booked one waits in _owed
                    del self._fills[old]
            owed = self._owed
            while owed and owed[0][0] < now - _OWED_KEPT_S:
                _, old, kept = owed.popleft()
                if self._fills.get(old) is kept:  # not completed (and its key not reused) since
                    del self._fills[old]
        return entry

    def _next_id(self) -> str:
        return f"{self._prefix}.{next(self._ids)}"

    def _spawn(self, coro) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def trip(self, reason: str) -> None:
        """This engine's kill switch tripped: halt the whole fleet (in the background)."""
        if not self.coordinator.halted:
            self._spawn(self.coordinator.halt(reason))

    def report(self, info: dict) -> None:
        """What this member shows in its heartbeat, at most once a second."""
        now = time.monotonic()
        if now >= self._next_report:
            self._next_report = now + _REPORT_EVERY_S
            self.coordinator.report(info)
