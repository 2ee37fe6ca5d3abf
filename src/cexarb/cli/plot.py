"""`cexarb report --plot`: the equity curve with per-venue PnL, and inventory, as a PNG."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

from cexarb.cli.report_data import Report
from cexarb.model.errors import JournalError


def equity_chart(report: Report, path: Path) -> None:
    """Top: PnL per venue and in total over time; bottom: inventory change per venue and asset."""
    try:
        import matplotlib

        matplotlib.use("Agg")  # no screen needed
        import matplotlib.pyplot as plt
    except ImportError:
        raise JournalError("--plot needs matplotlib", hint="pip install 'cexarb[plot]'") from None
    if not report.equity:
        raise JournalError(
            "nothing to plot: the journal has no snapshots for these runs", hint="run longer than 1 s"
        )

    per_venue: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for ts, venue, pnl in sorted(report.equity):
        per_venue[venue].append((ts, pnl))
    # Total at every snapshot time: the last value of each venue up to then (a snapshot's
    # venues share one timestamp, so the total is taken once all of them are in).
    total: list[tuple[float, float]] = []
    latest: dict[str, float] = {}
    for ts, venue, pnl in sorted(report.equity):
        latest[venue] = pnl
        if total and total[-1][0] == ts:
            total.pop()
        total.append((ts, sum(latest.values())))

    def when(ts: float) -> datetime:
        return datetime.fromtimestamp(ts, UTC)

    fig, (top, bottom) = plt.subplots(2, 1, figsize=(10, 7), sharex=True, height_ratios=(3, 2))
    top.plot([when(t) for t, _ in total], [p for _, p in total], color="black", linewidth=2, label="total")
    for venue, points in sorted(per_venue.items()):
        top.plot([when(t) for t, _ in points], [p for _, p in points], linewidth=1.2, label=venue)
    top.axhline(0.0, color="grey", linewidth=0.6)
    top.set_ylabel("PnL (USDT)")
    top.set_title("cexarb equity: " + ", ".join(r["run_id"] for r in report.runs[-3:]))
    top.legend(loc="upper left", fontsize=8)
    top.grid(alpha=0.3)

    held: dict[tuple[str, str], list[tuple[float, float]]] = defaultdict(list)
    for ts, venue, asset, qty in sorted(report.inventory):
        held[(venue, asset)].append((ts, qty))
    for (venue, asset), points in sorted(held.items()):
        bottom.step(
            [when(t) for t, _ in points], [q for _, q in points], where="post", label=f"{venue} {asset}"
        )
    bottom.axhline(0.0, color="grey", linewidth=0.6)
    bottom.set_ylabel("inventory change (USDT value)")
    bottom.set_xlabel("time (UTC)")
    bottom.legend(loc="upper left", fontsize=7, ncol=3)
    bottom.grid(alpha=0.3)
    fig.autofmt_xdate()
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
