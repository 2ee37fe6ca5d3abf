"""Operator commands: book, balances, orders, place, cancel, withdraw.

Target: by default an embedded simulator started in-process for the one command
(fresh and seeded each time, account k1: good for trying the commands; an order
placed by one command is gone by the next). With --config FILE the command runs
against the venues that file configures: real venues (credentials from the file
or CEXARB_* variables), or a running `cexarb sim`, which keeps state between commands:

    cexarb sim --write-config sim.toml &          # writes every venue's URLs and keys
    cexarb balances --venue gateio_spot -c sim.toml

Venues: each known market by its key (mexc_spot, gateio_futures, ...) or one of its aliases,
all read from the venue specs (`--venue`'s help lists them).
Secrets are registered for redaction and never printed.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.measure import Measurement
from rich.table import Table

from cexarb.cli.exits import typed_errors_exit
from cexarb.config import Config, VenueSpec, load_config, venue_spec, venue_specs
from cexarb.logs import register_secret, setup_logging, shutdown_logging
from cexarb.model import Market, Order, OrderType, Side, Symbol, TimeInForce, Venue, WithdrawalRequest
from cexarb.model.errors import ExchangeError

# What `--venue` accepts: each market's key and its aliases.
_ALIASES: dict[str, VenueSpec] = {name: s for s in venue_specs() for name in (s.key, *s.aliases)}
_KEYS = [s.key for s in venue_specs()]
_KEY_LIST = f"{', '.join(_KEYS[:-1])} or {_KEYS[-1]}" if len(_KEYS) > 1 else _KEYS[0]
_VENUE_HELP = f"Venue: {_KEY_LIST}."
_CONFIG_HELP = (
    "TOML config of the venues to use (real ones, or a running `cexarb sim`). Default: embedded simulator."
)
_SIM_KEY = "k1"

VenueOpt = typer.Option(..., "--venue", "-v", help=_VENUE_HELP)
ConfigOpt = typer.Option(None, "--config", "-c", help=_CONFIG_HELP)

console = Console(soft_wrap=True)
# Piped output is as wide as its rows need: an id cut to `C02__1000…` is useless to `cancel`.
_PIPE_WIDTH = 1000


def print_table(table: Table, out: Console | None = None) -> None:
    """`table` with every cell whole: at its natural width when piped; on a terminal too narrow
    for it, as one `column=value` line per row (which wraps instead of cutting)."""
    out = out or console
    natural = Measurement.get(out, out.options.update_width(_PIPE_WIDTH), table).maximum
    if not out.is_terminal:
        width, out.width = out.width, max(out.width, natural)
        try:
            out.print(table, highlight=False)
        finally:
            out.width = width
        return
    if natural <= out.width:
        out.print(table, highlight=False)
        return
    if table.title:
        out.print(str(table.title), highlight=False)
    names = [str(c.header) for c in table.columns]
    cells = [list(c.cells) for c in table.columns]
    for row in zip(*cells, strict=True):
        out.print(
            " ".join(f"{n.replace(' ', '_')}={v}" for n, v in zip(names, row, strict=True)), highlight=False
        )


def parse_venue(text: str) -> tuple[Venue, Market]:
    """The (venue, market) a `--venue` value names: a market's key or alias, any case, - or _."""
    spec = _ALIASES.get(text.strip().lower().replace("-", "_"))
    if spec is None:
        raise typer.BadParameter(f"unknown venue {text!r}; use {_KEY_LIST}", param_hint="--venue")
    return spec.venue, spec.market


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
    if not math.isfinite(value) or not value > 0:
        raise typer.BadParameter(f"must be a finite number > 0, got {value}", param_hint=hint)
    return value


def parse_amount(text: str, hint: str) -> float:
    """A quantity, price or amount typed by the operator: a finite number > 0, checked here so
    `inf`, `nan`, `-1` or `0` never reach a venue."""
    try:
        value = float(text)
    except ValueError:
        raise typer.BadParameter(f"must be a number, got {text!r}", param_hint=hint) from None
    return positive(value, hint)


EMBEDDED_NOTICE = (
    "embedded simulator: a fresh one for this command only (account k1; nothing persists). "
    "For a running `cexarb sim` or real venues, pass --config FILE."
)


@contextlib.asynccontextmanager
async def _config(config_path: Path | None) -> AsyncIterator[Config]:
    if config_path is not None:
        yield load_config(config_path)
        return
    from cexarb.sim import SimConfig, Simulator

    # First, so nobody takes the embedded simulator's answer for their account's.
    typer.echo(EMBEDDED_NOTICE, err=True)
    async with Simulator(SimConfig(flow=False, admin=False)) as sim:
        yield sim.client_config(_SIM_KEY)


