"""`cexarb run`: the arbitrage engine in front of the live dashboard, then a summary.

Without --config: starts the embedded simulator (MEXC spot, Gate spot, Gate USDT
futures, one correlated random walk with a lag between venues), connects one
composite exchange per market through the real protocols, and trades on it. At
the end the summary compares the engine's PnL, fees and inventory with the
simulator's ground truth for the account and prints the differences.

With --config FILE: the same engine against the configured venues (credentials
from the file or CEXARB_* variables), signal-only unless --trade is given.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hashlib
import logging
import signal
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from cexarb import eventloop
from cexarb.arb.config import ArbConfig, load_arb_config
from cexarb.arb.engine import ArbEngine
from cexarb.arb.fleet import limits_of
from cexarb.arb.reconcile import Row, VenueTruth, reconcile
from cexarb.arb.stats import percentiles
from cexarb.arb.strategies import DEMO_STRATEGIES
from cexarb.cli.dashboard import funding_lines, latency_text, show, strategy_rows
from cexarb.cli.exits import INTERRUPTED, typed_errors_exit
from cexarb.config import Config, load_config, venue_specs
from cexarb.coord import InProcessCoordinator
from cexarb.coord.pools import share_pools
from cexarb.journal import Journal, Recorder, RunEnded
from cexarb.logs import get_logger, log_kv, setup_logging, shutdown_logging
from cexarb.model import Market, Symbol, Venue, WithdrawalStatus

log = get_logger("cexarb.run")

# The markets the engine connects (every known one), by their keys (the simulator's too).
VENUE_MARKETS: dict[str, tuple[Venue, Market]] = {
    spec.key: (spec.venue, spec.market) for spec in venue_specs()
}
SIM_API_KEY = "k1"
# Per-step volatility of the demo market's random walk. With the default 0.5 s lag
# between venues this makes cross-venue dislocations larger than both legs' taker
# fees (40 bps spot-spot, 25 bps spot-futures) a few times a minute; the sim's own
# default (0.0002) almost never crosses fees that large.
DEMO_VOLATILITY = 0.001
# After stopping, wait this long for the last private updates before comparing with truth.
_SETTLE_S = 1.0
# At the end, wait this long for rebalancing transfers under way to be credited.
_TRANSFER_SETTLE_S = 15.0
# The demo rebalancer tops a venue back up to its starting holding once it is 10% below.
DEMO_REBALANCE_LOW = 0.9
# The demo simulator settles perp funding every minute (the real venue: every 8 h), so a
# short run sees funding paid and received.
DEMO_FUNDING_INTERVAL_S = 60


@dataclass(frozen=True, slots=True)
class RunOptions:
    duration: float = 0.0
    config_path: Path | None = None
    trade: bool = False
    symbols: tuple[Symbol, ...] = ()
    seed: int = 7
    volatility: float = DEMO_VOLATILITY
    funding_interval_s: int = DEMO_FUNDING_INTERVAL_S
    status_interval_s: float = 5.0
    log_file: Path = Path("cexarb-run.log")
    log_level: str = "INFO"
    # Journal URL; None: a SQLite file beside the log; "": no journal.
    journal: str | None = None
    metrics_port: int | None = None
    metrics_host: str = "127.0.0.1"
    # The embedded simulator shares this process's event loop instead of running in its own.
    sim_in_process: bool = False
    # A fleet: the coordinator's Redis URL ("": run alone), this member's and the fleet's names.
    coordinator: str = ""
    member: str = ""
    fleet: str = "default"

    @property
    def journal_url(self) -> str:
        return self.journal if self.journal is not None else str(self.log_file.with_suffix(".journal.db"))


def run_command(
    duration: float = typer.Option(
        0.0, "--duration", "-d", help="Stop after N seconds (0: run until Ctrl-C)."
    ),
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            "-c",
            help="TOML config for real venues ([mexc.spot], [gateio.*], [arb]). Default: simulator.",
        ),
    ] = None,
    trade: bool = typer.Option(False, "--trade", help="With --config: place orders (default: signal only)."),
    symbols: str = typer.Option(
        "", help="Comma-separated symbols, e.g. BTC/USDT,ETH/USDT (default: [arb] symbols)."
    ),
    seed: int = typer.Option(7, help="Simulator: seed of the synthetic market."),
    volatility: float = typer.Option(
        DEMO_VOLATILITY, help="Simulator: per-step volatility of the random walk."
    ),
    funding_interval: int = typer.Option(
        DEMO_FUNDING_INTERVAL_S, help="Simulator: seconds between perp funding settlements (real: 28800)."
    ),
    status_interval: float = typer.Option(
        5.0, help="Seconds between status lines when stdout is not a terminal."
    ),
    log_file: Annotated[Path, typer.Option(help="Where the key=value decision log goes.")] = Path(
        "cexarb-run.log"
    ),
    log_level: str = typer.Option("INFO", help="DEBUG, INFO, WARNING or ERROR."),
    journal: Annotated[
        str | None,
        typer.Option(
            "--journal",
            help="Journal URL (file path, sqlite:///..., postgresql://...). Default: <log file>.journal.db",
        ),
    ] = None,
    no_journal: Annotated[bool, typer.Option("--no-journal", help="Keep no journal.")] = False,
    metrics_port: Annotated[
        int | None,
        typer.Option("--metrics-port", help="Serve Prometheus metrics on this port (0: any free)."),
    ] = None,
    metrics_host: Annotated[
        str, typer.Option("--metrics-host", help="Address the metrics endpoint listens on (0.0.0.0: all).")
    ] = "127.0.0.1",
    sim_in_process: Annotated[
        bool,
        typer.Option(
            "--sim-in-process",
            help="Simulator: run it in the engine's process and event loop (default: a process of its "
            "own, so the latency figures are the engine's alone).",
        ),
    ] = False,
    coordinator: Annotated[
        str,
        typer.Option(
            "--coordinator",
            help="Join a fleet of engines sharing accounts through Redis: redis://HOST:PORT/DB "
            "(rate-limit budgets, risk limits, kill switch and events are shared). Default: alone.",
        ),
    ] = "",
    member: Annotated[
        str, typer.Option("--member", help="This engine's name in the fleet (unique; default: host-pid).")
    ] = "",
    fleet: Annotated[str, typer.Option("--fleet", help="The fleet's name (one Redis may hold several).")] = (
        "default"
    ),
) -> None:
    """Run the arbitrage engine with the live dashboard, then print a summary.

    Examples:

      cexarb run                      # embedded simulator until Ctrl-C

      cexarb run --duration 30        # 30 s, then the summary (checked against the simulator)

      cexarb run -c cexarb.toml       # real venues, signal only

      cexarb run -c cexarb.toml --trade

      cexarb run --journal postgresql://cexarb@db/journal --metrics-port 9108

      cexarb run -c sim.toml --trade --coordinator redis://127.0.0.1:6379/0 --member a --symbols BTC/USDT
    """
    try:
        parsed = tuple(Symbol.parse(s.strip()) for s in symbols.split(",") if s.strip())
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--symbols") from None
    if duration < 0:
        raise typer.BadParameter("must be >= 0", param_hint="--duration")
    if volatility <= 0:
        raise typer.BadParameter("must be > 0", param_hint="--volatility")
    if funding_interval <= 0:
        raise typer.BadParameter("must be > 0", param_hint="--funding-interval")
    if log_level.upper() not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        raise typer.BadParameter("one of DEBUG, INFO, WARNING, ERROR", param_hint="--log-level")
    if no_journal and journal:
        raise typer.BadParameter("give --journal or --no-journal, not both", param_hint="--no-journal")
    options = RunOptions(
        duration,
        config,
        trade,
        parsed,
        seed,
        volatility,
        funding_interval,
        status_interval,
        log_file,
        log_level,
        "" if no_journal else journal,
        metrics_port,
        metrics_host,
        sim_in_process,
        coordinator,
        member or _default_member(),
        fleet,
    )
    with typed_errors_exit():
        code = eventloop.run(run(options, Console()))
    raise typer.Exit(code)


async def run(options: RunOptions, console: Console) -> int:
    options.log_file.parent.mkdir(parents=True, exist_ok=True)
    with options.log_file.open("a") as log_stream:
        setup_logging(options.log_level, stream=log_stream)
        try:
            if options.config_path is None:
                return await _run_on_simulator(options, console)
            config = load_config(options.config_path)
            config.check_one_target(list(VENUE_MARKETS.values()))
            arb = load_arb_config(options.config_path)
            return await _run_on_venues(options, console, config, _with_symbols(arb, options), options.trade)
        finally:
            shutdown_logging()


def _with_symbols(arb: ArbConfig, options: RunOptions) -> ArbConfig:
    return replace(arb, symbols=options.symbols) if options.symbols else arb


async def _run_on_simulator(options: RunOptions, console: Console) -> int:
    from cexarb.sim import SimConfig, Simulator
    from cexarb.sim.flow import FlowParams

    # A demo basis position expects to see two compressed settlements, as a real one held for
    # a while would see one or two 8-hour settlements: funding weighs in the edge as it would.
    arb = _with_symbols(ArbConfig(basis_hold_s=2.0 * options.funding_interval_s), options)
    sim_account = next(a for a in SimConfig().accounts if a.api_key == SIM_API_KEY)
    # Rebalancing keeps each spot venue near what it started with (10% below: top it up).
    # The demo runs spot-spot beside the original project's MEXC-spot / Gate-perp basis strategy.
    arb = replace(
        arb,
        rebalance_targets=dict(sim_account.balances),
        rebalance_low_fraction=DEMO_REBALANCE_LOW,
        strategies=DEMO_STRATEGIES,
    )
    sim_config = SimConfig(
        seed=options.seed,
        symbols=tuple(str(s) for s in arb.symbols),
        flow_params=FlowParams(volatility=options.volatility),
        funding_interval_s=options.funding_interval_s,
    )
    (account,) = [a for a in sim_config.accounts if a.api_key == SIM_API_KEY]
    if options.sim_in_process:
        sim_context: Any = Simulator(sim_config)
    else:
        from cexarb.sim.process import SimProcess

        sim_context = SimProcess(sim_config)
    async with sim_context as sim:
        in_process = isinstance(sim, Simulator)
        names = sorted(sim.urls) if in_process else sim.venue_names
        where = "in this process" if in_process else "in its own process"
        console.print(f"simulator up ({where}): {', '.join(names)}; account {SIM_API_KEY}", highlight=False)

        async def truth() -> dict[str, VenueTruth]:
            out = {}
            for key in VENUE_MARKETS:
                t = sim.truth(key, SIM_API_KEY) if in_process else await sim.truth(key, SIM_API_KEY)
                tier = account.fees.get(key)
                out[key] = VenueTruth(
                    initial=dict(account.balances),
                    balances={a: b.total for a, b in t.balances.items()},
                    positions={s: (p.size, p.entry_price) for s, p in t.positions.items() if p.size},
                    fills=list(t.fills),
                    funding=t.funding,
                    **_transfers_truth(t),
                    asset_prices={tier.token: tier.token_price} if tier is not None and tier.token else {},
                )
            return out

        config = sim.client_config(SIM_API_KEY) if in_process else await sim.client_config(SIM_API_KEY)
        return await _run_on_venues(options, console, config, arb, True, truth, sim.stop_funding)


def _transfers_truth(t: Any) -> dict[str, dict[str, float]]:
    """What the venue's own withdrawal and deposit records say transfers moved, per asset."""
    moved: dict[str, float] = {}
    fees: dict[str, float] = {}
    for w in t.withdrawals:
        if w.status is not WithdrawalStatus.CANCELED:
            moved[w.asset] = moved.get(w.asset, 0.0) - w.amount
            fees[w.asset] = fees.get(w.asset, 0.0) + w.fee
    for d in t.deposits:
        if d.done:
            moved[d.asset] = moved.get(d.asset, 0.0) + d.amount
    return {"transfers": moved, "transfer_fees": fees}


