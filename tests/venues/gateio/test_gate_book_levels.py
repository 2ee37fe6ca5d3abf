"""Gate spot book levels off the compiled reader (`_gatewire.Levels`, which the compiled ladder
applies from its buffer of doubles, no tuple per level) against the msgspec path (lists of
float tuples): the same frames must give equal diffs, the same handler calls, sync results
and books, on the compiled ladder and on the pure-Python one."""

from __future__ import annotations

import random
from array import array

import msgspec
import pytest
from gate_e2e_rig import Events
from hypothesis import given, settings
from hypothesis import strategies as st

from cexarb.config import Secret, VenueConfig
from cexarb.exchange import book as book_module
from cexarb.exchange.book import BookSync, PyLadder
from cexarb.model import Market, OrderBook, Symbol, Venue
from cexarb.venues.gateio import GateioSpotPublicWs, ws_common

try:
    from cexarb.exchange._ladder import Ladder as CLadder
except ImportError:  # the extension was not built here: its cases skip
    CLadder = None

pytestmark = pytest.mark.skipif(ws_common._gatewire is None, reason="C frame reader extension not built")

BTC = Symbol("BTC", "USDT")
START = 1_000
LADDERS = [
    pytest.param(PyLadder, id="python"),
    pytest.param(
        CLadder, id="c", marks=pytest.mark.skipif(CLadder is None, reason="C ladder extension not built")
    ),
]


def cfg() -> VenueConfig:
    return VenueConfig(
        venue=Venue.GATEIO,
        market=Market.SPOT,
        rest_url="http://127.0.0.1:1/api/v4",
        ws_url="ws://127.0.0.1:1/ws/v4/",
        api_key=Secret("k"),
        api_secret=Secret("s"),
    )


class Side:
    """One connector path feeding its own synced book, as the composite does."""

    def __init__(self, wire: bool) -> None:
        self.events = Events()
        self.ws = GateioSpotPublicWs(cfg(), self.events.public(), {})
        if not wire:
            self.ws._ws.wire_reader = None  # every frame through msgspec
        self.sync = BookSync(BTC)
        self.results: list[object] = []
        self.seen = 0

    def feed(self, frame: str) -> None:
        self.ws._ws.on_message(frame)
        for kind, item in self.events.items[self.seen :]:
            if kind == "diff":
                self.results.append(self.sync.on_diff(item))
            elif kind == "snapshot":
                self.results.append(self.sync.on_snapshot(item))
        self.seen = len(self.events.items)

    def state(self) -> tuple:
        book = self.sync.book
        view = book.view()
        return (self.sync.synced, book.update_id, view.bids, view.asks, len(self.sync.buffer), self.sync.gaps)


# ---- frames ---------------------------------------------------------------------------------------

_price = st.integers(1, 40).map(lambda i: f"{100 + i / 4:.2f}")
_qty = st.one_of(
    st.sampled_from(["0", "0.000", "-0", "-0.0", "-1.5", "123456789012345678901.5", "0.1"]),
    st.decimals(0, 1000, places=4, allow_nan=False).map(lambda d: f"{d:f}"),
)


def _token(text: str):
    return st.sampled_from([text, msgspec.Raw(text.encode())])  # quoted or a bare JSON number


_level = st.tuples(_price, _qty).flatmap(lambda pq: st.tuples(_token(pq[0]), _token(pq[1])))
_levels = st.lists(_level, max_size=10)
# how a frame's ids stand to the stream so far: chained, overlapping, old or after a gap
_step = st.sampled_from(["next", "next", "next", "overlap", "old", "gap"])


def _frames(steps: list[tuple[str, list, list, bool]]) -> list[str]:
    out, last = [], START
    for step, bids, asks, full in steps:
        first, new_last = {
            "next": (last + 1, last + 3),
            "overlap": (last - 1, last + 2),
            "old": (last - 5, last - 1),
            "gap": (last + 3, last + 5),
        }[step]
        last = max(last, new_last)
        result = {"t": 1, "e": "depthUpdate", "E": 1, "s": "BTC_USDT", "U": first, "u": new_last}
        result.update(b=bids, a=asks, full=full)
        envelope = {"time_ms": 1, "channel": "spot.order_book_update", "event": "update", "result": result}
        out.append(msgspec.json.encode(envelope).decode())
    return out


