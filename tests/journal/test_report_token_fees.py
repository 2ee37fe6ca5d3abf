"""Fees paid in a discount token (MEXC MX, Gate GT) in the report: the engine trades on the
simulator with both spot accounts paying their fees in the token, the run is journaled as
`cexarb run` journals it, and the report's per-venue totals equal the live engine's PnL."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from cexarb.arb.config import ArbConfig
from cexarb.arb.engine import ArbEngine
from cexarb.cli.report_data import build, load_runs
from cexarb.cli.runner import VENUE_MARKETS, RunOptions, _journal_start, _open_journal, _summary_figures
from cexarb.exchange.registry import create_exchange
from cexarb.journal import RunEnded
from cexarb.journal.backends import open_backend
from cexarb.model import Symbol
from cexarb.sim import SimAccount, SimConfig, Simulator
from cexarb.sim.fees import FeeTier
from tests.support import eventually

BTC = Symbol("BTC", "USDT")
TIERS = {
    "mexc_spot": FeeTier(maker=0.0, taker=0.0006, token="MX", token_discount=0.2, token_price=2.5),
    "gateio_spot": FeeTier(maker=0.0008, taker=0.0009, token="GT", token_discount=0.25, token_price=20.0),
}


async def test_report_values_discount_token_fees_as_the_run_did(tmp_path: Path):
    account = SimAccount("k1", "s1", {"USDT": 100_000.0, "BTC": 2.0, "MX": 1_000.0, "GT": 100.0}, fees=TIERS)
    sim_config = SimConfig(seed=5, symbols=("BTC/USDT",), flow=False, admin=False, accounts=(account,))
    options = RunOptions(log_file=tmp_path / "run.log")
    async with Simulator(sim_config) as sim:
        config = sim.client_config("k1")
        venues = {k: create_exchange(*VENUE_MARKETS[k], config, private=True) for k in TIERS}
        journal = await _open_journal(options.journal_url, options.log_file)
        try:
            await asyncio.gather(*(v.initialize([BTC]) for v in venues.values()))
            arb = ArbConfig(symbols=(BTC,), enable_basis=False, cooldown_s=5.0)
            engine = ArbEngine(venues, arb, journal=journal)
            engine.attach()
            _journal_start(journal, engine, arb, options, "simulator")
            stop = asyncio.Event()
            running = asyncio.create_task(engine.run(stop))
            sim.set_mid("gateio_spot", BTC, sim.venue("mexc_spot").markets[BTC].initial_mid * 1.01)
            await eventually(lambda: engine.stats.taken, what="a trade taken")
            stop.set()
            await running
            made = sum(len(sim.truth(k, "k1").fills) for k in TIERS)
            await eventually(lambda: engine.pnl_snapshot().fills == made, what="every fill booked")
            paid = {f.fee_asset for k in TIERS for f in sim.truth(k, "k1").fills}
            assert paid == {"MX", "GT"}, "both venues took their fees in the token"
            engine.journal_snapshot(final=True)
            live = engine.pnl_snapshot()
            summary = {v.venue: _summary_figures(v) for v in live.venues.values()}
            journal.record(RunEnded(ts=time.time(), elapsed_s=1.0, summary=summary))
        finally:
            for v in venues.values():
                await v.close()
            await journal.close()

    backend = open_backend(options.journal_url)
    try:
        report = build(await load_runs(backend))
    finally:
        await backend.close()
    for venue, v in live.venues.items():
        assert v.fees > 0
        got = report.venues[venue]
        assert got.fees == pytest.approx(v.fees, rel=1e-9)
        assert got.total == pytest.approx(v.total, rel=1e-9, abs=1e-9)
        assert got.total == pytest.approx(report.summary[venue]["total"], rel=1e-9, abs=1e-9)
