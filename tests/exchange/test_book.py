"""L2 book and its sync against a snapshot using BookDiff ids."""

from __future__ import annotations

from cexarb.exchange.book import BookSync, DiffResult
from cexarb.model import BookDiff, OrderBook, Symbol

BTC = Symbol("BTC", "USDT")


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
    assert book.bids.levels[-100.0] == 1.0  # the diff older than the snapshot was skipped


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
