"""Funding in the engine: expected funding over the holding horizon, its place in the basis edge,
in PnL and in the truth check."""

from __future__ import annotations

import math
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cexarb.arb.config import ArbConfig
from cexarb.arb.engine import ArbEngine
from cexarb.arb.funding import expected_funding_bps, settlements_within
from cexarb.arb.pnl import PnlBook
from cexarb.arb.reconcile import VenueTruth, reconcile
from cexarb.model import FundingInfo, FundingPayment

from .fakes import FakeVenue
from .helpers import BTC, futures_info, spot_info

H = 3_600_000  # one hour in ms


def test_settlements_within_the_horizon() -> None:
    assert settlements_within(H, 3600, 0, 3599) == 0
    assert settlements_within(H, 3600, 0, 3600) == 1  # (now, now + horizon]: the end counts
    assert settlements_within(H, 3600, 0, 4 * 3600) == 4
    assert settlements_within(H, 3600, 2 * H + 1, 3600) == 1  # a stale next time steps forward
    assert settlements_within(H, 3600, 0, 0) == 0


@given(
    next_apply=st.integers(1, 10**7),
    interval=st.integers(1, 3_000),
    now=st.integers(0, 10**7),
    horizon=st.floats(0, 10**4),
)
def test_settlement_count_matches_walking_the_schedule(
    next_apply: int, interval: int, now: int, horizon: float
) -> None:
    """The closed form against a walk over the settlement times (the venue's next one, then
    every interval; a next time already past steps forward), counting those in (now, now + horizon]."""
    step = interval * 1000
    t = next_apply
    while t <= now:
        t += step
    walked = 0
    while t <= now + horizon * 1000:
        walked += 1
        t += step
    assert settlements_within(next_apply, interval, now, horizon) == walked


def test_short_receives_positive_funding_long_pays() -> None:
    info = FundingInfo(BTC, 0.0001, H, 3600)
    assert expected_funding_bps(info, 0, 2 * 3600, short=True) == pytest.approx(2.0)
    assert expected_funding_bps(info, 0, 2 * 3600, short=False) == pytest.approx(-2.0)
    assert expected_funding_bps(None, 0, 3600, short=True) == 0.0


class FundedPerp(FakeVenue):
    """A fake perp that also reports funding, like the futures composite."""

    def __init__(self, *args, rate: float, interval_s: int) -> None:
        super().__init__(*args)
        now = int(time.time() * 1000)
        self.info = FundingInfo(BTC, rate, now + 500, interval_s)

    def funding_info(self, symbol):
        return self.info if symbol == BTC else None


async def _basis_trades(rate: float) -> list:
    sinfo, finfo = spot_info(tick=0.1, step=0.001), futures_info(tick=0.1, contract=0.001)
    spot = FakeVenue("mexc_spot", [sinfo], {"USDT": 10_000.0, "BTC": 1.0})
    perp = FundedPerp("gateio_futures", [finfo], {"USDT": 10_000.0}, rate=rate, interval_s=60)
    # Basis net of fees ~ +5 bps; the threshold asks 20: only funding can make up the rest.
    config = ArbConfig(
        symbols=(BTC,), cooldown_s=0.0, basis_open_bps=20.0, basis_hold_s=600, enable_spot_spot=False
    )
    engine = ArbEngine({"mexc_spot": spot, "gateio_futures": perp}, config)
    spot.set_book(BTC, [(99.9, 5.0)], [(100.0, 0.2)])
    perp.set_book(BTC, [(100.3, 5.0)], [(100.4, 5.0)])
    engine.attach()
    await engine.step()
    await engine.drain()
    return [d for d in engine.stats.decisions if d.action == "taken"], engine


async def test_expected_funding_counts_in_the_basis_edge() -> None:
    # 10 settlements of 0.02% in the 600 s hold: +20 bps for the short.
    taken, engine = await _basis_trades(0.0002)
    (decision,) = taken
    assert decision.kind == "basis_open" and decision.edge_bps > 20.0
    assert decision.expected_pnl > 0.2 * 100.3 * 20 / 1e4
    (pos,) = engine.basis.values()
    # The entry edge kept for the close is the price edge alone.
    assert pos.entry_edge_bps == pytest.approx(
        decision.edge_bps - engine.funding_bps[("gateio_futures", BTC)]
    )
    # Negative funding: the short would pay, so the same basis is not worth opening.
    taken, _ = await _basis_trades(-0.0002)
    assert taken == []


def test_pnl_books_funding_once_and_the_truth_check_covers_it() -> None:
    book = PnlBook()
    book.add_venue("gateio_futures", {"USDT": 1000.0}, is_futures=True)
    paid = FundingPayment("1", BTC, -0.5, 1)
    got = FundingPayment("2", BTC, 2.0, 2)
    old = FundingPayment("0", BTC, 9.0, 0)
    book.ignore_funding("gateio_futures", old.payment_id)
    assert [book.on_funding("gateio_futures", p) for p in (paid, got, paid, old)] == [
        True,
        True,
        False,
        False,
    ]
    snap = book.snapshot({})
    assert snap.funding == pytest.approx(1.5) and snap.total == pytest.approx(1.5)
    assert book.inventory("gateio_futures")["USDT"] == pytest.approx(1001.5)
    truth = {"gateio_futures": VenueTruth({"USDT": 1000.0}, {"USDT": 1001.5}, {}, [], funding=1.5)}
    rows = {r.item: r for r in reconcile(book, {}, truth)}
    assert rows["funding"].agrees and rows["pnl"].agrees and rows["USDT"].agrees
    wrong = {"gateio_futures": VenueTruth({"USDT": 1000.0}, {"USDT": 1001.5}, {}, [], funding=2.0)}
    assert not {r.item: r for r in reconcile(book, {}, wrong)}["funding"].agrees


async def test_engine_books_funding_from_the_listener_and_ignores_what_came_before() -> None:
    from cexarb.exchange.funding import FundingBook

    finfo = futures_info(tick=0.1, contract=0.001)
    perp = FakeVenue("gateio_futures", [finfo], {"USDT": 10_000.0})
    perp.funding = FundingBook()
    perp.funding.add([FundingPayment("old", BTC, 5.0, 1)])
    perp.set_book(BTC, [(100.0, 1.0)], [(100.1, 1.0)])
    engine = ArbEngine({"gateio_futures": perp}, ArbConfig(symbols=(BTC,)))
    engine.attach()
    for listener in perp.private_listeners:
        listener.on_funding(FundingPayment("old", BTC, 5.0, 1))
        listener.on_funding(FundingPayment("new", BTC, -1.25, 2))
    assert math.isclose(engine.pnl_snapshot().funding, -1.25)