async def _run_on_venues(
    options, console, config: Config, arb: ArbConfig, trade: bool, truth=None, freeze=None
) -> int:
    """The engine on `config`'s venues; with `truth`, the summary is checked against it (after
    `freeze`, which stops the venue's own clockwork, e.g. funding settlements)."""
    from cexarb.exchange.registry import create_exchange

    venues: dict[str, Any] = {}
    fleet, coordinator, config = await _coordinate(options, arb, config)
    journal = await _open_journal(options.journal_url, options.log_file) if options.journal_url else None
    # In a fleet every event also goes to the fleet's stream (`cexarb journal follow`).
    recorder = _fleet_recorder(journal, fleet)
    metrics = None
    try:
        for spec in venue_specs():
            key, venue, market = spec.key, spec.venue, spec.market
            venue_config = config.get(venue, market)
            if not venue_config.has_credentials():
                raise spec.no_credentials()
            venues[key] = create_exchange(venue, market, config, private=True)
            log_kv(
                log,
                logging.DEBUG,
                "venue_config",
                venue=key,
                rest_url=venue_config.rest_url,
                ws_url=venue_config.ws_url,
                private_ws_url=venue_config.private_ws_url or venue_config.ws_url,
            )
        console.print("connecting: " + ", ".join(venues), highlight=False)
        # Every initialize ends (ok, or failed and closed) before any venue is closed below: a
        # close racing a running initialize would leave the sessions it opens afterwards open.
        results = await asyncio.gather(
            *(ex.initialize(list(arb.symbols)) for ex in venues.values()), return_exceptions=True
        )
        failed = [r for r in results if isinstance(r, BaseException)]
        if failed:
            raise failed[0]
        if trade:
            await _set_leverage(venues, arb)
        engine = ArbEngine(venues, arb, trade=trade, journal=recorder, coordinator=coordinator)
        engine.attach()
        if recorder is not None:
            _journal_start(recorder, engine, arb, options, "simulator" if truth else "venues")
        log_kv(
            log,
            logging.INFO,
            "run_started",
            trade=trade,
            venues=",".join(venues),
            symbols=",".join(map(str, arb.symbols)),
        )
        if options.metrics_port is not None:
            from cexarb.arb.metrics import MetricsServer

            metrics = MetricsServer(engine, journal=journal)
            port = await metrics.start(options.metrics_port, options.metrics_host)
            console.print(f"metrics: http://{options.metrics_host}:{port}/metrics", highlight=False)
        started = time.monotonic()
        stopped_by = await _drive(engine, options, console)
        elapsed = time.monotonic() - started
        await asyncio.sleep(_SETTLE_S)
        if freeze is not None:
            await freeze()
        if engine.rebalancer is not None:
            await engine.rebalancer.settle(_TRANSFER_SETTLE_S)
        await _final_funding(venues)
        venue_truth = await truth() if truth else None  # fetched first: nothing awaits below
        rows = reconcile(engine.pnl, engine.marks(), venue_truth) if venue_truth is not None else None
        # The final snapshot and the summary use the same marks (nothing awaits between them).
        engine.journal_snapshot(final=True)
        print_summary(console, engine, elapsed, rows, options.log_file)
        if recorder is not None:
            summary = {v.venue: _summary_figures(v) for v in engine.pnl_snapshot().venues.values()}
            latency = {
                "frame_to_decision_us": percentiles(engine.stats.frame_to_decision_us),
                "frame_to_order_sent_us": percentiles(engine.stats.frame_to_order_sent_us),
                "order_rtt_ms": percentiles(engine.executor.order_rtt_ms),
            }
            by_strategy = {
                name: dict(zip(_STRATEGY_FIGURES, figures, strict=True))
                for name, *figures in strategy_rows(engine)
            }
            recorder.record(
                RunEnded(
                    ts=time.time(),
                    elapsed_s=elapsed,
                    summary=summary,
                    latency=latency,
                    by_strategy=by_strategy,
                )
            )
        # Ctrl-C: the shell's 128 + SIGINT, after the same orderly stop and summary.
        return INTERRUPTED if stopped_by == signal.SIGINT else 0
    finally:
        if metrics is not None:
            await metrics.stop()
        for ex in venues.values():
            with contextlib.suppress(Exception):
                await ex.close()
        if fleet is not None:
            await fleet.close()
        if journal is not None:
            await journal.close()
            st = journal.stats
            console.print(
                f"journal: {journal.backend.url} run {journal.run_id} (written {st.written}, "
                f"left in spool {'yes: ' + str(journal.spool.path) if journal.spool.pending else 'none'}"
                f"{', dropped ' + str(st.dropped) if st.dropped else ''})",
                highlight=False,
                soft_wrap=True,
            )


