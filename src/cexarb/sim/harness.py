"""The simulator harness: builds every venue, serves its protocol front-end, runs the flow.

async with Simulator(SimConfig(seed=7)) as sim:
    sim.urls["gateio_spot"].rest, sim.client_config("k1"), await sim.take(...), sim.faults.*, sim.truth(...)
"""

from __future__ import annotations

import asyncio
import importlib
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from aiohttp import web

from cexarb.config import Config, Secret, VenueConfig, default_config
from cexarb.model.enums import Market, OrderType, Side, TimeInForce, Venue
from cexarb.model.errors import ConfigError
from cexarb.model.market import Symbol
from cexarb.model.rounding import round_down, round_price
from cexarb.model.trading import Order
from cexarb.sim.clock import SimClock
from cexarb.sim.engine import SimMarket
from cexarb.sim.faults import SimFaults
from cexarb.sim.fees import FUTURES_FEES, SPOT_FEES, FeeTier
from cexarb.sim.flow import FlowParams, MarketFlow
from cexarb.sim.funding import DEFAULT_INTERVAL_S
from cexarb.sim.transfers import TransferNetwork
from cexarb.sim.truth import AccountTruth
from cexarb.sim.venue import SimVenue
from cexarb.sim.withdrawals import gateio_networks, mexc_networks

log = logging.getLogger("cexarb.sim")

VENUE_KEYS = ("gateio_spot", "gateio_futures", "mexc_spot")
QUOTE_KEY = "__sim_quote__"
TAKE_KEY = "__sim_take__"
_FIRST_USER_ID = 10_000_001

_VENUE_IDS = {
    "gateio_spot": (Venue.GATEIO, Market.SPOT),
    "gateio_futures": (Venue.GATEIO, Market.FUTURES),
    "mexc_spot": (Venue.MEXC, Market.SPOT),
}
_GATE_KEYS = ("gateio_spot", "gateio_futures")
# (REST path prefix, WS path) of each front-end, as the real venues lay them out. Gate's spot and
# futures REST share one host; its futures WS has a host of its own (see sim/gateio_host.py).
_PATHS = {
    "gateio_spot": ("/api/v4", "/ws/v4/"),
    "gateio_futures": ("/api/v4", "/v4/ws/usdt"),
    "mexc_spot": ("", "/ws"),
}


@dataclass(frozen=True, slots=True)
class MarketSpec:
    """A symbol's rules on every venue: spot tick/step, futures contract size."""

    mid: float
    tick: float
    step: float
    contract_size: float


DEFAULT_MARKETS: dict[str, MarketSpec] = {
    "BTC/USDT": MarketSpec(60000.0, 0.1, 0.0001, 0.0001),
    "ETH/USDT": MarketSpec(3000.0, 0.01, 0.001, 0.01),
    "SOL/USDT": MarketSpec(150.0, 0.001, 0.01, 1.0),
}
# A symbol the table does not know trades like a 1-dollar coin.
_FALLBACK_SPEC = MarketSpec(1.0, 0.0001, 0.1, 1.0)


@dataclass(frozen=True, slots=True)
class SimAccount:
    api_key: str
    api_secret: str
    balances: Mapping[str, float] = field(default_factory=dict)
    maker_fee: float | None = None  # None: the market's default
    taker_fee: float | None = None
    # Per venue key: the account's own tier there (rates, maker rebate, discount token);
    # its rates win over maker_fee/taker_fee above.
    fees: Mapping[str, FeeTier] = field(default_factory=dict)
    # Gate: a unified account (balances under /unified/accounts, orders with account=unified).
    unified: bool = False

    def __repr__(self) -> str:
        return f"SimAccount(api_key={self.api_key[:3]}***, balances={dict(self.balances)})"


def _default_accounts() -> tuple[SimAccount, ...]:
    return (
        SimAccount(
            api_key="k1", api_secret="s1", balances={"USDT": 100_000.0, "BTC": 2.0, "ETH": 20.0, "SOL": 500.0}
        ),
    )


