"""Executor: both legs IOC at once; a failed or partial leg is hedged within the slippage cap."""

from __future__ import annotations

import asyncio
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cexarb.arb.config import ArbConfig
from cexarb.arb.executor import Executor
from cexarb.arb.opportunity import Kind
from cexarb.arb.sizing import Leg, Opportunity
from cexarb.model import Side, TimeInForce
from cexarb.model.errors import InsufficientBalance, InvalidOrder, NetworkError
from tests.support import eventually

from .fakes import FakeVenue
from .helpers import BTC, futures_info, spot_info


def setup(qty=0.1, buy_price=100.0, sell_price=101.0, slippage_bps=30.0):
    sinfo = spot_info(tick=0.01, step=0.001)
    mexc = FakeVenue("mexc_spot", [sinfo], {"USDT": 10_000.0, "BTC": 1.0})
    gate = FakeVenue("gateio_spot", [sinfo], {"USDT": 10_000.0, "BTC": 1.0})
    ex = Executor({"mexc_spot": mexc, "gateio_spot": gate}, ArbConfig(hedge_slippage_bps=slippage_bps))
    opp = Opportunity(
        Kind.SPOT_SPOT,
        BTC,
        Leg("mexc_spot", BTC, Side.BUY, buy_price, qty, sinfo),
        Leg("gateio_spot", BTC, Side.SELL, sell_price, qty, sinfo),
        edge_bps=60.0,
        expected_pnl=0.06,
    )
    return ex, opp, mexc, gate


async def test_both_legs_go_out_as_ioc_and_fill():
    ex, opp, mexc, gate = setup()
    result = await ex.execute(opp)
    assert result.outcome == "filled" and result.residual == 0
    assert mexc.placed == [(Side.BUY, 0.1, 100.0, {})]
    assert gate.placed == [(Side.SELL, 0.1, 101.0, {})]
    assert result.buy.order.time_in_force is TimeInForce.IOC


async def test_rejected_leg_is_unwound_on_the_filled_venue_within_the_slippage_cap():
    ex, opp, mexc, gate = setup()
    gate.script = [InsufficientBalance("no BTC", venue="gateio_spot")]
    result = await ex.execute(opp)
    # The sell leg failed for good: the 0.1 bought is sold back where it was bought.
    assert mexc.placed[1][:2] == (Side.SELL, 0.1)
    assert mexc.placed[1][2] >= 100.0 * (1 - 30e-4) - 1e-9
    assert len(gate.placed) == 1
    assert result.outcome == "hedged" and result.residual == 0
    assert ex.unhedged_notional == 0
    assert "InsufficientBalance" in result.sell.error


async def test_partial_leg_is_completed_on_its_own_venue_first():
    ex, opp, mexc, gate = setup()
    gate.script = [0.4]  # 0.04 of 0.1 sold
    result = await ex.execute(opp)
    assert gate.placed[1][:2] == (Side.SELL, 0.06)
    assert gate.placed[1][2] >= 101.0 * (1 - 30e-4) - 1e-9
    assert mexc.placed == [(Side.BUY, 0.1, 100.0, {})]
    assert result.outcome == "hedged" and result.residual == 0
    assert math.isclose(sum(h.filled for h in result.hedges), 0.06)


async def test_transient_failure_on_the_buy_leg_hedges_the_short_by_buying():
    ex, opp, mexc, gate = setup()
    mexc.script = [NetworkError("503", venue="mexc_spot"), 1.0]
    result = await ex.execute(opp)
    # Sold 0.1 without buying: buy it on mexc (completing) at most 30 bps over the plan.
    assert mexc.placed[1][:2] == (Side.BUY, 0.1)
    assert 100.0 <= mexc.placed[1][2] <= 100.0 * (1 + 30e-4) + 1e-9
    assert result.residual == 0


async def test_exposure_that_cannot_be_hedged_is_kept_and_retried():
    ex, opp, mexc, gate = setup()
    gate.script = [0.0, 0.0, 0.0, 0.0]
    mexc.script = [1.0, 0.0, 0.0, 0.0]
    result = await ex.execute(opp)
    assert result.outcome == "unhedged" and math.isclose(result.residual, 0.1)
    assert math.isclose(ex.unhedged_notional, 0.1 * 100.0)
    # The books come back: the retry flattens it.
    await ex.retry_residuals()
    assert ex.residuals == {} and ex.unhedged_notional == 0


async def test_an_order_that_is_not_done_in_the_reply_is_followed_until_it_is():
    ex, opp, mexc, gate = setup()
    mexc.script = ["later"]
    result = await ex.execute(opp)
    assert result.buy.filled == 0.1 and result.outcome == "filled"


async def test_basis_close_keeps_reduce_only_on_the_perp_leg():
    sinfo, finfo = spot_info(tick=0.01, step=0.001), futures_info(tick=0.01, contract=0.001)
    spot = FakeVenue("mexc_spot", [sinfo], {"USDT": 1_000.0, "BTC": 1.0})
    perp = FakeVenue("gateio_futures", [finfo], {"USDT": 1_000.0})
    ex = Executor({"mexc_spot": spot, "gateio_futures": perp}, ArbConfig())
    opp = Opportunity(
        Kind.BASIS_CLOSE,
        BTC,
        Leg("gateio_futures", BTC, Side.BUY, 100.0, 0.2, finfo, reduce_only=True),
        Leg("mexc_spot", BTC, Side.SELL, 100.0, 0.2, sinfo),
        edge_bps=-10.0,
        expected_pnl=-0.02,
    )
    perp.script = [0.5]
    result = await ex.execute(opp)
    assert perp.placed[0][3] == {"reduce_only": True}
    assert perp.placed[1][:2] == (Side.BUY, 0.1) and perp.placed[1][3] == {"reduce_only": True}
    assert result.residual == 0