def _default_member() -> str:
    import os
    import socket

    return f"{socket.gethostname().split('.')[0]}-{os.getpid()}"[:64]


async def _coordinate(options: RunOptions, arb: ArbConfig, config: Config) -> tuple[Any, Any, Config]:
    """(the fleet joined, None alone; the coordinator the engine uses; `config` with every venue
    pool drawing on that coordinator's budgets)."""
    fleet = await _join_fleet(options, arb) if options.coordinator else None
    # Alone, the in-process coordinator: the clients of one venue account (public and private)
    # still count in one window per pool, the venue's limit for the account, as in a fleet.
    coordinator = fleet if fleet is not None else InProcessCoordinator("local", limits_of(arb))
    return fleet, coordinator, share_pools(config, coordinator)


async def _join_fleet(options: RunOptions, arb: ArbConfig):
    from cexarb.coord.keys import redact_url
    from cexarb.coord.redis import RedisCoordinator

    coordinator = RedisCoordinator(options.coordinator, options.fleet, options.member, limits_of(arb))
    await coordinator.start()
    log_kv(
        log,
        logging.INFO,
        "fleet_joined",
        coordinator=redact_url(options.coordinator),
        fleet=options.fleet,
        member=options.member,
        online=coordinator.online,
        halted=coordinator.halt_reason,
    )
    return coordinator


