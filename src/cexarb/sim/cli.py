"""`cexarb sim`: serve every simulated venue until Ctrl-C (or --duration).

Prints one JSON line so scripts can read the URLs from stdout:
{"gateio": {"rest": ..., "spot_ws": ..., "futures_ws": ...}, "mexc_spot": {"rest": ..., "ws": ...},
 "admin": {"rest": ..., "ws": ""}}. Gate has one REST URL for spot, futures, wallet and account, as
the real venue does; only its futures WebSocket has a host of its own.
`--write-config FILE` also writes the TOML the other commands take with `--config` (every
venue's URLs, the first account's keys).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sys
from pathlib import Path
from typing import Annotated

import typer

from cexarb import eventloop
from cexarb.config import venue_toml
from cexarb.model.errors import ConfigError
from cexarb.sim.flow import FlowParams
from cexarb.sim.harness import SimAccount, SimConfig, Simulator

_DEFAULT_BALANCES = ("USDT=100000", "BTC=2", "ETH=20", "SOL=500")


def parse_balances(items: list[str]) -> dict[str, float]:
    out: dict[str, float] = {}
    for item in items:
        asset, sep, amount = item.partition("=")
        try:
            if not sep or not asset:
                raise ValueError
            out[asset.strip().upper()] = float(amount)
        except ValueError:
            raise typer.BadParameter(f"balance {item!r}: write ASSET=AMOUNT, e.g. USDT=100000") from None
    return out


def parse_accounts(items: list[str], balances: dict[str, float]) -> tuple[SimAccount, ...]:
    accounts = []
    for item in items:
        key, sep, secret = item.partition(":")
        if not sep or not key or not secret:
            raise typer.BadParameter(f"account {item!r}: write KEY:SECRET")
        accounts.append(SimAccount(api_key=key, api_secret=secret, balances=dict(balances)))
    return tuple(accounts)


def parse_ports(text: str) -> dict[str, int]:
    out: dict[str, int] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        key, sep, value = item.partition("=")
        if not sep or not value.strip().isdigit():
            raise typer.BadParameter(
                f"port {item!r}: write VENUE=PORT, e.g. mexc_spot=9002", param_hint="--ports"
            )
        out[key.strip()] = int(value)
    return out


def sim_command(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[
        int,
        typer.Option(
            help="First port: Gate REST + spot WS on port, Gate futures WS port+1, MEXC port+2, "
            "admin port+3. 0: free ports."
        ),
    ] = 0,
    ports: Annotated[
        str,
        typer.Option(
            help="Explicit ports, e.g. gateio_spot=9001,gateio_futures=9002,mexc_spot=9003,admin=9004 "
            "(gateio_spot: the Gate REST host; gateio_futures: Gate's futures WS). Override --port."
        ),
    ] = "",
    seed: Annotated[int, typer.Option(help="Seed of the synthetic flow.")] = 7,
    symbols: Annotated[
        str, typer.Option(help="Comma-separated symbols listed on every venue.")
    ] = "BTC/USDT,ETH/USDT,SOL/USDT",
    balance: Annotated[
        list[str] | None,
        typer.Option(
            help="Starting balance ASSET=AMOUNT (repeat). Default: USDT=100000 BTC=2 ETH=20 SOL=500."
        ),
    ] = None,
    account: Annotated[
        list[str] | None, typer.Option(help="API key and secret KEY:SECRET (repeat). Default: k1:s1.")
    ] = None,
    flow: Annotated[bool, typer.Option(help="Run the synthetic traders.")] = True,
    flow_interval: Annotated[float, typer.Option(help="Seconds between synthetic flow steps.")] = 0.05,
    correlation_lag: Annotated[float, typer.Option(help="Seconds each venue lags the previous one.")] = 0.5,
    volatility: Annotated[
        float,
        typer.Option(
            help="Per-step volatility of the price walk. `cexarb run` uses 0.001 on its embedded "
            "simulator so spreads beat the fees; the default is calmer."
        ),
    ] = FlowParams().volatility,
    withdrawal_delay: Annotated[float, typer.Option(help="Seconds until a withdrawal is DONE.")] = 1.0,
    funding_interval: Annotated[
        int, typer.Option(help="Seconds between Gate futures funding settlements (real venue: 28800).")
    ] = 28800,
    rate_limits: Annotated[
        bool, typer.Option(help="Answer 429 when a caller exceeds the venue's limits.")
    ] = True,
    duration: Annotated[float, typer.Option(help="Stop after N seconds (0: serve until Ctrl-C).")] = 0.0,
    write_config: Annotated[
        Path | None,
        typer.Option(
            help="Write a TOML for `--config` of the other commands: every venue's URLs and the first "
            "account's keys."
        ),
    ] = None,
) -> None:
    """Serve the simulated MEXC spot, Gate spot and Gate futures venues on 127.0.0.1.

    Examples:

      cexarb sim --write-config sim.toml            # then, in another shell:

      cexarb balances --venue mexc_spot -c sim.toml

      cexarb run -c sim.toml --trade
    """
    if not volatility > 0 or not flow_interval > 0:
        raise typer.BadParameter("--volatility and --flow-interval must be > 0")
    balances = parse_balances(balance or list(_DEFAULT_BALANCES))
    config = SimConfig(
        seed=seed,
        symbols=tuple(s.strip() for s in symbols.split(",") if s.strip()),
        accounts=parse_accounts(account or ["k1:s1"], balances),
        flow=flow,
        flow_params=FlowParams(
            interval_s=flow_interval, correlation_lag_s=correlation_lag, volatility=volatility
        ),
        host=host,
        port=port,
        ports=parse_ports(ports),
        withdrawal_delay_s=withdrawal_delay,
        funding_interval_s=funding_interval,
        rate_limits=rate_limits,
    )
    try:
        stopped_by = eventloop.run(serve(config, duration, write_config))
    except KeyboardInterrupt:
        stopped_by = signal.SIGINT
    except ConfigError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    # Ctrl-C ends with the shell's 128 + SIGINT; SIGTERM (a supervisor's stop) and --duration with 0.
    raise typer.Exit(128 + signal.SIGINT if stopped_by == signal.SIGINT else 0)


def url_line(sim: Simulator) -> dict[str, dict[str, str]]:
    """The served URLs by host: one entry for Gate (one REST URL, a WS URL per market)."""
    line: dict[str, dict[str, str]] = {}
    if sim.gate_rest_url:
        gate = {"rest": sim.gate_rest_url}
        for key, name in (("gateio_spot", "spot_ws"), ("gateio_futures", "futures_ws")):
            if key in sim.urls:
                gate[name] = sim.urls[key].ws
        line["gateio"] = gate
    for key, urls in sim.urls.items():
        if not key.startswith("gateio"):
            line[key] = {"rest": urls.rest, "ws": urls.ws}
    return line


async def serve(config: SimConfig, duration: float = 0.0, write_config: Path | None = None) -> int | None:
    """Serve until a signal (returned) or the duration (None)."""
    stop = asyncio.Event()
    stopped_by: list[int] = []
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, lambda sig=sig: (stopped_by.append(sig), stop.set()))
    async with Simulator(config) as sim:
        if write_config is not None:
            _write_config(sim, write_config)
        line = url_line(sim)
        if sim.admin_url:
            line["admin"] = {"rest": sim.admin_url, "ws": ""}
        sys.stdout.write(json.dumps(line) + "\n")
        sys.stdout.flush()
        if duration > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), duration)
        else:
            await stop.wait()
    return stopped_by[0] if stopped_by else None


def _write_config(sim: Simulator, path: Path) -> None:
    """The venues' TOML for the first account, readable by its owner only (it holds the keys)."""
    account = sim.config.accounts[0]
    head = (
        f"# Written by `cexarb sim` for its account {account.api_key}; valid while that simulator runs.\n"
        f"# Use: cexarb balances --venue mexc_spot --config {path}   /   cexarb run --config {path} --trade\n\n"
    )
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(head + venue_toml(sim.client_config(account.api_key)))
    except OSError as exc:
        raise ConfigError(f"cannot write {path}: {exc.strerror or exc}") from None
