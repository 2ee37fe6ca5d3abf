"""The live terminal dashboard of `cexarb run` (rich.live), and its plain-text fallback.

On a TTY: one screen redrawn a few times a second with venues and connection
state, best spreads, opportunities taken and skipped (with reasons), open
orders, recent fills, inventory, PnL and latency. Not a TTY: one status line
every `interval_s`, so a script's output stays readable.
"""

from __future__ import annotations

import asyncio
import time
from datetime import datetime

from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

from cexarb.arb.engine import ArbEngine
from cexarb.arb.stats import percentiles
from cexarb.arb.views import open_order_count

_REFRESH_S = 0.25


def _fmt(value: float, digits: int = 4) -> str:
    return f"{value:,.{digits}f}"


def latency_text(engine: ArbEngine) -> str:
    f2d = percentiles(engine.stats.frame_to_decision_us)
    f2o = percentiles(engine.stats.frame_to_order_sent_us)
    rtt = percentiles(engine.executor.order_rtt_ms)
    parts = []
    if f2d:
        parts.append(f"frame->decision us p50={f2d['p50']:.0f} p99={f2d['p99']:.0f} max={f2d['max']:.0f}")
    if f2o:
        parts.append(f"frame->order sent us p50={f2o['p50']:.0f} p99={f2o['p99']:.0f} max={f2o['max']:.0f}")
    if rtt:
        parts.append(f"order rtt ms p50={rtt['p50']:.1f} p99={rtt['p99']:.1f} max={rtt['max']:.1f}")
    return "; ".join(parts) or "no samples yet"


def funding_lines(engine: ArbEngine) -> list[str]:
    """Per perpetual venue: funding received and paid, and each symbol's rate and next settlement."""
    lines = []
    now = time.time()
    for name, venue in engine.venues.items():
        funding = getattr(venue, "funding", None)
        if funding is None:
            continue
        rates = []
        for symbol in engine.config.symbols:
            info = funding.rates.get(symbol)
            if info is not None:
                due = max(0.0, info.next_apply_ms / 1000 - now)
                rates.append(f"{symbol} {info.rate * 100:+.4f}% in {due:.0f}s")
        lines.append(
            f"funding {name}: received {funding.received:.4f} paid {funding.paid:.4f} "
            f"({len(funding.payments)} payments)  " + "  ".join(rates)
        )
    return lines


def strategy_rows(engine: ArbEngine) -> list[tuple[str, float, float, float, float, float, int]]:
    """Per named strategy: realized, unrealized, fees, funding, total, fills; then "other"
    (transfer fees and anything no strategy claimed), so the rows add up to the total."""
    marks = engine.marks()
    rows = []
    for name, snap in engine.by_strategy.snapshots(marks).items():
        rows.append((name, snap.realized, snap.unrealized, snap.fees, snap.funding, snap.total, snap.fills))
    total = engine.pnl.snapshot(marks)
    other = total.total - sum(r[5] for r in rows)
    rows.append(("other", 0.0, 0.0, 0.0, 0.0, other, total.fills - sum(r[6] for r in rows)))
    return rows


def status_line(engine: ArbEngine, elapsed_s: float) -> str:
    """One plain line for logs and pipes."""
    snap = engine.pnl_snapshot()
    stats = engine.stats
    best = []
    for symbol, spreads in sorted(engine.stats.best_spreads.items()):
        if spreads:
            best.append(f"{symbol}:{spreads[0].edge_bps:+.1f}bps")
    halted = f" HALTED({engine.risk.halt_reason})" if engine.risk.halted else ""
    fleet = engine.fleet.coordinator
    if fleet.halted:
        halted += f" FLEET_HALTED({fleet.halt_reason})"
    elif not fleet.online:
        halted += " FLEET_OFFLINE"
    return (
        f"t={elapsed_s:.0f}s taken={stats.taken} signals={stats.signals} skipped={sum(stats.skipped.values())} "
        f"fills={snap.fills} pnl={snap.total:+.4f} fees={snap.fees:.4f} funding={snap.funding:+.4f} "
        f"unhedged={engine.executor.unhedged_notional:.2f} best=[{' '.join(best)}]{halted}"
    )


