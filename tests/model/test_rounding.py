"""model/rounding.py: passive-side rounding on the grid and noise-free wire text.

Values and ticks are generated as exact decimals (what a venue publishes and a user
means) and converted to floats, the way they reach the code.
"""

from decimal import Decimal

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from cexarb.model.enums import Side
from cexarb.model.rounding import (
    decimals_of,
    format_decimal,
    is_on_grid,
    round_down,
    round_nearest,
    round_price,
    round_quantity,
    round_up,
)

# Increments as venues publish them: 1, 2, 25 or 5 units of a power of ten.
ticks = st.builds(
    lambda unit, exp: Decimal(unit).scaleb(exp), st.sampled_from([1, 2, 5, 25]), st.integers(-8, 1)
)
# Up to 1e11 increments: a 1000 BTC quantity on a 1e-8 step, a 60000.1 price on a 0.1 tick.
grid_counts = st.integers(0, 10**11)
# A position between two grid points, in 1/1000 of a tick (0 = on the grid).
offsets = st.integers(0, 999)


def exact(value: float) -> Decimal:
    """The decimal a float prints as (its shortest repr): what goes on the wire."""
    return Decimal(repr(value))


def on_grid(value: float, tick: Decimal) -> bool:
    return exact(value) % tick == 0


@given(tick=ticks, count=grid_counts, offset=offsets, side=st.sampled_from(list(Side)))
@example(tick=Decimal("0.01"), count=29, offset=0, side=Side.BUY)
@example(tick=Decimal("0.01"), count=29, offset=0, side=Side.SELL)
@example(tick=Decimal("0.00000001"), count=453233942, offset=0, side=Side.BUY)
def test_round_price_is_on_grid_and_never_worse_than_the_input(tick, count, offset, side):
    intended = tick * count + tick * offset / 1000
    price = float(intended)
    rounded = round_price(price, float(tick), side)

    assert on_grid(rounded, tick)
    if side is Side.BUY:  # a buy never pays more than asked, and loses less than a tick
        assert exact(rounded) <= intended < exact(rounded) + tick
    else:  # a sell never asks less, and gives up less than a tick
        assert exact(rounded) - tick < intended <= exact(rounded)
    if offset == 0:
        assert exact(rounded) == intended  # a price already on the grid is left alone


@given(step=ticks, count=grid_counts, offset=offsets)
def test_round_quantity_never_exceeds_the_input(step, count, offset):
    intended = step * count + step * offset / 1000
    quantity = round_quantity(float(intended), float(step))
    assert on_grid(quantity, step)
    assert exact(quantity) <= intended < exact(quantity) + step


@given(tick=ticks, count=grid_counts)
@example(tick=Decimal("0.01"), count=29)
@example(tick=Decimal("0.1"), count=3)
def test_format_decimal_prints_grid_values_exactly_and_round_trips(tick, count):
    value = float(tick * count)
    text = format_decimal(value, float(tick))
    assert "e" not in text.lower()
    assert Decimal(text) == tick * count  # no float artifacts: exactly the intended decimal
    assert float(text) == value  # round-trips
    assert len(text.partition(".")[2]) <= decimals_of(float(tick))


@given(st.floats(min_value=-1e22, max_value=1e22, allow_nan=False, allow_infinity=False))
@example(1.2345678e-12)
@example(1e-7)
@example(0.1 + 0.2)
@example(1.2345678901234567e21)
def test_format_decimal_without_increment_is_the_shortest_round_trip_without_exponent(value):
    text = format_decimal(value)
    assert "e" not in text.lower()
    assert float(text) == value
    assert Decimal(text) == exact(value)


@pytest.mark.parametrize(
    ("value", "increment", "text"),
    [
        (0.29, 0.01, "0.29"),
        (0.1 + 0.2, 0.1, "0.3"),
        (60000.0, 0.1, "60000"),
        (1e-8, 1e-8, "0.00000001"),
        (2.5e-5, 5e-6, "0.000025"),
        (-0.0, 0.01, "0"),
        (150.0, None, "150"),
        (0.5, None, "0.5"),
    ],
)
def test_format_decimal_examples(value, increment, text):
    assert format_decimal(value, increment) == text


@pytest.mark.parametrize(
    ("increment", "decimals"),
    [(0.01, 2), (5, 0), (10.0, 0), (1e-8, 8), (2.5e-5, 6), (0.25, 2), (1.0, 0)],
)
def test_decimals_of(increment, decimals):
    assert decimals_of(increment) == decimals


def test_decimals_of_rejects_non_positive_increments():
    with pytest.raises(ValueError):
        decimals_of(0.0)


def test_round_helpers_on_known_values():
    assert round_down(0.29, 0.01) == 0.29
    assert round_up(0.29, 0.01) == 0.29
    assert round_down(0.299, 0.01) == 0.29
    assert round_up(0.291, 0.01) == 0.3
    assert round_nearest(0.295001, 0.01) == 0.3
    assert round_nearest(0.294, 0.01) == 0.29
    assert round_price(60000.15, 0.1, Side.BUY) == 60000.1
    assert round_price(60000.15, 0.1, Side.SELL) == 60000.2


@given(tick=ticks, count=grid_counts, offset=st.integers(1, 999))
def test_is_on_grid(tick, count, offset):
    assert is_on_grid(float(tick * count), float(tick))
    if tick * count < Decimal(10**9) * tick:  # off-grid by >= 1/1000 tick is visible below 1e9 ticks
        assert not is_on_grid(float(tick * count + tick * offset / 1000), float(tick))
