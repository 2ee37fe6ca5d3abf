"""Conservation over random order sequences: nothing is created or destroyed.

Spot: per asset, the accounts' totals + fees collected + withdrawn stay at the start amount.
Futures: USDT totals + fees + every position's unrealized PnL (at one common mark) stay constant,
because realized PnL only moves between accounts.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cexarb.model import OrderType, Side, TimeInForce
from cexarb.sim.engine import SimReject
from cexarb.sim.venue import SimVenue

from .conftest import BTC, futures_markets, spot_markets

KEYS = ("a", "b", "c")

op = st.tuples(
    st.sampled_from(("limit", "limit", "limit", "market", "quote_buy", "cancel", "cancel_all", "leverage")),
    st.sampled_from(KEYS),
    st.sampled_from((Side.BUY, Side.SELL)),
    st.integers(-20, 20),  # price offset in ticks around 60000
    st.integers(1, 3000),  # quantity in steps
    st.sampled_from((TimeInForce.GTC, TimeInForce.IOC, TimeInForce.FOK, TimeInForce.POST_ONLY)),
)


def run(venue: SimVenue, ops) -> None:
    for kind, key, side, offset, units, tif in ops:
        try:
            if kind == "limit":
                venue.place_order(
                    key, BTC, side, OrderType.LIMIT, units * 0.0001, 60000.0 + offset * 0.1, tif
                )
            elif kind == "market":
                venue.place_order(key, BTC, side, OrderType.MARKET, units * 0.0001, None)
            elif kind == "quote_buy" and not venue.is_futures:
                venue.place_order(key, BTC, Side.BUY, OrderType.MARKET, 0, None, quote_quantity=units * 1.0)
            elif kind == "cancel":
                orders = venue.open_orders(key, BTC)
                if orders:
                    venue.cancel_order(key, BTC, orders[units % len(orders)].order_id)
            elif kind == "cancel_all":
                venue.cancel_all(key, BTC, side)
            elif kind == "leverage" and venue.is_futures:
                venue.set_leverage(key, BTC, 1 + units % 50)
        except SimReject:
            pass


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(op, min_size=1, max_size=80))
def test_spot_conservation(ops) -> None:
    venue = SimVenue("spot", spot_markets())
    start = {"USDT": 200_000.0, "BTC": 3.0}
    for i, key in enumerate(KEYS):
        venue.add_account(key, "s", i, start)
    run(venue, ops)
    for asset, amount in start.items():
        total = sum(venue.balances(k)[asset].total for k in KEYS)
        total += venue.fees_collected.get(asset, 0.0) + venue.withdrawn.get(asset, 0.0)
        assert total == pytest.approx(amount * len(KEYS), rel=1e-9, abs=1e-7)
    for key in KEYS:
        for bal in venue.balances(key).values():
            assert bal.available >= -1e-9 and bal.locked >= -1e-9
    # once every order is canceled, nothing stays locked
    for key in KEYS:
        venue.cancel_all(key)
        for bal in venue.balances(key).values():
            assert bal.locked == pytest.approx(0.0, abs=1e-6)
    book = venue.snapshot(BTC, 100)
    assert not book.bids and not book.asks


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(op, min_size=1, max_size=80))
def test_futures_conservation(ops) -> None:
    venue = SimVenue("fut", futures_markets(), is_futures=True)
    for i, key in enumerate(KEYS):
        venue.add_account(key, "s", i, {"USDT": 1_000_000.0})
    run(venue, ops)
    positions = [venue.positions(k)[BTC] for k in KEYS]
    assert sum(p.size for p in positions) == pytest.approx(0.0, abs=1e-9)
    mark = 61234.5  # any common mark: unrealized PnL nets out with realized transfers
    unrealized = sum((mark - p.entry_price) * p.size for p in positions)
    total = sum(venue.balances(k)["USDT"].total for k in KEYS) + venue.fees_collected.get("USDT", 0.0)
    assert total + unrealized == pytest.approx(3_000_000.0, rel=1e-9, abs=1e-6)
    for key, pos in zip(KEYS, positions, strict=True):
        venue.cancel_all(key)
        # with no open orders, the locked USDT is exactly the position margin
        assert venue.balances(key)["USDT"].locked == pytest.approx(pos.margin, abs=1e-6)
        assert pos.margin == pytest.approx(abs(pos.size) * pos.entry_price / pos.leverage, rel=1e-9, abs=1e-9)
