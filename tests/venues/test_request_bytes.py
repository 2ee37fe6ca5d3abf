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


# -- every kind of new-order request each connector builds, pinned from the generic encoding --------
# (place_order's params dict through encode_params / json_body, before the order templates:
# computed at df46a31). Each connector builds a request per symbol, side, type and time in
# force once and fills in the numbers and the client id: every kind, odd grids (a 1e-10 tick,
# a step of 1, 8 decimals) and client ids that need url-encoding must come out as before.

PEPE, ETH = Symbol("PEPE", "USDT"), Symbol("ETH", "USDC")
LIMIT, MARKET, MAKER = OrderType.LIMIT, OrderType.MARKET, OrderType.LIMIT_MAKER
GTC, IOC, FOK, POST = TimeInForce.GTC, TimeInForce.IOC, TimeInForce.FOK, TimeInForce.POST_ONLY
MEXC_KINDS = [
    OrderRequest(BTC, Side.SELL, LIMIT, 0.0015, 60012.5, GTC, "cxgtc1"),
    OrderRequest(BTC, Side.BUY, LIMIT, 0.25, 60000.01, FOK, "cxfok2"),
    OrderRequest(BTC, Side.SELL, LIMIT, 1.0, 61000.0, POST, "cxpost3"),
    OrderRequest(BTC, Side.BUY, MAKER, 0.000001, 59000.1, GTC, "cxmaker4"),
    OrderRequest(BTC, Side.BUY, MARKET, 0.5, None, IOC, "cx mkt/5"),
    OrderRequest(PEPE, Side.BUY, LIMIT, 12345678.0, 0.0000012345, IOC, "cx+odd&id=6"),
    OrderRequest(ETH, Side.SELL, LIMIT, 0.12345678, 2500.25, IOC, "cxeth7"),
]
MEXC_INFOS = {
    BTC: SymbolInfo(BTC, "BTCUSDT", tick_size=0.01, step_size=0.000001),
    PEPE: SymbolInfo(PEPE, "PEPEUSDT", tick_size=1e-10, step_size=1.0),
    ETH: SymbolInfo(ETH, "ETHUSDC", tick_size=0.05, step_size=0.00000001),
}
GATE_SPOT_KINDS = [
    OrderRequest(BTC, Side.SELL, LIMIT, 0.0015, 60012.5, GTC, "t-gtc1"),
    OrderRequest(BTC, Side.BUY, LIMIT, 0.25, 60000.1, FOK, "t-fok2"),
    OrderRequest(BTC, Side.SELL, LIMIT, 1.0, 61000.0, POST, "t-post3"),
    OrderRequest(BTC, Side.BUY, MAKER, 0.0001, 59000.1, GTC, "t-maker4"),
    OrderRequest(BTC, Side.SELL, MARKET, 0.5, None, FOK, "t-mkt5"),
    OrderRequest(PEPE, Side.BUY, LIMIT, 12345678.0, 0.0000012345, IOC, "t-pepe6"),
    OrderRequest(ETH, Side.SELL, LIMIT, 0.12345678, 2500.25, IOC, "t-eth7"),
]
GATE_SPOT_INFOS = {
    BTC: SymbolInfo(BTC, "BTC_USDT", tick_size=0.1, step_size=0.0001, quote_precision=2),
    PEPE: SymbolInfo(PEPE, "PEPE_USDT", tick_size=1e-10, step_size=1.0, quote_precision=6),
    ETH: SymbolInfo(ETH, "ETH_USDC", tick_size=0.05, step_size=0.00000001, quote_precision=2),
}
GATE_FUTURES_KINDS = [
    OrderRequest(BTC, Side.SELL, LIMIT, 0.0015, 60012.5, GTC, "t-fgtc1"),
    OrderRequest(BTC, Side.BUY, LIMIT, 0.0025, 60000.1, FOK, "t-ffok2", True),
    OrderRequest(BTC, Side.SELL, LIMIT, 0.0001, 61000.0, POST, "t-fpost3", True),
    OrderRequest(BTC, Side.BUY, MARKET, 0.0003, None, FOK, "t-fmkt4"),
    OrderRequest(ETH, Side.SELL, LIMIT, 0.15, 2500.25, IOC, "t-feth5"),
]
GATE_FUTURES_INFOS = {
    BTC: SymbolInfo(BTC, "BTC_USDT", tick_size=0.1, step_size=0.0001, contract_size=0.0001),
    ETH: SymbolInfo(ETH, "ETH_USDC", tick_size=0.05, step_size=0.01, contract_size=0.1),
}


