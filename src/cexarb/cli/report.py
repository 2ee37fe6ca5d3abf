"""`cexarb report`: what a run did and earned, read back from its journal."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from cexarb.cli.exits import typed_errors_exit
from cexarb.cli.report_data import PnlRow, Report, build, load_runs, parse_since
from cexarb.journal.backends import SqliteBackend, open_backend
from cexarb.model.errors import JournalError

DEFAULT_JOURNAL = "cexarb-run.journal.db"
FORMATS = ("table", "json", "csv")
BREAKDOWNS = ("venue", "strategy")


def report_command(
    journal: Annotated[
        str,
        typer.Option(
            "--journal", "-j", help="Journal URL: a SQLite file path, sqlite:///..., postgresql://..."
        ),
    ] = DEFAULT_JOURNAL,
    run: Annotated[str | None, typer.Option("--run", help="One run by id (default: the latest).")] = None,
    since: Annotated[
        str | None,
        typer.Option("--since", help="Every run started since: 2026-11-29T18:00 (UTC) or 2h, 30m, 7d."),
    ] = None,
    fmt: Annotated[str, typer.Option("--format", "-f", help="table, json or csv.")] = "table",
    by: Annotated[
        str,
        typer.Option(
            "--by", help="venue: the full report (PnL per venue, symbol, day...); strategy: PnL per strategy."
        ),
    ] = "venue",
    plot: Annotated[
        Path | None, typer.Option("--plot", help="Also draw the equity chart to this PNG.")
    ] = None,
) -> None:
    """PnL per venue, symbol and day, fills, slippage, hedges, skips, latency and kill-switch events.

    Examples:

      cexarb report                                  # the latest run in cexarb-run.journal.db

      cexarb report --since 1d --format json

      cexarb report --by strategy                    # spot_spot, mexc_gate_basis, ... and other

      cexarb report -j postgresql://cexarb@db/journal --run 20261129T181502-1a2b3c4d --plot run.png
    """
    if fmt not in FORMATS:
        raise typer.BadParameter("one of table, json, csv", param_hint="--format")
    if by not in BREAKDOWNS:
        raise typer.BadParameter("venue or strategy", param_hint="--by")
    if run and since:
        raise typer.BadParameter("give --run or --since, not both", param_hint="--since")
    with typed_errors_exit():
        report = asyncio.run(_load(journal, run, since))
        by_strategy = by == "strategy"
        if fmt == "json":
            data = strategies_json(report) if by_strategy else as_json(report)
            sys.stdout.write(json.dumps(data, indent=2) + "\n")
        elif fmt == "csv":
            sys.stdout.write(strategies_csv(report) if by_strategy else as_csv(report))
        else:
            console = Console(soft_wrap=True)
            if not console.is_terminal:
                console = Console(soft_wrap=True, width=150)  # a pipe or file: never squeeze the tables
            (print_strategies if by_strategy else print_table)(report, console)
        if plot is not None:
            from cexarb.cli.plot import equity_chart

            equity_chart(report, plot)
            typer.echo(f"chart: {plot}", err=fmt != "table")


async def _load(url: str, run_id: str | None, since: str | None) -> Report:
    backend = open_backend(url)
    if isinstance(backend, SqliteBackend) and not backend.path.exists():
        raise JournalError(f"no journal at {backend.path}", hint="give --journal, or run `cexarb run` first")
    try:
        return build(await load_runs(backend, run_id, parse_since(since) if since else None))
    finally:
        await backend.close()


def as_json(r: Report) -> dict:
    return {
        "runs": r.runs,
        "pnl": {
            "venues": {v: row.as_dict() for v, row in sorted(r.venues.items())},
            "total": r.total.as_dict(),
            "run_summary": r.summary,
            "by_day": [
                {"day": d, "venue": v, "symbol": s, **row.as_dict()}
                for (d, v, s), row in sorted(r.by_day.items())
            ],
        },
        "fills": [{"venue": v, "symbol": s, **x} for (v, s), x in sorted(r.fills.items())],
        "slippage": [{"venue": v, "leg": role, **x} for (v, role), x in sorted(r.slippage.items())],
        "hedges": r.hedges,
        "decisions": r.decisions,
        "skipped": r.skipped,
        "order_rtt_ms": r.latency_ms,
        "kill_switch": r.kill_switch,
        "risk_events": r.risk_counts,
    }


def _strategy_order(r: Report) -> list[str]:
    """The strategies as the run lists them, "other" last."""
    return sorted(r.strategies, key=lambda name: (name == "other", name))


def strategies_json(r: Report) -> dict:
    """`--by strategy --format json`: PnL per strategy, the total, and what the runs printed."""
    return {
        "runs": r.runs,
        "pnl": {
            "strategies": {name: r.strategies[name].as_dict() for name in _strategy_order(r)},
            "total": r.total.as_dict(),
            "run_summary": r.strategy_summary,
        },
    }


def strategies_csv(r: Report) -> str:
    """`--by strategy --format csv`: section pnl_by_strategy, key = strategy (or TOTAL)."""
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(["section", "key", "item", "value"])
    for name in _strategy_order(r):
        for item, x in r.strategies[name].as_dict().items():
            w.writerow(["pnl_by_strategy", name, item, x])
    for item, x in r.total.as_dict().items():
        w.writerow(["pnl_by_strategy", "TOTAL", item, x])
    return out.getvalue()


def as_csv(r: Report) -> str:
    """Long form, one figure a line: section, key (venue/symbol/day...), item, value."""
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(["section", "key", "item", "value"])
    for v, row in sorted(r.venues.items()):
        for item, x in row.as_dict().items():
            w.writerow(["pnl", v, item, x])
    for item, x in r.total.as_dict().items():
        w.writerow(["pnl", "TOTAL", item, x])
    for (d, v, s), row in sorted(r.by_day.items()):
        for item, x in row.as_dict().items():
            w.writerow(["pnl_by_day", f"{d}/{v}/{s}", item, x])
    for (v, s), x in sorted(r.fills.items()):
        for item, val in x.items():
            w.writerow(["fills", f"{v}/{s}", item, val])
    for (v, role), x in sorted(r.slippage.items()):
        for item, val in x.items():
            w.writerow(["slippage", f"{v}/{role}", item, val])
    for v, x in sorted(r.hedges.items()):
        for item, val in x.items():
            w.writerow(["hedges", v, item, val])
    for reason, n in r.skipped.items():
        w.writerow(["skipped", reason, "count", n])
    for v, p in r.latency_ms.items():
        for item, val in p.items():
            w.writerow(["order_rtt_ms", v, item, val])
    for k in r.kill_switch:
        w.writerow(["kill_switch", k["run_id"], k["reason"], k["pnl"]])
    return out.getvalue()


def _table(title: str, *columns: str) -> Table:
    t = Table(title=title, title_justify="left", show_edge=False)
    for i, c in enumerate(columns):
        t.add_column(
            c, justify="left" if i == 0 or c in ("venue", "symbol", "day", "leg", "reason") else "right"
        )
    return t


_PNL_COLUMNS = ("realized", "unrealized", "fees", "funding", "transfer fees", "total", "fills")


def _pnl_cells(row: PnlRow) -> tuple[str, ...]:
    figures = (row.realized, row.unrealized, row.fees, row.funding, row.transfer_fees, row.total)
    return (*(f"{x:.4f}" for x in figures), str(row.fills))


def _print_runs(r: Report, console: Console) -> None:
    for run in r.runs:
        elapsed = f"{run['elapsed_s']:.1f}s" if run["elapsed_s"] is not None else "no summary (ended early)"
        console.print(
            f"run {run['run_id']}  started {run['started']}  {run['mode']}  {elapsed}  "
            + ",".join(run["symbols"])
        )


def print_strategies(r: Report, console: Console) -> None:
    """`--by strategy`: PnL per strategy beside the total each run printed for it."""
    _print_runs(r, console)
    t = _table("PnL per strategy (USDT)", "strategy", *_PNL_COLUMNS, "run summary")
    for name in _strategy_order(r):
        printed = r.strategy_summary.get(name, {}).get("total")
        t.add_row(name, *_pnl_cells(r.strategies[name]), f"{printed:.4f}" if printed is not None else "-")
    t.add_row("TOTAL", *_pnl_cells(r.total), "")
    console.print(t)


def print_table(r: Report, console: Console) -> None:
    out = console.print
    _print_runs(r, console)
    t = _table("PnL per venue (USDT)", "venue", *_PNL_COLUMNS, "run summary")
    for v, row in sorted(r.venues.items()):
        printed = r.summary.get(v, {}).get("total")
        t.add_row(v, *_pnl_cells(row), f"{printed:.4f}" if printed is not None else "-")
    printed_total = sum(x.get("total", 0.0) for x in r.summary.values()) if r.summary else None
    t.add_row("TOTAL", *_pnl_cells(r.total), f"{printed_total:.4f}" if printed_total is not None else "-")
    out(t)
    t = _table("PnL per day, venue and symbol", "day", "venue", "symbol", *_PNL_COLUMNS)
    for (d, v, s), row in sorted(r.by_day.items()):
        t.add_row(d, v, s, *_pnl_cells(row))
    out(t)
    t = _table("Fills", "venue", "symbol", "fills", "net base", "notional")
    for (v, s), x in sorted(r.fills.items()):
        net = x["base"] if abs(x["base"]) > 1e-9 else 0.0  # float noise of equal buys and sells
        t.add_row(v, s, str(x["fills"]), f"{net:+.8g}", f"{x['notional']:.2f}")
    out(t)
    t = _table(
        "Slippage vs the price the decision saw", "venue", "leg", "legs", "mean bps", "worst bps", "cost"
    )
    for (v, role), x in sorted(r.slippage.items()):
        t.add_row(v, role, str(x["legs"]), f"{x['bps_mean']:.2f}", f"{x['bps_max']:.2f}", f"{x['cost']:.4f}")
    out(t)
    t = _table("Hedges and unwinds", "venue", "orders", "filled", "cost")
    for v, x in sorted(r.hedges.items()):
        t.add_row(v, str(x["orders"]), f"{x['filled']:.8g}", f"{x['cost']:.4f}")
    out(t if r.hedges else "Hedges and unwinds: none")
    out("decisions: " + (", ".join(f"{k}={n}" for k, n in sorted(r.decisions.items())) or "none"))
    t = _table("Skipped by reason", "reason", "count")
    for reason, n in list(r.skipped.items())[:15]:
        t.add_row(reason, str(n))
    out(t if r.skipped else "Skipped: none")
    for run in r.runs:
        for name, p in run["latency"].items():
            if p:
                out(f"run {run['run_id']} {name}: p50={p['p50']:.1f} p99={p['p99']:.1f} max={p['max']:.1f}")
    t = _table("Order round trip (ms)", "venue", "p50", "p99", "max")
    for v, p in r.latency_ms.items():
        t.add_row(v, f"{p['p50']:.1f}", f"{p['p99']:.1f}", f"{p['max']:.1f}")
    out(t if r.latency_ms else "Order round trip: no orders")
    if r.kill_switch:
        for k in r.kill_switch:
            out(f"KILL SWITCH run {k['run_id']}: {k['reason']} (pnl {k['pnl']:.4f})")
    else:
        out("kill switch: never tripped")
    if r.risk_counts:
        out("risk events: " + ", ".join(f"{k}={n}" for k, n in sorted(r.risk_counts.items())))
