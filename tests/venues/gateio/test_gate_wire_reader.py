"""The compiled one-pass reader of Gate order, fill, book and ticker frames (`_gatewire`)
against msgspec.

Its contract: for any frame, either it declines (None) and the msgspec path decides as it
always did, or it gives exactly the Structs the msgspec path gives for that frame. So every
frame here goes through both, and a frame it accepts must decode the same way by msgspec.
"""

from __future__ import annotations

import json

import msgspec
import pytest
from gate_samples import load_samples
from hypothesis import given, settings
from hypothesis import strategies as st

from cexarb.venues.gateio import messages as m
from cexarb.venues.gateio import ws_common
from cexarb.venues.gateio.ws_common import _decode_envelope, result_decoder, wire_spec
from tests.support.damage import damaged_frames

pytestmark = pytest.mark.skipif(ws_common._gatewire is None, reason="C frame reader extension not built")

CHANNELS = (
    ("spot.orders", m.SpotOrderMsg),
    ("spot.usertrades", m.SpotUserTradeMsg),
    ("futures.orders", m.FuturesOrderMsg),
    ("futures.usertrades", m.FuturesUserTradeMsg),
    ("spot.order_book_update", m.SpotBookUpdateMsg),  # one object, not a list
    ("spot.book_ticker", m.BookTickerMsg),
)
SINGLE = {"spot.order_book_update", "spot.book_ticker"}
DECODERS = [result_decoder(kind if name in SINGLE else list[kind]) for name, kind in CHANNELS]
LEVELS = list[tuple[float, float]]


def reader():
    specs = (wire_spec(name, kind, single=name in SINGLE) for name, kind in CHANNELS)
    return ws_common._gatewire.compile(tuple(specs))


READER = reader() if ws_common._gatewire is not None else None


def msgspec_path(data: bytes | str):
    """What GateWs.on_message's msgspec path hands the channel's handler, or the error."""
    try:
        env = _decode_envelope(data)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return "undecodable"
    if env.event not in ("update", "all"):
        return "not an update"
    names = [channel for channel, _ in CHANNELS]
    if env.channel not in names:
        return "other channel"
    index = names.index(env.channel)
    try:
        return (index, DECODERS[index](env.result))
    except (msgspec.DecodeError, msgspec.ValidationError):
        return "bad result"


def check(data: bytes | str) -> bool:
    """Asserts the contract for one frame; True when the reader took it."""
    fast = ws_common._gatewire.read(data, READER)
    if fast is None:
        return False
    slow = msgspec_path(data)
    assert repr(fast) == repr(slow), data  # repr tells -0.0 from 0.0 and 1 from "1"
    return True


# ---- values in the forms Gate sends and in forms only msgspec takes ----------------------------

_plain = st.one_of(
    st.integers(0, 10**12).map(str),
    st.decimals(0, 10**7, places=8, allow_nan=False).map(lambda d: f"{d:f}"),
    st.sampled_from(["0", "-0", "-0.0", "0.000", "-1.5", "123456789012345678901.5", "1." + "3" * 30]),
)
_odd = st.sampled_from(["1e5", "1E-3", "", " 1", "01", ".5", "1.", "nan", "inf", "+1", "1_0", "0x10", "null"])
_number_text = st.one_of(_plain, _plain, _odd)
_text = st.one_of(
    st.sampled_from(["", "t-abc", "BTC_USDT", "buy", "sell", "limit", "gtc", "finish", "ioc"]),
    st.text(max_size=6),
    st.text(max_size=30),  # long enough for the reader's eight-bytes-at-a-time scan
)


def _json_number(text: str):
    """A decimal string as a raw JSON number token (only when it is one)."""
    return msgspec.Raw(text.encode()) if text and text[0] in "-0123456789" and _valid(text) else text


