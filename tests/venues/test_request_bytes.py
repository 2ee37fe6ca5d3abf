"""The exact bytes of signed order requests (place, query, cancel) on both venues, as written
to the socket: a change to how requests are built (HttpClient, signers, WirePool) must leave
every byte alone. A raw TCP server records each request whole, head and body."""

from __future__ import annotations

import asyncio

import pytest

from cexarb.config import Market, Secret, Venue, VenueConfig
from cexarb.model import OrderRequest, OrderType, Side, Symbol, SymbolInfo, TimeInForce
from cexarb.model.errors import ExchangeError
from cexarb.transport.clock import Clock
from cexarb.venues.gateio import GateioFuturesPrivateRest, GateioSpotPrivateRest
from cexarb.venues.mexc import MexcSpotPrivateRest

BTC = Symbol("BTC", "USDT")
FROZEN_MS = 1_700_000_000_123
MEXC_ERROR = b'{"code":-2011,"msg":"Unknown order sent."}'
GATE_ERROR = b'{"label":"ORDER_NOT_FOUND","message":"Order not found"}'


def _reply(status: str, body: bytes) -> bytes:
    head = f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    return head.encode() + body


class Recorder:
    """Answers every request with one canned reply (by path prefix) and keeps its bytes."""

    def __init__(self, replies: dict[str, bytes], default: bytes) -> None:
        self.replies = replies
        self.default = default
        self.requests: list[bytes] = []
        self.host = ""
        self.server: asyncio.Server | None = None

    async def start(self) -> str:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.host = f"127.0.0.1:{self.server.sockets[0].getsockname()[1]}"
        return f"http://{self.host}"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":")[1])
                # The port changes from run to run; everything else must not.
                request = head.replace(self.host.encode(), b"HOST", 1)
                self.requests.append(request + await reader.readexactly(length))
                target = head.split(b" ", 2)[1].decode()
                reply = next((r for p, r in self.replies.items() if target.startswith(p)), self.default)
                writer.write(reply)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        writer.close()

    async def close(self) -> None:
        self.server.close()
        await self.server.wait_closed()


@pytest.fixture
async def recorder():
    made: list[Recorder] = []

    async def start(replies: dict[str, bytes], default: bytes) -> tuple[Recorder, str]:
        rec = Recorder(replies, default)
        made.append(rec)
        return rec, await rec.start()

    yield start
    for rec in made:
        await rec.close()


def _frozen_clock() -> Clock:
    return Clock(wall_ms=lambda: float(FROZEN_MS))


def _config(venue: Venue, market: Market, url: str) -> VenueConfig:
    return VenueConfig(
        venue=venue,
        market=market,
        rest_url=url,
        ws_url="ws://127.0.0.1:1/ws",
        api_key=Secret("test-key"),
        api_secret=Secret("test-secret"),
        recv_window_ms=5000,
        user_id=7,
    )


def _limit(cid: str, tif: TimeInForce = TimeInForce.IOC) -> OrderRequest:
    return OrderRequest(BTC, Side.BUY, OrderType.LIMIT, 0.0015, 60012.5, tif, cid)


MEXC_EXPECTED = [
    (
        b"POST /api/v3/order?symbol=BTCUSDT&side=BUY&type=IMMEDIATE_OR_CANCEL&quantity=0.0015&price=60012.5&newClientOrderId=cxplace1&timestamp=1700000000123&recvWindow=5000&signature=ce4cb70abbc2d9512d15b5aba883935d12c57acd4b4076e34371d69d7b55086b HTTP/1.1\r\n"
        b"Host: HOST\r\n"
        b"Content-Type: application/json\r\n"
        b"X-MEXC-APIKEY: test-key\r\n"
        b"User-Agent: cexarb\r\n"
        b"Content-Length: 0\r\n\r\n"
    ),
    (
        b"POST /api/v3/order?symbol=BTCUSDT&side=SELL&type=MARKET&quantity=0.002&newClientOrderId=cxmkt2&timestamp=1700000000123&recvWindow=5000&signature=acbfef14a2f8461a2c08c465040a043d2d51c4e29ad870451e937bff4a85992b HTTP/1.1\r\n"
        b"Host: HOST\r\n"
        b"Content-Type: application/json\r\n"
        b"X-MEXC-APIKEY: test-key\r\n"
        b"User-Agent: cexarb\r\n"
        b"Content-Length: 0\r\n\r\n"
    ),
    (
        b"GET /api/v3/order?symbol=BTCUSDT&orderId=C02__123&timestamp=1700000000123&recvWindow=5000&signature=3b3c2d326d772cedaa7dc17870caa0660b271ca428e33d40a22e8d6557b0e085 HTTP/1.1\r\n"
        b"Host: HOST\r\n"
        b"X-MEXC-APIKEY: test-key\r\n"
        b"User-Agent: cexarb\r\n\r\n"
    ),
    (
        b"DELETE /api/v3/order?symbol=BTCUSDT&origClientOrderId=cxplace1&timestamp=1700000000123&recvWindow=5000&signature=69e3e274eb71042c76534f86cd0f80feb3b417781c4cc18e1c1f55e2eb7d8e78 HTTP/1.1\r\n"
        b"Host: HOST\r\n"
        b"Content-Type: application/json\r\n"
        b"X-MEXC-APIKEY: test-key\r\n"
        b"User-Agent: cexarb\r\n\r\n"
    ),
]


