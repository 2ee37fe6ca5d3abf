"""The compiled reader's own Orders (`_gatewire` with `codec.wire_order_build`) against the
Python codec.

Its contract: for any spot.orders or futures.orders frame, either it declines (None) and the
Python path (msgspec, then `codec.order_from_msg` / `codec.futures_order_from_msg`) handles
the frame as it always did, or it gives exactly the Orders that path gives: every field of
the same type and value, -0.0 told from 0.0. Frames here go through both, in the forms Gate
sends and in odd ones (every status/event/finish_as/type/side/tif combination, signed zeros,
huge and long-fraction numbers, seconds and milliseconds, missing optional fields, futures
contract sizes that do and do not divide by a power of ten).
"""

from __future__ import annotations

import json
import random

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cexarb.venues.gateio import codec, ws_common
from cexarb.venues.gateio import messages as m
from cexarb.venues.gateio.symbols import KNOWN_PAIRS
from cexarb.venues.gateio.ws_common import _decode_envelope, result_decoder, wire_spec

pytestmark = pytest.mark.skipif(ws_common._gatewire is None, reason="C frame reader extension not built")

# The futures stream's contract-size cache; contracts not in it must be declined.
SIZES = {
    "BTC_USDT": 0.0001,
    "ETH_USDT": 0.01,
    "ONE_USDT": 1.0,
    "TEN_USDT": 10.0,
    "PICO_USDT": 1e-12,
    "TINY_USDT": 1e-13,
    "ODD_USDT": 0.3,
    "QUART_USDT": 0.00025,
    "ZERO_USDT": 0.0,
}
UNCACHED = "NEW_USDT"
CHANNELS = (("spot.orders", m.SpotOrderMsg), ("futures.orders", m.FuturesOrderMsg))
DECODERS = [result_decoder(list[kind]) for _, kind in CHANNELS]


def compile_reader():
    specs = (
        wire_spec("spot.orders", m.SpotOrderMsg, build=codec.wire_order_build()),
        wire_spec("futures.orders", m.FuturesOrderMsg, build=codec.wire_order_build(SIZES)),
    )
    return ws_common._gatewire.compile(specs)


READER = compile_reader() if ws_common._gatewire is not None else None


def python_path(data: str | bytes):
    """(channel index, Orders) as the msgspec path and the Python codecs make them, or a
    reason they would not (an error the stream reports)."""
    try:
        env = _decode_envelope(data)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return "undecodable"
    names = [name for name, _ in CHANNELS]
    if env.event not in ("update", "all") or env.channel not in names:
        return "not an order update"
    index = names.index(env.channel)
    try:
        msgs = DECODERS[index](env.result)
        if index == 0:
            return index, [codec.order_from_msg(msg) for msg in msgs]
        return index, [codec.futures_order_from_msg(msg, SIZES[msg.contract]) for msg in msgs]
    except (msgspec.DecodeError, msgspec.ValidationError, KeyError, ValueError) as exc:
        return f"raises {type(exc).__name__}"


def fields(order) -> list[str]:
    """Each field as type and repr: repr tells -0.0 from 0.0, nan from nan's absence, 1 from 1.0."""
    return [f"{type(v).__name__}:{v!r}" for v in msgspec.structs.astuple(order)]


def check(data: str | bytes) -> bool:
    """Asserts the contract for one frame; True when the reader took it."""
    fast = ws_common._gatewire.read(data, READER)
    if fast is None:
        return False
    slow = python_path(data)
    assert isinstance(slow, tuple), (slow, data)
    assert fast[0] == slow[0], data
    assert [fields(o) for o in fast[1]] == [fields(o) for o in slow[1]], data
    return True


# ---- values ---------------------------------------------------------------------------------

