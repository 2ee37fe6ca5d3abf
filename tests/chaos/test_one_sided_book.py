"""A swept side of the book is "no price" (None) for every consumer, never a price of 0.

Deterministic: no synthetic flow; the simulator's taker sweeps one whole side, which the
venues then show as a one-sided book (Gate "b":"", MEXC a zero price), as real venues do on
thin, new or halted markets.
"""

from __future__ import annotations

import asyncio
import contextlib

import pytest
from typer.testing import CliRunner

from cexarb.arb.config import ArbConfig
from cexarb.arb.engine import ArbEngine
from cexarb.cli import ops
from cexarb.model import Side
from cexarb.model.errors import InvalidOrder
from tests.support import eventually

from .rig import BTC, MARKETS, QTY, inside_price, make_exchange, quoted_price


class Tickers:
    """A public listener keeping every book ticker the composite forwarded."""

    def __init__(self) -> None:
        self.seen: list = []

    def on_book_ticker(self, ticker) -> None:
        self.seen.append(ticker)


async def sweep(sim, market: str, side: Side) -> None:
    """Take every level of one side: SELL empties the bids, BUY the asks."""
    book = sim.venue(market).snapshot(BTC, 10_000)
    levels = book.bids if side is Side.SELL else book.asks
    await sim.take(market, BTC, side, sum(q for _, q in levels))
    after = sim.venue(market).snapshot(BTC, 10_000)
    assert not (after.bids if side is Side.SELL else after.asks), "the sweep left levels"
    assert after.asks if side is Side.SELL else after.bids, "the other side must stay"


@pytest.fixture
async def venues(quiet_sim, exchanges):
    out = {}
    for market in MARKETS:
        ex = make_exchange(quiet_sim, market)
        exchanges.append(ex)
        out[market] = ex
    await asyncio.gather(*(ex.initialize([BTC]) for ex in out.values()))
    return out


async def test_a_swept_bid_is_no_price_for_every_consumer(quiet_sim, venues):
    sim = quiet_sim
    seen = {m: Tickers() for m in MARKETS}
    for market, ex in venues.items():
        ex.add_listener(seen[market])
    engine = ArbEngine(venues, ArbConfig(symbols=(BTC,)), trade=True)
    engine.attach()
    marks_before = engine.marks()
    assert {(m, BTC) for m in MARKETS} <= marks_before.keys()

    for market in MARKETS:
        await sweep(sim, market, Side.SELL)
    for market, ex in venues.items():
        # The stream forwards the one-sided update: the bid is gone, not shown at 0 or stale.
        await eventually(lambda ex=ex: ex.book_tickers[BTC].bid_price is None, what=market)
        ticker = ex.book_tickers[BTC]
        assert ticker.bid_quantity == 0.0 and ticker.ask_price is not None and ticker.mid is None
        assert any(t.bid_price is None for t in seen[market].seen), market
        assert await eventually(
            lambda ex=ex: ex.get_order_book(BTC) is not None and not ex.get_order_book(BTC).bids
        )
        assert ex.get_order_book(BTC).best_bid is None and ex.get_order_book(BTC).asks
        # REST says the same (MEXC writes a zero price, Gate an empty one).
        rest = await ex.public_rest.get_book_ticker(BTC)
        assert rest.bid_price is None and rest.ask_price == ticker.ask_price, market

    # Arb engine: marks keep the last two-sided mid, the views show no bid level, no trade.
    assert engine.marks() == marks_before
    for book in engine.venue_books(BTC):
        assert book.bids == [] and book.asks and all(p > 0 for p, _ in book.asks)
    assert engine.evaluate(BTC) is None
    assert engine.stats.best_spreads[BTC] == []  # no venue has a bid to sell into
    assert engine.pnl_snapshot().total == pytest.approx(0.0)

    # The chaos rig prices no BUY off the empty bid; a SELL still prices off the ask.
    for ex in venues.values():
        assert inside_price(ex, BTC, Side.BUY, 1) is None
        sell = inside_price(ex, BTC, Side.SELL, 1)
        assert sell is not None and sell > 0

    # The makers come back: the rig's waiting helper then prices a BUY again.
    for market in MARKETS:
        sim.flow.requote(sim.venue(market), BTC)
    for ex in venues.values():
        price = await quoted_price(ex, BTC, Side.BUY, -5)
        assert 0 < price < ex.book_tickers[BTC].ask_price


async def test_gate_market_buy_with_no_ask_is_refused_before_sending(quiet_sim, venues):
    sim = quiet_sim
    ex = venues["gateio_spot"]
    await sweep(sim, "gateio_spot", Side.BUY)
    assert await eventually(lambda: ex.book_tickers[BTC].ask_price is None)
    with pytest.raises(InvalidOrder, match="no ask"):
        await ex.place_market_order(BTC, Side.BUY, QTY[BTC])
    assert sim.truth("gateio_spot", "k1").orders == {}
    # A SELL needs no ask: it goes.
    order = await ex.place_market_order(BTC, Side.SELL, QTY[BTC])
    assert order.order_id in sim.truth("gateio_spot", "k1").orders


async def test_cli_book_and_market_buy_on_a_one_sided_book(quiet_sim, monkeypatch):
    sim = quiet_sim
    await sweep(sim, "gateio_spot", Side.BUY)

    @contextlib.asynccontextmanager
    async def sim_config(_path):
        yield sim.client_config("k1")

    monkeypatch.setattr(ops, "_config", sim_config)
    app = ops.typer.Typer()
    ops.register(app)

    def invoke(*args):
        return CliRunner().invoke(app, list(args))

    # The CLI runs its own event loop: in a thread, while this loop serves the simulator.
    shown = await asyncio.to_thread(invoke, "book", "BTC/USDT", "--venue", "gateio_spot", "--depth", "3")
    assert shown.exit_code == 0, shown.output
    rows = [[c.strip() for c in line.split("│")[1:-1]] for line in shown.output.splitlines()]
    rows = [r for r in rows if len(r) == 4]
    # Bids listed, the empty ask side shown empty (never as a level at 0).
    assert len(rows) == 3 and all(float(bid) > 0 and ask == ask_qty == "" for _, bid, ask, ask_qty in rows)
    bought = await asyncio.to_thread(invoke, "place", "BTC/USDT", "buy", "0.001", "--venue", "gateio_spot")
    assert bought.exit_code == 1 and "no ask" in bought.output
    assert sim.truth("gateio_spot", "k1").orders == {}
