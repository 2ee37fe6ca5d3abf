"""Inventory rebalancing: move an asset from a venue holding more than its target to one that
fell below its low mark, by withdrawal to the other venue's deposit address.

Spot-spot arbitrage sells base where it is rich and buys it where it is cheap, so one venue's
base (and the other's quote) drains until the trade can no longer be made. The decision
(`plan_transfer`) is pure: which venue needs topping up (holding plus what is already on its
way below `low`), which donor has a surplus over `target`, how much (up to the target,
plus the network fee, never more than the surplus), and on which network (cheapest fee whose
minimum the amount meets, with a deposit address on the same chain at the destination).

`Rebalancer` runs it: one transfer per asset at a time, never while the kill switch is on;
transfers in flight count in inventory until the destination lists the deposit as credited,
and one that has not arrived after `rebalance_timeout_s` is reported (it may have been sent to
a wrong address or network: it stays counted as in flight, never silently dropped).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from cexarb.arb.config import ArbConfig
from cexarb.arb.pnl import PnlBook
from cexarb.arb.risk import RiskManager
from cexarb.exchange.withdrawals import chain_of
from cexarb.journal import Recorder, TransferBooked
from cexarb.logs import log_kv
from cexarb.model import (
    AssetBalance,
    DepositAddress,
    DepositRecord,
    WithdrawalNetwork,
    WithdrawalRequest,
    WithdrawalResponse,
)
from cexarb.model.errors import ExchangeError
from cexarb.model.rounding import round_down

log = logging.getLogger("cexarb.arb.rebalance")

# Amounts are rounded down to this many decimals before they are sent.
_AMOUNT_DECIMALS = 8
# A deposit matches a transfer when its amount is within this of what should arrive.
_MATCH_TOLERANCE = 1e-6


class WalletVenue(Protocol):
    """The slice of a spot composite the rebalancer uses (cexarb.exchange WithdrawingPrivateExchange)."""

    balances: dict[str, AssetBalance]

    async def get_withdrawal_networks(self, asset: str) -> list[WithdrawalNetwork] | None: ...

    async def get_deposit_addresses(self, asset: str, network: str | None = None) -> list[DepositAddress]: ...

    async def get_deposits(
        self, asset: str | None = None, since_ms: int | None = None
    ) -> list[DepositRecord]: ...

    async def withdraw(self, request: WithdrawalRequest) -> WithdrawalResponse: ...


@dataclass(frozen=True, slots=True)
class Route:
    """One way to move an asset from `source` to `dest`: the source's network, its fee and
    minimum, and the destination's address on the same chain."""

    source: str
    dest: str
    network: str  # the source's name (sent with the withdrawal)
    fee: float
    min_amount: float
    address: str
    dest_network: str  # the destination's name for the same chain
    memo: str = ""


@dataclass(frozen=True, slots=True)
class TransferPlan:
    asset: str
    route: Route
    amount: float  # withdrawn from the source (the fee comes out of it)

    @property
    def arrives(self) -> float:
        return self.amount - self.route.fee


def choose_route(amount_for: Mapping[Route, float], routes: Sequence[Route]) -> Route | None:
    """The cheapest route whose minimum its amount meets and whose fee it exceeds."""
    usable = [r for r in routes if amount_for[r] >= r.min_amount and amount_for[r] > r.fee]
    return min(usable, key=lambda r: (r.fee, r.network)) if usable else None


def plan_transfer(
    asset: str,
    holdings: Mapping[str, float],
    incoming: Mapping[str, float],
    target: float,
    low: float,
    routes: Sequence[Route],
) -> TransferPlan | None:
    """The transfer to make now for `asset`, or None.

    holdings: what each venue holds and could withdraw; incoming: what is on its way to each
    venue (counted as held there). The neediest venue under `low` is topped up towards
    `target` from the donor with the largest surplus over `target` that has a usable route.
    """
    effective = {v: h + incoming.get(v, 0.0) for v, h in holdings.items()}
    needy = sorted((v for v, e in effective.items() if e < low), key=lambda v: effective[v])
    for dest in needy:
        donors = sorted(
            (v for v, h in holdings.items() if v != dest and h > target),
            key=lambda v: holdings[v] - target,
            reverse=True,
        )
        for source in donors:
            candidates = [r for r in routes if r.source == source and r.dest == dest]
            need = target - effective[dest]
            surplus = holdings[source] - target
            amounts = {r: round_down(min(need + r.fee, surplus), 10.0**-_AMOUNT_DECIMALS) for r in candidates}
            route = choose_route(amounts, candidates)
            if route is not None:
                return TransferPlan(asset, route, amounts[route])
    return None