def _dry_config(venue: Venue, market: Market, path: str = "") -> VenueConfig:
    return _config(venue, market, "http://127.0.0.1:9" + path)


MEXC_KINDS_EXPECTED = [
    (
        b"POST /api/v3/order?symbol=BTCUSDT&side=SELL&type=LIMIT&quantity=0.0015&price=60012.5&newClientOrderId=cxgtc1&timestamp=1700000000123&recvWindow=5000&signature=53def3d541d3792629af87063bb19ba4d2f4dbe875562fb1eea8494d6eaef384 HTTP/1.1\r\n"
        b"Host: 127.0.0.1:9\r\n"
        b"Content-Type: application/json\r\n"
        b"X-MEXC-APIKEY: test-key\r\n"
        b"User-Agent: cexarb\r\n"
        b"Content-Length: 0\r\n"
        b"\r\n"
    ),
    (
        b"POST /api/v3/order?symbol=BTCUSDT&side=BUY&type=FILL_OR_KILL&quantity=0.25&price=60000.01&newClientOrderId=cxfok2&timestamp=1700000000123&recvWindow=5000&signature=10b34954178ef39a2bc2ad8e03e54e925f1bf6e989dbb621ff6cc635156d771f HTTP/1.1\r\n"
        b"Host: 127.0.0.1:9\r\n"
        b"Content-Type: application/json\r\n"
        b"X-MEXC-APIKEY: test-key\r\n"
        b"User-Agent: cexarb\r\n"
        b"Content-Length: 0\r\n"
        b"\r\n"
    ),
    (
        b"POST /api/v3/order?symbol=BTCUSDT&side=SELL&type=LIMIT_MAKER&quantity=1&price=61000&newClientOrderId=cxpost3&timestamp=1700000000123&recvWindow=5000&signature=b9f2831a7b88104268785c79d4b1962d8efc6a7a89e16d858abaae1efe6f2c00 HTTP/1.1\r\n"
        b"Host: 127.0.0.1:9\r\n"
        b"Content-Type: application/json\r\n"
        b"X-MEXC-APIKEY: test-key\r\n"
        b"User-Agent: cexarb\r\n"
        b"Content-Length: 0\r\n"
        b"\r\n"
    ),
    (
        b"POST /api/v3/order?symbol=BTCUSDT&side=BUY&type=LIMIT_MAKER&quantity=0.000001&price=59000.1&newClientOrderId=cxmaker4&timestamp=1700000000123&recvWindow=5000&signature=a70a904a3b69605345b7628d11e9f15b08e02a1db407c21a28b6003f7c80c921 HTTP/1.1\r\n"
        b"Host: 127.0.0.1:9\r\n"
        b"Content-Type: application/json\r\n"
        b"X-MEXC-APIKEY: test-key\r\n"
        b"User-Agent: cexarb\r\n"
        b"Content-Length: 0\r\n"
        b"\r\n"
    ),
    (
        b"POST /api/v3/order?symbol=BTCUSDT&side=BUY&type=MARKET&quantity=0.5&newClientOrderId=cx%20mkt%2F5&timestamp=1700000000123&recvWindow=5000&signature=7d10143574e9fd056c471b8f5320300171fa723c5d5b62729835413cbd6d0d52 HTTP/1.1\r\n"
        b"Host: 127.0.0.1:9\r\n"
        b"Content-Type: application/json\r\n"
        b"X-MEXC-APIKEY: test-key\r\n"
        b"User-Agent: cexarb\r\n"
        b"Content-Length: 0\r\n"
        b"\r\n"
    ),
    (
        b"POST /api/v3/order?symbol=PEPEUSDT&side=BUY&type=IMMEDIATE_OR_CANCEL&quantity=12345678&price=0.0000012345&newClientOrderId=cx%2Bodd%26id%3D6&timestamp=1700000000123&recvWindow=5000&signature=1e6356d75832a78c669877a7117c3e2ba22944af7a33ca8c90d5eaf2b1c8ffff HTTP/1.1\r\n"
        b"Host: 127.0.0.1:9\r\n"
        b"Content-Type: application/json\r\n"
        b"X-MEXC-APIKEY: test-key\r\n"
        b"User-Agent: cexarb\r\n"
        b"Content-Length: 0\r\n"
        b"\r\n"
    ),
    (
        b"POST /api/v3/order?symbol=ETHUSDC&side=SELL&type=IMMEDIATE_OR_CANCEL&quantity=0.12345678&price=2500.25&newClientOrderId=cxeth7&timestamp=1700000000123&recvWindow=5000&signature=2e08d4166c129060455651deaa3d0831aa77098fdc9a2b3a10b612da86c29958 HTTP/1.1\r\n"
        b"Host: 127.0.0.1:9\r\n"
        b"Content-Type: application/json\r\n"
        b"X-MEXC-APIKEY: test-key\r\n"
        b"User-Agent: cexarb\r\n"
        b"Content-Length: 0\r\n"
        b"\r\n"
    ),
]

