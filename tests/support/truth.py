"""One truth comparison: what a client composite believes against the simulator's account truth.

Used by the chaos rig and the end-to-end tests alike, so both hold the client to the same rules.
"""

from __future__ import annotations

import math
from typing import Any

from tests.support.poll import eventually


def close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)


def mismatches(ex, truth, ledger: Any = None) -> list[str]:
    """Every way the client's state differs from the venue's truth (empty: they agree).

    `ledger` (the chaos rig's recording listener: `orders`, `fills`, `fill_qty`) adds the fills the
    client reported and stands in for finished orders that left the bounded executed cache.
    """
    problems: list[str] = []
    venue_open = {oid for oid, o in truth.orders.items() if not o.status.is_done}
    client_open = {oid for orders in ex.open_orders.values() for oid in orders}
    if venue_open != client_open:
        problems.append(f"open orders: client-only {sorted(client_open - venue_open)} venue-only {sorted(venue_open - client_open)}")  # fmt: skip
    if ex.pending_orders:
        problems.append(f"still pending: {sorted(ex.pending_orders)}")
    tracked = {oid: o for orders in ex.open_orders.values() for oid, o in orders.items()}
    for orders in ex.executed_orders.values():
        tracked.update(orders)
    for oid, true in truth.orders.items():
        # A finished order may have left the bounded executed cache: then what the client last
        # reported about it to its listeners is what it knows.
        mine = tracked.get(oid) or (ledger.orders.get(oid) if ledger is not None else None)
        if mine is None:
            problems.append(f"order {oid} ({true.status.value}) unknown to the client")
        elif mine.status.is_done != true.status.is_done or not close(
            mine.filled_quantity, true.filled_quantity
        ):
            problems.append(f"order {oid}: client {mine.status.value} {mine.filled_quantity} venue {true.status.value} {true.filled_quantity}")  # fmt: skip
    problems.extend(f"order {oid} unknown to the venue" for oid in tracked.keys() - truth.orders.keys())
    for asset, true in truth.balances.items():
        mine = ex.balances.get(asset)
        if mine is None and not true.total:
            continue
        if mine is None or not close(mine.available, true.available) or not close(mine.locked, true.locked):
            problems.append(f"balance {asset}: client {mine} venue {true}")
    if hasattr(ex, "positions"):
        venue_pos = {s: p.size for s, p in truth.positions.items() if p.size}
        client_pos = {s: p.size for s, p in ex.positions.items() if p.size}
        if venue_pos.keys() != client_pos.keys() or any(
            not close(venue_pos[s], client_pos[s]) for s in venue_pos
        ):
            problems.append(f"positions: client {client_pos} venue {venue_pos}")
    if ledger is not None:
        venue_fills = {(f.symbol, f.trade_id): f.quantity for f in truth.fills}
        missing = venue_fills.keys() - ledger.fills.keys()
        extra = ledger.fills.keys() - venue_fills.keys()
        twice = [k for k, n in ledger.fills.items() if n > 1]
        if missing or extra or twice:
            problems.append(f"fills: missing {sorted(missing)} unknown {sorted(extra)} twice {twice}")
        problems.extend(
            f"fill {k}: client qty {ledger.fill_qty[k]} venue {q}"
            for k, q in venue_fills.items()
            if k in ledger.fill_qty and not close(ledger.fill_qty[k], q)
        )
    return problems


async def assert_agrees(ex, sim, market: str, ledger: Any = None, api_key: str = "k1") -> None:
    """Poll until the client agrees with the venue, then assert it (the message lists what differs)."""
    await eventually(lambda: not mismatches(ex, sim.truth(market, api_key), ledger))
    problems = mismatches(ex, sim.truth(market, api_key), ledger)
    assert not problems, "client differs from the venue:\n" + "\n".join(problems)
