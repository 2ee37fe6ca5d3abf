"""Wire-level pieces of the MEXC front-end: protobuf schema, signature verification, errors."""

import json
from pathlib import Path

import pytest
from google.protobuf.json_format import MessageToDict

from cexarb.sim import mexc_auth, mexc_errors
from cexarb.sim.pb.mexc_push_pb2 import PushDataV3ApiWrapper

PROTOCOLS = Path(__file__).resolve().parents[2] / "data" / "protocols"
VECTORS = json.loads((PROTOCOLS / "test_vectors.json").read_text())
MEXC_SIGNING = json.loads((PROTOCOLS / "samples" / "mexc_signing.json").read_text())


@pytest.mark.parametrize(
    "sample", VECTORS["mexc_spot_ws_protobuf_samples"]["samples"], ids=lambda s: s["body"]
)
def test_protobuf_samples_round_trip_byte_exact(sample):
    raw = bytes.fromhex(sample["hex"])
    msg = PushDataV3ApiWrapper.FromString(raw)
    assert msg.WhichOneof("body") == sample["body"]
    assert MessageToDict(msg) == sample["decoded"]
    assert msg.SerializeToString() == raw


def test_oneof_tags_encode_as_documented():
    # mexc_spot.md §6.4: the oneof key bytes of the wrapper bodies.
    expected = {
        "publicAggreDepths": "ca13",
        "publicAggreBookTicker": "da13",
        "publicAggreDeals": "d213",
        "privateOrders": "8213",
        "privateDeals": "9213",
        "privateAccount": "9a13",
    }
    for field, key in expected.items():
        msg = PushDataV3ApiWrapper(channel="c")
        getattr(msg, field).SetInParent()
        assert msg.SerializeToString().hex().startswith("0a0163" + key), field


def _request_parts(url: str) -> str:
    return url.partition("?")[2]


@pytest.mark.parametrize("vector", VECTORS["mexc_spot"]["vectors"], ids=lambda v: v["name"])
def test_ccxt_vectors_verify(vector):
    secret = VECTORS["mexc_spot"]["credentials"]["secret"]
    query = _request_parts(vector["request"]["url"])
    assert mexc_auth.signed_payload(query, "") == (vector["signed_payload"], vector["signature"])
    assert mexc_auth.verify(secret, query, "")
    assert not mexc_auth.verify("wrong" + secret, query, "")


@pytest.mark.parametrize("vector", VECTORS["mexc_spot"]["official_doc_vectors"], ids=["all-in-one", "mixed"])
def test_official_doc_vectors_sign(vector):
    assert mexc_auth.sign(vector["secret"], vector["signed_payload"]) == vector["signature"]


def test_doc_vector_in_body_and_mixed():
    body_case, mixed_case = MEXC_SIGNING[0], MEXC_SIGNING[1]
    secret = body_case["request"]["secret_key"]
    # all parameters in the body, signature appended there
    assert mexc_auth.verify(secret, "", body_case["request"]["signed_body_or_query"])
    # all in the query string
    assert mexc_auth.verify(secret, body_case["request"]["signed_body_or_query"], "")
    # mixed: query + body concatenated without '&', signature at the end of the body
    req = mixed_case["request"]
    body = req["body"] + "&signature=" + mixed_case["response"]["signature"]
    assert mexc_auth.verify(secret, req["query_string"], body)
    # the same parts with an '&' joined would be another message
    assert not mexc_auth.verify(secret, req["query_string"] + "&", body)


def test_tampered_parameter_fails():
    vector = VECTORS["mexc_spot"]["vectors"][1]
    secret = VECTORS["mexc_spot"]["credentials"]["secret"]
    query = _request_parts(vector["request"]["url"]).replace("price=30000", "price=30001")
    assert not mexc_auth.verify(secret, query, "")


def test_missing_signature_fails():
    assert not mexc_auth.verify("s", "timestamp=1", "")


def test_params_query_wins_over_body_and_json_body():
    params = mexc_auth.parse_params("symbol=BTCUSDT&side=BUY", "side=SELL&quantity=1")
    assert params == {"symbol": "BTCUSDT", "side": "BUY", "quantity": "1"}
    assert mexc_auth.parse_params("a=1", '{"b": 2, "c": true}') == {"a": "1", "b": "2", "c": "true"}
    assert mexc_auth.parse_params("batch=%5B1%2C2%5D", "") == {"batch": "[1,2]"}


@pytest.mark.parametrize(
    ("ts", "window", "ok"),
    [
        (1_000_000, None, True),
        (1_000_000 - 5000, None, True),
        (1_000_000 - 5001, None, False),
        (1_000_000 + 999, None, True),
        (1_000_000 + 1000, None, False),
        (1_000_000 - 20_000, 30_000, True),
    ],
)
def test_timestamp_window(ts, window, ok):
    params = {"timestamp": str(ts)}
    if window is not None:
        params["recvWindow"] = str(window)
    if ok:
        mexc_auth.check_timestamp(params, 1_000_000)
    else:
        with pytest.raises(mexc_errors.MexcApiError) as e:
            mexc_auth.check_timestamp(params, 1_000_000)
        assert e.value.code == 700003


def test_recv_window_above_max_rejected():
    with pytest.raises(mexc_errors.MexcApiError) as e:
        mexc_auth.check_timestamp({"timestamp": "1000000", "recvWindow": "60001"}, 1_000_000)
    assert e.value.code == 700005


def test_reject_mapping():
    assert mexc_errors.from_reject("INSUFFICIENT_BALANCE", "", side="BUY").code == 10101
    assert mexc_errors.from_reject("INSUFFICIENT_BALANCE", "", side="SELL").code == 30004
    assert mexc_errors.from_reject("ORDER_NOT_FOUND", "").code == -2011
    assert mexc_errors.from_reject("ORDER_NOT_FOUND", "", querying=True).code == -2013
    below = mexc_errors.from_reject("BELOW_MIN_NOTIONAL", "1USDT")
    assert (below.code, below.msg) == (30002, "The minimum transaction volume cannot be less than:1USDT")
    resp = mexc_errors.too_many_requests(1.2).response()
    assert resp.status == 429 and resp.headers["Retry-After"] == "2"
    assert json.loads(resp.body) == {"code": 429, "msg": "Too Many Requests", "_extend": None}
