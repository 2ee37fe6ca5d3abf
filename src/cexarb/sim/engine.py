"""The matching engine of one market: a price-time priority limit order book.

Prices and quantities live here as integers (ticks of the market's tick size,
units of its step size), so levels compare exactly and base quantities are
conserved without float drift. Each side keeps a dict level -> FIFO deque and a
sorted list of level keys whose *last* element is the best price (so taking the
top level is a cheap pop from the end). Settlement (balances, positions) is not
done here: `match` returns the fills and the venue settles them.
"""

from __future__ import annotations

import math
from bisect import bisect_left, insort
from collections import deque
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from cexarb.model.enums import Side
from cexarb.model.market import Symbol
from cexarb.model.rounding import decimals_of

# Tolerance for "on the grid": far below a tick, far above float noise.
_GRID_EPS = 1e-6


class RejectReason(StrEnum):
    UNKNOWN_SYMBOL = "UNKNOWN_SYMBOL"
    INVALID_PRICE = "INVALID_PRICE"
    INVALID_QUANTITY = "INVALID_QUANTITY"
    BELOW_MIN_QUANTITY = "BELOW_MIN_QUANTITY"
    BELOW_MIN_NOTIONAL = "BELOW_MIN_NOTIONAL"
    INSUFFICIENT_BALANCE = "INSUFFICIENT_BALANCE"
    POST_ONLY_WOULD_TAKE = "POST_ONLY_WOULD_TAKE"
    FOK_NOT_FILLED = "FOK_NOT_FILLED"
    REDUCE_ONLY_VIOLATED = "REDUCE_ONLY_VIOLATED"
    DUPLICATE_CLIENT_ID = "DUPLICATE_CLIENT_ID"
    ORDER_NOT_FOUND = "ORDER_NOT_FOUND"
    INVALID_LEVERAGE = "INVALID_LEVERAGE"
    WITHDRAW_INVALID_ASSET = "WITHDRAW_INVALID_ASSET"
    WITHDRAW_INVALID_NETWORK = "WITHDRAW_INVALID_NETWORK"
    WITHDRAW_INVALID_ADDRESS = "WITHDRAW_INVALID_ADDRESS"
    WITHDRAW_BELOW_MINIMUM = "WITHDRAW_BELOW_MINIMUM"
    MATCHING_PAUSED = "MATCHING_PAUSED"


class SimReject(Exception):
    """A request the simulated venue refuses; front-ends map `reason` to the venue's error."""

    def __init__(self, reason: RejectReason, detail: str = "") -> None:
        super().__init__(f"{reason.value}: {detail}" if detail else reason.value)
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True, slots=True)
class SimMarket:
    """Trading rules of one market. Quantities are base units (futures too)."""

    symbol: Symbol
    tick: float
    step: float
    min_qty: float
    min_notional: float
    contract_size: float = 1.0
    maker_fee: float = 0.001
    taker_fee: float = 0.002
    price_precision: int = -1  # -1: derived from tick
    qty_precision: int = -1  # -1: derived from step
    initial_mid: float = 0.0

    def __post_init__(self) -> None:
        if self.price_precision < 0:
            object.__setattr__(self, "price_precision", decimals_of(self.tick))
        if self.qty_precision < 0:
            object.__setattr__(self, "qty_precision", decimals_of(self.step))

    def to_ticks(self, price: float) -> int | None:
        """Price in ticks, or None when it is not on the tick grid."""
        steps = price / self.tick
        ticks = round(steps)
        return ticks if abs(steps - ticks) < _GRID_EPS else None

    def to_units(self, quantity: float) -> int | None:
        steps = quantity / self.step
        units = round(steps)
        return units if abs(steps - units) < _GRID_EPS else None

    def price_of(self, ticks: int) -> float:
        return round(ticks * self.tick, self.price_precision)

    def qty_of(self, units: int) -> float:
        return round(units * self.step, self.qty_precision)


class Resting:
    """One order's presence in the book. `owner` is opaque to the engine (the venue's record)."""

    __slots__ = ("owner", "side", "ticks", "units")

    def __init__(self, owner: Any, side: Side, ticks: int, units: int) -> None:
        self.owner = owner
        self.side = side
        self.ticks = ticks
        self.units = units


class Level:
    __slots__ = ("orders", "units")

    def __init__(self) -> None:
        self.orders: deque[Resting] = deque()
        self.units = 0


class _Side:
    """One side of the book. Keys are sorted ascending with the best price last:
    bids use +ticks, asks use -ticks."""

    __slots__ = ("sign", "levels", "keys", "dirty")

    def __init__(self, is_bid: bool) -> None:
        self.sign = 1 if is_bid else -1
        self.levels: dict[int, Level] = {}
        self.keys: list[int] = []
        # Ticks whose aggregate quantity changed since the last take_changes().
        self.dirty: set[int] = set()

    def best_ticks(self) -> int | None:
        return self.keys[-1] * self.sign if self.keys else None

    def add(self, entry: Resting) -> None:
        level = self.levels.get(entry.ticks)
        if level is None:
            level = self.levels[entry.ticks] = Level()
            insort(self.keys, entry.ticks * self.sign)
        level.orders.append(entry)
        level.units += entry.units
        self.dirty.add(entry.ticks)

    def drop_level(self, ticks: int) -> None:
        del self.levels[ticks]
        key = ticks * self.sign
        keys = self.keys
        if keys and keys[-1] == key:
            keys.pop()
        else:
            del keys[bisect_left(keys, key)]

    def remove(self, entry: Resting) -> bool:
        level = self.levels.get(entry.ticks)
        if level is None:
            return False
        try:
            level.orders.remove(entry)
        except ValueError:
            return False
        level.units -= entry.units
        if not level.orders:
            self.drop_level(entry.ticks)
        self.dirty.add(entry.ticks)
        return True

    def depth(self, n: int) -> list[tuple[int, int]]:
        out = []
        levels = self.levels
        sign = self.sign
        for key in reversed(self.keys):
            ticks = key * sign
            out.append((ticks, levels[ticks].units))
            if len(out) >= n:
                break
        return out

    def units_at(self, ticks: int) -> int:
        level = self.levels.get(ticks)
        return level.units if level is not None else 0