_number = st.one_of(
    st.builds(lambda i, f: f"{i}.{f}", st.integers(0, 10**6), st.integers(0, 10**12)),
    st.integers(0, 2000).map(str),
    st.builds(lambda i, f: f"{i}.{f:0>{12}}", st.integers(0, 10), st.integers(0, 10**12)),
    st.sampled_from(
        [
            "0",
            "-0",
            "0.0",
            "-0.0",
            "0.000000000001",
            "0.0000000000004",
            "0.0000000000005",
            "0.0001220703125",  # 1/8192: round(x, 12) is an exact tie
            "0.1",
            "0.2",
            "0.3",
            "1024",
            "1023",
            "4503599627370497",
            "123456789012345678",
            "123456789012345678901.5",
            "1." + "3" * 30,
            "0." + "0" * 20 + "7",
            "1" + "0" * 60 + ".5",
        ]
    ),
)
_signed = st.one_of(_number, _number.map(lambda t: t if t.startswith("-") else "-" + t))
_odd_number = st.sampled_from(["nan", "inf", "-inf", "1e5", "", "abc", "1E-3"])


def _as_json(text: str, bare: bool):
    """A decimal as a string (Gate's form) or as a raw JSON number token."""
    if bare and text and text[0] in "-0123456789":
        try:
            json.loads(text)
        except ValueError:
            return text
        return msgspec.Raw(text.encode())
    return text


def _float(odd: bool, values=_number):
    """A float field's value; with `odd`, now and then a form only msgspec reads."""
    return st.builds(_as_json, st.one_of(values, _odd_number) if odd else values, st.booleans())


_seconds = st.one_of(
    st.integers(1_600_000_000, 1_800_000_000).map(str),
    st.builds(lambda s, f: f"{s}.{f}", st.integers(1_600_000_000, 1_800_000_000), st.integers(0, 999999)),
    st.sampled_from(["0", "-5", "0.0005", "0.4", "99999999999.9", "100000000000"]),
)
_millis = st.one_of(
    st.integers(1_600_000_000_000, 1_800_000_000_000).map(str),
    st.builds(lambda s, f: f"{s}.{f}", st.integers(1_600_000_000_000, 1_800_000_000_000), st.integers(0, 99)),
    _seconds,
)
_time = st.builds(_as_json, _millis, st.booleans())
_text = st.sampled_from(["t-abc", "t-", "t", "apiv4", "", "T-abc", "t-" + "x" * 28, "-t"])
_id = st.one_of(st.integers(0, 10**18 - 1), st.integers(0, 10**20).map(str), st.sampled_from(["", "abc"]))
_odd_id = st.one_of(_id, st.just(10**19))  # beyond the reader's 18 digits: declined


def _either(odd: bool, usual: list[str], unusual: list[str]) -> st.SearchStrategy[str]:
    return st.sampled_from(usual + unusual if odd else usual)


def _spot_item(odd: bool) -> st.SearchStrategy[dict]:
    """A spot.orders item; without `odd` only in forms the reader takes and the codec reads."""
    optional = {
        "id": _odd_id if odd else _id,
        "text": _text,
        "type": st.sampled_from(["limit", "market", "stop", ""]),
        "side": _either(odd, ["buy", "sell"], ["BUY", ""]),
        "amount": _float(odd),
        "price": _float(odd),
        "time_in_force": st.sampled_from(["gtc", "ioc", "fok", "poc", "GTC", "", "gtd"]),
        "left": st.one_of(_float(odd), st.none()),
        "filled_amount": st.one_of(_float(odd), st.none()),
        "filled_total": _float(odd),
        "avg_deal_price": _float(odd),
        "fee": _float(odd),
        "fee_currency": st.sampled_from(["USDT", "BTC", "GT", ""]),
        "gt_fee": _float(odd),
        "status": st.sampled_from(["open", "closed", "cancelled", "", "canceled"]),
        "finish_as": st.sampled_from(["open", "filled", "cancelled", "poc", "ioc", "stp", ""]),
        "event": st.sampled_from(["put", "update", "finish", ""]),
        "create_time": _time,
        "create_time_ms": _time,
        "update_time": _time,
        "update_time_ms": _time,
        "user": st.integers(0, 10**9),
        "point_fee": st.just("0"),
    }
    # A missing pair is "", which from_venue refuses.
    pairs = _either(odd, ["BTC_USDT", "ETH_USDT", "btc_usdt", "A_B"], ["BTCUSDT", ""])
    return st.fixed_dictionaries({"currency_pair": pairs}, optional=optional)


