"""PnL accounting: realized + unrealized - fees equals the wallets marked to market."""

from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from cexarb.arb.opportunity import net_edge
from cexarb.arb.pnl import Ledger, PnlBook
from cexarb.model import Execution, Side

from .helpers import BTC

VENUES = ("mexc_spot", "gateio_spot")


def fill(side, qty, price, fee=0.0, fee_asset="USDT", trade_id="", symbol=BTC):
    return Execution(symbol, trade_id, "o", "c", side, price, qty, fee, fee_asset, False, 0)


fills = st.lists(
    st.tuples(
        st.sampled_from(VENUES),
        st.sampled_from([Side.BUY, Side.SELL]),
        st.floats(0.001, 3.0),
        st.floats(90.0, 110.0),
        st.sampled_from(["USDT", "BTC"]),
    ),
    max_size=30,
)


@settings(max_examples=300, deadline=None)
@given(fills=fills, marks=st.tuples(st.floats(80, 120), st.floats(80, 120)))
def test_total_pnl_equals_wallet_change_marked_to_market(fills, marks):
    book = PnlBook()
    for v in VENUES:
        book.add_venue(v, {"USDT": 10_000.0, "BTC": 50.0})
    for i, (venue, side, qty, price, fee_asset) in enumerate(fills):
        fee = 0.002 * qty * (price if fee_asset == "USDT" else 1.0)
        assert book.on_fill(venue, fill(side, qty, price, fee, fee_asset, trade_id=str(i)))
    mark_of = dict(zip(VENUES, marks, strict=True))
    snap = book.snapshot({(v, BTC): mark_of[v] for v in VENUES})
    wallet = sum(
        ch.get("USDT", 0.0) + ch.get("BTC", 0.0) * mark_of[v]
        for v in VENUES
        for ch in [book.inventory_change(v)]
    )
    assert math.isclose(snap.total, wallet, rel_tol=1e-9, abs_tol=1e-6)
    # Inventory is the start plus every movement; the ledger tracks the base held.
    for v in VENUES:
        assert math.isclose(book.inventory(v)["BTC"] - 50.0, book.position(v, BTC), abs_tol=1e-9)


def test_a_completed_arbitrage_books_exactly_the_detected_net_edge():
    book = PnlBook()
    for v in VENUES:
        book.add_venue(v, {"USDT": 10_000.0, "BTC": 1.0})
    q, buy, sell = 0.5, 100.0, 101.0
    book.on_fill("mexc_spot", fill(Side.BUY, q, buy, 0.002 * q * buy, "USDT", "t1"))
    book.on_fill("gateio_spot", fill(Side.SELL, q, sell, 0.002 * q * sell, "USDT", "t2"))
    snap = book.snapshot({("mexc_spot", BTC): 100.5, ("gateio_spot", BTC): 100.5})
    assert math.isclose(snap.total, q * net_edge(buy, 0.002, sell, 0.002))
    assert math.isclose(snap.fees, 0.002 * q * (buy + sell))


def test_duplicate_fill_is_booked_once():
    book = PnlBook()
    book.add_venue("mexc_spot", {"USDT": 100.0})
    assert book.on_fill("mexc_spot", fill(Side.BUY, 1.0, 10.0, trade_id="x"))
    assert not book.on_fill("mexc_spot", fill(Side.BUY, 1.0, 10.0, trade_id="x"))
    assert book.inventory("mexc_spot") == {"USDT": 90.0, "BTC": 1.0}


def test_futures_fills_settle_realized_pnl_and_fees_in_quote():
    book = PnlBook()
    book.add_venue("gateio_futures", {"USDT": 1_000.0}, is_futures=True)
    book.on_fill("gateio_futures", fill(Side.SELL, 2.0, 100.0, 0.1, "USDT", "a"))
    book.on_fill("gateio_futures", fill(Side.BUY, 1.0, 90.0, 0.05, "USDT", "b"))
    assert book.position("gateio_futures", BTC) == -1.0
    snap = book.snapshot({("gateio_futures", BTC): 95.0})
    venue = snap.venues["gateio_futures"]
    assert math.isclose(venue.realized, 10.0)
    assert math.isclose(venue.unrealized, 5.0)
    assert math.isclose(venue.fees, 0.15)
    assert math.isclose(book.inventory("gateio_futures")["USDT"], 1_000.0 + 10.0 - 0.15)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from([Side.BUY, Side.SELL]), st.floats(0.01, 5), st.floats(1, 200)), max_size=20
    )
)
def test_ledger_round_trip_realizes_the_cash_flow(trades):
    ledger = Ledger()
    cash = 0.0
    for side, q, p in trades:
        ledger.trade(side, q, p)
        cash -= side.sign * q * p
    # Flatten at some price: everything is realized and equals the cash made.
    if ledger.net:
        p = 100.0
        q = abs(ledger.net)
        side = Side.SELL if ledger.net > 0 else Side.BUY
        ledger.trade(side, q, p)
        cash -= side.sign * q * p
    assert ledger.net == 0
    assert math.isclose(ledger.realized, cash, rel_tol=1e-9, abs_tol=1e-6)