GATE_SPOT_KINDS_EXPECTED = [
    (
        b"POST /api/v4/spot/orders HTTP/1.1\r\n"
        b"Host: 127.0.0.1:9\r\n"
        b"Content-Type: application/json\r\n"
        b"KEY: test-key\r\n"
        b"Timestamp: 1700000000\r\n"
        b"SIGN: 6dee56d886ff51a2902421c4c8f43f196b73e3fa04c502e077e6277217137f1c8e87fade8d0544018489602d2c842646312308d72d16af90b434b80092a4fd02\r\n"
        b"User-Agent: cexarb\r\n"
        b"Content-Length: 148\r\n"
        b"\r\n"
        b'{"text":"t-gtc1","currency_pair":"BTC_USDT","type":"limit","account":"spot","side":"sell","amount":"0.0015","price":"60012.5","time_in_force":"gtc"}'
    ),
    (
        b"POST /api/v4/spot/orders HTTP/1.1\r\n"
        b"Host: 127.0.0.1:9\r\n"
        b"Content-Type: application/json\r\n"
        b"KEY: test-key\r\n"
        b"Timestamp: 1700000000\r\n"
        b"SIGN: ed5d98e759ee0b3d0e05a936448a3d2bda4b3c3067e04f0c0596cedbed2723f0e7388493d2a9ef494a3ca18de7629ad3401a56fea98d96fe3cd1f5cc71019fdb\r\n"
        b"User-Agent: cexarb\r\n"
        b"Content-Length: 145\r\n"
        b"\r\n"
        b'{"text":"t-fok2","currency_pair":"BTC_USDT","type":"limit","account":"spot","side":"buy","amount":"0.25","price":"60000.1","time_in_force":"fok"}'
    ),
    (
        b"POST /api/v4/spot/orders HTTP/1.1\r\n"
        b"Host: 127.0.0.1:9\r\n"
        b"Content-Type: application/json\r\n"
        b"KEY: test-key\r\n"
        b"Timestamp: 1700000000\r\n"
        b"SIGN: 8b9d2835e0a6413345df9397b08a903198c36dd947899d968d88e0862a5ebf042bc4e662a2af7cd81cac75007ed6da06b7873d93e7d5c282553f0a1f364b109e\r\n"
        b"User-Agent: cexarb\r\n"
        b"Content-Length: 142\r\n"
        b"\r\n"
        b'{"text":"t-post3","currency_pair":"BTC_USDT","type":"limit","account":"spot","side":"sell","amount":"1","price":"61000","time_in_force":"poc"}'
    ),
    (
        b"POST /api/v4/spot/orders HTTP/1.1\r\n"
        b"Host: 127.0.0.1:9\r\n"
        b"Content-Type: application/json\r\n"
        b"KEY: test-key\r\n"
        b"Timestamp: 1700000000\r\n"
        b"SIGN: 3e347112084a70681f144b062385319922404312a713432b176dd34e47d89cf61f722c8817d1a18447ec21d1ba0e401c8fb42c10b48b4fac5815e5f333521f3c\r\n"
        b"User-Agent: cexarb\r\n"
        b"Content-Length: 149\r\n"
        b"\r\n"
        b'{"text":"t-maker4","currency_pair":"BTC_USDT","type":"limit","account":"spot","side":"buy","amount":"0.0001","price":"59000.1","time_in_force":"poc"}'
    ),
    (
        b"POST /api/v4/spot/orders HTTP/1.1\r\n"
        b"Host: 127.0.0.1:9\r\n"
        b"Content-Type: application/json\r\n"
        b"KEY: test-key\r\n"
        b"Timestamp: 1700000000\r\n"
        b"SIGN: d090b7e0eac20ebc179014f4e4acd4d89ebfb1ca014256d0c62f6a16531c41d64021c5da9e14c174f1cf2f0b48e9f0c0f474ba8dec42b9b810f4f4826c37d7d4\r\n"
        b"User-Agent: cexarb\r\n"
        b"Content-Length: 128\r\n"
        b"\r\n"
        b'{"text":"t-mkt5","currency_pair":"BTC_USDT","type":"market","account":"spot","side":"sell","time_in_force":"fok","amount":"0.5"}'
    ),
    (
        b"POST /api/v4/spot/orders HTTP/1.1\r\n"
        b"Host: 127.0.0.1:9\r\n"
        b"Content-Type: application/json\r\n"
        b"KEY: test-key\r\n"
        b"Timestamp: 1700000000\r\n"
        b"SIGN: c51448a487728d51dac1c35e4af378b7c351676dcbc37500a6642bab5bac02880daa50b669933d3d47fec8d47d81ea771bd5362d5b980cd2ad282733ecb65f05\r\n"
        b"User-Agent: cexarb\r\n"
        b"Content-Length: 156\r\n"
        b"\r\n"
        b'{"text":"t-pepe6","currency_pair":"PEPE_USDT","type":"limit","account":"spot","side":"buy","amount":"12345678","price":"0.0000012345","time_in_force":"ioc"}'
    ),
    (
        b"POST /api/v4/spot/orders HTTP/1.1\r\n"
        b"Host: 127.0.0.1:9\r\n"
        b"Content-Type: application/json\r\n"
        b"KEY: test-key\r\n"
        b"Timestamp: 1700000000\r\n"
        b"SIGN: 5973e8e17fd360d3f43b6c9229a123e4a411483138550ae7cce772dd933d2a5443d1e525334f6e79946f558c99af391e6c91edc40f87bf0b5fbe92d683e3a229\r\n"
        b"User-Agent: cexarb\r\n"
        b"Content-Length: 152\r\n"
        b"\r\n"
        b'{"text":"t-eth7","currency_pair":"ETH_USDC","type":"limit","account":"spot","side":"sell","amount":"0.12345678","price":"2500.25","time_in_force":"ioc"}'
    ),
]