def render(engine: ArbEngine, elapsed_s: float) -> Group:
    stats = engine.stats
    snap = engine.pnl_snapshot()
    mode = "TRADING" if engine.trade else "SIGNAL ONLY"
    head = Text(f"cexarb  {mode}  t={elapsed_s:.0f}s  ", style="bold")
    fleet = engine.fleet.coordinator
    if engine.risk.halted:
        head.append(f"KILL SWITCH: {engine.risk.halt_reason}", style="bold red")
    elif fleet.halted:
        head.append(f"FLEET KILL SWITCH: {fleet.halt_reason}", style="bold red")
    elif not fleet.online:
        head.append("FLEET OFFLINE: no new positions", style="bold yellow")
    else:
        head.append("risk ok", style="green")

    venues = Table(title="Venues", expand=True)
    for col in ("venue", "connection", "books synced", "open orders"):
        venues.add_column(col)
    for name, venue in engine.venues.items():
        symbols = [s for s in engine.config.symbols if s in venue.symbols_info]
        synced = sum(1 for s in symbols if venue.is_book_synced(s))
        state = engine.connection.get(name, "?")
        style = "green" if state in ("CONNECTED", "RECONNECTED") else "red"
        venues.add_row(
            name, Text(state, style=style), f"{synced}/{len(symbols)}", str(open_order_count(venue))
        )

    spreads = Table(title="Best net spreads (bps after taker fees)", expand=True)
    for col in ("symbol", "pair", "kind", "edge"):
        spreads.add_column(col)
    for symbol, rows in sorted(stats.best_spreads.items()):
        for s in rows[:3]:
            style = "green" if s.edge_bps > 0 else ""
            spreads.add_row(str(symbol), s.pair, s.kind, Text(f"{s.edge_bps:+.1f}", style=style))

    decisions = Table(
        title=f"Opportunities: taken {stats.taken}, signals {stats.signals}, skipped {sum(stats.skipped.values())}",
        expand=True,
    )
    for col in ("time", "symbol", "pair", "edge bps", "qty", "action", "reason / outcome"):
        decisions.add_column(col)
    recent = sorted([*list(stats.decisions)[-5:], *list(stats.skips)[-4:]], key=lambda d: d.timestamp)
    for d in recent:
        style = {"taken": "green", "signal": "cyan"}.get(d.action, "yellow")
        decisions.add_row(
            datetime.fromtimestamp(d.timestamp).strftime("%H:%M:%S"),
            str(d.symbol),
            d.pair,
            f"{d.edge_bps:+.1f}",
            f"{d.quantity:g}",
            Text(d.action, style=style),
            d.reason or d.outcome,
        )
    reasons = ", ".join(f"{r}={n}" for r, n in stats.skipped.most_common(6)) or "none"

    orders = Table(title="Open orders", expand=True)
    for col in ("venue", "symbol", "side", "price", "qty", "status"):
        orders.add_column(col)
    for name, venue in engine.venues.items():
        for by_id in venue.open_orders.values():
            for o in list(by_id.values())[:5]:
                orders.add_row(
                    name, str(o.symbol), o.side.value, f"{o.price:g}", f"{o.quantity:g}", o.status.value
                )

    fills = Table(title="Recent fills", expand=True)
    for col in ("venue", "symbol", "side", "price", "qty", "fee"):
        fills.add_column(col)
    for venue_name, f in list(stats.fills)[-6:]:
        fills.add_row(
            venue_name,
            str(f.symbol),
            f.side.value,
            f"{f.price:g}",
            f"{f.quantity:g}",
            f"{f.fee:.6g} {f.fee_asset}",
        )

    inventory = Table(title="Inventory (change since start)", expand=True)
    inventory.add_column("venue")
    inventory.add_column("balances")
    for name in engine.venues:
        changes = engine.pnl.inventory_change(name)
        now = engine.pnl.inventory(name)
        text = (
            "  ".join(f"{a} {now[a]:,.6g} ({c:+.6g})" for a, c in sorted(changes.items()) if c) or "unchanged"
        )
        inventory.add_row(name, text)

    if engine.rebalancer is not None:
        for line in engine.rebalancer.describe():
            inventory.add_row("transfers", line)

    pnl = Table(title="PnL (USDT)", expand=True)
    for col in ("venue", "realized", "unrealized", "fees", "funding", "total", "fills"):
        pnl.add_column(col)
    for v in snap.venues.values():
        pnl.add_row(
            v.venue,
            _fmt(v.realized),
            _fmt(v.unrealized),
            _fmt(v.fees),
            _fmt(v.funding),
            _fmt(v.total),
            str(v.fills),
        )
    pnl.add_row(
        "TOTAL",
        _fmt(snap.realized),
        _fmt(snap.unrealized),
        _fmt(snap.fees),
        _fmt(snap.funding),
        _fmt(snap.total),
        str(snap.fills),
        style="bold",
    )

    strategies = Table(title="PnL by strategy (USDT)", expand=True)
    for col in ("strategy", "realized", "unrealized", "fees", "funding", "total", "fills"):
        strategies.add_column(col)
    for name, *values, count in strategy_rows(engine):
        strategies.add_row(name, *(_fmt(v) for v in values), str(count))

    # Two columns so the whole screen fits a normal terminal.
    grid = Table.grid(expand=True, padding=(0, 1))
    grid.add_column(ratio=1)
    grid.add_column(ratio=1)
    grid.add_row(
        Group(venues, spreads, decisions, Text(f"skip reasons: {reasons}")),
        Group(pnl, strategies, *(Text(line) for line in funding_lines(engine)), inventory, fills, orders),
    )
    return Group(head, grid, Text(f"latency: {latency_text(engine)}"))


async def show(engine: ArbEngine, stop: asyncio.Event, console: Console, interval_s: float = 5.0) -> None:
    """Run until `stop` is set: a live screen on a terminal, else a status line per interval."""
    started = time.monotonic()
    if console.is_terminal:
        from rich.live import Live

        with Live(render(engine, 0.0), console=console, refresh_per_second=4, screen=False) as live:
            while not stop.is_set():
                await _sleep_or_stop(stop, _REFRESH_S)
                live.update(render(engine, time.monotonic() - started))
        return
    while not stop.is_set():
        await _sleep_or_stop(stop, interval_s)
        console.print(status_line(engine, time.monotonic() - started), highlight=False, soft_wrap=True)


async def _sleep_or_stop(stop: asyncio.Event, seconds: float) -> None:
    try:
        await asyncio.wait_for(stop.wait(), seconds)
    except TimeoutError:
        pass