async def test_mexc_spot_order_requests_are_byte_for_byte_unchanged(recorder):
    rec, url = await recorder({}, _reply("400 Bad Request", MEXC_ERROR))
    infos = {BTC: SymbolInfo(BTC, "BTCUSDT", tick_size=0.01, step_size=0.000001)}
    rest = MexcSpotPrivateRest(_config(Venue.MEXC, Market.SPOT, url), infos, clock=_frozen_clock())
    try:
        with pytest.raises(ExchangeError):
            await rest.place_order(_limit("cxplace1"))
        with pytest.raises(ExchangeError):
            await rest.place_order(
                OrderRequest(BTC, Side.SELL, OrderType.MARKET, 0.002, None, TimeInForce.IOC, "cxmkt2")
            )
        with pytest.raises(ExchangeError):
            await rest.get_order(BTC, order_id="C02__123")
        with pytest.raises(ExchangeError):
            await rest.cancel_order(BTC, client_order_id="cxplace1")
    finally:
        await rest.close()
    assert rec.requests == MEXC_EXPECTED


GATE_SPOT_EXPECTED = [
    (
        b"GET /api/v4/account/detail HTTP/1.1\r\n"
        b"Host: HOST\r\n"
        b"KEY: test-key\r\n"
        b"Timestamp: 1700000000\r\n"
        b"SIGN: 2db0bf61ab5eb1c7d4db44a0118a7ffccd79233c7897a97788524cf93d34792a65c00fb6b678db18eccd9611380dabbfb5e20f888c9b14ebe97e937b83883975\r\n"
        b"User-Agent: cexarb\r\n\r\n"
    ),
    (
        b"POST /api/v4/spot/orders HTTP/1.1\r\n"
        b"Host: HOST\r\n"
        b"Content-Type: application/json\r\n"
        b"KEY: test-key\r\n"
        b"Timestamp: 1700000000\r\n"
        b"SIGN: 888cf6937ebcdf80fca1e70538100eaa1c1c6fee8bf17617f355d0c78c3e0c969e87a1b82c57592345c22395264a2deb7db7cdce273dbd3a7014b405e39f7034\r\n"
        b"User-Agent: cexarb\r\n"
        b'Content-Length: 149\r\n\r\n{"text":"t-place1","currency_pair":"BTC_USDT","type":"limit","account":"spot","side":"buy","amount":"0.0015","price":"60012.5","time_in_force":"ioc"}'
    ),
    (
        b"POST /api/v4/spot/orders HTTP/1.1\r\n"
        b"Host: HOST\r\n"
        b"Content-Type: application/json\r\n"
        b"KEY: test-key\r\n"
        b"Timestamp: 1700000000\r\n"
        b"SIGN: c6dda38ba3a6dd16c73d647ed1bbb54a055a33b999e555836225a052a21b4faeec27ed3093d385700d584cebdc97496a6eae3d661010c95afd6d89b295042f22\r\n"
        b"User-Agent: cexarb\r\n"
        b'Content-Length: 127\r\n\r\n{"text":"t-mkt2","currency_pair":"BTC_USDT","type":"market","account":"spot","side":"buy","time_in_force":"ioc","amount":"120"}'
    ),
    (
        b"GET /api/v4/spot/orders/123456?currency_pair=BTC_USDT&account=spot HTTP/1.1\r\n"
        b"Host: HOST\r\n"
        b"KEY: test-key\r\n"
        b"Timestamp: 1700000000\r\n"
        b"SIGN: 1e32cdfafa8a0adddb7afdc037ddf0f882bd133309b9e3fa27f465984647d13195d7e4304b1c42c2bd1896d1b912b9af1ea98a8f63e1194a95551b1379a71d81\r\n"
        b"User-Agent: cexarb\r\n\r\n"
    ),
    (
        b"DELETE /api/v4/spot/orders/123456?currency_pair=BTC_USDT&account=spot HTTP/1.1\r\n"
        b"Host: HOST\r\n"
        b"Content-Type: application/json\r\n"
        b"KEY: test-key\r\n"
        b"Timestamp: 1700000000\r\n"
        b"SIGN: 7d888be330cd68a9dcc0f583ccfeef4e44adeee7739a382cac1f1a6c1d17ee8e773f9bc4792fce8a472e03b01ff6ac78f915b7f04a72013abd8d071931e98443\r\n"
        b"User-Agent: cexarb\r\n\r\n"
    ),
]


