"""The chaos rig: composites on the simulator, a ledger of what the client was told, and the
comparison of the client's state with the simulator's ground truth.

Nothing here asserts timing: `eventually` polls a condition and its deadline only stops a hang.
"""

from __future__ import annotations

import asyncio
import os
import random
import weakref
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from cexarb.exchange.registry import create_exchange
from cexarb.exchange.settings import CompositeSettings
from cexarb.model import Side, Symbol
from cexarb.model.errors import InvalidOrder
from cexarb.model.rounding import round_nearest
from cexarb.sim import Simulator
from tests.support import eventually
from tests.support.truth import assert_agrees, close

BTC = Symbol("BTC", "USDT")
ETH = Symbol("ETH", "USDT")
SOL = Symbol("SOL", "USDT")
SYMBOLS = [BTC, ETH]
MARKETS = ["mexc_spot", "gateio_spot", "gateio_futures"]
# Order sizes: a few dozen USDT, at or above every venue's minimum (futures: whole contracts).
QTY = {BTC: 0.002, ETH: 0.05}

SETTINGS = CompositeSettings(
    resync_delay_s=0.02,
    resync_confirm_s=0.3,
    degraded_poll_s=0.2,
    place_lookup_delay_s=0.05,
    book_retry_delay_s=0.02,
    sweep_retry_max_s=0.2,
)


def env_seconds(name: str, default: float) -> float:
    value = os.environ.get(name, "")
    return float(value) if value else default


@dataclass(frozen=True, slots=True)
class Length:
    """How long a scenario runs: the short form in `make test`, the long one in `make chaos`."""

    name: str
    seconds: float

    @property
    def long(self) -> bool:
        return self.name == "long"


# Streams refused by a fault retry within this (default 5 s): the scenarios wait for the
# reconnect, not for a long backoff.
RECONNECT_MAX_S = 0.5


def client_config(sim: Simulator, key: str = "k1", **venue_overrides):
    """The simulator's client config, with per-venue fields overridden (e.g. timeouts)."""
    config = sim.client_config(key)
    venue_overrides = {"reconnect_max_s": RECONNECT_MAX_S, **venue_overrides}
    for venue_config in list(config.venues.values()):
        config = config.with_venue(replace(venue_config, **venue_overrides))
    return config


def make_exchange(sim: Simulator, market: str, settings: CompositeSettings = SETTINGS, config=None):
    venue, kind = market.split("_")
    return create_exchange(venue, kind, config or client_config(sim), settings=settings)


class Ledger:
    """A private listener recording everything the composite reported."""

    def __init__(self) -> None:
        self.fills: Counter[tuple[Symbol, str]] = Counter()
        self.fill_qty: dict[tuple[Symbol, str], float] = {}
        self.order_updates = 0
        self.orders: dict[str, object] = {}  # order id -> the last state reported
        self.states: list = []

    def on_order(self, order) -> None:
        self.order_updates += 1
        self.orders[order.order_id] = order

    def on_execution(self, execution) -> None:
        key = (execution.symbol, execution.trade_id)
        self.fills[key] += 1
        self.fill_qty[key] = execution.quantity

    def on_balance(self, balance) -> None:
        pass

    def on_connection(self, state) -> None:
        self.states.append(state)


async def assert_truth(ex, sim: Simulator, market: str, ledger: Ledger | None = None) -> None:
    """Poll until the client agrees with the venue, then assert it (the message lists what differs)."""
    await assert_agrees(ex, sim, market, ledger)


async def quiesce(ex, sim: Simulator, market: str) -> None:
    """Freeze the venue (no flow, no matching) and cancel what the client still has open."""
    sim.faults.pause_matching(market, True)
    for symbol in SYMBOLS:
        for order_id in list(ex.open_orders.get(symbol, {})):
            await ex.cancel_order(symbol, order_id)


def _same_levels(ours, truth) -> bool:
    return len(ours) == len(truth) and all(
        p1 == p2 and close(q1, q2) for (p1, q1), (p2, q2) in zip(ours, truth, strict=True)
    )


def book_mismatches(ex, sim: Simulator, market: str, depth: int = 10) -> list[str]:
    """Symbols whose served book is missing or differs from the venue's top `depth` levels."""
    problems = []
    for symbol in SYMBOLS:
        book = ex.get_order_book(symbol)
        truth = sim.venue(market).snapshot(symbol, depth)
        if book is None:
            problems.append(f"{symbol}: not synced")
        elif not (
            _same_levels(book.bids[:depth], truth.bids) and _same_levels(book.asks[:depth], truth.asks)
        ):
            problems.append(f"{symbol}: book {book.bids[:3]}/{book.asks[:3]} venue {truth.bids[:3]}/{truth.asks[:3]}")  # fmt: skip
    return problems


