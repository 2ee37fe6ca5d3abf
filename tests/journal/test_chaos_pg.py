"""Chaos: the journal's PostgreSQL connection is killed, then the server is stopped and started
again, while the engine trades on the simulator. Afterwards the journal's fills are exactly the
simulator's fills for the account: nothing lost (spooled, then replayed), nothing twice (keys).

A throwaway server (initdb/pg_ctl) is used so the shared one on 5432 stays up for everyone;
without the binaries the test skips (fails under CEXARB_REQUIRE_SERVICES=1).
"""

from __future__ import annotations

import asyncio
import json
import subprocess

import asyncpg
import pytest

from cexarb.arb.config import ArbConfig
from cexarb.arb.engine import ArbEngine
from cexarb.cli.runner import DEMO_VOLATILITY, SIM_API_KEY, VENUE_MARKETS
from cexarb.exchange.registry import create_exchange
from cexarb.journal import Journal, JournalListener
from cexarb.journal.backends import open_backend
from cexarb.sim import SimConfig, Simulator
from cexarb.sim.flow import FlowParams
from tests.journal import pg
from tests.support import eventually


def truth_fill_count(sim) -> int:
    return sum(len(sim.truth(k, SIM_API_KEY).fills) for k in VENUE_MARKETS)


async def journal_sessions(url: str, terminate: bool = False) -> set[int]:
    """Backend pids of the journal's sessions (found by application_name), killed if asked."""
    admin = await asyncpg.connect(url, timeout=5)
    try:
        rows = await admin.fetch("SELECT pid FROM pg_stat_activity WHERE application_name = 'cexarb-journal'")
        if terminate:
            await admin.fetch(
                "SELECT pg_terminate_backend(pid) FROM unnest($1::int[]) AS pid", [r["pid"] for r in rows]
            )
        return {r["pid"] for r in rows}
    finally:
        await admin.close()


async def test_fills_survive_a_killed_connection_and_a_server_restart(tmp_path):
    server = pg.ThrowawayPostgres()
    if not server.available:
        pg.unavailable("no initdb/pg_ctl to start a server this test may restart")
    try:
        await asyncio.to_thread(server.init)
        await asyncio.to_thread(server.start)
    except (subprocess.CalledProcessError, OSError) as exc:
        server.destroy()
        pg.unavailable(f"throwaway server failed to start: {exc}")
    try:
        await _trade_through_outages(server, tmp_path)
    finally:
        server.destroy()


async def _trade_through_outages(server: pg.ThrowawayPostgres, tmp_path) -> None:
    url = pg.with_schema(server.url, pg.new_schema())
    arb = ArbConfig()
    sim_config = SimConfig(
        seed=11,
        symbols=tuple(str(s) for s in arb.symbols),
        flow_params=FlowParams(volatility=DEMO_VOLATILITY),
    )
    journal = Journal.open(url, spool_path=tmp_path / "journal.spool", flush_interval_s=0.05, retry_s=0.2)
    await journal.start()
    figures: dict[str, int] = {}
    async with Simulator(sim_config) as sim:
        config = sim.client_config(SIM_API_KEY)
        venues = {k: create_exchange(*VENUE_MARKETS[k], config, private=True) for k in VENUE_MARKETS}
        try:
            await asyncio.gather(*(v.initialize(list(arb.symbols)) for v in venues.values()))
            engine = ArbEngine(venues, arb, journal=journal)
            engine.attach()
            for name, venue in venues.items():
                venue.add_private_listener(JournalListener(journal, name))
            stop = asyncio.Event()
            running = asyncio.create_task(engine.run(stop))

            await eventually(
                lambda: journal.stats.written > 0 and truth_fill_count(sim) >= 3, what="first fills written"
            )
            # 1. The connection is killed under the writer (pg_terminate_backend). Whether the next
            # write fails (then spools and replays) or asyncpg saw the close first (then reconnects),
            # the writer must carry on, on a new session.
            killed = await journal_sessions(server.url, terminate=True)
            assert killed
            written = journal.stats.written
            await eventually(lambda: journal.stats.written > written + 10, what="writes after the kill")
            assert not (await journal_sessions(server.url)) & killed
            await eventually(lambda: not journal.spool.pending, what="the spool replayed after reconnecting")
            figures["fills_before_restart"] = truth_fill_count(sim)

            # 2. The server goes away while fills keep coming, then comes back.
            await asyncio.to_thread(server.stop, "immediate")
            await eventually(lambda: journal.stats.spooling, what="spooling")
            during = truth_fill_count(sim)
            await eventually(
                lambda: truth_fill_count(sim) >= during + 3, what="fills while the database is down"
            )
            await journal.flush()
            assert journal.spool.pending
            figures["spooled_events"] = journal.stats.spooled
            await asyncio.to_thread(server.start)
            await eventually(lambda: not journal.spool.pending, what="the spool replayed after the restart")
            figures["fills_after_restart"] = truth_fill_count(sim)

            stop.set()
            await running
            await eventually(
                lambda: engine.pnl.snapshot(engine.marks()).fills == truth_fill_count(sim),
                what="the last private updates of orders already sent",
            )
            await journal.close()
            truth = {
                (k, f.trade_id): (f.side.value, f.quantity, f.price, f.fee)
                for k in VENUE_MARKETS
                for f in sim.truth(k, SIM_API_KEY).fills
            }
        finally:
            for v in venues.values():
                await v.close()

    reader = open_backend(url)
    try:
        fills = await reader.read("fills", [journal.run_id])
    finally:
        await reader.close()
    journaled = {
        (f.venue, f.fill.trade_id): (f.fill.side.value, f.fill.quantity, f.fill.price, f.fill.fee)
        for f in fills
    }
    assert len(fills) == len(journaled), "a fill journaled twice"
    assert journaled.keys() == truth.keys()
    for key, (side, qty, price, fee) in truth.items():
        # The wire carries decimals: the client's floats may differ from the sim's in the last bit.
        assert journaled[key] == (side, pytest.approx(qty), pytest.approx(price), pytest.approx(fee)), key
    assert not journal.spool.pending and journal.stats.dropped == 0
    figures.update(fills=len(fills), replayed=journal.stats.replayed, write_errors=journal.stats.write_errors)
    print(json.dumps({"test": "journal_pg_chaos", **figures}))