def _run(ladder, frames: list[str], snapshot: OrderBook, snapshot_at: int) -> Side:
    """Both paths through the same frames (the snapshot loaded after `snapshot_at` of them),
    compared after every step; returns the wire side."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(book_module, "Ladder", ladder)
        fast, slow = Side(wire=True), Side(wire=False)
    for i in range(len(frames) + 1):
        if i == snapshot_at:
            for side in (fast, slow):
                side.results.append(side.sync.on_snapshot(snapshot))
        if i < len(frames):
            fast.feed(frames[i])
            slow.feed(frames[i])
        assert fast.events.items == slow.events.items, frames[: i + 1]
        assert fast.results == slow.results
        assert fast.state() == slow.state(), frames[: i + 1]
    assert fast.events.of("error") == []
    # the wire side really took the new path: every diff it handed on carries Levels
    assert all(type(d.bids) is ws_common._gatewire.Levels for d in fast.events.of("diff"))
    return fast


_snapshot_side = st.lists(st.tuples(_price.map(float), _qty.map(float)), max_size=10)


@pytest.mark.parametrize("ladder", LADDERS)
@settings(max_examples=150, deadline=None)
@given(
    steps=st.lists(st.tuples(_step, _levels, _levels), max_size=15),
    full_at=st.integers(0, 20),
    snapshot_sides=st.tuples(_snapshot_side, _snapshot_side),
    snapshot_id=st.integers(START - 2, START + 6),
    snapshot_at=st.integers(0, 15),
)
def test_reader_levels_and_msgspec_lists_leave_the_same_books(
    ladder, steps, full_at, snapshot_sides, snapshot_id, snapshot_at
):
    # now and then (full_at within the frames) the venue resends the whole book
    frames = _frames([(step, bids, asks, i == full_at) for i, (step, bids, asks) in enumerate(steps)])
    snapshot = OrderBook(BTC, *snapshot_sides, update_id=snapshot_id)
    _run(ladder, frames, snapshot, min(snapshot_at, len(frames)))


@pytest.mark.parametrize("ladder", LADDERS)
def test_frames_of_more_levels_than_the_reader_holds_on_its_stack(ladder):
    rng = random.Random(7)

    def side(n: int) -> list:
        return [[f"{100 + rng.randrange(400) / 4:.2f}", rng.choice(["0", "1.25", "0.5"])] for _ in range(n)]

    sizes = (127, 128, 129, 256, 257, 600, 0, 1)
    frames = _frames([("next", side(n), side(n // 3), False) for n in sizes])
    fast = _run(ladder, frames, OrderBook(BTC, [(99.0, 1.0)], [(200.0, 1.0)], update_id=START), 0)
    assert [len(d.bids) for d in fast.events.of("diff")] == list(sizes)


def _pairs(levels: list[tuple[float, float]]) -> memoryview:
    """The levels as an (n, 2) buffer of doubles (n >= 1: a view cannot have a zero in its shape)."""
    return memoryview(array("d", [x for pair in levels for x in pair])).cast("B").cast("d", [len(levels), 2])


_float_level = st.tuples(
    st.integers(1, 60).map(lambda t: t * 0.5), st.sampled_from([0.0, -0.0, -1.0, 0.25, 3.5])
)


@pytest.mark.skipif(CLadder is None, reason="C ladder extension not built")
@settings(max_examples=150, deadline=None)
@given(
    snapshot=st.lists(_float_level, min_size=1, max_size=40),
    diffs=st.lists(st.lists(_float_level, min_size=1, max_size=12), max_size=25),
    descending=st.booleans(),
)
def test_c_ladder_applies_a_buffer_of_pairs_as_the_list_of_them(snapshot, diffs, descending):
    by_list, by_buffer = CLadder(descending), CLadder(descending)
    by_list.load(snapshot)
    by_buffer.load(_pairs(snapshot))
    assert by_buffer.top(None) == by_list.top(None)
    for changes in diffs:
        by_list.update(changes)
        by_buffer.update(_pairs(changes))
        assert by_buffer.top(None) == by_list.top(None)


@pytest.mark.skipif(CLadder is None, reason="C ladder extension not built")
def test_c_ladder_reads_no_other_buffer_as_pairs():
    asks = CLadder(False)
    three_wide = memoryview(array("d", [1.0, 2.0, 3.0, 4.0, 5.0, 6.0])).cast("B").cast("d", [2, 3])
    for other in (
        array("d", [1.0, 2.0]),
        b"ab",
        three_wide,
        _pairs([(1.0, 2.0), (3.0, 4.0), (5.0, 6.0), (7.0, 8.0)])[::2],
    ):
        with pytest.raises((TypeError, NotImplementedError)):  # iterated as before: not pairs
            asks.update(other)
    assert asks.top(None) == []