def _fleet_recorder(journal: Journal | None, coordinator) -> Recorder | None:
    if coordinator is None:
        return journal
    from cexarb.journal import new_run_id
    from cexarb.journal.fleet import StreamRecorder, Tee

    stream = StreamRecorder(coordinator, journal.run_id if journal is not None else new_run_id())
    return stream if journal is None else Tee(journal, stream)


async def _open_journal(url: str, log_file: Path) -> Journal:
    """The journal, with its spool beside the log; the spool's name carries a digest of the URL
    so a spool left for one database is never replayed into another."""
    from cexarb.journal import Journal

    digest = hashlib.sha256(url.encode()).hexdigest()[:8]
    spool = log_file.with_name(f"{log_file.stem}.journal-{digest}.spool")
    journal = Journal.open(url, spool_path=spool)
    await journal.start()
    return journal


def _journal_start(
    journal: Recorder, engine: ArbEngine, arb: ArbConfig, options: RunOptions, mode: str
) -> None:
    """Record the run and listen to every venue's orders and fills."""
    from cexarb import __version__
    from cexarb.journal import JournalListener, RunStarted

    for name, venue in engine.venues.items():
        venue.add_private_listener(JournalListener(journal, name, venue.fee_value))
    journal.record(
        RunStarted(
            ts=time.time(),
            version=__version__,
            mode=mode,
            trade=engine.trade,
            venues=list(engine.venues),
            symbols=[str(s) for s in arb.symbols],
            futures_venues=[v for v in engine.venues if engine.pnl.is_futures(v)],
            initial={v: engine.pnl.inventory(v) for v in engine.venues},
            config_digest=hashlib.sha256(repr(arb).encode()).hexdigest()[:16],
            log_file=str(options.log_file),
            strategies=list(engine.config.strategies),
        )
    )


