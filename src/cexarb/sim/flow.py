"""Synthetic market flow: seeded makers and takers that make books move and fill orders.

One random walk per symbol (the "fundamental") drives every venue; venue i
follows it `i * lag` steps late, times its own slowly mean-reverting noise, so
cross-venue spreads open when the walk moves and close as the laggards catch
up. Per venue and symbol, a maker keeps a ladder of quotes around the venue mid
(requoted when the mid drifts) and a taker sends market orders now and then.
All randomness comes from one `random.Random(seed)` consumed in a fixed order,
so a given seed and sequence of steps gives the same books and trades.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

from cexarb.model.enums import OrderType, Side, TimeInForce
from cexarb.model.market import Symbol
from cexarb.model.rounding import round_down, round_up
from cexarb.sim.engine import SimReject
from cexarb.sim.venue import SimVenue

log = logging.getLogger("cexarb.sim.flow")

MAKER_KEY = "__flow_maker__"
TAKER_KEY = "__flow_taker__"
# Synthetic traders are rich enough never to run dry; their balances count in conservation.
_FLOW_QUOTE = 1e10


@dataclass(frozen=True, slots=True)
class FlowParams:
    interval_s: float = 0.05
    correlation_lag_s: float = 0.5
    volatility: float = 0.0002  # std-dev of one step of the walk, relative
    venue_noise: float = 0.00005  # std-dev of each venue's own noise per step, relative
    levels: int = 5  # quotes per side
    half_spread: float = 0.0002  # relative distance of the best quotes from the mid
    level_spacing: float = 0.0001  # relative distance between ladder levels
    requote_drift: float = 0.00005  # requote when the mid moved this much (relative)
    requote_probability: float = 0.1  # ... or at random, to refresh sizes
    take_probability: float = 0.2  # chance per step and market of a market order
    min_notional: float = 200.0
    max_notional: float = 3000.0


class _Quoting:
    __slots__ = ("mid", "bias", "noise")

    def __init__(self) -> None:
        self.mid = 0.0  # mid of the last ladder placed (0: none yet)
        self.bias = 1.0  # set_mid's shift of this venue off the fundamental
        self.noise = 0.0


class MarketFlow:
    """Drives the synthetic traders of several venues. Call `step()` or run `run()`."""

    def __init__(
        self,
        venues: Sequence[SimVenue],
        symbols: Sequence[Symbol],
        seed: int,
        params: FlowParams | None = None,
        user_id_base: int = 9_000_000,
    ) -> None:
        self.params = params or FlowParams()
        self.rng = random.Random(seed)
        self.venues = list(venues)
        self.symbols = [s for s in symbols if any(s in v.markets for v in self.venues)]
        p = self.params
        self.lag_steps = max(0, round(p.correlation_lag_s / p.interval_s)) if p.interval_s > 0 else 0
        depth = self.lag_steps * max(1, len(self.venues) - 1) + 1
        self.fundamental: dict[Symbol, deque[float]] = {}
        for symbol in self.symbols:
            mid = next(v.markets[symbol].initial_mid for v in self.venues if symbol in v.markets)
            self.fundamental[symbol] = deque([mid] * depth, maxlen=depth)
        self._state: dict[tuple[str, Symbol], _Quoting] = {
            (v.key, s): _Quoting() for v in self.venues for s in self.symbols if s in v.markets
        }
        self.steps = 0
        for i, venue in enumerate(self.venues):
            for key in (MAKER_KEY, TAKER_KEY):
                if venue.account(key) is None:
                    venue.add_account(
                        key, "", user_id_base + 2 * i + (key == TAKER_KEY), self._rich(venue), internal=True
                    )

    def _rich(self, venue: SimVenue) -> dict[str, float]:
        balances: dict[str, float] = {}
        for market in venue.markets.values():
            balances[market.symbol.quote] = _FLOW_QUOTE
            if market.initial_mid > 0:
                balances[market.symbol.base] = _FLOW_QUOTE / market.initial_mid
        return balances

    # ---- prices ----

    def venue_mid(self, venue: SimVenue, symbol: Symbol) -> float:
        """Where this venue's flow centres its quotes now."""
        index = self.venues.index(venue)
        history = self.fundamental[symbol]
        lagged = history[-1 - min(len(history) - 1, index * self.lag_steps)]
        state = self._state[(venue.key, symbol)]
        return lagged * state.bias * (1.0 + state.noise)

    def set_mid(self, venue: SimVenue, symbol: Symbol, price: float) -> None:
        """Shift this venue's flow centre to `price` now (the walk goes on from there) and requote."""
        state = self._state[(venue.key, symbol)]
        state.bias = 1.0
        state.bias = price / self.venue_mid(venue, symbol)
        venue.set_reference_price(symbol, price)
        self.requote(venue, symbol)

    # ---- actions ----

    def step(self) -> None:
        """One tick: move the walk, then every venue's makers and takers act."""
        p = self.params
        rng = self.rng
        self.steps += 1
        for symbol in self.symbols:
            history = self.fundamental[symbol]
            history.append(history[-1] * (1.0 + rng.gauss(0.0, p.volatility)))
        for venue in self.venues:
            if venue.faults.matching_paused:
                continue
            for symbol in self.symbols:
                if symbol not in venue.markets:
                    continue
                state = self._state[(venue.key, symbol)]
                state.noise = 0.9 * state.noise + rng.gauss(0.0, p.venue_noise)
                mid = self.venue_mid(venue, symbol)
                venue.set_reference_price(symbol, mid)
                drift = abs(mid - state.mid) / mid if state.mid else 1.0
                if drift >= p.requote_drift or rng.random() < p.requote_probability:
                    self.requote(venue, symbol, mid)
                if rng.random() < p.take_probability:
                    side = Side.BUY if rng.random() < 0.5 else Side.SELL
                    self._take(venue, symbol, side, rng.uniform(p.min_notional, p.max_notional) / mid)

    def requote(self, venue: SimVenue, symbol: Symbol, mid: float | None = None) -> None:
        """Replace the maker's ladder on one market around `mid` (default: the venue mid)."""
        if venue.faults.matching_paused:
            return
        p = self.params
        rng = self.rng
        rules = venue.markets[symbol]
        mid = self.venue_mid(venue, symbol) if mid is None else mid
        self._state[(venue.key, symbol)].mid = mid
        best_bid = round_down(mid * (1.0 - p.half_spread), rules.tick)
        best_ask = round_up(mid * (1.0 + p.half_spread), rules.tick)
        if best_ask <= best_bid:
            best_ask = round(best_bid + rules.tick, rules.price_precision)
        with venue.batch():
            venue.cancel_all(MAKER_KEY, symbol)
            for i in range(p.levels):
                gap = mid * p.level_spacing * i
                for side, price in (
                    (Side.BUY, round_down(best_bid - gap, rules.tick)),
                    (Side.SELL, round_up(best_ask + gap, rules.tick)),
                ):
                    qty = self._size(rules, price, rng.uniform(p.min_notional, p.max_notional))
                    if price <= 0 or qty <= 0:
                        continue
                    try:
                        venue.place_order(
                            MAKER_KEY, symbol, side, OrderType.LIMIT, qty, price, TimeInForce.GTC
                        )
                    except SimReject as exc:
                        log.debug("flow maker order refused on %s %s: %s", venue.key, symbol, exc)

    def _take(self, venue: SimVenue, symbol: Symbol, side: Side, quantity: float) -> None:
        rules = venue.markets[symbol]
        qty = max(round_down(quantity, rules.step), rules.min_qty)
        try:
            venue.place_order(TAKER_KEY, symbol, side, OrderType.MARKET, qty, None, TimeInForce.IOC)
        except SimReject as exc:
            log.debug("flow taker order refused on %s %s: %s", venue.key, symbol, exc)

    @staticmethod
    def _size(rules, price: float, notional: float) -> float:
        if price <= 0:
            return 0.0
        qty = round_down(notional / price, rules.step)
        floor = max(
            rules.min_qty, round_up(rules.min_notional / price, rules.step) if rules.min_notional else 0.0
        )
        return max(qty, floor)

    async def run(self) -> None:
        """Step every `interval_s` until cancelled; a failing step is logged, the flow goes on."""
        interval = self.params.interval_s
        failures = 0
        while True:
            await asyncio.sleep(interval)
            try:
                self.step()
            except Exception:
                failures += 1
                if failures <= 3:
                    log.exception("synthetic flow step failed (the flow continues)")
