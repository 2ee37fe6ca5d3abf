"""The connectors' order lane (place_order_now, its halves write_order_now and follow_order, order_bytes) over a scripted HTTP client: the
same request as place_order's (stated once per venue), the same Order from the same reply, the
same typed errors, and None (nothing sent) when the transport cannot write now or the venue
needs a request first. The bytes themselves: tests/venues/test_request_bytes.py."""

from __future__ import annotations

import pytest

from cexarb.config import Market, Secret, Venue, VenueConfig
from cexarb.model import OrderRequest, OrderType, Side, Symbol, SymbolInfo, TimeInForce
from cexarb.model.errors import ExchangeError, InvalidOrder, OrderStatusUnknown
from cexarb.venues.gateio import GateioFuturesPrivateRest, GateioSpotPrivateRest
from cexarb.venues.mexc import MexcSpotPrivateRest

BTC = Symbol("BTC", "USDT")

MEXC_REPLY = {"symbol": "BTCUSDT", "orderId": "C02__9", "orderListId": -1, "transactTime": 1700000000100}
GATE_SPOT_REPLY = {
    "id": "123",
    "text": "t-lane1",
    "create_time_ms": 1700000000100,
    "update_time_ms": 1700000000100,
    "status": "open",
    "currency_pair": "BTC_USDT",
    "type": "limit",
    "account": "spot",
    "side": "buy",
    "amount": "0.0015",
    "price": "60012.5",
    "time_in_force": "gtc",
    "left": "0.0015",
    "filled_amount": "0",
    "filled_total": "0",
}
GATE_FUTURES_REPLY = {
    "id": 987,
    "contract": "BTC_USDT",
    "size": 15,
    "left": 15,
    "price": "60012.5",
    "tif": "gtc",
    "text": "t-lane1",
    "status": "open",
    "create_time": 1700000000.1,
    "fill_price": "0",
    "is_reduce_only": False,
}


class ScriptedHttp:
    """Stands in for HttpClient: records each call; every reply is `answer` (raised if an error)."""

    def __init__(self, answer, *, writes: bool = True) -> None:
        self.answer = answer
        self.writes = writes
        self.calls: list[tuple] = []

    async def _reply(self):
        if isinstance(self.answer, BaseException):
            raise self.answer
        return self.answer

    async def request(self, method, path, **kwargs):
        self.calls.append(("request", method, path, kwargs))
        return await self._reply()

    def write_now(self, method, path, **kwargs):
        self.calls.append(("write_now", method, path, kwargs))
        return ("written", method, path) if self.writes else None

    def follow(self, written):
        assert written[0] == "written"  # what write_now gave
        self.calls.append(("follow",))
        return self._reply()

    def encode_request(self, method, path, **kwargs):
        self.calls.append(("encode_request", method, path, kwargs))
        return f"{method} {path}".encode()


def _config(venue: Venue, market: Market) -> VenueConfig:
    return VenueConfig(
        venue=venue,
        market=market,
        rest_url="http://127.0.0.1:1/api/v4",
        ws_url="ws://127.0.0.1:1/ws",
        api_key=Secret("test-key"),
        api_secret=Secret("test-secret"),
    )


def mexc(http):
    infos = {BTC: SymbolInfo(BTC, "BTCUSDT", tick_size=0.01, step_size=0.000001)}
    rest = MexcSpotPrivateRest(_config(Venue.MEXC, Market.SPOT), infos)
    rest._http = http
    return rest


def gate_spot(http, account: str | None = "spot"):
    infos = {BTC: SymbolInfo(BTC, "BTC_USDT", tick_size=0.1, step_size=0.0001, quote_precision=2)}
    rest = GateioSpotPrivateRest(_config(Venue.GATEIO, Market.SPOT), infos)
    rest._client = http
    rest._account = account  # as learned from /account/detail
    return rest


def gate_futures(http, infos=None):
    if infos is None:
        infos = {BTC: SymbolInfo(BTC, "BTC_USDT", tick_size=0.1, step_size=0.0001, contract_size=0.0001)}
    rest = GateioFuturesPrivateRest(_config(Venue.GATEIO, Market.FUTURES), infos)
    rest._client = http
    return rest


CONNECTORS = {
    "mexc_spot": (mexc, MEXC_REPLY, "cxlane1"),
    "gateio_spot": (gate_spot, GATE_SPOT_REPLY, "t-lane1"),
    "gateio_futures": (gate_futures, GATE_FUTURES_REPLY, "t-lane1"),
}


def _limit(cid: str) -> OrderRequest:
    return OrderRequest(BTC, Side.BUY, OrderType.LIMIT, 0.0015, 60012.5, TimeInForce.GTC, cid)


@pytest.mark.parametrize("name", CONNECTORS)
async def test_the_lane_sends_place_orders_request_and_reads_its_reply_alike(name):
    make, reply, cid = CONNECTORS[name]
    old, lane = ScriptedHttp(reply), ScriptedHttp(reply)
    placed = await make(old).place_order(_limit(cid))
    placing = make(lane).place_order_now(_limit(cid))
    assert [call[0] for call in lane.calls] == ["write_now", "follow"]  # written before it returned
    assert await placing == placed and placed.order_id
    assert lane.calls[0][1:] == old.calls[0][1:] and len(old.calls) == 1


