"""The MEXC front-end as the Simulator harness serves it, with the synthetic flow running."""

from __future__ import annotations

import pytest
from mexc_sim_helpers import MexcClient, barrier, subscribe, ws_url

from cexarb.model import Side, Symbol
from cexarb.sim.harness import SimAccount, SimConfig, Simulator
from tests.support import eventually

BTC = Symbol("BTC", "USDT")
DEPTH = "spot@public.aggre.depth.v3.api.pb@10ms@BTCUSDT"


@pytest.fixture
async def sim():
    config = SimConfig(
        symbols=("BTC/USDT",),
        accounts=(SimAccount("k1", "s1", {"USDT": 100_000.0, "BTC": 2.0}),),
        venues=("mexc_spot",),
        flow=True,
        flow_interval_s=0.01,
        admin=False,
    )
    async with Simulator(config) as simulator:
        yield simulator


async def test_depth_stays_in_sync_under_flow(sim, session):
    urls = sim.urls["mexc_spot"]
    client = MexcClient(session, urls.rest, "k1", "s1")
    async with session.ws_connect(urls.ws) as ws:
        assert (await subscribe(ws, DEPTH))["msg"] == DEPTH
        venue = sim.venue("mexc_spot")
        subscribed_at = venue.book_id(BTC)
        # Diffs both before the snapshot (to be skipped) and after it (to be applied).
        await eventually(lambda: venue.book_id(BTC) > subscribed_at, what="the flow moving the book")
        status, snapshot = await client.public("/api/v3/depth", {"symbol": "BTCUSDT", "limit": 5000})
        bids = {float(p): float(q) for p, q in snapshot["bids"]}
        asks = {float(p): float(q) for p, q in snapshot["asks"]}
        await eventually(
            lambda: venue.book_id(BTC) > snapshot["lastUpdateId"], what="the flow moving the book again"
        )
        # The flow stops first: otherwise it may move the book after the PONG is queued and
        # before the test reads it, and the book is one diff ahead of the frames read.
        sim.faults.pause_matching("mexc_spot")
        frames = [f for f in await barrier(ws) if not isinstance(f, dict)]
        book = venue.snapshot(BTC, 5000)
    version = snapshot["lastUpdateId"]
    applied = 0
    for frame in frames:
        body = frame.publicAggreDepths
        if int(body.toVersion) <= version:
            continue
        assert int(body.fromVersion) <= version + 1, "gap in the depth stream"
        version = int(body.toVersion)
        applied += 1
        for side, levels in ((body.bids, bids), (body.asks, asks)):
            for item in side:
                if float(item.quantity) == 0:
                    levels.pop(float(item.price), None)
                else:
                    levels[float(item.price)] = float(item.quantity)
    assert applied > 0
    assert version == book.update_id
    assert sorted(bids.items(), reverse=True) == book.bids and sorted(asks.items()) == book.asks


async def test_private_fill_from_a_synthetic_taker(sim, session):
    urls = sim.urls["mexc_spot"]
    client = MexcClient(session, urls.rest, "k1", "s1")
    status, body = await client.signed("POST", "/api/v3/userDataStream")
    async with session.ws_connect(ws_url(urls.rest, body["listenKey"])) as ws:
        await subscribe(ws, "spot@private.deals.v3.api.pb")
        ask = sim.venue("mexc_spot").ticker(BTC).ask_price
        params = {"symbol": "BTCUSDT", "side": "SELL", "type": "LIMIT", "quantity": "0.01", "price": str(ask)}
        status, ack = await client.signed("POST", "/api/v3/order", params)
        assert status == 200, ack
        # our ask is at the top of the book; a synthetic taker lifts it
        await sim.take("mexc_spot", BTC, Side.BUY, 5.0)
        deals = []
        for _ in range(20):
            frames = await barrier(ws)
            deals += [
                f for f in frames if not isinstance(f, dict) and f.privateDeals.orderId == ack["orderId"]
            ]
            if deals:
                break
    assert sum(float(f.privateDeals.quantity) for f in deals) == pytest.approx(0.01)
    truth = sim.truth("mexc_spot", "k1")
    assert truth.orders[ack["orderId"]].filled_quantity == pytest.approx(0.01)