def _futures_item(odd: bool) -> st.SearchStrategy[dict]:
    """A futures.orders item; without `odd` only in forms the reader takes, of cached contracts."""
    sizes = st.one_of(
        st.integers(-5000, 5000).map(str),
        st.integers(-(10**16), 10**16).map(str),
        _signed,
    )
    required = {
        "contract": _either(odd, list(SIZES), [UNCACHED]),
        "size": st.builds(_as_json, sizes, st.booleans()),
    }
    optional = {
        "id": _odd_id if odd else _id,
        "left": st.builds(_as_json, sizes, st.booleans()),
        "price": _float(odd, st.one_of(_number, st.just("0"))),
        "fill_price": _float(odd),
        "tif": st.sampled_from(["gtc", "ioc", "fok", "poc", "", "GTC"]),
        "text": _text,
        "is_reduce_only": st.booleans(),
        "status": st.sampled_from(["open", "finished", "", "closed"]),
        "finish_as": st.sampled_from(["filled", "cancelled", "poc", "ioc", "liquidated", "_new", ""]),
        "create_time": _time,
        "create_time_ms": _time,
        "update_time": _time,
        "finish_time": _time,
        "finish_time_ms": _time,
        "update_id": st.integers(0, 10**12),
        "user": st.just("110"),
    }
    return st.fixed_dictionaries(required, optional=optional)


def frame_of(channel: str, items: list[dict], spaced: bool = False) -> str:
    obj = {"time": 1, "time_ms": 1, "channel": channel, "event": "update", "result": items}
    text = msgspec.json.encode(obj).decode()
    # (no value here holds a comma or a colon)
    return text.replace(",", ", ").replace(":", ": ") if spaced else text


ITEMS = {"spot.orders": _spot_item, "futures.orders": _futures_item}


@settings(max_examples=300, deadline=None)
@given(data=st.data(), channel=st.sampled_from(list(ITEMS)), count=st.integers(1, 3))
def test_every_form_the_reader_takes_gives_the_codecs_orders(data, channel, count):
    items = [data.draw(ITEMS[channel](odd=False)) for _ in range(count)]
    text = frame_of(channel, items, spaced=data.draw(st.booleans()))
    assert check(text)
    assert check(text.encode())


@settings(max_examples=300, deadline=None)
@given(data=st.data(), channel=st.sampled_from(list(ITEMS)), count=st.integers(1, 3))
def test_odd_frames_are_declined_or_give_the_codecs_orders(data, channel, count):
    items = [data.draw(ITEMS[channel](odd=True)) for _ in range(count)]
    text = frame_of(channel, items)
    check(text)
    check(text.encode())


# ---- many pushes in the shapes Gate sends, each rule's branches hit ---------------------------


def _decimal(rng: random.Random, places: int) -> str:
    return f"{rng.uniform(0, 10 ** rng.randint(0, 4)):.{places}f}"


