"""Exact rounding to tick/step and float-artifact-free wire formatting.

Floats cannot hold 0.29 exactly, so rounding works on the integer number of
increments, nudged by a tiny epsilon so that 0.29/0.01 = 28.999999999999996
counts as 29 increments. The division's error grows with the number of increments
(4.53233942/1e-8 = 453233941.99999994), so the epsilon does too. Formatting prints
exactly the increment's decimals.
"""

from __future__ import annotations

import functools
import math
from decimal import Decimal

from cexarb.model.enums import Side

# Tolerance for "already on the grid", in increments: far below any real tick, far above
# float noise. The second part covers the few ulps of relative error of value / increment.
_EPS = 1e-9
_REL_EPS = 1e-15


# Pure, and called with a handful of tick and step sizes on every order and sizing: cached.
@functools.lru_cache(maxsize=1024)
def decimals_of(increment: float) -> int:
    """Number of decimals needed to print multiples of `increment` exactly (0.01 -> 2, 5 -> 0)."""
    if increment <= 0:
        raise ValueError(f"increment must be positive, got {increment!r}")
    text = repr(increment)
    if "e" in text or "E" in text:
        mantissa, _, exp = text.lower().partition("e")
        frac = mantissa.partition(".")[2].rstrip("0")
        return max(0, len(frac) - int(exp))
    frac = text.partition(".")[2].rstrip("0")
    return len(frac)


def round_down(value: float, increment: float) -> float:
    """Largest multiple of `increment` <= value (quantities: never more than asked)."""
    steps = value / increment
    steps = math.floor(steps + (_EPS + abs(steps) * _REL_EPS))  # the tolerance in increments
    return round(steps * increment, decimals_of(increment))


def round_up(value: float, increment: float) -> float:
    steps = value / increment
    steps = math.ceil(steps - (_EPS + abs(steps) * _REL_EPS))  # the tolerance in increments
    return round(steps * increment, decimals_of(increment))


def round_nearest(value: float, increment: float) -> float:
    steps = math.floor(value / increment + 0.5)
    return round(steps * increment, decimals_of(increment))


def round_price(price: float, tick: float, side: Side) -> float:
    """Round to the tick on the passive side: a buy never pays more, a sell never asks less."""
    return round_down(price, tick) if side is Side.BUY else round_up(price, tick)


def round_quantity(quantity: float, step: float) -> float:
    return round_down(quantity, step)


@functools.lru_cache(maxsize=1024)
def grid_spec(increment: float) -> str:
    """The format() spec that prints multiples of `increment` exactly (0.01 -> ".2f"): made
    once per grid, for `format_on_grid` (the order lane formats with it on every order)."""
    return f".{decimals_of(increment)}f"


def format_on_grid(value: float, spec: str) -> str:
    """format_decimal(value, increment) with the increment's `grid_spec` already at hand."""
    text = format(value, spec)
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def format_decimal(value: float, increment: float | None = None) -> str:
    """Wire text for a number: exact to `increment`'s decimals, no exponent, no float noise.

    Without an increment, prints the shortest repr that round-trips, without exponent.
    """
    if increment is not None:
        return format_on_grid(value, grid_spec(increment))
    text = repr(float(value))
    if "e" in text or "E" in text:
        # Positional notation of exactly the shortest repr's digits (".18f" would cut
        # 1.2345678e-12 short and print binary noise for 1e25).
        text = format(Decimal(text), "f")
    elif text.endswith(".0"):
        return text[:-2]
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    if text in ("-0", ""):
        return "0"
    return text


def is_on_grid(value: float, increment: float) -> bool:
    steps = value / increment
    return abs(steps - round(steps)) < 1e-6 + abs(steps) * _REL_EPS