@dataclass(frozen=True, slots=True)
class SimConfig:
    seed: int = 7
    symbols: tuple[str | Symbol, ...] = ("BTC/USDT", "ETH/USDT", "SOL/USDT")
    accounts: tuple[SimAccount, ...] = field(default_factory=_default_accounts)
    flow: bool = True
    flow_interval_s: float = 0.05
    correlation_lag_s: float = 0.5
    host: str = "127.0.0.1"
    # 0: free ports; else venue i listens on port + i (in VENUE_KEYS order): the Gate REST host
    # (with the spot WS) on port, Gate's futures WS on port + 1, MEXC on port + 2, admin port + 3.
    port: int = 0
    # ---- beyond the basic contract ----
    venues: tuple[str, ...] = VENUE_KEYS
    ports: Mapping[str, int] = field(default_factory=dict)  # explicit port per venue key ("admin" too)
    admin: bool = True  # serve the admin HTTP endpoint (faults, truth, control)
    seed_books: bool = True  # place the makers' ladders at start even without flow
    flow_params: FlowParams | None = None  # overrides flow_interval_s / correlation_lag_s when set
    rate_limits: bool = True
    withdrawal_delay_s: float = 1.0
    # Gate futures funding settles every this many seconds (8 h on the real venue; a demo
    # compresses it, e.g. 60, to see settlements).
    funding_interval_s: int = DEFAULT_INTERVAL_S
    # Seconds a deposit waits for chain confirmations after the withdrawal left (None: per
    # chain, 1-3 s; see sim/transfers.py).
    deposit_confirm_s: float | None = None
    markets: Mapping[str, MarketSpec] = field(default_factory=dict)  # overrides DEFAULT_MARKETS
    # venue key -> create_app(venue); default: importlib of cexarb.sim.<venue key>.create_app
    frontends: Mapping[str, Callable[[SimVenue], web.Application]] = field(default_factory=dict)

    def symbol_list(self) -> list[Symbol]:
        return [s if isinstance(s, Symbol) else Symbol.parse(s) for s in self.symbols]

    def flow_settings(self) -> FlowParams:
        if self.flow_params is not None:
            return self.flow_params
        return FlowParams(interval_s=self.flow_interval_s, correlation_lag_s=self.correlation_lag_s)


@dataclass(frozen=True, slots=True)
class VenueUrls:
    rest: str
    ws: str


def build_markets(config: SimConfig, futures: bool) -> list[SimMarket]:
    markets = []
    for symbol in config.symbol_list():
        spec = config.markets.get(str(symbol)) or DEFAULT_MARKETS.get(str(symbol), _FALLBACK_SPEC)
        if futures:
            maker, taker = FUTURES_FEES
            step = spec.contract_size
            markets.append(
                SimMarket(symbol, spec.tick, step, step, 0.0, step, maker, taker, initial_mid=spec.mid)
            )
        else:
            maker, taker = SPOT_FEES
            markets.append(
                SimMarket(
                    symbol, spec.tick, spec.step, spec.step, 1.0, 1.0, maker, taker, initial_mid=spec.mid
                )
            )
    return markets


def build_venue(key: str, config: SimConfig, clock: SimClock | None = None) -> SimVenue:
    if key not in _VENUE_IDS:
        raise ValueError(f"unknown venue {key!r}; known: {', '.join(VENUE_KEYS)}")
    futures = key == "gateio_futures"
    pools = default_config().get(*_VENUE_IDS[key]).rate_limits
    return SimVenue(
        key,
        build_markets(config, futures),
        is_futures=futures,
        rate_limits=pools,
        rate_limits_enabled=config.rate_limits,
        networks=mexc_networks() if key == "mexc_spot" else gateio_networks(),
        withdrawal_delay_s=config.withdrawal_delay_s,
        order_id_prefix="C02__" if key == "mexc_spot" else "",
        funding_interval_s=config.funding_interval_s,
        clock=clock,
    )


_MAX_PORT = 65535


