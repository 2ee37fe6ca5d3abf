"""The Simulator harness over real sockets, with a tiny fake front-end (the real ones are tested elsewhere)."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest
from aiohttp import web

from cexarb.model import Market, OrderStatus, OrderType, Side, Symbol, Venue
from cexarb.sim.engine import RejectReason, SimReject
from cexarb.sim.harness import SimAccount, SimConfig, Simulator
from cexarb.sim.venue import SimVenue
from tests.support import eventually

BTC = Symbol("BTC", "USDT")


def fake_app(venue: SimVenue) -> web.Application:
    """Just enough protocol: REST through the fault middleware, one WS that streams book deltas."""

    async def time_handler(request: web.Request) -> web.StreamResponse:
        early = await venue.faults.before_rest(request)
        if early is not None:
            return early
        retry = venue.limits.hit(request.remote or "", "public")
        if retry is not None:
            return web.json_response({"error": "slow down"}, status=429)
        if request.method == "POST":
            order = venue.place_order("k1", BTC, Side.BUY, OrderType.LIMIT, 0.001, 50000.0)
            if venue.faults.take_timeout_after_accept():
                return await venue.faults.hold_then_drop(request)
            return web.json_response({"id": order.order_id})
        return web.json_response({"server_time": venue.clock.now_ms()})

    async def ws_handler(request: web.Request) -> web.StreamResponse:
        refused = venue.faults.reject_ws_handshake()
        if refused is not None:
            return refused
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        venue.faults.register_ws(ws)
        try:
            async for _ in ws:
                if not venue.faults.ws_stalled():
                    await ws.send_str("pong")
        finally:
            venue.faults.unregister_ws(ws)
        return ws

    app = web.Application()
    app.router.add_route("*", "/api/v4/time", time_handler)
    app.router.add_route("*", "/time", time_handler)
    app.router.add_get("/ws/v4/", ws_handler)
    app.router.add_get("/v4/ws/usdt", ws_handler)
    app.router.add_get("/ws", ws_handler)
    return app


FAKES = {k: fake_app for k in ("gateio_spot", "gateio_futures", "mexc_spot")}


def config(**kw) -> SimConfig:
    base = dict(
        seed=7,
        accounts=(
            SimAccount("k1", "s1", {"USDT": 100_000.0, "BTC": 2.0}),
            SimAccount("k2", "s2", {"USDT": 50.0}),
        ),
        flow=False,
        frontends=FAKES,
    )
    base.update(kw)
    return SimConfig(**base)


async def test_urls_client_config_and_truth() -> None:
    async with Simulator(config()) as sim:
        assert set(sim.urls) == {"gateio_spot", "gateio_futures", "mexc_spot"}
        assert sim.urls["gateio_spot"].rest.endswith("/api/v4")
        assert sim.urls["gateio_futures"].ws.endswith("/v4/ws/usdt")
        assert sim.urls["mexc_spot"].ws.startswith("ws://127.0.0.1:")
        cfg = sim.client_config("k1")
        gate = cfg.get(Venue.GATEIO, Market.FUTURES)
        assert gate.rest_url == sim.urls["gateio_futures"].rest
        assert gate.api_key.reveal() == "k1" and gate.api_secret.reveal() == "s1"
        assert gate.user_id == sim.venues["gateio_futures"].account("k1").user_id
        assert sim.client_config("k2").get(Venue.MEXC, Market.SPOT).user_id != gate.user_id
        async with aiohttp.ClientSession() as http:
            async with http.get(sim.urls["mexc_spot"].rest + "/time") as resp:
                assert resp.status == 200
        # books are seeded even without flow
        book = sim.venues["mexc_spot"].snapshot(BTC, 5)
        assert book.bids and book.asks
        truth = sim.truth("gateio_spot", "k1")
        assert truth.balances["USDT"].available == 100_000.0
        assert truth.orders == {} and truth.positions == {}
        assert sim.venues["gateio_futures"].balances("k1").keys() == {"USDT"}
        assert sim.stats("mexc_spot")["requests"] == 1


async def test_take_quote_set_mid_fill_a_user_order() -> None:
    async with Simulator(config()) as sim:
        venue = sim.venues["gateio_spot"]
        bid = venue.ticker(BTC).bid_price
        order = venue.place_order("k1", BTC, Side.BUY, OrderType.LIMIT, 0.01, round(bid + 0.1, 1))
        await sim.take("gateio_spot", BTC, Side.SELL, 0.01)
        assert venue.get_order("k1", BTC, order.order_id).status is OrderStatus.FILLED
        assert sim.truth("gateio_spot", "k1").fills[-1].order_id == order.order_id
        inside = round(venue.ticker(BTC).ask_price - 0.1, 1)
        sell = venue.place_order("k1", BTC, Side.SELL, OrderType.LIMIT, 0.01, inside)
        await sim.quote("gateio_spot", BTC, Side.BUY, inside + 0.04, 0.01)  # rounded down to the tick
        assert venue.get_order("k1", BTC, sell.order_id).status is OrderStatus.FILLED
        # moving the mid requotes the ladder: a resting sell below the new mid is taken
        sell2 = venue.place_order("k1", BTC, Side.SELL, OrderType.LIMIT, 0.01, 62000.0)
        sim.set_mid("gateio_spot", BTC, 63000.0)
        assert venue.get_order("k1", BTC, sell2.order_id).status is OrderStatus.FILLED
        assert venue.ticker(BTC).bid_price > 62000.0
        # futures: the synthetic taker builds the user a position
        fut = sim.venues["gateio_futures"]
        ask = fut.ticker(BTC).ask_price
        fut.place_order("k1", BTC, Side.SELL, OrderType.LIMIT, 0.01, round(ask - 0.1, 1))
        await sim.take("gateio_futures", BTC, Side.BUY, 0.01)
        assert sim.truth("gateio_futures", "k1").positions[BTC].size == pytest.approx(-0.01)


async def test_rest_faults() -> None:
    async with Simulator(config()) as sim:
        url = sim.urls["gateio_spot"].rest + "/time"
        async with aiohttp.ClientSession() as http:
            sim.faults.fail_next_rest("gateio_spot", 2, 502, b'{"label":"SERVER_ERROR"}', retry_after=1.5)
            for _ in range(2):
                async with http.get(url) as resp:
                    assert resp.status == 502
                    assert resp.headers["Retry-After"] == "1.5"
                    assert await resp.read() == b'{"label":"SERVER_ERROR"}'
            async with http.get(url) as resp:
                assert resp.status == 200
            sim.faults.delay_next_rest("gateio_spot", 1, 0.05)
            async with http.get(url) as resp:
                assert resp.status == 200
            assert sim.stats("gateio_spot")["delayed_by_fault"] == 1
            sim.faults.skew_clock("gateio_spot", -120_000)
            async with http.get(url) as resp:
                server = (await resp.json())["server_time"]
            assert server < sim.venues["mexc_spot"].clock.now_ms() - 100_000
            sim.faults.timeout_after_accept("gateio_spot", 1)
            sim.venues["gateio_spot"].faults.timeout_hold_s = 0.05
            with pytest.raises(aiohttp.ClientError):
                async with http.post(url) as resp:
                    await resp.read()
            # the order was placed although the reply never came
            assert len(sim.truth("gateio_spot", "k1").orders) == 1


async def test_rate_limit_429_counted() -> None:
    async with Simulator(config()) as sim:
        venue = sim.venues["gateio_spot"]
        capacity = venue.limits.pools["public"].capacity
        statuses = []
        async with aiohttp.ClientSession() as http:
            for _ in range(capacity + 3):
                async with http.get(sim.urls["gateio_spot"].rest + "/time") as resp:
                    statuses.append(resp.status)
        assert statuses.count(429) == 3
        assert sim.stats("gateio_spot")["rate_limited_429"] == 3


async def test_ws_faults() -> None:
    async with Simulator(config()) as sim:
        async with aiohttp.ClientSession() as http:
            ws = await http.ws_connect(sim.urls["mexc_spot"].ws)
            await ws.send_str("ping")
            assert (await ws.receive(timeout=2)).data == "pong"
            sim.faults.inject_ws_frame("mexc_spot", b"\x00garbage")
            assert (await ws.receive(timeout=2)).data == b"\x00garbage"
            sim.faults.stall_streams("mexc_spot", 0.3)
            await ws.send_str("ping")
            with pytest.raises(asyncio.TimeoutError):
                await ws.receive(timeout=0.1)
            assert sim.stats("mexc_spot")["ws_connections"] == 1
            sim.faults.drop_streams()
            msg = await ws.receive(timeout=2)
            assert msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
            await ws.close()
            sim.faults.reject_ws_connections("mexc_spot")
            with pytest.raises(aiohttp.WSServerHandshakeError) as exc:
                await http.ws_connect(sim.urls["mexc_spot"].ws)
            assert exc.value.status == 503
            sim.faults.reject_ws_connections("mexc_spot", False)
            ws = await http.ws_connect(sim.urls["mexc_spot"].ws)
            await ws.close()


async def test_pause_matching_and_flow_runs() -> None:
    async with Simulator(config(flow=True, flow_interval_s=0.01)) as sim:
        venue = sim.venues["gateio_spot"]
        start = venue.book_id(BTC)
        await eventually(lambda: venue.book_id(BTC) > start + 3, what="the flow moving the book")
        sim.faults.pause_matching("gateio_spot")
        with pytest.raises(SimReject) as exc:
            await sim.take("gateio_spot", BTC, Side.BUY, 0.01)
        assert exc.value.reason is RejectReason.MATCHING_PAUSED
        paused_at = venue.book_id(BTC)
        await asyncio.sleep(0.05)
        assert venue.book_id(BTC) == paused_at  # the flow respects the pause


async def test_missing_frontend_is_skipped(caplog) -> None:
    async with Simulator(config(frontends={}, venues=("gateio_spot",), admin=False)) as sim:
        import importlib.util

        if importlib.util.find_spec("cexarb.sim.gateio_spot") is None:
            assert sim.urls == {}
            assert "not available" in caplog.text
        assert "gateio_spot" in sim.venues
