"""Gate futures asks for decimal sizes (X-Gate-Size-Decimal: 1) on every REST request and every
WS handshake, also when the composite hands the connectors a shared aiohttp session."""

import json

import aiohttp
import pytest
from aiohttp import WSMsgType, web
from aiohttp.test_utils import TestServer
from gate_e2e_rig import GATE_VENUES, Events

from cexarb.config import Secret, VenueConfig
from cexarb.model import Market, Symbol, Venue
from cexarb.venues.gateio import (
    GateioFuturesPrivateRest,
    GateioFuturesPrivateWs,
    GateioFuturesPublicRest,
    GateioFuturesPublicWs,
)

HEADER = "X-Gate-Size-Decimal"


class Recorder:
    """Answers any REST path with [] and acks WS subscriptions; keeps every request's headers."""

    def __init__(self) -> None:
        self.rest: list[tuple[str, str | None]] = []
        self.handshakes: list[str | None] = []

    async def rest_handler(self, request: web.Request) -> web.Response:
        self.rest.append((request.path, request.headers.get(HEADER)))
        return web.json_response([])

    async def ws_handler(self, request: web.Request) -> web.WebSocketResponse:
        self.handshakes.append(request.headers.get(HEADER))
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        async for msg in ws:
            if msg.type is not WSMsgType.TEXT:
                break
            frame = json.loads(msg.data)
            if frame.get("event") == "subscribe":  # private streams wait for their acks
                ack = {"time": frame["time"], "channel": frame["channel"], "event": "subscribe"}
                await ws.send_json({**ack, "result": {"status": "success"}})
        return ws


@pytest.fixture
async def recorder():
    rec = Recorder()
    app = web.Application()
    app.router.add_get("/v4/ws/usdt", rec.ws_handler)
    app.router.add_route("*", "/api/v4/{tail:.*}", rec.rest_handler)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    rec.config = VenueConfig(
        venue=Venue.GATEIO,
        market=Market.FUTURES,
        rest_url=str(server.make_url("/api/v4")),
        ws_url=str(server.make_url("/v4/ws/usdt")).replace("http", "ws", 1),
        api_key=Secret("k"),
        api_secret=Secret("s"),
        user_id=7,
    )
    yield rec
    await server.close()


async def test_every_request_and_handshake_asks_for_decimal_sizes_through_a_shared_session(recorder):
    cfg = recorder.config
    async with aiohttp.ClientSession() as shared:
        public = GateioFuturesPublicRest(cfg, session=shared)
        private = GateioFuturesPrivateRest(cfg, {}, session=shared)
        public_ws = GateioFuturesPublicWs(cfg, Events().public(), {}, session=shared)
        private_ws = GateioFuturesPrivateWs(cfg, Events().private(), {}, 7, session=shared)
        try:
            await public.get_symbols_info()
            await private.get_open_orders()
            await public_ws.start()
            await private_ws.start()
        finally:
            for client in (public, private, public_ws, private_ws):
                await client.close()
        assert not shared.closed  # the caller's session is the caller's to close
    assert recorder.rest == [
        ("/api/v4/futures/usdt/contracts", "1"),
        ("/api/v4/futures/usdt/orders", "1"),
    ]
    assert recorder.handshakes == ["1", "1"]


async def test_simulator_answers_a_shared_session_client_in_decimal_sizes():
    from cexarb.sim import SimConfig, Simulator

    async with Simulator(SimConfig(venues=GATE_VENUES, flow=False)) as sim:
        cfg = sim.client_config("k1").get("gateio", "futures")
        async with aiohttp.ClientSession() as shared:
            public = GateioFuturesPublicRest(cfg, session=shared)
            try:
                (contract,) = [
                    c for c in await public.public("/futures/usdt/contracts") if c["name"] == "BTC_USDT"
                ]
                info = await public.get_symbols_info()
                book = await public.get_order_book(Symbol("BTC", "USDT"), 5)
            finally:
                await public.close()
    assert isinstance(contract["order_size_min"], str)  # integers without the header
    assert info[Symbol("BTC", "USDT")].contract_size == 0.0001
    assert book.bids and book.asks
