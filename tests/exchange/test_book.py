"""L2 book and its sync against a snapshot using BookDiff ids."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cexarb.exchange import book as book_module
from cexarb.exchange.book import BookSync, DiffResult, PyLadder
from cexarb.model import BookDiff, OrderBook, Symbol

BTC = Symbol("BTC", "USDT")

try:
    from cexarb.exchange._ladder import Ladder as CLadder
except ImportError:  # the extension was not built here: its tests skip, the fallback's run
    CLadder = None

LADDERS = [
    pytest.param(PyLadder, id="python"),
    pytest.param(
        CLadder, id="c", marks=pytest.mark.skipif(CLadder is None, reason="C ladder extension not built")
    ),
]


@pytest.fixture(autouse=True, params=LADDERS)
def ladder(request, monkeypatch):
    """Every test here runs on the compiled ladder and on the pure-Python fallback."""
    monkeypatch.setattr(book_module, "Ladder", request.param)
    return request.param


def snap(update_id, bids=((100.0, 1.0), (99.0, 2.0)), asks=((101.0, 1.0), (102.0, 3.0))):
    return OrderBook(BTC, list(bids), list(asks), update_id=update_id)


def diff(first, last, bids=(), asks=()):
    return BookDiff(BTC, first, last, list(bids), list(asks))


def test_diffs_buffer_until_snapshot_then_chaining_ones_apply():
    sync = BookSync(BTC)
    assert sync.on_diff(diff(9, 10, bids=[(100.0, 5.0)])) is DiffResult.BUFFERED  # older than snapshot
    assert sync.on_diff(diff(11, 12, bids=[(100.5, 1.0)])) is DiffResult.BUFFERED
    assert sync.on_diff(diff(13, 13, asks=[(101.0, 0.0)])) is DiffResult.BUFFERED
    assert sync.on_snapshot(snap(11))
    book = sync.book
    assert sync.synced and book.update_id == 13
    assert book.best_bid == (100.5, 1.0)
    assert book.best_ask == (102.0, 3.0)
    assert dict(book.bids.top(None))[100.0] == 1.0  # the diff older than the snapshot was skipped


def test_snapshot_older_than_buffered_diffs_stays_stale():
    sync = BookSync(BTC)
    sync.on_diff(diff(20, 21))
    assert not sync.on_snapshot(snap(10))
    assert not sync.synced and len(sync.buffer) == 1
    assert sync.on_snapshot(snap(20))
    assert sync.synced and sync.book.update_id == 21


def test_gap_marks_stale_and_old_diffs_are_skipped():
    sync = BookSync(BTC)
    sync.on_snapshot(snap(5))
    assert sync.on_diff(diff(3, 5)) is DiffResult.OLD
    assert sync.on_diff(diff(4, 7, bids=[(99.5, 1.0)])) is DiffResult.APPLIED  # overlaps: chains
    assert sync.on_diff(diff(9, 9)) is DiffResult.GAP
    assert not sync.synced and sync.gaps == 1
    assert sync.on_diff(diff(10, 10)) is DiffResult.BUFFERED
    assert sync.on_snapshot(snap(9))
    assert sync.book.update_id == 10


def test_a_live_diff_and_a_replayed_one_leave_the_same_book(monkeypatch):
    """BookSync.on_diff applies a live diff with L2Book.apply's body inline (a frame less on the
    stream's hot path); a snapshot's replay calls L2Book.apply. The two must not drift apart:
    every field a diff sets, the cached view dropped, the same either way."""
    monkeypatch.setattr(book_module, "_monotonic", lambda: 42.0)
    diffs = [
        BookDiff(BTC, 6, 6, [(100.5, 1.0)], [], timestamp=1_000),
        BookDiff(BTC, 7, 7, [], [(101.0, 0.0), (101.5, 2.0)]),  # no timestamp: the last one stays
        BookDiff(BTC, 8, 9, [(99.0, 0.0)], [(103.0, 1.0)], timestamp=2_000),
    ]
    live, replayed = BookSync(BTC), BookSync(BTC)
    live.on_snapshot(snap(5))
    for d in diffs:
        live.book.view()  # a cached view each diff must drop
        assert live.on_diff(d) is DiffResult.APPLIED
    for d in diffs:
        assert replayed.on_diff(d) is DiffResult.BUFFERED
    assert replayed.on_snapshot(snap(5))
    for sync in (live, replayed):
        assert sync.book._view is None
    a, b = live.book, replayed.book
    assert (a.update_id, a.timestamp, a.updated_monotonic) == (b.update_id, b.timestamp, b.updated_monotonic)
    assert (a.update_id, a.timestamp, a.updated_monotonic) == (9, 2_000, 42.0)
    assert a.view() == b.view()
    assert a.view().bids == [(100.5, 1.0), (100.0, 1.0)] and a.view().asks == [
        (101.5, 2.0),
        (102.0, 3.0),
        (103.0, 1.0),
    ]


def test_levels_stay_sorted_and_zero_removes():
    sync = BookSync(BTC)
    sync.on_snapshot(snap(1, bids=[], asks=[]))
    sync.on_diff(diff(2, 2, bids=[(10.0, 1.0), (12.0, 1.0), (11.0, 2.0)], asks=[(15.0, 1.0), (13.0, 1.0)]))
    sync.on_diff(diff(3, 3, bids=[(12.0, 0.0), (9.0, 4.0)], asks=[(13.0, 0.0), (14.0, 0.0)]))
    view = sync.book.view()
    assert view.bids == [(11.0, 2.0), (10.0, 1.0), (9.0, 4.0)]
    assert view.asks == [(15.0, 1.0)]
    assert view.update_id == 3
    assert sync.book.view() is view  # cached until the next change


def test_ladder_sides_order_best_first(ladder):
    bids, asks = ladder(True), ladder(False)
    levels = [(10.0, 1.0), (12.0, 2.0), (11.0, 3.0), (9.0, 0.0)]
    bids.load(levels)
    asks.load(levels)
    assert bids.top(None) == [(12.0, 2.0), (11.0, 3.0), (10.0, 1.0)]  # the qty 0 level is not loaded
    assert asks.top(None) == [(10.0, 1.0), (11.0, 3.0), (12.0, 2.0)]
    assert bids.best() == (12.0, 2.0) and asks.best() == (10.0, 1.0)
    assert bids.top(2) == [(12.0, 2.0), (11.0, 3.0)] and asks.top(0) == [] and asks.top(-1) == asks.top(2)
    assert len(bids) == 3
    bids.load([])
    assert bids.best() is None and bids.top(None) == [] and len(bids) == 0


def test_ladder_takes_lists_and_ints_as_levels(ladder):
    asks = ladder(False)
    asks.update([[5, 2], (4.0, 1)])
    assert asks.top(None) == [(4.0, 1.0), (5.0, 2.0)]
    with pytest.raises((TypeError, ValueError)):
        asks.update([(1.0,)])
    with pytest.raises(TypeError):
        asks.update([("x", 1.0)])


_price = st.integers(min_value=1, max_value=60).map(lambda t: t * 0.5)
_qty = st.sampled_from([0.0, -1.0, 0.25, 1.0, 3.5])


# The fixture only picks the class (no state), so sharing it across examples is fine.
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    snapshot=st.lists(st.tuples(_price, _qty), max_size=40),
    diffs=st.lists(st.lists(st.tuples(_price, _qty), max_size=12), max_size=25),
    descending=st.booleans(),
)
def test_ladder_matches_a_sorted_dict(ladder, snapshot, diffs, descending):
    side = ladder(descending)
    side.load(snapshot)
    truth = {p: q for p, q in snapshot if q > 0}
    for changes in diffs:
        side.update(changes)
        for p, q in changes:
            if q > 0:
                truth[p] = q
            else:
                truth.pop(p, None)
        expected = sorted(truth.items(), reverse=descending)
        assert side.top(None) == expected
        assert side.best() == (expected[0] if expected else None)
        assert side.top(3) == expected[:3] and len(side) == len(expected)
