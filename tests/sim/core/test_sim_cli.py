"""`cexarb sim` as an operator meets it: bad ports are one line and exit 2, --write-config gives
a file the other commands use as is, Ctrl-C exits 130."""

from __future__ import annotations

import asyncio
import json
import signal
import socket
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from cexarb.cli.main import app
from cexarb.config import load_config
from cexarb.model import Market, Venue


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--port", "70000"], "port 70000 is out of range"),
        (["--port", "65534"], "puts mexc_spot on 65536, past 65535"),
        (["--ports", "gateio_spot=9001,foo=9002"], "unknown port name 'foo'"),
        (["--ports", "mexc_spot=99999"], "port 99999 for mexc_spot is out of range"),
        (["--ports", "mexc_spot=9100,gateio_spot=9100"], "gateio_spot and mexc_spot are both on port 9100"),
        # --port 9100 gives gateio_futures 9101: the explicit mexc_spot port collides with it.
        (
            ["--port", "9100", "--ports", "mexc_spot=9101"],
            "gateio_futures and mexc_spot are both on port 9101",
        ),
        (["--ports", "mexc_spot"], "write VENUE=PORT"),
    ],
)
def test_bad_ports_are_one_line_and_exit_2(args, message):
    result = CliRunner().invoke(app, ["sim", "--no-flow", "--duration", "0.1", *args])
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "Traceback" not in result.output
    assert (
        len([line for line in result.output.splitlines() if line.strip()]) <= 4
    )  # usage + error box at most


def test_a_port_in_use_is_one_line_and_exit_2():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = CliRunner().invoke(
            app, ["sim", "--no-flow", "--duration", "0.1", "--ports", f"mexc_spot={port}"]
        )
    assert result.exit_code == 2
    assert result.output.strip() == f"error: cannot listen on 127.0.0.1:{port}: address already in use"


async def _start_sim(*args: str) -> tuple[asyncio.subprocess.Process, dict]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "cexarb",
        "sim",
        "--no-flow",
        "--duration",
        "60",
        *args,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    line = await asyncio.wait_for(proc.stdout.readline(), 30)
    return proc, json.loads(line)


async def _cexarb(*args: str) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "cexarb", *args, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    return proc.returncode, out.decode(), err.decode()


async def test_write_config_gives_the_operator_commands_a_ready_file(tmp_path):
    path = tmp_path / "sim.toml"
    proc, urls = await _start_sim("--write-config", str(path), "--account", "op1:secret1")
    try:
        assert path.stat().st_mode & 0o077 == 0  # it holds the keys: the owner's only
        config = load_config(path, env={})
        gate = urls["gateio"]  # one REST host for both Gate markets, a WS URL each
        expected = {
            (Venue.MEXC, Market.SPOT): (urls["mexc_spot"]["rest"], urls["mexc_spot"]["ws"]),
            (Venue.GATEIO, Market.SPOT): (gate["rest"], gate["spot_ws"]),
            (Venue.GATEIO, Market.FUTURES): (gate["rest"], gate["futures_ws"]),
        }
        for (venue, market), (rest, ws) in expected.items():
            cfg = config.get(venue, market)
            assert (cfg.rest_url, cfg.ws_url) == (rest, ws)
            assert (cfg.api_key.reveal(), cfg.api_secret.reveal()) == ("op1", "secret1")
            assert cfg.private_ws_url in ("", ws)  # never the real venue's
        # The file works as is: state persists between commands on the running simulator.
        code, out, err = await _cexarb(
            "place", "BTC/USDT", "buy", "0.01", "--price", "50000", "--venue", "mexc_spot", "-c", str(path)
        )
        assert code == 0, err
        order_id = out.split("id=")[1].split()[0]
        code, out, err = await _cexarb(
            "orders", "--venue", "mexc_spot", "--symbol", "BTC/USDT", "-c", str(path)
        )
        assert code == 0, err
        assert order_id in out
    finally:
        proc.terminate()
        await asyncio.wait_for(proc.wait(), 10)
    assert proc.returncode == 0  # SIGTERM: a supervisor's normal stop


async def test_ctrl_c_exits_130_without_a_traceback():
    proc, _ = await _start_sim()
    proc.send_signal(signal.SIGINT)
    _, err = await asyncio.wait_for(proc.communicate(), 10)
    assert proc.returncode == 130
    assert b"Traceback" not in err


def test_volatility_is_an_option_and_must_be_positive():
    result = CliRunner().invoke(app, ["sim", "--help"])
    assert "--volatility" in result.output
    result = CliRunner().invoke(app, ["sim", "--volatility", "0", "--duration", "0.1"])
    assert result.exit_code == 2
