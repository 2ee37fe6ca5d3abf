"""Fixtures of the chaos suite: a simulator with synthetic flow, composites closed after each test,
the scenario length (short in `make test`, long in `make chaos`) and the figures each run reports."""

from __future__ import annotations

import json
import os

import pytest

from cexarb.sim import SimConfig, Simulator

from .rig import LONG, MARKETS, SHORT

_FIGURES: list[dict] = []


@pytest.fixture(params=[SHORT, pytest.param(LONG, marks=pytest.mark.chaos_long)], ids=["short", "long"])
def length(request):
    """CEXARB_CHAOS_SECONDS sets the short form, CEXARB_CHAOS_LONG_SECONDS the long one."""
    return request.param


@pytest.fixture
def figures(request):
    """A dict the scenario fills with what it did (events, faults, orders, fills, mismatches)."""
    row: dict = {"test": request.node.name}
    yield row
    if len(row) > 1:
        _FIGURES.append(row)


def pytest_terminal_summary(terminalreporter):
    if not _FIGURES:
        return
    terminalreporter.section("chaos figures")
    for row in _FIGURES:
        terminalreporter.write_line(json.dumps(row, sort_keys=False))
    path = os.environ.get("CEXARB_CHAOS_REPORT")
    if path:
        with open(path, "w") as out:
            json.dump(_FIGURES, out, indent=1)


@pytest.fixture
async def sim():
    config = SimConfig(seed=11, flow=True, flow_interval_s=0.02, withdrawal_delay_s=0.2)
    async with Simulator(config) as simulator:
        for key in MARKETS:
            simulator.venue(key).faults.timeout_hold_s = 0.3
        yield simulator


@pytest.fixture
async def quiet_sim():
    """No synthetic flow: books and accounts move only when the test acts."""
    async with Simulator(SimConfig(seed=11, flow=False, withdrawal_delay_s=0.2)) as simulator:
        for key in MARKETS:
            simulator.venue(key).faults.timeout_hold_s = 0.3
        yield simulator


@pytest.fixture
async def exchanges():
    """Append every composite a test creates: each is closed afterwards, whatever happened."""
    opened = []
    yield opened
    for ex in opened:
        await ex.close()
