"""The exact bytes the REST clients send, against a recording HTTP server on 127.0.0.1."""

from __future__ import annotations

import pytest
from aiohttp import web
from mexc_samples import load_vectors, responses

from cexarb.config import Market, Secret, Venue, VenueConfig
from cexarb.model import (
    OrderRequest,
    OrderStatus,
    OrderType,
    Side,
    Symbol,
    SymbolInfo,
    TimeInForce,
    WithdrawalRequest,
)
from cexarb.model.errors import AuthenticationError, InsufficientBalance, OrderNotFound, WithdrawalError
from cexarb.transport.clock import Clock
from cexarb.venues.mexc import MexcSpotPrivateRest, MexcSpotPublicRest

BTC = Symbol("BTC", "USDT")
CREDS = load_vectors()["mexc_spot"]["credentials"]
FROZEN_MS = CREDS["timestamp_ms"]
INFOS = {
    BTC: SymbolInfo(BTC, "BTCUSDT", tick_size=0.01, step_size=0.000001),
    Symbol("ETH", "USDT"): SymbolInfo(Symbol("ETH", "USDT"), "ETHUSDT", 0.01, 0.0001),
}


class Recorder:
    """Answers each (method, path) with a queued reply and records what arrived."""

    def __init__(self) -> None:
        self.requests: list[web.Request] = []
        self.replies: dict[tuple[str, str], list[tuple[int, object]]] = {}

    def reply(self, method: str, path: str, body: object, status: int = 200) -> None:
        self.replies.setdefault((method, path), []).append((status, body))

    async def handle(self, request: web.Request) -> web.Response:
        self.requests.append(request)
        queue = self.replies.get((request.method, request.path))
        if not queue:
            return web.json_response({"code": 404, "msg": "no reply queued"}, status=404)
        status, body = queue.pop(0) if len(queue) > 1 else queue[0]
        return web.json_response(body, status=status)


@pytest.fixture
async def server():
    rec = Recorder()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", rec.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    rec.url = f"http://127.0.0.1:{port}"
    yield rec
    await runner.cleanup()


def config(url: str) -> VenueConfig:
    return VenueConfig(
        venue=Venue.MEXC,
        market=Market.SPOT,
        rest_url=url,
        ws_url="ws://127.0.0.1:1/ws",
        api_key=Secret(CREDS["apiKey"]),
        api_secret=Secret(CREDS["secret"]),
        recv_window_ms=CREDS["recvWindow"],
    )


@pytest.fixture
async def private(server):
    rest = MexcSpotPrivateRest(config(server.url), INFOS, clock=Clock(wall_ms=lambda: float(FROZEN_MS)))
    yield rest
    await rest.close()


ORDER_REPLIES = responses("mexc_spot_rest_orders.json", "/api/v3/order")
CREATE_REPLY = next(r for r in ORDER_REPLIES if r and "transactTime" in r)
CANCEL_REPLY = next(r for r in ORDER_REPLIES if r and r.get("status") == "CANCELED")
QUERY_REPLY = next(r for r in ORDER_REPLIES if r and r.get("status") == "NEW")


def vector(name: str) -> dict:
    (vec,) = [v for v in load_vectors()["mexc_spot"]["vectors"] if v["name"] == name]
    return vec


async def test_place_order_sends_exactly_the_ccxt_vector(server, private):
    server.reply("POST", "/api/v3/order", CREATE_REPLY)
    order = await private.place_order(
        OrderRequest(BTC, Side.BUY, OrderType.LIMIT, 0.001, 30000.0, client_order_id="myOrder-001")
    )
    (req,) = server.requests
    vec = vector("POST /api/v3/order")
    assert req.method == "POST" and req.path == "/api/v3/order"
    assert req.query_string == vec["request"]["url"].partition("?")[2]
    assert req.headers["X-MEXC-APIKEY"] == CREDS["apiKey"]
    assert order.client_order_id == "myOrder-001" and order.status is OrderStatus.NEW


async def test_cancel_and_account_match_vectors(server, private):
    server.reply("DELETE", "/api/v3/order", CANCEL_REPLY)
    server.reply("GET", "/api/v3/account", responses("mexc_spot_rest_account.json", "/api/v3/account")[0])
    order = await private.cancel_order(BTC, order_id="C02__123456789012345678")
    balances = await private.get_balances()
    cancel_req, account_req = server.requests
    assert cancel_req.query_string == vector("DELETE /api/v3/order")["request"]["url"].partition("?")[2]
    assert account_req.query_string == vector("GET /api/v3/account")["request"]["url"].partition("?")[2]
    assert order.status is OrderStatus.CANCELED and balances["MAIN"].available == 1020000.0


async def test_listen_key_create_matches_vector(server, private):
    key_reply = responses("mexc_spot_rest_userdatastream.json", "/api/v3/userDataStream")[0]
    server.reply("POST", "/api/v3/userDataStream", key_reply)
    server.reply("PUT", "/api/v3/userDataStream", key_reply)
    server.reply("DELETE", "/api/v3/userDataStream", key_reply)
    key = await private.create_listen_key()
    await private.keepalive_listen_key(key)
    await private.delete_listen_key(key)
    create, keep, delete = server.requests
    assert create.query_string == vector("POST /api/v3/userDataStream")["request"]["url"].partition("?")[2]
    assert key == key_reply["listenKey"]
    assert keep.method == "PUT" and keep.query.get("listenKey") == key
    assert delete.method == "DELETE" and delete.query.get("listenKey") == key