@contextlib.asynccontextmanager
async def connect(
    venue_text: str, config_path: Path | None, symbols: list[Symbol], *, private: bool = True
) -> AsyncIterator[Any]:
    """A composite for the venue (private: with the account), initialized for `symbols`,
    closed afterwards. Public data needs no credentials."""
    venue, market = parse_venue(venue_text)
    async with _config(config_path) as config:
        from cexarb.exchange.registry import create_exchange

        cfg = config.get(venue, market)
        if private:
            if not cfg.has_credentials():
                raise venue_spec(venue, market).no_credentials()
            register_secret(cfg.api_key.reveal())
            register_secret(cfg.api_secret.reveal())
        exchange = create_exchange(venue, market, config, private=private)
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
        order = await ex.get_active_order(order.symbol, order.order_id) or order
    return order


def _level(levels: list[tuple[float, float]], i: int) -> tuple[str, str]:
    return (f"{levels[i][0]:g}", f"{levels[i][1]:g}") if i < len(levels) else ("", "")


def _order_line(order: Order) -> str:
    """One line per order: a market order shows `@ market`, never a price of 0, and every
    order its average fill price (`-` until something filled)."""
    at = "market" if order.order_type is OrderType.MARKET or not order.price else f"{order.price:g}"
    avg = f"{order.average_price:g}" if order.filled_quantity and order.average_price else "-"
    filled = f"filled={order.filled_quantity:g}"
    if order.status.is_done and order.filled_quantity and order.filled_quantity < order.quantity:
        filled += f" of {order.quantity:g}"
    return (
        f"{order.status.value} {order.side.value} {order.quantity:g} {order.symbol} @ {at} "
        f"{filled} avg={avg} id={order.order_id} client_id={order.client_order_id}"
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
        async with connect(venue, config, [sym], private=False) as ex:
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
            print_table(table)

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
            print_table(table)
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
    spec = venue_spec(*parse_venue(venue))
    only = parse_symbol(symbol, "--symbol") if symbol else None
    # Listing a whole account there would be one request per listed symbol.
    if only is None and spec.open_orders_need_symbol:
        raise typer.BadParameter(
            f"{venue} answers open orders one symbol at a time: add --symbol BASE/QUOTE, e.g. --symbol BTC/USDT",
            param_hint="--symbol",
        )

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
            if table.rows:
                print_table(table)
            else:
                console.print("no open orders")

    _run(work)


def place(
    symbol: str = typer.Argument(..., help="Symbol as BASE/QUOTE."),
    side: str = typer.Argument(..., help="buy or sell."),
    quantity: str = typer.Argument(
        ..., help="Quantity in base units (BTC of BTC/USDT) on every venue, also for market buys."
    ),
    price: str | None = typer.Option(None, "--price", "-p", help="Limit price; omit for a market order."),
    venue: str = VenueOpt,
    tif: str | None = typer.Option(
        None, help="Time in force of a limit order: GTC (default), IOC, FOK or POST_ONLY."
    ),
    config: Path | None = ConfigOpt,
) -> None:
    """Place an order and print how it stands, with its average fill price.

    Examples:

      cexarb place BTC/USDT buy 0.001 --price 59000 --venue gateio_spot

      cexarb place BTC/USDT buy 0.001 --price 61000 --tif FOK --venue mexc_spot

      cexarb place ETH/USDT sell 0.01 --venue mexc_spot        # market order
    """
    sym, order_side = parse_symbol(symbol), parse_side(side)
    amount = parse_amount(quantity, "QUANTITY")
    limit = parse_amount(price, "--price") if price is not None else None
    time_in_force = TimeInForce.GTC
    if tif is not None:
        if limit is None:
            raise typer.BadParameter(
                "applies to limit orders: give --price too (a market order is always IOC)", param_hint="--tif"
            )
        try:
            time_in_force = TimeInForce(tif.upper())
        except ValueError:
            raise typer.BadParameter("one of GTC, IOC, FOK, POST_ONLY", param_hint="--tif") from None
    parse_venue(venue)

    async def work() -> None:
        async with connect(venue, config, [sym]) as ex:
            if limit is not None:
                order = await ex.place_limit_order(
                    sym, order_side, amount, limit, time_in_force=time_in_force
                )
            else:
                order = await ex.place_market_order(sym, order_side, amount)
            if limit is None or time_in_force in (TimeInForce.IOC, TimeInForce.FOK):
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
    amount_text: str = typer.Argument(..., metavar="AMOUNT", help="Amount to withdraw."),
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
    amount = parse_amount(amount_text, "AMOUNT")
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


# `-1` is a number to these commands, not an unknown option: it reaches parse_amount, which
# says what is wrong with it.
_NUMBER_ARGUMENTS = {"ignore_unknown_options": True}


def register(app: typer.Typer) -> None:
    """Add every operator command to the main app: `ops.register(app)` in cli/main.py."""
    for name, command in COMMANDS.items():
        settings = _NUMBER_ARGUMENTS if name in ("place", "withdraw") else None
        app.command(name, context_settings=settings)(command)
