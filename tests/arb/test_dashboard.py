"""The dashboard renders every panel from live engine state, and the plain status line."""

from __future__ import annotations

import io

from rich.console import Console

from cexarb.cli.dashboard import render, status_line

from .helpers import BTC
from .test_engine import CHEAP, RICH, make, step


async def test_dashboard_shows_spreads_decisions_fills_and_pnl():
    engine, mexc, gate = make()
    mexc.set_book(BTC, *CHEAP)
    gate.set_book(BTC, *RICH)
    await step(engine)
    out = io.StringIO()
    Console(file=out, width=160, force_terminal=False).print(render(engine, 12.0))
    text = out.getvalue()
    for expected in (
        "mexc_spot>gateio_spot",
        "taken",
        "Recent fills",
        "TOTAL",
        "PnL by strategy",
        "spot_spot",
        "frame->decision us",
        "CONNECTED",
    ):
        assert expected in text
    line = status_line(engine, 12.0)
    assert line.startswith("t=12s taken=1 ") and "fills=2" in line


async def test_dashboard_and_status_line_show_the_fleet_kill_switch():
    engine, mexc, gate = make()
    await engine.fleet.coordinator.halt("operator: desk closed")
    out = io.StringIO()
    Console(file=out, width=160, force_terminal=False).print(render(engine, 1.0))
    assert "FLEET KILL SWITCH: operator: desk closed" in out.getvalue()
    assert "FLEET_HALTED(operator: desk closed)" in status_line(engine, 1.0)
    # ...and the engine opens nothing while it is on.
    mexc.set_book(BTC, *CHEAP)
    gate.set_book(BTC, *RICH)
    await step(engine)
    assert engine.stats.taken == 0 and engine.stats.skipped["kill_switch"] > 0
