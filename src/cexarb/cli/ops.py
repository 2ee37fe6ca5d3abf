"""Operator commands: book, balances, orders, place, cancel, withdraw.

Target: by default an embedded simulator started in-process for the one command
(fresh and seeded each time, account k1: good for trying the commands; an order
placed by one command is gone by the next). With --config FILE the command runs
against the venues that file configures: real venues (credentials from the file
or CEXARB_* variables), or a running `cexarb sim` by pointing the URLs at it,
which keeps state between commands:

    # cexarb.toml for a `cexarb sim --port 18000` (ports from its JSON line)
    [gateio.spot]
    rest_url = "http://127.0.0.1:18000/api/v4"
    ws_url = "ws://127.0.0.1:18000/ws/v4/"
    api_key = "k1"
    api_secret = "s1"

Venues: mexc_spot, gateio_spot, gateio_futures (also: mexc, gateio, gate).
Secrets are registered for redaction and never printed.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from cexarb.cli.exits import typed_errors_exit
from cexarb.config import Config, load_config
from cexarb.logs import register_secret, setup_logging, shutdown_logging
from cexarb.model import Market, Order, Side, Symbol, TimeInForce, Venue, WithdrawalRequest
from cexarb.model.errors import ConfigError, ExchangeError

_ALIASES: dict[str, tuple[Venue, Market]] = {
    "mexc_spot": (Venue.MEXC, Market.SPOT),
    "mexc": (Venue.MEXC, Market.SPOT),
    "gateio_spot": (Venue.GATEIO, Market.SPOT),
    "gateio": (Venue.GATEIO, Market.SPOT),
    "gate": (Venue.GATEIO, Market.SPOT),
    "gateio_futures": (Venue.GATEIO, Market.FUTURES),
    "gate_futures": (Venue.GATEIO, Market.FUTURES),
}
_VENUE_HELP = "Venue: mexc_spot, gateio_spot or gateio_futures."
_CONFIG_HELP = (
    "TOML config of the venues to use (real ones, or a running `cexarb sim`). Default: embedded simulator."
)
_SIM_KEY = "k1"

VenueOpt = typer.Option(..., "--venue", "-v", help=_VENUE_HELP)
ConfigOpt = typer.Option(None, "--config", "-c", help=_CONFIG_HELP)

console = Console(soft_wrap=True)


def parse_venue(text: str) -> tuple[Venue, Market]:
    key = text.strip().lower().replace("-", "_")
    if key not in _ALIASES:
        raise typer.BadParameter(
            f"unknown venue {text!r}; use mexc_spot, gateio_spot or gateio_futures", param_hint="--venue"
        )
    return _ALIASES[key]


def parse_symbol(text: str, hint: str = "SYMBOL") -> Symbol:
    try:
        return Symbol.parse(text)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint=hint) from None


def parse_side(text: str) -> Side:
    try:
        return Side(text.strip().upper())
    except ValueError:
        raise typer.BadParameter(f"side must be buy or sell, got {text!r}", param_hint="SIDE") from None


def positive(value: float, hint: str) -> float:
    if not value > 0:
        raise typer.BadParameter(f"must be > 0, got {value}", param_hint=hint)
    return value


@contextlib.asynccontextmanager
async def _config(config_path: Path | None) -> AsyncIterator[Config]:
    if config_path is not None:
        yield load_config(config_path)
        return
    from cexarb.sim import SimConfig, Simulator

    async with Simulator(SimConfig(flow=False, admin=False)) as sim:
        yield sim.client_config(_SIM_KEY)


@contextlib.asynccontextmanager
async def connect(venue_text: str, config_path: Path | None, symbols: list[Symbol]) -> AsyncIterator[Any]:
    """A private composite for the venue, initialized for `symbols`, closed afterwards."""
    venue, market = parse_venue(venue_text)
    async with _config(config_path) as config:
        from cexarb.exchange.registry import create_exchange

        cfg = config.get(venue, market)
        if not cfg.has_credentials:
            raise ConfigError(
                f"{venue.value}.{market.value} has no credentials: set api_key/api_secret in the config or "
                f"CEXARB_{venue.value.upper()}_API_KEY / CEXARB_{venue.value.upper()}_API_SECRET"
            )
        register_secret(cfg.api_key.reveal())
        register_secret(cfg.api_secret.reveal())
        exchange = create_exchange(venue, market, config, private=True)
        try:
            await exchange.initialize(symbols)
            yield exchange
        finally:
            await exchange.close()


def _run(work: Callable[[], Awaitable[None]]) -> None:
    """Run one command: typed errors become a clear message and a non-zero exit."""
    setup_logging("WARNING")
    try:
        with typed_errors_exit():
            asyncio.run(work())
    finally:
        shutdown_logging()


async def _await_end(ex: Any, order: Order, seconds: float = 2.0) -> Order:
    """A market/IOC/FOK order ends at once; the reply may not say how yet."""
    for _ in range(int(seconds / 0.05)):
        if order.status.is_done:
            break
        await asyncio.sleep(0.05)
        order = await ex.get_active_order(order.symbol, order.order_id)
    return order


def _level(levels: list[tuple[float, float]], i: int) -> tuple[str, str]:
    return (f"{levels[i][0]:g}", f"{levels[i][1]:g}") if i < len(levels) else ("", "")


def _order_line(order: Order) -> str:
    return (
        f"{order.status.value} {order.side.value} {order.quantity:g} {order.symbol} @ {order.price:g} "
        f"filled={order.filled_quantity:g} avg={order.average_price:g} id={order.order_id} "
        f"client_id={order.client_order_id}"
    )


def book(
    symbol: str = typer.Argument(..., help="Symbol as BASE/QUOTE, e.g. BTC/USDT."),
    venue: str = VenueOpt,
    depth: int = typer.Option(10, min=1, max=100, help="Levels per side to show."),
    config: Path | None = ConfigOpt,
) -> None:
    """Show the synced order book of SYMBOL on a venue.

    Example: cexarb book BTC/USDT --venue gateio_spot --depth 5
    """
    sym = parse_symbol(symbol)
    parse_venue(venue)

    async def work() -> None:
        async with connect(venue, config, [sym]) as ex:
            ob = ex.get_order_book(sym)
            for _ in range(50):
                if ob is not None:
                    break
                await asyncio.sleep(0.05)
                ob = ex.get_order_book(sym)
            if ob is None:
                raise ExchangeError(
                    f"the {sym} book did not sync", venue=venue, hint="retry; check the stream"
                )
            table = Table(title=f"{sym} on {venue} (update id {ob.update_id})")
            for col in ("bid qty", "bid", "ask", "ask qty"):
                table.add_column(col, justify="right")
            for i in range(min(depth, max(len(ob.bids), len(ob.asks)))):
                bid_px, bid_qty = _level(ob.bids, i)
                ask_px, ask_qty = _level(ob.asks, i)
                table.add_row(bid_qty, bid_px, ask_px, ask_qty)
            console.print(table)

    _run(work)


def balances(venue: str = VenueOpt, config: Path | None = ConfigOpt) -> None:
    """Show the account's balances (and futures positions) on a venue.

    Example: cexarb balances --venue mexc_spot
    """
    parse_venue(venue)

    async def work() -> None:
        async with connect(venue, config, []) as ex:
            table = Table(title=f"Balances on {venue}")
            for col in ("asset", "available", "locked", "total"):
                table.add_column(col, justify="right")
            for asset, b in sorted(ex.balances.items()):
                if b.total:
                    table.add_row(asset, f"{b.available:.8g}", f"{b.locked:.8g}", f"{b.total:.8g}")
            console.print(table)
            for symbol, p in sorted(getattr(ex, "positions", {}).items()):
                if p.size:
                    console.print(
                        f"position {symbol}: {p.size:+g} @ {p.entry_price:g} upnl={p.unrealized_pnl:g}"
                    )

    _run(work)


def orders(
    venue: str = VenueOpt,
    symbol: str = typer.Option("", help="Only this symbol (BASE/QUOTE)."),
    config: Path | None = ConfigOpt,
) -> None:
    """List the account's open orders on a venue.

    Example: cexarb orders --venue gateio_spot --symbol BTC/USDT
    """
    parse_venue(venue)
    only = parse_symbol(symbol, "--symbol") if symbol else None

    async def work() -> None:
        async with connect(venue, config, [only] if only else []) as ex:
            table = Table(title=f"Open orders on {venue}")
            for col in ("symbol", "id", "client id", "side", "price", "qty", "filled", "status"):
                table.add_column(col)
            for sym, by_id in sorted(ex.open_orders.items()):
                if only and sym != only:
                    continue
                for o in by_id.values():
                    table.add_row(
                        str(sym),
                        o.order_id,
                        o.client_order_id,
                        o.side.value,
                        f"{o.price:g}",
                        f"{o.quantity:g}",
                        f"{o.filled_quantity:g}",
                        o.status.value,
                    )
            console.print(table if table.rows else "no open orders")

    _run(work)


def place(
    symbol: str = typer.Argument(..., help="Symbol as BASE/QUOTE."),
    side: str = typer.Argument(..., help="buy or sell."),
    quantity: float = typer.Argument(..., help="Quantity in base units."),
    price: float = typer.Option(0.0, "--price", "-p", help="Limit price; omit for a market order."),
    venue: str = VenueOpt,
    tif: str = typer.Option("GTC", help="Time in force of a limit order: GTC, IOC, FOK or POST_ONLY."),
    config: Path | None = ConfigOpt,
) -> None:
    """Place an order and print how it stands.

    Examples:

      cexarb place BTC/USDT buy 0.001 --price 59000 --venue gateio_spot

      cexarb place ETH/USDT sell 0.01 --venue mexc_spot        # market order
    """
    sym, order_side = parse_symbol(symbol), parse_side(side)
    positive(quantity, "QUANTITY")
    if price < 0:
        raise typer.BadParameter("must be > 0", param_hint="--price")
    try:
        time_in_force = TimeInForce(tif.upper())
    except ValueError:
        raise typer.BadParameter("one of GTC, IOC, FOK, POST_ONLY", param_hint="--tif") from None
    parse_venue(venue)

    async def work() -> None:
        async with connect(venue, config, [sym]) as ex:
            if price:
                order = await ex.place_limit_order(
                    sym, order_side, quantity, price, time_in_force=time_in_force
                )
            else:
                order = await ex.place_market_order(sym, order_side, quantity)
            if not price or time_in_force in (TimeInForce.IOC, TimeInForce.FOK):
                order = await _await_end(ex, order)
            console.print(_order_line(order), highlight=False)

    _run(work)


def cancel(
    symbol: str = typer.Argument(..., help="Symbol as BASE/QUOTE."),
    order_id: str = typer.Argument("", help="The venue's order id (omit with --all)."),
    venue: str = VenueOpt,
    all_orders: bool = typer.Option(False, "--all", help="Cancel every open order of SYMBOL."),
    config: Path | None = ConfigOpt,
) -> None:
    """Cancel one order, or all open orders of a symbol.

    Examples:

      cexarb cancel BTC/USDT 123456 --venue gateio_spot

      cexarb cancel BTC/USDT --all --venue mexc_spot
    """
    sym = parse_symbol(symbol)
    parse_venue(venue)
    if not order_id and not all_orders:
        raise typer.BadParameter("give an ORDER_ID or --all", param_hint="ORDER_ID")
    if order_id and all_orders:
        raise typer.BadParameter("give an ORDER_ID or --all, not both", param_hint="ORDER_ID")

    async def work() -> None:
        async with connect(venue, config, [sym]) as ex:
            if all_orders:
                canceled = await ex.cancel_all_orders(sym)
                for o in canceled:
                    console.print(_order_line(o), highlight=False)
                console.print(f"canceled {len(canceled)} order(s)")
            else:
                console.print(_order_line(await ex.cancel_order(sym, order_id)), highlight=False)

    _run(work)


def withdraw(
    asset: str = typer.Argument(..., help="Asset, e.g. USDT."),
    amount: float = typer.Argument(..., help="Amount to withdraw."),
    address: str = typer.Option(..., "--address", help="Destination address."),
    network: str = typer.Option(..., "--network", help="Network / chain, e.g. TRX, ETH."),
    memo: str = typer.Option("", "--memo", help="Memo / tag when the network needs one."),
    venue: str = VenueOpt,
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation."),
    config: Path | None = ConfigOpt,
) -> None:
    """Withdraw funds (asks for confirmation unless --yes).

    Example: cexarb withdraw USDT 25 --address TXyzabcdefghijkmnopqrstuvwxyz12345 --network TRX --venue gateio_spot --yes
    """
    positive(amount, "AMOUNT")
    parse_venue(venue)
    if not address.strip():
        raise typer.BadParameter("must not be empty", param_hint="--address")
    request = WithdrawalRequest(asset.upper(), amount, address.strip(), network.strip(), memo or None)
    if not yes:
        typer.confirm(
            f"Withdraw {amount:g} {request.asset} to {request.address} on {request.network} from {venue}?",
            abort=True,
        )

    async def work() -> None:
        async with connect(venue, config, []) as ex:
            if not hasattr(ex, "withdraw"):
                raise ExchangeError(
                    "this venue does not support withdrawals",
                    venue=venue,
                    hint="withdraw from a spot account",
                )
            r = await ex.withdraw(request)
            console.print(
                f"withdrawal {r.withdrawal_id}: {r.status.value} {r.amount:g} {r.asset} to {r.address} "
                f"({r.network}) fee={r.fee:g} tx={r.tx_id or '-'}",
                highlight=False,
            )

    _run(work)


COMMANDS: dict[str, Callable[..., None]] = {
    "book": book,
    "balances": balances,
    "orders": orders,
    "place": place,
    "cancel": cancel,
    "withdraw": withdraw,
}


def register(app: typer.Typer) -> None:
    """Add every operator command to the main app: `ops.register(app)` in cli/main.py."""
    for name, command in COMMANDS.items():
        app.command(name)(command)
