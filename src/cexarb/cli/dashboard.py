"""The live terminal dashboard of `cexarb run` (rich.live), and its plain-text fallback.

On a TTY: one screen redrawn a few times a second with venues and connection
state, best spreads, opportunities taken and skipped (with reasons), open
orders, recent fills, inventory, PnL and latency. Not a TTY: one status line
every `interval_s`, so a script's output stays readable.
"""

from __future__ import annotations

import asyncio
import io
import time
from dataclasses import dataclass
from datetime import datetime

from rich import box
from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text

from cexarb.arb.engine import ArbEngine
from cexarb.arb.stats import percentiles
from cexarb.arb.views import open_order_count
from cexarb.config import venue_specs

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


# Short names that keep every venue distinct in a narrow column (never `gate…` for two markets).
ALIASES = {spec.key: spec.label for spec in venue_specs()}


def alias(venue: str) -> str:
    return ALIASES.get(venue, venue)


def _pair(pair: str) -> str:
    return ">".join(alias(v) for v in pair.split(">"))


# A wrapping column keeps room for a reason like "cooldown" on one line.
_WRAP_MIN = 12


def _table(title: str, text: tuple[str, ...] = (), numbers: tuple[str, ...] = (), wrap: str = "") -> Table:
    """A compact table; number and name columns never wrap (so never cut: a panel too narrow for
    them is dropped whole by the layout), only the `wrap` column may."""
    table = Table(title=title, expand=True, box=box.SIMPLE_HEAD, pad_edge=False, title_justify="left")
    for col in text:
        if col == wrap:  # words wrap; a word longer than the column folds (never an ellipsis)
            table.add_column(col, overflow="fold", min_width=_WRAP_MIN)
        else:
            table.add_column(col, no_wrap=True)
    for col in numbers:
        table.add_column(col, justify="right", no_wrap=True)
    return table


@dataclass(frozen=True, slots=True)
class _Part:
    priority: int  # 1 is shown first and dropped last
    side: int  # column in the two-column layout: 0 left, 1 right
    bodies: tuple[RenderableType, ...]  # richest first; the first that fits is shown


def _parts(engine: ArbEngine) -> list[_Part]:
    stats = engine.stats
    snap = engine.pnl_snapshot()

    venues = _table("Venues", ("venue", "connection"), ("books", "orders"))
    for name, venue in engine.venues.items():
        symbols = [s for s in engine.config.symbols if s in venue.symbols_info]
        synced = sum(1 for s in symbols if venue.is_book_synced(s))
        state = engine.connection.get(name, "?")
        style = "green" if state in ("CONNECTED", "RECONNECTED") else "red"
        venues.add_row(
            alias(name), Text(state, style=style), f"{synced}/{len(symbols)}", str(open_order_count(venue))
        )

    spreads = _table("Best net spreads (bps after taker fees)", ("symbol", "pair", "kind"), ("edge",))
    for symbol, rows in sorted(stats.best_spreads.items()):
        for s in rows[:3]:
            style = "green" if s.edge_bps > 0 else ""
            spreads.add_row(str(symbol), _pair(s.pair), s.kind, Text(f"{s.edge_bps:+.1f}", style=style))

    decisions = _table(
        f"Opportunities: taken {stats.taken}, signals {stats.signals}, skipped {sum(stats.skipped.values())}",
        ("time", "symbol", "pair", "action", "reason / outcome"),
        ("edge", "qty"),
        wrap="reason / outcome",
    )
    recent = sorted([*list(stats.decisions)[-5:], *list(stats.skips)[-4:]], key=lambda d: d.timestamp)
    for d in recent:
        style = {"taken": "green", "signal": "cyan"}.get(d.action, "yellow")
        decisions.add_row(
            datetime.fromtimestamp(d.timestamp).strftime("%H:%M:%S"),
            str(d.symbol),
            _pair(d.pair),
            Text(d.action, style=style),
            d.reason or d.outcome,
            f"{d.edge_bps:+.1f}",
            f"{d.quantity:g}",
        )
    reasons = ", ".join(f"{r}={n}" for r, n in stats.skipped.most_common(6)) or "none"

    orders = _table("Open orders", ("venue", "symbol", "side", "status"), ("price", "qty"))
    for name, venue in engine.venues.items():
        for by_id in venue.open_orders.values():
            for o in list(by_id.values())[:5]:
                orders.add_row(
                    alias(name),
                    str(o.symbol),
                    o.side.value,
                    o.status.value,
                    f"{o.price:g}",
                    f"{o.quantity:g}",
                )

    fills = _table("Recent fills", ("venue", "symbol", "side"), ("price", "qty", "fee"))
    for venue_name, f in list(stats.fills)[-6:]:
        fills.add_row(
            alias(venue_name),
            str(f.symbol),
            f.side.value,
            f"{f.price:g}",
            f"{f.quantity:g}",
            f"{f.fee:.6g} {f.fee_asset}",
        )

    inventory = _table("Inventory", ("venue", "asset"), ("now", "change"))
    for name in engine.venues:
        changes = engine.pnl.inventory_change(name)
        now = engine.pnl.inventory(name)
        moved = [(a, c) for a, c in sorted(changes.items()) if c]
        for asset, change in moved:
            inventory.add_row(alias(name), asset, f"{now[asset]:,.6g}", f"{change:+.6g}")
        if not moved:
            inventory.add_row(alias(name), "unchanged", "", "")
    # Transfers under way are sentences: lines that wrap, not cells that would be cut.
    transfers = (
        [Text(f"transfers: {line}") for line in engine.rebalancer.describe()] if engine.rebalancer else []
    )

    # Narrower terminals drop PnL columns, least telling first; the total always stays.
    pnl = tuple(_pnl_table(snap, cols) for cols in _PNL_COLUMNS)

    strategies = _table(
        "PnL by strategy (USDT)",
        ("strategy",),
        ("realized", "unrealized", "fees", "funding", "total", "fills"),
    )
    for name, *values, count in strategy_rows(engine):
        strategies.add_row(name, *(_fmt(v) for v in values), str(count))

    funding = [Text(line) for line in funding_lines(engine)]
    return [
        _Part(1, 1, pnl),
        _Part(2, 0, (venues,)),
        _Part(3, 0, (spreads,)),
        _Part(4, 1, (Group(inventory, *transfers),)),
        _Part(5, 0, (decisions,)),
        *([_Part(6, 1, (Group(*funding),))] if funding else []),
        _Part(7, 1, (fills,)),
        _Part(8, 1, (strategies,)),
        _Part(9, 1, (orders,)),
        _Part(10, 0, (Text(f"skip reasons: {reasons}"),)),
        _Part(11, 0, (Text(f"latency: {latency_text(engine)}"),)),
    ]


