"""Protobuf push decoding: the encoded frames of test_vectors.json and the decoded WS samples."""

from __future__ import annotations

import pytest
from google.protobuf.json_format import MessageToDict, ParseDict
from hypothesis import given, settings
from hypothesis import strategies as st
from mexc_samples import load_sample, load_vectors

from cexarb.model import (
    AssetBalance,
    BookDiff,
    BookTicker,
    Execution,
    Order,
    OrderBook,
    OrderStatus,
    OrderType,
    Side,
    Symbol,
    TimeInForce,
    Trade,
)
from cexarb.model.errors import ProtocolError
from cexarb.venues.mexc.pb import PushDataV3ApiWrapper
from cexarb.venues.mexc.push_codec import PushDecoder, wire_decode
from tests.support.damage import damaged_frames

BTC = Symbol("BTC", "USDT")
MX = Symbol("MX", "USDT")
KNOWN = {"BTCUSDT": BTC, "MXUSDT": MX}


def symbol_of(name: str) -> Symbol:
    try:
        return KNOWN[name]
    except KeyError:
        raise ProtocolError(f"unknown {name}") from None


def upb_decoder() -> PushDecoder:
    """The decoder with the C wire reader off: every frame goes through upb."""
    decoder = PushDecoder(symbol_of)
    decoder._wire = None
    return decoder


WIRE = pytest.mark.skipif(wire_decode is None, reason="C push reader extension not built")


@pytest.fixture(params=[pytest.param("wire", marks=WIRE), "upb"])
def decoder(request) -> PushDecoder:
    """Every decoding test runs with the C wire reader (depth, book ticker, orders) and without it."""
    return PushDecoder(symbol_of) if request.param == "wire" else upb_decoder()


def frames() -> dict[str, bytes]:
    samples = load_vectors()["mexc_spot_ws_protobuf_samples"]["samples"]
    return {s["body"]: bytes.fromhex(s["hex"]) for s in samples}


def encode(d: dict) -> bytes:
    return ParseDict(d, PushDataV3ApiWrapper()).SerializeToString()


def test_every_vector_round_trips_through_the_generated_classes():
    samples = load_vectors()["mexc_spot_ws_protobuf_samples"]["samples"]
    assert len(samples) == 6
    for s in samples:
        msg = PushDataV3ApiWrapper()
        msg.ParseFromString(bytes.fromhex(s["hex"]))
        assert MessageToDict(msg) == s["decoded"]
        assert msg.SerializeToString().hex() == s["hex"]


def test_aggregated_depth_vector(decoder):
    (diff,) = decoder.decode(frames()["publicAggreDepths"])
    assert isinstance(diff, BookDiff)
    assert diff.symbol == BTC
    assert diff.first_id == 10589632359 and diff.last_id == 10589632360
    assert diff.asks == [(92877.59, 0.5)]
    assert diff.bids == [(92877.58, 0.0)]  # "0.00000000" removes the level
    assert diff.timestamp == 1736411507002


def test_book_ticker_vector(decoder):
    (t,) = decoder.decode(frames()["publicAggreBookTicker"])
    assert isinstance(t, BookTicker)
    assert t.symbol == BTC
    assert (t.bid_price, t.bid_quantity, t.ask_price, t.ask_quantity) == (
        93387.28,
        3.73485,
        93387.29,
        7.669875,
    )
    assert t.timestamp == 1736412092433 and t.update_id == 0


@pytest.mark.parametrize("empty", ["", "0"])
def test_an_empty_book_ticker_side_is_no_price(decoder, empty):
    frame = encode(
        {
            "channel": "spot@public.aggre.bookTicker.v3.api.pb@100ms@BTCUSDT",
            "symbol": "BTCUSDT",
            "sendTime": "1736412092433",
            "publicAggreBookTicker": {
                "bidPrice": empty,
                "bidQuantity": empty,
                "askPrice": "93387.29",
                "askQuantity": "7.669875",
            },
        }
    )
    (t,) = decoder.decode(frame)
    assert t.bid_price is None and t.bid_quantity == 0.0 and t.mid is None
    assert (t.ask_price, t.ask_quantity) == (93387.29, 7.669875)


def test_deals_vector(decoder):
    (tr,) = decoder.decode(frames()["publicAggreDeals"])
    assert isinstance(tr, Trade)
    assert tr.symbol == BTC and tr.price == 93220.0 and tr.quantity == 0.04438243
    assert tr.side is Side.SELL and tr.timestamp == 1736409765051 and tr.trade_id == ""


