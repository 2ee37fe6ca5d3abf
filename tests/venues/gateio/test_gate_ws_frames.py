"""Whole WS frames (samples) through the connectors' frame handlers into injected handlers.
No socket: the transport would call the same `on_message`."""

import json

import pytest
from gate_e2e_rig import Events
from gate_samples import load_samples, sample

from cexarb.config import Secret, VenueConfig
from cexarb.model import BookDiff, Market, OrderBook, OrderStatus, Side, Symbol, SymbolInfo, Venue
from cexarb.model.errors import AuthenticationError, ProtocolError
from cexarb.venues.contracts import PrivateWebsocketHandlers, PublicWebsocketHandlers
from cexarb.venues.gateio import (
    GateioFuturesPrivateWs,
    GateioFuturesPublicWs,
    GateioSpotPrivateWs,
    GateioSpotPublicWs,
    ws_common,
)

WIRE = pytest.mark.skipif(ws_common._gatewire is None, reason="C frame reader extension not built")


@pytest.fixture(autouse=True, params=[pytest.param("wire", marks=WIRE), "msgspec"])
def reader(request, monkeypatch):
    """Every frame test runs with the compiled one-pass reader (order and fill channels) and
    without it (msgspec only)."""
    if request.param == "msgspec":
        monkeypatch.setattr(ws_common, "_gatewire", None)
    return request.param


ETH = Symbol("ETH", "USDT")
BTC = Symbol("BTC", "USDT")
USD = Symbol("BTC", "USD")


def cfg(market=Market.SPOT):
    return VenueConfig(
        venue=Venue.GATEIO,
        market=market,
        rest_url="http://127.0.0.1:1/api/v4",
        ws_url="ws://127.0.0.1:1/ws/v4/",
        api_key=Secret("k"),
        api_secret=Secret("s"),
    )


def futures_info(symbol, size):
    return SymbolInfo(
        symbol, f"{symbol.base}_{symbol.quote}", 0.1, size, size, contract_size=size, is_futures=True
    )


def frame(obj) -> bytes:
    return json.dumps(obj).encode()


def test_spot_public_frames():
    rec = Events()
    ws = GateioSpotPublicWs(cfg(), rec.public(), {})
    for entry in load_samples("gate_spot_ws_public"):
        ws.on_message(frame(entry["response"]))
    for entry in load_samples("gate_ws_control"):
        ws.on_message(frame(entry["response"]))  # acks / pong / client frames: no events, no errors
    assert rec.of("error") == []
    diffs = rec.of("diff")
    assert [d.symbol for d in diffs] == [BTC, ETH]
    assert isinstance(diffs[0], BookDiff) and (diffs[0].first_id, diffs[0].last_id) == (48776301, 48776306)
    assert diffs[0].bids == [(19137.74, 0.0001), (19088.37, 0.0)]
    (ticker,) = rec.of("ticker")
    assert ticker.symbol == ETH and ticker.bid_price == 19177.79 and ticker.update_id == 48733182
    (trade,) = rec.of("trade")
    assert trade.side is Side.SELL and trade.quantity == 16.47 and trade.price == 0.4705
    # spot.candlesticks / spot.order_book / spot.tickers are not subscribed: ignored


def test_spot_full_book_update_is_a_snapshot():
    rec = Events()
    ws = GateioSpotPublicWs(cfg(), rec.public(), {})
    msg = sample("gate_spot_ws_public", "official doc example")
    msg["result"]["full"] = True
    ws.on_message(frame(msg))
    (book,) = rec.of("snapshot")
    assert isinstance(book, OrderBook) and book.update_id == 48776306 and book.asks == [(19137.75, 0.6135)]
    assert rec.of("diff") == []


def test_malformed_frames_reach_the_error_handler_and_the_stream_goes_on():
    rec = Events()
    ws = GateioSpotPublicWs(cfg(), rec.public(), {})
    bad_item = sample("gate_spot_ws_public", "SubscribeToBookTickerUpdates")
    bad_item["result"]["B"] = "not-a-number"
    for data in (b"{not json", frame(bad_item)):
        with pytest.raises(ProtocolError):  # re-raised for the transport's bad-frame counter
            ws.on_message(data)
    good = sample("gate_spot_ws_public", "SubscribeToBookTickerUpdates")
    ws.on_message(frame(good))
    errors = rec.of("error")
    assert len(errors) == 2 and all(isinstance(e, ProtocolError) for e in errors)
    assert len(rec.of("ticker")) == 1


