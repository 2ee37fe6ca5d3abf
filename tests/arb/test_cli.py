"""Operator commands and `run`: help with examples, clear non-zero exits on bad input."""

from __future__ import annotations

import pytest
import typer
from typer.testing import CliRunner

from cexarb.cli import ops
from cexarb.cli.runner import run_command


@pytest.fixture()
def app() -> typer.Typer:
    app = typer.Typer()
    ops.register(app)
    app.command("run")(run_command)
    return app


def invoke(app, *args, **kw):
    return CliRunner().invoke(app, list(args), **kw)


@pytest.mark.parametrize("command", [*ops.COMMANDS, "run"])
def test_every_command_has_help_with_an_example(app, command):
    result = invoke(app, command, "--help")
    assert result.exit_code == 0
    assert "cexarb " + command in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["book", "BTC/USDT", "--venue", "binance"], "unknown venue"),
        (["book", "BTCUSDT", "--venue", "mexc_spot"], "cannot parse symbol"),
        (["place", "BTC/USDT", "hold", "1", "--venue", "mexc_spot"], "side must be buy or sell"),
        (["place", "BTC/USDT", "buy", "0", "--venue", "mexc_spot"], "must be a finite number > 0"),
        (["place", "BTC/USDT", "buy", "1", "-p", "5", "--tif", "GTD", "--venue", "mexc_spot"], "GTC, IOC"),
        (["cancel", "BTC/USDT", "--venue", "gateio_spot"], "give an ORDER_ID or --all"),
        (
            ["withdraw", "USDT", "0", "--address", "x", "--network", "TRX", "--venue", "gateio_spot"],
            "must be a finite number > 0",
        ),
        (["run", "--duration", "-1"], "must be >= 0"),
        (["run", "--symbols", "BTCUSDT"], "cannot parse symbol"),
    ],
)
def test_bad_input_exits_non_zero_with_a_clear_message(app, args, message):
    result = invoke(app, *args)
    assert result.exit_code == 2
    assert message in result.output


def test_withdraw_asks_for_confirmation_and_stops_on_no(app, monkeypatch):
    def never_connect(*_a, **_k):
        raise AssertionError("must not connect before confirmation")

    monkeypatch.setattr(ops, "connect", never_connect)
    result = invoke(
        app,
        "withdraw",
        "USDT",
        "5",
        "--address",
        "TXabc",
        "--network",
        "TRX",
        "--venue",
        "gateio_spot",
        input="n\n",
    )
    assert result.exit_code == 1
    assert "Withdraw 5 USDT to TXabc on TRX from gateio_spot?" in result.output


def test_missing_config_file_is_reported(app, tmp_path):
    result = invoke(app, "balances", "--venue", "mexc_spot", "--config", str(tmp_path / "nope.toml"))
    assert result.exit_code == 2
    assert "does not exist" in result.output