_PNL_COLUMNS = (
    ("realized", "unrealized", "fees", "funding", "total", "fills"),
    ("realized", "fees", "total", "fills"),
    ("total",),
)


def _pnl_table(snap, columns: tuple[str, ...]) -> Table:
    table = _table("PnL (USDT)", ("venue",), columns)
    for label, figures in [*((alias(v.venue), v) for v in snap.venues.values()), ("TOTAL", snap)]:
        cells = [str(figures.fills) if c == "fills" else _fmt(getattr(figures, c)) for c in columns]
        table.add_row(label, *cells, style="bold" if label == "TOTAL" else "")
    return table


def render(engine: ArbEngine, elapsed_s: float, width: int = 160, height: int = 50) -> RenderableType:
    """The screen for a `width` x `height` terminal, laid out by priority: two columns when the
    PnL and venue panels fit side by side, else one; panels that do not fit (in width or in the
    rows left) are dropped whole, least important first. Nothing is cut."""
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
    scratch = Console(width=width, height=height, file=io.StringIO(), color_system=None)
    rows_left = height - _shape(scratch, (head,), width)[1]
    parts = sorted(_parts(engine), key=lambda p: p.priority)
    half = (width - _GUTTER) // 2
    one = _fill(scratch, parts, (width,), rows_left)
    two = _fill(scratch, parts, (half, width - _GUTTER - half), rows_left)
    # The layout that shows the more important panels (one column when the two tie on that).
    if _rank(two[1], parts) >= _rank(one[1], parts):
        return Group(head, *one[0][0])
    left, right = two[0]
    grid = Table.grid(padding=0)
    grid.add_column(width=half)
    grid.add_column(width=_GUTTER)
    grid.add_column(width=width - _GUTTER - half)
    grid.add_row(Group(*left), "", Group(*right))
    return Group(head, grid)


def _fill(
    console: Console, parts: list[_Part], widths: tuple[int, ...], rows: int
) -> tuple[list[list[RenderableType]], set[int]]:
    """Panels by priority into columns of `widths`, each at most `rows` tall: the columns'
    bodies and the priorities shown."""
    columns: list[list[RenderableType]] = [[] for _ in widths]
    used = [0 for _ in widths]
    shown = set()
    for part in parts:
        side = part.side if len(widths) > 1 else 0
        shape = _shape(console, part.bodies, widths[side])
        if shape is not None and used[side] + shape[1] <= rows:
            columns[side].append(shape[0])
            used[side] += shape[1]
            shown.add(part.priority)
    return columns, shown


def _rank(shown: set[int], parts: list[_Part]) -> tuple[bool, ...]:
    """Smaller is better: missing the most important panel weighs most."""
    return tuple(p.priority not in shown for p in parts)


_GUTTER = 1


def _shape(
    console: Console, bodies: tuple[RenderableType, ...], width: int
) -> tuple[RenderableType, int] | None:
    """The first of `bodies` that `width` shows whole, with the rows it takes; None when each
    would be cut (rich marks a cut cell with an ellipsis): such a panel is dropped."""
    for body in bodies:
        lines = console.render_lines(body, console.options.update(width=width, height=None), pad=False)
        if not any("…" in segment.text for line in lines for segment in line):
            return body, len(lines)
    return None


async def show(engine: ArbEngine, stop: asyncio.Event, console: Console, interval_s: float = 5.0) -> None:
    """Run until `stop` is set: a live screen on a terminal, else a status line per interval."""
    started = time.monotonic()
    if console.is_terminal:
        from rich.live import Live

        def screen() -> RenderableType:
            # The terminal's size now: a resized window gets a layout that fits it.
            width, height = console.size
            return render(engine, time.monotonic() - started, width, height)

        with Live(screen(), console=console, refresh_per_second=4, screen=False) as live:
            while not stop.is_set():
                await _sleep_or_stop(stop, _REFRESH_S)
                live.update(screen())
        return
    while not stop.is_set():
        await _sleep_or_stop(stop, interval_s)
        console.print(status_line(engine, time.monotonic() - started), highlight=False, soft_wrap=True)


async def _sleep_or_stop(stop: asyncio.Event, seconds: float) -> None:
    try:
        await asyncio.wait_for(stop.wait(), seconds)
    except TimeoutError:
        pass