def port_plan(config: SimConfig) -> dict[str, int]:
    """The port of every served key (venues, then "admin"; 0: a free one), or a ConfigError
    naming the problem: an unknown name, a port out of range, two keys on one port."""
    served = [*config.venues, *(["admin"] if config.admin else [])]
    known = [*VENUE_KEYS, "admin"]
    for key, port in config.ports.items():
        if key not in known:
            raise ConfigError(f"unknown port name {key!r} (known: {', '.join(known)})")
        if not 0 <= port <= _MAX_PORT:
            raise ConfigError(f"port {port} for {key} is out of range (0-{_MAX_PORT}; 0 picks a free one)")
    if not 0 <= config.port <= _MAX_PORT:
        raise ConfigError(f"port {config.port} is out of range (0-{_MAX_PORT}; 0 picks free ports)")
    plan = {}
    for key in served:
        if key not in known:
            raise ConfigError(f"unknown venue {key!r} (known: {', '.join(VENUE_KEYS)})")
        port = config.ports.get(key, config.port + known.index(key) if config.port else 0)
        if port > _MAX_PORT:
            raise ConfigError(
                f"port {config.port} puts {key} on {port}, past {_MAX_PORT}: the venues and admin take "
                f"{config.port}..{config.port + len(known) - 1}; use a port <= {_MAX_PORT - len(known) + 1}"
            )
        plan[key] = port
    taken: dict[int, str] = {}
    for key, port in plan.items():
        if port and port in taken:
            raise ConfigError(f"{taken[port]} and {key} are both on port {port}; give each its own")
        taken[port] = key
    return plan