# The last ticker each composite served, for scenarios that go on placing limit orders while the
# public stream is down.
_LAST_TICKERS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def inside_price(ex, symbol: Symbol, side: Side, ticks: int) -> float | None:
    """A price `ticks` inside the spread from our side's best (negative: behind it), or None
    while that side of the book is empty (a sweep took it: there is nothing to price from).

    From the live book ticker, else the last one the composite served (it drops its tickers
    while the public stream is down: they go stale with it)."""
    seen = _LAST_TICKERS.setdefault(ex, {})
    ticker = ex.book_tickers.get(symbol)
    if ticker is not None:
        seen[symbol] = ticker
    else:
        ticker = seen[symbol]
    tick = ex.symbols_info[symbol].tick_size
    best = ticker.bid_price if side is Side.BUY else ticker.ask_price
    if best is None:
        return None
    return round_nearest(best + ticks * tick if side is Side.BUY else best - ticks * tick, tick)


async def quoted_price(ex, symbol: Symbol, side: Side, ticks: int) -> float:
    """`inside_price` once our side of the book quotes (waits out a sweep that emptied it)."""
    await eventually(
        lambda: inside_price(ex, symbol, side, ticks) is not None, what=f"{symbol} {side}: no quote"
    )
    price = inside_price(ex, symbol, side, ticks)
    assert price is not None
    return price


@dataclass(slots=True)
class Activity:
    """What a trading run did, for the scenario's assertions and figures."""

    placed: int = 0
    market_orders: int = 0
    cancels: int = 0
    faults: int = 0
    # Limit orders not placed because our side of the book was empty at the time.
    one_sided: int = 0
    # Gate market buys the client refused before sending: no live ask to size them from (the
    # asks swept, or the public stream down or resyncing: its tickers go stale with it).
    no_ask: int = 0
    errors: list[str] = field(default_factory=list)

    def add(self, other: Activity) -> None:
        self.placed += other.placed
        self.market_orders += other.market_orders
        self.cancels += other.cancels
        self.faults += other.faults
        self.one_sided += other.one_sided
        self.no_ask += other.no_ask
        self.errors += other.errors


async def trade(
    ex,
    seconds: float,
    *,
    seed: int = 1,
    fault: Callable[[], object] | None = None,
    fault_every_s: float = 1.0,
    pace_s: float = 0.03,
    tolerate: tuple[type[BaseException], ...] = (),
) -> Activity:
    """Place limit orders around the top of book (the synthetic flow fills them), a few market
    orders, cancel some; call `fault()` every `fault_every_s`. Errors of the `tolerate` kinds
    are recorded, any other is raised."""
    rng = random.Random(seed)
    done = Activity()
    loop = asyncio.get_running_loop()
    end = loop.time() + seconds
    next_fault = loop.time() + fault_every_s
    while loop.time() < end:
        if fault is not None and loop.time() >= next_fault:
            result = fault()
            if asyncio.iscoroutine(result):
                await result
            done.faults += 1
            next_fault += fault_every_s
        symbol = rng.choice(SYMBOLS)
        side = rng.choice((Side.BUY, Side.SELL))
        action = rng.random()
        try:
            if action < 0.6:
                price = inside_price(ex, symbol, side, rng.randint(-3, 2))
                if price is None:
                    done.one_sided += 1
                else:
                    await ex.place_limit_order(symbol, side, QTY[symbol], price)
                    done.placed += 1
            elif action < 0.7:
                try:
                    await ex.place_market_order(symbol, side, QTY[symbol])
                    done.market_orders += 1
                except InvalidOrder as exc:
                    if "no ask" not in str(exc):
                        raise
                    done.no_ask += 1
            else:
                opened = list(ex.open_orders.get(symbol, {}))
                if opened:
                    await ex.cancel_order(symbol, rng.choice(opened))
                    done.cancels += 1
        except tolerate as exc:
            done.errors.append(f"{type(exc).__name__}: {exc}")
        await asyncio.sleep(pace_s)
    return done


SHORT = Length("short", env_seconds("CEXARB_CHAOS_SECONDS", 2.0))
LONG = Length("long", env_seconds("CEXARB_CHAOS_LONG_SECONDS", 30.0))  # the soak runs twice this