@settings(max_examples=60, deadline=None)
@given(
    buy_fraction=st.sampled_from([0.0, 0.25, 0.5, 0.73, 1.0]),
    sell_fraction=st.sampled_from([0.0, 0.25, 0.5, 0.73, 1.0]),
    sell_rejected=st.booleans(),
)
def test_whatever_the_legs_fill_the_account_ends_flat(buy_fraction, sell_fraction, sell_rejected):
    async def scenario():
        ex, opp, mexc, gate = setup(qty=0.2)
        mexc.script = [buy_fraction]
        gate.script = [InsufficientBalance("no", venue="gateio_spot") if sell_rejected else sell_fraction]
        result = await ex.execute(opp)
        legs = [result.buy, result.sell, *result.hedges]
        net = sum(leg.leg.side.sign * leg.filled for leg in legs)
        assert abs(net) < 1e-9
        assert result.residual == 0 and ex.residuals == {}
        # Every hedge price stays inside the slippage cap of its venue's planned price.
        for h in result.hedges:
            planned = opp.buy.price if h.leg.venue == "mexc_spot" else opp.sell.price
            assert abs(h.leg.price - planned) <= planned * 30e-4 + 0.01

    asyncio.run(scenario())


# ---- the legs written in the caller's own call (write_limit_order_now) -----------------------


async def test_start_writes_both_legs_and_counts_them_before_returning():
    ex, opp, mexc, gate = setup()
    running = ex.start(opp)
    # Written (the fakes record at write time) and counted before any loop pass: a decision
    # made right after must see both orders and the trade's risk.
    assert mexc.placed == [(Side.BUY, 0.1, 100.0, {})] and gate.placed == [(Side.SELL, 0.1, 101.0, {})]
    assert ex.in_flight == 2 and ex.at_risk_notional > 0
    result = await running
    assert result.outcome == "filled"
    assert ex.in_flight == 0 and ex.at_risk_notional == 0


async def test_a_venue_that_cannot_write_at_once_gets_its_leg_through_place_limit_order():
    ex, opp, mexc, gate = setup()
    gate.lane = False  # e.g. no idle connection: write_limit_order_now says None
    running = ex.start(opp)
    # Its eager task placed it before start returned (this fake answers without waiting).
    assert mexc.placed == [(Side.BUY, 0.1, 100.0, {})] and gate.placed == [(Side.SELL, 0.1, 101.0, {})]
    result = await running
    assert result.outcome == "filled" and ex.in_flight == 0


async def test_a_venue_error_given_for_a_leg_written_at_once_is_hedged_as_before():
    ex, opp, mexc, gate = setup()
    gate.script = [InsufficientBalance("no BTC", venue="gateio_spot")]
    result = await ex.start(opp)
    assert "InsufficientBalance" in result.sell.error and result.sell.hard_failure
    assert mexc.placed[1][:2] == (Side.SELL, 0.1)  # unwound where it was bought
    assert result.outcome == "hedged" and ex.unhedged_notional == 0


async def test_input_refused_before_sending_takes_the_usual_path_and_its_handling():
    ex, opp, mexc, gate = setup()

    def refuses(*args, **kwargs):
        raise InvalidOrder("price off the tick grid", venue="gateio_spot")

    async def refuses_too(*args, **kwargs):
        raise InvalidOrder("price off the tick grid", venue="gateio_spot")

    gate.write_limit_order_now = refuses
    gate.place_limit_order = refuses_too
    result = await ex.start(opp)
    assert "InvalidOrder" in result.sell.error and result.sell.hard_failure
    assert result.outcome == "hedged" and ex.in_flight == 0 and ex.at_risk_notional == 0


async def test_both_legs_are_written_before_either_is_booked():
    ex, opp, mexc, gate = setup()
    steps: list[str] = []
    for venue in (mexc, gate):

        def write(*args, _venue=venue, _write=venue.write_limit_order_now, **kwargs):
            steps.append(f"write {_venue.name}")
            return _write(*args, **kwargs)

        def book(written, _venue=venue, _book=venue.book_written):
            steps.append(f"book {_venue.name}")
            return _book(written)

        venue.write_limit_order_now, venue.book_written = write, book
    result = await ex.start(opp)
    # The second order leaves without waiting for the first's bookkeeping.
    assert steps == ["write mexc_spot", "write gateio_spot", "book mexc_spot", "book gateio_spot"]
    assert result.outcome == "filled"


async def test_the_first_leg_is_booked_when_writing_the_second_raises_through():
    ex, opp, mexc, gate = setup()

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt  # not an Exception: the executor does not make it a failed leg

    gate.write_limit_order_now = interrupted
    with pytest.raises(KeyboardInterrupt):
        ex.start(opp)
    # The first order was written: it is booked (followed to its end) all the same.
    assert mexc.placed == [(Side.BUY, 0.1, 100.0, {})] and len(mexc.booked) == 1
    assert ex.in_flight == 1 and ex.at_risk_notional == 0
    await eventually(lambda: ex.in_flight == 0, what="the first leg's outcome")


async def test_a_bug_while_booking_a_written_leg_fails_that_leg_and_keeps_the_count():
    ex, opp, mexc, gate = setup()

    def broken(written):
        raise RuntimeError("booking bug")

    gate.book_written = broken
    result = await ex.start(opp)
    assert "booking bug" in result.sell.error and result.sell.hard_failure
    assert isinstance(result.bug, RuntimeError)
    assert ex.in_flight == 0 and ex.at_risk_notional == 0