class Simulator:
    """Every venue of `config`, served on 127.0.0.1, with flow, faults and ground truth."""

    def __init__(self, config: SimConfig | None = None) -> None:
        self.config = config or SimConfig()
        self.venues: dict[str, SimVenue] = {}
        self.urls: dict[str, VenueUrls] = {}
        self.admin_url = ""
        self.faults = SimFaults({})
        self.flow: MarketFlow | None = None
        self._runners: list[web.AppRunner] = []
        self._flow_task: asyncio.Task | None = None
        self._funding_tasks: list[asyncio.Task] = []
        # The chain between venues: withdrawals to another venue's deposit address arrive there.
        self.transfers = TransferNetwork()
        if self.config.deposit_confirm_s is not None:
            self.transfers.confirm_s = dict.fromkeys(self.transfers.confirm_s, self.config.deposit_confirm_s)
        self._started = False
        self._ports: dict[str, int] = {}

    async def __aenter__(self) -> Simulator:
        await self.start()
        return self

    async def __aexit__(self, *exc) -> None:
        await self.close()

    # ---- lifecycle ----

    async def start(self) -> None:
        if self._started:
            raise RuntimeError("simulator already started")
        self._started = True
        cfg = self.config
        self._ports = port_plan(cfg)
        try:
            gate_clock = SimClock()  # one Gate host, one server clock
            for key in cfg.venues:
                venue = build_venue(key, cfg, gate_clock if key in _GATE_KEYS else None)
                for i, acc in enumerate(cfg.accounts):
                    tier = acc.fees.get(key, FeeTier())
                    account = venue.add_account(
                        acc.api_key,
                        acc.api_secret,
                        _FIRST_USER_ID + i,
                        acc.balances,
                        maker_fee=acc.maker_fee if tier.maker is None else tier.maker,
                        taker_fee=acc.taker_fee if tier.taker is None else tier.taker,
                        fee_tier=tier,
                    )
                    account.fee_tiers = acc.fees
                    account.unified = acc.unified and key in _GATE_KEYS
                self.venues[key] = venue
                self.transfers.attach(venue)
            self.faults = SimFaults({k: v.faults for k, v in self.venues.items()})
            self.flow = MarketFlow(
                list(self.venues.values()), cfg.symbol_list(), cfg.seed, cfg.flow_settings()
            )
            for venue in self.venues.values():
                self._add_helper_accounts(venue)
                if venue.funding is not None:
                    # The index a perpetual's premium is measured against: the market's fundamental.
                    venue.index_source = self._fundamental
            if cfg.seed_books or cfg.flow:
                for venue in self.venues.values():
                    for symbol in venue.markets:
                        self.flow.requote(venue, symbol)
            # Gate's two markets share its REST host, as on the real venue (unless a test swaps
            # in its own front-end for one of them).
            gate = {k: self.venues[k] for k in cfg.venues if k in _GATE_KEYS and k not in cfg.frontends}
            if gate:
                await self._serve_gate(gate)
            for key in cfg.venues:
                if key not in gate:
                    await self._serve_venue(key)
            if cfg.admin:
                from cexarb.sim.admin import create_admin_app

                port = self._ports["admin"]
                self.admin_url = await self._serve(create_admin_app(self), port)
            loop = asyncio.get_running_loop()
            if cfg.flow:
                self._flow_task = loop.create_task(self.flow.run(), name="sim-flow")
            for venue in self.venues.values():
                if venue.funding is not None:
                    self._funding_tasks.append(
                        loop.create_task(_run_funding(venue), name=f"sim-funding-{venue.key}")
                    )
        except BaseException:
            await self.close()
            raise

    def _fundamental(self, symbol: Symbol) -> float:
        history = self.flow.fundamental.get(symbol) if self.flow is not None else None
        return history[-1] if history else 0.0

    def _add_helper_accounts(self, venue: SimVenue) -> None:
        rich = {}
        for market in venue.markets.values():
            rich[market.symbol.quote] = 1e10
            rich[market.symbol.base] = 1e10 / market.initial_mid if market.initial_mid else 1e10
        for offset, key in enumerate((QUOTE_KEY, TAKE_KEY)):
            venue.add_account(key, "", 9_100_000 + offset, rich, internal=True)

    async def _serve_venue(self, key: str) -> None:
        factory = self.config.frontends.get(key) or _load_frontend(key)
        if factory is None:
            return
        app = factory(self.venues[key])
        base = await self._serve(app, self._ports.get(key, 0))
        rest_prefix, ws_path = _PATHS[key]
        self.urls[key] = VenueUrls(rest=base + rest_prefix, ws=_ws(base) + ws_path)

    async def _serve_gate(self, venues: dict[str, SimVenue]) -> None:
        from cexarb.sim.gateio_host import GateHost

        host = GateHost(venues.get("gateio_spot"), venues.get("gateio_futures"))
        base = await self._serve(host.rest_app(), self._ports.get("gateio_spot", 0))
        rest = base + _PATHS["gateio_spot"][0]
        if host.spot is not None:
            self.urls["gateio_spot"] = VenueUrls(rest=rest, ws=_ws(base) + _PATHS["gateio_spot"][1])
        futures_ws = host.futures_ws_app()
        if futures_ws is not None:
            ws_base = await self._serve(futures_ws, self._ports.get("gateio_futures", 0))
            self.urls["gateio_futures"] = VenueUrls(rest=rest, ws=_ws(ws_base) + _PATHS["gateio_futures"][1])

    @property
    def gate_rest_url(self) -> str:
        """The one Gate REST base URL (spot, futures, wallet, account); "" when Gate is not served."""
        urls = self.urls.get("gateio_spot") or self.urls.get("gateio_futures")
        return urls.rest if urls is not None else ""

    async def _serve(self, app: web.Application, port: int) -> str:
        # A short shutdown timeout: held or delayed requests (faults) must not stall close().
        runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=0.5)
        await runner.setup()
        self._runners.append(runner)
        site = web.TCPSite(runner, self.config.host, port, reuse_address=True)
        try:
            await site.start()
        except OSError as exc:
            # aiohttp wraps the cause: "error while attempting to bind on address (...): <cause>".
            cause = (exc.strerror or str(exc)).rsplit(": ", 1)[-1].lower()
            raise ConfigError(f"cannot listen on {self.config.host}:{port}: {cause}") from None
        sockets = site._server.sockets if site._server is not None else ()
        actual = sockets[0].getsockname()[1] if sockets else port
        return f"http://{self.config.host}:{actual}"

    async def close(self) -> None:
        await self.stop_funding()
        if self._flow_task is not None:
            self._flow_task.cancel()
            try:
                await self._flow_task
            except (asyncio.CancelledError, Exception):
                pass
            self._flow_task = None
        closing = []
        for venue in self.venues.values():
            venue.faults.clear()
            closing.extend(_close_quietly(ws) for ws in venue.faults.websockets)
            await venue.faults.close()
        await asyncio.gather(*closing)
        runners, self._runners = self._runners, []
        for runner in reversed(runners):
            await runner.cleanup()

    async def stop_funding(self) -> None:
        """No more funding settlements (a run that is over compares its books with truth)."""
        for task in self._funding_tasks:
            task.cancel()
        await asyncio.gather(*self._funding_tasks, return_exceptions=True)
        self._funding_tasks.clear()

    # ---- client side ----

    def client_config(self, api_key: str) -> Config:
        """A cexarb Config with every served venue pointed at the simulator, with this key's credentials."""
        config = default_config()
        for key, urls in self.urls.items():
            venue = self.venues[key]
            account = venue.account(api_key)
            if account is None:
                raise KeyError(f"no simulated account with API key {api_key[:3]}***")
            base: VenueConfig = config.get(*_VENUE_IDS[key])
            config = config.with_venue(
                replace(
                    base,
                    rest_url=urls.rest,
                    ws_url=urls.ws,
                    private_ws_url=urls.ws,
                    api_key=Secret(account.api_key),
                    api_secret=Secret(account.api_secret),
                    user_id=account.user_id,
                )
            )
        return config

    # ---- deterministic control ----

    def venue(self, venue: str) -> SimVenue:
        try:
            return self.venues[venue]
        except KeyError:
            raise KeyError(f"unknown venue {venue!r}; running: {', '.join(self.venues)}") from None

    async def take(self, venue: str, symbol: Symbol, side: Side, quantity: float) -> Order:
        """A synthetic taker sends a market order for `quantity` base units."""
        v = self.venue(venue)
        rules = v.markets[symbol]
        qty = round_down(quantity, rules.step)
        order = v.place_order(TAKE_KEY, symbol, side, OrderType.MARKET, qty, None, TimeInForce.IOC)
        await asyncio.sleep(0)
        return order

    async def quote(self, venue: str, symbol: Symbol, side: Side, price: float, quantity: float) -> Order:
        """A synthetic maker rests a GTC limit order (it takes first if it crosses)."""
        v = self.venue(venue)
        rules = v.markets[symbol]
        order = v.place_order(
            QUOTE_KEY,
            symbol,
            side,
            OrderType.LIMIT,
            round_down(quantity, rules.step),
            round_price(price, rules.tick, side),
            TimeInForce.GTC,
        )
        await asyncio.sleep(0)
        return order

    async def clear_quotes(self, venue: str, symbol: Symbol | None = None) -> None:
        """Cancel what `quote` rested."""
        self.venue(venue).cancel_all(QUOTE_KEY, symbol)
        await asyncio.sleep(0)

    def set_mid(self, venue: str, symbol: Symbol, price: float) -> None:
        """Move the venue's flow centre to `price` and requote the maker ladder there."""
        v = self.venue(venue)
        if symbol not in v.markets:
            raise KeyError(f"{symbol} is not listed on {venue}")
        assert self.flow is not None, "simulator not started"
        self.flow.set_mid(v, symbol, price)

    def truth(self, venue: str, api_key: str) -> AccountTruth:
        return self.venue(venue).truth(api_key)

    def stats(self, venue: str) -> dict[str, Any]:
        v = self.venue(venue)
        out: dict[str, Any] = v.stats.as_dict()
        out["rate_limited_429"] = v.limits.rejected
        out["fees_collected"] = dict(v.fees_collected)
        return out