def test_private_order_vector(decoder):
    (o,) = decoder.decode(frames()["privateOrders"])
    assert isinstance(o, Order)
    assert o.symbol == MX
    assert o.order_id == "C02__505979017439002624115" and o.client_order_id == "myOrder-001"
    assert o.price == 3.5121 and o.quantity == 1.0
    assert o.side is Side.SELL and o.order_type is OrderType.LIMIT and o.time_in_force is TimeInForce.GTC
    assert o.status is OrderStatus.FILLED
    assert o.filled_quantity == 1.0 and o.remaining_quantity == 0.0 and o.average_price == 3.6962
    assert o.created_at == 1736417034259 and o.updated_at == 1736417034281


def test_private_account_vector(decoder):
    (b,) = decoder.decode(frames()["privateAccount"])
    assert b == AssetBalance("USDT", 21.94210356004384, 0.0)


def test_private_deal_vector(decoder):
    (e,) = decoder.decode(frames()["privateDeals"])
    assert isinstance(e, Execution)
    assert e.symbol == MX and e.trade_id == "505979017439002624X1"
    assert e.order_id == "C02__505979017439002624115" and e.client_order_id == "myOrder-001"
    assert e.side is Side.SELL and e.price == 3.6962 and e.quantity == 1.0
    assert e.fee == 0.0003998377369698171 and e.fee_asset == "MX"
    assert e.is_maker is False and e.timestamp == 1736417034280


# --- the decoded renderings published in the docs, re-encoded with canonical names ---------

_DOC_KEYS = {
    "publicdeals": "publicAggreDeals",
    "dealsList": "deals",
    "tradetype": "tradeType",
    "eventtype": "eventType",
    "sendtime": "sendTime",
    "asksList": "asks",
    "bidsList": "bids",
    "publiclimitdepths": "publicLimitDepths",
    "publicbookticker": "publicAggreBookTicker",
    "bidprice": "bidPrice",
    "bidquantity": "bidQuantity",
    "askprice": "askPrice",
    "askquantity": "askQuantity",
}


def canonical(obj, channel: str = ""):
    """The docs' toString() key spellings -> proto3 JSON names (by channel for the depth body)."""
    if isinstance(obj, list):
        return [canonical(x, channel) for x in obj]
    if not isinstance(obj, dict):
        return obj
    channel = obj.get("channel", channel)
    out = {}
    for k, v in obj.items():
        if k == "publicincreasedepths" and "aggre.depth" in channel:
            k = "publicAggreDepths"  # the docs label the aggregated body with the legacy name
        out[_DOC_KEYS.get(k, k)] = canonical(v, channel)
    return out


def ws_sample(file: str, description_part: str) -> dict:
    (hit,) = [
        e["response"]
        for e in load_sample(file)
        if description_part in e["description"] and "server message" in e["description"]
    ]
    return hit


def test_doc_trade_stream(decoder):
    (tr,) = decoder.decode(encode(canonical(ws_sample("mexc_spot_ws_public.json", "Trade Streams"))))
    assert tr == Trade(BTC, 93220.0, 0.04438243, Side.SELL, 1736409765051, "")


def test_doc_diff_depth_stream(decoder):
    (diff,) = decoder.decode(encode(canonical(ws_sample("mexc_spot_ws_public.json", "Diff.Depth"))))
    assert diff == BookDiff(BTC, 10589632359, 10589632359, [(92877.58, 0.0)], [], 1736411507002)


def test_doc_partial_depth_stream_is_a_snapshot(decoder):
    (book,) = decoder.decode(encode(canonical(ws_sample("mexc_spot_ws_public.json", "Partial Book Depth"))))
    assert isinstance(book, OrderBook)
    assert book.symbol == BTC and book.update_id == 36913565463
    assert book.asks == [(93180.18, 0.21976424)] and book.bids == [(93179.98, 2.82651)]


def test_doc_book_ticker_stream(decoder):
    sample = ws_sample("mexc_spot_ws_public.json", "Individual Symbol Book Ticker Streams: server")
    (t,) = decoder.decode(encode(canonical(sample)))
    assert (t.bid_price, t.bid_quantity, t.ask_price, t.ask_quantity) == (
        93387.28,
        3.73485,
        93387.29,
        7.669875,
    )


def test_doc_book_ticker_batch_stream(decoder):
    sample = ws_sample("mexc_spot_ws_public.json", "(Batch Aggregation): server")
    (t,) = decoder.decode(encode(sample))
    assert t == BookTicker(BTC, 96567.37, 3.362925, 96567.38, 1.545255, 1739503249114, 0)