@pytest.mark.parametrize(
    ("order_type", "tif", "venue_type", "has_price"),
    [
        (OrderType.LIMIT, TimeInForce.GTC, "LIMIT", True),
        (OrderType.LIMIT, TimeInForce.IOC, "IMMEDIATE_OR_CANCEL", True),
        (OrderType.LIMIT, TimeInForce.FOK, "FILL_OR_KILL", True),
        (OrderType.LIMIT_MAKER, TimeInForce.GTC, "LIMIT_MAKER", True),
        (OrderType.LIMIT, TimeInForce.POST_ONLY, "LIMIT_MAKER", True),
        (OrderType.MARKET, TimeInForce.GTC, "MARKET", False),
    ],
)
async def test_order_types_on_the_wire(server, private, order_type, tif, venue_type, has_price):
    server.reply(
        "POST",
        "/api/v3/order",
        {
            "symbol": "BTCUSDT",
            "orderId": "C02__1",
            "origQty": "0.5",
            "price": "0",
            "type": venue_type,
            "side": "SELL",
            "transactTime": 1,
        },
    )
    await private.place_order(
        OrderRequest(BTC, Side.SELL, order_type, 0.5, 123.45, time_in_force=tif, client_order_id="c1")
    )
    q = server.requests[0].query
    assert q["type"] == venue_type and q["side"] == "SELL" and q["quantity"] == "0.5"
    assert q["newClientOrderId"] == "c1"
    assert ("price" in q) is has_price and (not has_price or q["price"] == "123.45")


async def test_lookup_by_client_id_uses_orig_client_order_id(server, private):
    server.reply("GET", "/api/v3/order", QUERY_REPLY)
    order = await private.get_order(BTC, client_order_id="myOrder1")
    q = server.requests[0].query
    assert q["origClientOrderId"] == "myOrder1" and "orderId" not in q
    assert order.client_order_id == "myOrder1"


async def test_open_orders_without_symbol_iterate_known_symbols(server, private):
    server.reply("GET", "/api/v3/openOrders", [])
    assert await private.get_open_orders() == []
    assert sorted(r.query["symbol"] for r in server.requests) == ["BTCUSDT", "ETHUSDT"]


async def test_errors_are_typed(server, private):
    server.reply("GET", "/api/v3/order", {"code": -2013, "msg": "Order does not exist."}, status=400)
    server.reply("POST", "/api/v3/order", {"code": 10101, "msg": "Insufficient balance"}, status=400)
    with pytest.raises(OrderNotFound) as not_found:
        await private.get_order(BTC, order_id="nope")
    assert not_found.value.code == -2013 and not_found.value.http_status == 400
    with pytest.raises(InsufficientBalance):
        await private.place_order(OrderRequest(BTC, Side.BUY, OrderType.LIMIT, 1, 1, client_order_id="c"))


async def test_http_200_with_error_body_is_an_error(server, private):
    server.reply(
        "GET", "/api/v3/account", {"code": 700002, "msg": "Signature for this request is not valid."}
    )
    with pytest.raises(AuthenticationError) as err:
        await private.get_balances()
    assert err.value.code == 700002 and err.value.http_status == 200


async def test_withdraw_and_history(server, private):
    server.reply(
        "POST",
        "/api/v3/capital/withdraw",
        responses("mexc_spot_rest_wallet.json", "/api/v3/capital/withdraw")[0],
    )
    history = responses("mexc_spot_rest_wallet.json", "/api/v3/capital/withdraw/history")[0]
    server.reply("GET", "/api/v3/capital/withdraw/history", history)
    resp = await private.withdraw(
        WithdrawalRequest("EOS", 10.0, "zzqqqqqqqqqq", "EOS", memo="MX10086", client_id="w1")
    )
    assert resp.withdrawal_id == "7213fea8e94b4a5593d507237e5a555b"
    q = server.requests[0].query
    assert (q["coin"], q["address"], q["amount"], q["netWork"], q["memo"], q["withdrawOrderId"]) == (
        "EOS",
        "zzqqqqqqqqqq",
        "10",
        "EOS",
        "MX10086",
        "w1",
    )
    found = await private.get_withdrawal("bb17a2d452684f00a523c015d512a341", "EOS")
    assert found.amount == 10.0 and server.requests[1].query["coin"] == "EOS"
    with pytest.raises(WithdrawalError):
        await private.get_withdrawal("missing")


async def test_withdraw_rejection_becomes_withdrawal_error(server, private):
    server.reply("POST", "/api/v3/capital/withdraw", {"code": 730002, "msg": "bad network"}, status=400)
    with pytest.raises(WithdrawalError) as err:
        await private.withdraw(WithdrawalRequest("EOS", 1.0, "a", "NOPE"))
    assert err.value.code == 730002


async def test_public_rest_loads_symbols_before_first_depth(server):
    server.reply(
        "GET",
        "/api/v3/exchangeInfo",
        {
            "symbols": [
                {
                    "symbol": "BTCUSDT",
                    "baseAsset": "BTC",
                    "quoteAsset": "USDT",
                    "baseAssetPrecision": 6,
                    "quoteAssetPrecision": 2,
                    "status": "1",
                    "isSpotTradingAllowed": True,
                }
            ]
        },
    )
    server.reply("GET", "/api/v3/depth", responses("mexc_spot_rest_marketdata.json", "/api/v3/depth")[0])
    public = MexcSpotPublicRest(config(server.url))
    try:
        book = await public.get_order_book(BTC, limit=10_000)
    finally:
        await public.close()
    info_req, depth_req = server.requests
    assert info_req.path == "/api/v3/exchangeInfo"
    assert depth_req.query["symbol"] == "BTCUSDT" and depth_req.query["limit"] == "5000"
    assert "signature" not in depth_req.query and "X-MEXC-APIKEY" not in depth_req.headers
    assert book.update_id == 1112416
