"""The dashboard renders every panel from live engine state, lays itself out for the terminal's
size (whole panels dropped by priority, no number cut, venues always told apart), and the plain
status line."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from cexarb.arb.config import ArbConfig
from cexarb.arb.engine import ArbEngine
from cexarb.cli.dashboard import ALIASES, render, status_line

from .fakes import FakeVenue
from .helpers import BTC, futures_info, spot_info
from .test_engine import CHEAP, FLAT, RICH, make, step


async def three_venue_engine() -> ArbEngine:
    """MEXC spot, Gate spot and Gate futures with one spot-spot trade done."""
    info = spot_info(tick=0.1, step=0.001)
    venues = {
        "mexc_spot": FakeVenue("mexc_spot", [info], {"USDT": 10_000.0, "BTC": 1.0}),
        "gateio_spot": FakeVenue("gateio_spot", [info], {"USDT": 10_000.0, "BTC": 1.0}),
        "gateio_futures": FakeVenue("gateio_futures", [futures_info()], {"USDT": 10_000.0}),
    }
    engine = ArbEngine(venues, ArbConfig(symbols=(BTC,), cooldown_s=0.0), trade=True)
    for venue in venues.values():
        venue.set_book(BTC, *FLAT)
    engine.attach()
    venues["mexc_spot"].set_book(BTC, *CHEAP)
    venues["gateio_spot"].set_book(BTC, *RICH)
    await step(engine)
    return engine


def screen(engine: ArbEngine, width: int, height: int) -> list[str]:
    out = io.StringIO()
    Console(file=out, width=width, height=height, force_terminal=False).print(
        render(engine, 12.0, width, height)
    )
    return out.getvalue().splitlines()


async def test_a_wide_screen_shows_every_panel():
    engine = await three_venue_engine()
    text = "\n".join(screen(engine, 200, 60))
    for expected in (
        "MEXC-S>GATE-S",
        "taken",
        "Recent fills",
        "TOTAL",
        "PnL by strategy",
        "spot_spot",
        "frame->decision us",
        "CONNECTED",
        "GATE-F",
    ):
        assert expected in text
    line = status_line(engine, 12.0)
    assert line.startswith("t=12s taken=1 ") and "fills=2" in line


@pytest.mark.parametrize(("width", "height"), [(200, 60), (160, 45), (100, 30), (80, 24), (60, 20)])
async def test_every_size_fits_cuts_nothing_and_tells_venues_apart(width, height):
    engine = await three_venue_engine()
    # A loss with many digits: it must show whole (the bug was `-117…`).
    engine.pnl.on_transfer("gateio_spot", "USDT", 0.0, fee=117_123.456789)
    total = f"{engine.pnl_snapshot().total:,.4f}"
    lines = screen(engine, width, height)
    text = "\n".join(lines)
    assert len(lines) <= height
    assert all(len(line) <= width for line in lines)
    assert "…" not in text  # nothing cut, anywhere
    assert total in text and total.startswith("-117,")  # the PnL panel comes first and whole
    shown = [a for a in ALIASES.values() if a in text]
    assert len(shown) == 3  # each venue by its own name, never `gate…` twice


async def test_smaller_screens_drop_whole_panels_least_important_first():
    engine = await three_venue_engine()
    wide, small = "\n".join(screen(engine, 200, 60)), "\n".join(screen(engine, 80, 24))
    assert "Recent fills" in wide and "Recent fills" not in small
    assert "Venues" in small and "PnL (USDT)" in small


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
