"""Gate wire layer without sockets: signature vectors, error mapping, `text` rules, encoder shapes."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from cexarb.model import Execution, Order, OrderStatus, OrderType, Side, Symbol, TimeInForce
from cexarb.sim import gateio_futures_codec as fcodec
from cexarb.sim import gateio_spot_codec as scodec
from cexarb.sim.engine import RejectReason, SimMarket
from cexarb.sim.gateio_auth import rest_signature, verify_rest, verify_ws_auth, ws_signature
from cexarb.sim.gateio_errors import GateError, reject_error, validate_text

PROTOCOLS = Path(__file__).resolve().parents[2] / "data" / "protocols"
SAMPLES = PROTOCOLS / "samples"
VECTORS = json.loads((PROTOCOLS / "test_vectors.json").read_text())["gate_v4"]
BTC = Symbol("BTC", "USDT")
SPOT_BTC = SimMarket(BTC, tick=0.1, step=0.0001, min_qty=0.0001, min_notional=1.0)
FUT_BTC = SimMarket(
    BTC,
    tick=0.1,
    step=0.0001,
    min_qty=0.0001,
    min_notional=0.0,
    contract_size=0.0001,
    maker_fee=0.0002,
    taker_fee=0.0005,
)


def sample(name: str, description_part: str) -> dict:
    for entry in json.loads((SAMPLES / name).read_text()):
        if description_part in entry["description"]:
            return entry
    raise KeyError(description_part)


# ---- signatures -----------------------------------------------------------------------------------


@pytest.mark.parametrize("vec", VECTORS["vectors"], ids=lambda v: v["name"])
def test_rest_vectors_verify(vec):
    creds = VECTORS["credentials"]
    req = vec["request"]
    url = urlsplit(req["url"])
    body = (req["body"] or "").encode()
    assert (
        rest_signature(creds["secret"], req["method"], url.path, url.query, body, creds["Timestamp"])
        == vec["signature"]
    )
    key = verify_rest(
        {creds["KEY"]: creds["secret"]}.get,
        req["method"],
        url.path,
        url.query,
        body,
        req["headers"],
        now_s=float(creds["Timestamp"]) + 30,
    )
    assert key == creds["KEY"]


@pytest.mark.parametrize("vec", VECTORS["official_doc_vectors"], ids=lambda v: v["method"])
def test_official_doc_vectors(vec):
    sig = rest_signature(
        vec["secret"], vec["method"], vec["path"], vec["query"], vec["body"].encode(), vec["Timestamp"]
    )
    assert sig == vec["signature"]


def test_gate_signing_samples_verify():
    for entry in json.loads((SAMPLES / "gate_signing.json").read_text())[:2]:
        req = entry["request"]
        url = urlsplit(req["url"])
        key = verify_rest(
            {req["key"]: req["secret"]}.get,
            req["http_method"],
            url.path,
            url.query,
            req.get("body", "").encode(),
            req["headers"],
            now_s=float(req["timestamp"]),
        )
        assert key == "key"


def _signed_headers(secret: str, ts: str, sign_over_query: str) -> dict:
    sig = rest_signature(secret, "GET", "/api/v4/spot/orders", sign_over_query, b"", ts)
    return {"KEY": "k", "Timestamp": ts, "SIGN": sig}


def test_rest_rejects_bad_signature_stale_timestamp_unknown_key_missing_header():
    secrets = {"k": "s"}.get
    good = _signed_headers("s", "1700000000", "a=1")
    with pytest.raises(GateError) as bad:
        verify_rest(secrets, "GET", "/api/v4/spot/orders", "a=2", b"", good, 1700000000)
    assert (bad.value.status, bad.value.label) == (401, "INVALID_SIGNATURE")
    with pytest.raises(GateError) as stale:
        verify_rest(secrets, "GET", "/api/v4/spot/orders", "a=1", b"", good, 1700000061)
    assert (stale.value.status, stale.value.label) == (401, "REQUEST_EXPIRED")
    with pytest.raises(GateError) as unknown:
        verify_rest({}.get, "GET", "/api/v4/spot/orders", "a=1", b"", good, 1700000000)
    assert unknown.value.label == "INVALID_KEY"
    with pytest.raises(GateError) as missing:
        verify_rest(secrets, "GET", "/api/v4/spot/orders", "a=1", b"", {"KEY": "k"}, 1700000000)
    assert missing.value.label == "MISSING_REQUIRED_HEADER"


def test_rest_accepts_fractional_timestamp_and_decoded_query_signature():
    # The official SDK sends a fractional Timestamp; ccxt signs the raw query and sends it encoded.
    headers = _signed_headers("s", "1700000000.123456", "text=t-a b")
    key = verify_rest({"k": "s"}.get, "GET", "/api/v4/spot/orders", "text=t-a%20b", b"", headers, 1700000001)
    assert key == "k"


@pytest.mark.parametrize("vec", VECTORS["ws_auth"]["vectors"], ids=lambda v: v["channel"])
def test_ws_auth_vectors(vec):
    ws = VECTORS["ws_auth"]
    assert ws_signature(ws["secret"], vec["channel"], vec["event"], ws["time"]) == vec["signature"]
    auth = {"method": "api_key", "KEY": "kk", "SIGN": vec["signature"]}
    assert verify_ws_auth({"kk": ws["secret"]}.get, vec["channel"], vec["event"], ws["time"], auth) == "kk"
    with pytest.raises(GateError) as err:
        verify_ws_auth({"kk": ws["secret"]}.get, vec["channel"], "unsubscribe", ws["time"], auth)
    assert err.value.label == "INVALID_SIGNATURE"


# ---- errors and client ids ------------------------------------------------------------------------


def test_every_reject_reason_has_a_gate_label():
    for reason in RejectReason:
        for futures in (False, True):
            err = reject_error(reason, "", futures=futures)
            assert err.label.isupper() and err.message
            assert 400 <= err.status < 600
    assert reject_error(RejectReason.ORDER_NOT_FOUND, "", futures=False).status == 404
    assert reject_error(RejectReason.INSUFFICIENT_BALANCE, "", futures=False).label == "BALANCE_NOT_ENOUGH"
    assert reject_error(RejectReason.INSUFFICIENT_BALANCE, "", futures=True).label == "INSUFFICIENT_AVAILABLE"
    assert reject_error(RejectReason.POST_ONLY_WOULD_TAKE, "", futures=True).label == "ORDER_POC_IMMEDIATE"


@pytest.mark.parametrize("text", ["t-abc123", "t-A.b_c-9", "t-" + "x" * 28])
def test_text_accepted(text):
    validate_text(text)


@pytest.mark.parametrize("text", ["abc", "t-", "t-" + "x" * 29, "t-a b", "t-é", "T-abc"])
def test_text_rejected(text):
    with pytest.raises(GateError) as err:
        validate_text(text)
    assert (err.value.status, err.value.label) == (400, "INVALID_PARAM_VALUE")


# ---- encoder shapes against the published samples -------------------------------------------------


def _order(**kw) -> Order:
    base = dict(
        symbol=BTC,
        order_id="1852454420",
        client_order_id="t-abc123",
        side=Side.BUY,
        order_type=OrderType.LIMIT,
        price=65000.0,
        quantity=0.001,
        status=OrderStatus.FILLED,
        time_in_force=TimeInForce.GTC,
        filled_quantity=0.001,
        remaining_quantity=0.0,
        average_price=63469.3,
        fee=0.00000022,
        fee_asset="BTC",
        created_at=1710488334073,
        updated_at=1710488334074,
    )
    base.update(kw)
    return Order(**base)


def test_spot_order_matches_sample_keys_and_values():
    want = sample("gate_spot_rest_orders.json", "PlaceOrder:")["response"]
    got = scodec.order(SPOT_BTC, _order())
    assert set(want) - {"account"} <= set(got)
    for k in (
        "id",
        "text",
        "status",
        "currency_pair",
        "side",
        "amount",
        "price",
        "left",
        "filled_amount",
        "filled_total",
        "avg_deal_price",
        "finish_as",
        "create_time",
        "create_time_ms",
        "time_in_force",
    ):
        assert got[k] == want[k], k


def test_spot_ws_order_has_put_event_and_string_ms():
    want = sample("gate_spot_ws_private.json", "SubscribeToOrderUpdates")["response"]["result"][0]
    got = scodec.order(
        SPOT_BTC,
        _order(status=OrderStatus.NEW, filled_quantity=0.0, average_price=0.0),
        user_id=7,
        event="put",
    )
    assert set(want) <= set(got)
    assert got["event"] == "put" and got["finish_as"] == "open" and got["status"] == "open"
    assert isinstance(got["create_time_ms"], str) and got["user"] == 7


def test_spot_market_buy_amount_is_quote():
    o = _order(
        order_type=OrderType.MARKET,
        time_in_force=TimeInForce.IOC,
        quantity=0.002,
        filled_quantity=0.002,
        average_price=50000.0,
    )
    got = scodec.order(SPOT_BTC, o, quote_amount=100.0)
    assert got["amount"] == "100" and got["type"] == "market" and got["price"] == "0"
    assert got["filled_total"] == "100" and got["time_in_force"] == "ioc"


def test_spot_usertrade_and_balance_shapes():
    e = Execution(
        BTC, "5736713", "30784428", "t-x", Side.SELL, 10000.0, 1.0, 0.002, "USDT", False, 1605176741123
    )
    want = sample("gate_spot_ws_private.json", "SubscribeToUserTradeUpdates")["response"]["result"][0]
    got = scodec.ws_usertrade(SPOT_BTC, e, 1000001)
    assert set(want) <= set(got)
    assert got["id"] == 5736713 and got["side"] == "sell" and got["role"] == "taker"
    want_b = sample("gate_spot_ws_private.json", "SubscribeToBalanceUpdates")["response"]["result"][0]
    got_b = scodec.ws_balance("USDT", 95.0, 5.0, 0.0, 5.0, 1667556323730, 1000001)
    assert set(want_b) <= set(got_b)
    assert got_b["total"] == "100" and got_b["change_type"] == "order-create"


def test_futures_order_sizes_are_signed_contracts():
    o = _order(
        side=Side.SELL,
        quantity=0.6024,
        filled_quantity=0.0,
        status=OrderStatus.CANCELED,
        average_price=0.0,
        price=3765.0,
    )
    want = sample("gate_futures_rest_orders.json", "CancelOrder:")["response"]
    got = fcodec.order(FUT_BTC, o, user_id=100000, decimal=False)
    assert set(want) <= set(got)
    assert got["size"] == -6024 and got["left"] == -6024
    assert got["status"] == "finished" and got["finish_as"] == "cancelled" and got["id"] == 1852454420
    assert fcodec.order(FUT_BTC, o, user_id=1, decimal=True)["size"] == "-6024"


def test_futures_ws_order_uses_numbers():
    o = _order(quantity=0.0001, price=40000.4, average_price=40000.4, filled_quantity=0.0001)
    want = sample("gate_futures_ws_private.json", "SubscribeToOrderUpdates")["response"]["result"][0]
    got = fcodec.order(FUT_BTC, o, user_id=110, decimal=False, ws=True)
    assert set(want) <= set(got)
    assert got["fill_price"] == 40000.4 and got["size"] == 1 and got["left"] == 0 and got["user"] == "110"
