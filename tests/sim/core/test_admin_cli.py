"""The admin HTTP endpoint and the `cexarb sim` command."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys

import aiohttp

from cexarb.sim.harness import Simulator

from .test_harness import config


async def test_admin_faults_truth_control() -> None:
    async with Simulator(config()) as sim:
        admin = sim.admin_url
        async with aiohttp.ClientSession() as http:
            body = {"venue": "gateio_spot", "count": 1, "status": 503, "body": '{"label":"X"}'}
            async with http.post(admin + "/__sim/faults/fail_next_rest", json=body) as resp:
                assert resp.status == 200
            async with http.get(sim.urls["gateio_spot"].rest + "/time") as resp:
                assert resp.status == 503 and await resp.read() == b'{"label":"X"}'
            async with http.post(admin + "/__sim/faults/no_such_fault", json={}) as resp:
                assert resp.status == 404
            async with http.post(admin + "/__sim/faults/skew_clock", json={"venue": "x", "ms": 1}) as resp:
                assert resp.status == 400
            async with http.post(admin + "/__sim/faults/drop_streams", data=b"") as resp:
                assert resp.status == 200
            take = {"venue": "gateio_spot", "symbol": "BTC/USDT", "side": "buy", "quantity": 0.01}
            async with http.post(admin + "/__sim/control/take", json=take) as resp:
                assert resp.status == 200
                assert (await resp.json())["result"]["status"] == "FILLED"
            async with http.post(
                admin + "/__sim/faults/pause_matching", json={"venue": "gateio_spot"}
            ) as resp:
                assert resp.status == 200
            async with http.post(admin + "/__sim/control/take", json=take) as resp:
                assert resp.status == 409
            async with http.get(
                admin + "/__sim/truth", params={"venue": "gateio_spot", "api_key": "k1"}
            ) as resp:
                truth = await resp.json()
            assert truth["balances"]["USDT"]["available"] == 100_000.0
            async with http.get(
                admin + "/__sim/truth", params={"venue": "gateio_spot", "api_key": "nope"}
            ) as resp:
                assert resp.status == 400
            async with http.get(admin + "/__sim/stats", params={"venue": "gateio_spot"}) as resp:
                assert (await resp.json())["failed_by_fault"] == 1


async def test_cli_prints_urls_and_serves() -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "cexarb.sim",
        "--no-flow",
        "--duration",
        "20",
        "--account",
        "kk:ss",
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    try:
        line = await asyncio.wait_for(proc.stdout.readline(), 20)
        urls = json.loads(line)
        assert set(urls) == {"gateio", "mexc_spot", "admin"}
        # One Gate REST URL for spot, futures, wallet and account; the futures WS on its own host.
        gate = urls["gateio"]
        assert set(gate) == {"rest", "spot_ws", "futures_ws"}
        assert gate["rest"].startswith("http://127.0.0.1:") and gate["rest"].endswith("/api/v4")
        rest_port = gate["rest"].split(":")[2].split("/")[0]
        assert gate["spot_ws"] == f"ws://127.0.0.1:{rest_port}/ws/v4/"
        assert gate["futures_ws"].endswith("/v4/ws/usdt") and f":{rest_port}/" not in gate["futures_ws"]
        async with aiohttp.ClientSession() as http:
            for path in ("/spot/currency_pairs", "/futures/usdt/contracts", "/spot/currencies"):
                async with http.get(gate["rest"] + path) as resp:
                    assert resp.status == 200, path
            params = {"venue": "gateio_spot", "api_key": "kk"}
            async with http.get(urls["admin"]["rest"] + "/__sim/truth", params=params) as resp:
                assert (await resp.json())["balances"]["USDT"]["available"] == 100_000.0
        assert urls["mexc_spot"]["rest"].startswith("http://127.0.0.1:")
        assert urls["mexc_spot"]["ws"].startswith("ws://127.0.0.1:")
    finally:
        proc.terminate()
        await asyncio.wait_for(proc.wait(), 10)
    assert proc.returncode == 0


def test_cli_option_parsing() -> None:
    import pytest
    import typer

    from cexarb.sim.cli import parse_accounts, parse_balances, parse_ports

    balances = parse_balances(["usdt=10", "BTC=0.5"])
    assert balances == {"USDT": 10.0, "BTC": 0.5}
    accounts = parse_accounts(["k1:s1", "k2:s2"], balances)
    assert [(a.api_key, a.api_secret, dict(a.balances)) for a in accounts][1] == ("k2", "s2", balances)
    assert parse_ports("gateio_spot=9001, admin=9004") == {"gateio_spot": 9001, "admin": 9004}
    for bad in (
        lambda: parse_balances(["USDT"]),
        lambda: parse_accounts(["k1"], {}),
        lambda: parse_ports("x=y"),
    ):
        with pytest.raises(typer.BadParameter):
            bad()
