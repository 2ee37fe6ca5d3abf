"""The engine's entries in the journal, built from its own objects (decisions, trades, PnL).

The engine holds an optional `Recorder` (None when journaling is off: no event is
even built) and calls these builders; nothing here touches a database.
"""

from __future__ import annotations

from collections.abc import Mapping

from cexarb.arb.executor import ExecutionResult, LegResult
from cexarb.arb.opportunity import Candidate
from cexarb.arb.pnl import PnlBook
from cexarb.arb.sizing import Opportunity
from cexarb.journal.events import DecisionMade, LegDone, Snapshot
from cexarb.model import Symbol


def skipped(cand: Candidate, reason: str, ts: float) -> DecisionMade:
    return DecisionMade(
        ts=ts,
        symbol=str(cand.symbol),
        kind=cand.kind.value,
        pair=f"{cand.buy.venue}>{cand.sell.venue}",
        action="skipped",
        reason=reason,
        edge_bps=cand.edge_bps,
        buy_venue=cand.buy.venue,
        buy_seen=cand.chunks[0].buy_price,
        sell_venue=cand.sell.venue,
        sell_seen=cand.chunks[0].sell_price,
    )


def decided(
    opp: Opportunity, action: str, outcome: str, trade_no: int, ts: float, strategy: str = ""
) -> DecisionMade:
    return DecisionMade(
        ts=ts,
        symbol=str(opp.symbol),
        kind=opp.kind.value,
        pair=opp.pair,
        action=action,
        edge_bps=opp.edge_bps,
        quantity=opp.quantity,
        expected_pnl=opp.expected_pnl,
        outcome=outcome,
        buy_venue=opp.buy.venue,
        buy_seen=opp.buy_seen,
        sell_venue=opp.sell.venue,
        sell_seen=opp.sell_seen,
        trade_no=trade_no,
        strategy=strategy,
    )


def _leg(trade_no: int, role: str, result: LegResult, seen: float, ts: float, strategy: str) -> LegDone:
    leg = result.leg
    return LegDone(
        ts=ts,
        trade_no=trade_no,
        symbol=str(leg.symbol),
        role=role,
        venue=leg.venue,
        side=leg.side.value,
        limit_price=leg.price,
        seen_price=seen,
        quantity=leg.quantity,
        filled=result.filled,
        average_price=result.average_price,
        order_id=result.order.order_id if result.order else "",
        rtt_ms=result.rtt_ms,
        error=result.error,
        strategy=strategy,
    )


def seen_prices(opp: Opportunity) -> dict[str, float]:
    """Venue -> the top-of-book price the decision saw there (what a hedge is measured against)."""
    return {opp.buy.venue: opp.buy_seen, opp.sell.venue: opp.sell_seen}


def legs(trade_no: int, result: ExecutionResult, ts: float, strategy: str = "") -> list[LegDone]:
    """Both planned legs and every hedge/unwind, under the trade's number and strategy; a hedge
    is measured against the price the decision saw on its venue (what completing or unwinding
    cost against the plan)."""
    opp = result.opportunity
    seen = seen_prices(opp)
    out = [
        _leg(trade_no, "buy", result.buy, opp.buy_seen, ts, strategy),
        _leg(trade_no, "sell", result.sell, opp.sell_seen, ts, strategy),
    ]
    out += [
        _leg(trade_no, "hedge", h, seen.get(h.leg.venue, h.leg.price), ts, strategy) for h in result.hedges
    ]
    return out


def retry(trade_no: int, strategy: str, hedge: LegResult, seen: Mapping[str, float], ts: float) -> LegDone:
    """An order a residual retry placed, under the number and strategy of the trade that left
    the residual (so its fills count there), measured against what that trade's decision saw."""
    return _leg(trade_no, "retry", hedge, seen.get(hedge.leg.venue, hedge.leg.price), ts, strategy)


def snapshots(
    pnl: PnlBook, marks: Mapping[tuple[str, Symbol], float], ts: float, *, final: bool = False
) -> list[Snapshot]:
    """One per venue: PnL as the summary computes it, inventory, positions and the marks used."""
    snap = pnl.snapshot(marks)
    out = []
    for venue, v in snap.venues.items():
        out.append(
            Snapshot(
                ts=ts,
                venue=venue,
                realized=v.realized,
                unrealized=v.unrealized,
                fees=v.fees,
                fills=v.fills,
                inventory=pnl.inventory(venue),
                positions={str(s): q for s, q in pnl.positions(venue).items()},
                marks={str(s): m for (mv, s), m in marks.items() if mv == venue},
                final=final,
                funding=v.funding,
                transfer_fees=v.transfer_fees,
            )
        )
    return out