async def _gate_spot_rest(recorder) -> tuple[Recorder, GateioSpotPrivateRest]:
    """A Gate spot connector on a recorder (a spot-mode account), its clock frozen."""
    detail = _reply("200 OK", b'{"key":{"mode":1}}')
    rec, url = await recorder({"/api/v4/account/detail": detail}, _reply("404 Not Found", GATE_ERROR))
    infos = {BTC: SymbolInfo(BTC, "BTC_USDT", tick_size=0.1, step_size=0.0001, quote_precision=2)}
    rest = GateioSpotPrivateRest(_config(Venue.GATEIO, Market.SPOT, url + "/api/v4"), infos)
    rest.clock = _frozen_clock()
    return rec, rest


async def test_gate_spot_order_requests_are_byte_for_byte_unchanged(recorder):
    rec, rest = await _gate_spot_rest(recorder)
    try:
        with pytest.raises(ExchangeError):
            await rest.place_order(_limit("t-place1"))
        with pytest.raises(ExchangeError):
            await rest.place_order(
                OrderRequest(BTC, Side.BUY, OrderType.MARKET, 0.002, 60000.0, TimeInForce.IOC, "t-mkt2")
            )
        with pytest.raises(ExchangeError):
            await rest.order_by_ref(BTC, "123456")
        with pytest.raises(ExchangeError):
            await rest.cancel_order(BTC, order_id="123456")
    finally:
        await rest.close()
    assert rec.requests == GATE_SPOT_EXPECTED


GATE_FUTURES_EXPECTED = [
    (
        b"GET /api/v4/futures/usdt/orders/t-fut1 HTTP/1.1\r\n"
        b"Host: HOST\r\n"
        b"X-Gate-Size-Decimal: 1\r\n"
        b"KEY: test-key\r\n"
        b"Timestamp: 1700000000\r\n"
        b"SIGN: 89c81848c2b69d373733374370ba0346ac842fe4d38c86dc6259e531b8fffee64777945a4fbc3fd7055efd6215b047f64f97cdceaa9fe9cd1044f95ce9505e2a\r\n"
        b"User-Agent: cexarb\r\n\r\n"
    ),
    (
        b"DELETE /api/v4/futures/usdt/orders/987 HTTP/1.1\r\n"
        b"Host: HOST\r\n"
        b"X-Gate-Size-Decimal: 1\r\n"
        b"Content-Type: application/json\r\n"
        b"KEY: test-key\r\n"
        b"Timestamp: 1700000000\r\n"
        b"SIGN: 6bddc2c5498c991e701d721f950ef0cbb739c7a23efc3fefcab731629c4d5748f74ae4e783372ac4b615617020fac5a91dc88d2358798a25038ac21a36a61bb8\r\n"
        b"User-Agent: cexarb\r\n\r\n"
    ),
]


async def test_gate_futures_order_requests_are_byte_for_byte_unchanged(recorder):
    rec, url = await recorder({}, _reply("404 Not Found", GATE_ERROR))
    rest = GateioFuturesPrivateRest(_config(Venue.GATEIO, Market.FUTURES, url + "/api/v4"))
    rest.clock = _frozen_clock()
    try:
        with pytest.raises(ExchangeError):
            await rest.order_by_ref(BTC, "t-fut1")
        with pytest.raises(ExchangeError):
            await rest.cancel_order(BTC, order_id="987")
    finally:
        await rest.close()
    assert rec.requests == GATE_FUTURES_EXPECTED


# -- the order lane: place_order_now writes, and order_bytes states, the same bytes -------------
# (on a keep-alive connection a first request opened; the clock frozen as above)


def _as_recorded(rec: Recorder, written: bytes) -> bytes:
    """Bytes the client built, with the port as the recorder writes it down."""
    return written.replace(rec.host.encode(), b"HOST", 1)


async def _lane(rest, requests: list[OrderRequest]) -> None:
    for request in requests:
        placing = rest.place_order_now(request)
        assert placing is not None, "an idle connection and room in the budget: the lane writes"
        with pytest.raises(ExchangeError):
            await placing


MEXC_PLACES = [
    _limit("cxplace1"),
    OrderRequest(BTC, Side.SELL, OrderType.MARKET, 0.002, None, TimeInForce.IOC, "cxmkt2"),
]