class Fill:
    """A match between the incoming order and one resting maker order."""

    __slots__ = ("maker", "units", "ticks")

    def __init__(self, maker: Resting, units: int, ticks: int) -> None:
        self.maker = maker
        self.units = units
        self.ticks = ticks


class MatchingEngine:
    """The book of one market. Not thread-safe; the venue serialises calls."""

    __slots__ = ("market", "bids", "asks")

    def __init__(self, market: SimMarket) -> None:
        self.market = market
        self.bids = _Side(True)
        self.asks = _Side(False)

    def side(self, side: Side) -> _Side:
        return self.bids if side is Side.BUY else self.asks

    def best_bid(self) -> int | None:
        return self.bids.best_ticks()

    def best_ask(self) -> int | None:
        return self.asks.best_ticks()

    def would_take(self, side: Side, ticks: int) -> bool:
        """True if a `side` limit order at `ticks` would cross the opposite best."""
        if side is Side.BUY:
            best = self.asks.best_ticks()
            return best is not None and best <= ticks
        best = self.bids.best_ticks()
        return best is not None and best >= ticks

    def fillable_units(self, side: Side, limit_ticks: int | None, wanted: int) -> int:
        """Units a `side` taker could fill up to `limit_ticks` (None: any price), capped at `wanted`."""
        book = self.asks if side is Side.BUY else self.bids
        sign = book.sign
        total = 0
        for key in reversed(book.keys):
            ticks = key * sign
            if limit_ticks is not None and (ticks > limit_ticks if side is Side.BUY else ticks < limit_ticks):
                break
            total += book.levels[ticks].units
            if total >= wanted:
                return wanted
        return total

    def cost_of(self, side: Side, units: int) -> tuple[int, float]:
        """Walk the opposite side for `units`: (units available, sum of ticks*units)."""
        book = self.asks if side is Side.BUY else self.bids
        sign = book.sign
        left = units
        tick_units = 0.0
        for key in reversed(book.keys):
            ticks = key * sign
            take = min(left, book.levels[ticks].units)
            tick_units += take * ticks
            left -= take
            if not left:
                break
        return units - left, tick_units

    def match(
        self,
        side: Side,
        limit_ticks: int | None,
        units: int,
        quote_budget: float | None = None,
    ) -> list[Fill]:
        """Take liquidity for an incoming `side` order.

        Fills up to `units` (or, when `quote_budget` is given, as many units as
        the budget buys) at resting prices no worse than `limit_ticks`. Makers
        are consumed in price-time order; filled makers leave the book.
        """
        book = self.asks if side is Side.BUY else self.bids
        sign = book.sign
        keys = book.keys
        levels = book.levels
        fills: list[Fill] = []
        unit_price = self.market.tick * self.market.step
        left = units
        budget = quote_budget
        while left > 0 and keys:
            ticks = keys[-1] * sign
            if limit_ticks is not None and (ticks > limit_ticks if side is Side.BUY else ticks < limit_ticks):
                break
            if budget is not None:
                affordable = math.floor(budget / (ticks * unit_price) + 1e-9)
                if affordable <= 0:
                    break
                cap = min(left, affordable)
            else:
                cap = left
            level = levels[ticks]
            queue = level.orders
            taken = 0
            while queue and taken < cap:
                maker = queue[0]
                n = min(cap - taken, maker.units)
                maker.units -= n
                taken += n
                fills.append(Fill(maker, n, ticks))
                if maker.units == 0:
                    queue.popleft()
            level.units -= taken
            left -= taken
            if budget is not None:
                budget -= taken * ticks * unit_price
            book.dirty.add(ticks)
            if not queue:
                keys.pop()
                del levels[ticks]
            elif budget is not None:
                break  # the budget ran out inside this level
        return fills

    def add(self, entry: Resting) -> None:
        self.side(entry.side).add(entry)

    def remove(self, entry: Resting) -> bool:
        return self.side(entry.side).remove(entry)

    def take_changes(self) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
        """(ticks, units) of every level changed since the last call; units 0 = level gone."""
        bids = [(t, self.bids.units_at(t)) for t in sorted(self.bids.dirty, reverse=True)]
        asks = [(t, self.asks.units_at(t)) for t in sorted(self.asks.dirty)]
        self.bids.dirty.clear()
        self.asks.dirty.clear()
        return bids, asks

    def has_changes(self) -> bool:
        return bool(self.bids.dirty or self.asks.dirty)