def test_doc_kline_stream_has_no_model_event(decoder):
    sample = ws_sample("mexc_spot_ws_public.json", "K-line Streams")
    msg = {
        "channel": sample["channel"],
        "symbol": "BTCUSDT",
        "publicSpotKline": {"interval": "Min15", "windowStart": "1736410500", "openingPrice": "92925"},
    }
    assert decoder.decode(encode(msg)) == []


def test_doc_private_account(decoder):
    (b,) = decoder.decode(encode(ws_sample("mexc_spot_ws_private.json", "Spot Account Update")))
    assert b == AssetBalance("USDT", 21.94210356004384, 0.0)


def test_doc_private_deals(decoder):
    (e,) = decoder.decode(encode(ws_sample("mexc_spot_ws_private.json", "Spot Account Deals")))
    assert e.trade_id == "505979017439002624X1" and e.order_id == "C02__505979017439002624115"
    assert e.client_order_id == "" and e.fee_asset == "MX" and e.side is Side.SELL


def test_doc_private_orders_market(decoder):
    (o,) = decoder.decode(encode(ws_sample("mexc_spot_ws_private.json", "Spot Account Orders: server")))
    assert o.order_id == "C02__505979017439002624115"
    assert o.order_type is OrderType.MARKET and o.status is OrderStatus.FILLED


def test_web_doc_variant_with_order_id_under_client_id(decoder):
    (sample,) = [
        e["response"]
        for e in load_sample("mexc_spot_ws_private.json")
        if "current web docs" in e["description"]
    ]
    (o,) = decoder.decode(encode(sample))
    assert o.order_id == "C02__505979017439002624115" and o.client_order_id == ""


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (1, OrderStatus.NEW),
        (2, OrderStatus.FILLED),
        (3, OrderStatus.PARTIALLY_FILLED),
        (4, OrderStatus.CANCELED),
        (5, OrderStatus.PARTIALLY_CANCELED),
    ],
)
def test_ws_order_status(decoder, status, expected):
    msg = MessageToDict(_parsed(frames()["privateOrders"]))
    msg["privateOrders"]["status"] = status
    (o,) = decoder.decode(encode(msg))
    assert o.status is expected


@pytest.mark.parametrize(
    ("code", "order_type", "tif"),
    [
        (1, OrderType.LIMIT, TimeInForce.GTC),
        (2, OrderType.LIMIT_MAKER, TimeInForce.POST_ONLY),
        (3, OrderType.LIMIT, TimeInForce.IOC),
        (4, OrderType.LIMIT, TimeInForce.FOK),
        (5, OrderType.MARKET, TimeInForce.IOC),
    ],
)
def test_ws_order_types(decoder, code, order_type, tif):
    msg = MessageToDict(_parsed(frames()["privateOrders"]))
    msg["privateOrders"]["orderType"] = code
    (o,) = decoder.decode(encode(msg))
    assert (o.order_type, o.time_in_force) == (order_type, tif)


def _parsed(data: bytes) -> PushDataV3ApiWrapper:
    msg = PushDataV3ApiWrapper()
    msg.ParseFromString(data)
    return msg


def test_legacy_increase_depth_and_batch(decoder):
    single = {
        "channel": "spot@public.increase.depth.v3.api.pb@BTCUSDT",
        "symbol": "BTCUSDT",
        "sendTime": "5",
        "publicIncreaseDepths": {"asks": [{"price": "1.5", "quantity": "2"}], "version": "77"},
    }
    (d,) = decoder.decode(encode(single))
    assert (d.first_id, d.last_id, d.asks, d.bids) == (77, 77, [(1.5, 2.0)], [])
    batch = {
        "channel": "spot@public.increase.depth.batch.v3.api.pb@BTCUSDT",
        "symbol": "BTCUSDT",
        "publicIncreaseDepthsBatch": {
            "items": [
                {"bids": [{"price": "1", "quantity": "0"}], "version": "8"},
                {"asks": [{"price": "2", "quantity": "1"}], "version": "9"},
            ]
        },
    }
    d1, d2 = decoder.decode(encode(batch))
    assert (d1.last_id, d1.bids, d2.first_id, d2.asks) == (8, [(1.0, 0.0)], 9, [(2.0, 1.0)])


