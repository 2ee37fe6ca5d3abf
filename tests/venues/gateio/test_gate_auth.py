from dataclasses import dataclass, field
from urllib.parse import urlsplit

import pytest
from gate_samples import load_samples

from cexarb.config import Secret
from cexarb.venues.gateio.auth import EMPTY_BODY_SHA512, GateSigner, rest_signature, ws_signature


@dataclass
class FakeRequest:  # same fields as transport.http.PreparedRequest
    method: str
    path: str
    query: str
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)


def test_empty_body_hash_matches_vectors(gate_vectors):
    assert EMPTY_BODY_SHA512 == gate_vectors["sha512_of_empty_body"]


def test_every_ccxt_vector_signs_identically_through_the_transport_signer(gate_vectors):
    creds = gate_vectors["credentials"]
    signer = GateSigner(Secret(creds["KEY"]), Secret(creds["secret"]))
    assert gate_vectors["vectors"], "no vectors loaded"
    for vector in gate_vectors["vectors"]:
        req = vector["request"]
        url = urlsplit(req["url"])
        body = (req["body"] or "").encode()
        prepared = FakeRequest(req["method"], url.path, url.query, body, {})
        signer(prepared, int(creds["Timestamp"]) * 1000 + 999)  # ms are truncated to seconds
        assert prepared.headers["SIGN"] == vector["signature"], vector["name"]
        assert prepared.headers["KEY"] == creds["KEY"]
        assert prepared.headers["Timestamp"] == creds["Timestamp"]


def test_official_doc_vectors(gate_vectors):
    for v in gate_vectors["official_doc_vectors"]:
        sig = rest_signature(
            v["secret"], v["method"], v["path"], v["query"], v["body"].encode(), v["Timestamp"]
        )
        assert sig == v["signature"]


def test_signing_samples():
    rest = [e for e in load_samples("gate_signing") if e["response"]["signature"]]
    assert len(rest) == 2
    for entry in rest:
        req = entry["request"]
        url = urlsplit(req["url"])
        sig = rest_signature(
            req["secret"],
            req["http_method"],
            url.path,
            url.query,
            req.get("body", "").encode(),
            req["timestamp"],
        )
        assert sig == entry["response"]["signature"]
        assert sig == req["headers"]["SIGN"]


@pytest.mark.parametrize("index", [0, 1, 2])
def test_ws_channel_auth_vectors(gate_vectors, index):
    ws = gate_vectors["ws_auth"]
    v = ws["vectors"][index]
    assert ws_signature(ws["secret"], v["channel"], v["event"], ws["time"]) == v["signature"]
    auth = GateSigner(Secret("k"), Secret(ws["secret"])).ws_auth(v["channel"], v["event"], ws["time"])
    assert auth == {"method": "api_key", "KEY": "k", "SIGN": v["signature"]}


def test_futures_signer_adds_size_decimal_header_and_hides_secret(gate_vectors):
    signer = GateSigner(Secret("k"), Secret("very-secret"), {"X-Gate-Size-Decimal": "1"})
    prepared = FakeRequest("GET", "/api/v4/futures/usdt/accounts", "", b"")
    signer(prepared, 1_700_000_000_000)
    assert prepared.headers["X-Gate-Size-Decimal"] == "1"
    assert "very-secret" not in repr(signer)