GATE_FUTURES_KINDS_EXPECTED = [
    (
        b"POST /api/v4/futures/usdt/orders HTTP/1.1\r\n"
        b"Host: 127.0.0.1:9\r\n"
        b"X-Gate-Size-Decimal: 1\r\n"
        b"Content-Type: application/json\r\n"
        b"KEY: test-key\r\n"
        b"Timestamp: 1700000000\r\n"
        b"SIGN: b379dd85f035e62d1ffe343068205547efc56f979200efd14ef70d1993b0e5180849f7301454b07fa232beed25599351aa4a52a181878ecd67f35ff58ff81d73\r\n"
        b"User-Agent: cexarb\r\n"
        b"Content-Length: 101\r\n"
        b"\r\n"
        b'{"contract":"BTC_USDT","size":-15,"price":"60012.5","tif":"gtc","text":"t-fgtc1","reduce_only":false}'
    ),
    (
        b"POST /api/v4/futures/usdt/orders HTTP/1.1\r\n"
        b"Host: 127.0.0.1:9\r\n"
        b"X-Gate-Size-Decimal: 1\r\n"
        b"Content-Type: application/json\r\n"
        b"KEY: test-key\r\n"
        b"Timestamp: 1700000000\r\n"
        b"SIGN: b9b2eda5cd2eb0587df6297985bf06c8c94d4cf97d6f47ea0d55ad020de88080f9cedca6edb2ebb44d09396c44b0bf58f29c83d7b31a0a107282827301c8ed33\r\n"
        b"User-Agent: cexarb\r\n"
        b"Content-Length: 99\r\n"
        b"\r\n"
        b'{"contract":"BTC_USDT","size":25,"price":"60000.1","tif":"fok","text":"t-ffok2","reduce_only":true}'
    ),
    (
        b"POST /api/v4/futures/usdt/orders HTTP/1.1\r\n"
        b"Host: 127.0.0.1:9\r\n"
        b"X-Gate-Size-Decimal: 1\r\n"
        b"Content-Type: application/json\r\n"
        b"KEY: test-key\r\n"
        b"Timestamp: 1700000000\r\n"
        b"SIGN: 4898db4874f8f2e5c69dec8dc6ff18b0da24d2dc8619bf9500bd41639724a083c0e3add26de22a3ae70b002f20406fac751ceca7ce34f86ab197f351bce4f956\r\n"
        b"User-Agent: cexarb\r\n"
        b"Content-Length: 98\r\n"
        b"\r\n"
        b'{"contract":"BTC_USDT","size":-1,"price":"61000","tif":"poc","text":"t-fpost3","reduce_only":true}'
    ),
    (
        b"POST /api/v4/futures/usdt/orders HTTP/1.1\r\n"
        b"Host: 127.0.0.1:9\r\n"
        b"X-Gate-Size-Decimal: 1\r\n"
        b"Content-Type: application/json\r\n"
        b"KEY: test-key\r\n"
        b"Timestamp: 1700000000\r\n"
        b"SIGN: e3dfc3d372bbdb4b5bdd38d4b45f01403a45c14d09397a79c3c9d9f44d883f8d67b43fd06495be204f452744c1bbc6a549af0291f4a24e01239d76c094e1539c\r\n"
        b"User-Agent: cexarb\r\n"
        b"Content-Length: 93\r\n"
        b"\r\n"
        b'{"contract":"BTC_USDT","size":3,"price":"0","tif":"fok","text":"t-fmkt4","reduce_only":false}'
    ),
    (
        b"POST /api/v4/futures/usdt/orders HTTP/1.1\r\n"
        b"Host: 127.0.0.1:9\r\n"
        b"X-Gate-Size-Decimal: 1\r\n"
        b"Content-Type: application/json\r\n"
        b"KEY: test-key\r\n"
        b"Timestamp: 1700000000\r\n"
        b"SIGN: 7be1e31ddb48bf54f22f9919244f34de331d106d06bc3cd0e8054af6f8beca97beda71779397774f1e9449377547e7e51b7148feb6781f4490f362cdbedfab12\r\n"
        b"User-Agent: cexarb\r\n"
        b"Content-Length: 120\r\n"
        b"\r\n"
        b'{"contract":"ETH_USDC","size":"-1.49999999999999978","price":"2500.25","tif":"ioc","text":"t-feth5","reduce_only":false}'
    ),
]


