"""Partial failures at initialize (REST fine and the stream refuses; the stream fine and REST
fails) and while running: the composite fails cleanly with a typed error or recovers, and
never runs half-connected without saying so."""

from __future__ import annotations

import asyncio

import pytest

from cexarb.model import Side
from cexarb.model.errors import ExchangeError, InitializationError, InvalidOrder
from tests.support import eventually

from .rig import BTC, MARKETS, QTY, SYMBOLS, Ledger, assert_truth, make_exchange, quiesce, quoted_price, trade


async def initialize_fails_cleanly(ex, sim, market) -> InitializationError:
    with pytest.raises(InitializationError) as failed:
        await asyncio.wait_for(ex.initialize(SYMBOLS), 30)
    assert ex.clients == []  # everything opened was closed
    await eventually(lambda: sim.stats(market)["ws_connections"] == 0, what="a stream was left open")
    assert ex.get_order_book(BTC) is None
    with pytest.raises(ExchangeError, match="not initialized"):
        await ex.place_limit_order(BTC, Side.BUY, QTY[BTC], 1000.0)
    return failed.value


@pytest.mark.parametrize("market", MARKETS)
async def test_initialize_with_one_side_down_fails_typed_then_recovers(sim, exchanges, figures, market):
    ex = make_exchange(sim, market)
    exchanges.append(ex)

    sim.faults.reject_ws_connections(market, True)  # REST fine, streams refused
    stream_down = await initialize_fails_cleanly(ex, sim, market)
    assert stream_down.step in ("public_ws", "private_ws")
    sim.faults.reject_ws_connections(market, False)

    sim.faults.fail_next_rest(market, 10_000, 503)  # streams fine, REST failing
    rest_down = await initialize_fails_cleanly(ex, sim, market)
    assert rest_down.step != "initialize" and rest_down.__cause__ is not None
    sim.faults.clear(market)

    ledger = Ledger()
    ex.add_private_listener(ledger)
    await asyncio.wait_for(ex.initialize(SYMBOLS), 30)
    await trade(ex, 1.0)
    await quiesce(ex, sim, market)
    await assert_truth(ex, sim, market, ledger)
    figures.update(
        market=market, stream_down_step=stream_down.step, rest_down_step=rest_down.step, mismatches=0
    )


def public_ws(ex) -> str:
    return ex.get_trading_stats()["connections"]["public_ws"]


@pytest.mark.parametrize("market", MARKETS)
async def test_running_with_one_side_down_says_so_and_recovers(sim, exchanges, length, figures, market):
    ex = make_exchange(sim, market)
    exchanges.append(ex)
    ledger = Ledger()
    ex.add_private_listener(ledger)
    await asyncio.wait_for(ex.initialize(SYMBOLS), 30)
    done = await trade(ex, 0.5)

    # REST down, then the stream drops: the reconnect sweep cannot run, and the state says so.
    sim.faults.fail_next_rest(market, 10_000, 503)
    sim.faults.drop_streams(market)
    assert await eventually(lambda: ex.get_trading_stats()["sweep_failures"] >= 1)
    assert not ex.private_state_fresh
    assert ex.get_trading_stats()["last_sweep_error"]
    with pytest.raises(ExchangeError):  # typed, and never a blind retry of the POST
        await ex.place_limit_order(BTC, Side.BUY, QTY[BTC], await quoted_price(ex, BTC, Side.BUY, -5))
    sim.faults.clear(market)
    assert await eventually(lambda: ex.private_state_fresh)
    done.add(await trade(ex, length.seconds / 2))

    # Streams refused, REST fine: polled over REST, books not served, then recovered.
    sim.faults.reject_ws_connections(market, True)
    sim.faults.drop_streams(market)
    # Each stream notices its drop on its own: wait for both before asserting on the book.
    assert await eventually(lambda: not ex.private_state_fresh and public_ws(ex) == "down")
    assert ex.get_order_book(BTC) is None  # never a stale book
    assert ex.get_trading_stats()["connections"]["private_ws"] == "down"
    # Trading goes on over REST; only Gate market buys, sized from the (now stale) book, are
    # refused before they reach the venue.
    activity = await trade(ex, length.seconds / 2, tolerate=(InvalidOrder,))
    assert all("no ask" in error for error in activity.errors)
    done.add(activity)
    assert await eventually(lambda: ex.get_trading_stats()["degraded_polls"] >= 1)
    sim.faults.reject_ws_connections(market, False)
    assert await eventually(lambda: ex.private_state_fresh and ex.is_book_synced(BTC))

    await quiesce(ex, sim, market)
    await assert_truth(ex, sim, market, ledger)
    stats = ex.get_trading_stats()
    truth = sim.truth(market, "k1")
    figures.update(
        market=market,
        sweep_failures=stats["sweep_failures"],
        degraded_polls=stats["degraded_polls"],
        orders=len(truth.orders),
        fills=len(truth.fills),
        # Limit orders not placed because their side of the book was empty (a sweep took it).
        one_sided_skips=done.one_sided,
        no_ask_refusals=done.no_ask,
        mismatches=0,
    )