def _valid(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


def _value(kind):
    """Strategy for a field value of a Struct field's kind (and now and then another type)."""
    other = st.one_of(st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.just([1, {"a": 2}]), _text)
    if kind is float or kind == float | None:
        value = st.one_of(_number_text, _number_text.map(_json_number))
        return st.one_of(value, value, value, other)
    if kind is str:
        return st.one_of(_text, _text, _text, other)
    if kind is int:
        return st.one_of(st.integers(-(2**63), 2**63), st.integers(0, 10**6).map(str), other)
    if kind is bool:
        return st.one_of(st.booleans(), st.booleans(), other)
    if kind == LEVELS:
        number = st.one_of(_number_text, _number_text.map(_json_number), other)
        level = st.one_of(st.tuples(number, number), st.lists(number, max_size=3))
        return st.one_of(st.lists(level, max_size=4), other)
    # str | int
    return st.one_of(_text, st.integers(0, 10**20), st.integers(0, 10**20).map(str), other)


def _item(kind: type) -> st.SearchStrategy[dict]:
    fields = msgspec.structs.fields(kind)
    values = {f.encode_name: _value(f.type) for f in fields}
    extras = {"user": st.integers(0, 10**9), "stp_act": _text, "biz_info": st.just({"a": [1, "x", None]})}
    return st.fixed_dictionaries({}, optional={**values, **extras})


def _encode(obj) -> str:
    """JSON with Raw tokens inlined (msgspec), so numbers can appear bare."""
    return msgspec.json.encode(obj).decode()


_envelope = st.fixed_dictionaries(
    {"event": st.sampled_from(["update", "update", "all", "subscribe", ""])},
    optional={
        "time": st.integers(0, 2**40),
        "time_ms": st.one_of(st.integers(0, 2**50), st.integers(0, 2**50).map(str), st.just(1.5)),
        "error": st.one_of(st.none(), st.just({"code": 1, "message": "x"})),
        "type": st.sampled_from(["", "upgrade"]),
    },
)


@settings(max_examples=500, deadline=None)
@given(data=st.data(), which=st.integers(0, len(CHANNELS) - 1), count=st.integers(0, 3))
def test_reader_agrees_with_msgspec_on_random_frames(data, which, count):
    channel, kind = CHANNELS[which]
    env = data.draw(_envelope)
    items = [data.draw(_item(kind)) for _ in range(count)]
    result = (items[0] if items else {}) if channel in SINGLE else items
    keys = [*env, "channel", "result"]
    order = data.draw(st.permutations(keys))
    frame = {k: (channel if k == "channel" else result if k == "result" else env[k]) for k in order}
    text = _encode(frame)
    check(text)
    check(text.encode())


def _good(kind):
    """Strategy for a value in a form the reader takes, for a Struct field's kind."""
    if kind is float or kind == float | None:
        return st.one_of(_plain, _plain.map(_json_number), _plain if kind is float else st.none())
    if kind is str:
        return st.sampled_from(["", "t-abc", "BTC_USDT", "buy", "limit", "finish", "~!@#$%^&*()'{}[]:,"])
    if kind is int:
        return st.integers(-(10**18) + 1, 10**18 - 1)
    if kind is bool:
        return st.booleans()
    if kind == LEVELS:
        number = st.one_of(_plain, _plain.map(_json_number))
        return st.lists(st.tuples(number, number), max_size=6)
    return st.one_of(st.integers(0, 10**18 - 1), st.integers(0, 10**20).map(str))


@settings(max_examples=300, deadline=None)
@given(data=st.data(), which=st.integers(0, len(CHANNELS) - 1), count=st.integers(1, 3))
def test_reader_takes_and_agrees_on_every_form_it_knows(data, which, count):
    channel, kind = CHANNELS[which]
    fields = msgspec.structs.fields(kind)
    required = {f.encode_name: _good(f.type) for f in fields if f.required}
    optional = {f.encode_name: _good(f.type) for f in fields if not f.required}
    optional["user"] = st.integers(0, 10**9)
    items = [data.draw(st.fixed_dictionaries(required, optional=optional)) for _ in range(count)]
    shuffled = [dict(data.draw(st.permutations(list(item.items())))) for item in items]
    result = shuffled[0] if channel in SINGLE else shuffled
    frame = {"time_ms": 1, "channel": channel, "event": "update", "error": None, "result": result}
    assert check(_encode(frame))


def _base_frames() -> list[str]:
    out = []
    for name in ("gate_spot_ws_private", "gate_futures_ws_private", "gate_spot_ws_public"):
        for entry in load_samples(name):
            response = entry["response"]
            if response.get("channel") in dict(CHANNELS) and response.get("event") == "update":
                out.append(json.dumps(response))
    return out


def test_reader_reads_the_published_order_and_fill_frames():
    frames = _base_frames()
    assert len(frames) >= 4
    for text in frames:
        assert check(text), text
        assert check(json.dumps(json.loads(text), separators=(",", ":")).encode())


@settings(max_examples=300, deadline=None)
@given(
    amount=_plain,
    price=_plain,
    left=_plain,
    times=st.lists(st.integers(10**12, 2 * 10**12).map(str), min_size=2, max_size=2),
    oid=st.integers(1, 10**12),
    text=st.sampled_from(["t-abc", "apiv4", ""]),
    spaced=st.booleans(),
)
def test_reader_takes_orders_in_the_shape_gate_sends(amount, price, left, times, oid, text, spaced):
    item = {
        "id": str(oid),
        "text": text,
        "currency_pair": "BTC_USDT",
        "type": "limit",
        "account": "spot",
        "side": "buy",
        "amount": amount,
        "price": price,
        "left": left,
        "filled_total": "0",
        "fee": "0",
        "point_fee": "0",
        "create_time_ms": times[0],
        "update_time_ms": times[1],
        "user": 3497082,
        "event": "put",
    }
    frame = {"time": 1, "time_ms": 1, "channel": "spot.orders", "event": "update", "result": [item]}
    data = json.dumps(frame, separators=(", ", ": ") if spaced else (",", ":"))
    assert check(data)


def test_reader_agrees_with_msgspec_on_damaged_frames():
    """Truncated, byte-flipped and spliced frames: the reader declines or agrees."""
    base = [t.encode() for t in _base_frames()]
    taken = 0
    for data in damaged_frames(base, 6000, seed=11):
        taken += check(data)
    assert taken  # some damage leaves a frame it still reads (a digit changed)


@pytest.mark.parametrize(
    "frame",
    [
        '{"channel":"spot.orders","event":"subscribe","result":[]}',  # an ack
        '{"channel":"spot.balances","event":"update","result":[]}',  # no schema
        '{"event":"update","result":[],"channel":"spot.orders"}',  # result before channel
        '{"channel":"spot.orders","event":"update","error":{"code":1},"result":[]}',
        '{"channel":"spot.orders","event":"update","time_ms":"5","result":[]}',  # strict int
        '{"channel":"spot.orders","event":"update","result":[{"amount":"1e5"}]}',
        '{"channel":"spot.orders","event":"update","result":[{"text":"\\u0074-a"}]}',
        '{"channel":"spot.orders","event":"update","result":[{"amount":"1","amount":"2"}]}',
        '{"channel":"spot.orders","event":"update","result":[{"fee":"0.1"}]} x',
        '{"channel":"spot.orders","event":"update","result":[{"text":"é"}]}',
        '{"channel":"spot.order_book_update","event":"update","result":[]}',  # a list, not one
        '{"channel":"spot.order_book_update","event":"update","result":{"s":"A","U":1,"u":2,"b":[["1"]]}}',
        '{"channel":"spot.order_book_update","event":"update","result":{"s":"A","U":1,"u":2,"b":[["1","2","3"]]}}',
        '{"channel":"spot.order_book_update","event":"update","result":{"s":"A","U":1,"b":[]}}',  # no u
    ],
)
def test_reader_declines_what_it_does_not_fully_read(frame):
    assert ws_common._gatewire.read(frame, READER) is None
    assert ws_common._gatewire.read(frame.encode(), READER) is None


def test_struct_fields_it_cannot_build_exactly_are_refused():
    class Odd(msgspec.Struct):
        levels: list[float] = []

    with pytest.raises(TypeError):
        wire_spec("x", Odd)


@pytest.mark.parametrize("odd", ['"', "\\", "\x01", "\x1f", "\x7f", "é", "€"])
def test_a_string_is_scanned_to_its_end_wherever_an_odd_byte_sits(odd):
    for before in range(20):
        for after in (0, 1, 7, 8, 9):
            text = "a" * before + odd + "b" * after
            item = {"id": "1", "text": text, "amount": "1.5"}
            frame = {"channel": "spot.orders", "event": "update", "result": [item]}
            data = json.dumps(frame, ensure_ascii=False)
            assert check(data) is (odd == "\x7f")
            assert check(data.encode()) is (odd == "\x7f")