async def test_every_kind_of_mexc_order_is_the_generic_encodings_bytes():
    rest = MexcSpotPrivateRest(_dry_config(Venue.MEXC, Market.SPOT), MEXC_INFOS, clock=_frozen_clock())
    try:
        for _ in range(2):  # a kind's template made, then reused
            assert [rest.order_bytes(request) for request in MEXC_KINDS] == MEXC_KINDS_EXPECTED
    finally:
        await rest.close()


async def test_every_kind_of_gate_spot_order_is_the_generic_encodings_bytes():
    rest = GateioSpotPrivateRest(_dry_config(Venue.GATEIO, Market.SPOT, "/api/v4"), GATE_SPOT_INFOS)
    rest.clock = _frozen_clock()
    rest._account = "spot"  # as learned from /account/detail
    try:
        for _ in range(2):
            assert [rest.order_bytes(request) for request in GATE_SPOT_KINDS] == GATE_SPOT_KINDS_EXPECTED
    finally:
        await rest.close()


async def test_every_kind_of_gate_futures_order_is_the_generic_encodings_bytes():
    rest = GateioFuturesPrivateRest(_dry_config(Venue.GATEIO, Market.FUTURES, "/api/v4"), GATE_FUTURES_INFOS)
    rest.clock = _frozen_clock()
    try:
        for _ in range(2):
            assert [
                rest.order_bytes(request) for request in GATE_FUTURES_KINDS
            ] == GATE_FUTURES_KINDS_EXPECTED
    finally:
        await rest.close()


async def test_a_mexc_order_template_follows_its_symbols_new_info():
    infos = dict(MEXC_INFOS)
    rest = MexcSpotPrivateRest(_dry_config(Venue.MEXC, Market.SPOT), infos, clock=_frozen_clock())
    request = OrderRequest(BTC, Side.BUY, LIMIT, 0.0015, 60012.5, IOC, "cxinfo1")
    try:
        assert b"?symbol=BTCUSDT&side=BUY&type=IMMEDIATE_OR_CANCEL&quantity=0.0015&" in rest.order_bytes(
            request
        )
        # Listed anew (another name, a coarser step): the next order is written to the new info.
        infos[BTC] = SymbolInfo(BTC, "XBTUSDT", tick_size=0.01, step_size=0.001)
        assert b"?symbol=XBTUSDT&side=BUY&type=IMMEDIATE_OR_CANCEL&quantity=0.002&" in rest.order_bytes(
            request
        )
    finally:
        await rest.close()
