"""What `cexarb report` computes from a journal: PnL, fills, slippage, hedges, skips, latency.

PnL is recomputed, not copied: each run's fills are replayed, in the order the run
booked them, into the engine's own `PnlBook` from the run's starting balances, and
marked at the marks of the run's final snapshot. So the per-venue totals equal the
summary the run printed (and `summary_*` carries that summary for the check); a run
that died before its summary is marked at its last periodic snapshot.

Per strategy the same way: a fill belongs to the strategy of the leg row (planned leg, hedge or
residual retry) that placed its order, and is replayed into that strategy's own book, as the
run's attribution booked it; funding goes to the strategy the run journaled with it. Whatever
no strategy claimed is "other", so the strategy rows add up to the total, like the run's lines.
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from cexarb.arb.pnl import PnlBook, asset_value
from cexarb.arb.stats import percentiles
from cexarb.journal.backends import Backend
from cexarb.journal.events import (
    DecisionMade,
    Fill,
    FundingBooked,
    LegDone,
    RiskEvent,
    RunEnded,
    RunStarted,
    Snapshot,
    TransferBooked,
)
from cexarb.model import Symbol
from cexarb.model.errors import JournalError


@dataclass
class RunData:
    run: RunStarted
    ended: RunEnded | None
    fills: list[Fill]
    funding: list[FundingBooked]
    transfers: list[TransferBooked]
    decisions: list[DecisionMade]
    legs: list[LegDone]
    snapshots: list[Snapshot]
    risk: list[RiskEvent]


async def load_runs(backend: Backend, run_id: str | None = None, since: float | None = None) -> list[RunData]:
    """The runs asked for (one by id, all started since a time, else the latest) with their events."""
    runs = await backend.runs(since or 0.0)
    if run_id:
        runs = [r for r in runs if r.run_id == run_id]
        if not runs:
            raise JournalError(
                f"no run {run_id!r} in {backend.url}", hint="`cexarb report` without --run shows the latest"
            )
    elif since is None:
        runs = runs[-1:]
    if not runs:
        raise JournalError(f"no runs in {backend.url}", hint="run `cexarb run` with this --journal first")
    ids = [r.run_id for r in runs]

    async def grouped(table: str) -> dict[str, list]:
        out: dict[str, list] = defaultdict(list)
        for ev in await backend.read(table, ids):
            out[ev.run_id].append(ev)
        return out

    fills, decisions, legs = await grouped("fills"), await grouped("decisions"), await grouped("legs")
    funding, transfers = await grouped("funding"), await grouped("transfers")
    snaps, risk, ends = await grouped("snapshots"), await grouped("risk_events"), await grouped("run_ends")
    return [
        RunData(
            r,
            (ends.get(r.run_id) or [None])[0],
            sorted(fills.get(r.run_id, []), key=lambda f: f.seq),
            funding.get(r.run_id, []),
            transfers.get(r.run_id, []),
            decisions.get(r.run_id, []),
            legs.get(r.run_id, []),
            snaps.get(r.run_id, []),
            risk.get(r.run_id, []),
        )
        for r in runs
    ]


def _day(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d")


@dataclass
class PnlRow:
    realized: float = 0.0
    unrealized: float = 0.0
    fees: float = 0.0
    fills: int = 0
    funding: float = 0.0
    transfer_fees: float = 0.0

    @property
    def total(self) -> float:
        return self.realized + self.unrealized - self.fees + self.funding - self.transfer_fees

    def as_dict(self) -> dict[str, float]:
        return {
            "realized": self.realized,
            "unrealized": self.unrealized,
            "fees": self.fees,
            "funding": self.funding,
            "transfer_fees": self.transfer_fees,
            "total": self.total,
            "fills": self.fills,
        }


@dataclass
class Report:
    runs: list[dict] = field(default_factory=list)
    venues: dict[str, PnlRow] = field(default_factory=dict)
    # the runs' own summaries per venue, added up (what the runs printed)
    summary: dict[str, dict[str, float]] = field(default_factory=dict)
    by_day: dict[tuple[str, str, str], PnlRow] = field(default_factory=dict)  # (day, venue, symbol)
    fills: dict[tuple[str, str], dict[str, float]] = field(default_factory=dict)  # (venue, symbol)
    slippage: dict[tuple[str, str], dict[str, float]] = field(default_factory=dict)  # (venue, role)
    hedges: dict[str, dict[str, float]] = field(default_factory=dict)  # venue
    decisions: dict[str, int] = field(default_factory=dict)  # action -> count
    skipped: dict[str, int] = field(default_factory=dict)  # reason -> count
    latency_ms: dict[str, dict[str, float]] = field(default_factory=dict)  # venue -> percentiles
    # PnL per strategy ("other": no strategy's), and what the runs printed per strategy
    strategies: dict[str, PnlRow] = field(default_factory=dict)
    strategy_summary: dict[str, dict[str, float]] = field(default_factory=dict)
    kill_switch: list[dict] = field(default_factory=list)
    risk_counts: dict[str, int] = field(default_factory=dict)
    # For the chart: (ts, venue, total pnl) and (ts, venue, asset, inventory change valued at
    # the snapshot's mark, in quote: BTC and SOL on one axis)
    equity: list[tuple[float, str, float]] = field(default_factory=list)
    inventory: list[tuple[float, str, str, float]] = field(default_factory=list)

    @property
    def total(self) -> PnlRow:
        out = PnlRow()
        for v in self.venues.values():
            out.realized += v.realized
            out.unrealized += v.unrealized
            out.fees += v.fees
            out.fills += v.fills
            out.funding += v.funding
            out.transfer_fees += v.transfer_fees
        return out


def _marks(snaps: Sequence[Snapshot]) -> dict[tuple[str, Symbol], float]:
    """The marks of the final snapshot (else the last one) of each venue."""
    last: dict[str, Snapshot] = {}
    for s in snaps:
        if s.final or not (last.get(s.venue) and last[s.venue].final):
            last[s.venue] = s
    return {(v, Symbol.parse(sym)): m for v, s in last.items() for sym, m in s.marks.items()}


def _strategy_books(data: RunData) -> tuple[dict[str, PnlBook], dict[tuple[str, str], str]]:
    """A book per strategy of the run (from no balances, as the run's attribution keeps them),
    and (venue, order_id) -> the strategy whose leg row placed that order."""
    run = data.run
    owners = {(leg.venue, leg.order_id): leg.strategy for leg in data.legs if leg.order_id and leg.strategy}
    names = run.strategies or sorted({n for n in owners.values() if n != "other"})
    books: dict[str, PnlBook] = {}
    for name in names:
        b = books[name] = PnlBook()
        for venue in run.venues:
            b.add_venue(venue, {}, is_futures=venue in run.futures_venues)
    return books, owners


def _add(row: PnlRow, v, sign: float = 1.0) -> None:
    row.realized += sign * v.realized
    row.unrealized += sign * v.unrealized
    row.fees += sign * v.fees
    row.fills += int(sign) * v.fills
    row.funding += sign * v.funding
    row.transfer_fees += sign * v.transfer_fees


def _by_strategy(book: PnlBook, books: dict[str, PnlBook], marks, data: RunData, report: Report) -> None:
    """Each strategy's PnL, then "other": the run's total less theirs (unclaimed fills, transfer
    fees, unattributed funding). Its trading PnL is one figure, shown as realized: splitting a
    venue's average-cost ledger between strategies moves PnL between realized and unrealized,
    never their sum, so only the sum is the part no strategy has."""
    rest = PnlRow()
    _add(rest, book.snapshot(marks))
    for name, b in books.items():
        snap = b.snapshot(marks)
        _add(report.strategies.setdefault(name, PnlRow()), snap)
        _add(rest, snap, -1.0)
    other = report.strategies.setdefault("other", PnlRow())
    rest.realized, rest.unrealized = rest.realized + rest.unrealized, 0.0
    _add(other, rest)
    if data.ended:
        for name, figures in data.ended.by_strategy.items():
            acc = report.strategy_summary.setdefault(name, {})
            for k, x in figures.items():
                acc[k] = acc.get(k, 0.0) + x


def _replay(data: RunData, report: Report) -> None:
    run = data.run
    book = PnlBook()
    for venue in run.venues:
        book.add_venue(venue, run.initial.get(venue, {}), is_futures=venue in run.futures_venues)
    books, owners = _strategy_books(data)
    for f in data.fills:
        venue, fill = f.venue, f.fill
        if venue not in run.initial:
            continue
        realized, fees = book.realized(venue, fill.symbol), book.fees(venue)
        # A fee in a discount token counts at what the venue charged, as the run booked it.
        if not book.on_fill(venue, fill, f.fee_value):
            continue
        strategy = books.get(owners.get((venue, fill.order_id), ""))
        if strategy is not None:
            strategy.on_fill(venue, fill, f.fee_value)
        row = report.by_day.setdefault((_day(f.ts), venue, str(fill.symbol)), PnlRow())
        row.realized += book.realized(venue, fill.symbol) - realized
        row.fees += book.fees(venue) - fees
        row.fills += 1
        agg = report.fills.setdefault((venue, str(fill.symbol)), {"fills": 0, "base": 0.0, "notional": 0.0})
        agg["fills"] += 1
        agg["base"] += fill.side.sign * fill.quantity
        agg["notional"] += fill.quantity * fill.price
    for f in data.funding:
        if f.venue in run.initial and book.on_funding(f.venue, f.payment):
            if f.strategy in books:
                books[f.strategy].on_funding(f.venue, f.payment)
            report.by_day.setdefault(
                (_day(f.ts), f.venue, str(f.payment.symbol)), PnlRow()
            ).funding += f.payment.amount
    marks = _marks(data.snapshots)
    for t in data.transfers:
        if t.venue in run.initial:
            book.on_transfer(t.venue, t.asset, t.amount, fee=t.fee)
            if t.fee:
                fee = t.fee * asset_value(t.venue, t.asset, marks)
                report.by_day.setdefault(
                    (_day(t.ts), t.venue, f"{t.asset} transfers"), PnlRow()
                ).transfer_fees += fee
    last_day = _day(data.ended.ts if data.ended else (data.fills[-1].ts if data.fills else run.ts))
    for venue, v in book.snapshot(marks).venues.items():
        row = report.venues.setdefault(venue, PnlRow())
        row.realized += v.realized
        row.unrealized += v.unrealized
        row.fees += v.fees
        row.fills += v.fills
        row.funding += v.funding
        row.transfer_fees += v.transfer_fees
        for symbol in book.positions(venue):
            mark = marks.get((venue, symbol))
            # Marking only this symbol gives its share of the venue's unrealized PnL.
            share = book.snapshot({(venue, symbol): mark} if mark else {}).venues[venue].unrealized
            if share:
                report.by_day.setdefault((last_day, venue, str(symbol)), PnlRow()).unrealized += share
    _by_strategy(book, books, marks, data, report)
    if data.ended:
        for venue, figures in data.ended.summary.items():
            acc = report.summary.setdefault(venue, {})
            for k, x in figures.items():
                acc[k] = acc.get(k, 0.0) + x


def _legs(data: RunData, report: Report, rtts: dict[str, list[float]]) -> None:
    for leg in data.legs:
        if leg.rtt_ms:
            rtts[leg.venue].append(leg.rtt_ms)
        if not leg.filled or not leg.seen_price:
            continue
        sign = 1.0 if leg.side == "BUY" else -1.0
        # Positive = worse than the price the decision saw (paid more, or sold for less).
        cost = sign * (leg.average_price - leg.seen_price) * leg.filled
        if leg.role in ("hedge", "retry"):
            h = report.hedges.setdefault(leg.venue, {"orders": 0, "filled": 0.0, "cost": 0.0})
            h["orders"] += 1
            h["filled"] += leg.filled
            h["cost"] += cost
            continue
        s = report.slippage.setdefault(
            (leg.venue, leg.role), {"legs": 0, "cost": 0.0, "bps_sum": 0.0, "bps_max": float("-inf")}
        )
        bps = sign * (leg.average_price - leg.seen_price) / leg.seen_price * 1e4
        s["legs"] += 1
        s["cost"] += cost
        s["bps_sum"] += bps
        s["bps_max"] = max(s["bps_max"], bps)
    for s in report.slippage.values():
        s["bps_mean"] = s.pop("bps_sum") / s["legs"]


def build(runs: Sequence[RunData]) -> Report:
    report = Report()
    decisions: Counter[str] = Counter()
    skipped: Counter[str] = Counter()
    risk: Counter[str] = Counter()
    rtts: dict[str, list[float]] = defaultdict(list)
    for data in runs:
        run = data.run
        report.runs.append(
            {
                "run_id": run.run_id,
                "started": datetime.fromtimestamp(run.ts, UTC).isoformat(timespec="seconds"),
                "mode": run.mode,
                "trade": run.trade,
                "elapsed_s": data.ended.elapsed_s if data.ended else None,
                # The engine's own percentiles over the run (recent samples), as its summary printed.
                "latency": data.ended.latency if data.ended else {},
                "venues": run.venues,
                "symbols": run.symbols,
            }
        )
        _replay(data, report)
        _legs(data, report, rtts)
        for d in data.decisions:
            decisions[d.action] += 1
            if d.action == "skipped":
                skipped[d.reason] += 1
        for e in data.risk:
            risk[e.kind] += 1
            if e.kind == "kill_switch":
                report.kill_switch.append(
                    {"run_id": run.run_id, "ts": e.ts, "reason": e.detail, "pnl": e.value}
                )
        for s in data.snapshots:
            report.equity.append(
                (s.ts, s.venue, s.realized + s.unrealized - s.fees + s.funding - s.transfer_fees)
            )
            start = run.initial.get(s.venue, {})
            marks = {Symbol.parse(sym).base: m for sym, m in s.marks.items()}
            if s.venue in run.futures_venues:
                held = {Symbol.parse(sym).base: size for sym, size in s.positions.items()}
            else:
                held = {a: q - start.get(a, 0.0) for a, q in s.inventory.items() if a in marks}
            for asset, qty in held.items():
                if asset in marks:
                    report.inventory.append((s.ts, s.venue, asset, qty * marks[asset]))
    report.decisions = dict(decisions)
    report.skipped = dict(skipped.most_common())
    report.risk_counts = dict(risk)
    report.latency_ms = {v: percentiles(samples) for v, samples in sorted(rtts.items())}
    return report


def parse_since(text: str) -> float:
    """`--since`: an ISO date/time (UTC unless it says otherwise) or a duration like 2h, 30m, 7d."""
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    if text and text[-1] in units and text[:-1].replace(".", "", 1).isdigit():
        return time.time() - float(text[:-1]) * units[text[-1]]
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise JournalError(
            f"cannot read --since {text!r}", hint="use 2026-11-29, 2026-11-29T18:00 or 2h, 30m, 7d"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()
