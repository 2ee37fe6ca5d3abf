"""`cexarb sim`: serve every simulated venue until Ctrl-C (or --duration).

Prints one JSON line so scripts can read the URLs from stdout:
{"gateio": {"rest": ..., "spot_ws": ..., "futures_ws": ...}, "mexc_spot": {"rest": ..., "ws": ...},
 "admin": {"rest": ..., "ws": ""}}. Gate has one REST URL for spot, futures, wallet and account, as
the real venue does; only its futures WebSocket has a host of its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import sys
from typing import Annotated

import typer

from cexarb import eventloop
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
            raise typer.BadParameter(f"port {item!r}: write VENUE=PORT, e.g. mexc_spot=9002")
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
    withdrawal_delay: Annotated[float, typer.Option(help="Seconds until a withdrawal is DONE.")] = 1.0,
    funding_interval: Annotated[
        int, typer.Option(help="Seconds between Gate futures funding settlements (real venue: 28800).")
    ] = 28800,
    rate_limits: Annotated[
        bool, typer.Option(help="Answer 429 when a caller exceeds the venue's limits.")
    ] = True,
    duration: Annotated[float, typer.Option(help="Stop after N seconds (0: serve until Ctrl-C).")] = 0.0,
) -> None:
    """Serve the simulated MEXC spot, Gate spot and Gate futures venues on 127.0.0.1."""
    balances = parse_balances(balance or list(_DEFAULT_BALANCES))
    config = SimConfig(
        seed=seed,
        symbols=tuple(s.strip() for s in symbols.split(",") if s.strip()),
        accounts=parse_accounts(account or ["k1:s1"], balances),
        flow=flow,
        flow_interval_s=flow_interval,
        correlation_lag_s=correlation_lag,
        host=host,
        port=port,
        ports=parse_ports(ports),
        withdrawal_delay_s=withdrawal_delay,
        funding_interval_s=funding_interval,
        rate_limits=rate_limits,
    )
    with contextlib.suppress(KeyboardInterrupt):
        eventloop.run(serve(config, duration))


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


async def serve(config: SimConfig, duration: float = 0.0) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    async with Simulator(config) as sim:
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