def _spot_push(rng: random.Random) -> dict:
    amount = _decimal(rng, rng.choice([0, 2, 4, 8, 13, 16]))
    left = rng.choice([amount, "0", _decimal(rng, rng.choice([2, 4, 8, 13, 15]))])
    item = {
        "id": str(rng.randint(1, 10**12)),
        "text": rng.choice(["t-bench1", "apiv4"]),
        "currency_pair": "BTC_USDT",
        "type": rng.choice(["limit", "limit", "market"]),
        "side": rng.choice(["buy", "sell"]),
        "amount": amount,
        "price": _decimal(rng, 2),
        "time_in_force": rng.choice(["gtc", "ioc", "fok", "poc"]),
        "left": left,
        "filled_total": rng.choice(["0", _decimal(rng, 6)]),
        "avg_deal_price": rng.choice(["0", _decimal(rng, 2)]),
        "fee": rng.choice(["0", _decimal(rng, 8)]),
        "fee_currency": "USDT",
        "gt_fee": rng.choice(["0", "0", _decimal(rng, 8)]),
        "create_time": str(rng.randint(1_600_000_000, 1_800_000_000)),
        "update_time": str(rng.randint(1_600_000_000, 1_800_000_000)),
        "create_time_ms": rng.choice([str(rng.randint(1_600_000_000_000, 1_800_000_000_000)), "0"]),
        "update_time_ms": rng.choice([str(rng.randint(1_600_000_000_000, 1_800_000_000_000)), "0"]),
        "event": rng.choice(["put", "update", "finish"]),
        "finish_as": rng.choice(["open", "filled", "cancelled", "poc", "ioc"]),
    }
    if rng.random() < 0.5:
        item["filled_amount"] = _decimal(rng, 4)
    if rng.random() < 0.2:
        del item["left"]
    return item


def _futures_push(rng: random.Random) -> dict:
    size = rng.choice(
        [rng.randint(1, 3000), rng.randint(1, 10**6), rng.randint(1, 3000) / 1000, max(rng.random(), 0.001)]
    )
    left = rng.choice([size, 0, rng.randint(0, int(size)) if size >= 1 else size / 2])
    sign = rng.choice([1, -1])
    return {
        "id": rng.randint(1, 10**12),
        "contract": rng.choice(list(SIZES)),
        "size": str(sign * size),
        "left": str(sign * left),
        "price": rng.choice(["0", _decimal(rng, 1)]),
        "fill_price": rng.choice(["0", _decimal(rng, 1)]),
        "tif": rng.choice(["gtc", "ioc", "fok", "poc"]),
        "text": rng.choice(["t-bench1", "web"]),
        "is_reduce_only": rng.random() < 0.2,
        "status": rng.choice(["open", "finished"]),
        "finish_as": rng.choice(["filled", "cancelled", "poc", "ioc", "_new"]),
        "create_time": rng.randint(1_600_000_000, 1_800_000_000),
        "create_time_ms": rng.choice([rng.randint(1_600_000_000_000, 1_800_000_000_000), 0]),
        "update_time": rng.choice([rng.randint(1_600_000_000_000, 1_800_000_000_000), 0]),
        "finish_time": rng.randint(0, 1_800_000_000),
        "finish_time_ms": rng.choice([rng.randint(1_600_000_000_000, 1_800_000_000_000), 0]),
        "update_id": rng.randint(1, 10**9),
    }


@pytest.mark.parametrize(
    ("channel", "push"), [("spot.orders", _spot_push), ("futures.orders", _futures_push)]
)
def test_the_reader_builds_gate_shaped_pushes_as_the_codec_does(channel, push):
    rng = random.Random(16)
    for _ in range(20_000):
        assert check(frame_of(channel, [push(rng)])), channel


# Differences and products that x * 1e12 rounded to the nearest whole number gets wrong (it
# is itself rounded): round(x, 12) is correctly rounded, and so must the reader's be.
@pytest.mark.parametrize(
    ("amount", "left"),
    [
        ("6.94171364986253", "1.03729711388403"),
        ("7.3607458", "3.9581070459375"),
        ("4.5668068431405", "2.5185866036"),
        ("0.0001220703125", "0"),  # 1/8192: a tie, to even
        ("0.30000000000000004", "0.1"),
        ("123456789.123456789", "0.000000000001"),
        ("0.0000000000004", "0.0000000000008"),  # below zero: max(0.0, ...)
        ("9007.199254740993", "0"),  # x * 1e12 above 2**53
    ],
)
def test_a_spot_fill_from_amount_and_left_rounds_as_round_does(amount, left):
    item = {"currency_pair": "BTC_USDT", "amount": amount, "left": left, "event": "update"}
    assert check(frame_of("spot.orders", [item]))


