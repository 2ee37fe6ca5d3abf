"""Two `cexarb run` processes on one running simulator trade as one fleet: one shared
ledger that matches the venues' truth, `cexarb fleet` shows both, `cexarb fleet kill`
halts both, `cexarb journal follow` writes both runs into one journal."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from cexarb.cli.runner import SIM_API_KEY
from cexarb.config import venue_toml
from cexarb.coord.control import read_status
from cexarb.coord.keys import FleetKeys
from cexarb.coord.redis import connect_redis
from cexarb.journal.backends import open_backend
from cexarb.model import Symbol
from cexarb.sim import SimConfig, Simulator
from tests.coord.helpers import start_btc
from tests.support import eventually

BTC = Symbol("BTC", "USDT")
CEXARB = str(Path(sys.executable).parent / "cexarb")


def cexarb(*args: str, timeout: float = 60.0) -> subprocess.CompletedProcess:
    return subprocess.run([CEXARB, *args], capture_output=True, text=True, timeout=timeout)


async def test_two_cexarb_run_members_trade_as_one_fleet(redis_url, fleet, tmp_path):
    coord = ["--coordinator", redis_url, "--fleet", fleet]
    async with Simulator(SimConfig(seed=11, symbols=("BTC/USDT",), admin=False)) as sim:
        toml = tmp_path / "sim.toml"
        toml.write_text(venue_toml(sim.client_config(SIM_API_KEY)))
        procs = {
            name: subprocess.Popen(
                [
                    CEXARB,
                    "run",
                    "-c",
                    str(toml),
                    "--trade",
                    *coord,
                    "--member",
                    name,
                    "--symbols",
                    "BTC/USDT",
                    "--duration",
                    "25",
                    "--no-journal",
                    "--status-interval",
                    "1",
                    "--log-file",
                    str(tmp_path / f"{name}.log"),
                ],
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                env={**os.environ, "COLUMNS": "200"},
            )
            for name in ("a", "b")
        }
        redis = connect_redis(redis_url)
        keys = FleetKeys(fleet)
        try:
            status = None

            async def both_alive() -> bool:
                nonlocal status
                status = await read_status(redis, keys)
                return sum(m.alive for m in status.members) == 2

            while not await both_alive():
                assert all(p.poll() is None for p in procs.values()), "a member exited early"
                await asyncio.sleep(0.1)
            # Wait until both engines run (their first heartbeat report carries "taken").
            while not all("taken" in m.info for m in (await read_status(redis, keys)).members):
                await asyncio.sleep(0.1)
            shown = await asyncio.to_thread(cexarb, "fleet", *coord)
            assert shown.returncode == 0, shown.stderr
            assert " a " in shown.stdout and " b " in shown.stdout and "alive" in shown.stdout

            # Gate goes 1% rich: both members see it; the fleet's ledger takes every trade.
            mid = sim.venue("mexc_spot").markets[BTC].initial_mid
            sim.set_mid("gateio_spot", BTC, mid * 1.01)
            fills = lambda k: sim.truth(k, SIM_API_KEY).fills  # noqa: E731
            await eventually(
                lambda: fills("mexc_spot") and fills("gateio_spot"), timeout=30, what="fleet trades"
            )

            killed = await asyncio.to_thread(cexarb, "fleet", "kill", *coord, "--reason", "test")
            assert killed.returncode == 0, killed.stderr
            logs = [tmp_path / "a.log", tmp_path / "b.log"]
            sim.set_mid("gateio_spot", BTC, mid * 1.03)
            await eventually(
                lambda: all("reason=kill_switch" in p.read_text() for p in logs),
                timeout=30,
                what="both members refusing trades on the kill switch",
            )
            # Trades under way when the switch tripped have ended by the time both refuse.
            at_kill = {k: len(fills(k)) for k in ("mexc_spot", "gateio_spot")}
            outputs = {}
            for p in procs.values():
                p.send_signal(signal.SIGINT)  # as Ctrl-C: the run stops and prints its summary
            for name, p in procs.items():
                out, _ = await asyncio.to_thread(p.communicate, timeout=60)
                outputs[name] = out
                assert p.returncode == 130, out[-2000:]  # Ctrl-C: 128 + SIGINT, after the summary
            assert {k: len(fills(k)) for k in ("mexc_spot", "gateio_spot")} == at_kill
            for out in outputs.values():
                assert "FLEET KILL SWITCH: operator: test" in out

            ledger = await redis.hgetall(keys.risk)
            for k in ("mexc_spot", "gateio_spot"):
                # What the wallet holds since the start: the fills, less the fees taken in BTC.
                truth = sim.truth(k, SIM_API_KEY).balances["BTC"].total - start_btc()
                assert float(ledger.get(f"base:{k}:BTC", 0.0)) == pytest.approx(truth, abs=1e-9)
        finally:
            for p in procs.values():
                if p.poll() is None:
                    p.kill()
                    p.wait()
            await redis.aclose()

    # The fleet's stream, followed into one journal: both members' runs are there.
    db = tmp_path / "fleet.db"
    followed = await asyncio.to_thread(
        cexarb, "journal", "follow", *coord, "--journal", f"sqlite:///{db}", "--duration", "3"
    )
    assert followed.returncode == 0, followed.stderr
    backend = open_backend(f"sqlite:///{db}")
    await backend.connect()
    try:
        runs = await backend.runs()
        decisions = await backend.read("decisions", [r.run_id for r in runs])
    finally:
        await backend.close()
    assert len(runs) == 2
    assert {d.run_id for d in decisions if d.action == "taken"} <= {r.run_id for r in runs}
    assert any(d.reason == "kill_switch" for d in decisions)