# How often a futures venue samples its premium (the rate of an interval averages the samples).
_FUNDING_SAMPLE_S = 1.0


async def _run_funding(venue: SimVenue) -> None:
    """Sample premiums and settle funding when due, until cancelled."""
    schedule = venue.funding
    assert schedule is not None
    while True:
        try:
            now = venue.clock.now_s()
            if schedule.due(now):
                venue.settle_funding()
            venue.sample_funding()
            wait = min(_FUNDING_SAMPLE_S, schedule.next_apply - venue.clock.now_s())
        except Exception:
            log.exception("sim: funding step failed on %s (retrying)", venue.key)
            wait = _FUNDING_SAMPLE_S
        await asyncio.sleep(max(wait, 0.01))


async def _close_quietly(ws: web.WebSocketResponse) -> None:
    """Close a server-side WebSocket without waiting long for a client that does not answer."""
    try:
        await asyncio.wait_for(ws.close(code=1001, message=b"sim: shutting down"), 1.0)
    except (TimeoutError, ConnectionError, RuntimeError):
        pass


def _ws(http_base: str) -> str:
    return "ws" + http_base[len("http") :]


def _load_frontend(key: str) -> Callable[[SimVenue], web.Application] | None:
    module_name = f"cexarb.sim.{key}"
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name != module_name:
            raise
        log.warning("sim: front-end %s is not available; venue %s is not served", module_name, key)
        return None
    factory = getattr(module, "create_app", None)
    if factory is None:
        log.warning("sim: %s has no create_app(); venue %s is not served", module_name, key)
    return factory
