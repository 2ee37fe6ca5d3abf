"""The operator commands as a new user meets them, against a running `cexarb sim` (configured
by its --write-config file) and the embedded simulator."""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from rich.console import Console
from rich.table import Table
from typer.testing import CliRunner

from cexarb.cli.main import app
from cexarb.cli.ops import EMBEDDED_NOTICE, print_table


@pytest.fixture(scope="module")
def sim_toml(tmp_path_factory) -> Iterator[Path]:
    """A `cexarb sim` in its own process (no flow: the books stay put) and the file it wrote."""
    path = tmp_path_factory.mktemp("sim") / "sim.toml"
    command = [sys.executable, "-m", "cexarb", "sim", "--no-flow", "--duration", "300"]
    with subprocess.Popen(
        [*command, "--write-config", str(path)], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    ) as proc:
        try:
            json.loads(proc.stdout.readline())  # serving, and the file is written
            yield path
        finally:
            proc.terminate()
            proc.wait(10)


def cexarb(*args: str):
    return CliRunner().invoke(app, list(args))


def order_id(output: str) -> str:
    return re.search(r" id=(\S+)", output).group(1)


@pytest.mark.parametrize("venue", ["gateio_spot", "gateio_futures"])
def test_orders_without_symbol_lists_every_open_order_with_whole_ids(sim_toml, venue):
    placed = []
    for symbol, price in (("BTC/USDT", "50000"), ("ETH/USDT", "2500")):
        result = cexarb(
            "place", symbol, "buy", "0.01", "--price", price, "--venue", venue, "-c", str(sim_toml)
        )
        assert result.exit_code == 0, result.output
        placed.append(order_id(result.output))
    result = cexarb("orders", "--venue", venue, "-c", str(sim_toml))
    assert result.exit_code == 0, result.output
    for oid in placed:
        assert oid in result.output  # whole, though the runner's output is not a terminal


def test_orders_on_mexc_asks_for_a_symbol_instead_of_a_false_empty_answer(sim_toml):
    placed = cexarb(
        "place", "SOL/USDT", "buy", "1", "--price", "100", "--venue", "mexc_spot", "-c", str(sim_toml)
    )
    assert placed.exit_code == 0, placed.output
    result = cexarb("orders", "--venue", "mexc_spot", "-c", str(sim_toml))
    assert result.exit_code == 2
    assert "one symbol at a time: add --symbol" in result.output
    assert "no open orders" not in result.output
    listed = cexarb("orders", "--venue", "mexc_spot", "--symbol", "SOL/USDT", "-c", str(sim_toml))
    assert order_id(placed.output) in listed.output


def test_book_needs_no_credentials(sim_toml, tmp_path, monkeypatch):
    for var in ("CEXARB_GATEIO_API_KEY", "CEXARB_GATEIO_API_SECRET"):
        monkeypatch.delenv(var, raising=False)
    keyless = tmp_path / "public.toml"
    keyless.write_text("\n".join(line for line in sim_toml.read_text().splitlines() if "api_" not in line))
    result = cexarb("book", "BTC/USDT", "--venue", "gateio_spot", "--depth", "2", "-c", str(keyless))
    assert result.exit_code == 0, result.output
    assert "bid qty" in result.output
    # The account's commands still say what is missing.
    result = cexarb("balances", "--venue", "gateio_spot", "-c", str(keyless))
    assert result.exit_code == 2
    assert "has no credentials" in result.output


def test_an_unreachable_venue_names_the_url_and_the_cause(tmp_path):
    dead = tmp_path / "dead.toml"
    dead.write_text(
        '[gateio.spot]\nrest_url = "http://127.0.0.1:1/api/v4"\nws_url = "ws://127.0.0.1:1/ws/v4/"\n'
        'api_key = "k1"\napi_secret = "s1"\n'
    )
    result = cexarb("balances", "--venue", "gateio_spot", "-c", str(dead))
    assert result.exit_code == 1
    assert "http://127.0.0.1:1/api/v4/spot/currency_pairs" in result.output
    assert "connection refused" in result.output
    for noise in ("ConnectionKey", "initialize again", "Traceback"):
        assert noise not in result.output


def test_an_unlisted_symbol_says_so_and_offers_listed_ones():
    result = cexarb("book", "DOGE/USDT", "--venue", "gateio_spot")
    assert result.exit_code == 1
    assert "DOGE/USDT is not listed on gateio_spot" in result.output
    assert "BTC/USDT" in result.output
    assert "initialize again" not in result.output


def test_a_command_on_the_embedded_simulator_says_so_first():
    result = cexarb("balances", "--venue", "mexc_spot")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0] == EMBEDDED_NOTICE


@pytest.mark.parametrize("venue", ["mexc_spot", "gateio_spot", "gateio_futures"])
def test_a_market_order_shows_its_average_fill_price_on_every_venue(venue):
    result = cexarb("place", "BTC/USDT", "buy", "0.001", "--venue", venue)
    assert result.exit_code == 0, result.output
    line = result.output.splitlines()[-1]
    assert line.startswith("FILLED BUY 0.001 BTC/USDT @ market filled=0.001 avg=")
    assert float(re.search(r"avg=(\S+)", line).group(1)) > 0
    assert "@ 0 " not in line


@pytest.mark.parametrize("venue", ["mexc_spot", "gateio_spot", "gateio_futures"])
def test_fok_limit_order_is_honoured(venue):
    # Far below the asks: a fill-or-kill cannot fill, so nothing does. MEXC rejects it (-2010),
    # Gate FOK_NOT_FILL; either way the CLI says why and nothing filled.
    result = cexarb("place", "BTC/USDT", "buy", "0.001", "--price", "1000", "--tif", "FOK", "--venue", venue)
    line = result.output.splitlines()[-1]
    if result.exit_code == 1:
        assert re.search(r"(?i)fill[-_ ]or[-_ ]kill", line), result.output
    else:
        assert result.exit_code == 0, result.output
        assert "filled=0 " in line and "avg=-" in line
        assert not line.startswith(("NEW", "FILLED"))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-1"], "QUANTITY: must be a finite number > 0, got -1.0"),
        (["inf"], "QUANTITY: must be a finite number > 0, got inf"),
        (["nan"], "QUANTITY: must be a finite number > 0, got nan"),
        (["0"], "QUANTITY: must be a finite number > 0"),
        (["lots"], "QUANTITY: must be a number, got 'lots'"),
        (["1", "--price", "-5"], "--price: must be a finite number > 0"),
        (["1", "--price", "inf"], "--price: must be a finite number > 0"),
        (["1", "--tif", "FOK"], "--tif: applies to limit orders: give --price too"),
    ],
)
def test_bad_numbers_are_refused_before_any_venue_is_asked(args, message):
    result = cexarb("place", "BTC/USDT", "buy", *args, "--venue", "gateio_spot")
    assert result.exit_code == 2
    assert message in " ".join(result.output.split())
    assert EMBEDDED_NOTICE not in result.output  # refused before anything started


@pytest.mark.parametrize("terminal", [True, False])
def test_tables_never_cut_an_order_id(terminal):
    table = Table(title="Open orders")
    for col in ("symbol", "id", "client id", "side", "price", "qty", "filled", "status"):
        table.add_column(col)
    oid, cid = "C02__1000000000000000000031", "cxb2ada0ef37adde1627c93396"
    table.add_row("BTC/USDT", oid, cid, "BUY", "59000", "0.001", "0", "NEW")
    out = Console(file=io.StringIO(), width=60, force_terminal=terminal)
    print_table(table, out)
    text = out.file.getvalue()
    assert oid in text and cid in text
    assert "…" not in text