@dataclass(slots=True)
class InFlight:
    """A transfer sent and not yet credited at its destination."""

    plan: TransferPlan
    withdrawal_id: str
    started_ms: int
    status: str = "in_flight"  # in_flight, overdue, completed
    arrived_ms: int = 0
    deposit_id: str = ""

    @property
    def asset(self) -> str:
        return self.plan.asset

    @property
    def source(self) -> str:
        return self.plan.route.source

    @property
    def dest(self) -> str:
        return self.plan.route.dest


@dataclass(slots=True)
class RebalanceStats:
    completed: list[InFlight] = field(default_factory=list)
    failures: int = 0
    skipped_halted: int = 0


class Rebalancer:
    """Runs `plan_transfer` over the venues' balances every `rebalance_interval_s`."""

    def __init__(
        self,
        venues: Mapping[str, Any],
        config: ArbConfig,
        pnl: PnlBook,
        risk: RiskManager,
    ) -> None:
        # Only the venues that can both withdraw and take deposits (spot wallets).
        self.venues: dict[str, WalletVenue] = {
            name: v
            for name, v in venues.items()
            if all(hasattr(v, m) for m in ("withdraw", "get_deposit_addresses", "get_deposits"))
        }
        self.config = config
        self.pnl = pnl
        self.risk = risk
        self.in_flight: list[InFlight] = []
        self.stats = RebalanceStats()
        self._routes: dict[str, list[Route]] = {}
        self._claimed: set[tuple[str, str]] = set()  # (dest venue, deposit id) already matched
        # Where the transfers booked into PnL are journaled (the engine sets it; None: nowhere).
        self.journal: Recorder | None = None

    def _journal(self, venue: str, asset: str, amount: float, fee: float, transfer_id: str) -> None:
        if self.journal is not None:
            self.journal.record(
                TransferBooked(
                    ts=time.time(), venue=venue, asset=asset, amount=amount, fee=fee, transfer_id=transfer_id
                )
            )

    # -- state ---------------------------------------------------------------------------
    def incoming(self, asset: str) -> dict[str, float]:
        """What is on its way to each venue (what will arrive, fee taken)."""
        out: dict[str, float] = {}
        for t in self.in_flight:
            if t.asset == asset:
                out[t.dest] = out.get(t.dest, 0.0) + t.plan.arrives
        return out

    def in_flight_total(self, asset: str) -> float:
        return sum(t.plan.arrives for t in self.in_flight if t.asset == asset)

    def describe(self) -> list[str]:
        """One line per transfer in flight, and the completed count (dashboard and summary)."""
        now = _now_ms()
        lines = [
            f"{t.asset} {t.plan.amount:.8g} {t.source}->{t.dest} via {t.plan.route.network} "
            f"(fee {t.plan.route.fee:g}) {t.status} {(now - t.started_ms) / 1000:.0f}s"
            for t in self.in_flight
        ]
        done = self.stats.completed
        moved = ", ".join(
            f"{t.asset} {t.plan.arrives:.8g} {t.source}->{t.dest} in {(t.arrived_ms - t.started_ms) / 1000:.1f}s"
            for t in done[-3:]
        )
        lines.append(f"completed {len(done)}" + (f" (last: {moved})" if moved else ""))
        return lines

    async def settle(self, timeout_s: float) -> bool:
        """Wait (polling) until every transfer in flight has arrived or `timeout_s` passed."""
        deadline = time.monotonic() + timeout_s
        while True:
            await self.check_arrivals()
            if not self.in_flight or time.monotonic() >= deadline:
                return not self.in_flight
            await asyncio.sleep(0.2)

    # -- loop ----------------------------------------------------------------------------
    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self.step()
            except ExchangeError as exc:  # a venue hiccup: the next round retries
                self.stats.failures += 1
                log_kv(log, logging.WARNING, "rebalance_error", error=str(exc))
            except Exception:  # a bug: keep the trading loop alive, say so loudly
                self.stats.failures += 1
                log.exception("rebalancing step failed")
            try:
                await asyncio.wait_for(stop.wait(), self.config.rebalance_interval_s)
            except TimeoutError:
                pass

    async def step(self) -> None:
        """Check arrivals, then start at most one transfer per asset with none under way."""
        await self.check_arrivals()
        if self.risk.halted:
            self.stats.skipped_halted += 1
            return  # never move funds while the kill switch is on
        for asset, target in self.config.rebalance_targets.items():
            if any(t.asset == asset for t in self.in_flight):
                continue
            holdings = {
                name: (v.balances.get(asset).available if v.balances.get(asset) else 0.0)
                for name, v in self.venues.items()
            }
            low = target * self.config.rebalance_low_fraction
            if not any(h + self.incoming(asset).get(n, 0.0) < low for n, h in holdings.items()):
                continue
            routes = await self.routes(asset)
            plan = plan_transfer(asset, holdings, self.incoming(asset), target, low, routes)
            if plan is not None:
                await self.send(plan)

    async def routes(self, asset: str) -> list[Route]:
        """Every (source network, destination address) pair on one chain, cached per asset."""
        cached = self._routes.get(asset)
        if cached is not None:
            return cached
        networks: dict[str, list[WithdrawalNetwork]] = {}
        addresses: dict[str, list[DepositAddress]] = {}
        for name, venue in self.venues.items():
            networks[name] = [
                n for n in (await venue.get_withdrawal_networks(asset) or ()) if n.withdraw_enabled
            ]
            addresses[name] = await venue.get_deposit_addresses(asset)
        routes = []
        for source, nets in networks.items():
            for dest, addrs in addresses.items():
                if dest == source:
                    continue
                for net in nets:
                    for addr in addrs:
                        if chain_of(addr.network) == chain_of(net.network):
                            routes.append(
                                Route(
                                    source,
                                    dest,
                                    net.network,
                                    net.fee,
                                    net.min_amount,
                                    addr.address,
                                    addr.network,
                                    addr.memo,
                                )
                            )
        self._routes[asset] = routes
        return routes

    async def send(self, plan: TransferPlan) -> InFlight | None:
        route = plan.route
        request = WithdrawalRequest(
            plan.asset, plan.amount, route.address, route.network, memo=route.memo or None
        )
        try:
            response = await self.venues[route.source].withdraw(request)
        except ExchangeError as exc:
            self.stats.failures += 1
            log_kv(
                log,
                logging.WARNING,
                "rebalance_refused",
                asset=plan.asset,
                source=route.source,
                dest=route.dest,
                amount=plan.amount,
                network=route.network,
                error=str(exc),
            )
            return None
        transfer = InFlight(plan, response.withdrawal_id, _now_ms())
        self.in_flight.append(transfer)
        self.pnl.on_transfer(route.source, plan.asset, -plan.amount, fee=route.fee)
        self._journal(route.source, plan.asset, -plan.amount, route.fee, response.withdrawal_id)
        log_kv(
            log,
            logging.INFO,
            "rebalance_sent",
            asset=plan.asset,
            source=route.source,
            dest=route.dest,
            amount=plan.amount,
            fee=route.fee,
            network=route.network,
            withdrawal_id=response.withdrawal_id,
        )
        return transfer

    async def check_arrivals(self) -> None:
        """Match credited deposits to transfers in flight; report the overdue ones once."""
        for transfer in list(self.in_flight):
            dest = self.venues[transfer.dest]
            since = transfer.started_ms - 60_000  # venue clocks differ
            deposits = await dest.get_deposits(transfer.asset, since)
            match = next(
                (
                    d
                    for d in deposits
                    if d.credited
                    and (transfer.dest, d.deposit_id) not in self._claimed
                    and d.address == transfer.plan.route.address
                    and abs(d.amount - transfer.plan.arrives) <= _MATCH_TOLERANCE * max(1.0, d.amount)
                ),
                None,
            )
            if match is not None:
                self._claimed.add((transfer.dest, match.deposit_id))
                transfer.status = "completed"
                transfer.arrived_ms = _now_ms()
                transfer.deposit_id = match.deposit_id
                self.in_flight.remove(transfer)
                self.stats.completed.append(transfer)
                self.pnl.on_transfer(transfer.dest, transfer.asset, match.amount)
                self._journal(transfer.dest, transfer.asset, match.amount, 0.0, transfer.withdrawal_id)
                log_kv(
                    log,
                    logging.INFO,
                    "rebalance_arrived",
                    asset=transfer.asset,
                    source=transfer.source,
                    dest=transfer.dest,
                    amount=match.amount,
                    seconds=(transfer.arrived_ms - transfer.started_ms) / 1000,
                )
            elif (
                transfer.status == "in_flight"
                and _now_ms() - transfer.started_ms > self.config.rebalance_timeout_s * 1000
            ):
                transfer.status = "overdue"
                log_kv(
                    log,
                    logging.ERROR,
                    "rebalance_overdue",
                    asset=transfer.asset,
                    source=transfer.source,
                    dest=transfer.dest,
                    amount=transfer.plan.amount,
                    withdrawal_id=transfer.withdrawal_id,
                    hint="check the address and network; the funds stay counted as in flight",
                )


def _now_ms() -> int:
    return int(time.time() * 1000)