def test_spot_private_frames():
    rec = Events()
    ws = GateioSpotPrivateWs(cfg(), rec.private(), {})
    for entry in load_samples("gate_spot_ws_private"):
        ws.on_message(frame(entry["response"]))
    assert rec.of("error") == []
    (order,) = rec.of("order")
    assert (
        order.order_id == "399123456"
        and order.status is OrderStatus.NEW
        and order.client_order_id == "t-testtext"
    )
    (fill,) = rec.of("execution")
    assert fill.trade_id == "5736713" and fill.quantity == 1.0 and fill.side is Side.SELL
    (balance,) = rec.of("balance")  # margin/cross/funding balance channels are not ours
    assert balance.asset == "USDT" and balance.available == 222244.3827 and balance.locked == 5.0


def test_subscribe_error_ack_becomes_a_typed_error():
    rec = Events()
    ws = GateioSpotPrivateWs(cfg(), rec.private(), {})
    ws.on_message(
        frame(
            {
                "time": 1,
                "channel": "spot.orders",
                "event": "subscribe",
                "error": {"code": 4, "message": '{"label":"INVALID_KEY","message":"Invalid key"}'},
                "result": {"status": "fail"},
            }
        )
    )
    (err,) = rec.of("error")
    assert isinstance(err, AuthenticationError) and err.code == "INVALID_KEY"


def test_private_requests_are_signed_with_a_fresh_time():
    ws = GateioSpotPrivateWs(cfg(), PrivateWebsocketHandlers(), {})
    req = json.loads(ws._ws.request("spot.orders", "subscribe", ["!all"], private=True))
    assert req["channel"] == "spot.orders" and req["payload"] == ["!all"]
    from cexarb.venues.gateio.auth import ws_signature

    assert req["auth"] == {
        "method": "api_key",
        "KEY": "k",
        "SIGN": ws_signature("s", "spot.orders", "subscribe", req["time"]),
    }


def test_futures_public_frames_in_base_units():
    rec = Events()
    info = {ETH: futures_info(ETH, 0.01)}
    ws = GateioFuturesPublicWs(cfg(Market.FUTURES), rec.public(), info)
    for entry in load_samples("gate_futures_ws_public"):
        ws.on_message(frame(entry["response"]))
    assert rec.of("error") == []
    (diff,) = rec.of("diff")
    assert diff.symbol == ETH and diff.first_id == 2517661101 and diff.bids[1] == (54664.5, 587.945)
    (ticker,) = rec.of("ticker")
    assert ticker.bid_quantity == 370.005
    (trade,) = rec.of("trade")
    assert trade.quantity == 1.085 and trade.side is Side.SELL


def test_futures_private_frames():
    rec = Events()
    info = {USD: futures_info(USD, 1.0)}
    ws = GateioFuturesPrivateWs(cfg(Market.FUTURES), rec.private(), info, 110)
    for entry in load_samples("gate_futures_ws_private"):
        ws.on_message(frame(entry["response"]))
    assert rec.of("error") == []
    (order,) = rec.of("order")
    assert order.order_id == "4872460" and order.quantity == 1.5 and order.status is OrderStatus.FILLED
    (fill,) = rec.of("execution")
    assert fill.quantity == 1.5 and fill.is_maker
    (position,) = rec.of("position")
    assert position.size == 3.5 and position.symbol == USD
    (balance,) = rec.of("balance")  # without rest=: the wallet total as available
    assert balance.asset == "BTC" and balance.available == 9.998739899488


def test_futures_frame_for_an_unknown_contract_is_reported_not_guessed():
    rec = Events()
    ws = GateioFuturesPrivateWs(cfg(Market.FUTURES), rec.private(), {}, 110)
    with pytest.raises(ProtocolError):
        ws.on_message(frame(sample("gate_futures_ws_private", "SubscribeToOrderUpdates")))
    (err,) = rec.of("error")
    assert "BTC_USD" in str(err) and rec.of("order") == []


def test_app_ping_frames():
    spot = GateioSpotPublicWs(cfg(), PublicWebsocketHandlers(), {})
    ping = json.loads(spot._ws._app_ping())
    assert ping["channel"] == "spot.ping" and isinstance(ping["time"], int)
    fut = GateioFuturesPublicWs(cfg(Market.FUTURES), PublicWebsocketHandlers(), {})
    assert json.loads(fut._ws._app_ping())["channel"] == "futures.ping"
    rec = Events()
    spot.handlers = rec.public()
    spot.on_message(b'{"time":1,"time_ms":1,"channel":"spot.pong","event":"","error":null,"result":null}')
    assert rec.items == []