@pytest.mark.parametrize(
    ("contract", "size", "left"),
    [
        ("ODD_USDT", "595164.18", "0"),
        ("ODD_USDT", "850941.08543946", "364603.37947"),
        ("QUART_USDT", "-6.35838477", "-2.5"),
        ("QUART_USDT", "2328.16107311", "77.60889125"),
        ("TINY_USDT", "7245", "805"),
        ("TEN_USDT", "4293.70298", "424.24945"),
        ("BTC_USDT", "1024", "3"),  # whole, but past the division's range
        ("BTC_USDT", "-0", "0"),
        ("BTC_USDT", "-0.0", "-0.0"),
    ],
)
def test_futures_sizes_convert_as_the_codec_converts_them(contract, size, left):
    item = {"contract": contract, "size": size, "left": left, "status": "finished"}
    assert check(frame_of("futures.orders", [item]))
    assert check(frame_of("futures.orders", [{**item, "status": "open"}]))


@pytest.mark.parametrize("token", ["0", "-0", "-5", "42", "123456789012345678", '"0042"', '""'])
@pytest.mark.parametrize("channel", ["spot.orders", "futures.orders"])
def test_an_id_becomes_the_text_str_gives_it(channel, token):
    item = {"currency_pair": "BTC_USDT"} if channel == "spot.orders" else {"contract": "BTC_USDT", "size": 1}
    data = frame_of(channel, [{**item, "id": msgspec.Raw(token.encode())}])
    assert check(data)


@pytest.mark.parametrize("token", ["1234567890123456789", "1.5", "1e3", "1.0"])
def test_an_id_the_reader_does_not_read_as_an_integer_is_declined(token):
    item = {"currency_pair": "BTC_USDT", "id": msgspec.Raw(token.encode())}
    assert _read("spot.orders", item) is None


# ---- what it declines -----------------------------------------------------------------------


def _read(channel: str, item: dict):
    return ws_common._gatewire.read(frame_of(channel, [item]), READER)


def test_what_the_codec_would_raise_on_is_left_to_it():
    assert _read("spot.orders", {"side": "buy", "currency_pair": "BTC_USDT"}) is not None
    assert _read("spot.orders", {"side": "long", "currency_pair": "BTC_USDT"}) is None  # KeyError
    assert _read("spot.orders", {"side": "buy", "currency_pair": "BTCUSDT"}) is None  # from_venue
    assert "BTCUSDT" not in KNOWN_PAIRS


def test_a_contract_without_a_cached_size_is_left_to_the_stream():
    sizes: dict[str, float] = {}
    spec = wire_spec("futures.orders", m.FuturesOrderMsg, build=codec.wire_order_build(sizes))
    reader = ws_common._gatewire.compile((spec,))
    data = frame_of("futures.orders", [{"contract": "BTC_USDT", "size": "-3", "left": "-1"}])
    assert ws_common._gatewire.read(data, reader) is None
    sizes["BTC_USDT"] = 1  # not a float: the Python path
    assert ws_common._gatewire.read(data, reader) is None
    sizes["BTC_USDT"] = 0.0001  # what the stream caches on its first look-up
    _, (order,) = ws_common._gatewire.read(data, reader)
    assert order == codec.futures_order_from_msg(m.FuturesOrderMsg("BTC_USDT", -3.0, left=-1.0), 0.0001)
    assert order.quantity == 0.0003 and order.filled_quantity == 0.0002


def test_a_struct_without_the_fields_the_rules_read_is_refused():
    class Short(msgspec.Struct):
        id: str = ""
        side: str = "buy"

    with pytest.raises(ValueError, match="no field"):
        ws_common._gatewire.compile((wire_spec("spot.orders", Short, build=codec.wire_order_build()),))

    class Retyped(m.SpotOrderMsg):
        amount: str = "0"

    with pytest.raises(ValueError, match="amount"):
        ws_common._gatewire.compile((wire_spec("spot.orders", Retyped, build=codec.wire_order_build()),))