@pytest.mark.parametrize("name", CONNECTORS)
async def test_the_lane_in_two_halves_writes_first_and_follows_when_told(name):
    make, reply, cid = CONNECTORS[name]
    old, lane = ScriptedHttp(reply), ScriptedHttp(reply)
    placed = await make(old).place_order(_limit(cid))
    rest = make(lane)
    written = rest.write_order_now(_limit(cid))
    assert [call[0] for call in lane.calls] == ["write_now"]  # written, nothing followed yet
    placing = rest.follow_order(_limit(cid), written)
    assert [call[0] for call in lane.calls] == ["write_now", "follow"]
    assert await placing == placed and lane.calls[0][1:] == old.calls[0][1:]


@pytest.mark.parametrize("name", CONNECTORS)
async def test_order_bytes_encodes_place_orders_request_and_sends_nothing(name):
    make, reply, cid = CONNECTORS[name]
    old, dry = ScriptedHttp(reply), ScriptedHttp(reply)
    await make(old).place_order(_limit(cid))
    assert make(dry).order_bytes(_limit(cid)).startswith(b"POST /")
    [(kind, method, path, kwargs)] = dry.calls
    _, old_method, old_path, old_kwargs = old.calls[0]
    assert (kind, method, path) == ("encode_request", old_method, old_path)
    # The request as place_order states it; the pool is the limiter's, and nothing is counted.
    assert kwargs == {k: v for k, v in old_kwargs.items() if k != "pool"}


@pytest.mark.parametrize("name", CONNECTORS)
async def test_no_write_now_is_none(name):
    make, reply, cid = CONNECTORS[name]
    http = ScriptedHttp(reply, writes=False)
    assert make(http).place_order_now(_limit(cid)) is None
    assert make(http).write_order_now(_limit(cid)) is None
    assert [call[0] for call in http.calls] == ["write_now", "write_now"]


@pytest.mark.parametrize("name", CONNECTORS)
async def test_a_venue_error_is_raised_alike(name):
    make, _, cid = CONNECTORS[name]
    refusal = InvalidOrder("BALANCE_NOT_ENOUGH", venue="x")
    with pytest.raises(InvalidOrder, match="BALANCE_NOT_ENOUGH"):
        await make(ScriptedHttp(refusal)).place_order(_limit(cid))
    placing = make(ScriptedHttp(refusal)).place_order_now(_limit(cid))
    with pytest.raises(InvalidOrder, match="BALANCE_NOT_ENOUGH"):
        await placing


async def test_mexc_error_in_a_200_reply_is_raised_alike():
    body = {"code": 30004, "msg": "Insufficient position"}
    with pytest.raises(ExchangeError, match="Insufficient") as old:
        await mexc(ScriptedHttp(body)).place_order(_limit("cxlane1"))
    with pytest.raises(ExchangeError, match="Insufficient") as lane:
        await mexc(ScriptedHttp(body)).place_order_now(_limit("cxlane1"))
    assert type(lane.value) is type(old.value)


@pytest.mark.parametrize("name", ["gateio_spot", "gateio_futures"])
async def test_gate_lost_reply_carries_the_client_id_alike(name):
    make, _, cid = CONNECTORS[name]
    for place in (make(ScriptedHttp(None)).place_order, make(ScriptedHttp(None)).place_order_now):
        http_error = OrderStatusUnknown("POST /spot/orders: no reply", venue="gateio", http_status=None)
        rest = place.__self__
        rest._client.answer = http_error
        with pytest.raises(OrderStatusUnknown) as caught:
            await place(_limit(cid))
        assert caught.value.client_order_id == cid and caught.value.__cause__ is http_error


async def test_gate_spot_lane_waits_for_the_account_kind():
    http = ScriptedHttp(GATE_SPOT_REPLY)
    rest = gate_spot(http, account=None)
    assert rest.place_order_now(_limit("t-lane1")) is None
    with pytest.raises(ExchangeError, match="account kind"):
        rest.order_bytes(_limit("t-lane1"))
    assert http.calls == []  # learning the kind takes a request: place_order's to make


async def test_gate_spot_lane_names_a_unified_account():
    http = ScriptedHttp(GATE_SPOT_REPLY)
    await gate_spot(http, account="unified").place_order_now(_limit("t-lane1"))
    assert http.calls[0][3]["json_body"]["account"] == "unified"


async def test_gate_futures_lane_waits_for_an_unknown_contract():
    http = ScriptedHttp(GATE_FUTURES_REPLY)
    rest = gate_futures(http, infos={})
    assert rest.place_order_now(_limit("t-lane1")) is None
    with pytest.raises(ExchangeError, match="contracts of BTC/USDT"):
        rest.order_bytes(_limit("t-lane1"))
    assert http.calls == []


@pytest.mark.parametrize("name", ["gateio_spot", "gateio_futures"])
async def test_gate_bad_input_raises_at_once_and_sends_nothing(name):
    make, reply, cid = CONNECTORS[name]
    http = ScriptedHttp(reply)
    off_grid = OrderRequest(BTC, Side.BUY, OrderType.LIMIT, 0.00151234567, 60012.5, TimeInForce.GTC, cid)
    with pytest.raises(InvalidOrder, match="step|contracts"):
        make(http).place_order_now(off_grid)
    assert http.calls == []