def test_symbol_falls_back_to_the_channel_suffix(decoder):
    msg = MessageToDict(_parsed(frames()["publicAggreDepths"]))
    del msg["symbol"]
    (d,) = decoder.decode(encode(msg))
    assert d.symbol == BTC


@pytest.mark.parametrize("cut", [5, 60, 120, 175])
def test_truncated_frames_raise_protocol_error(decoder, cut):
    with pytest.raises(ProtocolError):
        decoder.decode(frames()["publicAggreDepths"][:cut])


def test_garbage_frames_raise_protocol_error(decoder):
    for junk in (b"\xff\xff\xff", b"", b'{"not": "protobuf"}'):
        with pytest.raises(ProtocolError):
            decoder.decode(junk)


def test_non_numeric_version_is_protocol_error(decoder):
    msg = MessageToDict(_parsed(frames()["publicAggreDepths"]))
    msg["publicAggreDepths"]["fromVersion"] = "abc"
    with pytest.raises(ProtocolError):
        decoder.decode(encode(msg))


def test_unknown_symbol_is_protocol_error_and_decoder_recovers(decoder):
    msg = MessageToDict(_parsed(frames()["publicAggreDepths"]))
    msg["symbol"] = "ZZZUSDT"
    with pytest.raises(ProtocolError):
        decoder.decode(encode(msg))
    assert decoder.decode(frames()["publicAggreDepths"])[0].symbol == BTC


# --- the C wire reader against upb --------------------------------------------------------


def _outcome(decoder: PushDecoder, data: bytes) -> str:
    """The events' repr (tells nan and -0.0 apart) or the error type."""
    try:
        return repr(decoder.decode(data))
    except Exception as exc:
        return type(exc).__name__


_decimal = st.one_of(
    st.integers(0, 10**12).map(str),
    st.tuples(st.integers(0, 10**9), st.integers(0, 10**10), st.integers(1, 12)).map(
        lambda t: f"{t[0]}.{str(t[1]).zfill(t[2])[: t[2]]}"
    ),
    st.sampled_from(
        ["0", "0.00000000", "-1.5", "123456789012345678901.5", "1e5", "", "01", "1.", ".5", "nan"]
    ),
)
_level = st.fixed_dictionaries({"price": _decimal, "quantity": _decimal})
_version = st.one_of(st.integers(0, 10**15).map(str), st.sampled_from(["", "abc", "+1", "007"]))


@WIRE
@settings(max_examples=300, deadline=None)
@given(
    asks=st.lists(_level, max_size=8),
    bids=st.lists(_level, max_size=8),
    from_version=_version,
    to_version=_version,
    symbol=st.sampled_from([None, "BTCUSDT", "", "ZZZUSDT"]),
    send_time=st.integers(-(2**63), 2**63 - 1),
)
def test_wire_reader_agrees_with_upb_on_depth(asks, bids, from_version, to_version, symbol, send_time):
    msg = {
        "channel": "spot@public.aggre.depth.v3.api.pb@100ms@BTCUSDT",
        "sendTime": str(send_time),
        "publicAggreDepths": {
            "asks": asks,
            "bids": bids,
            "eventType": "spot@public.aggre.depth.v3.api.pb@100ms",
            "fromVersion": from_version,
            "toVersion": to_version,
        },
    }
    if symbol is not None:
        msg["symbol"] = symbol
    data = encode(msg)
    assert _outcome(PushDecoder(symbol_of), data) == _outcome(upb_decoder(), data)


@WIRE
@settings(max_examples=200, deadline=None)
@given(prices=st.lists(_decimal, min_size=4, max_size=4), version=_version)
def test_wire_reader_agrees_with_upb_on_book_ticker(prices, version):
    body = dict(zip(("bidPrice", "bidQuantity", "askPrice", "askQuantity"), prices, strict=True))
    msg = {
        "channel": "spot@public.aggre.bookTicker.v3.api.pb@100ms@BTCUSDT",
        "symbol": "BTCUSDT",
        "sendTime": "1736412092433",
        "publicAggreBookTicker": {**body, "version": version},
    }
    data = encode(msg)
    assert _outcome(PushDecoder(symbol_of), data) == _outcome(upb_decoder(), data)


# Each field is what the reader takes most of the time, and anything else now and then.
_ids = st.sampled_from(["", "C02__1", "bench000000001"])
_text = st.one_of(_ids, _ids, st.text(max_size=6))
_int32 = st.integers(-(2**31), 2**31 - 1)
_plain = st.decimals(0, 10**6, places=4, allow_nan=False).map(str)