async def test_mexc_spot_lane_and_dry_bytes_are_the_pinned_place_bytes(recorder):
    rec, url = await recorder({}, _reply("400 Bad Request", MEXC_ERROR))
    infos = {BTC: SymbolInfo(BTC, "BTCUSDT", tick_size=0.01, step_size=0.000001)}
    rest = MexcSpotPrivateRest(_config(Venue.MEXC, Market.SPOT, url), infos, clock=_frozen_clock())
    try:
        with pytest.raises(ExchangeError):
            await rest.get_order(BTC, order_id="C02__123")  # opens the connection
        dry = [_as_recorded(rec, rest.order_bytes(request)) for request in MEXC_PLACES]
        await _lane(rest, MEXC_PLACES)
    finally:
        await rest.close()
    assert dry == MEXC_EXPECTED[:2]
    assert rec.requests == [MEXC_EXPECTED[2], *MEXC_EXPECTED[:2]]


GATE_SPOT_PLACES = [
    _limit("t-place1"),
    OrderRequest(BTC, Side.BUY, OrderType.MARKET, 0.002, 60000.0, TimeInForce.IOC, "t-mkt2"),
]


async def test_gate_spot_lane_and_dry_bytes_are_the_pinned_place_bytes(recorder):
    rec, rest = await _gate_spot_rest(recorder)
    try:
        assert rest.place_order_now(GATE_SPOT_PLACES[0]) is None  # the account kind is not known yet
        await rest.account_kind()  # opens the connection
        dry = [_as_recorded(rec, rest.order_bytes(request)) for request in GATE_SPOT_PLACES]
        await _lane(rest, GATE_SPOT_PLACES)
    finally:
        await rest.close()
    assert dry == GATE_SPOT_EXPECTED[1:3]
    assert rec.requests == GATE_SPOT_EXPECTED[:3]


GATE_FUTURES_PLACES = [
    _limit("t-fut2"),
    OrderRequest(BTC, Side.SELL, OrderType.MARKET, 0.002, None, TimeInForce.IOC, "t-fmkt3", True),
]
# Pinned from place_order as it was before the lane (75eace2).
GATE_FUTURES_PLACE_EXPECTED = [
    (
        b"POST /api/v4/futures/usdt/orders HTTP/1.1\r\n"
        b"Host: HOST\r\n"
        b"X-Gate-Size-Decimal: 1\r\n"
        b"Content-Type: application/json\r\n"
        b"KEY: test-key\r\n"
        b"Timestamp: 1700000000\r\n"
        b"SIGN: bf2ccca131cd3ca253468651072b50c1ce7ea3c0df7da38452761c05bacffe21eeb19f89f55a37177289ef6a2ec1c35a93633a9124970f8588013581a74de271\r\n"
        b"User-Agent: cexarb\r\n"
        b'Content-Length: 99\r\n\r\n{"contract":"BTC_USDT","size":15,"price":"60012.5","tif":"ioc","text":"t-fut2","reduce_only":false}'
    ),
    (
        b"POST /api/v4/futures/usdt/orders HTTP/1.1\r\n"
        b"Host: HOST\r\n"
        b"X-Gate-Size-Decimal: 1\r\n"
        b"Content-Type: application/json\r\n"
        b"KEY: test-key\r\n"
        b"Timestamp: 1700000000\r\n"
        b"SIGN: e97f8ee8ab90994ead1408a6e51abfaa3159b161846518ec8a1a867dd2ab327d595538322d8781242f6d0654cab00c0b6167a5792a5e5ca9323328a4340b2d7c\r\n"
        b"User-Agent: cexarb\r\n"
        b'Content-Length: 94\r\n\r\n{"contract":"BTC_USDT","size":-20,"price":"0","tif":"ioc","text":"t-fmkt3","reduce_only":true}'
    ),
]


async def test_gate_futures_place_lane_and_dry_bytes_are_the_pinned_place_bytes(recorder):
    rec, url = await recorder({}, _reply("404 Not Found", GATE_ERROR))
    infos = {BTC: SymbolInfo(BTC, "BTC_USDT", tick_size=0.1, step_size=0.0001, contract_size=0.0001)}
    rest = GateioFuturesPrivateRest(_config(Venue.GATEIO, Market.FUTURES, url + "/api/v4"), infos)
    rest.clock = _frozen_clock()
    try:
        for request in GATE_FUTURES_PLACES:  # the first opens the connection
            with pytest.raises(ExchangeError):
                await rest.place_order(request)
        dry = [_as_recorded(rec, rest.order_bytes(request)) for request in GATE_FUTURES_PLACES]
        await _lane(rest, GATE_FUTURES_PLACES)
    finally:
        await rest.close()
    assert dry == GATE_FUTURES_PLACE_EXPECTED
    assert rec.requests == GATE_FUTURES_PLACE_EXPECTED * 2
