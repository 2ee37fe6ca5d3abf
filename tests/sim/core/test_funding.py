"""Funding: Gate's clamped rate from the premium, settlements paid between positions, account book."""

from __future__ import annotations

import pytest

from cexarb.model import OrderStatus, OrderType, Side, TimeInForce
from cexarb.sim.events import FundingEvent
from cexarb.sim.funding import (
    INTEREST_RATE,
    PREMIUM_CLAMP,
    FundingSchedule,
    funding_cap,
    funding_rate,
    next_apply,
)
from cexarb.sim.venue import SimVenue
from tests.support import eventually

from .conftest import BTC, ETH

CAP = funding_cap(100, 0.005)


def trade(v: SimVenue, maker: str, taker: str, side: Side, qty: float, price: float) -> None:
    v.place_order(maker, BTC, side.opposite, OrderType.LIMIT, qty, price, TimeInForce.GTC)
    assert v.place_order(taker, BTC, side, OrderType.LIMIT, qty, price, TimeInForce.IOC).status is (
        OrderStatus.FILLED
    )


def test_cap_is_gates_formula() -> None:
    assert CAP == pytest.approx((1 / 100 - 0.005) * 0.75)


@pytest.mark.parametrize(
    ("premium", "rate"),
    [
        (0.0, INTEREST_RATE),  # a flat market pays the interest rate
        (0.0003, INTEREST_RATE),  # inside the band the premium is pulled back to the interest
        (0.002, 0.002 - PREMIUM_CLAMP),  # outside it the band only moves it by 0.05%
        (-0.002, -0.002 + PREMIUM_CLAMP),
        (0.05, CAP),  # and the cap bounds it
        (-0.05, -CAP),
    ],
)
def test_rate_follows_premium_clamped(premium: float, rate: float) -> None:
    assert funding_rate(premium, CAP) == pytest.approx(rate)


def test_rate_is_monotonic_and_bounded() -> None:
    premiums = [i / 10_000 for i in range(-500, 501, 7)]
    rates = [funding_rate(p, CAP) for p in premiums]
    assert rates == sorted(rates)
    assert all(-CAP <= r <= CAP for r in rates)


def test_schedule_averages_premium_and_moves_on_whole_intervals() -> None:
    s = FundingSchedule(60, CAP, now_s=1_000_030)
    assert s.next_apply == next_apply(1_000_030, 60) == 1_000_080
    s.sample(BTC, 101.0, 100.0)  # +1%
    s.sample(BTC, 100.0, 100.0)  # 0
    assert s.rate(BTC) == pytest.approx(funding_rate(0.005, CAP))
    assert s.rate(ETH) == pytest.approx(INTEREST_RATE)  # no samples: a flat premium
    assert not s.due(1_000_079) and s.due(1_000_080)
    s.settled(1_000_200)  # late: the next one is the next multiple after now
    assert s.next_apply == 1_000_260


def test_settlement_pays_between_positions_at_the_mark(fut: SimVenue) -> None:
    trade(fut, "b", "a", Side.BUY, 0.5, 60000.0)  # a long 0.5, b short 0.5
    fut.place_order("c", BTC, Side.BUY, OrderType.LIMIT, 0.01, 59990.0, TimeInForce.GTC)
    fut.place_order("c", BTC, Side.SELL, OrderType.LIMIT, 0.01, 60010.0, TimeInForce.GTC)
    mark = fut.mark_price(BTC)
    fut.funding.sample(BTC, 60120.0, 60000.0)  # +0.2% premium
    rate = fut.funding_rate(BTC)
    assert rate == pytest.approx(0.002 - PREMIUM_CLAMP)
    before = {k: fut.balances(k)["USDT"].total for k in "ab"}
    events: list = []
    fut.subscribe(events.append)
    totals_before = fut.asset_totals()["USDT"]
    applied = fut.settle_funding()
    assert applied[BTC] == pytest.approx(rate)
    paid = 0.5 * mark * rate
    assert fut.balances("a")["USDT"].total == pytest.approx(before["a"] - paid)  # long pays
    assert fut.balances("b")["USDT"].total == pytest.approx(before["b"] + paid)  # short receives
    assert fut.truth("a").funding == pytest.approx(-paid) and fut.truth("b").funding == pytest.approx(paid)
    assert fut.asset_totals()["USDT"] == pytest.approx(totals_before)  # zero-sum
    funding_events = [e for e in events if isinstance(e, FundingEvent)]
    assert {(e.api_key, round(e.amount, 6)) for e in funding_events} == {
        ("a", round(-paid, 6)),
        ("b", round(paid, 6)),
    }
    fund = [e for e in fut.truth("a").book if e.kind == "fund"]
    assert len(fund) == 1 and fund[0].change == pytest.approx(-paid) and fund[0].symbol == BTC
    assert fund[0].balance == pytest.approx(fut.balances("a")["USDT"].total)


def test_account_book_adds_up_to_the_wallet(fut: SimVenue) -> None:
    trade(fut, "b", "a", Side.BUY, 0.5, 60000.0)
    trade(fut, "c", "a", Side.SELL, 0.2, 61000.0)
    fut.settle_funding()
    book = fut.truth("a").book
    assert [e.kind for e in book][:1] == ["dnw"]
    assert {"pnl", "fee", "fund"} <= {e.kind for e in book}
    assert sum(e.change for e in book) == pytest.approx(fut.balances("a")["USDT"].total)
    running = 0.0
    for e in book:
        running += e.change
        assert e.balance == pytest.approx(running)


def test_flat_accounts_and_spot_venues_pay_nothing(spot: SimVenue, fut: SimVenue) -> None:
    assert spot.funding is None and spot.settle_funding() == {}
    before = fut.balances("a")["USDT"].total
    fut.settle_funding()
    assert fut.balances("a")["USDT"].total == before and fut.truth("a").funding == 0.0


async def test_simulator_settles_on_its_compressed_interval() -> None:

    from cexarb.sim import SimConfig, Simulator

    async with Simulator(SimConfig(flow=False, admin=False, funding_interval_s=1)) as sim:
        fut = sim.venue("gateio_futures")
        assert fut.funding.interval_s == 1
        assert fut.index_price(BTC) == sim.flow.fundamental[BTC][-1]
        fut.place_order("k1", BTC, Side.SELL, OrderType.MARKET, 0.01, None, TimeInForce.IOC)
        await eventually(lambda: fut.truth("k1").funding, what="a funding settlement (one a second)")
        fund = [e for e in fut.truth("k1").book if e.kind == "fund"]
        assert fund and fund[0].symbol == BTC
        assert fut.truth("k1").funding == pytest.approx(sum(e.change for e in fund))