@WIRE
@settings(max_examples=400, deadline=None)
@given(
    order_id=_text,
    client_id=_text,
    decimals=st.lists(st.one_of(_plain, _plain, _decimal), min_size=8, max_size=8),
    ints=st.tuples(
        st.one_of(st.sampled_from([1, 2, 3, 4, 5, 100]), _int32),
        st.one_of(st.sampled_from([1, 2]), st.sampled_from([1, 2]), _int32),
        st.one_of(st.integers(0, 5), st.integers(0, 5), st.integers(-3, 8), _int32),
    ),
    times=st.lists(st.integers(-(2**63), 2**63 - 1), min_size=2, max_size=2),
    is_maker=st.booleans(),
    extra=st.dictionaries(st.sampled_from(["market", "symbolId", "ocoId", "triggerPrice"]), _text),
    symbol=st.sampled_from([None, "BTCUSDT", "", "ZZZUSDT"]),
    drop=st.one_of(
        st.just(()), st.sets(st.sampled_from(["id", "price", "status", "tradeType", "createTime"]))
    ),
)
def test_wire_reader_agrees_with_upb_on_orders(
    order_id, client_id, decimals, ints, times, is_maker, extra, symbol, drop
):
    names = ("price", "quantity", "amount", "avgPrice", "remainAmount", "remainQuantity")
    names += ("cumulativeQuantity", "cumulativeAmount")
    body = dict(zip(names, decimals, strict=True))
    body.update(id=order_id, clientId=client_id, isMaker=is_maker, createTime=str(times[0]), **extra)
    body.update(zip(("orderType", "tradeType", "status"), ints, strict=True))
    for name in drop:
        body.pop(name, None)
    msg = {"channel": "spot@private.orders.v3.api.pb", "sendTime": str(times[1]), "privateOrders": body}
    if symbol is not None:
        msg["symbol"] = symbol
    data = encode(msg)
    assert _outcome(PushDecoder(symbol_of), data) == _outcome(upb_decoder(), data)


@WIRE
@settings(max_examples=200, deadline=None)
@given(
    order_id=_ids,
    client_id=_ids,
    decimals=st.lists(_plain, min_size=5, max_size=5),
    order_type=st.sampled_from([1, 2, 3, 4, 5, 100]),
    trade_type=st.sampled_from([1, 2]),
    status=st.integers(0, 5),
    times=st.lists(st.integers(0, 2**62), min_size=2, max_size=2),
)
def test_wire_reader_reads_orders_as_upb_does(
    order_id, client_id, decimals, order_type, trade_type, status, times
):
    """Orders in the shape the venue sends: read by the C reader, to the same event."""
    names = ("price", "quantity", "avgPrice", "remainQuantity", "cumulativeQuantity")
    body = dict(zip(names, decimals, strict=True))
    body.update(id=order_id, clientId=client_id, orderType=order_type, tradeType=trade_type)
    body.update(status=status, createTime=str(times[0]))
    msg = {"channel": "spot@private.orders.v3.api.pb", "symbol": "BTCUSDT", "sendTime": str(times[1])}
    data = encode({**msg, "privateOrders": body})
    assert wire_decode(data) is not None
    assert _outcome(PushDecoder(symbol_of), data) == _outcome(upb_decoder(), data)


@WIRE
def test_wire_reader_agrees_with_upb_on_damaged_frames():
    """Truncated, bit-flipped and spliced frames: the same events, or the same rejection."""
    base = [frames()[body] for body in ("publicAggreDepths", "publicAggreBookTicker", "privateOrders")]
    fast, slow = PushDecoder(symbol_of), upb_decoder()
    for data in damaged_frames(base, 6000, seed=7):
        assert _outcome(fast, data) == _outcome(slow, data), data.hex()


@WIRE
def test_wire_reader_leaves_what_it_does_not_know_to_upb():
    depth = frames()["publicAggreDepths"]
    assert wire_decode(depth) is not None
    assert wire_decode(frames()["privateOrders"]) is not None
    assert wire_decode(frames()["privateDeals"]) is None  # another body
    assert wire_decode(depth + bytes([0x10, 0x01])) is None  # an unknown field (2, varint)
    msg = MessageToDict(_parsed(depth))
    msg["publicAggreDepths"]["asks"][0]["price"] = "1e5"  # float() reads it; this reader does not
    assert wire_decode(encode(msg)) is None
    assert PushDecoder(symbol_of).decode(encode(msg))[0].asks == [(100000.0, 0.5)]
