"""Synthetic flow: deterministic for a seed, moves books, fills resting orders, lags across venues."""

from __future__ import annotations

import pytest

from cexarb.model import OrderStatus, OrderType, Side
from cexarb.sim.flow import FlowParams, MarketFlow
from cexarb.sim.harness import SimConfig, build_venue

from .conftest import BTC, ETH


def make(seed: int, lag_s: float = 0.5):
    cfg = SimConfig(seed=seed, symbols=("BTC/USDT", "ETH/USDT"), flow=False)
    venues = [build_venue(k, cfg) for k in ("gateio_spot", "mexc_spot", "gateio_futures")]
    for v in venues:
        v.add_account("u", "s", 1, {"USDT": 1e6, "BTC": 10.0})
    flow = MarketFlow(venues, cfg.symbol_list(), seed, FlowParams(interval_s=0.05, correlation_lag_s=lag_s))
    return venues, flow


def fingerprint(venues) -> list:
    out = []
    for v in venues:
        for s in (BTC, ETH):
            book = v.snapshot(s, 20)
            out.append((v.key, str(s), book.bids, book.asks, book.update_id))
            out.append([(t.price, t.quantity, t.side) for t in v.recent_trades(s, 1000)])
    return out


def test_same_seed_same_market() -> None:
    a, flow_a = make(11)
    b, flow_b = make(11)
    c, flow_c = make(12)
    for _ in range(150):
        flow_a.step()
        flow_b.step()
        flow_c.step()
    assert fingerprint(a) == fingerprint(b)
    assert fingerprint(a) != fingerprint(c)


def test_books_move_and_trades_happen() -> None:
    venues, flow = make(5)
    flow.step()
    first = venues[0].ticker(BTC)
    for _ in range(300):
        flow.step()
    last = venues[0].ticker(BTC)
    assert last.bid_price != first.bid_price
    assert 0 < last.bid_price < last.ask_price
    assert len(venues[0].recent_trades(BTC, 1000)) > 10
    fut = venues[2]
    assert fut.snapshot(ETH, 5).bids  # futures books are quoted too


def test_resting_user_order_gets_filled() -> None:
    venues, flow = make(8)
    venue = venues[0]
    flow.step()
    best_bid = venue.ticker(BTC).bid_price
    order = venue.place_order("u", BTC, Side.BUY, OrderType.LIMIT, 0.001, best_bid)
    for _ in range(2000):
        flow.step()
        if venue.get_order("u", BTC, order.order_id).status is OrderStatus.FILLED:
            break
    assert venue.get_order("u", BTC, order.order_id).status is OrderStatus.FILLED


def test_venues_follow_with_a_lag_so_spreads_open() -> None:
    venues, flow = make(21, lag_s=1.0)
    gaps = []
    for _ in range(400):
        flow.step()
        gaps.append(abs(flow.venue_mid(venues[0], BTC) - flow.venue_mid(venues[1], BTC)))
    assert max(gaps) > 10 * min(gaps)  # spreads open and close
    assert flow.lag_steps == 20
    assert len(flow.fundamental[BTC]) == 2 * 20 + 1  # history deep enough for the last venue's lag


def test_set_mid_requotes_around_the_new_price() -> None:
    venues, flow = make(3)
    flow.step()
    flow.set_mid(venues[1], BTC, 65000.0)
    t = venues[1].ticker(BTC)
    assert t.bid_price < 65000.0 < t.ask_price
    assert t.ask_price - t.bid_price < 65000.0 * 0.001
    assert venues[1].reference_price(BTC) == 65000.0
    assert abs(venues[0].ticker(BTC).bid_price - 60000.0) < 1000  # other venues unchanged


def test_conservation_with_flow_and_users() -> None:
    """Synthetic traders are ordinary (internal) accounts, so they count like everyone else."""
    venues, flow = make(17)
    for i in range(300):
        flow.step()
        if i % 25 == 0:
            for v in venues:
                mid = v.mark_price(BTC)
                try:
                    v.place_order("u", BTC, Side.BUY, OrderType.LIMIT, 0.01, round(mid, 1))
                except Exception:
                    pass
    for v in venues:
        totals = v.asset_totals()
        for asset, amount in v.deposited.items():
            assert totals[asset] == pytest.approx(amount, rel=1e-12, abs=1e-6), (v.key, asset)
    positions = [
        p for key in ("u", "__flow_maker__", "__flow_taker__") for p in [venues[2].positions(key)[BTC]]
    ]
    assert any(p.size for p in positions)
