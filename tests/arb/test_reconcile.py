"""Reconciliation: the engine's books against a venue's own balances and positions."""

from __future__ import annotations

from cexarb.arb.pnl import PnlBook
from cexarb.arb.reconcile import VenueTruth, reconcile
from cexarb.model import Execution, Side

from .helpers import BTC


def fill(side, qty, price, fee, fee_asset, tid):
    return Execution(BTC, tid, "o", "c", side, price, qty, fee, fee_asset, False, 0)


def test_agreeing_books_reconcile_and_a_missed_fill_shows():
    start = {"USDT": 1_000.0, "BTC": 1.0}
    buy = fill(Side.BUY, 0.5, 100.0, 0.001, "BTC", "1")  # fee in base, as on a spot buy
    short = fill(Side.SELL, 0.5, 102.0, 0.0255, "USDT", "2")
    book = PnlBook()
    book.add_venue("spot", start)
    book.add_venue("perp", {"USDT": 1_000.0}, is_futures=True)
    book.on_fill("spot", buy)
    book.on_fill("perp", short)
    marks = {("spot", BTC): 101.0, ("perp", BTC): 101.5}
    truth = {
        "spot": VenueTruth(start, {"USDT": 950.0, "BTC": 1.499}, {}, [buy]),
        "perp": VenueTruth({"USDT": 1_000.0}, {"USDT": 1_000.0 - 0.0255}, {BTC: (-0.5, 102.0)}, [short]),
    }
    rows = reconcile(book, marks, truth)
    assert all(r.agrees for r in rows), [r for r in rows if not r.agrees]
    items = {(r.venue, r.item) for r in rows}
    assert {("spot", "BTC"), ("spot", "pnl"), ("perp", "position BTC/USDT"), ("perp", "fees")} <= items

    # The engine never saw the perp fill: position, fees and PnL disagree.
    missed = PnlBook()
    missed.add_venue("spot", start)
    missed.add_venue("perp", {"USDT": 1_000.0}, is_futures=True)
    missed.on_fill("spot", buy)
    bad = {(r.venue, r.item) for r in reconcile(missed, marks, truth) if not r.agrees}
    assert {("perp", "position BTC/USDT"), ("perp", "fees"), ("perp", "pnl")} <= bad