# strategy_rows' columns after the name, as the summary prints them.
_STRATEGY_FIGURES = ("realized", "unrealized", "fees", "funding", "total", "fills")


def _summary_figures(v) -> dict[str, float]:
    return {
        "realized": v.realized,
        "unrealized": v.unrealized,
        "fees": v.fees,
        "funding": v.funding,
        "transfer_fees": v.transfer_fees,
        "total": v.total,
        "fills": v.fills,
    }


async def _final_funding(venues: dict[str, Any]) -> None:
    """Read the funding payments once more: a settlement may have landed since the last poll."""
    for ex in venues.values():
        if hasattr(ex, "reload_funding"):
            with contextlib.suppress(Exception):
                await ex.reload_funding()


async def _set_leverage(venues: dict[str, Any], arb: ArbConfig) -> None:
    """Futures sizing assumes `futures_leverage`; make the venue agree."""
    for ex in venues.values():
        if hasattr(ex, "set_leverage"):
            for symbol in arb.symbols:
                await ex.set_leverage(symbol, arb.futures_leverage)


async def _drive(engine: ArbEngine, options: RunOptions, console: Console) -> int | None:
    """Engine and dashboard until Ctrl-C, SIGTERM or the duration; the signal that stopped them."""
    stop = asyncio.Event()
    stopped_by: list[int] = []
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, lambda sig=sig: (stopped_by.append(sig), stop.set()))
    if options.duration > 0:
        loop.call_later(options.duration, stop.set)
    engine_task = asyncio.create_task(engine.run(stop), name="arb-engine")
    dashboard_task = asyncio.create_task(
        show(engine, stop, console, options.status_interval_s), name="dashboard"
    )
    try:
        done, _ = await asyncio.wait({engine_task, dashboard_task}, return_when=asyncio.FIRST_EXCEPTION)
        for task in done:
            task.result()  # an engine crash surfaces here, not silently
    finally:
        stop.set()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.remove_signal_handler(sig)
        await asyncio.gather(engine_task, dashboard_task, return_exceptions=True)
    return stopped_by[0] if stopped_by else None


