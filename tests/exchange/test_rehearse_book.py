"""rehearse_book: each venue's book-update frame path run once on a frame the book already
holds, against the simulator: the frame reaches the book (and is skipped there as old), and
nothing else moves: the book, the listeners, the stream's and the composite's counters."""

from __future__ import annotations

import asyncio

import pytest

from cexarb.exchange import book as book_module
from cexarb.exchange.handlers import PublicListener
from cexarb.exchange.registry import create_exchange
from cexarb.exchange.settings import CompositeSettings
from cexarb.model import Side, Symbol
from cexarb.sim import SimConfig, Simulator
from tests.support import eventually

BTC = Symbol("BTC", "USDT")
SETTINGS = CompositeSettings(book_retry_delay_s=0.02)


@pytest.fixture
async def sim():
    async with Simulator(
        SimConfig(flow=False, seed_books=False, venues=("gateio_spot", "mexc_spot"))
    ) as simulator:
        yield simulator


class Seen(PublicListener):
    def __init__(self) -> None:
        self.books: list[Symbol] = []

    def on_book(self, symbol: Symbol) -> None:
        self.books.append(symbol)


@pytest.mark.parametrize("name", ["gateio_spot", "mexc_spot"])
async def test_rehearsal_reaches_the_book_as_an_old_diff_and_changes_nothing(sim, name, monkeypatch):
    venue, market = name.split("_")
    ex = create_exchange(venue, market, sim.client_config("k1"), settings=SETTINGS)
    await asyncio.wait_for(ex.initialize([BTC]), 10)
    try:
        await sim.quote(name, BTC, Side.BUY, 100.0, 1.0)
        await sim.quote(name, BTC, Side.SELL, 101.0, 1.0)
        await eventually(
            lambda: ex.get_book(BTC) is not None and ex.get_book(BTC).best_ask == (101.0, 1.0), timeout=5
        )
        listener = Seen()
        ex.add_listener(listener)
        diffs: list[tuple[object, object]] = []
        on_diff = book_module.BookSync.on_diff

        def recording(self, diff):
            result = on_diff(self, diff)
            diffs.append((diff, result))
            return result

        monkeypatch.setattr(book_module.BookSync, "on_diff", recording)
        before = ex.get_order_book(BTC)
        update_id = before.update_id
        public, frames = ex.get_public_stats(), ex.transport_stats()["ws"]["public"].frames

        assert ex.rehearse_book(BTC) is True
        assert ex.rehearse_book(BTC) is True  # MEXC's frame comes from its cache the second time

        assert len(diffs) == 2
        for diff, result in diffs:
            assert diff.symbol == BTC and diff.last_id == update_id
            assert result is book_module.DiffResult.OLD
        after = ex.get_order_book(BTC)
        assert after is before  # not even rebuilt: the book did not change
        assert listener.books == []
        assert ex.get_public_stats() == public
        assert ex.transport_stats()["ws"]["public"].frames == frames
    finally:
        await ex.close()


async def test_no_rehearsal_while_the_book_is_not_synced(sim):
    ex = create_exchange("gateio", "spot", sim.client_config("k1"), settings=SETTINGS)
    await asyncio.wait_for(ex.initialize([BTC]), 10)
    try:
        ex._books[BTC].mark_stale()  # diffs buffer now: a rehearsal's would be kept
        assert ex.rehearse_book(BTC) is False
        assert ex._books[BTC].buffer == []
        assert ex.rehearse_book(Symbol("ETH", "USDT")) is False  # not streamed here
    finally:
        await ex.close()


def test_rehearsal_frames_are_read_by_the_compiled_readers():
    """Where they are built, the compiled readers take the rehearsal frames as they take the
    venues' own: the rehearsal warms the code a real update runs, not a fallback's."""
    from cexarb.venues.gateio import spot_ws as gate_spot_ws
    from cexarb.venues.gateio import ws_common
    from cexarb.venues.gateio.messages import SpotBookUpdateMsg
    from cexarb.venues.mexc import push_codec
    from cexarb.venues.mexc.spot_ws import MexcSpotPublicWs

    if ws_common._gatewire is not None:
        reader = ws_common._gatewire.compile(
            (ws_common.wire_spec(gate_spot_ws.BOOK_UPDATE, SpotBookUpdateMsg, single=True),)
        )
        index, msg = ws_common._wire_read(gate_spot_ws._REHEARSAL % ("BTC_USDT", 7, 7), reader)
        assert (index, msg.s, msg.U, msg.u, msg.full) == (0, "BTC_USDT", 7, 7, False)
    if push_codec.wire_decode is not None:
        ws = MexcSpotPublicWs.__new__(MexcSpotPublicWs)  # only what _depth_frame reads
        ws._interval = "100ms"
        ws._symbols = type("Names", (), {"to_venue": staticmethod(lambda symbol: "BTCUSDT")})()
        read = push_codec.wire_decode(ws._depth_frame(BTC, 7))
        assert read[:5] == (313, "BTCUSDT", "spot@public.aggre.depth.v3.api.pb@100ms@BTCUSDT", 7, 7)