def print_summary(
    console: Console, engine: ArbEngine, elapsed_s: float, rows: list[Row] | None, log_file: Path
) -> None:
    stats = engine.stats
    snap = engine.pnl_snapshot()
    out = functools.partial(console.print, highlight=False, soft_wrap=True)
    out(f"\n== cexarb summary ({elapsed_s:.1f}s, {'trading' if engine.trade else 'signal only'}) ==")
    outcomes = ", ".join(f"{k}={v}" for k, v in sorted(stats.outcomes.items())) or "none"
    out(
        f"opportunities: taken={stats.taken} ({outcomes}) signals={stats.signals} "
        f"skipped={sum(stats.skipped.values())} evaluations={stats.evaluations}"
    )
    for reason, count in stats.skipped.most_common(8):
        out(f"  skipped {reason}: {count}")
    if engine.risk.halted:
        out(f"KILL SWITCH: {engine.risk.halt_reason}")
    if engine.fleet.coordinator.halted:
        out(f"FLEET KILL SWITCH: {engine.fleet.coordinator.halt_reason}")
    if engine.executor.residuals:
        for r in engine.executor.residuals.values():
            out(f"UNHEDGED {r.symbol}: {r.quantity:+g} (~{r.notional:.2f} USDT)")
    out(f"latency: {latency_text(engine)}")
    rtt = percentiles(engine.executor.order_rtt_ms)
    log_kv(
        log,
        logging.INFO,
        "run_summary",
        taken=stats.taken,
        pnl=snap.total,
        fees=snap.fees,
        rtt_p50_ms=rtt.get("p50", 0.0),
    )
    out("pnl (USDT):      realized   unrealized         fees      funding        total  fills")
    for v in snap.venues.values():
        out(
            f"  {v.venue:<14} {v.realized:>10.4f} {v.unrealized:>12.4f} {v.fees:>12.4f} "
            f"{v.funding:>12.4f} {v.total:>12.4f} {v.fills:>6}"
        )
    out(
        f"  {'TOTAL':<14} {snap.realized:>10.4f} {snap.unrealized:>12.4f} {snap.fees:>12.4f} "
        f"{snap.funding:>12.4f} {snap.total:>12.4f} {snap.fills:>6}"
    )
    out("pnl by strategy: realized   unrealized         fees      funding        total  fills")
    for name, realized, unrealized, fees, funding, total, fills in strategy_rows(engine):
        out(
            f"  {name:<14} {realized:>10.4f} {unrealized:>12.4f} {fees:>12.4f} "
            f"{funding:>12.4f} {total:>12.4f} {fills:>6}"
        )
    for line in funding_lines(engine):
        out(line)
    if engine.rebalancer is not None:
        for line in engine.rebalancer.describe():
            out(f"transfers: {line}")
    out("inventory (now, change since start):")
    for venue in engine.venues:
        now, change = engine.pnl.inventory(venue), engine.pnl.inventory_change(venue)
        text = "  ".join(f"{a}={now[a]:.8g} ({change.get(a, 0.0):+.8g})" for a in sorted(now))
        out(f"  {venue:<14} {text}")
        for symbol, size in sorted(engine.pnl.positions(venue).items()):
            if engine.pnl.is_futures(venue) and size:
                out(f"  {'':<14} position {symbol} {size:+.8g}")
    if rows is not None:
        out(f"truth check (simulator ground truth, account {SIM_API_KEY}):")
        out(f"  {'venue':<14} {'item':<20} {'engine':>16} {'truth':>16} {'diff':>12}")
        for r in rows:
            flag = "" if r.agrees else "  MISMATCH"
            out(f"  {r.venue:<14} {r.item:<20} {r.engine:>16.8f} {r.truth:>16.8f} {r.diff:>12.2e}{flag}")
        bad = [r for r in rows if not r.agrees]
        out("truth check: " + ("AGREE" if not bad else f"{len(bad)} MISMATCH(ES)"))
    out(f"decision log: {log_file}")
    sys.stdout.flush()
